"""Training diagnostics: pure functions of a :class:`~kinspect.training.Run`.

The best epoch follows Keras's callbacks (``EarlyStopping``/``ModelCheckpoint`` with
``mode="auto"``, ``min_delta=0``: an epoch is better only when strictly better); events mark
what happened (learning-rate drops, an early stop, non-finite values, overfitting onset);
findings (KIN5xx, :data:`RULES`) say what looks wrong, each with its threshold documented
beside it and a hint. The README compares the thresholds with AUTOTRAINER's curve rules
(shiningrain/AUTOTRAINER, ``AutoTrainer/utils/monitor.py``), which judge a run from its loss
and accuracy curves alone, as kinspect does.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum

from kinspect.findings import Finding, Rule, Severity
from kinspect.model import LayerInfo, ModelInfo
from kinspect.training import CheckpointFile, Run, Series, WeightSeries, finite

# ---- thresholds (README "kinspect history") ------------------------------------------------------
OVERFIT_EPOCHS = 3  # validation loss above its best for this many epochs in a row, training loss falling
OVERFIT_RISE = 0.02  # ... and ending at least 2% above its best
FLAT_LOSS = 0.01  # not learning: the loss improved less than 1% of its first value
FLAT_ACCURACY = 0.01  # ... and accuracy rose less than 0.01
MIN_EPOCHS = 3  # curve rules need at least this many epochs
EXPLODE = 10.0  # a finite loss 10x its best so far: exploding
PLATEAU_EPOCHS = 5  # no improvement of the monitor by PLATEAU_DELTA for this many epochs
PLATEAU_DELTA = 1e-3  # relative
LR_RESPONSE = 3  # epochs after a learning-rate drop in which the monitor should improve
OSCILLATION_SHARE = 0.6  # the loss changes direction on at least 60% of epochs ...
OSCILLATION_STEP = 0.05  # ... by at least 5% of its value, on average
OSCILLATION_EPOCHS = 6
CHANCE_MARGIN = 0.2  # accuracy at chance: its best within 20% of 1/classes above it ...
CHANCE_MARGIN_MAX = 0.05  # ... and at most 0.05 above it (two classes: 0.55)
INFERRED_STOP = 0.01  # an inferred early stop: the last value worse than the best by 1% of the
# distance the monitor moved from epoch 1 to its best (else a finished run's jitter)
WEIGHT_BLOWUP = 10.0  # a weight's largest magnitude grew 10x from its first histogram to its last ...
WEIGHT_BLOWUP_FLOOR = 1.0  # ... to 1 or more (a zero-initialised bias grows 10x from epoch 1 healthily)
WEIGHT_COLLAPSE = 0.1  # a weight's spread shrank to a tenth of its first
TRAINABLE_LEAVES = {
    "kernel",
    "bias",
    "gamma",
    "beta",
    "embeddings",
    "recurrent_kernel",
    "depthwise_kernel",
    "pointwise_kernel",
}
# Metric names whose mode="auto" direction is "up" (keras/src/metrics: _direction="up"; tf_keras's
# EarlyStopping takes acc/accuracy/auc): everything else, losses and errors, is minimised. A
# name is judged by its metric, the end of the name (``<output>_<metric>`` for a model of several
# outputs, ``_<n>`` when Keras numbered a second instance), so that an output called
# ``precision_head`` does not make its ``precision_head_mae`` maximised.
UP = ("accuracy", "acc", "auc", "precision", "recall", "sensitivity", "specificity", "f1_score",
      "fbeta_score", "fmeasure", "iou", "io_u", "r2_score", "cosine_similarity", "true_positives",
      "true_negatives", "pearson_correlation", "concordance_correlation")  # fmt: skip
DOWN = ("loss", "error", "mae", "mse", "mape", "msle", "rmse", "crossentropy", "hinge", "kl_divergence",
        "poisson", "logcosh", "false_positives", "false_negatives")  # fmt: skip
MAXIMISED = re.compile(r"acc|auc|precision|recall|f1|fbeta|fmeasure|iou|r2|cosine_similarity|true_")


class Mode(str, Enum):
    MIN = "min"
    MAX = "max"


def auto_mode(monitor: str) -> Mode:
    """Keras's ``mode="auto"``: max for accuracy-like names, min for losses and the rest."""
    name = re.sub(r"_\d+$", "", monitor.removeprefix("val_"))
    if name.endswith("loss"):
        return Mode.MIN
    for names, mode in ((DOWN, Mode.MIN), (UP, Mode.MAX)):
        if any(name == n or name.endswith("_" + n) for n in names):
            return mode
    return Mode.MAX if MAXIMISED.search(name) else Mode.MIN  # a custom metric's name


