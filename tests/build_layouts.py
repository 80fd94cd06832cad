"""Build the weights layouts ``tests/test_layouts.py`` reads, and what Keras says about them.

Run as ``python tests/build_layouts.py OUTDIR`` (Keras runs in this child process,
never in the test process). Every file is written by Keras or tf_keras itself; the odd
layouts seen in real files are reproduced as their writers produced them:

* Keras 3 ``save_weights`` files (real layer names on every ``vars`` group since 3.6,
  weightless layers, a nested Sequential and Functional, a wrapper, optimizer state),
  and the same file without the ``name`` attributes, as Keras 3.0–3.5 wrote it.
* tf.keras ``.keras`` / ``.weights.h5`` saved "on Windows": tf_keras's saving_lib joins
  object paths with ``tf.io.gfile.join``, which is ``os.path.join``, so on Windows it writes
  ``layers\\dense/vars/0``. Here the same saver runs with Windows joins (``ntpath.join``) for
  those relative paths, and tf_keras reads the file back the way it would on Windows.
* A legacy ``.h5`` whose ``weight_names`` hold ``//`` (``res_net//conv2d/kernel:0``), as some
  tf.keras subclassed models wrote them: h5py resolves such a name like ``res_net/conv2d/...``,
  which is where the dataset is; tf_keras's ``load_weights`` must still read the file.

Each model's ``<name>.oracle.json`` records what the live Keras model reports, and
``<name>.arrays.npz`` its weights (``get_weights()`` order) and optimizer variables.
"""

from __future__ import annotations

import contextlib
import json
import ntpath
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import h5py
import numpy as np


def _size(weights: Any) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def layer_oracle(layer: Any) -> dict[str, Any]:
    children = getattr(layer, "layers", None)
    return {
        "name": layer.name,
        "class_name": type(layer).__name__,
        "params": _size(layer.weights),
        "trainable_params": _size(layer.trainable_weights),
        "non_trainable_params": _size(layer.non_trainable_weights),
        "weights": len(layer.weights),
        "layers": [layer_oracle(c) for c in children] if isinstance(children, list) else [],
    }


def save_oracle(out: str, name: str, model: Any, **extra: Any) -> None:
    """What the live model says, and its arrays: per layer path, then the optimizer's."""
    arrays: dict[str, np.ndarray] = {}

    def walk(layers: Any, prefix: str) -> None:
        for layer in layers:
            path = f"{prefix}{layer.name}"
            children = getattr(layer, "layers", None)
            if isinstance(children, list) and children:
                walk(children, f"{path}/")
            else:
                for i, value in enumerate(layer.get_weights()):
                    arrays[f"{path}#{i}"] = np.asarray(value)

    walk(model.layers, "")
    optimizer = getattr(model, "optimizer", None)
    variables = list(optimizer.variables) if optimizer is not None else []
    for i, var in enumerate(variables):
        arrays[f"(optimizer)#{i}"] = np.asarray(var.numpy() if hasattr(var, "numpy") else var)
    oracle = {
        "name": model.name,
        "class_name": type(model).__name__,
        "total_params": _size(model.weights),
        "trainable_params": _size(model.trainable_weights),
        "non_trainable_params": _size(model.non_trainable_weights),
        "layers": [layer_oracle(layer) for layer in model.layers],
        "optimizer_variables": len(variables),
        "optimizer_params": int(sum(np.asarray(a).size for k, a in arrays.items() if k.startswith("(opt"))),
        **extra,
    }
    np.savez(os.path.join(out, f"{name}.arrays.npz"), **arrays)
    with open(os.path.join(out, f"{name}.oracle.json"), "w") as fh:
        json.dump(oracle, fh, indent=1)


# ---------------------------------------------------------------- Keras 3 weights files


