"""Security rules KIN1xx: what loading the file with Keras would execute or import.

They read the raw config (every key, at every depth: nested models, wrappers' inner
``layer``, initializers, regularizers, activations, compile settings) and the archive's
member names. Nothing named in the file is imported or evaluated: names stay strings.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kinspect.catalog.architecture import MODEL_CLASSES
from kinspect.catalog.registry import is_builtin
from kinspect.checks.base import Family, Subject
from kinspect.findings import Finding, Severity

RULES = Family()

KERAS_ROOTS = ("keras", "tf_keras")
# Keras resolves ``"module": "builtins"`` function references against its own built-in
# functions (keras/src/saving/serialization_lib.py, BUILTIN_MODULES): these names are safe.
KERAS_BUILTIN_FUNCTIONS = frozenset(
    (
        "relu",
        "relu6",
        "leaky_relu",
        "elu",
        "selu",
        "gelu",
        "silu",
        "swish",
        "sigmoid",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "softmax",
        "log_softmax",
        "softplus",
        "softsign",
        "tanh",
        "exponential",
        "linear",
        "mish",
        "celu",
        "glu",
        "hard_tanh",
        "hard_shrink",
        "soft_shrink",
        "tanh_shrink",
        "squareplus",
        "sparse_plus",
        "sparse_sigmoid",
        "threshold",
        "log_sigmoid",
        "mse",
        "mae",
        "mape",
        "msle",
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_focal_crossentropy",
        "categorical_focal_crossentropy",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "huber",
        "log_cosh",
        "kl_divergence",
        "kld",
        "kullback_leibler_divergence",
        "poisson",
        "cosine_similarity",
        "ctc",
        "dice",
        "tversky",
        "accuracy",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
    )
)
# Keras namespaces whose functions are pure math; a function reference elsewhere in Keras
# (keras.utils.get_file, keras.models.load_model, keras.config...) has side effects.
SAFE_KERAS_FUNCTION_PARTS = frozenset(
    (
        "activations",
        "losses",
        "metrics",
        "initializers",
        "regularizers",
        "constraints",
        "ops",
        "backend",
        "random",
    )
)
# TensorFlow ops a TFOpLambda may name (``"function": "io.write_file"``) that touch files,
# run Python or load code when the model is called.
RISKY_TF_OPS = (
    "io.",
    "raw_ops.",
    "py_function",
    "numpy_function",
    "compat.v1.py_func",
    "compat.v1.io",
    "compat.v1.gfile",
    "saved_model",
    "summary.",
    "load_library",
    "load_op_library",
    "debugging.",
    "print",
    "data.experimental.save",
    "train.",
    "keras.",
)
# What a .keras archive holds (keras/src/saving/saving_lib.py): anything else is foreign.
ARCHIVE_FILES = frozenset({"config.json", "metadata.json", "model.weights.h5", "model.weights.json"})
EXECUTABLE_SUFFIXES = (
    ".py",
    ".pyc",
    ".pyo",
    ".pkl",
    ".pickle",
    ".joblib",
    ".dill",
    ".so",
    ".dylib",
    ".dll",
    ".exe",
    ".sh",
    ".bat",
    ".ps1",
    ".npy",
    ".pt",
    ".pth",
)
LAYER_KEYS = frozenset({"layers", "layer", "forward_layer", "backward_layer", "cell", "cells"})
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "os", "subprocess", "sys", "posix"}


@dataclass(frozen=True)
class Node:
    """A JSON object in the config, with the layer it belongs to and the key that holds it."""

    value: Mapping[str, Any]
    layer: str | None
    key: str | None


def walk(config: Any) -> Iterator[Node]:
    """Every JSON object of ``config``, depth first, iteratively (configs may be deep)."""
    stack: list[tuple[Any, str | None, str | None]] = [(config, None, None)]
    while stack:
        item, layer, key = stack.pop()
        if isinstance(item, list):
            stack.extend((v, layer, key) for v in reversed(item))
            continue
        if not isinstance(item, Mapping):
            continue
        here = layer
        inner = item.get("config")
        if key in LAYER_KEYS and isinstance(item.get("class_name"), str) and isinstance(inner, Mapping):
            name = item.get("name", inner.get("name"))
            if isinstance(name, str):
                here = f"{layer}/{name}" if layer else name
        yield Node(item, here, key)
        children = list(item.items())
        if isinstance(inner, list) and item.get("class_name") in MODEL_CLASSES:
            # Keras 1 / Keras <= 2.2.0 Sequential: its config is the bare list of layer entries.
            children = [(k, v) for k, v in children if k != "config"] + [("layers", inner)]
        stack.extend((v, here, str(k)) for k, v in reversed(children))


def _config(subject: Subject) -> Any:
    """The raw config, plus the compile settings an HDF5 file keeps apart (``training_config``)."""
    info = subject.info
    config = subject.raw.config
    if config is None and info is not None:  # not readable on its own: the loader's parse
        config = {"class_name": info.class_name, "config": dict(info.config)}
    extra = info.compile.config if info is not None and info.compile and not subject.raw.is_archive else None
    return [config, extra]


def _root(name: str) -> str:
    return name.replace(">", ".").split(".", 1)[0]


def marshalled(value: Any) -> bool:
    """A string (or ``[code, defaults, closure]`` list) holding base64 of a marshalled code object,
    as Keras's ``func_dump`` writes it (keras/src/utils/python_utils.py). Only its first bytes are
    decoded: marshal's TYPE_CODE (with or without FLAG_REF) and a small 32-bit argument count."""
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str) or len(value) < 60 or not value.startswith(("4w", "Yw")):
        return False
    try:
        head = base64.b64decode(value[:12], validate=True)
    except ValueError:
        return False
    return head[:1] in (b"\xe3", b"c") and head[2:5] == b"\0\0\0"