@dataclass(frozen=True)
class Best:
    monitor: str
    mode: Mode
    epoch: int | None
    value: float | None


def better(a: float, b: float | None, mode: Mode) -> bool:
    return b is None or (a < b if mode is Mode.MIN else a > b)


def best_epoch(run: Run, monitor: str, mode: Mode | None = None) -> Best:
    """The first epoch with the best finite value of ``monitor`` (strictly better, as Keras)."""
    mode = mode or auto_mode(monitor)
    epoch, value = None, None
    for i, v in enumerate(run.series(monitor), 1):
        if finite(v) and better(v, value, mode):  # type: ignore[arg-type]
            epoch, value = i, v
    return Best(monitor, mode, epoch, value)


@dataclass(frozen=True)
class Event:
    """Something that happened at an epoch: ``kind`` and what it says (``data``, JSON-ready)."""

    kind: str  # lr_drop, early_stop, nonfinite, overfitting
    epoch: int
    data: tuple[tuple[str, object], ...] = ()

    def get(self, key: str) -> object:
        return dict(self.data).get(key)


@dataclass(frozen=True)
class RunFinding(Finding):
    """A finding of a run, at an epoch (None: the whole run) or about a weight (``tensor``)."""

    epoch: int | None = None


def _first_nonfinite(run: Run) -> tuple[int, str] | None:
    hit: tuple[int, str] | None = None
    for name in sorted(run.metrics):
        for i, v in enumerate(run.metrics[name], 1):
            if v is not None and not math.isfinite(v):
                if hit is None or i < hit[0]:
                    hit = (i, name)
                break
    return hit


def lr_drops(run: Run) -> list[Event]:
    """Each epoch trained at a lower rate than the one before (ReduceLROnPlateau logs the rate
    an epoch used, then cuts it: the drop shows at the next epoch)."""
    out = []
    rates = run.series("learning_rate")
    for i in range(1, len(rates)):
        a, b = rates[i - 1], rates[i]
        if finite(a) and finite(b) and b < a * (1 - 1e-6):  # type: ignore[operator]
            out.append(Event("lr_drop", i + 1, (("from", a), ("to", b))))
    return out


def overfitting_onset(run: Run) -> tuple[int, int] | None:
    """(onset epoch, best validation epoch) when validation loss rose for OVERFIT_EPOCHS epochs
    in a row after its best, to OVERFIT_RISE above it, while the training loss kept falling."""
    val, loss = run.series("val_loss"), run.series("loss")
    best = best_epoch(run, "val_loss", Mode.MIN)
    if best.epoch is None or best.value is None:
        return None
    after = [v for v in val[best.epoch :] if v is not None]
    if len(after) < OVERFIT_EPOCHS or not all(finite(v) for v in after):
        return None
    end = after[-1]
    rise = end - best.value > OVERFIT_RISE * abs(best.value)
    l0, l1 = loss[best.epoch - 1], loss[-1]
    falling = finite(l0) and finite(l1) and l1 < l0  # type: ignore[operator]
    if rise and falling:
        return best.epoch + 1, best.epoch
    return None


def early_stop(run: Run, best: Best, budget: int | None) -> Event | None:
    """The run stopped before its budget (``History.params["epochs"]`` or ``budget``), or, when
    the budget is unknown, ended at least two epochs after its best epoch (``inferred``)."""
    if best.epoch is None or run.epochs == 0:
        return None
    last = run.epochs
    planned = budget or run.params.get("epochs")
    if _first_nonfinite(run) is not None:
        return None  # TerminateOnNaN, not EarlyStopping
    if planned is not None:
        if last >= planned:
            return None
        inferred = False
    elif last - best.epoch >= 2 and _worse_at_end(run, best):
        inferred = True
    else:
        return None
    data: tuple[tuple[str, object], ...] = (
        ("best_epoch", best.epoch),
        ("monitor", best.monitor),
        ("patience", last - best.epoch),
        ("inferred", inferred),
    )
    return Event("early_stop", last, data)


def _worse_at_end(run: Run, best: Best) -> bool:
    """Whether the monitor's last value is worse than its best by INFERRED_STOP of the distance it
    moved from its first value to the best: a run that converged and jitters at its best (a loss
    at 1e-13, a validation loss moving in the fourth digit) did not stop early for all we know."""
    values = [v for v in run.series(best.monitor) if finite(v)]
    if not values or best.value is None:
        return False
    first, last = values[0], values[-1]
    assert first is not None and last is not None
    moved = abs(first - best.value)
    return abs(last - best.value) > INFERRED_STOP * moved if moved > 0 else last != best.value


