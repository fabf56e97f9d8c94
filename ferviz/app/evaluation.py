"""What ``ferviz evaluate`` says about the data beside the metrics: the contempt policy,
intervals (a cluster bootstrap over subjects when they are known), metrics per group, a
training-leak warning and domain warnings."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.counts import MACRO_F1
from ..analysis.domain import domain_warnings
from ..analysis.groups import default_cluster, describe, intervals
from ..analysis.metrics import RESAMPLES, summary
from ..analysis.slices import by_slice
from ..data.images import CROP_SIDE
from ..data.records import Records
from .audit import leak_check, leak_line


def detected_share(records: Records, sample: int = 200) -> float:
    """Share of file-backed faces that the loader cut out with the face detector (images
    larger than a face crop), from the headers of up to ``sample`` files."""
    if records.paths is None or not len(records):
        return 0.0
    from PIL import Image

    pick = np.linspace(0, len(records) - 1, min(sample, len(records))).round().astype(int)
    big = 0
    for p in records.paths[pick]:
        try:
            with Image.open(p) as im:
                big += im.width > CROP_SIDE or im.height > CROP_SIDE
        except OSError:
            continue
    return big / len(pick)


def evaluation_notes(df: pd.DataFrame, records: Records, card_info: dict, model_name: str,
                     data: str, split: str | None, by: str | None = None,
                     n_resamples: int = RESAMPLES) -> dict[str, Any]:
    """Everything ``evaluate`` adds to the metrics, as JSON-ready values plus text lines.

    Returns:
        ``contempt`` (policy note or None), ``intervals`` (see
        :func:`ferviz.analysis.groups.intervals`), ``by`` (per-group table or None),
        ``leak`` (see :func:`ferviz.app.audit.leak_check`), ``warnings`` (lines) and ``lines``
        (the text to print under the metrics).
    """
    ci = intervals(df, default_cluster(df), n_resamples=n_resamples)
    groups = by_slice(df, by) if by else None
    leak = leak_check(data, split, records)
    warnings = domain_warnings(df, card_info, model_name, detected_share(records))
    warnings += [w for w in [leak_line(leak)] if w]
    scores = summary(df)
    lines = [f"{MACRO_F1} ({scores['macro_f1']:.4f}); over the classes in the truth or the "
             f"predictions, as scikit-learn averages: {scores['macro_f1_seen']:.4f}",
             describe(ci)]
    if records.contempt is not None:
        lines.append(records.contempt.text())
    if groups is not None:
        lines += [f"per {by} ({len(groups)} groups):",
                  groups.to_string(float_format=lambda v: f"{v:.3f}")]
    return {"contempt": records.contempt.to_dict() if records.contempt else None,
            "intervals": ci, "by": None if groups is None else
            json.loads(groups.reset_index().to_json(orient="records")),
            "leak": leak, "warnings": warnings, "lines": lines}
