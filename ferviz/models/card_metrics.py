"""Write measured metrics into a zoo entry's card.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..analysis.metrics import confusion, per_class, summary
from ..cache import atomic_path
from ..errors import FervizError
from . import zoo


def write_metrics(name: str, df: pd.DataFrame, df_other: pd.DataFrame, tta: bool,
                  data: str) -> Path:
    """Store accuracy (with and without TTA), macro-F1, per-class table and confusion matrix.

    Args:
        name: zoo entry (or folder holding card.json).
        df, df_other: predictions without/with TTA, in the order given by ``tta``.
    """
    path = Path(name) / "card.json" if Path(name).is_dir() else zoo.root() / name / "card.json"
    if not path.is_file():
        raise FervizError(f"--update-card needs a zoo entry or a folder with card.json; {name} "
                          "is neither")
    plain, with_tta = (df_other, df) if tta else (df, df_other)
    s = summary(plain)
    metrics = {
        "data": data, "n": s["n"], "accuracy": round(s["accuracy"], 6),
        "accuracy_tta": round(summary(with_tta)["accuracy"], 6),
        "macro_f1": round(s["macro_f1"], 6), "weighted_f1": round(s["weighted_f1"], 6),
        "per_class": per_class(plain).round(6).to_dict(orient="index"),
        "confusion": confusion(plain).values.tolist(),
    }
    card = json.loads(path.read_text())
    card.setdefault("info", {})["metrics"] = metrics
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    return path
