"""Health diagnostics from the weights alone: no data, no Keras.

Pure functions of per-tensor statistics (:mod:`kinspect.analyzers.tensorstats`). Each rule
(KIN201-KIN207, :data:`RULES`) is described beside the function that finds it; ``kinspect check``
passes the same findings on under the same ids.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kinspect.analyzers.tensorstats import OPTIMIZER_LAYER, TensorStats
from kinspect.findings import Finding, Rule, Severity

KERNELS = {"kernel", "depthwise_kernel", "pointwise_kernel"}
SCALE_TENSORS = KERNELS | {"recurrent_kernel", "embeddings"}
FLOAT16_MAX = 65504.0
MIN_INIT_SIZE = 64  # fewer values cannot show that they fill an initializer's interval
SPREAD_DECADES = 2.0  # a kernel 100x larger or smaller (RMS) than the model's median
TRUNC_STD = 0.87962566103423978  # keras/src/initializers/random_initializers.py, VarianceScaling
# Relative slack on an initializer bound, by dtype: values rounded to the stored precision.
BOUND_TOL = {"float16": 1e-3, "bfloat16": 8e-3}


@dataclass(frozen=True)
class Bound:
    """The interval an initializer draws from: [low, high], and the std it produces."""

    name: str
    low: float
    high: float
    std: float
    truncated_normal: bool = False


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """keras/src/initializers/random_initializers.py ``compute_fans``."""
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


VARIANCE_SCALING = {
    "glorotuniform": (1.0, "fan_avg", "uniform"), "glorotnormal": (1.0, "fan_avg", "truncated_normal"),
    "heuniform": (2.0, "fan_in", "uniform"), "henormal": (2.0, "fan_in", "truncated_normal"),
    "lecununiform": (1.0, "fan_in", "uniform"), "lecunnormal": (1.0, "fan_in", "truncated_normal"),
}  # fmt: skip


def initializer_bound(init: Any, shape: tuple[int, ...]) -> Bound | None:
    """The bounded interval of a standard initializer config (Keras 2 or 3), or None."""
    cls: Any
    cfg: Mapping[str, Any]
    if isinstance(init, str):
        cls, cfg = init, {}
    elif isinstance(init, Mapping):
        cls = init.get("class_name")
        inner = init.get("config")
        cfg = inner if isinstance(inner, Mapping) else {}
    else:
        return None
    if not isinstance(cls, str):
        return None
    key = cls.replace("_", "").lower()
    if key in VARIANCE_SCALING:
        scale, mode, dist = VARIANCE_SCALING[key]
    elif key == "variancescaling":
        scale, mode, dist = cfg.get("scale", 1.0), cfg.get("mode", "fan_in"), cfg.get("distribution", "")
    elif key in ("randomuniform", "uniform"):
        low, high = cfg.get("minval", -0.05), cfg.get("maxval", 0.05)
        if not all(isinstance(v, (int, float)) for v in (low, high)) or high <= low:
            return None
        return Bound(cls, float(low), float(high), (high - low) / math.sqrt(12))
    elif key == "truncatednormal":
        mean, std = cfg.get("mean", 0.0), cfg.get("stddev", 0.05)
        if not all(isinstance(v, (int, float)) for v in (mean, std)) or std <= 0:
            return None
        return Bound(cls, mean - 2 * std, mean + 2 * std, std * TRUNC_STD, truncated_normal=True)
    else:
        return None
    if not isinstance(scale, (int, float)) or scale <= 0:
        return None
    fan_in, fan_out = _fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}.get(mode)
    if not n:
        return None
    if dist == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return Bound(cls, -limit, limit, limit / math.sqrt(3))
    if dist == "truncated_normal":
        std = math.sqrt(scale / n) / TRUNC_STD
        return Bound(cls, -2 * std, 2 * std, std * TRUNC_STD, truncated_normal=True)
    return None  # untruncated normal: no bound to recognise


# Layer classes whose kernels Keras initializes from the full stored shape (compute_fans),
# and the config key of each variable's initializer. Classes with sub-objects (an LSTM's cell,
# attention's EinsumDense projections, which compute fans over einsum axes) are not listed.
_CONV = ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
INIT_KEYS: dict[str, dict[str, str]] = {
    "Dense": {"kernel": "kernel_initializer"},
    **{c: {"kernel": "kernel_initializer"} for c in _CONV},
    "DepthwiseConv1D": {"kernel": "depthwise_initializer", "depthwise_kernel": "depthwise_initializer"},
    "DepthwiseConv2D": {"kernel": "depthwise_initializer", "depthwise_kernel": "depthwise_initializer"},
    "SeparableConv1D": {
        "depthwise_kernel": "depthwise_initializer",
        "pointwise_kernel": "pointwise_initializer",
    },
    "SeparableConv2D": {
        "depthwise_kernel": "depthwise_initializer",
        "pointwise_kernel": "pointwise_initializer",
    },
    "Embedding": {"embeddings": "embeddings_initializer"},
}
# After a few optimizer steps (or when the file cannot say whether it trained), a smaller kernel
# may still sit inside its initializer's bound.
MIN_STEPPED_SIZE = 1000


def _candidates(row: TensorStats) -> tuple[list[Any], bool]:
    """Initializers to test, and whether they are certain (named by the layer's config).

    Without a config (weights-only files) only Keras's default is tried, and a kernel outside
    it proves nothing: the layer may have used another initializer.
    """
    owner = row.entry.owner
    leaf = row.entry.leaf
    if owner is None:
        return [], False
    keys = INIT_KEYS.get(owner.class_name)
    if keys is None or leaf not in keys:
        return [], False
    configured = owner.config.get(keys[leaf]) if owner.config else None
    if configured is not None:
        return [configured], True
    if owner.config:  # a config that omits the key: Keras's default
        return ([{"class_name": "RandomUniform"}] if leaf == "embeddings" else ["GlorotUniform"]), True
    # No config (weights-only): only Keras's default could be recognised, and never proven left.
    return ([{"class_name": "RandomUniform"}] if leaf == "embeddings" else ["GlorotUniform"]), False


def at_initializer(row: TensorStats, stepped: bool = False) -> tuple[bool | None, Bound | None]:
    """(True: values fill exactly an initializer's interval with its spread; False: they left
    the configured initializer's interval, so the tensor trained; None: cannot tell) and the
    bound. ``stepped``: the optimizer says training happened, so demand more values."""
    if "float" not in row.dtype or row.min is None or row.max is None or row.std is None:
        return None, None
    inits, certain = _candidates(row)
    outside = False
    for init in inits:
        bound = initializer_bound(init, row.shape)
        if bound is None:
            continue
        width = bound.high - bound.low
        slack = BOUND_TOL.get(row.dtype, 1e-6) * max(abs(bound.low), abs(bound.high))
        if row.min < bound.low - slack or row.max > bound.high + slack:
            outside = True
            continue
        need = max(
            256 if bound.truncated_normal else MIN_INIT_SIZE,
            MIN_STEPPED_SIZE if stepped or not certain else 0,
        )
        if row.finite < need:
            continue
        fill = 0.9 if bound.truncated_normal else 0.95
        center = (bound.low + bound.high) / 2
        fills = (center - row.min) >= fill * width / 2 and (row.max - center) >= fill * width / 2
        if fills and bound.std > 0 and abs(row.std / bound.std - 1) < 0.15:
            return True, bound
    return (False, None) if outside and certain else (None, None)


def _g(x: float | None) -> str:
    return "?" if x is None else f"{x:.4g}"


def _leaf_rows(rows: Sequence[TensorStats], leaf: str) -> dict[str, TensorStats]:
    return {r.layer: r for r in rows if r.entry.leaf == leaf and not r.entry.optimizer}


def diagnose(
    rows: Sequence[TensorStats],
    optimizer: Mapping[str, float | int] | None = None,
    optimizer_name: str | None = None,
) -> list[Finding]:
    """Every finding, in rule order then model order."""
    model_rows = [r for r in rows if not r.entry.optimizer and r.error is None]
    steps = optimizer.get("iterations") if optimizer else None
    stepped = isinstance(steps, (int, float)) and steps > 0
    init = {id(r): at_initializer(r, stepped) for r in model_rows}
    at_init = [(r, b) for r in model_rows for ok, b in [init[id(r)]] if ok and b is not None]
    moved = [r for r in model_rows if init[id(r)][0] is False]
    trained = bool(moved) or stepped
    findings: list[Finding] = []
    findings += _nan_inf(rows)
    findings += _dead_units(model_rows)
    findings += _batchnorm(model_rows, trained)
    findings += _untrained(model_rows, at_init, moved, trained)
    findings += _scale(model_rows)
    findings += _float16(rows)
    findings += _optimizer(optimizer, optimizer_name)
    return findings


def _found(
    rule: Rule, severity: Severity, layer: str | None, tensor: str | None, evidence: str, hint: str
) -> Finding:
    """A finding whose message is the rule's title, then what was seen."""
    return Finding(rule.id, severity, f"{rule.title}: {evidence}", layer, tensor, hint)


def _where(r: TensorStats) -> tuple[str | None, str]:
    return (None if r.layer == OPTIMIZER_LAYER else r.layer), r.name


NAN_INF = Rule(
    "KIN201", "nan-inf", Severity.ERROR, "NaN or Inf values in a tensor",
    "A model with non-finite weights outputs NaN: usually a diverged training run.",
    title="NaN or Inf values",
)  # fmt: skip


def _nan_inf(rows: Sequence[TensorStats]) -> list[Finding]:
    out = []
    for r in rows:
        if r.nan or r.inf:
            layer, name = _where(r)
            out.append(_found(
                NAN_INF, Severity.ERROR, layer, name,
                f"{r.nan:,} NaN and {r.inf:,} Inf among {r.size:,} values",
                "training diverged (lower the learning rate, clip gradients, check the loss for log(0)"
                " or division by zero) or the file is damaged; restore an earlier checkpoint",
            ))  # fmt: skip
    return out


DEAD_UNITS = Rule(
    "KIN202", "dead-units", Severity.WARNING, "units whose incoming weights are all zero",
    "Dead units waste capacity and often mean a ReLU died or pruning went wrong.",
    title="dead units",
)  # fmt: skip


def _dead_units(rows: Sequence[TensorStats]) -> list[Finding]:
    out = []
    for r in rows:
        if r.entry.leaf in KERNELS and r.dead_units and r.units:
            shown = ", ".join(str(i) for i in r.dead_index[:8]) + (", …" if r.dead_units > 8 else "")
            what = "every unit" if r.dead_units == r.units else f"{r.dead_units:,} of {r.units:,} units"
            out.append(_found(
                DEAD_UNITS, Severity.WARNING, r.layer, r.name,
                f"{what} (last axis: {shown}) receive all-zero weights",
                "these units output a constant whatever the input: check pruning or masking code,"
                " a zero initializer, or weights that failed to load",
            ))  # fmt: skip
    return out


BATCHNORM = Rule(
    "KIN203", "batchnorm-variance", Severity.ERROR, "collapsed or negative BatchNorm variance",
    "A zero or negative moving variance divides by ~epsilon at inference.",
    title="BatchNormalization statistics",
)  # fmt: skip


def _batchnorm(rows: Sequence[TensorStats], trained: bool) -> list[Finding]:
    out = []
    variances = _leaf_rows(rows, "moving_variance")
    means = _leaf_rows(rows, "moving_mean")
    for layer, var in variances.items():
        if var.min is not None and var.min < 0:
            count = f"{var.negative:,} negative value(s)" if var.negative else "negative values"
            out.append(_found(
                BATCHNORM, Severity.ERROR, layer, var.name, f"{count}, min {_g(var.min)}",
                "a variance cannot be negative: the file was edited or corrupted; inference takes"
                " sqrt(variance + epsilon) and produces NaN",
            ))  # fmt: skip
        elif var.zeros:
            out.append(_found(
                BATCHNORM, Severity.WARNING, layer, var.name,
                f"{var.zeros:,} of {var.size:,} channels have zero variance",
                "those channels were constant in training (dead inputs?); inference divides by"
                " sqrt(epsilon) there, which amplifies any input",
            ))  # fmt: skip
        mean = means.get(layer)
        if trained and mean is not None and mean.zeros == mean.size and var.min == var.max == 1.0:
            out.append(_found(
                BATCHNORM, Severity.WARNING, layer, "moving_mean/moving_variance",
                "moving statistics are still at their initial values (mean 0, variance 1)"
                " while the model trained",
                "the layer never ran in training mode (frozen before training, or called with"
                " training=False): inference normalizes with wrong statistics",
            ))  # fmt: skip
    return out


UNTRAINED = Rule(
    "KIN204", "untrained", Severity.WARNING, "layers still at their initial values",
    "A layer that never trained while the rest did points at a frozen or disconnected branch.",
    title="untrained layer",
)  # fmt: skip


def _untrained(
    rows: Sequence[TensorStats],
    at_init: list[tuple[TensorStats, Bound]],
    moved: list[TensorStats],
    trained: bool,
) -> list[Finding]:
    out = []
    for r, b in at_init:
        out.append(_found(
            UNTRAINED, Severity.WARNING, r.layer, r.name,
            f"values fill [{_g(b.low)}, {_g(b.high)}], the interval of {b.name} for shape"
            f" {tuple(r.shape)}, with its spread (std {_g(r.std)}, expected {_g(b.std)})",
            "the layer looks never trained: weights=None, training skipped or frozen, or weights"
            " that failed to load",
        ))  # fmt: skip
    if not trained:
        return out
    gammas, betas = _leaf_rows(rows, "gamma"), _leaf_rows(rows, "beta")
    for layer, gamma in gammas.items():
        beta = betas.get(layer)
        if beta is not None and gamma.min == gamma.max == 1.0 and beta.zeros == beta.size and gamma.size > 1:
            out.append(_found(
                UNTRAINED, Severity.WARNING, layer, "gamma/beta",
                "gamma is all 1 and beta all 0, their initial values, while the model trained",
                "the normalization layer never trained: was it frozen, or outside the trained graph?",
            ))  # fmt: skip
    biases = [r for r in rows if r.entry.leaf == "bias" and r.size > 0]
    if biases and all(b.zeros == b.size for b in biases) and moved:
        out.append(_found(
            UNTRAINED, Severity.WARNING, None, "bias",
            f"all {len(biases)} bias vectors are exactly zero while {len(moved)} kernel(s) changed",
            "biases never trained: check that they are trainable and receive gradients",
        ))  # fmt: skip
    else:
        kernels = {r.layer: r for r in moved if r.entry.leaf == "kernel"}
        for bias in biases:
            if bias.layer in kernels and bias.zeros == bias.size and bias.size > 1:
                out.append(_found(
                    UNTRAINED, Severity.WARNING, bias.layer, bias.name,
                    "the bias is exactly zero while this layer's kernel trained",
                    "the bias receives no gradient or is excluded from training",
                ))  # fmt: skip
    return out


WEIGHT_SCALE = Rule(
    "KIN205", "weight-scale", Severity.WARNING, "exploding or vanishing weights",
    "A kernel 100x off the model's typical scale is a sign of unstable training.",
    title="exploding or vanishing weights",
)  # fmt: skip


def _scale(rows: Sequence[TensorStats]) -> list[Finding]:
    """Kernels whose RMS is far from the model's median kernel RMS (on a log scale)."""
    candidates = [r for r in rows if r.entry.leaf in SCALE_TENSORS and "float" in r.dtype
                  and r.finite >= 16 and r.rms]  # fmt: skip
    if len(candidates) < 4:
        return []
    logs = {id(r): math.log10(r.rms or 1.0) for r in candidates}
    median = statistics.median(logs.values())
    mad = statistics.median(abs(v - median) for v in logs.values()) * 1.4826
    limit = max(SPREAD_DECADES, 5 * mad)
    out = []
    for r in candidates:
        away = logs[id(r)] - median
        if abs(away) > limit:
            kind = "exploding" if away > 0 else "vanishing"
            out.append(_found(
                WEIGHT_SCALE, Severity.WARNING, r.layer, r.name,
                f"{kind}: RMS {_g(r.rms)} is {10 ** abs(away):,.0f}x {'above' if away > 0 else 'below'}"
                f" the model's median kernel RMS {_g(10**median)} (max |x| {_g(r.absmax)})",
                "weights this far from the rest saturate or silence the layer: check the learning"
                " rate, weight decay and normalization, or a bad manual edit",
            ))  # fmt: skip
    return out


FLOAT16_OVERFLOW = Rule(
    "KIN206", "float16-overflow", Severity.WARNING, "values that overflow float16",
    "Converting to float16 (mixed precision, TFLite) turns them into Inf.",
    title="float16 overflow",
)  # fmt: skip


def _float16(rows: Sequence[TensorStats]) -> list[Finding]:
    out = []
    for r in rows:
        if r.float16_overflow:
            layer, name = _where(r)
            out.append(_found(
                FLOAT16_OVERFLOW, Severity.WARNING, layer, name,
                f"{r.float16_overflow:,} value(s) beyond ±65504 (max |x| {_g(r.absmax)})"
                " become inf in float16",
                "keep this layer in float32 under mixed precision, or rescale it, before converting"
                " the model to float16",
            ))  # fmt: skip
    return out


OPTIMIZER_STATE = Rule(
    "KIN207", "optimizer-state", Severity.INFO, "the optimizer's step count and learning rate",
    "Information only (not run unless selected).",
    title="optimizer state", default=False,
)  # fmt: skip


def _optimizer(state: Mapping[str, float | int] | None, name: str | None) -> list[Finding]:
    if not state:
        return []
    parts = []
    if "iterations" in state:
        parts.append(f"step {int(state['iterations']):,}")
    if "learning_rate" in state:
        parts.append(f"learning rate {state['learning_rate']:.6g}")
    who = f"{name} " if name else ""
    evidence = f"{who}{', '.join(parts)}"
    if state.get("iterations") == 0:
        hint = "the optimizer never stepped: the model was compiled and saved but not trained"
        return [_found(OPTIMIZER_STATE, Severity.WARNING, None, "optimizer", evidence, hint)]
    hint = "where training stopped; resuming continues from this step and learning rate"
    return [_found(OPTIMIZER_STATE, Severity.INFO, None, "optimizer", evidence, hint)]


RULES = (NAN_INF, DEAD_UNITS, BATCHNORM, UNTRAINED, WEIGHT_SCALE, FLOAT16_OVERFLOW, OPTIMIZER_STATE)
_TITLES = {r.id: f"{r.title}: " for r in RULES}


def evidence(finding: Finding) -> str:
    """What a diagnostic saw: its message after the rule's title (the weights JSON's ``evidence``)."""
    return finding.message.removeprefix(_TITLES.get(finding.rule, ""))
