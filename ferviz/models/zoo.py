"""The model zoo folder: one ``<name>/`` per entry with ``card.json`` and ``weights.safetensors``.

Reading cards needs no torch, so ``ferviz models`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FervizError
from .card import ModelCard

WEIGHTS = "weights.safetensors"


def root() -> Path:
    """``$FERVIZ_ZOO``, else the ``model_zoo/`` folder beside the package."""
    env = os.environ.get("FERVIZ_ZOO")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "model_zoo"


def names() -> list[str]:
    """Zoo entries that have a card."""
    r = root()
    return sorted(p.parent.name for p in r.glob("*/card.json")) if r.is_dir() else []


def exists(name: str) -> bool:
    return "/" not in name and "\\" not in name and (root() / name / "card.json").is_file()


def card(name: str) -> ModelCard:
    if not exists(name):
        raise FervizError(f"no zoo model {name!r}; available: {', '.join(names()) or 'none'}")
    return ModelCard.read(root() / name / "card.json")


def weights(name: str) -> Path:
    path = root() / name / WEIGHTS
    if not path.is_file():
        raise FervizError(f"zoo model {name} has no {WEIGHTS}")
    return path