def events(run: Run, best: Best, budget: int | None = None) -> list[Event]:
    found = lr_drops(run)
    stop = early_stop(run, best, budget)
    found += [stop] if stop else []
    bad = _first_nonfinite(run)
    if bad:
        found.append(Event("nonfinite", bad[0], (("metric", bad[1]),)))
    onset = overfitting_onset(run)
    if onset:
        found.append(Event("overfitting", onset[0], (("best_val_epoch", onset[1]),)))
    return sorted(found, key=lambda e: (e.epoch, e.kind))


# ---- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a rule looks at: the run, its best epoch and events, and the chance accuracy of each
    output of the run's model (None: no model was found to tell the class count)."""

    run: Run
    best: Best
    events: tuple[Event, ...]
    chance: Mapping[str, float | None] | None = None


RunRuleFn = Callable[[Context], Iterable[RunFinding]]


@dataclass(frozen=True, kw_only=True)
class RunRule(Rule):
    check: RunRuleFn


@dataclass
class RunRules:
    """The KIN5xx rules in the order they run, each declared with ``@RULES.rule(...)`` above its
    function, as the check families declare theirs."""

    rules: list[RunRule] = field(default_factory=list)

    def __iter__(self) -> Iterator[RunRule]:
        return iter(self.rules)

    def rule(
        self, id: str, name: str, severity: Severity, summary: str, rationale: str
    ) -> Callable[[RunRuleFn], RunRuleFn]:
        def register(check: RunRuleFn) -> RunRuleFn:
            self.rules.append(RunRule(id, name, severity, summary, rationale, check=check))
            return check

        return register


RULES = RunRules()


def _finding(
    rule_id: str,
    message: str,
    hint: str,
    epoch: int | None = None,
    tensor: str | None = None,
    severity: Severity | None = None,
) -> RunFinding:
    rule = next(r for r in RULES if r.id == rule_id)
    return RunFinding(rule_id, severity or rule.severity, message, None, tensor, hint, epoch)


def _gap(val: Series, loss: Series, epoch: int) -> float | None:
    a, b = val[epoch - 1], loss[epoch - 1]
    return a - b if a is not None and b is not None and finite(a) and finite(b) else None


def _fmt(v: object) -> str:
    return f"{v:.4g}" if isinstance(v, (int, float)) else "-"


@RULES.rule(
    "KIN501",
    "nonfinite",
    Severity.ERROR,
    "NaN or Inf in a logged metric (divergence)",
    "A NaN loss ends learning: every later update is NaN, and TerminateOnNaN stops the run.",
)
def nonfinite(ctx: Context) -> Iterator[RunFinding]:
    """The first epoch with a non-finite value, with the metric."""
    for e in ctx.events:
        if e.kind == "nonfinite":
            yield _finding(
                "KIN501",
                f"{e.get('metric')} is {_fmt(ctx.run.series(str(e.get('metric')))[e.epoch - 1])} at "
                f"epoch {e.epoch}",
                "lower the learning rate, clip gradients (clipnorm), check the data for NaN and the "
                "loss for log(0)",
                e.epoch,
            )


@RULES.rule(
    "KIN502",
    "exploding-loss",
    Severity.WARNING,
    "loss 10x above its best so far",
    "A loss that jumps an order of magnitude above where it was is diverging, often before it turns NaN.",
)
def exploding(ctx: Context) -> Iterator[RunFinding]:
    """The first epoch whose finite loss is EXPLODE times its best so far."""
    best: float | None = None
    for i, v in enumerate(ctx.run.series("loss"), 1):
        if not finite(v):
            continue
        assert v is not None
        if best is not None and best > 0 and v > EXPLODE * best:
            yield _finding(
                "KIN502",
                f"loss {_fmt(v)} at epoch {i}, {v / best:.0f}x its best so far ({_fmt(best)})",
                "lower the learning rate or add gradient clipping",
                i,
            )
            return
        best = v if best is None else min(best, v)


@RULES.rule(
    "KIN503",
    "overfitting",
    Severity.WARNING,
    "validation loss rising while training loss falls",
    "The model memorises the training set: the weights after the onset generalise worse than the "
    "best epoch's.",
)
def overfitting(ctx: Context) -> Iterator[RunFinding]:
    """The overfitting onset event, with the train/validation gap at the best and last epochs."""
    for e in ctx.events:
        if e.kind == "overfitting":
            run, b = ctx.run, int(e.get("best_val_epoch"))  # type: ignore[call-overload]
            val, loss = run.series("val_loss"), run.series("loss")
            yield _finding(
                "KIN503",
                f"val_loss rises from epoch {e.epoch} (best {_fmt(val[b - 1])} at epoch {b}, "
                f"{_fmt(val[-1])} at "
                f"epoch {run.epochs}) while loss falls; gap val_loss - loss {_fmt(_gap(val, loss, b))} -> "
                f"{_fmt(_gap(val, loss, run.epochs))}",
                f"use the epoch {b} weights (EarlyStopping(restore_best_weights=True), ModelCheckpoint("
                "save_best_only=True)); add regularization, dropout or data augmentation",
                e.epoch,
            )