def bytecode(config: Any) -> Iterator[tuple[Node, str]]:
    """Objects of ``config`` that carry Python bytecode, with how (each reported once)."""
    done: set[int] = set()
    for node in walk(config):
        if id(node.value) in done:
            continue
        value, inner = node.value, node.value.get("config")
        why = None
        if value.get("class_name") == "__lambda__":
            why = "a Python lambda (marshalled bytecode)"
        elif value.get("class_name") == "Lambda" and isinstance(inner, Mapping):
            # Keras 2 / tf.keras: [code, defaults, closure] with function_type "lambda"; the
            # output_shape may be bytecode too (tf_keras/src/layers/core/lambda_layer.py).
            for what, kind in (("function", "function_type"), ("output_shape", "output_shape_type")):
                if inner.get(kind) == "lambda" and inner.get(what) is not None:
                    why = f"Python bytecode in its {what}"
                    break
        if why is None:
            keys = [k for k, v in value.items() if marshalled(v)]
            why = f"marshalled Python bytecode in {keys[0]!r:.40}" if keys else None
        if why:
            if isinstance(inner, Mapping):
                done.add(id(inner))
            yield node, why


def _reference(node: Node) -> tuple[str, bool] | None:
    """A (dotted name, is_function) that loading would resolve by import, or None."""
    value = node.value
    module, cls = value.get("module"), value.get("class_name")
    if isinstance(module, str) and isinstance(cls, str):
        if cls == "function":
            name = value.get("config")
            return f"{module}.{name if isinstance(name, str) else '?'}", True
        return f"{module}.{cls}", False
    if module is None and isinstance(cls, str) and ("." in cls or ">" in cls):
        return cls.replace(">", "."), False  # a registered name as class (Keras 3 legacy .h5)
    inner = value.get("config")
    if cls == "Lambda" and isinstance(inner, Mapping) and inner.get("function_type") == "function":
        fn, mod = inner.get("function"), inner.get("module")
        return f"{mod if isinstance(mod, str) else '?'}.{fn if isinstance(fn, str) else '?'}", True
    return None


def foreign(name: str, function: bool) -> str | None:
    """Why a referenced name is dangerous (KIN102), or None when Keras's own or merely custom."""
    root = _root(name)
    if root in KERAS_ROOTS:
        parts = set(name.split("."))
        if function and not parts & SAFE_KERAS_FUNCTION_PARTS:
            return "a Keras function with side effects, not an activation, loss or metric"
        return None
    if root == "builtins" and function and name.split(".", 1)[1] in KERAS_BUILTIN_FUNCTIONS:
        return None
    if root in STDLIB:
        return "the Python standard library"
    if function:
        return "a function outside Keras"
    return None


