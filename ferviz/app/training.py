"""The training use cases: train an architecture (resumable), fine-tune a head on one
person's photos, and make an ensemble entry."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import FervizError, shown
from ..outputs import check_output, new_folder
from ..specs import DataSpec, ModelSpec


def train(arch: str, ds: DataSpec, out: Path, init: str | None = None,
          train_split: str | None = None, val_split: str | None = None,
          log: Callable[[str], None] = print, progress: bool = False, force: bool = False,
          **recipe: Any) -> dict[str, Any]:
    """Train an architecture on ``ds`` (resumable: the same call continues from the
    checkpoint in ``out``); returns the training summary. The recipe and the splits are
    checked before torch is imported."""
    from dataclasses import replace

    from ..recipe import Recipe

    r = Recipe(arch=arch, labels=ds.labels, **recipe)
    if not force and not (out / "checkpoint.pt").is_file() and \
            any((out / name).exists() for name in ("card.json", "weights.safetensors")):
        raise FervizError(f"{shown(out)} already holds a model (card.json, "
                          "weights.safetensors) and no run to resume; choose another folder or "
                          "pass --force to replace it")
    records = ds.open_all()
    splits = {str(s) for s in records.splits}
    train_split = train_split or ("Training" if "Training" in splits else "train")
    val_split = val_split or ("PublicTest" if "PublicTest" in splits else "val")
    train_set, val_set = records.split(train_split), records.split(val_split)
    import torch

    from ..models.fermodel import FERModel
    from ..models.load import load_model
    from ..models.registry import create_model
    from ..train import train as run

    torch.manual_seed(r.seed)  # the initial weights follow the seed too
    net, card = create_model(arch)
    if init:
        first = load_model(init, arch=arch)
        if first.card.arch != arch:
            raise FervizError(f"--init {init} is a {first.card.arch}, not a {arch}")
        net.load_state_dict(first.net.state_dict())
        r = replace(r, init=f"{init} ({first.digest()[:12]})")
    teacher = None
    if r.teacher:
        teacher = load_model(r.teacher)
        r = replace(r, teacher=f"{r.teacher} ({teacher.digest()[:12]})")
    check_output(out / "card.json", force=True)  # writable (the run itself resumes)
    summary = run(FERModel(net, card), r, train_set, val_set, out, progress=progress, log=log,
                  data=f"{records.name}: train {train_split}, select on {val_split}",
                  teacher=teacher)
    return {**summary, "val_split": val_split}


def finetune(ms: ModelSpec, ds: DataSpec, out: Path, force: bool = False,
             **options: Any) -> dict[str, Any]:
    """Retrain a model's head on one person's photos; held-out accuracy before and after
    (``split_by`` a group column keeps whole subjects or sequences out of training)."""
    from ..train import finetune as run

    photos = ds.open()
    if options.get("split_by"):
        from ..data.groups import group_column

        group_column(photos, options["split_by"])  # fails before anything is written
    check_output(out / "card.json", force)
    return run(ms.load(), photos, out, log=lambda _: None, **options)


def ensemble(members: list[str], out: Path, force: bool = False):
    """Write a zoo ensemble card averaging ``members``' probabilities."""
    from ..models.zoo import write_ensemble

    with new_folder(out):
        check_output(out / "card.json", force)
        return write_ensemble(members, out)