@RULES.rule(
    "KIN504",
    "not-learning",
    Severity.WARNING,
    "loss flat and accuracy unchanged",
    "A run whose loss does not move learns nothing: a learning rate far too low, frozen layers, or "
    "labels that do not match the outputs.",
)
def not_learning(ctx: Context) -> Iterator[RunFinding]:
    """Loss improved less than FLAT_LOSS of its first value over MIN_EPOCHS+ epochs (and any
    accuracy rose less than FLAT_ACCURACY, and, when the model gives the chance level, stayed
    near it as KIN512 measures)."""
    run = ctx.run
    loss = [v for v in run.series("loss") if finite(v)]
    if len(loss) < MIN_EPOCHS or _first_nonfinite(run):
        return
    first = loss[0]
    assert first is not None
    gain = first - min(v for v in loss if v is not None)
    if gain > FLAT_LOSS * abs(first):
        return
    acc = [name for name, _ in accuracy_metrics(run)]  # each output's, for a model of several
    for name, output in accuracy_metrics(run):
        values = values_of(run.series(name))
        if values and max(values) - values[0] > FLAT_ACCURACY:
            return
        c = _chance_of(ctx.chance, output) if ctx.chance else None
        if values and c is not None and max(values) > c + min(CHANCE_MARGIN * c, CHANCE_MARGIN_MAX):
            return  # flat, but far above chance: a converged (or resumed) run, not one that never learned
    extra = f"; {acc[0]} {_fmt(run.series(acc[0])[-1])}" if acc else ""
    yield _finding(
        "KIN504",
        f"loss moved {gain / abs(first) if first else 0:.2%} over {len(loss)} epochs{extra}",
        "raise the learning rate, check trainable layers, the loss and the label encoding",
    )


@RULES.rule(
    "KIN505",
    "plateau",
    Severity.INFO,
    "the monitored metric stopped improving",
    "A long plateau wastes epochs: ReduceLROnPlateau or EarlyStopping act on it.",
)
def plateau(ctx: Context) -> Iterator[RunFinding]:
    """PLATEAU_EPOCHS or more epochs in a row without a PLATEAU_DELTA relative improvement of the monitor."""
    values, mode = ctx.run.series(ctx.best.monitor), ctx.best.mode
    best: float | None = None
    since = start = 0
    for i, v in enumerate(values, 1):
        if not finite(v):
            continue
        assert v is not None
        margin = PLATEAU_DELTA * abs(best) if best is not None else 0.0
        target = None if best is None else (best - margin if mode is Mode.MIN else best + margin)
        if better(v, target, mode):
            best, since, start = v, 0, i
        else:
            since += 1
    if since >= PLATEAU_EPOCHS:
        yield _finding(
            "KIN505",
            f"{ctx.best.monitor} has not improved since epoch {start} ({since} epochs)",
            "ReduceLROnPlateau or EarlyStopping(restore_best_weights=True) would act on this",
            start + 1,
        )


@RULES.rule(
    "KIN506",
    "lr-drop-no-response",
    Severity.INFO,
    "a learning-rate drop the monitor did not answer",
    "When cutting the rate does not help, the plateau is not an optimisation problem: the model, "
    "the data or the regularization limit it.",
)
def lr_no_response(ctx: Context) -> Iterator[RunFinding]:
    """No new best of the monitor within LR_RESPONSE epochs of a learning-rate drop."""
    values, mode = ctx.run.series(ctx.best.monitor), ctx.best.mode
    for e in ctx.events:
        if e.kind != "lr_drop":
            continue
        before = [v for v in values[: e.epoch - 1] if finite(v)]
        after = [v for v in values[e.epoch - 1 : e.epoch - 1 + LR_RESPONSE] if finite(v)]
        if not before or len(after) < LR_RESPONSE:  # too few epochs after the drop to judge
            continue
        ref = min(before) if mode is Mode.MIN else max(before)  # type: ignore[type-var]
        new = min(after) if mode is Mode.MIN else max(after)  # type: ignore[type-var]
        if not better(new, ref, mode):  # type: ignore[arg-type]
            yield _finding(
                "KIN506",
                f"learning rate {_fmt(e.get('from'))} -> {_fmt(e.get('to'))} at epoch {e.epoch}: "
                f"{ctx.best.monitor} did not improve in the next {len(after)} epochs",
                "look beyond the optimizer: capacity, data, regularization",
                e.epoch,
            )


