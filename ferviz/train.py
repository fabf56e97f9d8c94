"""Training and fine-tuning, as users re-run them: recipes, augmentation, resumable checkpoints.

Early stopping selects the epoch with the best validation accuracy (PublicTest on FER2013).
Each epoch ends with an atomic checkpoint, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .cache import atomic_path
from .data.records import Records
from .errors import FervizError
from .labels import EMOTIONS
from .models import zoo
from .models.card import ModelCard
from .models.fermodel import FERModel
from .predict import default_device, predict_proba, to_tensor
from .progress import progress as bar
from .recipe import Recipe

CHECKPOINT = "checkpoint.pt"


def random_augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The CS230 augmentation: horizontal flip, +-10 degrees, +-10% zoom, +-10% shifts."""
    n = len(x)
    u = lambda lo, hi: torch.rand(n, generator=g) * (hi - lo) + lo  # noqa: E731
    flip = torch.rand(n, generator=g) < 0.5
    angle = u(-10, 10) * math.pi / 180
    zoom = u(0.9, 1.1)
    tx, ty = u(-0.1, 0.1) * 2, u(-0.1, 0.1) * 2
    sign = torch.where(flip, -1.0, 1.0)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    theta = torch.stack([torch.stack([cos * sign, -sin, tx], 1),
                         torch.stack([sin * sign, cos, ty], 1)], 1).to(x)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, padding_mode="border", align_corners=False)


def _channels_last_ok(model: FERModel, device: torch.device) -> bool:
    """channels_last trains plain CNNs 10-25% faster on CPU where the layout owner's probe
    allows it (:func:`ferviz.models.layout.channels_last_ok`); torch 2.14's CPU backward of
    grouped (depthwise) convolutions segfaults in that layout, so those nets keep NCHW."""
    from .models.layout import channels_last_ok

    return device.type == "cpu" and all(
        m.groups == 1 for m in model.net.modules() if isinstance(m, nn.Conv2d)) and \
        channels_last_ok(model, device)


def class_weights(labels: np.ndarray) -> torch.Tensor:
    """'Balanced' weights n / (k * count), as scikit-learn computes them."""
    counts = np.bincount(labels[labels >= 0], minlength=len(EMOTIONS)).astype(np.float64)
    w = counts.sum() / (len(EMOTIONS) * np.maximum(counts, 1))
    return torch.tensor(w, dtype=torch.float32)


def _targets(records: Records, recipe: Recipe) -> torch.Tensor:
    if recipe.labels == "ferplus-dist":
        if records.soft is None:
            raise FervizError("label mode ferplus-dist needs FER+ vote distributions")
        return torch.from_numpy(np.asarray(records.soft, np.float32))
    labels = records.labels.astype(np.int64)
    if (labels < 0).any():
        raise FervizError(f"{int((labels < 0).sum())} training faces have no label")
    return torch.from_numpy(labels)


def accuracy(model: FERModel, records: Records) -> float:
    probs = predict_proba(model, records.images(), progress=False)
    return float((probs.argmax(1) == records.labels).mean())


def distillation_loss(logits: torch.Tensor, teacher_logits: torch.Tensor,
                      temperature: float) -> torch.Tensor:
    """Hinton et al.'s soft-target loss: KL(teacher || student) at ``temperature``, times T^2."""
    t = temperature
    return F.kl_div(F.log_softmax(logits / t, 1), F.log_softmax(teacher_logits / t, 1),
                    reduction="batchmean", log_target=True) * t * t


