"""The error report's content: every analysis of a predictions table the report shows,
computed here and rendered by :mod:`ferviz.report` (offline: plotly.js inlined once, images
as data URIs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ...analysis.compare import align
from ...analysis.confusions import top_confusions
from ...errors import FervizError
from ...report import plotly_js, render
from ...viz.gallery import Gallery
from . import sections
from .saliency import compute

if TYPE_CHECKING:
    from ...models.fermodel import FERModel

@dataclass(frozen=True)
class Options:
    """What the report shows.

    Attributes:
        top_k: top confusions with a gallery each.
        per_confusion: most confident errors shown per top confusion.
        per_cell: faces shown per cell in the confusion-matrix drill-down.
        ambiguous: ambiguous faces shown.
        k, spread: a face is ambiguous when its k likeliest emotions lie within ``spread``.
        agreement: FER+ vote share above which annotators count as agreeing.
        bins: calibration bins.
        saliency: explanation methods for the gallery overlays (empty: none).
        trust: run the trust checks of those methods on (a sample of 256 of) the report's
            faces; otherwise verdicts cached by an earlier run on the same faces
            (``ferviz checks -m M -d D``) are shown, and the others say "not checked".
        max_saliency: faces explained in the top-confusion galleries, at most.
        regions_per_class: most confident faces per predicted class in the region table.
        disagreements: faces shown where two compared tables disagree.
        slices: columns to break the metrics down by (shown when they hold two values or more;
            subjects and sequences when the data names them).
    """

    top_k: int = 6
    per_confusion: int = 8
    per_cell: int = 6
    ambiguous: int = 24
    k: int = 3
    spread: float = 0.10
    agreement: float = 0.5
    bins: int = 15
    saliency: Sequence[str] = ()
    trust: bool = False
    max_saliency: int = 100
    regions_per_class: int = 10
    disagreements: int = 12
    slices: Sequence[str] = field(default=("split", "source", "subject", "sequence"))

    def __post_init__(self) -> None:
        counts = ("top_k", "per_confusion", "per_cell", "ambiguous", "max_saliency",
                  "regions_per_class", "disagreements")
        bad = [c for c in counts if getattr(self, c) < 0]
        bad += [c for c in ("spread", "agreement") if not 0 <= getattr(self, c) <= 1]
        bad += ["bins"] * (self.bins < 1)
        if bad:
            raise FervizError("report options out of range (counts >= 0, spread and agreement "
                              "in [0, 1], bins >= 1): "
                              + ", ".join(f"{c}={getattr(self, c)}" for c in bad))


def build_html(df: pd.DataFrame, faces: np.ndarray | None = None, *,
               model: FERModel | None = None,
               model_card: Mapping[str, Any] | None = None,
               data_info: Mapping[str, Any] | None = None,
               compare: pd.DataFrame | None = None, compare_name: str = "second model",
               options: Options = Options(), title: str | None = None,
               fit: Callable[[list[int]], Sequence[Any]] | None = None,
               notes: Sequence[str] = ()) -> str:
    """The report as one HTML string.

    Args:
        df: the predictions table.
        faces: N x 48 x 48 uint8 faces in the table's row order (thumbnails), or None.
        model: the FERModel, needed for saliency overlays and the region table.
        model_card: the model's card as a dict (``ModelCard.to_dict()``).
        data_info: what to say about the data (name, split, ...).
        compare: a second predictions table on the same faces.
        compare_name: what to call it.
        fit: landmarks of the faces at given rows, or why none
            (:func:`ferviz.data.source_landmarks.fit_records`): the region table reads the
            reliable ones with their own regions.
        notes: the application layer's notes and warnings about the data and the model
            (shown under the summary and embedded with the scores).

    Raises:
        FervizError: on faces that do not match the table, or tables on different faces.
    """
    df = df.reset_index(drop=True)
    if faces is not None and len(faces) != len(df):
        raise FervizError(f"{len(faces)} faces for a table of {len(df)} rows")
    if compare is not None:
        align(df, compare)  # fail before the slow part
    name = str((model_card or {}).get("name") or "model")
    tops = sections.top_rows(df, options)
    sal = compute(model, faces, [r for rows in tops.values() for r in rows][:options.max_saliency],
                  list(options.saliency), sections.region_rows(df, options.regions_per_class),
                  options.trust, fit)
    gallery = Gallery.of(df, faces, sal.overlays, name)
    summary = sections.summary(df, options)
    ambiguity = sections.ambiguity(df, gallery, options)
    ctx = {
        "title": title or f"{name} error report",
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "summary": summary,
        "notes": list(notes),
        "scores_json": sections.scores_json(df, summary, top_confusions(df, options.top_k),
                                            list(notes), ambiguity["ids"]),
        "model_card": sections.card_rows(model_card),
        "data_card": sections.data_rows(df, data_info),
        "errors": sections.errors(df, gallery, tops, options),
        "ambiguity": ambiguity,
        "human": (sections.human_section(df, gallery, options) if gallery.human is not None
                  else None),
        "calibration": sections.calibration(df, options),
        "saliency": sal,
        "evidence": {str(df["id"].iloc[r]): e for r, e in sal.evidence.items()},
        "regions": sections.regions(sal),
        "slices": sections.slices(df, options),
        "compare": (sections.comparison(df, compare, gallery, name, compare_name, options)
                    if compare is not None else None),
        "plotly_js": plotly_js(),
    }
    return render(ctx)