@RULES.rule(
    "KIN507",
    "early-stop",
    Severity.INFO,
    "training stopped after its best epoch",
    "The final weights are the best epoch's only with EarlyStopping(restore_best_weights=True); "
    "otherwise load the best checkpoint.",
)
def stopped(ctx: Context) -> Iterator[RunFinding]:
    """The early_stop event: last epoch against the best one."""
    for e in ctx.events:
        if e.kind == "early_stop":
            how = "ended" if e.get("inferred") else "stopped early"
            yield _finding(
                "KIN507",
                f"training {how} at epoch {e.epoch}, {e.get('patience')} epochs after the best epoch "
                f"{e.get('best_epoch')} ({ctx.best.monitor} {_fmt(ctx.best.value)})",
                f"the final weights are epoch {e.get('best_epoch')}'s only if EarlyStopping had "
                "restore_best_weights=True; else use the save_best_only checkpoint",
                e.epoch,
            )


@RULES.rule(
    "KIN508",
    "oscillation",
    Severity.WARNING,
    "loss going up and down from epoch to epoch",
    "An oscillating loss means steps too large for the curvature: a learning rate too high or "
    "batches too small.",
)
def oscillation(ctx: Context) -> Iterator[RunFinding]:
    """The loss changes direction on OSCILLATION_SHARE of OSCILLATION_EPOCHS+ epochs, each turn
    between two steps of at least OSCILLATION_STEP of the loss (a converged loss jittering in its
    last digits, after a steep start, turns often by tiny steps: not oscillation)."""
    loss = values_of(ctx.run.series("loss"))
    if len(loss) < OSCILLATION_EPOCHS:
        return
    steps = [(b - a) / max(abs(a), 1e-12) for a, b in itertools.pairwise(loss)]
    swings = [(a, b) for a, b in itertools.pairwise(steps) if a * b < 0]
    turns = sum(1 for a, b in swings if min(abs(a), abs(b)) >= OSCILLATION_STEP)
    if turns and turns >= OSCILLATION_SHARE * (len(steps) - 1):
        size = sum(abs(a) + abs(b) for a, b in swings) / (2 * len(swings))
        yield _finding(
            "KIN508",
            f"loss changes direction {turns} times in {len(loss)} epochs by {OSCILLATION_STEP:.0%} or more "
            f"(mean step at the turns {size:.0%})",
            "lower the learning rate or raise the batch size",
        )


def _leaf(name: str) -> str:
    return re.sub(r"_\d+$", "", name.rsplit("/", 1)[-1])


@RULES.rule(
    "KIN509",
    "frozen-weights",
    Severity.WARNING,
    "a weight whose histogram never changed",
    "A kernel or bias identical at every epoch did not train: a layer frozen by mistake "
    "(trainable=False) or cut off from the loss.",
)
def frozen(ctx: Context) -> Iterator[RunFinding]:
    """A trainable-kind weight (kernel, bias…) with identical histograms at every logged epoch,
    while other weights moved."""
    moving = [w for w in ctx.run.weights if len(w.epochs) >= 2 and not _still(w)]
    if not moving:
        return
    for w in ctx.run.weights:
        if len(w.epochs) >= 2 and _still(w) and _leaf(w.name) in TRAINABLE_LEAVES:
            yield _finding(
                "KIN509",
                f"{w.name} is the same at all {len(w.epochs)} logged epochs",
                "if the layer should train, set trainable=True before compile()",
                tensor=w.name,
            )


def _still(w: WeightSeries) -> bool:
    return all(len(set(s)) == 1 for s in (w.mean, w.std, w.min, w.max))


def _grew(first: float, last: float) -> bool:
    """A blow-up: WEIGHT_BLOWUP times the first magnitude, and at least WEIGHT_BLOWUP_FLOOR."""
    return math.isfinite(first) and first > 0 and last >= max(WEIGHT_BLOWUP * first, WEIGHT_BLOWUP_FLOOR)


def _magnitude(w: WeightSeries, i: int) -> float:
    return max(abs(w.min[i]), abs(w.max[i]))