def train(model: FERModel, recipe: Recipe, train_set: Records, val_set: Records,
          out_dir: str | Path, head: nn.Module | None = None,
          progress: bool = True, log=print, data: str = "",
          teacher: FERModel | None = None) -> dict:
    """Train ``model`` in place by ``recipe``; keep the best validation epoch.

    Writes ``out_dir/checkpoint.pt`` after every epoch (resumed from if present), and at the
    end ``weights.safetensors`` (best epoch) and ``card.json``.

    Args:
        head: train only this part (fine-tuning); the rest stays frozen in eval mode.
        teacher: a model whose log-probabilities on the same augmented faces are soft targets
            (weight ``recipe.distill``, temperature ``recipe.temperature``).

    Returns:
        The training summary stored in the card (best epoch, accuracies, wall time...).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = default_device()
    model.to(device)
    layout = (torch.channels_last if _channels_last_ok(model, device)
              else torch.contiguous_format)
    model.net.to(memory_format=layout)
    if teacher is not None:
        teacher.to(device).eval()
    torch.manual_seed(recipe.seed)
    g = torch.Generator().manual_seed(recipe.seed)
    params = list((head or model).parameters())
    opt = (torch.optim.SGD(params, lr=recipe.lr, momentum=0.9, weight_decay=recipe.weight_decay,
                           nesterov=True) if recipe.optimizer == "sgd" else
           torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=recipe.epochs) \
        if recipe.schedule == "cosine" else None
    x_all = train_set.images()
    y_all = _targets(train_set, recipe)
    weight = class_weights(train_set.labels).to(device) if recipe.class_weights else None
    state = {"epoch": 0, "best_acc": -1.0, "best_epoch": 0, "history": [], "seconds": 0.0,
             "best": None, "stale": 0}
    ckpt = out / CHECKPOINT
    if ckpt.is_file():
        state = _resume(ckpt, recipe, model, opt, sched, g, device)
        log(f"resuming {out} at epoch {state['epoch'] + 1}/{recipe.epochs}")
    while state["epoch"] < recipe.epochs and state["stale"] < recipe.patience:
        t0 = time.perf_counter()
        (head or model).train()
        order = torch.randperm(len(x_all), generator=g)
        total = 0.0
        batches = range(0, len(order), recipe.batch_size)
        for start in bar(batches, desc=f"epoch {state['epoch'] + 1}/{recipe.epochs}",
                         unit="batch", quiet=not progress, leave=False):
            idx = order[start:start + recipe.batch_size]
            if len(idx) < 2:
                continue
            x = to_tensor(x_all[idx.numpy()], device)
            if recipe.augment:
                x = random_augment(x, g)
            logits = model(x.contiguous(memory_format=layout))
            loss = F.cross_entropy(logits, y_all[idx].to(device), weight=weight,
                                   label_smoothing=recipe.label_smoothing)
            if teacher is not None and recipe.distill > 0:
                with torch.inference_mode():
                    soft = teacher(x).float()
                loss = (1 - recipe.distill) * loss + recipe.distill * distillation_loss(
                    logits, soft.clone(), recipe.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        if sched is not None:
            sched.step()
        acc = accuracy(model, val_set)
        state["epoch"] += 1
        state["seconds"] += time.perf_counter() - t0
        state["history"].append({"epoch": state["epoch"], "loss": total / len(order),
                                 "val_accuracy": acc})
        if acc > state["best_acc"]:
            state.update(best_acc=acc, best_epoch=state["epoch"], stale=0,
                         best={k: v.detach().clone() for k, v in model.state_dict().items()})
        else:
            state["stale"] += 1
        with atomic_path(ckpt) as tmp:
            torch.save({"recipe": asdict(recipe), "model": model.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict() if sched else None,
                        "generator": g.get_state(), "state": state}, tmp)
        log(f"epoch {state['epoch']}: loss {total / len(order):.4f}, val accuracy {acc:.4f} "
            f"(best {state['best_acc']:.4f} at {state['best_epoch']})")
    model.load_state_dict(state["best"])
    model.net.to(memory_format=torch.contiguous_format)
    summary = {"best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
               "val_accuracy": state["best_acc"], "wall_seconds": round(state["seconds"], 1),
               "hardware": _hardware(device), "history": state["history"]}
    save_zoo_entry(model, out, recipe=asdict(recipe), training=summary, data=data,
                   data_hash=train_set.digest())
    return summary


def _resume(ckpt: Path, recipe: Recipe, model: FERModel, opt: torch.optim.Optimizer,
            sched, g: torch.Generator, device: torch.device) -> dict:
    """Restore a run from its checkpoint; the training state it holds is returned.

    Raises:
        FervizError: a checkpoint of another recipe, or a damaged one (with the remedy).
    """
    try:
        saved = torch.load(ckpt, map_location=device, weights_only=True)
        same = saved["recipe"] == asdict(recipe)
    except Exception as e:  # torch.load raises many types on a damaged file
        raise FervizError(f"{ckpt}: the checkpoint is damaged ({type(e).__name__}); delete it "
                          "to start the run over, or choose another output folder (-o)") from e
    if not same:
        raise FervizError(f"{ckpt}: a checkpoint of a different recipe is in the way; "
                          "choose another output folder or delete it")
    try:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if sched is not None:
            sched.load_state_dict(saved["scheduler"])
        g.set_state(saved["generator"])
        return saved["state"]
    except (KeyError, RuntimeError, ValueError, TypeError) as e:
        raise FervizError(f"{ckpt}: the checkpoint is damaged ({type(e).__name__}: {e}); "
                          "delete it to start the run over, or choose another output folder "
                          "(-o)") from e


def head_of(net: nn.Module) -> nn.Module:
    """The classification head: ``classifier``/``head``/``fc`` if present, else the last layer
    with weights."""
    for name in ("classifier", "head", "fc"):
        if isinstance(getattr(net, name, None), nn.Module):
            return getattr(net, name)
    layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if not layers:
        raise FervizError("found no head to fine-tune (no Linear or Conv2d layer)")
    return layers[-1]


def person_split(records: Records, test_share: float = 0.2, seed: int = 0,
                 groups: np.ndarray | None = None) -> tuple[Records, Records]:
    """A stratified 80/20 split of one person's labelled photos (as the CS230 web-app set),
    or, given ``groups`` (subject or sequence ids), an 80/20 split of the groups, so no
    group has faces on both sides."""
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    idx = np.arange(len(records))
    if groups is not None:
        if len(set(groups)) < 2:
            raise FervizError("a split by groups needs at least two groups")
        split = GroupShuffleSplit(n_splits=1, test_size=test_share, random_state=seed)
        train_idx, test_idx = next(split.split(idx, groups=np.asarray(groups, str)))
        return records.select(train_idx), records.select(test_idx)
    counts = np.bincount(records.labels[records.labels >= 0], minlength=len(EMOTIONS))
    stratify = records.labels if counts[counts > 0].min() >= 2 else None
    try:
        train_idx, test_idx = train_test_split(idx, test_size=test_share, random_state=seed,
                                               stratify=stratify)
    except ValueError as e:
        raise FervizError(f"too few labelled photos to split ({len(records)}): {e}") from e
    return records.select(train_idx), records.select(test_idx)


def finetune(model: FERModel, photos: Records, out_dir: str | Path, epochs: int = 30,
             lr: float = 3e-2, seed: int = 0, log=print, split_by: str | None = None) -> dict:
    """Freeze the convolutional layers and retrain the head on one person's photos.

    Args:
        split_by: a group column (``subject``, ``sequence``) that the held-out split keeps
            whole; default: a stratified split of the faces.

    Returns:
        held-out accuracy before and after, and the split sizes (also stored in the card).
    """
    if (photos.labels < 0).any():
        raise FervizError("fine-tuning needs labelled photos (class folders)")
    from .data.groups import group_column

    groups = group_column(photos, split_by) if split_by else None
    train_set, test_set = person_split(photos, seed=seed, groups=groups)
    before = accuracy(model, test_set)
    for p in model.parameters():
        p.requires_grad_(False)
    head = head_of(model.net)
    for p in head.parameters():
        p.requires_grad_(True)
    recipe = Recipe(arch=model.card.arch, epochs=epochs, batch_size=32, lr=lr, patience=epochs,
                    seed=seed, augment=True)
    result = {"photos": len(photos), "train": len(train_set), "held_out": len(test_set),
              "split_by": split_by or "faces", "accuracy_before": before}
    train(model, recipe, train_set, train_set, out_dir, head=head, progress=False, log=log,
          data=f"fine-tuned on {photos.name}")
    result["accuracy_after"] = accuracy(model, test_set)
    save_zoo_entry(model, out_dir, finetune=result)
    return result


def _hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.machine()}, {torch.get_num_threads()} threads)"


def save_zoo_entry(model: FERModel, out: str | Path, **info) -> ModelCard:
    """Write ``weights.safetensors`` and ``card.json`` (a zoo entry) into ``out``."""
    out = Path(out)
    zoo.write_weights(model.net, out)
    card = replace(model.card, name=out.name, info={**model.card.info, **info})
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(card.to_dict(), indent=1) + "\n")
    return card
