"""Write measured metrics (and float16 weights) into a zoo entry."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path

import pandas as pd
import torch

from ..analysis.metrics import confusion, per_class, summary
from ..cache import atomic_path
from ..errors import FervizError
from . import zoo
from .fermodel import FERModel


def entry_folder(name: str) -> Path:
    """The folder of a zoo entry given by name or path."""
    folder = Path(name) if Path(name).is_dir() else zoo.root() / name
    if not (folder / "card.json").is_file():
        raise FervizError(f"--update-card needs a zoo entry or a folder with card.json; {name} "
                          "is neither")
    return folder


def rounded_to_half(model: FERModel) -> FERModel:
    """A copy of ``model`` whose floating-point weights went through float16 (what loading
    float16-stored weights gives)."""
    copy = FERModel(deepcopy(model.net), model.card)
    with torch.no_grad():
        for t in copy.net.state_dict().values():
            if t.is_floating_point():
                t.copy_(t.half())
    return copy


def write_half_weights(name: str, model: FERModel) -> Path:
    """Store ``model``'s weights as float16 in the entry's ``weights.safetensors``."""
    return zoo.write_weights(model.net, entry_folder(name), half=True)


def write_metrics(name: str, df: pd.DataFrame, df_other: pd.DataFrame, tta: bool,
                  data: str, fp32_accuracy: float | None = None) -> Path:
    """Store accuracy (with and without TTA), macro-F1, per-class table and confusion matrix.

    Args:
        name: zoo entry (or folder holding card.json).
        df, df_other: predictions without/with TTA, in the order given by ``tta``.
        fp32_accuracy: for float16-stored weights, the accuracy before rounding.
    """
    path = entry_folder(name) / "card.json"
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
    if fp32_accuracy is not None:
        card["info"]["weights"] = {"dtype": "float16",
                                   "accuracy_float32": round(fp32_accuracy, 6)}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    return path
