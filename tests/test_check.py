"""``kinspect check``: every rule on files Keras wrote (and on planted damage), the CLI contract
(line format, exit codes, --select/--ignore, --fail-on, formats, parallel order) and configuration."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from kinspect.checks import FAMILIES, ORDER, RULES, UNREADABLE, resolve
from kinspect.checks.runner import check_file
from kinspect.checks.settings import merge
from kinspect.cli import main
from kinspect.findings import Finding, Severity

ROOT = Path(__file__).parent.parent


def findings(path: Path | str, **flags: Any) -> list[Finding]:
    """Findings of one file, with flags as the CLI spells them (``max_params=10``)."""
    settings = merge({}, {k.replace("_", "-"): v for k, v in flags.items()})
    return list(check_file(str(path), settings).findings)


def ids(path: Path | str, **flags: Any) -> set[tuple[str, str | None]]:
    return {(f.rule, f.layer) for f in findings(path, **flags)}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", "--no-config", *args])
    out, err = capsys.readouterr()
    return code, out, err


def rezip(
    src: Path, dst: Path, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> Path:
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, replace.get(info.filename, zin.read(info.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return dst


def archive_config(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        return json.loads(zf.read("config.json"))


# -- KIN1xx security ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "layer"),
    [
        ("nested_lambda.keras", "inner/deep_lambda"),  # Lambda in a nested Sequential
        ("nested_lambda.h5", "inner/deep_lambda"),
        ("wrapped_lambda.keras", "td/inc"),  # TimeDistributed's inner layer
        ("wrapped_lambda.h5", "td/inc"),
        ("lambda_activation.keras", "act"),  # a lambda given as a Dense activation
        ("k2_nested_lambda.h5", "sequential/deep_lambda"),  # tf.keras: [code, defaults, closure]
        ("k2_nested_lambda.keras", "sequential/deep_lambda"),
        ("k2_functional_lambda.h5", "inner/deep_lambda"),
    ],
)
def test_kin101_lambda_at_any_depth_in_every_format(check_models: Path, name: str, layer: str) -> None:
    assert ("KIN101", layer) in ids(check_models / name, ignore=["KIN2"])


def test_kin101_zoo_lambda(zoo_dir: Path) -> None:
    for suffix in ("keras", "h5"):
        assert ("KIN101", "double") in ids(zoo_dir / f"lambda_layer.{suffix}", select=["KIN1"])


@pytest.mark.parametrize("name", ["clean.keras", "clean.h5", "clean.weights.h5", "other.keras"])
def test_clean_models_have_no_security_or_consistency_findings(check_models: Path, name: str) -> None:
    assert findings(check_models / name, ignore=["KIN2"]) == []


def test_kin103_custom_objects_and_tfoplambda_are_listed(zoo_dir: Path) -> None:
    custom = [f for f in findings(zoo_dir / "custom_layer.keras", select=["KIN103"])]
    assert [f.rule for f in custom] == ["KIN103"] and custom[0].severity is Severity.WARNING
    assert "zoo>ScaledDense" in custom[0].message and "scaled, scaled_out" in custom[0].message
    tfop = findings(zoo_dir / "k2_tfop.h5", select=["KIN1"])
    assert [f.rule for f in tfop] == ["KIN103"]
    assert "tf.math.multiply" in tfop[0].message and "TFOpLambda" in tfop[0].message


def test_kin102_function_from_keras_with_side_effects(check_models: Path, tmp_path: Path) -> None:
    """A Keras utility as a Lambda's function (the shape of the 2025 get_file bypass)."""
    config = archive_config(check_models / "clean.keras")
    config["config"]["layers"][1]["class_name"] = "Lambda"
    config["config"]["layers"][1]["config"]["function"] = {
        "module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"
    }  # fmt: skip
    path = rezip(
        check_models / "clean.keras",
        tmp_path / "get_file.keras",
        {"config.json": json.dumps(config).encode()},
    )
    got = [f for f in findings(path, select=["KIN102"])]
    assert [(f.rule, f.layer) for f in got] == [("KIN102", "hidden")]
    assert "keras.utils.get_file" in got[0].message


