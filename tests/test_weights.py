"""``kinspect weights``: statistics against numpy on Keras's own arrays, histograms, every
diagnostic planted and clean, the CLI (golden files, errors) and the process boundary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kinspect.cli import cli, main
from tests.conftest import TESTS, check_golden
from tests.keras_build import built

ROOT = TESTS.parent
SAMPLE = "samples/mnist_cnn.keras"


@pytest.fixture(scope="session")
def planted() -> Path:
    """Models with planted defects (``tests/build_weights.py``)."""
    return built("build_weights.py")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def weights_json(path: Path | str, *extra: str) -> dict[str, Any]:
    code, out, err = run("weights", str(path), "--format", "json", *extra)
    assert (code, err) == (0, ""), err
    return json.loads(out)


def keras_arrays(path: Path, keras2: bool = False) -> list[np.ndarray]:
    """The oracle: ``get_weights()`` of the model as Keras loads it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if keras2:
        import tf_keras

        return [np.asarray(w) for w in tf_keras.models.load_model(path, compile=False).get_weights()]
    import keras

    model = keras.saving.load_model(path, compile=False, safe_mode=False)
    return [np.asarray(keras.ops.convert_to_numpy(v.value)) for v in model.weights]


def numpy_stats(a: np.ndarray) -> dict[str, Any]:
    x = np.asarray(a, dtype=np.float64).reshape(-1)
    finite = x[np.isfinite(x)]
    return {
        "size": x.size, "min": finite.min(), "max": finite.max(), "mean": finite.mean(), "std": finite.std(),
        "norm": float(np.sqrt(np.sum(finite**2))), "zeros": int(np.count_nonzero(x == 0)),
        "nan": int(np.isnan(x).sum()), "inf": int(np.isinf(x).sum()),
    }  # fmt: skip


def assert_stats_match(tensors: list[dict[str, Any]], arrays: list[np.ndarray]) -> None:
    """Every tensor kinspect read equals numpy's statistics of one Keras array of that shape.

    Arrays are matched by shape and exact min/max (random weights make that unambiguous;
    identical arrays such as fresh BatchNorm statistics are interchangeable).
    """
    oracle = [(tuple(a.shape), numpy_stats(a)) for a in arrays if a.size]
    assert len([t for t in tensors if t["size"]]) == len(oracle)
    for t in tensors:
        if not t["size"]:
            continue
        match = [o for shape, o in oracle if shape == tuple(t["shape"]) and o["min"] == t["min"]
                 and o["max"] == t["max"]]  # fmt: skip
        assert match, f"no Keras array like {t['path']} {t['shape']} [{t['min']}, {t['max']}]"
        want = match[0]
        scale = max(abs(want["min"]), abs(want["max"]), 1e-30)
        for key in ("mean", "std"):
            assert t[key] == pytest.approx(want[key], rel=1e-9, abs=1e-12 * scale), (t["path"], key)
        assert t["norm"] == pytest.approx(want["norm"], rel=1e-9), t["path"]
        for key in ("size", "zeros", "nan", "inf"):
            assert t[key] == want[key], (t["path"], key)


ZOO = ["mnist_cnn", "nested", "rnn_stack", "attention", "mixed_precision", "compiled_trained", "MobileNetV2"]


@pytest.mark.parametrize("name", ZOO)
def test_statistics_equal_numpy_on_keras_arrays(zoo_dir: Path, name: str) -> None:
    arrays = keras_arrays(zoo_dir / f"{name}.keras")
    for suffix in (".keras", ".h5", ".weights.h5"):
        assert_stats_match(weights_json(zoo_dir / f"{name}{suffix}")["tensors"], arrays)


def test_sharded_weights(zoo_dir: Path) -> None:
    arrays = keras_arrays(zoo_dir / "mnist_cnn.keras")
    assert_stats_match(weights_json(zoo_dir / "mnist_cnn.sharded.weights.json")["tensors"], arrays)


