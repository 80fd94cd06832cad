"""kinspect: static inspection and debugging for saved Keras models.

>>> import kinspect
>>> info = kinspect.load("model.keras")
>>> info.params
"""

import os

from kinspect.errors import InputError, KinspectError, UsageError
from kinspect.model import CompileInfo, Format, LayerInfo, ModelInfo, TensorRef, WeightInfo

__all__ = [
    "CompileInfo",
    "Format",
    "InputError",
    "KinspectError",
    "LayerInfo",
    "ModelInfo",
    "TensorRef",
    "UsageError",
    "WeightInfo",
    "load",
]
__version__ = "0.1.0"


def load(path: str | os.PathLike[str], arch: str | os.PathLike[str] | None = None) -> ModelInfo:
    """Read a saved Keras model or weights file into a :class:`ModelInfo` (see ``kinspect.loaders.load``).

    Nothing in the file is executed or imported; ``arch`` pairs a weights-only file with
    the ``.keras``, ``.h5`` or ``config.json`` that describes its architecture.
    """
    from kinspect.loaders import load as _load  # imported on use: the CLI starts reading first

    return _load(path, arch)
