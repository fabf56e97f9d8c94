"""A model and a data set opened once, and every answer a view shows about them: the Python
door's object (``ferviz.Study``), built on the same use cases as the command line."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..errors import FervizError
from ..specs import DataSpec, ModelSpec
from .display import Explained

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from ..data.records import Records
    from ..models.fermodel import FERModel
    from .tasks import Evaluation


def as_model(model: Any, **options: Any) -> FERModel:
    """A :class:`~ferviz.models.fermodel.FERModel` from a zoo name, a model file, a
    :class:`~ferviz.specs.ModelSpec`, or a plain ``nn.Module`` (wrapped with a default card:
    48x48 grayscale faces in [0, 1], FER2013's label order, logits; ``options`` such as
    ``input_size``, ``channels``, ``normalize``, ``labels``, ``output`` or ``cam_layer`` say
    what differs; the CAM layer is found automatically).

    Raises:
        FervizError: a model ferviz cannot load or run, with the reason.
    """
    from torch import nn

    from ..models.fermodel import FERModel
    from ..models.load import load_model, wrap_module

    if isinstance(model, FERModel):
        return FERModel(model.net, model.card.with_options(**options)) if options else model
    if isinstance(model, ModelSpec):
        return model.load()
    if isinstance(model, nn.Module):
        return wrap_module(model, **options)
    if isinstance(model, str):
        return load_model(model, **options)
    raise FervizError(f"a model is a zoo name, a file, a ModelSpec or an nn.Module, not a "
                      f"{type(model).__name__}")


class Study:
    """One model on one data set: predictions, scores, notes, confusions, ambiguous faces and
    explanations, computed once and the same as every other view shows.

    Args:
        model: zoo name, model file, [`ModelSpec`][ferviz.specs.ModelSpec], a loaded
            ``FERModel`` or a plain ``nn.Module``.
        data: ``synth``, a FER2013 csv, an image folder, a photo, or a
            [`DataSpec`][ferviz.specs.DataSpec].
        split: the split to score (e.g. ``PrivateTest``); None: all faces.
        tta: test-time augmentation.
        **options: model card options for a file or a module (``arch``, ``trust``,
            ``input_size``, ``channels``, ``normalize``, ``labels`` (the model's output
            order), ``output``, ``cam_layer``...) and data options (``ferplus``,
            ``contempt``, ``groups``, ``group_regex``, ``one_per_sequence``, and
            ``data_labels`` for the label mode, e.g. ``ferplus-majority``).

    Example:
        >>> s = ferviz.Study("fer_synth_cnn", "synth", split="test")
        >>> s.evaluate()            # accuracy, macro-F1, intervals, per-class table, notes
        >>> s.cell("sad", "neutral")  # the faces of one confusion
    """

    def __init__(self, model: Any, data: str | DataSpec = "synth", split: str | None = None,
                 *, tta: bool = False, **options: Any) -> None:
        data_keys = {"ferplus", "contempt", "groups", "group_regex", "one_per_sequence"}
        data_opts = {k: options.pop(k) for k in list(options) if k in data_keys}
        if "data_labels" in options:
            data_opts["labels"] = options.pop("data_labels")
        self.data = data if isinstance(data, DataSpec) else DataSpec(str(data), split,
                                                                     **data_opts)
        if split is not None and isinstance(data, DataSpec):
            self.data = data.with_split(split)
        self._model = model
        self._options = options
        self.tta = tta
        self.spec = ModelSpec(model, **_spec_options(options)) if isinstance(model, str) \
            else model if isinstance(model, ModelSpec) else None

    def __repr__(self) -> str:
        model = self.spec.model if self.spec else type(self._model).__name__
        return f"Study({model!r}, {self.data.name()!r})"

    @cached_property
    def records(self) -> Records:
        """The faces of the data set's split (decoded)."""
        from .predicting import opened

        return opened(self.data)

    @cached_property
    def model(self) -> FERModel:
        """The loaded model."""
        return self.spec.load() if self.spec else as_model(self._model, **self._options)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The predictions table (one row per face; cached on disk as every view's is)."""
        from .predicting import predictions

        return predictions(self.model, self.records, self.tta)

    def evaluate(self, by: str | None = None) -> Evaluation:
        """What ``ferviz evaluate`` shows: accuracy, macro-F1 (over the classes in the truth;
        ``macro_f1_seen`` is scikit-learn's average), 95% intervals clustered by subject or
        sequence when known, the per-class table, the confusion matrix, notes and warnings.
        """
        from .tasks import evaluate, scored

        if self.spec is not None:
            return evaluate(self.spec, self.data, self.tta, by=by)
        return scored(self.table, self.records, self.model, self.data, by)

    def confusions(self, top: int | None = 10) -> pd.DataFrame:
        """The most frequent confusions (true, pred, count, rate), largest first."""
        from .questions import confusions

        return confusions(self.table, top)

    def cell(self, true: str, pred: str, n: int | None = None) -> pd.DataFrame:
        """The faces labelled ``true`` and predicted ``pred``, most confident first."""
        from .questions import cell

        return cell(self.table, true, pred, n)

    def ambiguous(self, n: int | None = None, by: str = "close") -> pd.DataFrame:
        """The ambiguous faces, most ambiguous first: by default the report's and the
        dashboard's definition (the three likeliest emotions within 10 points); ``by``
        "entropy", "margin" or "human" (FER+ vote entropy) orders every face instead."""
        from .questions import ambiguous

        a = ambiguous(self.table, by)
        return a if n is None else a.head(n)

    def explain(self, faces: Any = None, method: str = "gradcam", target: str = "pred",
                **options: Any) -> Explained:
        """Maps of ``method`` on some faces: row positions or ids of
        [`table`][ferviz.app.study.Study.table], or a table slice such as
        [`cell`][ferviz.app.study.Study.cell]'s (default: the first 8 faces). Shows itself as
        a gallery in a notebook; ``.plot()`` gives a plotly figure."""
        from ..explain.core import explain

        idx = self._rows(faces)
        images = self.records.images()[idx]
        maps = explain(self.model, images, target, method, labels=self.records.labels[idx],
                       **options)
        return Explained(images, maps, tuple(str(i) for i in self.records.ids[idx]))

    def _rows(self, faces: Any) -> np.ndarray:
        import numpy as np
        import pandas as pd

        if faces is None:
            return np.arange(min(8, len(self.records)))
        if isinstance(faces, pd.DataFrame):
            faces = faces["id"].tolist()
        faces = list(faces)
        if faces and all(isinstance(f, (int, np.integer)) for f in faces):
            return np.asarray(faces, np.int64)
        where = {str(i): k for k, i in enumerate(self.table["id"])}
        missing = [f for f in faces if str(f) not in where]
        if missing:
            raise FervizError(f"no face with id {missing[0]!r} in {self.data.name()}")
        return np.asarray([where[str(f)] for f in faces], np.int64)

    def report(self, out: str, force: bool = False, **options: Any) -> Any:
        """Write the self-contained HTML report (``ferviz report``; ``saliency`` names its
        methods, e.g. ``"occlusion,gradcam"``); returns its path."""
        from pathlib import Path

        from .tasks import report

        if self.spec is None:
            raise FervizError("the report reads a zoo name or a model file; save the module's "
                              "state dict and give the file with arch=...")
        if isinstance(options.get("saliency"), str):  # "occlusion,gradcam" as on the CLI
            options["saliency"] = tuple(m.strip() for m in options["saliency"].split(","))
        return report(self.spec, self.data, Path(out), force, tta=self.tta, **options)


def _spec_options(options: dict[str, Any]) -> dict[str, Any]:
    names = {"labels": "label_order"}
    return {names.get(k, k): v for k, v in options.items()}