@RULES.rule(
    "KIN510",
    "weights-blow-up",
    Severity.WARNING,
    "a weight whose magnitude grew 10x during training",
    "Weights that grow without bound precede a NaN loss; usually the learning rate, or missing "
    "normalization or regularization.",
)
def blow_up(ctx: Context) -> Iterator[RunFinding]:
    """The largest magnitude of a weight grew WEIGHT_BLOWUP times from its first histogram to its
    last, to WEIGHT_BLOWUP_FLOOR or more, or became non-finite."""
    for w in ctx.run.weights:
        if len(w.epochs) < 2:
            continue
        first, last = _magnitude(w, 0), _magnitude(w, -1)
        if not math.isfinite(last) and math.isfinite(first):
            yield _finding(
                "KIN510",
                f"{w.name} holds non-finite values from epoch "
                f"{next(e for i, e in enumerate(w.epochs) if not math.isfinite(_magnitude(w, i)))}",
                "see the loss: lower the learning rate, clip gradients",
                tensor=w.name,
            )
        elif _grew(first, last):
            yield _finding(
                "KIN510",
                f"{w.name} max |w| {first:.3g} -> {last:.3g} (epoch {w.epochs[0]} -> {w.epochs[-1]})",
                "lower the learning rate, add weight decay or normalization",
                tensor=w.name,
            )


@RULES.rule(
    "KIN511",
    "weights-collapse",
    Severity.WARNING,
    "a weight whose spread shrank to a tenth",
    "Weights collapsing towards one value lose capacity: too strong a regularizer or weight decay, "
    "or dying units.",
)
def collapse(ctx: Context) -> Iterator[RunFinding]:
    """The standard deviation of a weight fell below WEIGHT_COLLAPSE of its first histogram's."""
    for w in ctx.run.weights:
        if len(w.epochs) < 2 or _leaf(w.name) not in TRAINABLE_LEAVES:
            continue
        first, last = w.std[0], w.std[-1]
        if math.isfinite(first) and math.isfinite(last) and first > 0 and last <= WEIGHT_COLLAPSE * first:
            yield _finding(
                "KIN511",
                f"{w.name} std {first:.3g} -> {last:.3g} (epoch {w.epochs[0]} -> {w.epochs[-1]})",
                "weaken the regularizer or weight decay",
                tensor=w.name,
            )


# The accuracy metrics whose chance level is 1/classes (or 1/2 for one sigmoid unit), as History
# names them: bare for a single-output model, ``<output>_<metric>`` for each output of several.
ACCURACY = ("sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy", "accuracy", "acc")


def accuracy_metrics(run: Run) -> list[tuple[str, str]]:
    """``(metric, output)`` for each training accuracy of ``run`` (``output`` "" for a bare name)."""
    out = []
    for name in run.metrics:
        if name.startswith("val_"):
            continue
        if name in ACCURACY:
            out.append((name, ""))
            continue
        for acc in ACCURACY:
            if name.endswith("_" + acc) and len(name) > len(acc) + 1:
                out.append((name, name[: -len(acc) - 1]))
                break
    return out


def _chance_of(chance: Mapping[str, float | None], output: str) -> float | None:
    if output:
        return chance.get(output)
    return next(iter(chance.values())) if len(chance) == 1 else None


def output_chance(model: ModelInfo) -> dict[str, float | None]:
    """Each output layer's chance accuracy, by the layer's name (the prefix History gives its
    metrics): 1/classes for a softmax (or logits) output of ``classes`` units, 1/2 for one sigmoid
    unit or a binary loss on one unit; None when the file does not say it is a single-label
    classifier (several sigmoid units are multi-label, one linear unit a regression)."""
    layers = {layer.name: layer for layer in model.layers}
    losses = model.compile.loss if model.compile is not None else None
    out: dict[str, float | None] = {}
    for i, ref in enumerate(model.outputs):
        layer = layers.get(ref.layer)
        if layer is None:
            out[ref.layer] = None
            continue
        if isinstance(losses, (list, tuple)):
            loss = losses[i] if i < len(losses) else None
        elif isinstance(losses, Mapping) and ref.layer in losses:
            loss = losses[ref.layer]
        else:
            loss = losses
        binary = "binary" in str(loss).lower()
        units, activation = _units(layer, ref.tensor), _activation(layer)
        if units is None:
            out[ref.layer] = None
        elif units == 1:
            out[ref.layer] = 0.5 if activation == "sigmoid" or binary else None
        else:
            out[ref.layer] = None if activation == "sigmoid" or binary else 1.0 / units
    return out


def _units(layer: LayerInfo, tensor: int) -> int | None:
    """The last dimension of the layer's output (of its ``tensor``-th output), else a Dense's units."""
    shape = layer.output_shape
    if isinstance(shape, list):
        shape = shape[tensor] if tensor < len(shape) else None
    if isinstance(shape, tuple) and shape and isinstance(shape[-1], int):
        return shape[-1]
    units = layer.config.get("units")
    return units if isinstance(units, int) else None


def _activation(layer: LayerInfo) -> str | None:
    if layer.class_name.rsplit(".", 1)[-1] == "Softmax":
        return "softmax"
    act = layer.config.get("activation")
    return act.rsplit(".", 1)[-1] if isinstance(act, str) else None


