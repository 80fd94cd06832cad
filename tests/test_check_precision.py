"""``kinspect check`` as a CI gate must be precise: no finding where Keras needs nothing and runs
nothing, an error wherever a loader would run code. Keras and tf_keras are the oracles, in
child processes: what they load without custom code, what their deserializer imports, what
safe mode refuses, and what numpy unpickles."""

from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kinspect.checks import RULES
from kinspect.checks.runner import check_file
from kinspect.checks.security import KERAS_REGISTERED, NON_MODELING_APIS, Node, reference, walk
from kinspect.checks.settings import merge
from kinspect.cli import main
from kinspect.findings import Finding
from kinspect.loaders import load
from kinspect.loaders.pickles import PREFIX, _npy, _raw
from tests.keras_build import built

ROOT = Path(__file__).parent.parent
CHILD_ENV = {
    **os.environ,
    "KERAS_BACKEND": "tensorflow",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "CUDA_VISIBLE_DEVICES": "",
}


@pytest.fixture(scope="module")
def models() -> Path:
    return built("build_precision.py", "check_custom.py")


def findings(path: Path | str, **flags: Any) -> list[Finding]:
    settings_ = merge({}, {k.replace("_", "-"): v for k, v in flags.items()})
    return list(check_file(str(path), settings_).findings)


def child(code: str, *args: str, stdin: str = "", cwd: Path = ROOT) -> str:
    """Run ``code`` in a fresh interpreter (Keras is never imported by the test process); the
    tests' modules are importable only when ``cwd`` is the repository."""
    env = {k: v for k, v in CHILD_ENV.items() if k != "PYTHONPATH"}
    if cwd == ROOT:
        env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], input=stdin, capture_output=True, text=True, timeout=600,
        env=env, cwd=cwd,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def configs(path: Path) -> list[Any]:
    """The config objects a file holds, read without kinspect: config.json (every member of that
    name) or the HDF5 ``model_config`` and ``training_config``."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [json.loads(zf.read(i)) for i in zf.infolist() if i.filename == "config.json"]
    with h5py.File(path, "r") as f:
        return [json.loads(f.attrs[k]) for k in ("model_config", "training_config") if k in f.attrs]


# -- item: tf.keras's built-in optimizers are registered as "Custom>Adam"... -----------------------


def test_tf_keras_builtin_optimizers_need_no_code(models: Path) -> None:
    """tf_keras wrote these files and loaded each back with no custom_objects (the oracle):
    kinspect must not say they need code, nor predict a refusal."""
    oracle = json.loads((models / "k2_oracle.json").read_text())
    assert len(oracle["files"]) == 38
    custom_named = 0
    for name, optimizer in oracle["files"].items():
        assert name.split("_", 1)[1].startswith(optimizer), (name, optimizer)  # loaded, and right
        text = json.dumps(configs(models / name))
        custom_named += f'"Custom>{optimizer}"' in text
        assert [f for f in findings(models / name, select=["KIN1"])] == [], name
    assert custom_named == 11  # every current optimizer's .h5 names it "Custom>..."


def test_registered_builtins_are_tf_keras_registry(models: Path) -> None:
    """The names kinspect treats as Keras's own are exactly those tf_keras registers for its own
    objects (under "Custom>" since tf.keras 2.11)."""
    assert sorted(KERAS_REGISTERED) == json.loads((models / "k2_oracle.json").read_text())["registered"]


def test_a_custom_optimizer_is_still_custom(models: Path, tmp_path: Path) -> None:
    path = tmp_path / "custom_opt.h5"
    path.write_bytes((models / "current_Adam.h5").read_bytes())
    with h5py.File(path, "r+") as f:
        f.attrs["training_config"] = f.attrs["training_config"].replace("Custom>Adam", "Custom>MyAdam")
    got = findings(path, select=["KIN1"])
    assert [f.rule for f in got] == ["KIN103"] and "Custom>MyAdam" in got[0].message


# -- item: registered custom functions resolve through Keras's registry, importing nothing ---------

# Run in a child: what tf_keras's deserializer (the pre-3.9 resolution: registry, Keras API, Keras
# built-ins, then importlib.import_module(module)) does for each object, with no custom object
# registered. It records every import outside Keras; the object is looked up, never called.
ORACLE = r"""
import importlib, json, sys, warnings
warnings.simplefilter("ignore")
import tf_keras
from tf_keras.src.saving import serialization_lib as sl

