"""The model zoo folder: one ``<name>/`` per entry with ``card.json`` and ``weights.safetensors``.

Reading cards needs no torch, so ``ferviz models`` stays fast.
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from ..cache import atomic_path
from ..errors import FervizError
from .card import Metrics, ModelCard

if TYPE_CHECKING:
    from torch import nn

WEIGHTS = "weights.safetensors"


def root() -> Path:
    """``$FERVIZ_ZOO``, else the zoo shipped inside the package (``ferviz/model_zoo``; the
    repository's top-level ``model_zoo`` links to it)."""
    env = os.environ.get("FERVIZ_ZOO")
    return Path(env) if env else Path(str(files("ferviz") / "model_zoo"))


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


def write_weights(net: nn.Module, folder: str | Path, half: bool = False) -> Path:
    """Write ``net``'s state dict as the entry's ``weights.safetensors`` (atomic), floats as
    float16 when ``half``."""
    from safetensors.torch import save_file

    path = Path(folder) / WEIGHTS
    sd = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
          for k, v in net.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(sd, str(tmp))
    return path


def write_ensemble(members: list[str], out: str | Path) -> ModelCard:
    """Write an ensemble entry (a card only: it averages its zoo ``members``' probabilities).

    Raises:
        FervizError: fewer than two members, an unknown or nested member, or members whose
            labels or training data differ.
    """
    if len(set(members)) < 2:
        raise FervizError("an ensemble needs at least two different zoo models")
    cards = [card(m) for m in members]
    nested = [m for m, c in zip(members, cards) if c.members]
    if nested:
        raise FervizError(f"ensembles cannot be members: {', '.join(nested)}")
    for what, values in (("labels", {str(c.labels) for c in cards}),
                         ("data", {str(c.info.get("data")) for c in cards})):
        if len(values) > 1:
            raise FervizError(f"the members' {what} differ: {' / '.join(sorted(values))}")
    first = cards[0]
    out = Path(out)
    ens = ModelCard(arch="ensemble", name=out.name, labels=first.labels, output="log_probs",
                    cam_layer=f"members.0.net.{first.cam_layer}",
                    source="ferviz: average of the members' probabilities (CS230 ensemble idea)",
                    params=sum(c.params for c in cards),
                    info={"members": list(members), "data": first.info.get("data", "")})
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(ens.to_dict(), indent=1) + "\n")
    return ens


def markdown_table() -> str:
    """The README's zoo table, generated from the cards (measured numbers only)."""
    rows = ["| model | architecture | params | size | test accuracy (TTA) | macro-F1 | goal | "
            "evaluated on | source |", "|---|---|---|---|---|---|---|---|---|"]
    for name in names():
        c = card(name)
        m = c.metrics or Metrics()
        folder = root() / name
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6
        acc = (f"{m.accuracy * 100:.1f}% ({m.accuracy_tta * 100:.1f}%)"
               if m.accuracy is not None and m.accuracy_tta is not None else "not measured")
        f1 = f"{m.macro_f1:.3f}" if m.macro_f1 is not None else "-"
        arch = f"ensemble of {', '.join(c.members)}" if c.members else f"`{c.arch}`"
        met = "met" if c.goal is not None and (m.accuracy or -1) >= c.goal else "not met"
        goal = f"{c.goal * 100:.0f}%: {met}" if c.goal is not None else "-"
        half = " (float16)" if c.info.get("weights", {}).get("dtype") == "float16" else ""
        rows.append(f"| `{name}` | {arch} | {c.params:,} | {size:.1f} MB{half} | {acc} | {f1} | "
                    f"{goal} | {m.data or '-'} | {c.source} |")
    return "\n".join(rows)
