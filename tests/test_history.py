"""kinspect history against real runs made with Keras 3 and tf_keras (tests/build_history.py):
every source (CSVLogger, History JSON, pandas' columnar JSON, TensorBoard) gives the metrics
``fit()``'s History returned; the best epoch, early stop and learning-rate drops are what the
callbacks did; each checkpoint maps to the epoch ModelCheckpoint wrote it at."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kinspect
from kinspect.analyzers.training import OVERFIT_EPOCHS, OVERFIT_RISE
from kinspect.cli import main
from tests.keras_build import built

FLAVOURS = ("keras3", "tf_keras")


@pytest.fixture(scope="session")
def runs() -> Path:
    return built("build_history.py")


def oracle(d: Path) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, Any]]:
    doc = json.loads((d / "history.json").read_text())
    history = {("learning_rate" if k == "lr" else k): v for k, v in doc["history"].items()}
    return history, doc["params"], json.loads((d / "oracle.json").read_text())


def same(values: tuple[float | None, ...], expected: list[float], float32: bool) -> bool:
    """Equal, NaN equal to NaN; ``float32``: compared at the precision the source stores."""
    if len(values) != len(expected):
        return False
    for a, b in zip(values, expected, strict=True):
        if a is None:
            return False
        if float32:
            a, b = float(np.float32(a)), float(np.float32(b))
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            return False
    return True


SOURCES = {  # what each run of tests/build_history.py writes
    "main": ("training.csv", "history.json", "columnar.json", "logs"),
    "diverge": ("training.csv", "history.json", "columnar.json", "logs"),
    "overfit": ("training.csv", "history.json", "columnar.json"),
    "collapse": ("history.json", "columnar.json", "logs"),
}


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(("name", "source"), [(n, s) for n, sources in SOURCES.items() for s in sources])
def test_every_source_gives_what_history_returned(runs: Path, flavour: str, name: str, source: str) -> None:
    d = runs / flavour / name
    history, _, _ = oracle(d)
    run = kinspect.history(d / source).latest.run
    expected = dict(history)
    if source == "logs":
        # TensorBoard logs the optimizer's rate by itself in Keras 3 (without ReduceLROnPlateau,
        # History has no rate); tf.keras only a schedule's, or the lr ReduceLROnPlateau logged
        # before the callback ran (here TensorBoard comes first).
        extra = set(run.metrics) - set(history)
        assert extra <= ({"learning_rate"} if flavour == "keras3" else set()), extra
        if flavour == "tf_keras":
            expected.pop("learning_rate", None)
    assert set(run.metrics) >= set(expected), (sorted(run.metrics), sorted(expected))
    # CSVLogger writes str(value) (tf.keras: of a float32), TensorBoard float32 tensors.
    float32 = source in ("training.csv", "logs")
    for key, values in expected.items():
        assert same(run.metrics[key], values, float32), (key, run.metrics[key], values)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_best_epoch_early_stop_and_lr_drops_are_what_the_callbacks_did(runs: Path, flavour: str) -> None:
    d = runs / flavour / "main"
    history, params, said = oracle(d)
    for path in (d, d / "training.csv", d / "logs"):
        result = kinspect.history(path, epochs=params["epochs"] if path == d else None)
        a = result.latest
        val = history["val_loss"]
        assert a.best.epoch == int(np.argmin(val)) + 1  # the first minimum, as EarlyStopping keeps it
        assert a.best.value == pytest.approx(said["best"], rel=1e-7)
        assert any(f.rule == "KIN507" for f in a.findings)
        (stop,) = [e for e in a.events if e.kind == "early_stop"]
        assert stop.epoch == said["stopped_epoch"] + 1  # EarlyStopping.stopped_epoch is 0-based
        assert stop.get("patience") == said["patience"]
        if "learning_rate" not in a.run.metrics:
            assert flavour == "tf_keras" and path.name == "logs"  # see test_every_source_gives_...
            continue
        rates = history["learning_rate"]
        drops = [i + 1 for i in range(1, len(rates)) if rates[i] < rates[i - 1]]
        assert drops, "the run should have cut its learning rate"
        assert [e.epoch for e in a.events if e.kind == "lr_drop"] == drops


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_checkpoints_map_to_the_epochs_they_were_written_at(runs: Path, flavour: str) -> None:
    d = runs / flavour / "main"
    _, params, said = oracle(d)
    a = kinspect.history(d).latest
    mapped = {str(Path(c.path).relative_to(d)): c for c in a.checkpoints}
    assert set(mapped) == set(said["written"])
    for name, epochs in said["written"].items():
        assert mapped[name].epoch == epochs[-1], (
            name,
            mapped[name],
            epochs,
        )  # the last write is what it holds
    best = mapped[next(n for n in said["written"] if n.startswith("best/"))]
    assert best.epoch == a.best.epoch and best.value == a.best.value
    assert a.steps_per_epoch == params["steps"] == said["iterations"][0]
    # without the logs' optimizer steps, the names and the save_best_only rule say the same
    b = kinspect.history(d / "training.csv", d / "ckpt", d / "best").latest
    assert {str(Path(c.path).relative_to(d)): c.epoch for c in b.checkpoints} == {
        n: e[-1] for n, e in said["written"].items()
    }


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_divergence_is_the_first_nonfinite_epoch(runs: Path, flavour: str) -> None:
    d = runs / flavour / "diverge"
    history, _, _ = oracle(d)
    first = min(i + 1 for values in history.values() for i, v in enumerate(values) if not math.isfinite(v))
    for path in (d / "training.csv", d / "history.json", d / "logs"):
        a = kinspect.history(path).latest
        assert [e.epoch for e in a.events if e.kind == "nonfinite"] == [first]
        assert not [e for e in a.events if e.kind == "early_stop"]  # TerminateOnNaN, not EarlyStopping
        assert [f.epoch for f in a.findings if f.rule == "KIN501"] == [first]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_overfitting_onset(runs: Path, flavour: str) -> None:
    d = runs / flavour / "overfit"
    history, _, _ = oracle(d)
    val, loss = history["val_loss"], history["loss"]
    best = int(np.argmin(val)) + 1
    # the rule, from History: OVERFIT_EPOCHS+ epochs after the best, ending OVERFIT_RISE above it,
    # training loss lower at the end than at the best epoch
    assert len(val) - best >= OVERFIT_EPOCHS and val[-1] > val[best - 1] * (1 + OVERFIT_RISE)
    assert loss[-1] < loss[best - 1]
    a = kinspect.history(d / "training.csv").latest
    assert [e.epoch for e in a.events if e.kind == "overfitting"] == [best + 1]
    assert [f.epoch for f in a.findings if f.rule == "KIN503"] == [best + 1]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_weight_trends_from_histograms(runs: Path, flavour: str) -> None:
    main_run = kinspect.history(runs / flavour / "main" / "logs").latest
    frozen = {f.tensor for f in main_run.findings if f.rule == "KIN509"}
    assert frozen and all(
        name.startswith("frozen/") for name in frozen
    )  # the layer built with trainable=False
    assert {t.name for t in main_run.trends if t.trend == "frozen"} >= frozen
    collapse = kinspect.history(runs / flavour / "collapse" / "logs").latest
    assert any(f.rule == "KIN511" and "kernel" in (f.tensor or "") for f in collapse.findings)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_append_csv_is_two_runs(runs: Path, flavour: str) -> None:
    d = runs / flavour / "append"
    histories = json.loads((d / "histories.json").read_text())
    result = kinspect.history(d / "training.csv")
    assert len(result.runs) == len(histories) == 2
    for a, h in zip(result.runs, histories, strict=True):
        expected = {("learning_rate" if k == "lr" else k): v for k, v in h.items()}
        for key, values in expected.items():
            assert same(a.run.metrics[key], values, float32=True), key


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_cli_on_a_run_directory(
    capsys: pytest.CaptureFixture[str], runs: Path, flavour: str, tmp_path: Path
) -> None:
    d = runs / flavour / "main"
    out_svg = tmp_path / "curves.svg"
    assert main(["history", str(d), "--format", "json", "-o", str(out_svg)]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert {s["kind"] for s in doc["sources"]} == {"csv", "json", "tensorboard"}
    assert "history.pkl" in err and "never unpickled" in err  # refused, the rest read
    assert out_svg.read_text().startswith("<svg")
    history, _, _ = oracle(d)
    assert doc["metrics"]["loss"] == history["loss"]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_report_has_a_training_section(runs: Path, flavour: str, tmp_path: Path) -> None:
    d = runs / flavour / "main"
    _, _, said = oracle(d)
    best_file = next(d / n for n in said["written"] if n.startswith("best/"))
    result = kinspect.report(best_file, tmp_path / "found", graph=False, weights=False)  # logs in the parent
    page = Path(result.page).read_text()
    assert '<section id="training">' in page and '<div id="curves"><svg' in page
    epoch = said["written"][str(best_file.relative_to(d))][-1]
    table = page[page.index('<table id="training-checkpoints">') :].split("</table>")[0]
    assert f'<td class="mono">{best_file}</td><td>{epoch}</td>' in table
    # --logs names them; a hostile metric name is escaped in the table and the drawing
    hostile = tmp_path / "hostile.csv"
    hostile.write_text("epoch,<img src=x onerror=alert(1)>,loss\n0,1,2\n1,0.5,1\n")
    page = Path(
        kinspect.report(best_file, tmp_path / "given", graph=False, weights=False, logs=[hostile]).page
    )
    text = page.read_text()
    assert "<img src=x" not in text and '<section id="training">' in text


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_check_selects_the_training_rules(
    capsys: pytest.CaptureFixture[str], runs: Path, flavour: str
) -> None:
    d = runs / flavour / "main"
    best_file = next(d / n for n in oracle(d)[2]["written"] if n.startswith("best/"))
    expected = [
        f
        for f in kinspect.history(*(d / n for n in ("training.csv", "history.json", "logs"))).latest.findings
    ]
    assert main(["check", str(best_file), "--select", "KIN5", "--no-config"]) == 0  # warnings and info
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[1] for ln in lines[:-1]] == [f.rule for f in expected]
    assert any("KIN509" in ln and "frozen/" in ln for ln in lines)
    main(["check", str(best_file), "--no-config", "--ignore", "KIN2"])  # by default: no training rule
    assert "KIN5" not in capsys.readouterr().out
