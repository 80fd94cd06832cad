"""The library API: the README's examples run, results equal the CLI's output byte for byte,
notebook HTML escapes what comes from the file, and importing kinspect stays cheap."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from html import escape as html_escape
from pathlib import Path

import pytest
from click.testing import CliRunner

import kinspect
from kinspect.cli import cli
from tests.conftest import renamed_archive

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"
SAMPLE = SAMPLES / "mnist_cnn.keras"
HAS_DOT = shutil.which("dot") is not None
HOSTILE = "<script>alert(1)</script>"
ZOO = ["nested", "multi_io", "frozen_layers", "compiled_trained", "rnn_stack", "k2_cnn", "custom_layer"]


def cli_out(*args: str) -> str:
    result = CliRunner().invoke(cli, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 1, 3), result.output  # check: findings, unreadable files
    return result.stdout


def readme_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API\n") :]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, re.S)


# ---- the README ------------------------------------------------------------------------------


def test_readme_has_an_example_for_each_function() -> None:
    code = "\n".join(readme_examples())
    for name in ("summary", "weights", "check", "graph", "report", "diff", "load"):
        assert f"kinspect.{name}(" in code, name


@pytest.mark.parametrize("index", range(len(readme_examples())))
def test_readme_examples_run(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "samples").symlink_to(SAMPLES)
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_examples()[index], f"README.md example {index + 1}", "exec"), {})


# ---- the same output as the command line --------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["mnist_cnn.keras", "mnist_cnn.h5", "mnist_cnn.weights.h5", "text_classifier.keras"]
)
def test_samples_equal_the_cli(name: str) -> None:
    path = SAMPLES / name
    s = kinspect.summary(path, line_length=100)
    assert str(s) == cli_out("summary", path, "--line-length", "100")
    assert s.to_json() == cli_out("summary", path, "--format", "json")
    assert s.to_json() == json.dumps(s.to_dict(), indent=2) + "\n"
    trainable = kinspect.summary(path, show_trainable=True, expand_nested=True)
    assert trainable.to_markdown() == cli_out("summary", path, "--format", "markdown", "--show-trainable",
                                              "--expand-nested")  # fmt: skip
    w = kinspect.weights(path, histograms=True, bins=6, optimizer=True)
    assert str(w) == cli_out("weights", path, "--histograms", "--bins", "6", "--optimizer")
    assert w.to_json() == cli_out(
        "weights", path, "--histograms", "--bins", "6", "--optimizer", "--format", "json"
    )
    assert w.to_json() == json.dumps(w.to_dict(), indent=2, allow_nan=False) + "\n"
    top = kinspect.weights(path, sort="norm", top=3, layer="d")
    assert str(top) == cli_out("weights", path, "--sort", "norm", "--top", "3", "--layer", "d")
    assert kinspect.graph(path, show_shapes=True).dot == cli_out("graph", path, "--show-shapes")


def test_check_equals_the_cli() -> None:
    files = [SAMPLES / "mnist_cnn.keras", SAMPLES / "mnist_cnn.weights.h5", ROOT / "README.md"]
    result = kinspect.check(files, max_params=5000, forbid_layer=["Dropout"], jobs=1)
    flags = ["--no-config", "--max-params", "5000", "--forbid-layer", "Dropout", "-j", "1"]
    assert str(result) == cli_out("check", *files, *flags)
    assert result.to_json() == cli_out("check", *files, *flags, "--format", "json")
    assert result.to_json() == json.dumps(result.to_dict(), indent=2) + "\n"
    assert result.to_sarif() == cli_out("check", *files, *flags, "--format", "sarif")
    assert result.failed and result.unreadable == (str(ROOT / "README.md"),)
    clean = kinspect.check(SAMPLES / "mnist_cnn.keras")
    assert not clean.failed and not clean.unreadable


@pytest.mark.parametrize("name", ZOO)
def test_zoo_equals_the_cli(name: str, zoo_dir: Path) -> None:
    path = zoo_dir / f"{name}.keras"
    s = kinspect.summary(path, expand_nested=True, line_length=120)
    assert str(s) == cli_out("summary", path, "--expand-nested", "--line-length", "120")
    assert s.to_json() == cli_out("summary", path, "--format", "json")
    w = kinspect.weights(path, histograms=True)
    assert w.to_json() == cli_out("weights", path, "--histograms", "--format", "json")
    c = kinspect.check(path, select="KIN1,KIN2,KIN4", fail_on="warning")
    assert c.to_json() == cli_out("check", path, "--no-config", "--select", "KIN1,KIN2,KIN4", "--fail-on",
                                  "warning", "--format", "json")  # fmt: skip
    assert kinspect.graph(path, expand_nested=True).dot == cli_out("graph", path, "--expand-nested")


def test_report_returns_what_it_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    flags = [] if HAS_DOT else ["--no-graph"]
    r = kinspect.report(SAMPLE, "api", graph=HAS_DOT)
    assert str(r) + "\n" == cli_out("report", SAMPLE, "-o", "api", *flags)
    assert Path(r.page).is_file() and (r.image is not None) == HAS_DOT
    assert r.verdict == "healthy" and r.problems == 0 and r.warnings == ()
    assert r.to_dict()["page"] == r.page == "api/report.html"


def test_graph_writes_what_the_extension_names(tmp_path: Path) -> None:
    g = kinspect.graph(SAMPLE, dpi=72)
    assert g.write(tmp_path / "m.dot") == () and (tmp_path / "m.dot").read_text() == g.dot == str(g)
    assert "dpi=72" in g.dot
    with pytest.raises(kinspect.UsageError, match="unknown image format 'bmpx'") as info:
        g.write(tmp_path / "m.bmpx")
    assert info.value.option == "output"
    copy = tmp_path / "copy.dot"  # a .keras file by content
    shutil.copy(SAMPLE, copy)
    with pytest.raises(kinspect.UsageError, match="is the input file"):
        kinspect.graph(copy).write(copy)
    if HAS_DOT:
        g.write(tmp_path / "m.svg")
        assert (tmp_path / "m.svg").read_bytes().startswith(b"<?xml")
        svg = g._repr_svg_()
        assert svg is not None and svg.startswith("<svg")


# ---- errors name arguments, not flags -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "option", "pattern"),
    [
        (
            lambda: kinspect.summary(SAMPLE, layer_range=("(", "x")),
            "layer_range",
            "invalid regular expression",
        ),
        (
            lambda: kinspect.summary(SAMPLE, layer_range=("zzz", "yyy")),
            "layer_range",
            "matches no layer names",
        ),
        (lambda: kinspect.weights(SAMPLE, layer="zzz"), "layer", "matches no layer that has weights"),
        (lambda: kinspect.weights(SAMPLE, sort="colour"), "sort", "not one of 'file'"),
        (lambda: kinspect.weights(SAMPLE, bins=0), "bins", "at least 1"),
        (lambda: kinspect.graph(SAMPLE, rankdir="XY"), "rankdir", "not one of 'TB'"),
    ],
)
def test_usage_errors_name_the_argument(call: object, option: str, pattern: str) -> None:
    with pytest.raises(kinspect.UsageError, match=pattern) as info:
        call()  # type: ignore[operator]
    assert info.value.option == option and str(info.value).startswith(option)
    assert "--" not in str(info.value)


def test_input_errors_are_one_line() -> None:
    with pytest.raises(kinspect.InputError, match=r"README\.md: not a Keras model file"):
        kinspect.summary(ROOT / "README.md")


# ---- notebooks ------------------------------------------------------------------------------------


def test_summary_html_mirrors_keras_columns() -> None:
    html = kinspect.summary(SAMPLE, show_trainable=True)._repr_html_()
    heads = re.findall(r"<th style=[^>]*>(.*?)</th>", html)
    assert heads == ["Layer (type)", "Output Shape", "Param #", "Trainable"]
    assert html.count("<tr>") == 1 + 8 and "conv2d (Conv2D)" in html and "Total params: 15,520" in html
    functional = kinspect.summary(SAMPLES / "text_classifier.keras")._repr_html_()
    assert "Connected to" in functional


def test_weights_html_has_inline_histograms() -> None:
    html = kinspect.weights(SAMPLE, histograms=True, bins=8)._repr_html_()
    assert html.count("<svg") == 10 and "<script" not in html
    assert "KIN207" in html  # the findings follow the table
    plain = kinspect.weights(SAMPLE)._repr_html_()
    assert "<svg" not in plain and "Histogram" not in plain


def hostile_copy(tmp_path: Path) -> Path:
    """The sample with its output layer (it has weights) named as a script tag: Keras refuses
    '/' in names, so the config is rewritten."""
    return renamed_archive(SAMPLE, tmp_path / "hostile.keras", {"digits": HOSTILE})


def test_html_escapes_names_from_the_file(tmp_path: Path) -> None:
    path = hostile_copy(tmp_path)
    pages = [
        kinspect.summary(path, show_trainable=True)._repr_html_(),
        kinspect.weights(path, histograms=True)._repr_html_(),
        kinspect.check(path, forbid_layer="Dense")._repr_html_(),
    ]
    for html in pages:
        assert html_escape(HOSTILE) in html
        assert "<script" not in html and "</script" not in html
    assert "KIN304" in pages[2]


# ---- import cost --------------------------------------------------------------------------------


def test_import_is_cheap() -> None:
    code = (
        "import sys, kinspect; heavy = ('h5py', 'numpy', 'click', 'rich', 'jinja2'); "
        "seen = lambda: sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}); "
        "print(seen()); kinspect.load(sys.argv[1]); s = kinspect.summary(sys.argv[1]); print(seen()); "
        "str(s); print(seen())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(SAMPLE)], capture_output=True, text=True, timeout=120
    )
    # rich only for text that is not printable ASCII (its cell widths): none in this table.
    assert proc.stdout.splitlines() == ["[]", "[]", "[]"], proc.stderr
    assert set(kinspect.__all__) <= set(dir(kinspect))
