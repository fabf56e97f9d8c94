"""Misconfiguration is noticed, never silently fixed: a model's outputs that do not fit the
declared output mode, and a normalisation that scores clearly worse than another common one on
labelled faces, each become one ``note:`` naming the option to pass."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import torch

from ..labels import EMOTIONS
from .card import NORMALISATIONS, ModelCard
from .fermodel import FERModel

SAMPLE = 512  # labelled faces tried with each normalisation
BETTER = 0.05  # accuracy gain (absolute) that makes another normalisation "clearly better"


def output_note(raw: torch.Tensor, card: ModelCard) -> str | None:
    """A note when the network's raw outputs (N x classes) do not fit ``card.output``."""
    raw = raw.detach().float()
    unit = bool(((raw >= 0) & (raw <= 1)).all())
    sums_one = bool(torch.allclose(raw.sum(1), torch.ones(len(raw)), atol=1e-3))
    if card.output == "logits" and unit and not sums_one:
        return ("the outputs all lie in [0, 1] without summing to one, as a sigmoid head's "
                "do; if so, pass --output sigmoid (confidence, entropy and calibration assume "
                "logits otherwise)")
    if card.output == "logits" and unit and sums_one:
        return "the outputs look like probabilities (they sum to one); if so, pass --output probs"
    if card.output in ("probs", "sigmoid") and not unit:
        return (f"--output {card.output} was declared but the outputs leave [0, 1]; "
                "they look like logits (--output logits)")
    return None


def normalisation_note(model: FERModel, faces: np.ndarray, labels: np.ndarray,
                       seed: int = 0) -> str | None:
    """A note naming a common normalisation that scores clearly better (by :data:`BETTER`)
    than the model's own on up to :data:`SAMPLE` labelled faces, or None."""
    known = np.flatnonzero((labels >= 0) & (labels < len(EMOTIONS)))
    if len(known) < 50:
        return None
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(known, min(SAMPLE, len(known)), replace=False))
    x, y = faces[pick], labels[pick]
    own = (model.card.mean, model.card.std)

    def score(card: ModelCard) -> float:
        m = FERModel(model.net, card).eval()
        with torch.inference_mode():
            pred = torch.cat([m(torch.from_numpy(np.ascontiguousarray(b)).float().div(255)
                                .unsqueeze(1)).argmax(1) for b in np.array_split(x, 4)])
        return float((pred.numpy() == y).mean())

    base = score(model.card)
    tried = {name: score(replace(model.card, mean=mean, std=std))
             for name, (mean, std) in NORMALISATIONS.items()
             if not np.allclose((mean, std), own)}
    name, best = max(tried.items(), key=lambda kv: kv[1], default=("", 0.0))
    if best >= base + BETTER:
        return (f"--normalize {name} scores {best * 100:.1f}% on {len(pick)} labelled faces "
                f"against {base * 100:.1f}% as loaded; check the model's preprocessing")
    return None
