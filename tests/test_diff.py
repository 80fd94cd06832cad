"""``kinspect diff``: every figure against numpy on Keras's own arrays (``get_weights()`` of the live
or reloaded models, written by ``tests/build_diff.py``), the architecture against the live models'
configs, the findings, mixed formats, bad input on either side, and the JSON contract."""

from __future__ import annotations

import json
import math
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from kinspect.analyzers.diff import RULES
from kinspect.cli import cli, main
from tests.conftest import TESTS, oracle_names
from tests.keras_build import built
from tests.test_bad_input import BAD_CONFIGS, keras_config, rezip

ROOT = TESTS.parent


@pytest.fixture(scope="session")
def pairs() -> Path:
    """The model pairs of ``tests/build_diff.py``."""
    return built("build_diff.py")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def diff_json(a: Path | str, b: Path | str, *extra: str) -> dict[str, Any]:
    code, out, err = run("diff", str(a), str(b), "--format", "json", *extra)
    assert (code, err) == (0, ""), err
    return json.loads(out)


def oracle(root: Path, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The live model's arrays by ``layer path/weight``, and its trainable flags and config."""
    doc = json.loads((root / f"{name}.oracle.json").read_text())
    with np.load(root / f"{name}.oracle.npz") as npz:
        values = {key: npz[f"v{i}"] for i, key in enumerate(doc["keys"])}
    return values, doc


def expected(a: np.ndarray, b: np.ndarray, atol: float = 0.0, rtol: float = 0.0) -> dict[str, Any]:
    """What numpy says of one pair (over the elements finite in both)."""
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    both = np.isfinite(x) & np.isfinite(y)
    d = y[both] - x[both]
    na, nb = np.linalg.norm(x[both]), np.linalg.norm(y[both])
    close = np.abs(d) <= atol + rtol * np.abs(x[both])
    odd = (~both) & ~((x == y) | (np.isnan(x) & np.isnan(y)))
    return {
        "equal": a.dtype == b.dtype and a.tobytes() == b.tobytes(),
        "max_abs": float(np.abs(d).max()) if d.size else 0.0,
        "rel_l2": float(np.linalg.norm(d) / na) if na else None,
        "cosine": float(np.dot(x[both], y[both]) / (na * nb)) if na and nb else None,
        "changed_fraction": float((np.count_nonzero(~close) + np.count_nonzero(odd)) / x.size),
        "nan_appeared": int(np.count_nonzero(np.isnan(y) & ~np.isnan(x))),
        "inf_appeared": int(np.count_nonzero(np.isinf(y) & ~np.isinf(x))),
    }


def assert_tensors(
    doc: dict[str, Any], va: dict[str, np.ndarray], vb: dict[str, np.ndarray], **tol: float
) -> None:
    """Every tensor row of the diff agrees with numpy on the two models' arrays, and every array
    of the oracle has its row."""
    rows = {f"{t['layer']}/{t['name']}": t for t in doc["tensors"]}
    assert set(rows) == set(va) | set(vb)
    for key, row in rows.items():
        if key not in va or key not in vb:
            assert row["status"] == ("added" if key not in va else "removed"), key
            continue
        a, b = va[key], vb[key]
        if a.shape != b.shape:
            assert row["status"] == "reshaped", key
            continue
        want = expected(a, b, **tol)
        status = "unchanged" if want["equal"] else "retyped" if a.dtype != b.dtype else "changed"
        assert row["status"] == status, key
        for field in ("max_abs", "rel_l2", "cosine", "changed_fraction"):
            assert row[field] == pytest.approx(want[field], rel=1e-6, abs=1e-9), (key, field)
        assert (row["nan_appeared"], row["inf_appeared"]) == (want["nan_appeared"], want["inf_appeared"]), key


def layer_of(key: str) -> str:
    return key.rsplit("/", 1)[0]


def changed_layers(va: dict[str, np.ndarray], vb: dict[str, np.ndarray]) -> set[str]:
    return {layer_of(k) for k in va if k in vb and va[k].tobytes() != vb[k].tobytes()}


# -- weights, against numpy ------------------------------------------------------------------------


def test_fine_tuned_with_frozen_backbone(pairs: Path) -> None:
    """Only the head moved (Keras 3 keeps a frozen BatchNormalization's statistics), and kinspect says
    exactly which tensors and by how much."""
    va, _ = oracle(pairs, "base")
    vb, tuned = oracle(pairs, "finetuned")
    frozen = {layer for layer, trainable in tuned["trainable"].items() if not trainable}
    assert frozen and not (changed_layers(va, vb) & frozen), "the oracle: a frozen backbone stays put"
    doc = diff_json(pairs / "base.keras", pairs / "finetuned.keras")
    assert_tensors(doc, va, vb)
    moved = {row["name"] for row in doc["layers"] if row["status"] == "changed"}
    assert moved == changed_layers(va, vb)
    assert {row["name"] for row in doc["layers"] if row["frozen_b"]} == frozen
    assert not [f for f in doc["findings"] if f["rule"] == "KIN601"]
    layers = {row["name"]: row for row in doc["layers"]}
    for name in moved:  # rolled up: the layer's tensors as one vector
        keys = [k for k in va if layer_of(k) == name]
        a = np.concatenate([va[k].astype(np.float64).ravel() for k in keys])
        b = np.concatenate([vb[k].astype(np.float64).ravel() for k in keys])
        assert layers[name]["rel_l2"] == pytest.approx(np.linalg.norm(b - a) / np.linalg.norm(a), rel=1e-6)
        assert layers[name]["cosine"] == pytest.approx(
            a @ b / np.linalg.norm(a) / np.linalg.norm(b), rel=1e-6
        )


@pytest.mark.parametrize("edited", ["edited.weights.h5", "edited.keras"])
def test_backbone_tensor_edited_in_the_file(pairs: Path, edited: str) -> None:
    """A frozen layer's tensor changed in the file: KIN601 names it, figures as numpy's."""
    va, tuned = oracle(pairs, "finetuned")
    vb, _ = oracle(pairs, "edited")
    doc = diff_json(pairs / "finetuned.keras", pairs / edited)
    assert_tensors(doc, va, vb)
    hit = changed_layers(va, vb)
    assert hit and all(not tuned["trainable"][layer] for layer in hit)
    assert {f["layer"] for f in doc["findings"] if f["rule"] == "KIN601"} == hit


def test_two_epochs_of_one_run(pairs: Path) -> None:
    va, _ = oracle(pairs, "run-01")
    vb, _ = oracle(pairs, "run-02")
    for a, b in [("run-01.keras", "run-02.keras"), ("run-01.weights.h5", "run-02.weights.h5"),
                 ("run-01.weights.h5", "run-02.keras")]:  # fmt: skip
        doc = diff_json(pairs / a, pairs / b)
        assert_tensors(doc, va, vb)
        top = next(f for f in doc["findings"] if f["rule"] == "KIN604")
        best = max(doc["layers"], key=lambda r: r["rel_l2"] or 0)
        assert best["name"] in top["message"]


def test_tolerances(pairs: Path) -> None:
    va, _ = oracle(pairs, "run-01")
    vb, _ = oracle(pairs, "run-02")
    for atol, rtol in [(1e-3, 0.0), (0.0, 0.05), (1e-4, 0.01)]:
        doc = diff_json(
            pairs / "run-01.keras", pairs / "run-02.keras", "--atol", str(atol), "--rtol", str(rtol)
        )
        assert_tensors(doc, va, vb, atol=atol, rtol=rtol)


def test_nan_and_inf_appeared(pairs: Path) -> None:
    va, _ = oracle(pairs, "finetuned")
    vb, _ = oracle(pairs, "nan")
    doc = diff_json(pairs / "finetuned.weights.h5", pairs / "nan.weights.h5")
    assert_tensors(doc, va, vb)
    found = [f for f in doc["findings"] if f["rule"] == "KIN603"]
    assert [f["layer"] for f in found] == sorted({layer_of(k) for k in vb if not np.isfinite(vb[k]).all()})
    code, _, _ = run("diff", str(pairs / "finetuned.weights.h5"), str(pairs / "nan.weights.h5"),
                     "--fail-on-change", "weights")  # fmt: skip
    assert code == 1


def test_mismatched_dtypes(pairs: Path) -> None:
    """A tensor rewritten as float64: retyped, compared by value (the same numbers: no difference)."""
    doc = diff_json(pairs / "base.weights.h5", pairs / "retyped.weights.h5")
    key = json.loads((pairs / "retyped.key.json").read_text())
    rows = [t for t in doc["tensors"] if t["status"] != "unchanged"]
    assert [(t["path_b"], t["status"], t["dtype_a"], t["dtype_b"]) for t in rows] == [
        (key, "retyped", "float32", "float64")
    ]
    assert (rows[0]["max_abs"], rows[0]["changed_fraction"], rows[0]["cosine"]) == (
        0.0,
        0.0,
        pytest.approx(1.0),
    )


def test_tf_keras_h5_against_its_tf_checkpoint(pairs: Path) -> None:
    """Mixed formats: an .h5 and a TF-format checkpoint (weights only) of one model, paired by name."""
    va, _ = oracle(pairs, "tfk")
    doc = diff_json(pairs / "tfk.h5", pairs / "tfk_ckpt")
    assert_tensors(doc, va, va)
    assert all(t["paired_by"] == "name" for t in doc["tensors"])
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("KIN602", "info")]  # a conversion
    vb, _ = oracle(pairs, "tfk2")
    assert_tensors(diff_json(pairs / "tfk.h5", pairs / "tfk_ckpt2" / "ckpt"), va, vb)