real, seen = importlib.import_module, []
class Recorder:
    @staticmethod
    def import_module(name, package=None):
        loaded = name in sys.modules
        module = real(name, package)  # what is not installed raises, and runs nothing
        seen.append((name, loaded))
        return module
sl.importlib = Recorder

out = []
for node in json.load(sys.stdin):
    cls = node["class_name"]
    function = cls == "function"
    name = node.get("config") if function else cls
    seen.clear()
    try:
        obj = sl._retrieve_class_or_fn(name, node.get("registered_name", cls), node["module"],
                                       "function" if function else "class", node, custom_objects={})
    except Exception:
        obj = None
    outside = [(m, loaded) for m, loaded in seen if m.split(".")[0] not in ("keras", "tf_keras")]
    out.append(bool(outside) and (obj is not None or not all(loaded for _, loaded in outside)))
print(json.dumps(out))
"""

PLANTED: list[dict[str, Any]] = [
    # The issue's shape (Keras <= 3.6 wrote the registered name here), and Keras 3.15's.
    {"module": "builtins", "class_name": "function", "config": "my_loss",
     "registered_name": "Custom>my_loss"},
    {"module": "builtins", "class_name": "function", "config": "Custom>my_loss",
     "registered_name": "function"},
    {"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"},
    {"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
    {"module": "builtins", "class_name": "function", "config": "nothing", "registered_name": "eval"},
    {"module": "builtins", "class_name": "eval", "config": {}, "registered_name": None},
    {"module": "os", "class_name": "system", "config": {}, "registered_name": "os>system"},
    {"module": "subprocess", "class_name": "Popen", "config": {}, "registered_name": None},
    {"module": "os", "class_name": "function", "config": "system", "registered_name": "function"},
    {"module": "shutil", "class_name": "function", "config": "rmtree", "registered_name": None},
    {"module": "numpy", "class_name": "function", "config": "load", "registered_name": None},
    {"module": None, "class_name": "MyLayer", "config": {}, "registered_name": "pkg>MyLayer"},
    {"module": None, "class_name": "function", "config": "pkg>my_act", "registered_name": "pkg>my_act"},
]  # fmt: skip


def new_style_nodes(models: Path, zoo_dir: Path) -> Iterator[Node]:
    """Every object with a ``module`` key outside Keras's namespaces, in files Keras wrote, then
    the planted ones. Keras's own (``keras.*``) are another policy: see the NON_MODELING test."""
    files = [models / "registered.keras", models / "registered.h5", zoo_dir / "custom_layer.keras"]
    files += [models / "current_Adam.keras", models / "legacy_SGD.keras"]
    for path in files:
        for node in walk(configs(path)):
            module = node.value.get("module", "keras")
            if isinstance(node.value.get("class_name"), str) and not str(module).startswith(
                ("keras", "tf_keras")
            ):
                yield node
    for value in PLANTED:
        yield Node(value, "planted", "layer")


def test_kin102_fires_exactly_where_keras_imports_code(models: Path, zoo_dir: Path, tmp_path: Path) -> None:
    """The oracle runs where the model's own code (tests/check_custom.py, tests/zoo.py) cannot
    be imported: importing that is what KIN103 warns of; KIN102 is for everything else a loader
    finds installed. A class outside the standard library is taken for the model's own."""
    nodes = [n for n in new_style_nodes(models, zoo_dir) if not n.value["class_name"].startswith("__")]
    from_files = sum(n.layer != "planted" for n in nodes)
    assert from_files >= 6  # the registered loss, metric, activation and layer, twice, and zoo's layer
    verdicts = json.loads(child(ORACLE, stdin=json.dumps([dict(n.value) for n in nodes]), cwd=tmp_path))
    for node, imports in zip(nodes, verdicts, strict=True):
        ref = reference(node)
        assert ref is not None, node.value
        assert (ref.danger is not None) == imports, (node.value, ref)
    assert sum(verdicts) >= 8  # the oracle does say yes: the planted os, subprocess, builtins...