def keras3(out: str) -> None:
    import keras
    from keras import layers

    keras.utils.set_random_seed(3)
    block = keras.Sequential([layers.Dense(12, name="inner"), layers.ReLU(name="act")], name="block")
    image = keras.Input((6,), name="image")
    x = layers.Dense(16, activation="relu", name="stem")(image)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.Dropout(0.2, name="drop")(x)
    x = block(x)
    x = layers.Dense(8, name="has_nan")(x)
    probs = layers.Dense(3, activation="softmax", name="probs")(x)
    model = keras.Model(image, probs, name="classifier")
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(64, 6)), np.eye(3)[rng.integers(0, 3, 64)], epochs=2, batch_size=16, verbose=0)
    kernel, bias = model.get_layer("has_nan").get_weights()
    kernel[1, 2] = np.nan
    model.get_layer("has_nan").set_weights([kernel, bias])
    model.save_weights(os.path.join(out, "named.weights.h5"))
    model.save_weights(os.path.join(out, "named_sharded.weights.json"), max_shard_size=2e-6)
    model.save(os.path.join(out, "named.keras"))
    save_oracle(out, "named", model, iterations=int(model.optimizer.iterations.numpy()), learning_rate=2e-3)

    # The same file as Keras 3.0-3.5 wrote it: the same groups, no ``name`` attributes
    # (keras/src/saving/saving_lib.py H5Entry before metadata was added in 3.6).
    old = os.path.join(out, "unnamed.weights.h5")
    shutil.copyfile(os.path.join(out, "named.weights.h5"), old)
    with h5py.File(old, "r+") as f:
        f.visit(lambda p: f[p].attrs.__delitem__("name") if "name" in f[p].attrs else None)
        if "name" in f["vars"].attrs:
            del f["vars"].attrs["name"]
    check = keras.Model(image, probs, name="classifier")
    check.load_weights(old)  # Keras 3 still reads it (it loads by path)

    keras.utils.set_random_seed(4)
    inp = keras.Input((5,), name="tokens")
    encoder = keras.Model(inp, layers.Dense(4, name="enc_dense")(layers.LayerNormalization(name="ln")(inp)),
                          name="encoder")  # fmt: skip
    stack = keras.Sequential(
        [
            keras.Input((7, 5)),
            layers.Bidirectional(layers.LSTM(3, return_sequences=True), name="bi"),
            layers.TimeDistributed(layers.Dense(5, name="td_dense"), name="td"),
            layers.Flatten(name="flat"),
            layers.Dense(5, name="squeeze"),
            encoder,
            layers.Dense(2, name="out"),
        ],
        name="stack",
    )
    stack.save_weights(os.path.join(out, "stack.weights.h5"))
    stack.save(os.path.join(out, "stack.keras"))
    save_oracle(out, "stack", stack)


# ---------------------------------------------------------------- tf.keras, saved "on Windows"


@contextlib.contextmanager
def windows_joins() -> Iterator[None]:
    """tf_keras's saving_lib with ``tf.io.gfile.join`` as on Windows for the object paths it
    joins (relative: ``""``, ``layers``…); absolute paths (temporary folders) stay POSIX."""
    from tf_keras.src.saving import saving_lib

    gfile = saving_lib.tf.io.gfile
    posix = gfile.join

    def join(path: Any, *paths: Any) -> str:
        if str(path).startswith("/"):
            return posix(path, *paths)
        return ntpath.join(path, *paths)

    gfile.join = join
    try:
        yield
    finally:
        gfile.join = posix


@contextlib.contextmanager
def tf_keras_2_12_to_2_14(numbering_2_13: bool) -> Iterator[None]:
    """tf_keras's saving_lib as tf.keras 2.12-2.14 walked a model (keras-team/keras v2.13.1,
    v2.14.0 ``keras/saving/saving_lib.py``): ``dir()`` in ascending order with
    ``_layer_checkpoint_dependencies`` not skipped, so a model's layers are saved under that
    attribute (a dict that lists each layer with weights twice). With ``numbering_2_13``
    (2.12, 2.13) a container's entries are numbered before already-saved ones are skipped."""
    from tf_keras.src.saving import saving_lib as lib
    from tf_keras.src.utils import generic_utils

    def walk(trackable: Any) -> Iterator[tuple[str, Any]]:
        for attr in sorted(dir(trackable)):
            if attr.startswith("__") or attr in lib.ATTR_SKIPLIST:
                continue
            try:
                yield attr, getattr(trackable, attr)
            except Exception:  # as saving_lib does: an attribute that raises is not visited
                continue

    def containers(
        container: Any, weights_store: Any, assets_store: Any, inner_path: str, visited_trackables: Any
    ) -> None:
        used: dict[str, int] = {}
        for item in list(container.values()) if isinstance(container, dict) else container:
            if lib._is_keras_trackable(item):
                name = generic_utils.to_snake_case(item.__class__.__name__)
                used[name] = used.get(name, -1) + 1
                name = f"{name}_{used[name]}" if used[name] else name
                where = lib.tf.io.gfile.join(inner_path, name)
                lib._save_state(item, weights_store, assets_store, where, visited_trackables)

    saved = (lib.ATTR_SKIPLIST, lib._walk_trackable, lib._save_container_state)
    lib.ATTR_SKIPLIST = saved[0] - {"_layer_checkpoint_dependencies"}
    lib._walk_trackable = walk
    if numbering_2_13:
        lib._save_container_state = containers
    try:
        yield
    finally:
        lib.ATTR_SKIPLIST, lib._walk_trackable, lib._save_container_state = saved