def test_kin102_allows_keras_builtin_functions(check_models: Path, tmp_path: Path) -> None:
    config = archive_config(check_models / "clean.keras")
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"
    }  # fmt: skip
    path = rezip(
        check_models / "clean.keras", tmp_path / "relu.keras", {"config.json": json.dumps(config).encode()}
    )
    assert findings(path, select=["KIN1"]) == []


@pytest.mark.parametrize(
    ("member", "rule"),
    [("../escape.txt", "KIN104"), ("/etc/evil", "KIN104"), ("notes.txt", "KIN105"),
     ("assets/x.pkl", "KIN106"), ("payload.py", "KIN106")],
)  # fmt: skip
def test_kin104_to_106_archive_members(
    capsys: pytest.CaptureFixture[str],
    check_models: Path,
    tmp_path: Path,
    member: str,
    rule: str,
) -> None:
    path = rezip(check_models / "clean.keras", tmp_path / "odd.keras", add={member: b"x"})
    code, out, _ = run(capsys, str(path), "--select", "KIN1")
    assert f"{path}: {rule} " in out and UNREADABLE not in out, out
    assert code == (1 if RULES[rule].severity is Severity.ERROR else 0)  # a finding, not an unreadable file
    assert not (tmp_path.parent / "escape.txt").exists()


def test_assets_are_allowed(check_models: Path, tmp_path: Path) -> None:
    path = rezip(check_models / "clean.keras", tmp_path / "assets.keras", add={"assets/vocab.txt": b"a\nb\n"})
    assert findings(path, select=["KIN1"]) == []


def test_kin107_predicts_safe_mode_refusal(check_models: Path, zoo_dir: Path) -> None:
    """Safe mode refuses lambdas; custom objects load once registered (Keras is the oracle of
    this in tests/test_check_precision.py)."""
    assert "KIN107" in {f.rule for f in findings(check_models / "nested_lambda.keras", select=["KIN107"])}
    assert findings(zoo_dir / "custom_layer.keras", select=["KIN107"]) == []
    assert findings(check_models / "clean.keras", select=["KIN107"]) == []


# -- KIN2xx numerics ------------------------------------------------------------------------------


def _poke(src: Path, dst: Path, dataset: str, value: float) -> Path:
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        data = f[dataset][()]
        data.flat[0] = value
        f[dataset][...] = data
    return dst


def test_kin201_nan_weights(check_models: Path, tmp_path: Path) -> None:
    path = _poke(check_models / "clean.h5", tmp_path / "nan.h5", "model_weights/out/out/kernel", np.nan)
    got = [f for f in findings(path, select=["KIN201"])]
    assert [(f.rule, f.layer, f.severity) for f in got] == [("KIN201", "out", Severity.ERROR)]


def test_kin206_float16_overflow(check_models: Path, tmp_path: Path) -> None:
    path = _poke(check_models / "clean.h5", tmp_path / "big.h5", "model_weights/hidden/hidden/kernel", 1e6)
    assert ("KIN206", "hidden") in ids(path, select=["KIN206"])


def test_weights_are_read_only_when_numerics_are_selected(
    monkeypatch: pytest.MonkeyPatch,
    check_models: Path,
) -> None:
    def forbidden(*_: Any) -> Any:
        raise AssertionError("weights were read")

    monkeypatch.setattr("kinspect.checks.numerics.diagnostics", forbidden)
    findings(check_models / "clean.keras", select=["KIN1", "KIN3", "KIN4"])
    with pytest.raises(AssertionError, match="weights were read"):
        findings(check_models / "clean.keras", select=["KIN201"])


