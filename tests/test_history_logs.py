"""kinspect history on hand-made logs: CSVLogger quirks, History JSON forms, TF1-style event
files written by a test-side encoder, and bad input (one line per problem, exit 3 only when
nothing could be read, never a traceback, bounded time)."""

from __future__ import annotations

import json
import math
import os
import pickle
import time
from pathlib import Path

import pytest

import kinspect
from kinspect.analyzers.training import RULES, Mode, auto_mode, epoch_in_name
from kinspect.cli import main
from tests import eventcraft

ROOT = Path(__file__).parent.parent


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["history", *args])
    out, err = capsys.readouterr()
    return code, out, err


def csv_file(tmp_path: Path, text: str, name: str = "training.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---- CSVLogger ----------------------------------------------------------------------------------


def test_csv_na_cells_and_lr_column(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "epoch,loss,lr,val_loss\n0,1.5,0.01,NA\n1,1.25,0.01,1.0\n2,1.0,0.005,NA\n")
    a = kinspect.history(path).latest
    assert a.run.metrics["loss"] == (1.5, 1.25, 1.0)
    assert a.run.metrics["val_loss"] == (None, 1.0, None)
    assert a.run.metrics["learning_rate"] == (0.01, 0.01, 0.005)  # tf.keras's lr, named as Keras 3
    doc = kinspect.history(path).to_dict()
    assert doc["metrics"]["val_loss"] == [None, 1.0, None]
    assert [e for e in doc["events"] if e["kind"] == "lr_drop"] == [
        {"kind": "lr_drop", "epoch": 3, "from": 0.01, "to": 0.005}
    ]


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_csv_custom_separator(tmp_path: Path, sep: str) -> None:
    rows = [["epoch", "accuracy", "loss"], ["0", "0.5", "0.75"], ["1", "0.625", "0.5"]]
    path = csv_file(tmp_path, "".join(sep.join(r) + "\n" for r in rows))
    metrics = kinspect.history(path).latest.run.metrics
    assert metrics == {"accuracy": (0.5, 0.625), "loss": (0.75, 0.5)}


def test_csv_append_holds_two_runs(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "epoch,loss\n0,3.0\n1,2.0\n2,1.0\n0,5.0\n1,4.0\n")
    result = kinspect.history(path)
    assert [r.run.metrics["loss"] for r in result.runs] == [(3.0, 2.0, 1.0), (5.0, 4.0)]
    doc = result.to_dict()
    assert doc["epochs"] == 2 and len(doc["runs"]) == 2  # the top level is the latest run
    assert [s["part"] for r in doc["runs"] for s in r["sources"]] == [1, 2]


def test_csv_nonfinite_values(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "epoch,loss,val_loss\n0,2.0,2.5\n1,nan,inf\n")
    result = kinspect.history(path)
    doc = json.loads(result.to_json())  # strict JSON: non-finite values as strings
    assert doc["metrics"]["loss"] == [2.0, "nan"] and doc["metrics"]["val_loss"] == [2.5, "inf"]
    assert {"kind": "nonfinite", "epoch": 2, "metric": "loss"} in doc["events"]
    assert [f["rule"] for f in doc["findings"]] == ["KIN501"]


# ---- History JSON ---------------------------------------------------------------------------------


def test_json_list_and_pandas_columnar_forms_agree(tmp_path: Path) -> None:
    history = {"loss": [1.0, 0.5, 0.25], "val_loss": [1.5, 1.0, 1.25], "learning_rate": [0.1, 0.1, 0.01]}
    plain = tmp_path / "history.json"
    plain.write_text(json.dumps(history))
    columnar = tmp_path / "columnar.json"  # what pandas.DataFrame(history).to_json() writes
    columnar.write_text(json.dumps({k: {str(i): v for i, v in enumerate(vs)} for k, vs in history.items()}))
    for path in (plain, columnar):
        a = kinspect.history(path).latest
        assert {k: list(v) for k, v in a.run.metrics.items()} == history
        assert (a.best.epoch, a.best.value) == (2, 1.0)


def test_pickled_history_is_refused_with_the_json_how_to(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    path = tmp_path / "history.pkl"
    # A pickle that would create a file if it were ever unpickled.
    path.write_bytes(pickle.dumps({"loss": [1.0]}, protocol=4)[:-1] + b"")
    payload = b"cbuiltins\nopen\n(" + repr(str(marker)).encode() + b"\nVw\ntR."
    path.write_bytes(b"\x80\x04" + payload)
    code, out, err = run(capsys, str(path))
    assert code == 3 and out == "" and not marker.exists()
    assert "never unpickled" in err and "json.dump(history.history" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ---- TF1-style event files (simple_value, HistogramProto) -------------------------------------------


def test_tf1_scalars_and_histograms(tmp_path: Path) -> None:
    limits = [-1.0, -0.5, 0.0, 0.5, 1.0, 1e12]
    weights = [[-0.5, 0.25, 0.5, 0.75], [-0.25, 0.0, 0.25, 0.5], [-1.0, 0.0, 0.0, 1.0]]
    events = []
    for step, w in enumerate(weights):
        events.append(eventcraft.event(step, eventcraft.simple("loss", 2.0 - step / 2), wall=100.0 + step))
        events.append(
            eventcraft.event(step, eventcraft.histo_of("dense/kernel", w, limits), wall=100.0 + step)
        )
    eventcraft.write_run(str(tmp_path / "events.out.tfevents.1.host"), events)
    a = kinspect.history(tmp_path).latest
    assert a.run.metrics["loss"] == (2.0, 1.5, 1.0)
    (series,) = a.run.weights
    assert series.name == "dense/kernel" and series.epochs == (1, 2, 3)
    for i, w in enumerate(weights):  # a HistogramProto keeps exact sums: mean and std are exact
        mean = sum(w) / len(w)
        assert series.mean[i] == pytest.approx(mean)
        assert series.std[i] == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in w) / len(w)))
        assert (series.min[i], series.max[i]) == (min(w), max(w))
    assert any("0-based epoch" in n for n in a.run.notes)


