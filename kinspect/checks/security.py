"""Security rules KIN1xx: what loading the file with Keras would execute or import.

They read the raw config (every key, at every depth: nested models, wrappers' inner
``layer``, initializers, regularizers, activations, compile settings) and the archive's
member names. Nothing named in the file is imported or evaluated: names stay strings.
"""

from __future__ import annotations

import base64
import builtins
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

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
# Keras's own objects registered under the default package "Custom": tf.keras 2.11+ (and tf_keras)
# decorate its optimizers and a few others with ``@register_keras_serializable()``, so a legacy
# config (an .h5 training_config, a SavedModel) names them "Custom>Adam"; Keras finds them in its
# registry. From keras/optimizers/*.py, models/sharpness_aware_minimization.py and
# applications/inception_resnet_v2.py, Keras 2.11-2.15 and tf_keras 2.16+.
KERAS_REGISTERED = frozenset(
    f"Custom>{name}"
    for name in (
        "Adadelta",
        "Adafactor",
        "Adagrad",
        "Adam",
        "AdamW",
        "Adamax",
        "Ftrl",
        "Lion",
        "Nadam",
        "RMSprop",
        "SGD",
        "SharpnessAwareMinimization",
        "CustomScaleLayer",
    )
)
# Keras functions that are not modeling functions: Keras 3.15+ refuses them in a config
# (keras/src/saving/serialization_lib.py, NON_MODELING_APIS); older Keras and tf_keras do not.
NON_MODELING_APIS = frozenset(
    (
        "keras.backend.clear_session",
        "keras.config.enable_unsafe_deserialization",
        "keras.models.load_model",
        "keras.models.model_from_json",
        "keras.models.save_model",
        "keras.preprocessing.image_dataset_from_directory",
        "keras.preprocessing.image.load_img",
        "keras.preprocessing.image.save_img",
        "keras.preprocessing.text_dataset_from_directory",
        "keras.saving.deserialize_keras_object",
        "keras.saving.load_model",
        "keras.saving.load_weights",
        "keras.saving.register_keras_serializable",
        "keras.saving.save_model",
        "keras.saving.save_weights",
        "keras.saving.serialize_keras_object",
        "keras.utils.audio_dataset_from_directory",
        "keras.utils.clear_session",
        "keras.utils.deserialize_keras_object",
        "keras.utils.get_file",
        "keras.utils.image_dataset_from_directory",
        "keras.utils.load_img",
        "keras.utils.register_keras_serializable",
        "keras.utils.save_img",
        "keras.utils.serialize_keras_object",
        "keras.utils.text_dataset_from_directory",
    )
)
# What ``vars(builtins).get(name)`` finds: exec, eval, open, __import__...
PYTHON_BUILTINS = frozenset(vars(builtins))
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
# What a .keras archive holds (keras/src/saving/saving_lib.py; model.weights.npz with
# weights_format="npz"): anything else is foreign.
ARCHIVE_FILES = frozenset(
    {"config.json", "metadata.json", "model.weights.h5", "model.weights.json", "model.weights.npz"}
)
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


class Node(NamedTuple):
    """A JSON object in the config, with the layer it belongs to and the key that holds it."""

    value: Mapping[str, Any]
    layer: str | None
    key: str | None


def walk(config: Any) -> Iterator[Node]:
    """Every JSON object of ``config``, depth first, iteratively (configs may be deep)."""
    stack: list[tuple[Any, str | None, str | None]] = [(config, None, None)]
    push, pop = stack.append, stack.pop
    while stack:
        item, layer, key = pop()
        if isinstance(item, list):
            for v in reversed(item):
                push((v, layer, key))
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
        if isinstance(inner, list) and str(item.get("class_name")) in MODEL_CLASSES:
            # Keras 1 / Keras <= 2.2.0 Sequential: its config is the bare list of layer entries.
            children = [(k, v) for k, v in children if k != "config"] + [("layers", inner)]
        for k, v in reversed(children):
            if isinstance(v, (list, Mapping)):  # only containers hold objects
                push((v, here, str(k)))


