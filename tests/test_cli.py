"""The command line through click's runner: exact output, exit codes, files written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kinspect.cli import cli, main
from tests.conftest import check_golden

ROOT = Path(__file__).parent.parent
SAMPLE = "samples/mnist_cnn.keras"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    code = result.exit_code
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("mnist_cnn.summary.txt", ["summary", SAMPLE, "--line-length", "100"]),
        ("mnist_cnn.summary.trainable.txt", ["summary", SAMPLE, "--width", "110", "--show-trainable"]),
        ("mnist_cnn.summary.json", ["summary", SAMPLE, "--format", "json"]),
        ("mnist_cnn.summary.md", ["summary", SAMPLE, "--format", "markdown"]),
        ("mnist_cnn.h5.summary.txt", ["summary", "samples/mnist_cnn.h5", "--line-length", "100"]),
        (
            "mnist_cnn.weights.summary.txt",
            ["summary", "samples/mnist_cnn.weights.h5", "--line-length", "100"],
        ),
        ("text_classifier.summary.txt", ["summary", "samples/text_classifier.keras", "--line-length", "120"]),
    ],
)
def test_golden_output(name: str, args: list[str], update_golden: bool) -> None:
    code, out, err = run(*args)
    assert (code, err) == (0, "")
    check_golden(name, out, update_golden)


def test_json_contract() -> None:
    code, out, _ = run("summary", SAMPLE, "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert doc["schema"] == "kinspect/summary@1"
    assert doc["format"] == "keras"
    assert doc["total_params"] == sum(layer["params"] for layer in doc["layers"])
    assert doc["total_params"] == doc["trainable_params"] + doc["non_trainable_params"]
    for layer in doc["layers"]:
        assert {"name", "class_name", "output_shape", "params", "trainable_params", "non_trainable_params",
                "inbound", "layers"} <= layer.keys()  # fmt: skip


def test_layer_range_selects_rows() -> None:
    code, out, _ = run("summary", SAMPLE, "--format", "json", "--layer-range", "conv2d$", "max_pool")
    names = [layer["name"] for layer in json.loads(out)["layers"]]
    assert code == 0
    assert names == ["conv2d", "batch_normalization", "max_pooling2d"]


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["summary", "no/such/file.keras"], 3, r"no/such/file.keras: cannot read file"),
        (["summary", "samples"], 3, r"samples: is a directory"),
        (["summary", "README.md"], 3, r"README.md: not a Keras model file"),
        (["summary", SAMPLE, "--format", "yaml"], 2, r"Invalid value for '--format'"),
        (["summary", SAMPLE, "--layer-range", "(", "x"], 2, r"invalid regular expression"),
        (["summary", SAMPLE, "--layer-range", "zzz", "yyy"], 2, r"matches no layer names"),
        (["summary", SAMPLE, "-o", SAMPLE], 2, r"is the input file"),
        (["nonsense"], 2, r"No such command"),
    ],
)
def test_errors_are_one_line_with_exit_code(
    args: list[str], code: int, pattern: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (ROOT / SAMPLE).read_bytes()
    assert main(args) == code
    err = capsys.readouterr().err.strip()
    assert re.search(pattern, err), err
    if code == 3:
        assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert (ROOT / SAMPLE).read_bytes() == before


def test_output_file_is_written(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    code, out, _ = run("summary", SAMPLE, "--format", "markdown", "-o", str(target))
    assert (code, out) == (0, "")
    assert target.read_text().startswith("### Model: mnist\\_cnn")
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]  # no temporary file left behind


def test_arch_pairs_weights_with_architecture() -> None:
    code, out, _ = run("summary", "samples/mnist_cnn.weights.h5", "--arch", SAMPLE, "--format", "json")
    paired = json.loads(out)
    _, out, _ = run("summary", SAMPLE, "--format", "json")
    full = json.loads(out)
    assert code == 0
    assert paired["has_architecture"]
    assert [(x["name"], x["params"], x["output_shape"]) for x in paired["layers"]] == [
        (x["name"], x["params"], x["output_shape"]) for x in full["layers"]
    ]


def test_weights_only_says_what_is_unknown() -> None:
    code, out, _ = run("summary", "samples/mnist_cnn.weights.h5", "--format", "json")
    doc = json.loads(out)
    assert code == 0 and not doc["has_architecture"]
    assert all(layer["output_shape"] is None for layer in doc["layers"])
    assert any("no architecture" in note for note in doc["notes"])


def test_summary_never_imports_keras_or_tensorflow() -> None:
    code = (
        "import sys; from kinspect.cli import main; "
        f"rc = main(['summary', {SAMPLE!r}, '--format', 'json']); "
        "heavy = ('keras', 'tensorflow', 'tf_keras', 'jax', 'torch'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy); "
        "print(rc, bad, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == "0 []"


def test_console_script_runs(tmp_path: Path) -> None:
    exe = shutil.which("kinspect", path=os.path.dirname(sys.executable))
    assert exe, "the kinspect console script is installed with the package"
    proc = subprocess.run([exe, "summary", SAMPLE], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and 'Model: "mnist_cnn"' in proc.stdout


def test_every_option_is_documented() -> None:
    """The README documents every command and every option of it."""
    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        assert f"kinspect {name}" in readme, name
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--"):
                    assert opt in readme, f"{name} {opt} is not documented in README.md"


def test_json_keys_are_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    _, out, _ = run("summary", SAMPLE, "--format", "json")
    doc = json.loads(out)
    for key in [*doc, *doc["layers"][0], *doc["model"]]:
        assert f"`{key}`" in readme, f"JSON key {key} is not documented in README.md"


def test_arch_reports_mismatched_weights(tmp_path: Path) -> None:
    """Weights of one model checked against another architecture: every disagreement listed."""
    code, out, _ = run(
        "summary",
        "samples/mnist_cnn.weights.h5",
        "--arch",
        "samples/text_classifier.keras",
        "--format",
        "json",
    )
    doc = json.loads(out)
    assert code == 0
    assert doc["weight_issues"], "a CNN's weights cannot fit a text classifier"
    assert {i["kind"] for i in doc["weight_issues"]} <= {"missing", "unexpected", "shape"}
    code, text, _ = run("summary", "samples/mnist_cnn.weights.h5", "--arch", "samples/text_classifier.keras")
    assert "disagree with the architecture" in text


def test_arch_accepts_matching_weights() -> None:
    code, out, _ = run(
        "summary", "samples/mnist_cnn.weights.h5", "--arch", "samples/mnist_cnn.h5", "--format", "json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["weight_issues"] == [] and doc["unmatched_weights"] == []


def test_output_file_has_ordinary_permissions(tmp_path: Path) -> None:
    import stat as stat_module

    target = tmp_path / "summary.txt"
    umask = os.umask(0o022)
    try:
        code, _, _ = run("summary", SAMPLE, "-o", str(target))
    finally:
        os.umask(umask)
    assert code == 0
    assert stat_module.S_IMODE(target.stat().st_mode) == 0o644
