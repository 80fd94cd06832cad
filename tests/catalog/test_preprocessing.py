"""Preprocessing and augmentation layers against Keras's own symbolic shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kinspect.catalog import Call, ShapeUnknown, infer
from tests.catalog.oracle import check, check_keras2, stored_config

# (class name, constructor kwargs, takes data_format)
SAME_SHAPE: list[tuple[str, dict[str, Any], bool]] = [
    ("AugMix", {}, True),
    ("AutoContrast", {}, False),
    ("ContrastLimitedAdaptiveHistogramEqualization", {"value_range": (0, 255)}, True),
    ("CutMix", {}, True),
    ("Equalization", {}, True),
    ("MixUp", {}, True),
    ("RandAugment", {}, True),
    ("RandomBrightness", {"factor": 0.2}, False),
    ("RandomColorDegeneration", {"factor": 0.2}, True),
    ("RandomColorJitter", {"brightness_factor": 0.1}, True),
    ("RandomContrast", {"factor": 0.2}, False),
    ("RandomElasticTransform", {}, True),
    ("RandomErasing", {}, True),
    ("RandomFlip", {"mode": "horizontal"}, True),
    ("RandomGaussianBlur", {}, True),
    ("RandomGrayscale", {"factor": 0.5}, True),
    ("RandomHue", {"factor": 0.2}, True),
    ("RandomInvert", {}, True),
    ("RandomPerspective", {}, True),
    ("RandomPosterization", {"factor": (1, 4)}, True),
    ("RandomRotation", {"factor": 0.2}, True),
    ("RandomSaturation", {"factor": 0.2}, True),
    ("RandomSharpness", {"factor": 0.2}, True),
    ("RandomShear", {"x_factor": 0.1}, True),
    ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.2}, True),
    ("RandomZoom", {"height_factor": 0.1}, True),
    ("Rescaling", {"scale": 1 / 255, "offset": -1.0}, False),
    ("Solarization", {"addition_factor": 0.1}, False),
    ("MaxNumBoundingBoxes", {"max_number": 5}, False),
]


@pytest.mark.parametrize(("name", "kwargs", "has_format"), SAME_SHAPE, ids=[c[0] for c in SAME_SHAPE])
def test_shape_preserving(name: str, kwargs: dict[str, Any], has_format: bool) -> None:
    import keras

    cls = getattr(keras.layers, name)
    for shape in [(None, 16, 16, 3), (2, 12, 20, 3), (16, 16, 3)]:
        check(cls(**kwargs), shape)
    if has_format and name not in ("RandomColorDegeneration", "RandomHue", "RandomSaturation"):
        check(cls(data_format="channels_first", **kwargs), (None, 3, 16, 16))


def _dict_check(layer: Any, data: dict[str, Any]) -> None:
    """``check`` for a dict of image data (images, labels, bounding_boxes)."""
    import keras

    def symbolic(v: Any) -> Any:
        return {k: symbolic(w) for k, w in v.items()} if isinstance(v, dict) else keras.Input(batch_shape=v)

    def shapes(v: Any) -> Any:
        return {k: shapes(w) for k, w in v.items()} if isinstance(v, dict) else tuple(v.shape)

    expected = shapes(layer(symbolic(data)))
    assert infer(type(layer).__name__, stored_config(layer), Call((data,), {})) == expected


def test_dict_inputs() -> None:
    import keras

    boxes = {"boxes": (None, 4, 4), "labels": (None, 4)}
    _dict_check(keras.layers.RandomFlip(), {"images": (None, 8, 8, 3), "labels": (None, 10)})
    flip = keras.layers.RandomFlip(bounding_box_format="xyxy")
    _dict_check(flip, {"images": (None, 8, 8, 3), "bounding_boxes": boxes})
    for number in (2, 7):
        _dict_check(
            keras.layers.MaxNumBoundingBoxes(max_number=number, bounding_box_format="xyxy"),
            {"images": (None, 8, 8, 3), "bounding_boxes": boxes},
        )


RESIZE = [
    {},
    {"crop_to_aspect_ratio": True},
    {"pad_to_aspect_ratio": True},
    {"interpolation": "nearest", "data_format": "channels_first"},
    {"pad_to_aspect_ratio": True, "data_format": "channels_first"},
]


@pytest.mark.parametrize("kwargs", RESIZE, ids=str)
@pytest.mark.parametrize("shape", [(None, 20, 30, 3), (4, None, None, 1), (20, 30, 3)], ids=str)
def test_resizing(kwargs: dict[str, Any], shape: tuple) -> None:
    import keras

    if kwargs.get("data_format") == "channels_first":
        shape = (*shape[:-3], shape[-1], *shape[-3:-1])
    check(keras.layers.Resizing(8, 12, **kwargs), shape)


@pytest.mark.parametrize("cls_name", ["CenterCrop", "RandomCrop"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first", None])
@pytest.mark.parametrize("shape", [(None, 20, 30, 3), (2, 40, 10, 3), (20, 30, 3)], ids=str)
def test_crop(cls_name: str, data_format: str | None, shape: tuple) -> None:
    import keras

    if data_format == "channels_first":
        shape = (*shape[:-3], shape[-1], *shape[-3:-1])
    check(getattr(keras.layers, cls_name)(10, 16, data_format=data_format), shape)


@pytest.mark.parametrize("cls_name", ["Resizing", "CenterCrop", "RandomCrop"])
@pytest.mark.parametrize("shape", [(None, 20, 30, 3), (2, None, None, 3), (20, 30, 3)], ids=str)
def test_crop_resize_keras2(cls_name: str, shape: tuple) -> None:
    import tf_keras

    check_keras2(getattr(tf_keras.layers, cls_name)(10, 16), shape)


def test_shape_preserving_keras2() -> None:
    import tf_keras

    layers = tf_keras.layers
    for layer in [
        layers.Rescaling(1 / 255),
        layers.RandomFlip(),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1),
        layers.RandomContrast(0.2),
        layers.RandomBrightness(0.2),
    ]:
        check_keras2(layer, (None, 16, 16, 3))
    for shape in [(None, 16, 18, 3), (16, 18, 3)]:
        check_keras2(layers.RandomHeight(0.2), shape)
        check_keras2(layers.RandomWidth((-0.1, 0.3)), shape)


ENCODED_SHAPES = [(None,), (None, 1), (None, 3), (None, 3, 1), (None, 3, 4), (2,)]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
@pytest.mark.parametrize("sparse", [False, True])
def test_category_encoding(mode: str, sparse: bool) -> None:
    import keras

    for shape in ENCODED_SHAPES:
        check(keras.layers.CategoryEncoding(num_tokens=6, output_mode=mode, sparse=sparse), shape)


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_hashing_discretization(mode: str) -> None:
    import keras

    for shape in ENCODED_SHAPES:
        mask_value = 0 if mode == "count" else None
        check(keras.layers.Hashing(num_bins=7, output_mode=mode, mask_value=mask_value), shape)
        check(keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0], output_mode=mode), shape)
        check(keras.layers.Discretization(num_bins=5, output_mode=mode), shape)


def _check_keras2_typed(layer: Any, shape: tuple, dtype: str) -> None:
    """``check_keras2`` with a non-float input (tf.keras traces ``call``, so dtype matters)."""
    import tf_keras

    expected = tuple(layer(tf_keras.Input(batch_shape=shape, dtype=dtype)).shape)
    config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
    got = infer(type(layer).__name__, config, Call((shape,), {}))
    assert got == expected, f"{type(layer).__name__} {config} on {shape}"


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_encodings_keras2(mode: str) -> None:
    import tf_keras

    layers = tf_keras.layers
    for shape in [(None,), (None, 1), (3, 1)] + ([] if mode == "one_hot" else [(None, 3), (2,)]):
        if mode != "int":
            check_keras2(layers.CategoryEncoding(num_tokens=6, output_mode=mode), shape)
        check_keras2(layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode), shape)
        hashing = layers.Hashing(num_bins=4, output_mode=mode)
        if mode == "one_hot" and len(shape) == 1:
            # tf.keras 2 and Keras 3 disagree here, and a string dtype does not tell them apart.
            with pytest.raises(ShapeUnknown):
                infer("Hashing", hashing.get_config(), Call((shape,), {}))
        else:
            _check_keras2_typed(hashing, shape, "int64")
        _check_keras2_typed(layers.IntegerLookup(vocabulary=[3, 4], output_mode=mode), shape, "int64")
        _check_keras2_typed(layers.StringLookup(vocabulary=["a"], output_mode=mode), shape, "string")


def test_hashed_crossing() -> None:
    import keras
    import tf_keras

    for shape in [(None,), (None, 1), (None, 3), (None, 3, 1), (4, 2)]:
        for mode in ["int", "one_hot"]:
            check(keras.layers.HashedCrossing(num_bins=5, output_mode=mode), [shape, shape])
    for shape in [(None,), (None, 1), (3,), (3, 1)]:
        for mode in ["int", "one_hot"]:
            layer = tf_keras.layers.HashedCrossing(num_bins=5, output_mode=mode)
            inputs = [tf_keras.Input(batch_shape=shape, dtype="int64") for _ in range(2)]
            expected = tuple(layer(inputs).shape)
            config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
            assert infer("HashedCrossing", config, Call(([shape, shape],), {})) == expected


LOOKUP = [
    {"output_mode": "int"},
    {"output_mode": "int", "mask_token": "MASK", "num_oov_indices": 2},
    {"output_mode": "one_hot"},
    {"output_mode": "multi_hot", "num_oov_indices": 3},
    {"output_mode": "count"},
    {"output_mode": "tf_idf", "idf_weights": [0.5, 1.0, 2.0]},
    {"output_mode": "multi_hot", "max_tokens": 20, "pad_to_max_tokens": True},
    {"output_mode": "int", "invert": True},
]


@pytest.mark.parametrize("kwargs", LOOKUP, ids=str)
@pytest.mark.parametrize("cls_name", ["StringLookup", "IntegerLookup"])
def test_lookup(cls_name: str, kwargs: dict[str, Any]) -> None:
    import keras

    kwargs = dict(kwargs)
    vocabulary: list[Any] = ["a", "b", "c"] if cls_name == "StringLookup" else [7, 8, 9]
    if cls_name == "IntegerLookup" and "mask_token" in kwargs:
        kwargs["mask_token"] = 0
    for shape in ENCODED_SHAPES:
        check(getattr(keras.layers, cls_name)(vocabulary=vocabulary, **kwargs), shape)


def test_lookup_without_recorded_vocabulary() -> None:
    import keras

    layer = keras.layers.StringLookup(output_mode="multi_hot")  # vocabulary still to come (or in an asset)
    config = stored_config(layer)
    assert config["vocabulary_size"] is None
    with pytest.raises(ShapeUnknown):
        infer("StringLookup", config, Call(((None, 3),), {}))
    # int output never needs the vocabulary size
    check(keras.layers.StringLookup(), (None, 3))


TEXT = [
    {},
    {"output_sequence_length": 6},
    {"ragged": True},
    {"split": None, "output_sequence_length": 4},
    {"split": "character", "ngrams": 2},
    {"output_mode": "multi_hot"},
    {"output_mode": "one_hot"},
    {"output_mode": "count", "split": None},
    {"output_mode": "one_hot", "split": None},
    {"output_mode": "tf_idf", "idf_weights": [1.0, 2.0, 3.0]},
    {"output_mode": "multi_hot", "max_tokens": 10, "pad_to_max_tokens": True},
]


@pytest.mark.parametrize("kwargs", TEXT, ids=str)
def test_text_vectorization(kwargs: dict[str, Any]) -> None:
    import keras

    for shape in [(None,), (None, 1), (3,), (2, 3, 1)]:
        check(keras.layers.TextVectorization(vocabulary=["a", "b", "c"], **kwargs), shape)


@pytest.mark.parametrize("kwargs", [k for k in TEXT if k.get("output_mode") != "one_hot"], ids=str)
def test_text_vectorization_keras2(kwargs: dict[str, Any]) -> None:
    import tf_keras

    for shape in [(None,), (None, 1)]:
        layer = tf_keras.layers.TextVectorization(vocabulary=["a", "b", "c"], **kwargs)
        if kwargs.get("split", "whitespace") is None and kwargs.get("output_mode", "int") == "int":
            config = json.loads(json.dumps(tf_keras.layers.serialize(layer)))["config"]
            with pytest.raises(ShapeUnknown):
                infer("TextVectorization", config, Call((shape,), {}))
        else:
            _check_keras2_typed(layer, shape, "string")


MEL = [{}, {"sequence_stride": 128, "num_mel_bins": 40}, {"sequence_stride": 7}]


@pytest.mark.parametrize("kwargs", MEL, ids=str)
def test_mel_spectrogram(kwargs: dict[str, Any]) -> None:
    import keras

    for shape in [(None, 16000), (2, 1000), (None, None), (500,)]:
        check(keras.layers.MelSpectrogram(**kwargs), shape)


STFT = [
    {},
    {"mode": "stft", "frame_length": 64, "frame_step": 16},
    {"mode": "magnitude", "frame_length": 100, "fft_length": 128, "padding": "same"},
    {"mode": "real", "frame_length": 33, "expand_dims": True},
    {"mode": "psd", "frame_length": 32, "data_format": "channels_first"},
    {
        "mode": "angle",
        "frame_length": 32,
        "frame_step": 5,
        "expand_dims": True,
        "data_format": "channels_first",
    },
]


@pytest.mark.parametrize("kwargs", STFT, ids=str)
def test_stft_spectrogram(kwargs: dict[str, Any]) -> None:
    import keras

    for shape in [(None, 1000, 1), (2, 777, 3), (None, None, 2)]:
        if kwargs.get("data_format") == "channels_first":
            shape = (shape[0], shape[2], shape[1])
        # window=None: a named window needs scipy, which the test environment lacks.
        check(keras.layers.STFTSpectrogram(window=None, **kwargs), shape)


def test_pipeline() -> None:
    import keras

    layers = keras.layers
    flip_resize_scale = [layers.RandomFlip(), layers.Resizing(8, 9), layers.Rescaling(0.5)]
    check(layers.Pipeline(flip_resize_scale), (None, 32, 32, 3))
    check(layers.Pipeline([layers.CenterCrop(10, 10), layers.RandomGrayscale()]), (4, 20, 30, 3))
    check(layers.Pipeline([layers.StringLookup(vocabulary=["a", "b"], output_mode="count")]), (None, 4))


def test_untrusted_configs() -> None:
    for name, config, shape in [
        ("Resizing", {"height": "8", "width": 3}, (None, 5, 5, 3)),
        ("CategoryEncoding", {"num_tokens": None}, (None, 4)),
        ("Discretization", {"output_mode": "one_hot", "bin_boundaries": "x"}, (None, 4)),
        ("Pipeline", {"layers": [{"class_name": "Dense"}]}, (None, 4)),
        ("STFTSpectrogram", {"frame_length": 10_000}, (None, 40, 1)),
        # A string dtype may be Keras 2 or early Keras 3, which disagree here.
        ("Hashing", {"num_bins": 3, "output_mode": "one_hot", "dtype": "int64"}, (None,)),
    ]:
        with pytest.raises(ShapeUnknown):
            infer(name, config, Call((shape,), {}))
