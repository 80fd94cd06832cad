"""Preprocessing and augmentation layers: shape rules (and which have no variables).

Sources: ``keras/src/layers/preprocessing/`` (Keras 3) and
``tf_keras/src/layers/preprocessing/`` (Keras 2). Keras 3 builds symbolic outputs
from each layer's ``compute_output_shape`` / ``compute_output_spec``; tf.keras 2
traces ``call``. The two agree on every input tf.keras accepts, except where a rule
says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinspect.catalog.common import channels_last, conv_output_length, nested_layer
from kinspect.catalog.registry import (
    Call,
    Cost,
    Dim,
    Rule,
    Shape,
    ShapeTree,
    ShapeUnknown,
    cost,
    elements,
    free,
    infer,
    is_shape,
    keras_major,
    no_cost,
    rule,
    weightless,
)

# Only these preprocessing layers have no variables; the others' state is listed in NO_SPEC.
weightless("Rescaling", "Resizing", "CenterCrop", "CategoryEncoding", "Hashing")


def _int(config: Mapping[str, Any], key: str, minimum: int = 1) -> int:
    value = config.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ShapeUnknown(f"{key} {value!r} is not an integer >= {minimum}")
    return value


def _str(config: Mapping[str, Any], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = config.get(key, default)
    if value is None:
        value = default
    if value not in allowed:
        raise ShapeUnknown(f"unknown {key} {value!r}")
    return value


def _is_shape_tree(value: Any) -> bool:
    if is_shape(value):
        return True
    if isinstance(value, Mapping):
        return all(_is_shape_tree(v) for v in value.values())
    return False


def _copy_tree(value: Any) -> ShapeTree:
    if isinstance(value, Mapping):
        return {k: _copy_tree(v) for k, v in value.items()}
    return value


# --- image augmentation: shape-preserving ------------------------------------------


@rule(
    "AugMix",
    "AutoContrast",
    "ContrastLimitedAdaptiveHistogramEqualization",
    "CutMix",
    "Equalization",
    "MixUp",
    "RandAugment",
    "RandomBrightness",
    "RandomColorDegeneration",
    "RandomColorJitter",
    "RandomContrast",
    "RandomElasticTransform",
    "RandomErasing",
    "RandomFlip",
    "RandomGaussianBlur",
    "RandomGrayscale",
    "RandomHue",
    "RandomInvert",
    "RandomPerspective",
    "RandomPosterization",
    "RandomRotation",
    "RandomSaturation",
    "RandomSharpness",
    "RandomShear",
    "RandomTranslation",
    "RandomZoom",
    "Rescaling",
    "Solarization",
)
def same_as_input(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """``compute_output_shape`` returns ``input_shape`` (RandomGrayscale keeps its channels too).

    Image layers also take a dict (``images``, ``labels``, ``bounding_boxes``…); Keras
    passes that structure through unchanged as well.
    """
    x = call.x
    if not _is_shape_tree(x):
        raise ShapeUnknown("expected an image tensor or a dict of tensors")
    return _copy_tree(x)


@rule("MaxNumBoundingBoxes")
def max_num_bounding_boxes(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """Pads/truncates ``bounding_boxes`` boxes and labels to ``max_number`` (max_num_bounding_box.py)."""
    x = call.x
    if not _is_shape_tree(x):
        raise ShapeUnknown("expected an image tensor or a dict of tensors")
    out = _copy_tree(x)
    boxes = out.get("bounding_boxes") if isinstance(out, dict) else None
    if isinstance(boxes, dict):
        if set(boxes) - {"boxes", "labels"}:
            raise ShapeUnknown("unsupported keys in bounding_boxes")
        number = _int(config, "max_number")
        for key in ("boxes", "labels"):
            shape = boxes.get(key)
            if not is_shape(shape) or shape is None or len(shape) < 2:
                raise ShapeUnknown(f"bounding_boxes[{key!r}] is not a batched tensor")
            boxes[key] = (shape[0], number, *shape[2:])
    return out


# --- image crop / resize -------------------------------------------------------------


def _set_height_width(config: Mapping[str, Any], shape: Shape, height_axis: int) -> Shape:
    out = list(shape)
    out[height_axis] = _int(config, "height")
    out[height_axis + 1] = _int(config, "width")
    return tuple(out)


def _image_height_axis(config: Mapping[str, Any], shape: Shape) -> int:
    if len(shape) not in (3, 4):
        raise ShapeUnknown(f"expected a rank-3 or rank-4 image tensor, got {shape}")
    return len(shape) - (3 if channels_last(config) else 2)


@rule("Resizing")
def resizing(config: Mapping[str, Any], call: Call) -> Shape:
    """Height and width become the configured size (resizing.py).

    The aspect-ratio options (crop_to_aspect_ratio, pad_to_aspect_ratio) only change
    what is sampled, never the output size. tf.keras 2 has no data_format (channels last).
    """
    shape = call.shape()
    return _set_height_width(config, shape, _image_height_axis(config, shape))


@rule("CenterCrop", "RandomCrop")
def crop(config: Mapping[str, Any], call: Call) -> Shape:
    """Height and width become the configured size (center_crop.py, random_crop.py).

    tf.keras 2 (no data_format in its config) crops a batch whose height or width is
    unknown through dynamic ops that also lose the static batch size.
    """
    shape = call.shape()
    axis = _image_height_axis(config, shape)
    out = _set_height_width(config, shape, axis)
    if "data_format" not in config and len(shape) == 4 and None in shape[axis : axis + 2]:
        out = (None, *out[1:])
    return out


def _random_resize_rule(offset: int) -> Rule:
    def fn(config: Mapping[str, Any], call: Call) -> Shape:
        shape = call.shape()
        if len(shape) not in (3, 4):
            raise ShapeUnknown(f"expected a rank-3 or rank-4 image tensor, got {shape}")
        out = list(shape)
        out[len(shape) - offset] = None
        return tuple(out)

    fn.__doc__ = "tf.keras 2 only: the resized axis becomes unknown (image_preprocessing.py)."
    return fn


rule("RandomHeight")(_random_resize_rule(3))
rule("RandomWidth")(_random_resize_rule(2))


# --- categorical encodings -----------------------------------------------------------

_ENCODINGS = ("int", "one_hot", "multi_hot", "count", "tf_idf")
_ALIASES = {"binary": "multi_hot", "tf-idf": "tf_idf"}


def _output_mode(config: Mapping[str, Any], default: str, allowed: tuple[str, ...]) -> str:
    mode = config.get("output_mode", default)
    mode = _ALIASES.get(mode, mode) if isinstance(mode, str) else mode
    if mode not in allowed:
        raise ShapeUnknown(f"unknown output_mode {mode!r}")
    return mode


def _encode(shape: Shape, mode: str, depth: Dim) -> Shape:
    """Keras 3 index_lookup.py: one_hot adds an axis (or replaces a trailing 1), others
    replace the last (sample) axis with ``depth``."""
    if mode == "int":
        return shape
    if mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            return (*shape[:-1], depth)
        return (*shape, depth)
    return (*shape[:-1], depth)


@rule("CategoryEncoding")
def category_encoding(config: Mapping[str, Any], call: Call) -> Shape:
    """category_encoding.py: like the lookup encoding, but a scalar input gives ``(num_tokens,)``."""
    shape = call.shape()
    mode = _output_mode(config, "multi_hot", ("one_hot", "multi_hot", "count"))
    depth = _int(config, "num_tokens")
    if not shape:
        return (depth,)
    return _encode(shape, mode, depth)


@rule("Hashing")
def hashing(config: Mapping[str, Any], call: Call) -> Shape:
    """hashing.py ``compute_output_spec``: every encoding replaces the last axis with num_bins.

    Quirk: so Keras 3 gives one_hot of a ``(batch,)`` input as ``(num_bins,)`` (its
    compute_output_shape would say ``(batch, num_bins)``), whereas tf.keras 2 traces
    ``(batch, num_bins)``. A string dtype may be either version, so that case is unknown.
    """
    shape = call.shape()
    mode = _output_mode(config, "int", ("int", "one_hot", "multi_hot", "count"))
    if mode == "int":
        return shape
    depth = _int(config, "num_bins")
    if mode == "one_hot" and len(shape) == 1:
        major = keras_major(config, call)
        if major is None:
            raise ShapeUnknown("Hashing one_hot of a rank-1 input differs between Keras 2 and 3")
        if major == 2:
            return (*shape, depth)
    return (*shape[:-1], depth)


@rule("Discretization")
def discretization(config: Mapping[str, Any], call: Call) -> Shape:
    """discretization.py: depth is len(bin_boundaries) + 1, else num_bins.

    Quirk: multi_hot/count on rank >= 2 drop axis 1, not the last axis:
    ``(b, d1, d2) -> (b, d2, depth)``.
    """
    shape = call.shape()
    mode = _output_mode(config, "int", ("int", "one_hot", "multi_hot", "count"))
    if mode == "int":
        return shape
    boundaries = config.get("bin_boundaries")
    if boundaries is not None:
        if not isinstance(boundaries, list):
            raise ShapeUnknown("bin_boundaries is not a list")
        depth = len(boundaries) + 1
    else:
        depth = _int(config, "num_bins")
    if mode == "one_hot":
        if shape and shape[-1] == 1 and len(shape) > 1:
            return (*shape[:-1], depth)
        return (*shape, depth)
    if len(shape) >= 2:
        return (shape[0], *shape[2:], depth)
    return (depth,)


@rule("HashedCrossing")
def hashed_crossing(config: Mapping[str, Any], call: Call) -> Shape:
    """hashed_crossing.py: the first input's shape, encoded to num_bins.

    tf.keras 2 (whose config, unlike Keras 3's, holds ``trainable``) builds the output
    through ``tf.sparse.cross_hashed`` and so loses a static batch size.
    """
    shapes = call.shapes()
    if len(shapes) != 2 or shapes[0][-1:] != shapes[1][-1:]:
        raise ShapeUnknown("expected two inputs with the same last dimension")
    first = shapes[0]
    mode = _output_mode(config, "int", ("int", "one_hot"))
    if mode == "int":
        out = first
    else:
        depth = _int(config, "num_bins")
        out = (*first, depth) if first[-1:] != (1,) else (*first[:-1], depth)
    keras2 = call.keras_major == 2 if call.keras_major else "trainable" in config
    if keras2 and out:
        out = (None, *out[1:])
    return out


def _lookup_depth(config: Mapping[str, Any]) -> int:
    """index_lookup.py: max_tokens when padding to it, else the frozen vocabulary size.

    ``vocabulary_size`` is None when the vocabulary is only in an asset file (or was
    never set): the config cannot tell the size, so the shape is unknown.
    """
    if config.get("pad_to_max_tokens"):
        return _int(config, "max_tokens")
    if config.get("vocabulary_size") is None:
        raise ShapeUnknown("vocabulary size is not recorded in the config (vocabulary in an asset file?)")
    return _int(config, "vocabulary_size")


@rule("IntegerLookup", "StringLookup")
def lookup(config: Mapping[str, Any], call: Call) -> Shape:
    """index_lookup.py ``compute_output_shape`` (inverse lookup is always ``int``-shaped)."""
    shape = call.shape()
    mode = _output_mode(config, "int", _ENCODINGS)
    if mode == "int":
        return shape
    return _encode(shape, mode, _lookup_depth(config))


@rule("TextVectorization")
def text_vectorization(config: Mapping[str, Any], call: Call) -> Shape:
    """text_vectorization.py ``compute_output_shape`` (Keras 3) or tf.keras 2's traced call."""
    shape = call.shape()
    mode = _output_mode(config, "int", _ENCODINGS)
    length = config.get("output_sequence_length")
    if length is not None and (not isinstance(length, int) or isinstance(length, bool) or length < 0):
        raise ShapeUnknown(f"bad output_sequence_length {length!r}")
    if not shape:
        raise ShapeUnknown("TextVectorization needs a batched input")
    split = config.get("split", "whitespace")
    # Without the file's version: tf.keras 2 alone stores dtype "string" (Keras 3 a float policy).
    keras2 = call.keras_major == 2 if call.keras_major else config.get("dtype") == "string"
    if keras2:
        return _text_vectorization_keras2(shape, mode, length, split, config)
    if mode == "int":
        return (shape[0], length)
    if split is None:
        if len(shape) <= 1:
            shape = (*shape, 1)
    else:
        shape = (*shape, None)
    return _encode(shape, mode, _lookup_depth(config))


def _text_vectorization_keras2(
    shape: Shape, mode: str, length: int | None, split: Any, config: Mapping[str, Any]
) -> Shape:
    """tf.keras 2 traces string ops whose static shapes vary with standardize/split.

    Only the usual inputs are covered: a ``(None,)`` or ``(None, 1)`` batch of strings.
    Split text loses any static batch size (ragged ops), hence the ``None``.
    """
    if shape[0] is not None or len(shape) > 2 or (len(shape) == 2 and shape[1] != 1):
        raise ShapeUnknown("tf.keras 2 TextVectorization: only (None,) or (None, 1) inputs are known")
    if split is None:
        if mode == "int":
            raise ShapeUnknown("tf.keras 2 TextVectorization without split: shape not derived")
        depth = _lookup_depth(config)
        return (depth,) if len(shape) == 1 else (None, depth)
    if mode == "int":
        return (None, length)
    return (None, _lookup_depth(config))


# --- audio ---------------------------------------------------------------------------


@rule("MelSpectrogram")
def mel_spectrogram(config: Mapping[str, Any], call: Call) -> Shape:
    """mel_spectrogram.py: ``(batch, num_mel_bins, (length + stride + 1) // stride)``."""
    shape = call.shape()
    if not shape:
        raise ShapeUnknown("MelSpectrogram needs an input of rank >= 1")
    bins = _int(config, "num_mel_bins")
    stride = _int(config, "sequence_stride")
    if len(shape) == 1:
        length = shape[0]
        lead: tuple[Dim, ...] = ()
    else:
        length = shape[1]
        lead = (shape[0],)
    frames = None if length is None else (length + stride + 1) // stride
    return (*lead, bins, frames)


@rule("STFTSpectrogram")
def stft_spectrogram(config: Mapping[str, Any], call: Call) -> Shape:
    """stft_spectrogram.py: a strided conv over time with fft_length // 2 + 1 filters per channel."""
    shape = call.shape()
    if len(shape) != 3:
        raise ShapeUnknown(f"STFTSpectrogram expects rank-3 input, got {shape}")
    last = channels_last(config)
    batch, time, channels = shape if last else (shape[0], shape[2], shape[1])
    frame_length = _int(config, "frame_length")
    step = config.get("frame_step")
    step = frame_length // 2 if step is None else _int(config, "frame_step")
    fft = config.get("fft_length")
    fft = 2 ** (frame_length - 1).bit_length() if fft is None else _int(config, "fft_length")
    mode = _str(config, "mode", "log", ("log", "magnitude", "psd", "real", "imag", "angle", "stft"))
    padding = _str(config, "padding", "valid", ("valid", "same"))
    freq = fft // 2 + 1
    if mode == "stft":
        freq *= 2
    frames = conv_output_length(time, frame_length, padding, step)
    if frames is not None and frames <= 0:
        raise ShapeUnknown("input is shorter than one frame")
    if config.get("expand_dims"):
        return (batch, frames, freq, channels) if last else (batch, channels, frames, freq)
    features = None if channels is None else freq * channels
    return (batch, frames, features) if last else (batch, features, frames)


# --- composition ---------------------------------------------------------------------


@rule("Pipeline")
def pipeline(config: Mapping[str, Any], call: Call) -> ShapeTree:
    """pipeline.py: apply each inner layer in turn."""
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise ShapeUnknown("Pipeline config has no list of layers")
    x = call.x
    for index, item in enumerate(layers):
        name, inner = nested_layer(item, f"Pipeline layer {index}")
        x = infer(name, inner, call.derive((x,)))
    return x


# --- compute cost ---------------------------------------------------------------------------------

# The identity at inference: each transforms only when called with training=True
# (keras/src/layers/preprocessing/image_preprocessing/*.py ``if training``).
free(
    "AugMix", "CutMix", "Equalization", "MixUp", "RandAugment", "RandomBrightness",
    "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomElasticTransform",
    "RandomErasing", "RandomFlip", "RandomGaussianBlur", "RandomGrayscale", "RandomHue",
    "RandomInvert", "RandomPerspective", "RandomPosterization", "RandomRotation", "RandomSaturation",
    "RandomSharpness", "RandomShear", "RandomTranslation", "RandomZoom", "Solarization",
    "RandomHeight", "RandomWidth",  # tf.keras 2
)  # fmt: skip
free("CenterCrop", "MaxNumBoundingBoxes")  # data movement
no_cost(
    "integer and string operations, not floating-point arithmetic",
    "CategoryEncoding", "Hashing", "HashedCrossing", "IntegerLookup", "StringLookup",
    "TextVectorization", "Discretization",
)  # fmt: skip
no_cost("a Fourier transform: not counted", "MelSpectrogram", "STFTSpectrogram")
no_cost(
    "active at inference, with data-dependent image statistics: not counted",
    "AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization",
)  # fmt: skip
no_cost("a center crop and resize at inference: not counted", "RandomCrop")
no_cost("its layers are not costed yet", "Pipeline")


@cost("Rescaling")
def rescaling_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """2 per element: scale and offset."""
    return Cost(0, 2 * elements(call.shape(), "input"))


@cost("Resizing")
def resizing_cost(config: Mapping[str, Any], call: Call, output: ShapeTree) -> Cost:
    """``nearest`` copies (free); the other interpolations weigh 4 neighbours per output element
    (``bilinear``; counted so for every other mode too): 4 element operations."""
    if config.get("interpolation", "bilinear") == "nearest":
        return Cost()
    return Cost(0, 4 * elements(output))
