"""Is the model evaluated on the kind of faces it was trained on? Warnings from the model
card's training data, the evaluated data, and the predictions table.

- synthetic vs real: a card trained on FER-Synth evaluated on real faces (or the reverse);
- framing: a card trained on FER2013's tight 48x48 crops evaluated on faces a detector cut
  from larger photos (or on whole photos);
- collapse: more than 60% of the faces predicted as one emotion (unless the labels give that
  emotion 60% too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

COLLAPSE_SHARE = 0.6
SYNTHETIC_SOURCES = ("synth",)


def trained_on(card_info: Mapping[str, Any]) -> dict[str, bool | None]:
    """What a card says about its training data: ``synthetic`` and ``crops48`` (FER2013's
    48x48 crops); None where the card does not say."""
    text = str(card_info.get("data") or "").lower()
    if not text:
        return {"synthetic": None, "crops48": None}
    synthetic = "fer-synth" in text or "synthetic" in text
    return {"synthetic": synthetic, "crops48": True if "fer2013" in text else None}


def evaluated_on(df: pd.DataFrame, detected: float = 0.0) -> dict[str, bool]:
    """What the evaluated faces are: ``synthetic`` (every face from FER-Synth) and
    ``detected`` (at least half were cut from larger images by the face detector, the share
    the data loader measured, or single photos)."""
    sources = df["source"].astype(str) if len(df) else pd.Series([], dtype=str)
    return {"synthetic": bool(len(sources)) and bool(sources.isin(SYNTHETIC_SOURCES).all()),
            "detected": detected >= 0.5 or (bool(len(sources)) and
                                            bool((sources == "photo").mean() >= 0.5))}


def collapse(df: pd.DataFrame, share: float = COLLAPSE_SHARE) -> dict[str, Any] | None:
    """The emotion that more than ``share`` of the faces are predicted as, with its share of
    predictions and of the true labels; None when predictions do not collapse."""
    if not len(df):
        return None
    counts = df["pred"].value_counts(normalize=True)
    top, top_share = str(counts.index[0]), float(counts.iloc[0])
    truth = float((df["label"] == top).mean())
    if top_share <= share or truth >= share:
        return None
    return {"emotion": top, "pred_share": top_share, "label_share": truth}


def domain_warnings(df: pd.DataFrame, card_info: Mapping[str, Any], model_name: str = "",
                    detected: float = 0.0) -> list[str]:
    """One line per problem (empty when the data matches what the card trained on)."""
    card, data = trained_on(card_info), evaluated_on(df, detected)
    name = model_name or "the model"
    out = []
    if card["synthetic"] is True and not data["synthetic"]:
        out.append(f"warning: {name} was trained on synthetic faces ({card_info.get('data')}) "
                   "and is evaluated on real faces: expect a large domain gap")
    elif card["synthetic"] is False and data["synthetic"]:
        out.append(f"warning: {name} was trained on real faces ({card_info.get('data')}) and "
                   "is evaluated on synthetic FER-Synth faces")
    if card["crops48"] and data["detected"]:
        out.append(f"warning: {name} was trained on FER2013's tight 48x48 crops; these faces "
                   "were cut from larger photos by a face detector (different framing)")
    c = collapse(df)
    if c:
        out.append(f"warning: predictions collapse onto {c['emotion']} ({c['pred_share']:.0%} "
                   f"of faces; the labels give it {c['label_share']:.0%})")
    return out