def test_truncated_event_file_is_read_up_to_the_cut(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    events = [
        eventcraft.event(s, eventcraft.simple("epoch_loss", 1.0 / (s + 1)), wall=1.0 + s) for s in range(5)
    ]
    path = tmp_path / "train" / "events.out.tfevents.2.host"
    path.parent.mkdir()
    eventcraft.write_run(str(path), events)
    data = path.read_bytes()
    path.write_bytes(data[:-7])  # the last record cut short: a log still being written
    code, out, err = run(capsys, str(tmp_path), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["metrics"]["loss"] == [1.0, 0.5, pytest.approx(1 / 3), 0.25]
    assert "partial record" in err and len(err.strip().splitlines()) == 1


def test_damaged_event_file_alone_exits_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "events.out.tfevents.3.host"
    path.write_bytes(b"\x00" * 40 + os.urandom(200))
    code, out, err = run(capsys, str(path))
    assert code == 3 and out == "" and "Traceback" not in err
    assert str(path) in err


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary data"),
     (b"name,age\nbob,3\n", "not a training log"),
     (b"epoch,loss\nzero,one\n", "no epoch rows")],
)  # fmt: skip
def test_bad_csv_exits_3_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "training.csv"
    path.write_bytes(content)
    code, out, err = run(capsys, str(path))
    assert (code, out) == (3, "")
    assert needle in err and str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) <= 2


def test_one_readable_log_among_junk_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    csv_file(tmp_path, "epoch,loss\n0,1.0\n1,0.5\n")
    (tmp_path / "junk.csv").write_bytes(os.urandom(4096) + b"\0")
    (tmp_path / "history.pkl").write_bytes(pickle.dumps({"loss": [1.0]}))
    code, out, err = run(capsys, str(tmp_path))
    assert code == 0 and "epoch" in out
    lines = err.strip().splitlines()
    assert len(lines) == 2 and any("junk.csv: binary data" in ln for ln in lines)
    assert any("history.pkl" in ln and "never unpickled" in ln for ln in lines)


def test_missing_path_and_empty_dir_exit_3(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, str(tmp_path / "nope"))[0] == 3
    code, _, err = run(capsys, str(tmp_path))
    assert code == 3 and "no training log" in err