def _config(subject: Subject) -> Any:
    """The raw config, plus the compile settings an HDF5 file keeps apart (``training_config``)."""
    info = subject.info
    config = subject.raw.config
    if config is None and info is not None:  # not readable on its own: the loader's parse
        config = {"class_name": info.class_name, "config": dict(info.config)}
    extra = info.compile.config if info is not None and info.compile and not subject.raw.is_archive else None
    # A config.json that a later member of the same name hides is read by other zip readers.
    return [config, extra, *subject.raw.shadowed]


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


def _nodes(subject: Subject) -> list[Node]:
    """Every object of the file's config (:func:`walk`), listed once for all the rules."""
    nodes = subject.derived.get("nodes")
    if nodes is None:
        nodes = subject.derived["nodes"] = list(walk(_config(subject)))
    return nodes


def _bytecode(subject: Subject) -> list[tuple[Node, str]]:
    found = subject.derived.get("bytecode")
    if found is None:
        found = subject.derived["bytecode"] = list(bytecode(_nodes(subject)))
    return found


def bytecode(nodes: Iterable[Node]) -> Iterator[tuple[Node, str]]:
    """The objects among ``nodes`` (a config's :func:`walk`) that carry Python bytecode, with
    how (each reported once)."""
    done: set[int] = set()
    for node in nodes:
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


@dataclass(frozen=True)
class Reference:
    """A Python object a config names, and what a Keras loader does to find it.

    ``danger`` says why resolving it runs code that is neither Keras's nor the model's own
    (KIN102); ``custom`` marks an object the loader finds only in code the user supplies
    (registered, or passed as custom_objects: KIN103). Keras's own objects are neither.
    """

    name: str  # as shown: "os.system", "zoo>ScaledDense", "Custom>my_loss"
    function: bool
    danger: str | None = None
    custom: bool = False


def reference(node: Node) -> Reference | None:
    """What loading resolves for ``node``, following Keras's ``deserialize_keras_object``.

    A new-style object (one with a ``module`` key) is resolved by ``_retrieve_class_or_fn``
    (keras/src/saving/serialization_lib.py, tf_keras/src/saving/serialization_lib.py): first the
    registry of custom objects (by the function's name, or the class's ``registered_name``),
    then Keras's own API, then, for ``module: "builtins"`` functions, Keras's built-in activations,
    losses and metrics; only then does it ``importlib.import_module(module)`` and take the
    attribute ``name`` (or ``registered_name``) of it. Keras 3.9+ imports Keras packages only; tf_keras
    and Keras 3.0-3.8 import any module, and that is the route KIN102 guards. Legacy objects (no
    ``module``: Keras 2 and ``.h5`` configs, ``"class_name": "Custom>Adam"``) are looked up by name
    in the registry and Keras's modules, never imported.
    """
    value = node.value
    cls = value.get("class_name")
    if value.get("function_type") == "function" and node.key == "config":
        # A Keras 2 Lambda's config (also inside a tf.keras .keras file): tf.keras looked its
        # function up in the namespace of ``module`` when that module was already imported
        # (tf_keras/src/layers/core/lambda_layer.py, _parse_function_from_config).
        fn, mod = value.get("function"), value.get("module")
        return _in_module(
            mod if isinstance(mod, str) else "?", fn if isinstance(fn, str) else "?", None, function=True
        )
    if not isinstance(cls, str):
        return None
    if "module" in value:
        return _new_style(value, cls)
    if ("." in cls or ">" in cls) and "config" in value:
        # A registered name as class (legacy .h5, Keras 2 SavedModel): a registry lookup only.
        return Reference(cls, False, custom=cls not in KERAS_REGISTERED)
    return None


