"""Is an explanation trustworthy? Model-randomisation sanity checks (Adebayo et al., NeurIPS
2018), deletion / insertion faithfulness curves against a random order, and ground-truth
scores on FER-Synth (share of attribution inside the expression's region, pointing game)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import FervizError
from ..predict import to_tensor
from .core import as_faces, explain, prepared, resolve_targets

Explainer = str | Callable[[nn.Module, np.ndarray, np.ndarray], np.ndarray]


# ---- ground truth ---------------------------------------------------------------------------

def ground_truth_scores(maps: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Mean share of (non-negative) attribution inside each face's ground-truth region, and
    the pointing-game hit rate (the map's maximum lies inside the region).

    Raises:
        FervizError: if maps and masks differ in shape.
    """
    maps, masks = np.clip(np.asarray(maps, np.float64), 0, None), np.asarray(masks, bool)
    if maps.shape != masks.shape:
        raise FervizError(f"maps {maps.shape} and masks {masks.shape} differ in shape")
    flat, inside = maps.reshape(len(maps), -1), masks.reshape(len(masks), -1)
    total = flat.sum(1)
    share = np.divide((flat * inside).sum(1), total, out=np.zeros_like(total), where=total > 0)
    hit = inside[np.arange(len(flat)), flat.argmax(1)] & (total > 0)
    return {"share_inside": float(share.mean()), "pointing": float(hit.mean()),
            "area": float(inside.mean())}


