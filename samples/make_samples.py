"""Regenerate the bundled sample models (needs keras; run from the repository root).

    python samples/make_samples.py

Each sample is small, real, and shows something kinspect reads: a functional CNN
(.keras), a text classifier with RNN wrappers (.keras), the same CNN as a legacy
.h5, and a weights-only checkpoint as ModelCheckpoint writes it.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import numpy as np
from keras import layers

HERE = os.path.dirname(os.path.abspath(__file__))


def mnist_cnn() -> keras.Model:
    inp = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(16, 3, activation="relu")(inp)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(10, activation="softmax", name="digits")(x)
    model = keras.Model(inp, out, name="mnist_cnn")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    model.fit(rng.random((64, 28, 28, 1)), rng.integers(0, 10, 64), epochs=1, verbose=0)
    return model


def text_classifier() -> keras.Model:
    tokens = keras.Input((40,), dtype="int32", name="tokens")
    x = layers.Embedding(2000, 32, mask_zero=True)(tokens)
    x = layers.Bidirectional(layers.LSTM(24, return_sequences=True))(x)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=16)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, att]))
    x = layers.GlobalMaxPooling1D()(x)
    out = layers.Dense(3, activation="softmax", name="label")(x)
    return keras.Model(tokens, out, name="text_classifier")


def main() -> None:
    cnn = mnist_cnn()
    cnn.save(os.path.join(HERE, "mnist_cnn.keras"))
    cnn.save(os.path.join(HERE, "mnist_cnn.h5"))
    cnn.save_weights(os.path.join(HERE, "mnist_cnn.weights.h5"))
    text_classifier().save(os.path.join(HERE, "text_classifier.keras"))


if __name__ == "__main__":
    main()
