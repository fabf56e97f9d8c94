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
from ..models.layout import layout_of
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
    keras_layers = _keras_layers(model)
    if keras_layers:
        yield from _keras_stages(model, keras_layers, stages, seed)
        return
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


def _keras_layers(model: nn.Module) -> list[tuple[str, Any]]:
    """The weighted layers of a Keras-backed model, output side first (none for others)."""
    keras_model = getattr(getattr(model, "net", None), "keras_model", None)
    if keras_model is None:
        return []
    layers = [layer for layer in keras_model._flatten_layers(include_self=False, recursive=True)
              if layer.trainable_weights and not list(layer._flatten_layers(include_self=False))]
    return [(layer.name, layer) for layer in layers][::-1]


def _keras_stages(model: nn.Module, layers: list[tuple[str, Any]], stages: int, seed: int
                  ) -> Iterator[tuple[str, nn.Module]]:
    """Cascading randomisation of a Keras model in place (a Keras model cannot be deep-copied
    reliably): each layer's trainable weights are shuffled (their values permuted, so their
    scale stays), and every weight is put back when the stages end."""
    variables = [v for _, layer in layers for v in layer.weights]
    saved = [(v, v.value.detach().clone()) for v in variables]
    bounds = np.linspace(0, len(layers), min(stages, len(layers)) + 1).round().astype(int)[1:]
    g = torch.Generator().manual_seed(seed)
    done = 0
    try:
        for end in bounds:
            for _, layer in layers[done:end]:
                for v in layer.trainable_weights:
                    flat = v.value.detach().reshape(-1)
                    v.assign(flat[torch.randperm(len(flat), generator=g)].reshape(v.shape))
            done = end
            yield layers[end - 1][0], model
    finally:
        for v, value in saved:
            v.assign(value)


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
    if not _keras_layers(model) and not _randomisable(model):  # before any work
        raise FervizError("the model has no layers with parameters to randomise")
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

def fused_copy(model: nn.Module) -> nn.Module:
    """A copy of a :class:`~ferviz.models.fermodel.FERModel` whose network has its batch
    norms folded into the convolutions (``torch.fx``) and channels-last weights: the same
    outputs up to float rounding, about 1.5x faster forward and backward passes on CPU.
    ``model`` itself where the network cannot be traced (an ensemble, control flow) or the
    layout owner (:mod:`ferviz.models.layout`) finds the fused channels-last copy differs."""
    from ..models.fermodel import FERModel
    from ..models.layout import channels_last_ok
    from .incremental import trace

    net, card = getattr(model, "net", None), getattr(model, "card", None)
    keep = frozenset({card.cam_layer} if getattr(card, "cam_layer", None) else ())
    graph = trace(net, keep) if isinstance(model, FERModel) and net is not None else None
    if graph is None:
        return model
    fused = FERModel(graph, card).eval()
    if not channels_last_ok(fused) or not _same_outputs(model, fused):
        return model
    return fused.to(memory_format=torch.channels_last)


def _same_outputs(model: nn.Module, other: nn.Module) -> bool:
    """Whether two models give the same outputs on the layout owner's probe faces."""
    import contextlib
    import io

    from ..models.layout import ATOL, PROBE_FACES, RTOL, probe_faces

    try:  # quiet: a traced (torch.fx) module prints its own error report before raising
        with torch.inference_mode(), contextlib.redirect_stderr(io.StringIO()):
            device = next((p.device for p in model.parameters()), torch.device("cpu"))
            x = probe_faces(PROBE_FACES, device)
            return bool(torch.allclose(model(x), other(x), RTOL, ATOL))
    except Exception:  # a traced copy that fails is not used
        return False


def _probs(model: nn.Module, x: torch.Tensor, targets: torch.Tensor, batch: int) -> torch.Tensor:
    """Target-class probability of every face in ``x`` (``targets`` one per face)."""
    layout = layout_of(model)
    out = torch.cat([torch.softmax(model(b.contiguous(memory_format=layout)), 1)
                     for b in x.split(batch)])
    return out.gather(1, targets.view(-1, 1))[:, 0]