def test_optimizer_apart(pairs: Path) -> None:
    plain = diff_json(pairs / "run-01.keras", pairs / "run-02.keras")
    assert plain["optimizer"]["compared"] is False and plain["optimizer"]["variables_a"] > 0
    assert all(t["layer"] != "(optimizer)" for t in plain["tensors"])
    full = diff_json(pairs / "run-01.keras", pairs / "run-02.keras", "--optimizer")
    opt = full["optimizer"]["tensors"]
    assert len(opt) == full["optimizer"]["variables_a"] and any(t["status"] == "changed" for t in opt)
    assert full["tensors"] == plain["tensors"]


# -- the same file, identical weights --------------------------------------------------------------


def test_same_file_twice_and_a_byte_copy(pairs: Path) -> None:
    for b in ("base.keras", "copy.keras"):
        doc = diff_json(pairs / "base.keras", pairs / b)
        assert doc["identical"] is True
        assert {t["status"] for t in doc["tensors"]} == {"unchanged"}
        assert not doc["findings"] and not doc["weights_changed"] and not doc["architecture_changed"]
    code, _, _ = run("diff", str(pairs / "base.keras"), str(pairs / "base.keras"), "--fail-on-change")
    assert code == 0


def test_copied_checkpoint_is_identical(pairs: Path, tmp_path: Path) -> None:
    """A TF checkpoint copied elsewhere: its index and shards hold the same bytes, nothing is read;
    another checkpoint of the same size is read."""
    shutil.copytree(pairs / "tfk_ckpt", tmp_path / "copy")
    doc = diff_json(pairs / "tfk_ckpt", tmp_path / "copy")
    assert doc["identical"] is True and {t["status"] for t in doc["tensors"]} == {"unchanged"}
    other = diff_json(pairs / "tfk_ckpt", pairs / "tfk_ckpt2")
    assert other["identical"] is False and {t["status"] for t in other["tensors"]} == {"changed"}


