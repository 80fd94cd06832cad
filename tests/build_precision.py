"""Builds the models of tests/test_check_precision.py in a child, with Keras's answers beside them.

``k2``: tf_keras models compiled with every built-in optimizer (its current ones, which tf.keras
2.11+ registers as ``Custom>Adam``..., and its legacy ones), saved as .h5 and .keras; each is
loaded back with no custom objects, and the optimizer class it gets is written to
``k2_oracle.json`` with the names tf_keras's registry holds for its own objects.
``k3``: a Keras 3 model with a registered custom loss, metric, activation and layer
(tests/check_custom.py), saved as .keras and .h5, and a model saved with ``weights_format="npz"``.
"""

import json
import os
import sys
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")
if len(sys.argv) == 2:  # tests/keras_build.py: both flavours, each in a process of its own
    import subprocess

    for name in ("k3", "k2"):
        subprocess.run([sys.executable, __file__, sys.argv[1], name], check=True)
    sys.exit(0)
out, flavour = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

if flavour == "k2":
    import numpy as np
    import tf_keras as keras
    from tf_keras.src.saving import object_registration

    CURRENT = [
        "Adam",
        "SGD",
        "RMSprop",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "Nadam",
        "Ftrl",
        "AdamW",
        "Lion",
        "Adafactor",
    ]
    LEGACY = ["Adam", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Ftrl"]
    oracle = {"files": {}, "registered": sorted(
        name for name, obj in object_registration._GLOBAL_CUSTOM_OBJECTS.items()
        if getattr(obj, "__module__", "").startswith("tf_keras.")
    )}  # fmt: skip
    x, y = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    for family, names in (("current", CURRENT), ("legacy", LEGACY)):
        for name in names:
            module = keras.optimizers.legacy if family == "legacy" else keras.optimizers
            m = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="d")], name=f"opt_{name}")
            m.compile(optimizer=getattr(module, name)(), loss="mse")
            m.fit(x, y, verbose=0)
            for suffix in ("h5", "keras"):
                path = f"{out}/{family}_{name}.{suffix}"
                m.save(path)
                loaded = keras.models.load_model(path)  # no custom_objects
                oracle["files"][os.path.basename(path)] = type(loaded.optimizer).__name__
    with open(f"{out}/k2_oracle.json", "w") as f:
        json.dump(oracle, f)
else:
    import keras
    from keras.src.saving import saving_lib

    from tests import check_custom as cc

    x = keras.Input((3,), name="x")
    h = keras.layers.Dense(4, activation=cc.my_act, name="dense_act")(x)
    y = cc.MyLayer(name="mine")(h)
    m = keras.Model(x, y, name="registered")
    m.compile(optimizer="adam", loss=cc.my_loss, metrics=[cc.my_metric])
    m.save(f"{out}/registered.keras")
    m.save(f"{out}/registered.h5")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="npz")
    saving_lib.save_model(plain, f"{out}/npz_weights.keras", weights_format="npz")