def random_maps(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Uniform random maps: the chance level of :func:`ground_truth_scores`."""
    return np.random.default_rng(seed).random(shape).astype(np.float32)


# ---- model randomisation --------------------------------------------------------------------

@dataclass(frozen=True)
class RandomizationResult:
    """Cascading randomisation: Spearman rank correlation between the original maps and the
    maps after re-initialising the top layers, stage by stage.

    Attributes:
        stages: per stage, the last layer re-initialised (top-down, cumulative).
        spearman: per stage, mean over faces of the rank correlation.
        threshold: the check passes when the fully randomised correlation is below it.
    """

    method: str
    stages: list[str]
    spearman: list[float]
    threshold: float

    @property
    def passed(self) -> bool:
        return self.spearman[-1] < self.threshold

    def verdict(self) -> str:
        last = self.spearman[-1]
        if self.passed:
            return (f"{self.method}: PASS - maps change when the model is randomised "
                    f"(rank correlation {last:.2f} < {self.threshold})")
        return (f"{self.method}: FAIL - maps barely change when every layer is randomised "
                f"(rank correlation {last:.2f} >= {self.threshold}); they show the input more "
                "than the model")


def _randomisable(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Layers with their own parameters, output side first."""
    layers = [(n, m) for n, m in model.named_modules()
              if hasattr(m, "reset_parameters") and any(True for _ in m.parameters(False))]
    return layers[::-1]


def randomised_stages(model: nn.Module, stages: int = 4, seed: int = 0
                      ) -> Iterator[tuple[str, nn.Module]]:
    """Cascading randomisation of a copy of ``model``: its parameterised layers re-initialised
    from the output down in ``stages`` cumulative steps. Yields (last layer re-initialised,
    the copy) after each step; the same copy is changed further by the next step.

    Raises:
        FervizError: for a model without parameters.
    """
    layers = _randomisable(model)
    if not layers:
        raise FervizError("the model has no layers with parameters to randomise")
    shuffled = copy.deepcopy(model)
    named = dict(_randomisable(shuffled))
    bounds = np.linspace(0, len(layers), min(stages, len(layers)) + 1).round().astype(int)[1:]
    done = 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for end in bounds:
            for name, _ in layers[done:end]:
                named[name].reset_parameters()
            done = end
            yield layers[end - 1][0] or "(model)", shuffled


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Spearman rank correlation of N x D arrays (ties by average rank)."""
    from scipy.stats import rankdata

    ra, rb = rankdata(a, axis=1), rankdata(b, axis=1)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra ** 2).sum(1) * (rb ** 2).sum(1))
    return np.divide((ra * rb).sum(1), den, out=np.zeros(len(a)), where=den > 0)


def _maps(explainer: Explainer, model: nn.Module, faces: np.ndarray, targets: np.ndarray,
          options: dict[str, Any]) -> np.ndarray:
    if callable(explainer):
        return np.asarray(explainer(model, faces, targets), np.float32)
    return explain(model, faces, targets, explainer, cache=False, progress=False,
                   **options).maps


def cascading_randomization(model: nn.Module, images: Any, method: Explainer = "gradcam",
                            target: Any = "pred", labels: np.ndarray | None = None,
                            stages: int = 4, threshold: float = 0.5, seed: int = 0,
                            **options: Any) -> RandomizationResult:
    """Re-initialise the model's layers from the output down, in ``stages`` cumulative steps,
    and compare each stage's maps with the original ones.

    Args:
        method: a registered method name, or ``fn(model, faces, targets) -> N x H x W``.
        target: what to explain; resolved once on the original model and kept fixed.
        labels: true labels for ``target='true'`` (taken from Records otherwise).
        threshold: largest mean rank correlation a passing method may keep.
        **options: method options.

    Raises:
        FervizError: for a model without parameters.
    """
    faces, record_labels = as_faces(images)
    labels = record_labels if labels is None else labels
    with prepared(model, torch.device("cpu")):
        x = to_tensor(faces)
        targets, _ = resolve_targets(model, x, target, labels)
    original = _maps(method, model, faces, targets, options)
    names, rho = [], []
    for name, shuffled in randomised_stages(model, stages, seed):
        maps = _maps(method, shuffled, faces, targets, options)
        rho.append(float(rank_correlation(original.reshape(len(faces), -1),
                                   maps.reshape(len(faces), -1)).mean()))
        names.append(name)
    label = method if isinstance(method, str) else getattr(method, "__name__", "custom")
    return RandomizationResult(label, names, rho, threshold)


# ---- faithfulness ---------------------------------------------------------------------------

def _curve(model: nn.Module, x: torch.Tensor, order: torch.Tensor, targets: torch.Tensor,
           steps: int, baseline: float, insert: bool) -> np.ndarray:
    """Target probability as pixels are removed (or inserted) in ``order``: N x (steps+1)."""
    n, hw = order.shape
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(hw).expand(n, -1))
    counts = torch.linspace(0, hw, steps + 1).round().long()
    out = np.empty((n, steps + 1), np.float32)
    with torch.inference_mode():
        for k, c in enumerate(counts):
            changed = (rank < c).view_as(x)
            keep_x = changed if insert else ~changed
            xk = torch.where(keep_x, x, torch.full_like(x, baseline))
            p = torch.softmax(model(xk), dim=1).gather(1, targets.view(-1, 1))[:, 0]
            out[:, k] = p.cpu().numpy()
    return out


def deletion_insertion(model: nn.Module, images: Any, maps: np.ndarray, targets: np.ndarray,
                       steps: int = 16, baseline: float = 0.5, seed: int = 0,
                       random: bool = True) -> dict[str, float]:
    """Deletion and insertion AUCs (Petsiuk et al. 2018) of saliency orders and of random
    orders: pixels are replaced by (deletion) or revealed from (insertion) a grey
    ``baseline`` face, most salient first. A faithful map has a lower deletion AUC and a
    higher insertion AUC than random.

    Returns:
        ``deletion``, ``deletion_random``, ``insertion``, ``insertion_random`` (mean AUC of the
        target-class probability over the fraction of pixels changed); without the random
        ones when ``random`` is false (they do not depend on the maps).
    """
    faces, _ = as_faces(images)
    maps = np.asarray(maps, np.float32)
    if maps.shape != faces.shape:
        raise FervizError(f"maps {maps.shape} do not match faces {faces.shape}")
    g = torch.Generator().manual_seed(seed)
    flat = torch.from_numpy(maps.reshape(len(maps), -1))
    tie = torch.rand(flat.shape, generator=g) * 1e-6  # random order among equal values
    salient = torch.argsort(flat + tie, dim=1, descending=True)
    rand = torch.argsort(torch.rand(flat.shape, generator=g), dim=1)
    t = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    result = {}
    with prepared(model, torch.device("cpu")):
        x = to_tensor(faces)
        for name, insert in (("deletion", False), ("insertion", True)):
            for suffix, order in (("", salient), ("_random", rand))[:2 if random else 1]:
                curve = _curve(model, x, order, t, steps, baseline, insert)
                result[name + suffix] = float(np.trapezoid(curve, dx=1 / steps, axis=1).mean())
    return result