@RULES.rule(
    "KIN101",
    "lambda-bytecode",
    Severity.ERROR,
    "Lambda layer or lambda with Python bytecode",
    "Keras stores a Lambda's function as marshalled bytecode; loading with safe_mode=False, or with "
    "a Keras version or format that does not enforce safe mode, executes whatever code the file carries.",
)
def lambda_rule(subject: Subject) -> Iterator[Finding]:
    """KIN101: Python bytecode in the config, at any depth, in every format."""
    for node, why in bytecode(_config(subject)):
        lambda_layer = node.value.get("class_name") == "Lambda" or node.key == "function"
        what = "Lambda layer" if lambda_layer else f"{node.key or 'config'} entry"
        yield Finding(
            "KIN101",
            Severity.ERROR,
            f"{what} carries {why}; Keras runs it on load (safe_mode=False) or call",
            node.layer,
        )


@RULES.rule(
    "KIN102",
    "foreign-reference",
    Severity.ERROR,
    "module, class or function outside Keras",
    "Keras resolves `module`/`class_name`/`registered_name` and function references by import; "
    "a config naming os.system, subprocess.Popen, builtins.exec or a Keras utility such as "
    "keras.utils.get_file was the route of the 2025 safe-mode bypasses (CVE-2025-1550).",
)
def reference_rule(subject: Subject) -> Iterator[Finding]:
    """KIN102: module, class or function references outside Keras's namespaces."""
    for node in walk(_config(subject)):
        ref = _reference(node)
        names = [ref] if ref else []
        registered = node.value.get("registered_name")
        if isinstance(registered, str) and (">" in registered or "." in registered):
            dotted = registered.replace(">", ".")
            if not ref or dotted != ref[0]:
                names.append((dotted, False))
        cls = node.value.get("class_name")
        for name, function in names:
            why = foreign(name, function)
            if why:
                kind = "function" if function else "class"
                yield Finding(
                    "KIN102",
                    Severity.ERROR,
                    f"config names {kind} {name!r:.120} from {why}; loading it imports and runs that code",
                    node.layer,
                )
        if cls == "TFOpLambda":
            inner = node.value.get("config")
            fn = inner.get("function") if isinstance(inner, Mapping) else None
            if isinstance(fn, str) and fn.startswith(RISKY_TF_OPS):
                yield Finding(
                    "KIN102",
                    Severity.ERROR,
                    f"TFOpLambda calls tf.{fn:.100}, a TensorFlow op with side effects (files, Python code)",
                    node.layer,
                )


@RULES.rule(
    "KIN103",
    "needs-code",
    Severity.WARNING,
    "custom objects or TFOpLambda need code to load",
    "The file cannot be loaded without importing code that is not in the file: the classes listed "
    "must come from a trusted source (custom_objects) or TensorFlow (TFOpLambda).",
)
def custom_rule(subject: Subject) -> Iterator[Finding]:
    """KIN103: classes a loader needs code for: custom objects and TFOpLambda."""
    needed: dict[str, list[str]] = {}
    for node in walk(_config(subject)):
        value = node.value
        cls, module = value.get("class_name"), value.get("module")
        if not isinstance(cls, str):
            continue
        if cls == "TFOpLambda":
            inner = value.get("config")
            fn = inner.get("function") if isinstance(inner, Mapping) else None
            needed.setdefault("TFOpLambda (TensorFlow)", []).append(
                f"tf.{fn}" if isinstance(fn, str) else "?"
            )
            continue
        ref = _reference(node)
        if ref and not ref[1] and _root(ref[0]) not in KERAS_ROOTS and foreign(*ref) is None:
            needed.setdefault(ref[0], []).append(node.layer or "(model)")
        elif module is None and node.key in LAYER_KEYS and _unknown_keras2_class(cls, value):
            needed.setdefault(cls, []).append(node.layer or "(model)")
    for cls, where in needed.items():
        shown = ", ".join(dict.fromkeys(where))
        yield Finding("KIN103", Severity.WARNING, f"loading needs code for {cls} (used by {shown:.300})")


