"""Misconfiguration is noticed, never silently fixed: a model's outputs that do not fit the
declared output mode become one ``note:`` naming the option to pass (the normalisation check,
which needs predictions, is :func:`ferviz.app.preprocessing.normalisation_note`)."""

from __future__ import annotations

import torch

from .card import ModelCard


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
