"""ferviz: interpretability and error analysis for facial expression recognition models.

The Python door (loaded lazily: ``import ferviz`` imports no torch)::

    import ferviz
    study = ferviz.Study("cs230_five_layer", "fer2013.csv.xz", split="PrivateTest")
    study.evaluate()                      # scores, intervals, per-class table, notes
    study.cell("sad", "neutral")          # one confusion's faces
    study.explain(study.cell("sad", "neutral").head(5), "gradcam").plot()

Every function takes a zoo name, a model file or a plain ``nn.Module``.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__version__ = "0.1.0"

_API = {  # public name -> module that defines it
    "Study": "ferviz.app.study",
    "load_model": "ferviz.app.api",
    "open_data": "ferviz.app.api",
    "predict": "ferviz.app.api",
    "evaluate": "ferviz.app.api",
    "explain": "ferviz.app.api",
    "report": "ferviz.app.api",
    "ModelSpec": "ferviz.specs",
    "DataSpec": "ferviz.specs",
    "FervizError": "ferviz.errors",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'ferviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]


class _Package(types.ModuleType):
    """The ``ferviz`` module: the public functions stay bound when a subpackage of the same
    name (``ferviz.explain``, ``ferviz.predict``, ``ferviz.report``) is imported; the
    subpackages stay reachable through ``import`` and ``sys.modules``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _API and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