# -- KIN3xx budgets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"max_params": 46}, set()),  # 8*4+4 + 4*2+2
        ({"max_params": 45}, {("KIN301", None)}),
        ({"max_file_size": "1KB"}, {("KIN302", None)}),
        ({"max_file_size": "10MiB"}, set()),
        ({"max_layers": 3}, set()),
        ({"max_layers": 2}, {("KIN303", None)}),
        ({"forbid_layer": ("Dense",)}, {("KIN304", "hidden"), ("KIN304", "out")}),
        ({"allow_layer": ("InputLayer", "Dense")}, set()),
        ({"allow_layer": ("InputLayer",)}, {("KIN304", "hidden"), ("KIN304", "out")}),
        ({"input_shape": ("None,8",)}, set()),
        ({"input_shape": ("?,9",)}, {("KIN305", None)}),
        ({"input_shape": ("None,8", "None,8")}, {("KIN305", None)}),
        ({"input_dtype": "float32"}, set()),
        ({"input_dtype": "float16"}, {("KIN306", "x")}),
        ({"min_keras_version": "3.0"}, set()),
        ({"min_keras_version": "99.1"}, {("KIN307", None)}),
        ({"max_macs": 40}, set()),  # 8*4 + 4*2 multiply-accumulates
        ({"max_macs": "39"}, {("KIN308", None)}),
        ({"max_activation_memory": 48}, set()),  # 8 + 4 float32 values alive while `hidden` runs
        ({"max_activation_memory": "47B"}, {("KIN309", None)}),
    ],
)
def test_kin3xx_budgets(check_models: Path, flags: dict[str, Any], expected: set) -> None:
    assert ids(check_models / "clean.keras", select=["KIN3"], **flags) == expected


def test_budget_on_sequential_and_keras2_inputs(zoo_dir: Path, check_models: Path) -> None:
    assert ids(check_models / "other.keras", select=["KIN305"], input_shape=("None,5",)) == set()
    oracle = json.loads((zoo_dir / "k2_sequential.oracle.json").read_text())
    assert ids(zoo_dir / "k2_sequential.h5", select=["KIN301"], max_params=oracle["total_params"]) == set()


# -- KIN4xx consistency ---------------------------------------------------------------------------


def test_kin401_weights_contradict_config_is_a_finding(
    capsys: pytest.CaptureFixture[str],
    check_models: Path,
    tmp_path: Path,
) -> None:
    config = archive_config(check_models / "clean.keras")
    config["config"]["layers"][1]["config"]["units"] = 5
    path = rezip(
        check_models / "clean.keras", tmp_path / "misfit.keras", {"config.json": json.dumps(config).encode()}
    )
    code, out, _ = run(capsys, str(path), "--select", "KIN4")
    assert code == 1 and f"{path}: KIN401 error " in out and UNREADABLE not in out, out


def test_kin402_tensors_no_layer_explains(check_models: Path, tmp_path: Path) -> None:
    path = tmp_path / "ghost.h5"
    shutil.copy(check_models / "clean.h5", path)
    with h5py.File(path, "r+") as f:
        group = f["model_weights"]
        group.attrs["layer_names"] = [*group.attrs["layer_names"], "ghost"]
        ghost = group.create_group("ghost")
        ghost.attrs["weight_names"] = ["ghost/w"]
        ghost.create_dataset("ghost/w", data=np.zeros(3, "float32"))
    assert ids(path, select=["KIN4"]) == {("KIN402", None)}


def test_kin403_weights_only_against_arch(check_models: Path) -> None:
    weights = check_models / "clean.weights.h5"
    assert ids(weights, select=["KIN4"], arch=str(check_models / "clean.keras")) == set()
    got = findings(weights, select=["KIN4"], arch=str(check_models / "other.keras"))
    assert {f.rule for f in got} == {"KIN403", "KIN402"} and "other.keras" in got[0].message


# -- the command line -----------------------------------------------------------------------------


def test_lines_count_and_exit_codes(
    capsys: pytest.CaptureFixture[str], check_models: Path, zoo_dir: Path
) -> None:
    lam, clean = check_models / "nested_lambda.keras", check_models / "clean.keras"
    code, out, err = run(capsys, str(clean), str(lam), "--select", "KIN1")
    assert code == 1 and err == ""
    assert out.splitlines() == [
        f"{lam}: KIN101 error inner/deep_lambda: Lambda layer carries a Python lambda (marshalled bytecode); "
        "Keras runs it on load (safe_mode=False) or call",
        f"{lam}: KIN107 warning keras.saving.load_model(safe_mode=True) will refuse this file: "
        "Python lambda bytecode",
        "2 findings (1 error, 1 warning) in 2 files",
    ]
    assert run(capsys, str(clean), "--select", "KIN1")[:2] == (0, "0 findings in 1 file\n")
    custom = str(zoo_dir / "custom_layer.keras")
    assert run(capsys, custom, "--select", "KIN1")[0] == 0  # warnings only
    assert run(capsys, custom, "--select", "KIN1", "--fail-on", "warning")[0] == 1
    assert run(capsys, custom, "--select", "KIN1", "--ignore", "KIN103,KIN107", "--fail-on", "info")[0] == 0


