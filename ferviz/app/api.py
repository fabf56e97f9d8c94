"""The functions ``import ferviz`` gives a notebook, each a thin door onto the application
layer: every one accepts a zoo name, a model file or a plain ``nn.Module``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .display import Explained
from .study import Study, as_model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..data.records import Records
    from ..models.fermodel import FERModel
    from .tasks import Evaluation


def load_model(model: Any, **options: Any) -> FERModel:
    """A model from a zoo name, a file (``arch=``, ``trust=`` as on the command line) or a
    plain ``nn.Module`` (card ``options``: ``input_size``, ``channels``, ``normalize``,
    ``labels``, ``output``, ``cam_layer``).

    Raises:
        FervizError: a model ferviz cannot load or run, with the reason.
    """
    return as_model(model, **options)


def open_data(data: str, split: str | None = None, **options: Any) -> Records:
    """The faces of a data set: ``synth``, a FER2013 csv (``ferplus=``, ``labels=``), an
    image folder or a photo; ``split`` keeps one split.

    Raises:
        FervizError: unusable files and empty splits.
    """
    from ..data import open_data as opened

    return opened(data, split, **options)


def predict(model: Any, data: str = "synth", split: str | None = None, tta: bool = False,
            **options: Any) -> pd.DataFrame:
    """The predictions table of a model on a data set (cached on disk, as every view's)."""
    return Study(model, data, split, tta=tta, **options).table


def evaluate(model: Any, data: str = "synth", split: str | None = None, by: str | None = None,
             tta: bool = False, **options: Any) -> Evaluation:
    """What ``ferviz evaluate`` shows ([`Study.evaluate`][ferviz.app.study.Study.evaluate])."""
    return Study(model, data, split, tta=tta, **options).evaluate(by)


def explain(model: Any, faces: np.ndarray | Records, method: str = "gradcam",
            target: Any = "pred", **options: Any) -> Explained:
    """Maps of one method on N 48x48 uint8 faces (or Records): ``occlusion``, ``gradcam``,
    ... (``ferviz.explain.registry.METHODS``); ``target`` is ``pred``, ``true``, an emotion
    or a contrast such as ``sad-neutral``. Method options (``window``, ``layer``, ...) pass
    through. Shows itself as a gallery in a notebook; ``.plot()`` gives a plotly figure."""
    from ..explain.core import as_faces
    from ..explain.core import explain as run

    card = {k: options.pop(k) for k in list(options)
            if k in ("input_size", "channels", "normalize", "labels", "output", "cam_layer")}
    images, _ = as_faces(faces)
    return Explained(images, run(as_model(model, **card), faces, target, method, **options))


def report(model: str, data: str, out: str | Path, split: str | None = None,
           force: bool = False, **options: Any) -> Path:
    """Write ``ferviz report``'s self-contained HTML report; returns its path."""
    return Study(model, data, split).report(str(out), force, **options)