@pytest.mark.parametrize("name", ["k2_cnn", "k2_rnn"])
def test_keras2_files(zoo_dir: Path, name: str) -> None:
    arrays = keras_arrays(zoo_dir / f"{name}.h5", keras2=True)
    for suffix in (".h5", ".weights.hdf5"):
        assert_stats_match(weights_json(zoo_dir / f"{name}{suffix}")["tensors"], arrays)


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_float16_bfloat16(planted: Path, suffix: str) -> None:
    doc = weights_json(planted / f"dtypes{suffix}")
    assert {t["dtype"] for t in doc["tensors"]} == {"bfloat16", "float16", "float32"}
    assert_stats_match(doc["tensors"], keras_arrays(planted / "dtypes.keras"))


def test_int8(planted: Path) -> None:
    doc = weights_json(planted / "int8.keras")
    assert "int8" in {t["dtype"] for t in doc["tensors"]}
    assert_stats_match(doc["tensors"], keras_arrays(planted / "int8.keras"))


def test_chunked_compressed_datasets_fall_back_to_h5py(planted: Path, tmp_path: Path) -> None:
    """Datasets that are not contiguous are read with h5py hyperslabs, in bounded slices."""
    import h5py

    from kinspect.loaders import arrays

    target = tmp_path / "chunked.weights.h5"
    with h5py.File(planted / "trained.weights.h5", "r") as src, h5py.File(target, "w") as dst:

        def copy(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                chunks = tuple(max(1, d // 3) for d in data.shape) or None
                dst.create_dataset(name, data=data, chunks=chunks, compression="gzip" if chunks else None)

        src.visititems(copy)
    plain = {t["path"]: t for t in weights_json(planted / "trained.weights.h5", "--histograms")["tensors"]}
    old = arrays.SLICE_BYTES
    arrays.SLICE_BYTES = 256  # many slices per tensor, rows split too
    try:
        chunked = weights_json(target, "--histograms")["tensors"]
    finally:
        arrays.SLICE_BYTES = old
    for t in chunked:
        ref = plain[t["path"]]
        for key in ("min", "max", "zeros", "nan", "inf", "histogram"):
            assert t[key] == ref[key], key
        for key in ("mean", "std", "norm"):
            assert t[key] == pytest.approx(ref[key], rel=1e-9, abs=1e-15)


def test_small_slices_give_the_same_statistics(planted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kinspect.loaders import arrays

    whole = weights_json(planted / "nan_inf.keras", "--histograms")
    monkeypatch.setattr(arrays, "SLICE_BYTES", 100)
    sliced = weights_json(planted / "nan_inf.keras", "--histograms")
    for a, b in zip(whole["tensors"], sliced["tensors"], strict=True):
        assert a["histogram"] == b["histogram"]
        for key in ("min", "max", "zeros", "nan", "inf"):
            assert a[key] == b[key]
        for key in ("mean", "std", "norm"):
            assert a[key] == pytest.approx(b[key], rel=1e-9, abs=1e-15)
    assert whole["findings"] == sliced["findings"]


def test_histograms_sum_to_size_and_match_numpy(zoo_dir: Path) -> None:
    doc = weights_json(zoo_dir / "mnist_cnn.keras", "--histograms", "--bins", "7")
    arrays = keras_arrays(zoo_dir / "mnist_cnn.keras")
    for t in doc["tensors"]:
        hist = t["histogram"]
        assert len(hist["counts"]) == 7 and len(hist["edges"]) == 8
        assert sum(hist["counts"]) == t["size"] - t["nan"] - t["inf"]
        a = next(a for a in arrays if tuple(a.shape) == tuple(t["shape"]) and float(a.min()) == t["min"])
        counts, edges = np.histogram(a.astype(np.float64), bins=7, range=(t["min"], t["max"]))
        assert hist["counts"] == counts.tolist()
        assert hist["edges"] == pytest.approx(edges.tolist())


def rules(doc: dict[str, Any]) -> dict[str, list[tuple[str | None, str | None]]]:
    found: dict[str, list[tuple[str | None, str | None]]] = {}
    for f in doc["findings"]:
        found.setdefault(f["rule"], []).append((f["layer"], f["tensor"]))
    return found


def test_nan_inf_planted(planted: Path) -> None:
    for suffix in (".keras", ".h5", ".weights.h5"):
        doc = weights_json(planted / f"nan_inf{suffix}")
        assert len(rules(doc)["KIN201"]) == 2, suffix
        hidden = next(t for t in doc["tensors"] if t["nan"])  # weights-only files name layers by path
        assert (hidden["shape"], hidden["nan"]) == ([32, 64], len(range(0, 32 * 64, 97)))
        out_bias = next(t for t in doc["tensors"] if t["inf"])
        assert (out_bias["inf"], out_bias["min"], out_bias["max"]) == (2, 0.0, 1.0)
    assert_stats_match(
        weights_json(planted / "nan_inf.keras")["tensors"], keras_arrays(planted / "nan_inf.keras")
    )


def test_dead_units_planted(planted: Path) -> None:
    doc = weights_json(planted / "dead_units.keras")
    assert sorted(rules(doc)["KIN202"]) == [("conv_2", "kernel"), ("hidden", "kernel")]
    hidden = next(f for f in doc["findings"] if f["rule"] == "KIN202" and f["layer"] == "hidden")
    assert "3 of 64 units" in hidden["evidence"] and "2, 5, 40" in hidden["evidence"]


def test_batchnorm_variance_planted(planted: Path) -> None:
    doc = weights_json(planted / "bn_variance.keras")
    found = [f for f in doc["findings"] if f["rule"] == "KIN203"]
    assert [(f["layer"], f["severity"]) for f in found] == [("bn", "error")]
    assert "1 negative value" in found[0]["evidence"]


def test_batchnorm_statistics_that_never_moved(planted: Path) -> None:
    doc = weights_json(planted / "bn_never_moved.keras")
    assert rules(doc)["KIN203"] == [("bn", "moving_mean/moving_variance")]


def test_exploding_and_float16_overflow_planted(planted: Path) -> None:
    found = rules(weights_json(planted / "exploding.keras"))
    assert found["KIN205"] == [("hidden", "kernel")]
    assert found["KIN206"] == [("hidden", "kernel")]


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_trained_model_is_quiet(planted: Path, suffix: str) -> None:
    doc = weights_json(planted / f"trained{suffix}")
    assert set(rules(doc)) <= {"KIN207"}, doc["findings"]


def test_optimizer_state(planted: Path) -> None:
    doc = weights_json(planted / "trained.keras", "--optimizer")
    assert doc["optimizer"]["iterations"] == 3 * 256 // 32
    assert doc["optimizer"]["learning_rate"] == pytest.approx(1e-3)
    assert any(t["kind"] == "optimizer" for t in doc["tensors"])
    assert "KIN207" in rules(doc)
    h5 = weights_json(planted / "trained.h5")
    assert h5["optimizer"]["iterations"] == doc["optimizer"]["iterations"]


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_untrained_fires_on_fresh_models(planted: Path, suffix: str) -> None:
    found = rules(weights_json(planted / f"untrained{suffix}"))
    assert len({layer for layer, _ in found["KIN204"]}) >= 2  # weights-only: layers by path, no optimizer
    if suffix != ".weights.h5":
        assert {layer for layer, _ in found["KIN204"]} >= {"conv", "conv_2", "hidden"}


@pytest.mark.parametrize(
    "name", ["MobileNetV2", "ResNet50", "EfficientNetB0", "NASNetMobile", "k2_MobileNetV2"]
)
def test_applications_have_no_false_positives(zoo_dir: Path, name: str) -> None:
    """weights=None applications: untrained (KIN204) fires, NaN/dead-unit/BatchNorm rules do not."""
    for path in sorted(zoo_dir.glob(f"{name}.*")):
        if path.suffix == ".json" and "oracle" in path.name:
            continue
        found = rules(weights_json(path))
        assert not {"KIN201", "KIN202", "KIN203", "KIN205", "KIN206"} & set(found), (path.name, found)
        if path.name.endswith((".keras", ".h5")) and "weights" not in path.name:
            assert len(found.get("KIN204", [])) > 10, path.name


def test_filters_sort_and_top() -> None:
    doc = weights_json(SAMPLE, "--sort", "norm", "--top", "3")
    norms = [t["norm"] for t in doc["tensors"]]
    assert len(norms) == 3 and norms == sorted(norms, reverse=True)
    assert doc["total_tensors"] == 10
    doc = weights_json(SAMPLE, "--layer", "^conv")
    assert {t["layer"] for t in doc["tensors"]} == {"conv2d", "conv2d_1"}
    doc = weights_json(SAMPLE, "--sort", "size")
    assert [t["size"] for t in doc["tensors"]] == sorted((t["size"] for t in doc["tensors"]), reverse=True)


def test_json_contract() -> None:
    doc = weights_json(SAMPLE, "--histograms")
    assert doc["schema"] == "kinspect/weights@1"
    keys = {"layer", "name", "path", "shape", "dtype", "trainable", "size", "min", "max", "mean", "std",
            "norm", "nan", "inf", "zeros", "histogram"}  # fmt: skip
    for t in doc["tensors"]:
        assert keys <= t.keys()
    readme = (ROOT / "README.md").read_text()
    for key in [*doc, *doc["tensors"][0], *doc["optimizer"], *doc["findings"][0]]:
        assert f"`{key}`" in readme, f"JSON key {key} is not documented in README.md"
    for rule in ("KIN201", "KIN202", "KIN203", "KIN204", "KIN205", "KIN206", "KIN207"):
        assert rule in readme


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("mnist_cnn.weights.txt", ["weights", SAMPLE]),
        ("mnist_cnn.weights.hist.txt", ["weights", SAMPLE, "--histograms", "--bins", "12", "--optimizer"]),
        ("mnist_cnn.weights.json", ["weights", SAMPLE, "--format", "json", "--histograms", "--bins", "4"]),
        ("mnist_cnn.h5.weights.txt", ["weights", "samples/mnist_cnn.h5", "--sort", "norm", "--top", "5"]),
        ("mnist_cnn.weights-only.weights.txt", ["weights", "samples/mnist_cnn.weights.h5"]),
        (
            "text_classifier.weights.txt",
            ["weights", "samples/text_classifier.keras", "--layer", "bidirectional"],
        ),
    ],
)
def test_golden_output(
    name: str, args: list[str], update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run(*args)
    assert (code, err) == (0, "")
    check_golden(name, out, update_golden)


@pytest.mark.parametrize(
    ("args", "code", "pattern"),
    [
        (["weights", "no/such/file.keras"], 3, r"no/such/file.keras: cannot read file"),
        (["weights", "README.md"], 3, r"README.md: not a Keras model file"),
        (["weights", SAMPLE, "--layer", "("], 2, r"invalid regular expression"),
        (["weights", SAMPLE, "--layer", "zzz"], 2, r"matches no layer"),
        (["weights", SAMPLE, "--sort", "color"], 2, r"Invalid value for '--sort'"),
        (["weights", SAMPLE, "--bins", "0"], 2, r"Invalid value for '--bins'"),
        (["weights", SAMPLE, "-o", SAMPLE], 2, r"is the input file"),
    ],
)
def test_errors(args: list[str], code: int, pattern: str, capsys: pytest.CaptureFixture[str],
                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.chdir(ROOT)
    assert main(args) == code
    err = capsys.readouterr().err.strip()
    assert re.search(pattern, err), err
    if code == 3:
        assert len(err.splitlines()) == 1 and "Traceback" not in err


def test_truncated_file_is_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = (ROOT / "samples/mnist_cnn.h5").read_bytes()
    bad = tmp_path / "cut.h5"
    bad.write_bytes(data[: len(data) * 2 // 3])
    assert main(["weights", str(bad)]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err


def test_parent_never_imports_numpy_h5py_or_keras() -> None:
    code = (
        "import sys; from kinspect.cli import main; "
        f"rc = main(['weights', {SAMPLE!r}, '--format', 'json', '--histograms']); "
        "heavy = ('numpy', 'h5py', 'keras', 'tensorflow', 'tf_keras'); "
        "bad = sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in heavy}); "
        "print(rc, bad, file=sys.stderr)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.stderr.strip().splitlines()[-1] == "0 []"


def test_progress_bar_only_on_a_terminal() -> None:
    from kinspect.progress import ByteProgress

    assert not ByteProgress.wanted(10)  # small work never shows a bar
    bar = ByteProgress("x")
    bar(5, 100)  # too early: nothing is drawn
    assert bar.bar is None


# ---------------------------------------------------------------- the reader's arithmetic, against numpy


def read_h5(tmp_path: Path, arrays: dict[str, np.ndarray], bins: int, attrs: dict[str, str] | None = None):
    """kinspect's reader (in this process) on an HDF5 file holding ``arrays``."""
    import h5py

    from kinspect.loaders.arrays import compute

    path = tmp_path / "values.h5"
    with h5py.File(path, "w") as f:
        for name, a in arrays.items():
            ds = f.create_dataset(name, data=a)
            if attrs and name in attrs:
                ds.attrs["dtype"] = attrs[name]
    return compute(str(path), [(str(path), None)], [[n, False, False] for n in arrays], bins, None)


def assert_like_numpy(got: dict[str, Any], values: np.ndarray, bins: int) -> None:
    """Statistics as numpy computes them in float64; the histogram equal to ``np.histogram``'s, both
    with ``range=(min, max)`` and on the edges kinspect reports (numpy's searchsorted path)."""
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    finite = x[np.isfinite(x)]
    assert (got["size"], got["nan"], got["inf"]) == (x.size, int(np.isnan(x).sum()), int(np.isinf(x).sum()))
    assert got["zeros"] == int(np.count_nonzero(x == 0))
    assert (got["min"], got["max"]) == (finite.min(), finite.max())
    scale = max(abs(finite.min()), abs(finite.max()), 1e-300)
    assert got["mean"] == pytest.approx(finite.mean(), rel=1e-12, abs=1e-15 * scale)
    assert got["std"] == pytest.approx(finite.std(), rel=1e-12, abs=1e-15 * scale)
    assert got["norm"] == pytest.approx(np.sqrt(np.sum(finite**2)), rel=1e-12)
    hist = got["histogram"]
    lo, hi = finite.min(), finite.max()
    if lo != hi or abs(lo) < 1e15:  # numpy divides by zero when the +-0.5 of a constant is lost
        counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
        assert hist["edges"] == edges.tolist()
        assert hist["counts"] == counts.tolist()
    counts, _ = np.histogram(finite, bins=np.array(hist["edges"]))
    assert hist["counts"] == counts.tolist()
    assert sum(hist["counts"]) == finite.size


def awkward_arrays() -> dict[str, np.ndarray]:
    """Values that sit on bin edges, straddle zero, hold NaN/Inf, are constant, or are 16 bits."""
    rng = np.random.default_rng(15)
    normal = rng.standard_normal(5000).astype(np.float32)
    with_bad = normal.copy()
    with_bad[::97] = np.nan
    with_bad[5::311] = np.inf
    with_bad[7::401] = -np.inf
    symmetric = np.concatenate([normal, [-3.0, 3.0, 0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    return {
        "normal": normal,
        "nan_inf": with_bad,
        "all_bad": np.array([np.nan, np.inf, -np.inf], np.float32),
        "symmetric": symmetric,  # an edge exactly at 0.0, with zeros and tiny values around it
        "on_edges": np.linspace(-1, 1, 2001, dtype=np.float32),
        "integers_as_floats": np.arange(-10, 11, dtype=np.float32).repeat(3),
        "third": (np.arange(-300, 301, dtype=np.float32) / np.float32(900)),
        "tiny_range": np.float32(1) + np.arange(50, dtype=np.float32) * np.finfo(np.float32).eps,
        "constant": np.full((7, 5), 0.5, np.float32),
        "zeros": np.zeros((3, 4), np.float32),
        "constant_huge": np.full(9, 1e20, np.float32),
        "float16": (rng.standard_normal((40, 30)) * 100).astype(np.float16),
        "float64": rng.standard_normal(3000) * 1e-3 + 5,
        "float64_edges": np.linspace(-2, 2, 401),
        "int8": rng.integers(-128, 128, 999, dtype=np.int8),
        "int64": rng.integers(-5, 6, 100, dtype=np.int64),
        "bool": rng.integers(0, 2, 77).astype(bool),
        "scalar": np.float32(2.5),
    }


@pytest.mark.parametrize("bins", [1, 2, 7, 20, 24, 255, 256, 1000])  # 255: the last counted by bytes
def test_reader_statistics_and_histograms_equal_numpy(tmp_path: Path, bins: int) -> None:
    arrays = awkward_arrays()
    got = read_h5(tmp_path, arrays, bins)
    for name, values in arrays.items():
        if name == "all_bad":
            assert got[name]["min"] is None and got[name]["histogram"] == {"edges": [], "counts": []}
            continue
        assert_like_numpy(got[name], values, bins)


def test_reader_bfloat16(tmp_path: Path) -> None:
    """bfloat16 is the top 16 bits of a float32: stored as such (with Keras's dtype attribute),
    its statistics are those of the float32 values those bits make."""
    rng = np.random.default_rng(16)
    x = (rng.standard_normal((64, 33)) * 3).astype(np.float32)
    x[0, :5] = [0.0, -0.0, np.inf, np.nan, 65504.0 * 4]
    bits = (x.view(np.uint32) >> 16).astype(np.uint16)
    got = read_h5(tmp_path, {"bf16": bits}, 20, {"bf16": "bfloat16"})["bf16"]
    assert got["dtype"] == "bfloat16"
    assert_like_numpy(got, (bits.astype(np.uint32) << 16).view(np.float32), 20)


@pytest.mark.parametrize("cache", [True, False])
def test_reader_tensor_bigger_than_a_slice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: bool
) -> None:
    """A tensor of many slices: kept for the histogram (one read) or, past CACHE_BYTES, read twice;
    both as numpy says, NaN/Inf and an exact zero edge included."""
    from kinspect.loaders import arrays as reader

    monkeypatch.setattr(reader, "SLICE_BYTES", 1 << 16)
    if not cache:
        monkeypatch.setattr(reader, "CACHE_BYTES", 1 << 10)
    rng = np.random.default_rng(17)
    big = rng.standard_normal((700, 301)).astype(np.float32)
    big[3, :] = 0.0
    big[10, 10] = np.nan
    big[600, 7] = -np.inf
    big[0, 0], big[-1, -1] = -4.0, 4.0  # symmetric range: the middle edge is 0.0
    wide = rng.standard_normal((3, 70_000)).astype(np.float32)  # rows longer than a slice
    got = read_h5(tmp_path, {"big": big, "wide": wide}, 24)
    assert_like_numpy(got["big"], big, 24)
    assert_like_numpy(got["wide"], wide, 24)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 256), st.lists(st.integers(0, 255), max_size=600))
def test_counting_bytes_in_pairs_equals_bincount(k: int, values: list[int]) -> None:
    """The histogram's byte counter (two bytes per step) counts as ``np.bincount`` does, odd
    lengths and values at both ends included."""
    from kinspect.loaders.arrays import _count_bytes

    data = np.array([v % k for v in values], dtype=np.uint8)
    assert _count_bytes(data, k).tolist() == np.bincount(data, minlength=k).tolist()


def test_edges_within_rounding_of_stored_values_are_counted_directly() -> None:
    """The estimate cannot tell 0.0 from the float32 just below it: such edges are compared."""
    from kinspect.loaders.arrays import _Hist, _Work

    assert _Hist(-0.25, 0.25, 20, "f32", _Work()).direct == [10]
    assert _Hist(-0.25, 0.3, 20, "f32", _Work()).direct == []


def test_prestarted_readers_read_as_fresh_ones() -> None:
    """Children forked before the model is parsed, given their tensors as plain JSON, report what
    children forked afterwards do (the HDF5 archive here; the checkpoint tests cover bundles)."""
    from kinspect import load
    from kinspect.analyzers.weights import measure
    from kinspect.loaders.readers import Prestarted, in_children

    info = load(SAMPLE)
    with Prestarted(SAMPLE, 2) as early:
        prestarted = measure(info, early.reader(info), bins=9, optimizer=True)()
    fresh = measure(info, in_children(info, 2), bins=9, optimizer=True)()
    assert prestarted.rows == fresh.rows and prestarted.rows[0].histogram is not None


@pytest.mark.parametrize("target", ["README.md", "samples/no_such.keras", "samples/mnist_cnn.keras"])
def test_prestarted_readers_never_outlive_the_call(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused file, or a call that reads nothing, stops the children started for it."""
    from kinspect import api
    from kinspect.errors import InputError

    monkeypatch.chdir(ROOT)
    before = child_pids()  # other tests in this worker may keep children of their own (check's pool)
    if target.endswith("mnist_cnn.keras"):
        api.weights(target, layer="^flatten$|^conv2d$", top=1)
    else:
        with pytest.raises(InputError):
            api.weights(target)
    assert child_pids() <= before  # no child of this call left, running or unwaited (a zombie is listed too)


def child_pids() -> set[int]:
    """This process's children, running or zombie, from /proc (every thread's list)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


TF_DTYPES = {"float32": 1, "float64": 2, "float16": 19}  # tensorflow/core/framework/types.proto


def crafted_checkpoint(tmp_path: Path, tensors: dict[str, np.ndarray], big_endian: bool) -> Path:
    """A one-shard tensor bundle holding ``tensors`` (tests/tfio/craft.py writes the index)."""
    from tests.tfio import craft

    prefix = tmp_path / "ckpt"
    shard, entries = b"", {}
    for key, a in tensors.items():
        data = a.astype(a.dtype.newbyteorder(">" if big_endian else "<")).tobytes()
        entries[key.encode()] = craft.entry(TF_DTYPES[a.dtype.name], a.shape, 0, len(shard), len(data))
        shard += data
    Path(f"{prefix}.data-00000-of-00001").write_bytes(shard)
    items = [(b"", craft.header(endianness=int(big_endian))), *sorted(entries.items())]
    craft.write_table(Path(f"{prefix}.index"), items)
    return prefix


@pytest.mark.parametrize("big_endian", [False, True])
def test_reader_on_a_checkpoint_as_prestarted_children_get_it(tmp_path: Path, big_endian: bool) -> None:
    """Checkpoint tensors in either byte order, described as plain JSON the way a prestarted child
    receives them: statistics and histograms as numpy's."""
    from kinspect.loaders.arrays import compute, from_plain, plain_sources
    from kinspect.loaders.base import BundleSource
    from kinspect.tfio.bundle import read_bundle

    rng = np.random.default_rng(18)
    tensors = {
        "a/kernel": rng.standard_normal((300, 40)).astype(np.float32),
        "b/half": (rng.standard_normal(999) * 9).astype(np.float16),
        "c/double": np.concatenate([rng.standard_normal(500), [np.nan, -np.inf]]),
        "d/skipped": np.ones(3, np.float32),
    }
    prefix = crafted_checkpoint(tmp_path, tensors, big_endian)
    wanted = [k for k in tensors if k != "d/skipped"]
    plain = json.loads(json.dumps(plain_sources([BundleSource(read_bundle(str(prefix)))], wanted)))
    got = compute(str(prefix), from_plain(plain), [[k, False, False] for k in wanted], 11, None)
    assert sorted(got) == sorted(wanted)
    for key in wanted:
        assert_like_numpy(got[key], tensors[key], 11)


def test_a_kept_checkpoint_index_is_read_again_once_its_files_change(tmp_path: Path) -> None:
    """The bundle the load read serves the weight reader only while its files are unchanged."""
    from kinspect.errors import InputError
    from kinspect.loaders.tf_objects import open_bundle

    prefix = str(crafted_checkpoint(tmp_path, {"k": np.arange(8, dtype=np.float32)}, False))
    first = open_bundle(prefix, prefix)
    assert open_bundle(prefix, prefix) is first
    shard = Path(f"{prefix}.data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:16])  # shorter than the index says
    with pytest.raises(InputError, match="ends at byte 32"):
        open_bundle(prefix, prefix)