def tf_keras_windows(out: str) -> None:
    import tf_keras as tk
    from tf_keras import layers

    tk.utils.set_random_seed(5)
    inner = tk.Sequential(
        [layers.Dense(6, input_shape=(8,), name="inner_dense"), layers.ReLU()], name="inner"
    )
    inp = tk.Input((4,), name="features")
    x = layers.Dense(8, name="stem")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = inner(x)
    x = layers.Reshape((3, 2))(x)
    x = layers.Bidirectional(layers.LSTM(2), name="bi")(x)
    model = tk.Model(inp, layers.Dense(3, name="probs")(x), name="winmodel")
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(32, 4)), rng.normal(size=(32, 3)), epochs=2, verbose=0)
    model.save(os.path.join(out, "posix.keras"))
    model.save_weights(os.path.join(out, "posix.weights.h5"))
    with windows_joins():
        model.save(os.path.join(out, "windows.keras"))
        model.save_weights(os.path.join(out, "windows.weights.h5"))
    with h5py.File(os.path.join(out, "windows.weights.h5")) as f:
        assert "layers\\sequential\\layers\\dense" in f and "layers" not in f, list(f)
    for name, numbering_2_13 in (("tf2_13", True), ("tf2_14", False)):
        with tf_keras_2_12_to_2_14(numbering_2_13):
            model.save(os.path.join(out, f"{name}.keras"))
            model.save_weights(os.path.join(out, f"{name}.weights.h5"))
            with windows_joins():
                model.save(os.path.join(out, f"{name}_windows.keras"))
    with h5py.File(os.path.join(out, "tf2_13.weights.h5")) as f:
        assert "_layer_checkpoint_dependencies/dense_2" in f and "layers" not in f, list(f)
    # tf.keras on Windows reads back what it wrote: the same values.
    with windows_joins():
        back = tk.models.load_model(os.path.join(out, "windows.keras"))
        fresh = tk.models.clone_model(model)
        fresh.load_weights(os.path.join(out, "windows.weights.h5"))
    for a, b, c in zip(model.get_weights(), back.get_weights(), fresh.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    save_oracle(out, "windows", model)


# ---------------------------------------------------------------- legacy .h5 with "//" in weight names


def _double_slashes(path: str, layers: set[str] | None = None) -> None:
    """Rewrite ``weight_names`` so that the first ``/`` of each name is ``//``: the datasets
    stay where they are, which is where h5py resolves the new names (checked)."""
    with h5py.File(path, "r+") as f:
        root = f.get("model_weights", f)
        for layer in [n.decode() if isinstance(n, bytes) else n for n in root.attrs["layer_names"]]:
            if layers is not None and layer not in layers:
                continue
            g = root[layer]
            names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            crafted = [n.replace("/", "//", 1) for n in names]
            for old, new in zip(names, crafted, strict=True):
                assert g[new] == g[old], (old, new)
            g.attrs["weight_names"] = np.array([n.encode() for n in crafted])
    # What h5py does with such a name when writing it, as tf.keras did: one separator.
    with h5py.File(path + ".probe", "w") as f:
        f.create_group("layer").create_dataset("res_net//conv2d/kernel:0", data=np.zeros(2))
        assert "layer/res_net/conv2d/kernel:0" in f
    os.remove(path + ".probe")


def tf_keras_slashes(out: str) -> None:
    import tf_keras as tk
    from tf_keras import layers

    class Block(layers.Layer):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.conv = layers.Conv2D(2, 3)
            self.bn = layers.BatchNormalization()

        def call(self, x: Any) -> Any:
            return self.bn(self.conv(x))

    class ResNet(tk.Model):
        def __init__(self) -> None:
            super().__init__(name="res_net")
            self.c1 = layers.Conv2D(4, 3)
            self.block = Block()
            self.pool = layers.GlobalAveragePooling2D()
            self.head = layers.Dense(2)

        def call(self, x: Any) -> Any:
            return self.head(self.pool(self.block(self.c1(x))))

    tk.utils.set_random_seed(6)
    model = ResNet()
    model(np.zeros((1, 8, 8, 3), "float32"))
    model.save_weights(os.path.join(out, "res_net.h5"))
    shutil.copyfile(os.path.join(out, "res_net.h5"), os.path.join(out, "res_net_slashes.h5"))
    _double_slashes(os.path.join(out, "res_net_slashes.h5"))
    twin = ResNet()
    twin(np.zeros((1, 8, 8, 3), "float32"))
    twin.load_weights(os.path.join(out, "res_net_slashes.h5"))
    for a, b in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    save_oracle(out, "res_net", model)

    inp = tk.Input((5,))
    x = layers.Dense(4, name="dense")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    functional = tk.Model(inp, layers.Dense(2, name="out")(x), name="functional_slashes")
    functional.save(os.path.join(out, "functional.h5"))
    shutil.copyfile(os.path.join(out, "functional.h5"), os.path.join(out, "functional_slashes.h5"))
    _double_slashes(os.path.join(out, "functional_slashes.h5"), {"dense", "bn"})
    back = tk.models.load_model(os.path.join(out, "functional_slashes.h5"))
    for a, b in zip(functional.get_weights(), back.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    save_oracle(out, "functional", functional)


def main() -> int:
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    keras3(out)
    tf_keras_windows(out)
    tf_keras_slashes(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