def _unknown_keras2_class(cls: str, value: Mapping[str, Any]) -> bool:
    """A Keras 2 layer entry (no ``module``) whose class kinspect does not know as Keras's."""
    if not isinstance(value.get("config"), Mapping) or "." in cls:
        return False
    return not is_builtin(cls) and cls not in MODEL_CLASSES


@RULES.rule(
    "KIN104",
    "unsafe-member-path",
    Severity.ERROR,
    "archive member with an absolute or .. path",
    "Keras extracts archive assets; a member path that escapes the folder writes anywhere the user "
    "can (zip slip).",
)
def unsafe_member_rule(subject: Subject) -> Iterator[Finding]:
    """KIN104: archive members that would be written outside the extraction folder."""
    for name in subject.raw.unsafe:
        yield Finding(
            "KIN104",
            Severity.ERROR,
            f"archive member {name!r:.120} has an absolute or '..' path "
            "that would be written outside the extraction folder",
        )


@RULES.rule(
    "KIN105",
    "unexpected-member",
    Severity.WARNING,
    "archive member that a .keras file does not hold",
    "A .keras archive holds config.json, metadata.json, the weights and assets/; anything else is "
    "smuggled content.",
)
def unexpected_member_rule(subject: Subject) -> Iterator[Finding]:
    """KIN105: archive members that are not part of a .keras model (and not code: KIN106)."""
    raw = subject.raw
    shards = _shards(raw.members)
    for name in raw.members:
        if name in raw.unsafe or _executable(name):
            continue
        if name not in ARCHIVE_FILES and name not in shards and not name.startswith("assets/"):
            yield Finding(
                "KIN105", Severity.WARNING, f"archive member {name!r:.120} is not part of a .keras model"
            )


@RULES.rule(
    "KIN106",
    "executable-member",
    Severity.ERROR,
    "code or pickled data inside the archive",
    "Python sources, pickles and native libraries have no place in a model archive.",
)
def executable_member_rule(subject: Subject) -> Iterator[Finding]:
    """KIN106: Python code, pickles or native libraries inside the archive."""
    raw = subject.raw
    for name in raw.members:
        if name not in raw.unsafe and _executable(name):
            yield Finding("KIN106", Severity.ERROR, f"archive member {name!r:.120} is code or pickled data")


def _executable(name: str) -> bool:
    return name.lower().endswith(EXECUTABLE_SUFFIXES)


def _shards(members: tuple[str, ...]) -> set[str]:
    """Sharded weights files (``model_00000.weights.h5``) that Keras writes beside the index."""
    return (
        {m for m in members if "/" not in m and m.endswith(".weights.h5")}
        if "model.weights.json" in members
        else set()
    )


@RULES.rule(
    "KIN107",
    "safe-mode-refusal",
    Severity.WARNING,
    "predicted safe_mode=True load failure",
    "Keras 3 refuses Python lambdas and (since 3.9) imports outside Keras in safe mode: the model "
    "needs safe_mode=False or custom_objects, which is where the risk lies.",
)
def safe_mode_rule(subject: Subject) -> Iterator[Finding]:
    """KIN107: keras.saving.load_model(safe_mode=True) will refuse this file."""
    reasons: list[str] = []
    config = _config(subject)
    if any(bytecode(config)):
        reasons.append("Python lambda bytecode")
    for node in walk(config):
        ref = _reference(node)
        if (
            ref
            and _root(ref[0]) not in KERAS_ROOTS
            and not (ref[1] and _root(ref[0]) == "builtins" and foreign(*ref) is None)
        ):
            label = f"non-Keras module {ref[0].rsplit('.', 1)[0]:.80}"
            if label not in reasons:
                reasons.append(label)
    if reasons:
        more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
        yield Finding(
            "KIN107",
            Severity.WARNING,
            f"keras.saving.load_model(safe_mode=True) will refuse this file: {', '.join(reasons[:3])}{more}",
        )