def test_thousands_of_event_files_in_bounded_time(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for i in range(3000):
        d = tmp_path / f"run{i:04d}" / "train"
        d.mkdir(parents=True)
        events = [
            eventcraft.FILE_VERSION,
            eventcraft.event(0, eventcraft.simple("epoch_loss", i), wall=1.0),
        ]
        (d / f"events.out.tfevents.{i}.host").write_bytes(b"".join(eventcraft.record(e) for e in events))
    start = time.perf_counter()
    code, out, err = run(capsys, str(tmp_path), "--format", "json")
    assert code == 0, err
    assert len(json.loads(out)["runs"]) == 3000
    assert time.perf_counter() - start < 60


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = csv_file(tmp_path, "epoch,loss\n0,1.0\n")
    assert run(capsys, str(path), "-o", str(tmp_path / "c.pdf"))[0] == 2
    assert run(capsys, str(path), "--mode", "up")[0] == 2
    assert main(["history"]) == 2


# ---- outputs ------------------------------------------------------------------------------------


def test_svg_is_drawn_by_kinspect_and_escapes_names(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    path = csv_file(tmp_path, "epoch,<script>,loss\n0,1.0,2.0\n1,0.5,1.0\n", name="a&b.csv")
    out = tmp_path / "curves.svg"
    assert main(["history", str(path), "-o", str(out)]) == 0
    svg = out.read_text()
    ET.fromstring(svg)  # well-formed
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_png_needs_the_plot_extra(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    path = csv_file(tmp_path, "epoch,loss\n0,1.0\n1,0.5\n")
    real = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code, _, err = run(capsys, str(path), "-o", str(tmp_path / "c.png"))
    assert code == 2 and "pip install 'kinspect[plot]'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.png").exists()


def test_png_through_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="pip install 'kinspect[plot]'")
    path = csv_file(tmp_path, "epoch,loss,val_loss,lr\n0,1.0,1.1,0.1\n1,0.5,0.9,0.1\n2,0.25,1.0,0.01\n")
    out = tmp_path / "c.png"
    assert main(["history", str(path), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_json_contract(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.0,0.4,1.2\n1,0.6,0.8,0.5,1.1\n"
    )
    doc = kinspect.history(path).to_dict()
    assert doc["schema"] == "kinspect/history@1"
    assert doc["sources"] == [{"path": str(path), "kind": "csv"}]
    assert doc["epochs"] == 2
    assert doc["metrics"]["loss"] == [1.0, 0.8]  # index i is epoch i + 1
    assert doc["best"] == {"monitor": "val_loss", "mode": "min", "epoch": 2, "value": 1.1}
    for key in ("events", "findings", "checkpoints", "runs", "problems", "weights", "notes"):
        assert isinstance(doc[key], list), key
    readme = (ROOT / "README.md").read_text()
    for key in ("sources", "epochs", "metrics", "best", "events", "findings", "checkpoints", "lr_drop",
                "early_stop", "nonfinite", "overfitting", "how"):  # fmt: skip
        assert f"`{key}`" in readme, key


def test_markdown_and_text(tmp_path: Path) -> None:
    path = csv_file(tmp_path, "epoch,loss,val_loss\n0,1.0,1.2\n1,0.8,1.1\n")
    result = kinspect.history(path)
    assert "| epoch | loss | val_loss | events |" in result.to_markdown()
    text = str(result)
    assert "best: epoch 2, val_loss 1.1 (min)" in text and "chart:" in text
    html = result._repr_html_()  # a notebook shows the curves inline
    assert "<svg" in html and "polyline" in html


# ---- the pure rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("monitor", "mode"),
    [("val_loss", Mode.MIN), ("loss", Mode.MIN), ("val_accuracy", Mode.MAX), ("acc", Mode.MAX),
     ("val_auc", Mode.MAX), ("mae", Mode.MIN), ("val_precision", Mode.MAX),
     ("val_mean_squared_error", Mode.MIN)],
)  # fmt: skip
def test_auto_mode(monitor: str, mode: Mode) -> None:
    assert auto_mode(monitor) is mode


@pytest.mark.parametrize(
    ("name", "epoch"),
    [("epoch03.weights.h5", 3), ("weights.07-0.45.hdf5", 7), ("model_epoch_12.keras", 12),
     ("weights.best.hdf5", None), ("best.keras", None), ("ckpt-0.55.h5", None)],
)  # fmt: skip
def test_epoch_in_name(name: str, epoch: int | None) -> None:
    assert epoch_in_name(name) == epoch


def test_every_history_rule_is_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    ids = [r.id for r in RULES]
    assert len(set(ids)) == len(ids) and all(i.startswith("KIN5") for i in ids)
    for r in RULES:
        row = f"| `{r.id}` | {r.name} | {r.severity.value} (opt-in) | {r.summary} | {r.rationale} |"
        assert row in readme, f"the README's row for {r.id} differs from the rule: {row}"
        assert r.check.__doc__, r.id


def _csv_run(tmp_path: Path, loss: list[float], **more: list[float]) -> kinspect.History:
    names = ["loss", *more]
    rows = ["epoch," + ",".join(names)]
    rows += [f"{i}," + ",".join(repr(col[i]) for col in (loss, *more.values())) for i in range(len(loss))]
    return kinspect.history(csv_file(tmp_path, "\n".join(rows) + "\n"))


def _rules(result: kinspect.History) -> list[str]:
    return [f.rule for f in result.latest.findings]


def test_oscillation_rule(tmp_path: Path) -> None:
    from kinspect.analyzers.training import OSCILLATION_EPOCHS, OSCILLATION_STEP

    # up and down by more than OSCILLATION_STEP on every epoch
    zigzag = [1.0 + (2 * OSCILLATION_STEP if i % 2 else 0.0) for i in range(OSCILLATION_EPOCHS + 2)]
    assert "KIN508" in _rules(_csv_run(tmp_path, zigzag))
    smooth = [1.0 / (i + 1) for i in range(OSCILLATION_EPOCHS + 2)]
    assert "KIN508" not in _rules(_csv_run(tmp_path, smooth))
    # a steep start, then a converged loss jittering by far less than OSCILLATION_STEP: the
    # turns are many, the swings tiny
    steep = [1.0, 0.5, 0.25, 0.125]
    jitter = [0.125 * (1 + (0.0 if i % 2 else OSCILLATION_STEP / 50)) for i in range(OSCILLATION_EPOCHS)]
    assert "KIN508" not in _rules(_csv_run(tmp_path, steep + jitter))


def test_not_learning_rule(tmp_path: Path) -> None:
    from kinspect.analyzers.training import FLAT_LOSS, MIN_EPOCHS

    flat = [2.0 - i * (FLAT_LOSS / 4) * 2.0 / MIN_EPOCHS for i in range(MIN_EPOCHS + 1)]  # < FLAT_LOSS in all
    assert "KIN504" in _rules(_csv_run(tmp_path, flat, accuracy=[0.1] * len(flat)))
    # the same loss with accuracy rising well above FLAT_ACCURACY: learning something
    assert "KIN504" not in _rules(
        _csv_run(tmp_path, flat, accuracy=[0.1 + 0.1 * i for i in range(len(flat))])
    )


def test_exploding_plateau_and_unanswered_lr_drop(tmp_path: Path) -> None:
    from kinspect.analyzers.training import EXPLODE, LR_RESPONSE, PLATEAU_EPOCHS

    loss = [1.0, 0.5, 0.5 * EXPLODE * 1.5, 0.4]
    result = _csv_run(tmp_path, loss)
    assert [(f.rule, f.epoch) for f in result.latest.findings if f.rule == "KIN502"] == [("KIN502", 3)]
    n = PLATEAU_EPOCHS + LR_RESPONSE + 2
    loss = [1.0, 0.5] + [0.5] * (n - 2)  # no improvement after epoch 2
    rates = [0.1] * 3 + [0.01] * (n - 3)  # cut at epoch 4, never answered
    result = _csv_run(tmp_path, loss, learning_rate=rates)
    found = {(f.rule, f.epoch) for f in result.latest.findings}
    assert ("KIN505", 3) in found and ("KIN506", 4) in found


def test_event_file_damage_is_one_line_each(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import struct

    events = [
        eventcraft.event(s, eventcraft.simple("epoch_loss", 1.0 / (s + 1)), wall=1.0 + s) for s in range(4)
    ]
    good = tmp_path / "run" / "train" / "events.out.tfevents.1.host"
    good.parent.mkdir(parents=True)
    eventcraft.write_run(str(good), events)
    data = bytearray(good.read_bytes())
    data[-10] ^= 0xFF  # inside the last record's data: its CRC no longer matches
    good.write_bytes(bytes(data))
    huge = tmp_path / "other" / "events.out.tfevents.2.host"  # a record claiming a terabyte
    huge.parent.mkdir()
    length = struct.pack("<Q", 1 << 40)
    from kinspect.tfio.crc import crc32c, mask

    huge.write_bytes(length + struct.pack("<I", mask(crc32c(length))) + b"\0" * 64)
    start = time.perf_counter()
    code, out, err = run(capsys, str(tmp_path / "run"), str(huge), "--format", "json")
    assert code == 0 and time.perf_counter() - start < 10
    assert json.loads(out)["runs"][0]["metrics"]["loss"] == [1.0, 0.5, pytest.approx(1 / 3)]
    lines = err.strip().splitlines()
    assert len(lines) == 2, lines  # the CRC mismatch, the absurd length (refused before reading)
    assert any("CRC" in ln and str(good) in ln for ln in lines)
    assert any(str(huge) in ln for ln in lines)


def test_oversized_csv_is_refused_unread(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "training.csv"
    with open(path, "wb") as f:  # sparse: nothing is written, nothing should be read
        f.write(b"epoch,loss\n")
        f.truncate(65 << 20)
    code, out, err = run(capsys, str(path))
    assert code == 3 and out == "" and "larger than 64 MB" in err


GOLDEN_CSV = """epoch,accuracy,loss,lr,val_accuracy,val_loss
0,0.40,1.20,0.01,0.38,1.25
1,0.55,0.95,0.01,0.50,1.05
2,0.63,0.80,0.01,0.56,0.98
3,0.70,0.68,0.01,0.58,0.97
4,0.76,0.57,0.01,0.57,1.00
5,0.81,0.47,0.005,0.56,1.04
6,0.86,0.38,0.005,0.55,1.09
"""


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_golden_output(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    update_golden: bool,
    fmt: str,
) -> None:
    from tests.conftest import check_golden

    monkeypatch.chdir(tmp_path)
    Path("training.csv").write_text(GOLDEN_CSV)
    code, out, err = run(capsys, "training.csv", "--format", fmt)
    assert code == 0 and err == ""
    check_golden(f"history.{'md' if fmt == 'markdown' else 'txt'}", out, update_golden)