def test_identical_weights_in_another_file(pairs: Path) -> None:
    doc = diff_json(pairs / "base.keras", pairs / "resaved.keras")
    assert doc["identical"] is False
    assert [(f["rule"], f["severity"]) for f in doc["findings"]] == [("KIN602", "warning")]  # one format
    code, _, _ = run("diff", str(pairs / "base.keras"), str(pairs / "resaved.keras"), "--fail-on-change")
    assert code == 0


# -- architecture, against the live models' configs ------------------------------------------------


def test_architecture_change(pairs: Path) -> None:
    _, base = oracle(pairs, "base")
    _, changed = oracle(pairs, "changed")
    layers_a = {lay["config"]["name"]: lay for lay in base["config"]["layers"]}
    layers_b = {lay["config"]["name"]: lay for lay in changed["config"]["layers"]}
    doc = diff_json(pairs / "base.keras", pairs / "changed.keras")
    arch = doc["architecture"]
    renamed = {c["renamed_from"]: c["name"] for c in arch["changed"] if c["renamed_from"]}
    assert renamed == {"drop": "head_drop"}  # the same class, position and config
    assert layers_a["drop"]["config"]["rate"] == layers_b["head_drop"]["config"]["rate"]
    assert {c["name"] for c in arch["added"]} == set(layers_b) - set(layers_a) - set(renamed.values())
    assert {c["name"] for c in arch["removed"]} == set(layers_a) - set(layers_b) - set(renamed)
    changes = {c["name"]: {x["field"]: (x["a"], x["b"]) for x in c["changes"]} for c in arch["changed"]}
    for name in set(layers_a) & set(layers_b):
        for key, value in layers_a[name]["config"].items():
            other = layers_b[name]["config"].get(key)
            if key in ("units", "activation", "rate", "filters") and value != other:
                assert changes[name][f"config.{key}"] == (value, other)
    assert changes["hidden"]["output_shape"] == ([None, 32], [None, 48])
    assert "connections" in changes["out"]
    statuses = {t["name"]: t["status"] for t in doc["tensors"] if t["layer"] == "hidden"}
    assert statuses == {"kernel": "reshaped", "bias": "reshaped"}
    assert doc["architecture_changed"] is True
    code, _, _ = run("diff", str(pairs / "base.keras"), str(pairs / "changed.keras"), "--fail-on-change",
                     "architecture")  # fmt: skip
    assert code == 1
    code, _, _ = run("diff", str(pairs / "run-01.keras"), str(pairs / "run-02.keras"), "--fail-on-change",
                     "architecture")  # fmt: skip
    assert code == 0