def _new_style(value: Mapping[str, Any], cls: str) -> Reference | None:
    if cls.startswith("__") and cls.endswith("__") and cls != "__typespec__":
        return None  # tensors, slices, bytes; __lambda__ is KIN101's
    function = cls == "function"
    name = value.get("config") if function else value.get("spec_name") if cls == "__typespec__" else cls
    name = name if isinstance(name, str) else "?"
    registered = value.get("registered_name")
    registered = registered if isinstance(registered, str) else None
    module = value.get("module")
    if not isinstance(module, str) or not module:
        # No module (an object of __main__): the registry is the only place Keras looks.
        shown = registered if registered and ">" in registered and not function else name
        return Reference(shown, function, custom=shown not in KERAS_REGISTERED)
    return _in_module(module, name, registered, function)


def _in_module(module: str, name: str, registered: str | None, function: bool) -> Reference:
    """An object ``name`` of ``module``, resolved as ``_retrieve_class_or_fn`` does."""
    dotted = f"{module}.{name}"
    root = module.split(".", 1)[0]
    if root in KERAS_ROOTS:
        api = "keras" + dotted[len(root) :]
        if api in NON_MODELING_APIS:
            return Reference(dotted, function, "a Keras utility that is not a modeling function")
        if function and not set(module.split(".")) & SAFE_KERAS_FUNCTION_PARTS:
            return Reference(
                dotted, function, "a Keras function with side effects, not an activation, loss or metric"
            )
        return Reference(dotted, function)
    if module == "builtins":
        if function and name in KERAS_BUILTIN_FUNCTIONS:
            return Reference(dotted, function)  # Keras's own, found before any import
        # ``vars(builtins).get(name)``, then ``.get(registered_name)``: a Python built-in such as
        # exec or open. Anything else (``Custom>my_loss``) is a registered custom function, which
        # Keras 3 writes with ``module: "builtins"`` and finds in its registry, importing nothing.
        python = name if name in PYTHON_BUILTINS else registered if registered in PYTHON_BUILTINS else None
        if python is not None:
            return Reference(f"builtins.{python}", function, "a Python built-in")
        return Reference(name, function, custom=True)
    if root in STDLIB:
        return Reference(dotted, function, "the Python standard library")
    if function:
        # Keras writes a custom function as ``module: "builtins"``; only a hand-made config
        # names a function by its module, which the loader imports to call it.
        return Reference(dotted, function, "a function outside Keras")
    # A custom class: shown by the name Keras looks up in its registry when it has one.
    return Reference(registered if registered and ">" in registered else dotted, function, custom=True)


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
    for node, why in _bytecode(subject):
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
    "tf_keras and Keras 3.0-3.8 resolve a config's `module`/`class_name` and function references "
    "by import; a config naming os.system, subprocess.Popen, builtins.exec or a Keras utility such "
    "as keras.utils.get_file was the route of the 2025 safe-mode bypasses (CVE-2025-1550). "
    "Registered custom objects are found in Keras's registry, not imported (KIN103).",
)
def reference_rule(subject: Subject) -> Iterator[Finding]:
    """KIN102: references a loader resolves to code outside Keras and the model's own objects."""
    for node in _nodes(subject):
        ref = reference(node)
        if ref is not None and ref.danger is not None:
            kind = "function" if ref.function else "class"
            yield Finding(
                "KIN102",
                Severity.ERROR,
                f"config names {kind} {ref.name!r:.120} from {ref.danger}; "
                "loading it imports and runs that code",
                node.layer,
            )
        if node.value.get("class_name") == "TFOpLambda":
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
    "The file cannot be loaded without code that is not in the file: the custom classes and "
    "functions listed must come from a trusted source (registered, or custom_objects), TFOpLambda "
    "from TensorFlow.",
)
def custom_rule(subject: Subject) -> Iterator[Finding]:
    """KIN103: objects a loader needs code for: custom classes and functions, and TFOpLambda."""
    needed: dict[str, list[str]] = {}
    for node in _nodes(subject):
        value = node.value
        cls = value.get("class_name")
        if not isinstance(cls, str):
            continue
        if cls == "TFOpLambda":
            inner = value.get("config")
            fn = inner.get("function") if isinstance(inner, Mapping) else None
            needed.setdefault("TFOpLambda (TensorFlow)", []).append(
                f"tf.{fn}" if isinstance(fn, str) else "?"
            )
            continue
        ref = reference(node)
        if ref is not None and ref.custom:
            needed.setdefault(ref.name, []).append(node.layer or "(model)")
        elif (
            ref is None
            and "module" not in value
            and node.key in LAYER_KEYS
            and _unknown_keras2_class(cls, value)
        ):
            needed.setdefault(cls, []).append(node.layer or "(model)")
    for name in _compile_names(subject):
        needed.setdefault(name, []).append("(model)")
    for cls, where in needed.items():
        shown = ", ".join(dict.fromkeys(where))
        yield Finding("KIN103", Severity.WARNING, f"loading needs code for {cls} (used by {shown:.300})")