@RULES.rule(
    "KIN512",
    "accuracy-at-chance",
    Severity.WARNING,
    "accuracy no better than chance (1/classes of the output layer)",
    "A classifier at chance learned nothing from its inputs: labels that do not match the inputs, a "
    "broken input pipeline or frozen layers; at chance on validation alone, it memorised the training set.",
)
def at_chance(ctx: Context) -> Iterator[RunFinding]:
    """The best accuracy of an output over MIN_EPOCHS+ epochs at most min(CHANCE_MARGIN x chance,
    CHANCE_MARGIN_MAX) above chance (1/classes of the output layer of a model or checkpoint found
    with the logs, 1/2 for one sigmoid unit); else its val_ twin so while training accuracy rose."""
    if not ctx.chance:
        return
    run = ctx.run
    for name, output in accuracy_metrics(run):
        c = _chance_of(ctx.chance, output)
        train = values_of(run.series(name))
        if c is None or len(train) < MIN_EPOCHS:
            continue
        limit = c + min(CHANCE_MARGIN * c, CHANCE_MARGIN_MAX)
        level = f"chance for {round(1 / c)} classes is {c:.4g}"
        val = values_of(run.series("val_" + name))
        if max(train) <= limit:
            also = f" (val_{name} at most {max(val):.4g})" if val else ""
            yield _finding(
                "KIN512",
                f"{name} at most {max(train):.4g} over {len(train)} epochs{also}: {level}",
                "check that the labels match the inputs (shuffled together, the encoding the loss "
                "expects), the input pipeline, and which layers train",
            )
        elif len(val) >= MIN_EPOCHS and max(val) <= limit:
            yield _finding(
                "KIN512",
                f"val_{name} at most {max(val):.4g} over {len(val)} epochs while {name} reached "
                f"{max(train):.4g}: {level}; the model memorises the training set",
                "check the validation labels and split (the same preprocessing and label encoding); "
                "if they are right, the model does not generalise: more data, regularization",
            )


def chance_notes(run: Run, chance: Mapping[str, float | None] | None) -> list[str]:
    """Why an accuracy of ``run`` could not be judged against chance (KIN512)."""
    names = accuracy_metrics(run)
    if not names:
        return []
    if chance is None:
        return [
            "chance level unknown: no model or checkpoint with an architecture beside the logs "
            "gives the class count, so accuracy near chance (KIN512) is not judged"
        ]
    unknown = [n for n, output in names if _chance_of(chance, output) is None]
    if unknown:
        return [
            f"chance level unknown for {', '.join(unknown)}: the model's output layer is not a "
            "single-label classifier kinspect recognises (KIN512 not judged)"
        ]
    return []


def diagnose(
    run: Run, best: Best, found: Sequence[Event], chance: Mapping[str, float | None] | None = None
) -> list[RunFinding]:
    ctx = Context(run, best, tuple(found), chance)
    out: list[RunFinding] = []
    for rule in RULES:
        out += rule.check(ctx)
    return out


# ---- weight trends -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    name: str
    first_epoch: int
    last_epoch: int
    std: tuple[float, float]
    absmax: tuple[float, float]
    trend: str  # frozen, blow-up, collapse, grows, shrinks, steady


def trends(run: Run) -> list[Trend]:
    out = []
    for w in run.weights:
        if not w.epochs:
            continue
        s0, s1 = w.std[0], w.std[-1]
        m0, m1 = _magnitude(w, 0), _magnitude(w, -1)
        if len(w.epochs) >= 2 and _still(w):
            kind = "frozen"
        elif math.isfinite(m0) and (not math.isfinite(m1) or _grew(m0, m1)):
            kind = "blow-up"
        elif s0 > 0 and math.isfinite(s1) and s1 <= WEIGHT_COLLAPSE * s0:
            kind = "collapse"
        elif s0 > 0 and s1 > 1.2 * s0:
            kind = "grows"
        elif s0 > 0 and s1 < s0 / 1.2:
            kind = "shrinks"
        else:
            kind = "steady"
        out.append(Trend(w.name, w.epochs[0], w.epochs[-1], (s0, s1), (m0, m1), kind))
    return out


# ---- checkpoints -------------------------------------------------------------------------------


class How(str, Enum):
    OPTIMIZER_STEP = "optimizer_step"  # the file's optimizer iterations, over steps per epoch
    FILE_NAME = "file_name"  # ModelCheckpoint's {epoch} in the name (1-based)
    SAVE_BEST_ONLY = "save_best_only"  # a name without an epoch: the best epoch by the monitor
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class CheckpointEpoch:
    path: str
    epoch: int | None
    how: How
    value: float | None  # the monitor at that epoch
    note: str | None = None