def test_frozen_backbone_is_an_architecture_change(pairs: Path) -> None:
    arch = diff_json(pairs / "base.keras", pairs / "finetuned.keras")["architecture"]
    flags = {c["name"]: dict((x["field"], (x["a"], x["b"])) for x in c["changes"]) for c in arch["changed"]}
    assert flags["backbone"]["trainable"] == (True, False)
    assert flags["backbone/conv1"]["trainable"] == (True, False)  # nested layers compared one by one


# -- pairing by structure --------------------------------------------------------------------------


def test_structural_pairing_says_so(pairs: Path, tmp_path: Path) -> None:
    """Keras 3 weights-only files without layer names (older Keras): layers named by class and
    counter, paired by structure, and the diff says so."""
    import h5py

    target = tmp_path / "unnamed.weights.h5"
    shutil.copy(pairs / "run-02.weights.h5", target)
    with h5py.File(target, "r+") as f:
        f.visititems(lambda n, o: o.attrs.__delitem__("name") if "name" in o.attrs else None)
    doc = diff_json(pairs / "run-01.keras", target)
    assert any("matched by structure" in n for n in doc["notes"])
    named = diff_json(pairs / "run-01.keras", pairs / "run-02.weights.h5")
    assert {t["paired_by"] for t in named["tensors"]} == {"name"}
    assert {t["paired_by"] for t in doc["tensors"]} == {"structure"}
    figures = ("path_a", "path_b", "status", "max_abs", "rel_l2", "cosine", "changed_fraction")
    assert [[t[k] for k in figures] for t in doc["tensors"]] == [
        [t[k] for k in figures] for t in named["tensors"]
    ]


# -- bad input -------------------------------------------------------------------------------------