def test_registered_custom_functions_are_kin103_not_kin102(models: Path) -> None:
    for path in (models / "registered.keras", models / "registered.h5"):
        got = findings(path, select=["KIN1"])
        assert {f.rule for f in got} == {"KIN103"}, got
        text = " ".join(f.message for f in got)
        for name in ("Custom>my_loss", "pkg>my_metric", "pkg>my_act", "pkg>MyLayer"):
            assert name in text, (path.name, name, text)


def test_non_modeling_apis_are_keras_own_list() -> None:
    names = child("from keras.src.saving import serialization_lib as s; print(sorted(s.NON_MODELING_APIS))")
    assert sorted(NON_MODELING_APIS) == eval(names)  # a printed list of strings


# -- KIN107: only what safe mode refuses ----------------------------------------------------------

SAFE_LOAD = r"""
import sys, warnings
warnings.simplefilter("ignore")
import keras
from tests import check_custom, zoo  # registers the custom objects, as a user's code would
for path in sys.argv[1:]:
    try:
        keras.saving.load_model(path, safe_mode=True)
        print("loaded")
    except Exception as exc:
        print("refused" if "safe_mode=False" in str(exc) else "failed")
"""


def test_kin107_predicts_what_safe_mode_refuses(models: Path, zoo_dir: Path, check_models: Path) -> None:
    """Keras 3 loads registered custom objects in safe mode, given their code, and refuses
    lambdas. (check_models' lambda_activation.keras is left out: Keras 3.15 loads it in no mode.)"""
    lam = check_models
    paths = [models / "registered.keras", models / "registered.h5", zoo_dir / "custom_layer.keras",
             lam / "clean.keras", lam / "nested_lambda.keras", lam / "nested_lambda.h5",
             lam / "wrapped_lambda.keras", lam / "k2_nested_lambda.h5",
             zoo_dir / "lambda_layer.keras"]  # fmt: skip
    outcomes = child(SAFE_LOAD, *map(str, paths)).split()
    assert outcomes == ["loaded"] * 4 + ["refused"] * 5, outcomes
    for path, outcome in zip(paths, outcomes, strict=True):
        predicted = [f.rule for f in findings(path, select=["KIN107"])]
        assert predicted == (["KIN107"] if outcome == "refused" else []), (path.name, outcome)


# -- item: pickles in archive members, duplicate members, and totals not read ----------------------