SUFFIXES = (".weights.h5", ".keras", ".hdf5", ".h5", ".index", ".ckpt", ".weights")


def epoch_in_name(path: str) -> int | None:
    """ModelCheckpoint's ``{epoch}`` in a file name: after ``epoch``/``ep``, or else the first
    whole number that is not part of a decimal (``weights.03-0.45.hdf5`` is epoch 3)."""
    stem = os.path.basename(path)
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    m = re.search(r"(?:epoch|ep)[_\-.=]?(\d+)", stem, re.IGNORECASE)
    if m is None:
        m = re.search(r"(?<!\d\.)(?<!\d)(\d+)(?!\d|\.\d)", stem)
    return int(m.group(1)) if m else None


def steps_per_epoch(run: Run, files: Sequence[CheckpointFile], given: int | None = None) -> int | None:
    """``given``, else ``History.params["steps"]``, else the optimizer step TensorBoard logged
    after the first epoch, else a checkpoint whose name and step agree on one ratio."""
    if given:
        return given
    if run.params.get("steps"):
        return run.params["steps"]
    its = run.iterations
    if its and its[0] and all(v == its[0] * (i + 1) for i, v in enumerate(its)):
        return its[0]
    ratios = {
        f.iterations // e
        for f in files
        if f.iterations and (e := epoch_in_name(f.path)) and f.iterations % e == 0
    }
    return ratios.pop() if len(ratios) == 1 else None


def map_checkpoints(
    run: Run | None, files: Sequence[CheckpointFile], best: Best | None, spe: int | None
) -> list[CheckpointEpoch]:
    """Each checkpoint's epoch: from its optimizer step, its name, or as the save_best_only file."""
    out = []
    for f in files:
        named = epoch_in_name(f.path)
        epoch, how, note = None, How.UNKNOWN, f.note
        if f.iterations is not None and run is not None and f.iterations in run.iterations:
            epoch, how = run.iterations.index(f.iterations) + 1, How.OPTIMIZER_STEP
        elif f.iterations and spe and f.iterations % spe == 0:
            epoch, how = f.iterations // spe, How.OPTIMIZER_STEP
        elif named is not None:
            epoch, how = named, How.FILE_NAME
        elif best is not None and best.epoch is not None:
            epoch, how = best.epoch, How.SAVE_BEST_ONLY
        if how is How.OPTIMIZER_STEP and named is not None and named != epoch:
            note = f"its name says epoch {named}, its optimizer step {f.iterations:,} says {epoch}"
        value = None
        if run is not None and best is not None and epoch is not None and 1 <= epoch <= run.epochs:
            value = run.series(best.monitor)[epoch - 1]
        out.append(CheckpointEpoch(f.path, epoch, how, value, note))
    return out


def series_names(run: Run) -> list[str]:
    """Metric names in display order: loss first, each metric then its val_ twin, the rate last."""
    names = sorted(
        run.metrics,
        key=lambda n: (
            n == "learning_rate",
            n.removeprefix("val_") != "loss",
            n.removeprefix("val_"),
            n.startswith("val_"),
        ),
    )
    return names


def values_of(series: Series) -> list[float]:
    return [v for v in series if finite(v)]  # type: ignore[misc]


# ---- one run, analysed ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunAnalysis:
    """A run with its best epoch, events, findings, weight trends and checkpoint epochs."""

    run: Run
    best: Best
    events: tuple[Event, ...]
    findings: tuple[RunFinding, ...]
    trends: tuple[Trend, ...]
    checkpoints: tuple[CheckpointEpoch, ...] = ()
    steps_per_epoch: int | None = None


def default_monitor(runs: Sequence[Run]) -> str:
    """``val_loss`` as Keras's callbacks default to, ``loss`` for runs without validation."""
    return "val_loss" if any("val_loss" in r.metrics for r in runs) else "loss"


def analyze(
    run: Run,
    monitor: str,
    mode: Mode | None = None,
    checkpoints: Sequence[CheckpointFile] = (),
    steps: int | None = None,
    budget: int | None = None,
    chance: Mapping[str, float | None] | None = None,
) -> RunAnalysis:
    """``chance``: each output's chance accuracy (:func:`output_chance` of the run's model), None
    when no model was found (a note then says accuracy near chance is not judged)."""
    best = best_epoch(run, monitor, mode)
    found = events(run, best, budget)
    findings = diagnose(run, best, found, chance)
    notes = chance_notes(run, chance)
    if notes:
        run = replace(run, notes=run.notes + tuple(notes))
    spe = steps_per_epoch(run, checkpoints, steps)
    mapped = map_checkpoints(run, checkpoints, best, spe)
    return RunAnalysis(run, best, tuple(found), tuple(findings), tuple(trends(run)), tuple(mapped), spe)
