"""kinspect: static inspection and debugging for saved Keras models.

>>> import kinspect
>>> print(kinspect.summary("samples/mnist_cnn.keras"))

The functions and their result types live in :mod:`kinspect.api` and :mod:`kinspect.results`,
imported on first use: ``import kinspect`` stays cheap, and nothing heavy (h5py, numpy, click,
rich, jinja2) is imported before a function needs it.
"""

from __future__ import annotations

from typing import Any

from kinspect.errors import InputError, KinspectError, UsageError
from kinspect.model import CompileInfo, Format, LayerInfo, ModelInfo, TensorRef, WeightInfo

_API = ("check", "diff", "graph", "history", "load", "report", "summary", "weights")
_RESULTS = ("CheckResult", "Diff", "Graph", "History", "ReportResult", "Summary", "WeightReport")
__all__ = [
    "CheckResult",
    "CompileInfo",
    "Diff",
    "Format",
    "Graph",
    "History",
    "InputError",
    "KinspectError",
    "LayerInfo",
    "ModelInfo",
    "ReportResult",
    "Summary",
    "TensorRef",
    "UsageError",
    "WeightInfo",
    "WeightReport",
    "check",
    "diff",
    "graph",
    "history",
    "load",
    "report",
    "summary",
    "weights",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """The API's functions and result types, imported when first asked for (PEP 562)."""
    if name in _API:
        from kinspect import api

        return getattr(api, name)
    if name in _RESULTS:
        from kinspect import results

        return getattr(results, name)
    raise AttributeError(f"module 'kinspect' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
