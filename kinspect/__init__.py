"""kinspect: static inspection and debugging for saved Keras models.

>>> import kinspect
>>> info = kinspect.load("model.keras")
>>> info.params
"""

from kinspect.errors import InputError, KinspectError, UsageError
from kinspect.loaders import load
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
