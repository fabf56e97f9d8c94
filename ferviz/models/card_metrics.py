"""Write into a zoo entry: measured metrics (computed by the tasks) and float16 weights."""

from __future__ import annotations

import json
from copy import deepcopy
from pathlib import Path
from typing import Any

import torch

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


def update_info(name: str, info: dict[str, Any]) -> Path:
    """Merge ``info`` into the ``info`` table of a zoo entry's card.json (atomically)."""
    path = entry_folder(name) / "card.json"
    card = json.loads(path.read_text())
    card.setdefault("info", {}).update(info)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(card, indent=1) + "\n")
    return path