def test_unreadable_file_is_a_line_and_exit_3(
    capsys: pytest.CaptureFixture[str],
    check_models: Path,
    tmp_path: Path,
) -> None:
    missing, junk = tmp_path / "missing.keras", tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    lam = check_models / "nested_lambda.keras"
    code, out, err = run(capsys, str(missing), str(lam), str(junk), "--select", "KIN101")
    lines = out.splitlines()
    assert code == 3 and err == ""
    assert lines[0] == f"{missing}: KIN000 error cannot read: no such file"
    assert lines[1].startswith(f"{lam}: KIN101 error inner/deep_lambda: ")
    assert lines[2].startswith(f"{junk}: KIN000 error cannot read: ")
    assert lines[3] == "1 finding (1 error) in 3 files, 2 unreadable"


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--select", "KIN9"], "unknown rule id or prefix 'KIN9'"), (["--ignore", "X"], "unknown rule"),
     (["--max-file-size", "big"], "invalid size"), (["--input-shape", "a,b"], "invalid input shape"),
     (["--fail-on", "fatal"], "Invalid value for '--fail-on'")],
)  # fmt: skip
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], check_models: Path, args: list[str], needle: str
) -> None:
    code, out, err = run(capsys, str(check_models / "clean.keras"), *args)
    assert code == 2 and out == "" and needle in err, err
    assert main(["check"]) == 2


def test_prefix_selection() -> None:
    assert resolve(["KIN1"]) == {r for r in RULES if r.startswith("KIN1")}
    assert resolve(None, ["KIN2"]) == {
        r for r, rule in RULES.items() if rule.default and not r.startswith("KIN2")
    }
    assert "KIN207" not in resolve(None) and "KIN207" in resolve(["KIN207"])


def test_parallel_output_is_in_argument_order(capsys: pytest.CaptureFixture[str], check_models: Path) -> None:
    files = [str(p) for p in sorted(check_models.glob("*")) if p.suffix in (".keras", ".h5", ".hdf5")]
    serial = run(capsys, *files, "-j", "1", "--ignore", "KIN2")
    parallel = run(capsys, *files, "-j", "2", "--ignore", "KIN2")
    assert serial == parallel
    order = [line.split(": ", 1)[0] for line in serial[1].splitlines()[:-1]]
    assert order == sorted(order, key=files.index)


def test_json_format(capsys: pytest.CaptureFixture[str], check_models: Path, tmp_path: Path) -> None:
    lam = check_models / "nested_lambda.keras"
    code, out, _ = run(capsys, str(lam), str(tmp_path / "gone.h5"), "--select", "KIN101", "--format", "json")
    doc = json.loads(out)
    assert code == 3 and doc["schema"] == "kinspect/check@1"
    first, second = doc["files"]
    assert first == {
        "file": str(lam),
        "readable": True,
        "findings": [{"rule": "KIN101", "severity": "error", "layer": "inner/deep_lambda",
                      "message": first["findings"][0]["message"]}],
    }  # fmt: skip
    assert second["readable"] is False and second["findings"][0]["rule"] == "KIN000"


def test_output_file_and_input_guard(
    capsys: pytest.CaptureFixture[str], check_models: Path, tmp_path: Path
) -> None:
    out_file = tmp_path / "report.txt"
    code, out, _ = run(capsys, str(check_models / "clean.keras"), "--select", "KIN1", "-o", str(out_file))
    assert code == 0 and out == "" and out_file.read_text() == "0 findings in 1 file\n"
    clean = check_models / "clean.keras"
    code, _, err = run(capsys, str(clean), "-o", str(clean))
    assert code == 2 and "never writes to the files it reads" in err


# -- configuration --------------------------------------------------------------------------------

PYPROJECT = """
[project]
name = "demo"

[tool.kinspect]
select = ["KIN1", "KIN3"]
ignore = ["KIN107"]
fail-on = "warning"
max-params = 10
forbidden-layers = ["Lambda"]

[tool.kinspect.severity]
KIN103 = "info"
"""


