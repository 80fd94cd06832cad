"""The training diagnostics on the edge cases users hit, against real Keras 3 runs
(tests/build_runs.py): accuracy at chance judged from the class count of the run's saved model
(and not judged without one), a run that learns, a multi-output model's History names, a run that
converged and jitters, and runs of one, two epochs and without validation. The oracle is the
History ``fit()`` returned and the live model's output shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import kinspect
from kinspect.analyzers.training import (
    CHANCE_MARGIN,
    CHANCE_MARGIN_MAX,
    INFERRED_STOP,
    MIN_EPOCHS,
    Mode,
    accuracy_metrics,
    auto_mode,
)
from kinspect.cli import main
from tests.keras_build import built


@pytest.fixture(scope="session")
def small_runs() -> Path:
    return built("build_runs.py")


def oracle(d: Path) -> tuple[dict[str, list[float]], dict[str, Any], dict[str, int]]:
    doc = json.loads((d / "history.json").read_text())
    return doc["history"], doc["params"], json.loads((d / "oracle.json").read_text())["classes"]


def chance_of(classes: int) -> float:
    """What chance is for an output of ``classes`` units: 1/2 for one sigmoid unit."""
    return 0.5 if classes == 1 else 1.0 / classes


def at_chance(values: list[float], classes: int) -> bool:
    c = chance_of(classes)
    return max(values) <= c + min(CHANCE_MARGIN * c, CHANCE_MARGIN_MAX)


@pytest.mark.parametrize("name", ["chance", "chance_binary", "learns"])
def test_accuracy_at_chance_from_the_models_class_count(small_runs: Path, name: str) -> None:
    d = small_runs / name
    history, _, classes = oracle(d)
    (units,) = classes.values()
    expected = at_chance(history["accuracy"], units)
    assert expected == name.startswith("chance"), "the fixture: random labels stay at chance, the rest learns"
    for paths in ((d,), (d / "training.csv", d / "model.keras")):
        found = [f for f in kinspect.history(*paths).latest.findings if f.rule == "KIN512"]
        assert bool(found) == expected, (paths, found)
        if expected:
            assert f"is {chance_of(units):.4g}" in found[0].message
            best, epochs = max(history["accuracy"]), len(history["accuracy"])
            assert f"at most {best:.4g} over {epochs}" in found[0].message
    # without the model, chance is unknown and said so; the other findings are the same
    alone = kinspect.history(d / "training.csv").latest
    assert not [f for f in alone.findings if f.rule == "KIN512"]
    assert any("chance level unknown" in n for n in alone.run.notes)


def test_chance_unknown_with_weights_only(small_runs: Path) -> None:
    """A weights-only file has no output layer to count classes: no KIN512, a note."""
    d = small_runs / "chance_weights"
    history, _, classes = oracle(d)
    assert at_chance(history["accuracy"], *classes.values())  # it would be flagged with a model
    result = kinspect.history(d).latest
    assert [c.path for c in result.checkpoints] == [str(d / "final.weights.h5")]
    assert not [f for f in result.findings if f.rule == "KIN512"]
    assert any("chance level unknown" in n for n in result.run.notes)
    doc = kinspect.history(d).to_dict()
    assert any("chance level unknown" in n for n in doc["runs"][-1]["notes"])


def test_check_and_report_take_the_class_count_from_the_model(small_runs: Path, tmp_path: Path) -> None:
    d = small_runs / "chance"
    out = tmp_path / "check.json"
    code = main(["check", str(d / "model.keras"), "--select", "KIN512", "--format", "json", "-o", str(out)])
    assert code in (0, 1)
    (checked,) = json.loads(out.read_text())["files"]
    assert [f["rule"] for f in checked["findings"]] == ["KIN512"]
    args = ["report", str(d / "model.keras"), "-o", str(tmp_path / "rep"), "--no-graph", "--no-weights"]
    assert main(args) == 0
    page = (tmp_path / "rep" / "report.html").read_text()
    training = page[page.index('<section id="training">') :]
    assert "KIN512" in training[: training.index("</section>")]


def test_multi_output_history_names(small_runs: Path) -> None:
    """Each output's loss and metrics, named ``<output>_<metric>`` and ``val_<output>_<metric>``:
    the best epoch's direction, the chance of the classifier output, and no false finding on a
    run that learns."""
    d = small_runs / "multi"
    history, _, classes = oracle(d)
    result = kinspect.history(d).latest
    assert set(result.run.metrics) == set(history)
    trained = [k for k in history if k.endswith("_accuracy") and not k.startswith("val_")]
    assert sorted(accuracy_metrics(result.run)) == sorted((k, k.removesuffix("_accuracy")) for k in trained)
    assert {output for _, output in accuracy_metrics(result.run)} <= set(classes)
    for name in history:
        want = Mode.MAX if name.removeprefix("val_").endswith("accuracy") else Mode.MIN
        assert auto_mode(name) is want, name
        best = kinspect.history(d, monitor=name).latest.best
        values = np.asarray(history[name])
        assert best.epoch == 1 + int(np.argmax(values) if want is Mode.MAX else np.argmin(values)), name
    assert not any(at_chance(history[k], classes[k.removesuffix("_accuracy")]) for k in ("cls_accuracy",))
    assert result.findings == ()
    assert not [n for n in result.run.notes if "chance" in n]  # the classifier output's chance is known


def test_converged_run_is_not_an_early_stop(small_runs: Path) -> None:
    """A loss that fell to ~1e-13 and jitters there: its last epoch is not 'after the best' in any
    sense a user cares about, and its relative jitter is not oscillation."""
    d = small_runs / "converged"
    history, params, _ = oracle(d)
    loss = history["loss"]
    best = min(loss)
    assert loss.index(best) + 1 < len(loss) - 1, "the fixture: the best epoch is not among the last two"
    assert abs(loss[-1] - best) <= INFERRED_STOP * (loss[0] - best)
    result = kinspect.history(d / "training.csv").latest  # no budget known: params not in a CSV
    assert not [e for e in result.events if e.kind == "early_stop"]
    assert not [f for f in result.findings if f.rule in ("KIN507", "KIN508")]
    assert kinspect.history(d / "history.json").latest.findings == ()  # budget known: finished
    assert params["epochs"] == len(loss)


@pytest.mark.parametrize("name", ["short", "two", "noval"])
def test_short_runs_and_runs_without_validation(small_runs: Path, name: str) -> None:
    """One epoch, two epochs, no validation: the best epoch is what numpy says, and no curve rule
    speaks on too few epochs or on a validation series that does not exist."""
    d = small_runs / name
    history, _, _ = oracle(d)
    result = kinspect.history(d / "training.csv").latest
    monitor = "val_loss" if "val_loss" in history else "loss"
    assert result.best.monitor == monitor
    assert result.best.epoch == 1 + int(np.argmin(history[monitor]))
    assert result.findings == () and result.events == ()
    assert len(history["loss"]) >= MIN_EPOCHS or not [n for n in result.run.notes if "overfit" in n]


def test_auto_mode_is_each_keras_metrics_direction() -> None:
    """Every Keras 3 metric that declares a direction (``_direction``, which its callbacks'
    ``mode="auto"`` follows) gets that direction by name: bare, as an output's
    (``<output>_<metric>``, even for an output named after another metric), numbered (a second
    instance) and as a validation twin."""
    import inspect

    import keras

    needs = {"IoU": (2, [0]), "OneHotIoU": (2, [0]), "MeanIoU": (2,), "OneHotMeanIoU": (2,),
             "PrecisionAtRecall": (0.5,), "RecallAtPrecision": (0.5,),
             "SensitivityAtSpecificity": (0.5,), "SpecificityAtSensitivity": (0.5,)}  # fmt: skip
    judged = 0
    for name, cls in sorted(vars(keras.metrics).items()):
        if (
            not (inspect.isclass(cls) and issubclass(cls, keras.metrics.Metric))
            or name == "MeanMetricWrapper"
        ):
            continue
        metric = cls(*needs.get(name, ()))
        direction = getattr(metric, "_direction", None)
        if direction is None:
            continue  # Keras cannot tell either (Mean, Sum, the confusion counts)
        want = Mode.MAX if direction == "up" else Mode.MIN
        for logged in (
            metric.name,
            f"out_{metric.name}",
            f"precision_head_{metric.name}",
            f"{metric.name}_1",
        ):
            assert auto_mode(logged) is want and auto_mode("val_" + logged) is want, (name, logged)
        judged += 1
    assert judged >= 25


def test_biases_growing_from_zero_are_not_a_blow_up(small_runs: Path) -> None:
    """A healthy run's biases start at zero: after epoch 1 they are tiny, and by the end many times
    that, yet far from large. Not KIN510; the weights that really grew past the floor would be."""
    from kinspect.analyzers.training import WEIGHT_BLOWUP, WEIGHT_BLOWUP_FLOOR

    d = small_runs / "growth"
    history, _, _ = oracle(d)
    absmax = json.loads((d / "oracle.json").read_text())["absmax"]
    grew = {k for k, v in absmax.items() if v[-1] >= WEIGHT_BLOWUP * v[0]}
    assert grew and all(absmax[k][-1] < WEIGHT_BLOWUP_FLOOR for k in grew), (
        "the fixture: small biases grew 10x"
    )
    history_accuracy = history["accuracy"]
    assert max(history_accuracy) > 2 * history_accuracy[0], "the fixture: the run learns"
    result = kinspect.history(d).latest
    assert {w.name for w in result.run.weights} >= grew
    assert not [f for f in result.findings if f.rule == "KIN510"]
    assert not [t for t in result.trends if t.trend == "blow-up"]


def test_resumed_converged_run_is_not_not_learning(small_runs: Path) -> None:
    """A converged model trained on at a tiny learning rate: flat loss, flat accuracy far above
    chance. With the model, that is not KIN504; from the CSV alone kinspect cannot tell."""
    from kinspect.analyzers.training import FLAT_ACCURACY, FLAT_LOSS

    d = small_runs / "resumed"
    history, _, classes = oracle(d)
    loss, accuracy = history["loss"], history["accuracy"]
    assert loss[0] - min(loss) <= FLAT_LOSS * loss[0] and max(accuracy) - accuracy[0] <= FLAT_ACCURACY
    assert not at_chance(accuracy, *classes.values()), "the fixture: far above chance"
    assert not [f for f in kinspect.history(d).latest.findings if f.rule in ("KIN504", "KIN512")]
    assert [f.rule for f in kinspect.history(d / "training.csv").latest.findings if f.rule == "KIN504"] == [
        "KIN504"
    ]