def _curves(model: nn.Module, x: torch.Tensor, orders: torch.Tensor, targets: torch.Tensor,
            steps: int, baseline: float, chunk: int = 16, batch: int = 64) -> torch.Tensor:
    """Deletion and insertion curves of every order: O x N x 2 x (steps + 1) target
    probabilities (``orders``: O x N x HW pixel orders, most salient first). The end points
    (the face itself, the grey face) are shared by every order and computed once; the inner
    points of all orders and both curves of ``chunk`` faces go through the model together."""
    n_orders, n, hw = orders.shape
    rank = torch.empty_like(orders)
    rank.scatter_(2, orders, torch.arange(hw).expand(n_orders, n, -1))
    counts = torch.linspace(0, hw, steps + 1).round().long()[1:-1]
    grey = torch.full_like(x[:1], baseline)
    p_face = _probs(model, x, targets, batch)
    p_grey = torch.softmax(model(grey), 1)[0][targets]
    out = torch.empty(n_orders, n, 2, steps + 1)
    out[:, :, 0, 0] = out[:, :, 1, -1] = p_face
    out[:, :, 0, -1] = out[:, :, 1, 0] = p_grey
    flat = x.reshape(n, 1, 1, hw)
    for i in range(0, n, chunk):
        # faces x orders x inner steps x HW: True where the pixel is changed
        r = rank[:, i:i + chunk].transpose(0, 1)[:, :, None] < counts.view(1, 1, -1, 1)
        xi = flat[i:i + chunk]
        both = torch.stack([torch.where(r, baseline, xi), torch.where(r, xi, baseline)], 2)
        m = len(r)
        t = targets[i:i + chunk].repeat_interleave(both[0].numel() // hw)
        p = _probs(model, both.view(-1, *x.shape[1:]), t, batch)
        out[:, i:i + m, :, 1:-1] = p.view(m, n_orders, 2, -1).transpose(0, 1)
    return out


def deletion_insertion_all(model: nn.Module, images: Any, maps: dict[str, np.ndarray],
                           targets: np.ndarray, steps: int = 16, baseline: float = 0.5,
                           seed: int = 0) -> dict[str, dict[str, float]]:
    """:func:`deletion_insertion` of several maps of the same faces in one batched pass, and
    of the random order under the key ``random``: per key, ``deletion`` and ``insertion``.

    Raises:
        FervizError: if a map array does not match the faces.
    """
    faces, _ = as_faces(images)
    g = torch.Generator().manual_seed(seed)
    tie = torch.rand((len(faces), faces[0].size), generator=g) * 1e-6  # random among equals
    orders = [torch.argsort(torch.rand(tie.shape, generator=g), dim=1)]
    for m in maps.values():
        m = np.asarray(m, np.float32)
        if m.shape != faces.shape:
            raise FervizError(f"maps {m.shape} do not match faces {faces.shape}")
        orders.append(torch.argsort(torch.from_numpy(m.reshape(len(m), -1)) + tie, dim=1,
                                    descending=True))
    t = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    with prepared(model, torch.device("cpu")), torch.inference_mode():
        curves = _curves(model, to_tensor(faces), torch.stack(orders), t, steps, baseline)
    auc = np.trapezoid(curves.numpy(), dx=1 / steps, axis=-1).mean(1)  # orders x 2
    return {k: {"deletion": float(a[0]), "insertion": float(a[1])}
            for k, a in zip(["random", *maps], auc)}


def deletion_insertion(model: nn.Module, images: Any, maps: np.ndarray, targets: np.ndarray,
                       steps: int = 16, baseline: float = 0.5, seed: int = 0) -> dict[str, float]:
    """Deletion and insertion AUCs (Petsiuk et al. 2018) of saliency orders and of random
    orders: pixels are replaced by (deletion) or revealed from (insertion) a grey
    ``baseline`` face, most salient first. A faithful map has a lower deletion AUC and a
    higher insertion AUC than random.

    Returns:
        ``deletion``, ``deletion_random``, ``insertion``, ``insertion_random`` (mean AUC of the
        target-class probability over the fraction of pixels changed).
    """
    got = deletion_insertion_all(model, images, {"map": maps}, targets, steps, baseline, seed)
    return {**got["map"], **{f"{k}_random": v for k, v in got["random"].items()}}