def _compile_names(subject: Subject) -> Iterator[str]:
    """Registered custom losses and metrics a legacy training_config names by string
    (``"loss": "Custom>my_loss"``): Keras finds them in its registry when compiling."""
    info = subject.info
    config = info.compile.config if info is not None and info.compile and not subject.raw.is_archive else None
    if not isinstance(config, Mapping):
        return
    stack = [config.get(key) for key in ("loss", "metrics", "weighted_metrics")]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and ">" in item and item not in KERAS_REGISTERED:
            yield item
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, Mapping):
            stack.extend(v for v in item.values() if isinstance(v, (str, list)))


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
    "Python sources, pickles and native libraries have no place in a model archive. Members are "
    "also read for pickles (raw, object-dtype .npy, inside an .npz such as model.weights.npz, "
    "which Keras 3.0-3.8 loaded with allow_pickle): unpickling runs any code the file names.",
)
def executable_member_rule(subject: Subject) -> Iterator[Finding]:
    """KIN106: Python code, pickles or native libraries inside the archive: by name, and pickled
    data by content (raw pickles, object-dtype .npy arrays, also inside an .npz member)."""
    raw = subject.raw
    content: dict[str, tuple[str, bool]] = {}
    for name, what, pickled in raw.pickled:  # a duplicated name: the first copy with a finding
        content.setdefault(name, (what, pickled))
    for name in dict.fromkeys((*raw.members, *content)):
        if name in raw.unsafe:
            continue
        if name in content:
            what, pickled = content[name]
            text = (
                f"holds {what}; a loader that unpickles it (numpy's allow_pickle, pickle.load) "
                "runs any code it names"
                if pickled
                else f"could not be checked for pickled data: it {what}"
            )
            yield Finding("KIN106", Severity.ERROR, f"archive member {name!r:.120} {text}")
        elif _executable(name):
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
    "Keras refuses Python lambda bytecode in safe mode, the default: the model needs "
    "safe_mode=False, which lets whatever bytecode the file carries run.",
)
def safe_mode_rule(subject: Subject) -> Iterator[Finding]:
    """KIN107: keras.saving.load_model(safe_mode=True) will refuse this file.

    Safe mode refuses Python bytecode (``__lambda__`` objects, Lambda layers; keras/src/saving/
    serialization_lib.py, layers/core/lambda_layer.py, tf_keras likewise). Custom objects load in
    safe mode once their code is registered, and Keras 3.9+ imports no module outside Keras in
    any mode: neither is a safe-mode refusal (KIN103 and KIN102 report them).
    """
    if _bytecode(subject):
        yield Finding(
            "KIN107",
            Severity.WARNING,
            "keras.saving.load_model(safe_mode=True) will refuse this file: Python lambda bytecode",
        )


@RULES.rule(
    "KIN108",
    "duplicate-member",
    Severity.ERROR,
    "several archive members with the same name",
    "zipfile, and so Keras, reads the last of the members that share a name, other zip readers "
    "the first: a scanner can be shown one file while the loader reads another.",
)
def duplicate_member_rule(subject: Subject) -> Iterator[Finding]:
    """KIN108: member names the archive holds more than once."""
    raw = subject.raw
    for name in raw.duplicates:
        count = raw.members.count(name)
        yield Finding(
            "KIN108",
            Severity.ERROR,
            f"archive holds {count} members named {name!r:.120}; "
            "Keras reads the last, other zip readers the first",
        )