def test_pyproject_config_is_found_walking_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, zoo_dir: Path,
    check_models: Path,
) -> None:  # fmt: skip
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "sub" / "dir").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "sub" / "dir")
    clean = str(check_models / "clean.keras")
    code, out, _ = capsys.readouterr() and (main(["check", clean]), *capsys.readouterr())
    assert code == 1 and "KIN301 error 46 parameters, over the budget of 10" in out
    assert main(["check", clean, "--max-params", "100"]) == 0  # a flag overrides the config
    capsys.readouterr()
    custom = str(zoo_dir / "custom_layer.keras")
    code = main(["check", custom, "--max-params", "1000"])
    out = capsys.readouterr().out
    assert code == 0 and "KIN103 info " in out and "KIN107" not in out  # severity lowered, rule ignored
    assert main(["check", custom, "--no-config", "--select", "KIN1", "--fail-on", "warning"]) == 1
    capsys.readouterr()
    lam = str(check_models / "nested_lambda.keras")
    assert "KIN304 error inner/deep_lambda" not in out
    main(["check", lam])
    assert "KIN304 error deep_lambda: layer class Lambda is not allowed" in capsys.readouterr().out


def test_explicit_config_and_bad_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, check_models: Path
) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[tool.kinspect]\nselect = "KIN301"\nmax-params = 1\n')
    assert main(["check", str(check_models / "clean.keras"), "--config", str(good)]) == 1
    bad = tmp_path / "bad.toml"
    bad.write_text("[tool.kinspect]\nmax-parms = 1\n")
    capsys.readouterr()
    assert main(["check", str(check_models / "clean.keras"), "--config", str(bad)]) == 2
    assert "unknown key 'max-parms'" in capsys.readouterr().err


# -- documentation --------------------------------------------------------------------------------


def test_every_rule_has_one_function_and_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    functions = [rule.check for rule in RULES.values()]
    assert len(set(functions)) == len(functions), "a function serves several rule ids"
    assert sorted(ORDER) == list(RULES), "every rule runs exactly once"
    for rid, rule in RULES.items():
        assert f"| `{rid}` |" in readme, f"{rid} is missing from the README rule table"
        severity = rule.severity.value + ("" if rule.default else " (opt-in)")
        row = f"| `{rid}` | {rule.name} | {severity} | {rule.summary} | {rule.rationale} |"
        assert row in readme, f"the README's row for {rid} differs from the rule: {row}"
        assert rule.check.__doc__, rid
    for family in FAMILIES:
        assert family.__doc__


def test_hostile_names_cannot_forge_lines(check_models: Path, tmp_path: Path) -> None:
    config = archive_config(check_models / "clean.keras")
    layer = config["config"]["layers"][1]
    layer["module"], layer["config"]["name"] = "os", "x\nclean.keras: KIN000 error forged"
    path = rezip(
        check_models / "clean.keras", tmp_path / "forge.keras", {"config.json": json.dumps(config).encode()}
    )
    from kinspect.checks.runner import FileResult
    from kinspect.render.check import render_text

    text = render_text([FileResult(str(path), tuple(findings(path, select=["KIN102"])))])
    assert all(ln.startswith(f"{path}: KIN102 ") for ln in text.splitlines()[:-1]), text


def test_a_rule_that_fails_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, check_models: Path
) -> None:
    def broken(_: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setitem(RULES, "KIN301", dataclasses.replace(RULES["KIN301"], check=broken))
    result = check_file(str(check_models / "clean.keras"), merge({}, {"select": ["KIN3"]}))
    assert result.unreadable and "internal error in rule KIN301 (KeyError" in result.findings[0].message


def test_check_never_imports_keras_or_tensorflow(check_models: Path) -> None:
    code = (
        "import sys; from kinspect.cli import main; "
        f"main(['check', '--no-config', {str(check_models / 'nested_lambda.keras')!r}, "
        f"{str(check_models / 'clean.h5')!r}, '-j', '2']); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', 'tf_keras')]; "
        "print('imported', bad)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "imported []" in proc.stdout, proc.stdout + proc.stderr