class Touch:
    """Unpickling this runs ``touch <marker>``: the proof that a loader executed the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def npz_with_pickle(marker: Path) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{"layers/dense": np.array(Touch(marker), dtype=object)})
    return buf.getvalue()


def hostile_archive(models: Path, path: Path, marker: Path) -> Path:
    """A .keras whose weights are an .npz of pickles that run os.system, and whose config.json
    appears twice (zipfile reads the last, other readers the first)."""
    with zipfile.ZipFile(models / "npz_weights.keras") as src:
        config, metadata = src.read("config.json"), src.read("metadata.json")
    evil = json.loads(config)
    dense = next(layer for layer in evil["config"]["layers"] if layer["class_name"] == "Dense")
    dense["config"]["kernel_initializer"] = {
        "module": "os", "class_name": "system", "config": {"command": f"touch {marker}"},
        "registered_name": None,
    }  # fmt: skip
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as zf:
        zf.writestr("metadata.json", metadata)
        zf.writestr("config.json", json.dumps(evil))  # what other zip readers see
        zf.writestr("model.weights.npz", npz_with_pickle(marker))
        zf.writestr("config.json", config)  # what zipfile, and Keras, read
    return path


def test_hostile_npz_archive_is_two_errors_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], models: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    path = hostile_archive(models, tmp_path / "hostile.keras", marker)
    code = main(["check", "--no-config", str(path)])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == 1, out
    assert f"{path}: KIN102 error d: config names class 'os.system'" in out  # the hidden config
    assert any(
        ln.startswith(f"{path}: KIN106 error archive member 'model.weights.npz' holds") for ln in lines
    )
    assert "'layers/dense.npy' in this zip" in out
    assert f"{path}: KIN108 error archive holds 2 members named 'config.json'" in out
    for command in (["summary"], ["summary", "--format", "json"], ["weights"], ["graph", "--show-shapes"]):
        assert main([*command, str(path)]) == 0, command
    assert main(["report", str(path), "-o", str(tmp_path / "report"), "--no-graph"]) == 0
    capsys.readouterr()
    assert not marker.exists()  # nothing kinspect did ran the payload...
    child(  # ...which is live: numpy with allow_pickle runs it, as Keras 3.0-3.8 did
        "import io, sys, zipfile, numpy as np\n"
        f"member = zipfile.ZipFile({str(path)!r}).read('model.weights.npz')\n"
        "np.load(io.BytesIO(member), allow_pickle=True)['layers/dense']"
    )
    assert marker.exists()


def test_keras_npz_weights_are_pickles_and_totals_unknown(
    capsys: pytest.CaptureFixture[str], models: Path
) -> None:
    """Keras's own weights_format="npz" stores each layer's variables as a pickled dict: an error
    for check, and summary says the totals are unknown rather than 0."""
    path = models / "npz_weights.keras"
    got = findings(path, select=["KIN1"])
    assert [f.rule for f in got] == ["KIN106"] and "object dtype" in got[0].message
    info = load(path)
    assert not info.params_known and "model.weights.npz" in (info.weights_unread or "")
    assert main(["summary", str(path), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [doc[k] for k in ("total_params", "trainable_params", "non_trainable_params")] == [None] * 3
    assert doc["layers"][0]["params"] is None
    assert any("model.weights.npz" in n and "parameter counts unknown" in n for n in doc["notes"])
    assert main(["summary", str(path)]) == 0
    text = capsys.readouterr().out
    assert " Total params: unknown" in text and " Total params: 0" not in text
    assert main(["summary", str(path), "--format", "markdown"]) == 0
    assert "**Total params:** unknown" in capsys.readouterr().out


def test_archive_without_weights_member_has_unknown_totals(models: Path, tmp_path: Path) -> None:
    path = tmp_path / "bare.keras"
    with zipfile.ZipFile(models / "registered.keras") as src, zipfile.ZipFile(path, "w") as dst:
        for name in ("config.json", "metadata.json"):
            dst.writestr(name, src.read(name))
    info = load(path)
    assert not info.params_known and "no weights member" in (info.weights_unread or "")
    over = findings(path, select=["KIN301"], max_params=1)  # a budget it cannot check fails closed
    assert [f.rule for f in over] == ["KIN301"] and "unknown" in over[0].message
    assert load(models / "registered.keras").params_known


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_raw_pickles_of_every_protocol_are_found(models: Path, tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps(Touch(marker), protocol=protocol)
    for member in ("model.weights.npz", "assets/state.bin"):
        path = tmp_path / f"p{protocol}.keras"
        with zipfile.ZipFile(models / "registered.keras") as src, zipfile.ZipFile(path, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info))
            dst.writestr(member, payload)
        got = [f for f in findings(path, select=["KIN106"]) if member in f.message]
        assert [f.rule for f in got] == ["KIN106"] and "pickle" in got[0].message, (member, got)
    assert not marker.exists()


def _npy_bytes(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version, allow_pickle=True)
    return buf.getvalue()


@pytest.mark.parametrize("version", [None, (1, 0), (2, 0), (3, 0)])
def test_npy_headers_are_read_as_numpy_reads_them(version: tuple[int, int] | None) -> None:
    pickled = [np.array([{"a": 1}, None], dtype=object), np.zeros(2, dtype=[("x", "<f4"), ("o", "O")])]
    plain = [np.zeros((2, 3), "float32"), np.array(["a", "b"]), np.zeros(2, dtype=[("OUT", "<f4")])]
    for array in pickled + plain:
        data = _npy_bytes(array, version)
        found = _npy(data[:PREFIX], io.BytesIO(data[PREFIX:]))
        assert (found is not None) == array.dtype.hasobject, (array.dtype, found)


def test_npy_header_past_numpys_default_limit_is_still_read() -> None:
    """numpy reads headers past 10,000 bytes when allow_pickle is on: so does the check."""
    data = bytearray(_npy_bytes(np.array([None], dtype=object)))
    header_len = int.from_bytes(data[8:10], "little")
    pad = 20_000
    body = bytes(data[10 : 10 + header_len]).rstrip(b"\n") + b" " * pad + b"\n"
    data = b"\x93NUMPY\x02\x00" + len(body).to_bytes(4, "little") + body + bytes(data[10 + header_len :])
    assert np.load(io.BytesIO(data), allow_pickle=True)[0] is None  # numpy reads it
    assert _npy(data[:PREFIX], io.BytesIO(data[PREFIX:])) is not None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=JSON)
@example(value=float("inf"))  # "Infinity…" opens with INT's "I" and never reaches a newline
@example(value=[float("nan"), 1])
def test_json_is_not_taken_for_a_pickle(value: Any) -> None:
    data = json.dumps(value).encode()
    assert _raw(data, complete=True) is None, data
    assert _raw(data * 3000, complete=False) is None  # a long member: its prefix alone


VOCABULARY = ["the", "of", "and", "to", "in", "is", "was", "for", "that", "on", "with", "as", "by", "at"]
VOCABULARY += ["from", "his", "it", "an", "were", "are", "which", "cat", "dog", "cow", "pig", "bird"]


@pytest.mark.parametrize("order", [sorted, lambda words: words, lambda words: sorted(words, key=len)])
def test_word_lists_are_not_taken_for_pickles(order: Any) -> None:
    import builtins
    import keyword

    words = order([*VOCABULARY, *keyword.kwlist, *dir(builtins), *(w.capitalize() for w in VOCABULARY)])
    for sep in ("\n", "\t", ",", " "):
        data = sep.join(words).encode()
        assert _raw(data, complete=True) is None and _raw(data * 200, complete=False) is None


@settings(max_examples=200, deadline=None)
@given(value=JSON, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL), reduce=st.booleans())
def test_every_pickle_is_found(value: Any, protocol: int, reduce: bool) -> None:
    data = pickle.dumps(Touch(Path("/nonexistent/never")) if reduce else value, protocol=protocol)
    assert _raw(data, complete=True) is not None
    if len(data) > 1024:
        assert _raw(data[:1024], complete=False) is not None


def test_ordinary_members_are_not_pickles(models: Path, tmp_path: Path) -> None:
    path = tmp_path / "assets.keras"
    with zipfile.ZipFile(models / "registered.keras") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("assets/vocab.txt", "cat\ndog\nbird\nthe\nof\n(\nt.\n")
        dst.writestr("assets/table.npz", io.BytesIO(_npz_plain()).getvalue())
    assert [f for f in findings(path, select=["KIN106"])] == []


def _npz_plain() -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.zeros(100_000), b=np.arange(5))
    return buf.getvalue()


def test_duplicate_member_rule_and_note(models: Path, tmp_path: Path) -> None:
    path = tmp_path / "dup.keras"
    with zipfile.ZipFile(models / "registered.keras") as src:
        members = [(i, src.read(i)) for i in src.infolist()]
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as dst:
        for info, data in members + [m for m in members if m[0].filename == "metadata.json"]:
            dst.writestr(info, data)
    got = findings(path, select=["KIN108"])
    assert [(f.rule, f.severity.value) for f in got] == [("KIN108", "error")] and "metadata.json" in got[
        0
    ].message
    assert any("several members named 'metadata.json'" in n for n in load(path).notes)
    assert findings(models / "registered.keras", select=["KIN108"]) == []


def test_new_rule_is_in_the_registry() -> None:
    assert RULES["KIN108"].name == "duplicate-member"