def _bad_files(tmp: Path, pairs: Path) -> dict[str, Path]:
    files = {
        "missing": tmp / "missing.keras",
        "empty": tmp / "empty.keras",
        "random": tmp / "random.h5",
        "text": tmp / "notes.txt",
        "truncated": tmp / "truncated.keras",
        "truncated_h5": tmp / "truncated.weights.h5",
    }
    files["empty"].write_bytes(b"")
    files["random"].write_bytes(np.random.default_rng(0).bytes(4096))
    files["text"].write_text("not a model\n")
    data = (pairs / "base.keras").read_bytes()
    files["truncated"].write_bytes(data[: len(data) // 2])
    data = (pairs / "base.weights.h5").read_bytes()
    files["truncated_h5"].write_bytes(data[: len(data) // 2])
    # A .keras whose compressed weights member is damaged mid-stream (its CRC no longer matches).
    files["damaged_member"] = tmp / "damaged.keras"
    with zipfile.ZipFile(pairs / "base.keras") as zin, zipfile.ZipFile(files["damaged_member"], "w") as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item), compress_type=zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(files["damaged_member"]) as z:
        info = z.getinfo("model.weights.h5")
    raw = bytearray(files["damaged_member"].read_bytes())
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    raw[at : at + 64] = bytes(b ^ 0x5A for b in raw[at : at + 64])
    files["damaged_member"].write_bytes(bytes(raw))
    # A TF checkpoint whose data shard lost its second half.
    files["short_shard"] = tmp / "short_ckpt"
    shutil.copytree(pairs / "tfk_ckpt", files["short_shard"])
    shard = next(files["short_shard"].glob("*.data-*"))
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    return files


@pytest.mark.parametrize("side", ["a", "b"])
def test_bad_input_on_either_side(
    pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], side: str
) -> None:
    for name, bad in _bad_files(tmp_path, pairs).items():
        good = pairs / "base.keras"
        args = [str(bad), str(good)] if side == "a" else [str(good), str(bad)]
        before = bad.read_bytes() if bad.is_file() else None
        code = main(["diff", *args])
        err = capsys.readouterr().err
        assert code == 3, (name, err)
        assert err.count("\n") == 1 and bad.name in err and "Traceback" not in err, (name, err)
        assert (bad.read_bytes() if bad.is_file() else None) == before


def test_different_models_pair_nothing(pairs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing pairs: a usage error (exit 2), one line."""
    code = main(["diff", "samples/text_classifier.keras", str(pairs / "base.keras")])
    err = capsys.readouterr().err
    assert code == 2 and "not one tensor pairs" in err and err.count("\n") == 1
    assert err.startswith("kinspect: error: samples/text_classifier.keras and ")


def test_bad_options(pairs: Path) -> None:
    code, _, err = run("diff", str(pairs / "base.keras"), str(pairs / "base.keras"), "--atol", "-1")
    assert code == 2 and "--atol" in err
    out = str(pairs / "copy.keras")
    assert main(["diff", str(pairs / "base.keras"), out, "-o", out]) == 2  # never written over


# -- outputs and the contract ----------------------------------------------------------------------


def test_text_markdown_html(pairs: Path) -> None:
    import kinspect

    result = kinspect.diff(pairs / "base.keras", pairs / "finetuned.keras")
    text = str(result)
    assert re.search(r"^  ~\s+hidden\s+changed", text, re.M)
    assert re.search(r"= 3 unchanged layers \(backbone/conv1, backbone/bn1, backbone/conv2\)", text)
    md = result.to_markdown()
    assert md.startswith("### kinspect diff") and "| ~ | hidden |" in md
    page = result._repr_html_()
    assert "<script" not in page and "hidden" in page
    assert json.loads(result.to_json()) == result.to_dict()


def test_json_contract_is_documented(pairs: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    doc = diff_json(pairs / "base.keras", pairs / "changed.keras", "--optimizer")
    assert doc["schema"] == "kinspect/diff@1"
    arch = doc["architecture"]
    parts = (
        doc,
        arch,
        arch["changed"][0],
        arch["changed"][0]["changes"][0],
        doc["layers"][0],
        doc["tensors"][0],
    )
    for part in (*parts, doc["optimizer"], doc["findings"][0], doc["a"]):
        for key in part:
            assert f"`{key}`" in readme, f"diff JSON key {key} is not documented in README.md"
    for t in doc["tensors"]:
        assert {"layer", "name", "status", "max_abs", "rel_l2", "cosine", "changed_fraction"} <= set(t)
        assert t["status"] in ("unchanged", "changed", "added", "removed", "reshaped", "retyped")


def test_rules_are_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    ids = [r.id for r in RULES]
    assert ids == sorted(ids) and all(i.startswith("KIN6") for i in ids)
    for rule in RULES:
        row = f"| `{rule.id}` | {rule.name} | {rule.severity.value} | {rule.summary} | {rule.rationale} |"
        assert row in readme, f"the README's row for {rule.id} differs from the rule: {row}"


def test_report_compare_section(pairs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "rep"
    args = ["report", str(pairs / "finetuned.keras"), "-o", str(out), "--no-graph"]
    assert main([*args, "--compare", str(pairs / "base.keras")]) == 0
    page = (out / "report.html").read_text()
    section = page[page.index('<section id="compare">') :]
    section = section[: section.index("</section>")]
    assert f'Compared with <span class="mono">{pairs / "base.keras"}</span>' in section
    va, _ = oracle(pairs, "base")
    vb, _ = oracle(pairs, "finetuned")
    for layer in changed_layers(va, vb):
        assert f"<td>{layer}</td><td>changed</td>" in section
    assert main([*args, "--compare", str(tmp_path / "missing.keras")]) == 3
    assert "missing.keras" in capsys.readouterr().err
    assert main(["report", str(pairs / "finetuned.keras"), "-o", str(out), "--no-graph"]) == 0
    assert 'id="compare"' not in (out / "report.html").read_text()


def test_report_compare_no_weights(pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--no-weights compares the architectures alone: no weight of either file is read (the pair
    reader and the checksum shortcut would fail the run), the section says so, and the navigation
    links to the section only when there is one."""
    import kinspect.loaders.pairs as pair_loader

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("weights read under --no-weights")

    _, base = oracle(pairs, "base")
    _, changed = oracle(pairs, "changed")
    names_a = {lay["config"]["name"] for lay in base["config"]["layers"]}
    names_b = {lay["config"]["name"] for lay in changed["config"]["layers"]}
    out = tmp_path / "rep"
    args = ["report", str(pairs / "changed.keras"), "-o", str(out), "--no-graph"]
    with monkeypatch.context() as m:
        m.setattr(pair_loader, "read_pairs", refuse)
        m.setattr(pair_loader, "identical_files", refuse)
        assert main([*args, "--no-weights", "--compare", str(pairs / "base.keras")]) == 0
    page = (out / "report.html").read_text()
    nav = page[page.index("<nav>") : page.index("</nav>")]
    assert '<a href="#compare">Compared with</a>' in nav
    section = page[page.index('<section id="compare">') :]
    section = section[: section.index("</section>")]
    assert "Architecture only: the weights were not compared (--no-weights)." in section
    assert "<table" not in section and "the architecture only" in section
    for name in names_b - names_a - {"head_drop"}:  # head_drop: the renamed dropout
        assert f"<li>+ {name} (" in section
    for name in names_a - names_b - {"drop"}:
        assert f"<li>- {name} (" in section
    # With weights: the weights table is back, and without --compare no link to a missing section.
    assert main([*args, "--compare", str(pairs / "base.keras")]) == 0
    page = (out / "report.html").read_text()
    assert '<a href="#compare">Compared with</a>' in page and "Architecture only" not in page
    assert main(args) == 0
    assert 'href="#compare"' not in (out / "report.html").read_text()


def test_architecture_alone_and_arch_options(pairs: Path, tmp_path: Path) -> None:
    """A config.json side: the architecture compared, no weights; --arch-a gives a weights-only A
    its architecture."""
    with zipfile.ZipFile(pairs / "changed.keras") as z:
        (tmp_path / "config.json").write_bytes(z.read("config.json"))
    alone = diff_json(pairs / "base.keras", tmp_path / "config.json")
    assert alone["tensors"] == [] and any("only the architecture" in n for n in alone["notes"])
    full = diff_json(pairs / "base.keras", pairs / "changed.keras")
    assert alone["architecture"]["added"] == full["architecture"]["added"]
    assert alone["architecture"]["removed"] == full["architecture"]["removed"]
    plain = diff_json(pairs / "run-01.weights.h5", pairs / "run-02.keras")
    paired = diff_json(
        pairs / "run-01.weights.h5", pairs / "run-02.keras", "--arch-a", str(pairs / "run-01.keras")
    )
    assert plain["architecture"] is None and paired["architecture"] is not None
    assert [t["rel_l2"] for t in paired["tensors"]] == [t["rel_l2"] for t in plain["tensors"]]


@pytest.mark.parametrize("name", oracle_names())
def test_every_zoo_model_equals_its_twins(zoo_dir: Path, name: str) -> None:
    """Invariant: a model's .keras file against its .h5 and weights-only twins (the same model saved
    three ways): every tensor pairs and is unchanged, and no architecture change, over the whole zoo
    (applications, nested models, RNNs and wrappers, custom layers, mixed precision, tf_keras)."""
    files = [zoo_dir / f"{name}{suffix}" for suffix in (".keras", ".h5", ".weights.h5", ".weights.hdf5")]
    first, *twins = [f for f in files if f.exists()]
    assert twins, name
    for twin in twins:
        doc = diff_json(first, twin)
        odd = [(t["layer"], t["name"], t["status"]) for t in doc["tensors"] if t["status"] != "unchanged"]
        assert not odd, (twin.name, odd[:5])
        assert doc["tensors"] or not doc["counts"], twin.name
        assert not doc["architecture_changed"], (twin.name, doc["architecture"])


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_hostile_configs_on_either_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    """The bad-input suite's hostile configs: diff refuses them as summary does, from either side."""
    models = built("build_bad_input.py")
    edit, needle = BAD_CONFIGS[case]
    bad = rezip(
        models / "tiny.keras",
        tmp_path / "bad.keras",
        {"config.json": json.dumps(edit(keras_config(models))).encode()},
    )
    good = models / "tiny.keras"
    for args in ([bad, good], [good, bad]):
        code = main(["diff", *map(str, args)])
        err = capsys.readouterr().err
        assert code == 3 and err.startswith(f"kinspect: error: {bad}: ") and needle in err, err
        assert err.count("\n") == 1


# -- the pair reader's streaming, directly ---------------------------------------------------------


def _stored(values: np.ndarray, step: int, reuse: bool = True) -> Any:
    """A stored tensor whose values come in slices of ``step`` (through one reused buffer, as the
    raw reader gives them)."""
    from kinspect.loaders.arrays import Stored

    flat = values.reshape(-1)

    def slices() -> Any:
        buf = np.empty(step, flat.dtype)
        for lo in range(0, flat.size, step):
            part = flat[lo : lo + step]
            out = buf[: part.size] if reuse else np.empty(part.size, flat.dtype)
            out[...] = part
            yield out.reshape(1, -1), 0

    return Stored(values.shape, values.dtype.name, values.dtype, True, slices)


def test_pairs_of_different_slicing_and_dtype() -> None:
    """Both tensors read side by side whatever their slices: figures as numpy's, NaN/Inf counted."""
    from kinspect.loaders.pairs import _pair

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 701)).astype(np.float32)
    b = a.copy()
    b[::7] += rng.normal(scale=1e-3, size=b[::7].shape).astype(np.float32)
    b[3, 5], b[4, 6], a[9, 9] = np.nan, np.inf, np.nan
    for sa, sb, wide in [(1000, 4096, False), (70_001, 333, False), (210_300, 210_300, True)]:
        other = b.astype(np.float64) if wide else b
        got = _pair(_stored(a, sa), _stored(other, sb), 1e-4, 1e-3, ("a", "b"))
        want = expected(a, other, atol=1e-4, rtol=1e-3)
        assert got["equal"] is False and (got["nan_new"], got["inf_new"]) == (1, 1)
        assert got["max_abs"] == pytest.approx(want["max_abs"], rel=1e-9)
        assert math.sqrt(got["dd"]) / math.sqrt(got["aa"]) == pytest.approx(want["rel_l2"], rel=1e-9)
        assert got["changed"] / a.size == pytest.approx(want["changed_fraction"], rel=1e-12)
    same = _pair(_stored(a, 4096), _stored(a.copy(), 999), 0.0, 0.0, ("a", "b"))
    assert same["equal"] is True and same["changed"] == 0 and same["dd"] == 0


def test_pair_memory_is_bounded() -> None:
    """A 128 MB pair is compared in slices: the peak stays a fraction of one tensor."""
    import tracemalloc

    from kinspect.loaders.pairs import _pair

    size = 32 << 20  # float32 values: 128 MB a tensor
    chunk = np.arange(1 << 20, dtype=np.float32)

    def stored(shift: float) -> Any:
        from kinspect.loaders.arrays import Stored

        def slices() -> Any:
            buf = np.empty(1 << 20, np.float32)
            for _ in range(size >> 20):
                np.add(chunk, shift, out=buf)
                yield buf.reshape(1, -1), 0

        return Stored((size,), "float32", np.dtype(np.float32), True, slices)

    tracemalloc.start()
    try:
        got = _pair(stored(0.0), stored(0.5), 0.0, 0.0, ("a", "b"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got["changed"] == size and got["max_abs"] == 0.5
    assert peak < 48 << 20, f"peak {peak / 1e6:.0f} MB for two 134 MB tensors"  # tracemalloc sees numpy


def test_renamed_layer_with_weights(pairs: Path, tmp_path: Path) -> None:
    """A layer renamed in the config (Keras stores weights by position, so the file still loads):
    renamed-looking, its tensors paired with the old name's and unchanged, and the connection to it
    not a change."""
    with zipfile.ZipFile(pairs / "base.keras") as z:
        text = z.read("config.json").decode()
    renamed = rezip(pairs / "base.keras", tmp_path / "renamed.keras",
                    {"config.json": text.replace('"pre_out"', '"penultimate"').encode()})  # fmt: skip
    doc = diff_json(pairs / "base.keras", renamed)
    arch = doc["architecture"]
    assert (arch["added"], arch["removed"]) == ([], [])
    assert [(c["name"], c["renamed_from"], c["changes"]) for c in arch["changed"]] == [
        ("penultimate", "pre_out", [])
    ]
    rows = [t for t in doc["tensors"] if t["layer"] == "penultimate"]
    assert [(t["status"], t["paired_by"]) for t in rows] == [("unchanged", "name")] * 2
    assert [r["renamed_from"] for r in doc["layers"] if r["name"] == "penultimate"] == ["pre_out"]


def test_unfrozen_to_fine_tune_is_not_an_error() -> None:
    """Keras's transfer-learning recipe (tests/build_runs.py ``unfreeze``): a layer frozen while the
    head trained, then unfrozen and fine-tuned. Its weights moving from stage 1 to stage 2 is the
    point: KIN601 says so as information. When B cannot say it is trainable (weights only) or says it
    is frozen, it stays an error."""
    d = built("build_runs.py") / "unfreeze"
    said = json.loads((d / "unfreeze.json").read_text())
    first, second = said["trainable"]
    unfrozen = {name for name in said["changed"] if not first[name] and second[name]}
    assert unfrozen, "the fixture: a layer unfrozen between the stages moved"
    doc = diff_json(d / "stage1.keras", d / "stage2.keras")
    assert {row["name"] for row in doc["layers"] if row["status"] == "changed"} == set(said["changed"])
    found = {f["layer"]: f for f in doc["findings"] if f["rule"] == "KIN601"}
    assert set(found) == unfrozen and {f["severity"] for f in found.values()} == {"info"}
    assert all("unfrozen in B" in f["message"] for f in found.values())
    alone = diff_json(d / "stage1.keras", d / "stage2.weights.h5")
    assert {f["layer"]: f["severity"] for f in alone["findings"] if f["rule"] == "KIN601"} == dict.fromkeys(
        unfrozen, "error"
    )
    back = diff_json(d / "stage2.keras", d / "stage1.keras")  # B says frozen, yet differs from A
    assert {f["layer"]: f["severity"] for f in back["findings"] if f["rule"] == "KIN601"} == dict.fromkeys(
        unfrozen, "error"
    )
