"""``explain``: every method behind one call, returning N x 48 x 48 maps."""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import FervizError
from ..labels import EMOTIONS, canonical, label_index
from ..models.threads import threads
from ..predict import to_tensor
from .evidence import Evidence
from .registry import Method, get_method

_CACHE_VERSION = 2
Target = str | int | Sequence[int] | np.ndarray | tuple[Any, str]


@dataclass(frozen=True)
class SaliencyMaps:
    """Explanations of N faces.

    Attributes:
        maps: N x H x W float32 in [0, 1] (per-image max scaled to 1).
        raw: N x H x W float32 attributions before normalisation (CAM methods: the
            library's ReLU'd, min-max scaled CAM).
        targets: N explained class indices.
        method: registry name.
        contrast: the class subtracted (``sad`` minus ``neutral``), or None.
        score: ``prob`` or ``logit``: the model output explained.
        options: the method options used.
        seconds: wall time of the computation (of the original run when ``cached``).
        cached: whether the maps came from the on-disk cache.
        class_agnostic: the method ignores the class (its maps are the same for every
            target), so :meth:`titles` name no class.
    """

    maps: np.ndarray
    raw: np.ndarray
    targets: np.ndarray
    method: str
    contrast: int | None = None
    score: str = "logit"
    options: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False
    class_agnostic: bool = False

    def __len__(self) -> int:
        return len(self.maps)

    def target_names(self) -> list[str]:
        """Explained class per image, e.g. ``sad`` or ``sad-neutral`` for a contrast."""
        tail = "" if self.contrast is None else f"-{EMOTIONS[self.contrast]}"
        return [EMOTIONS[int(t)] + tail for t in self.targets]

    def titles(self) -> list[str]:
        """Per image ``method (class)``, or ``method (class-agnostic)`` for a method whose
        map is the same whatever class is asked for."""
        if self.class_agnostic:
            return [f"{self.method} (class-agnostic)"] * len(self)
        return [f"{self.method} ({name})" for name in self.target_names()]

    def evidence(self, regions: Any = None) -> Evidence:
        """Region shares, off-face share, area lifts and flags of every map (see
        :class:`~ferviz.explain.evidence.Evidence`)."""
        return Evidence.of(self, regions)

    def save(self, path) -> None:
        """Write maps, raw maps and metadata to one ``.npz`` file, atomically."""
        from ..cache import atomic_path

        meta = {"method": self.method, "contrast": self.contrast, "score": self.score,
                "options": self.options, "seconds": self.seconds,
                "class_agnostic": self.class_agnostic}
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez(f, maps=self.maps, raw=self.raw, targets=self.targets,
                     meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path) -> SaliencyMaps:
        with np.load(path) as z:
            meta = json.loads(str(z["meta"]))
            return cls(maps=z["maps"], raw=z["raw"], targets=z["targets"], cached=True, **meta)


class Scored(nn.Module):
    """The model output a method explains: logits or probabilities, optionally minus the
    ``contrast`` class (so target ``sad`` explains sad minus neutral)."""

    def __init__(self, model: nn.Module, score: str = "logit", contrast: int | None = None):
        super().__init__()
        if score not in ("logit", "prob"):
            raise FervizError(f"score must be 'logit' or 'prob', not {score!r}")
        self.model, self.score, self.contrast = model, score, contrast

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return score_output(self.model(x), self.score, self.contrast)


def score_output(logits: torch.Tensor, score: str, contrast: int | None) -> torch.Tensor:
    """Logits -> the explained outputs (see :class:`Scored`)."""
    out = torch.softmax(logits, dim=1) if score == "prob" else logits
    return out if contrast is None else out - out[:, contrast:contrast + 1]


@contextlib.contextmanager
def prepared(model: nn.Module, device: torch.device) -> Iterator[nn.Module]:
    """Eval mode on ``device`` with non-inplace ReLUs (gradient hooks need them) and frozen
    parameters (explanations need gradients of the input only: no weight gradients are
    computed); restores mode, device, ReLUs and parameters on exit, and lets every error
    through."""
    was_training = model.training
    param = next(model.parameters(), None)
    home = param.device if param is not None else torch.device("cpu")
    inplace = [m for m in model.modules() if isinstance(m, nn.ReLU) and m.inplace]
    trained = [p for p in model.parameters() if p.requires_grad]
    try:
        for m in inplace:
            m.inplace = False
        for p in trained:
            p.requires_grad_(False)
        yield model.to(device).eval()
    finally:
        model.to(home).train(was_training)
        for m in inplace:
            m.inplace = True
        for p in trained:
            p.requires_grad_(True)


@contextlib.contextmanager
def released(cam: Any) -> Iterator[Any]:
    """A pytorch-grad-cam object whose hooks are removed on exit (its own ``__exit__``
    swallows IndexErrors; this one swallows nothing)."""
    try:
        yield cam
    finally:
        cam.activations_and_grads.release()


def resolve_targets(model: nn.Module, x: torch.Tensor, target: Target,
                    labels: np.ndarray | None, lazy: bool = False
                    ) -> tuple[np.ndarray | None, int | None]:
    """Target class per image and the contrast class.

    Args:
        target: ``pred``, ``true``, an emotion name, ``a-b`` or ``(a, b)`` (a minus b, ``a``
            itself any target form), a class index, or one index per image.
        lazy: return None for ``pred`` (the method predicts from its own forward pass).

    Raises:
        FervizError: unknown emotions, missing labels, wrong lengths, or a contrast of a
            class with itself (``sad-sad`` explains nothing: its map is blank).
    """
    n = len(x)
    if isinstance(target, str) and canonical(target) is None and "-" in target:
        target = tuple(target.split("-", 1))
    if isinstance(target, tuple):
        if len(target) != 2:
            raise FervizError(f"a contrast target is (class, other class), not {target!r}")
        pos, _ = resolve_targets(model, x, target[0], labels, lazy)
        neg = label_index(str(target[1])) if not isinstance(target[1], int) else int(target[1])
        if pos is not None and target[0] != "pred" and (pos == neg).all():
            raise FervizError(f"the contrast {EMOTIONS[neg]}-{EMOTIONS[neg]} explains nothing "
                              "(a class minus itself is zero everywhere); name two different "
                              "classes")
        return pos, neg
    if isinstance(target, str) and target == "pred":
        return (None if lazy else _predicted(model, x)), None
    if isinstance(target, str) and target == "true":
        if labels is None or len(labels) != n or (np.asarray(labels) < 0).any():
            raise FervizError("target 'true' needs a known label for every face")
        return np.asarray(labels, np.int64), None
    if isinstance(target, str):
        return np.full(n, label_index(target), np.int64), None
    t = np.broadcast_to(np.asarray(target, np.int64), (n,)).copy() \
        if np.ndim(target) == 0 else np.asarray(target, np.int64)
    if len(t) != n or t.min(initial=0) < 0 or t.max(initial=0) >= len(EMOTIONS):
        raise FervizError(f"targets must be {n} class indices in 0..{len(EMOTIONS) - 1}")
    return t, None


def _predicted(model: nn.Module, x: torch.Tensor, batch: int = 512) -> np.ndarray:
    with torch.inference_mode():
        return np.concatenate([model(x[i:i + batch]).argmax(1).cpu().numpy()
                               for i in range(0, len(x), batch)]).astype(np.int64)


def normalise(raw: np.ndarray, sign: str) -> np.ndarray:
    """Raw maps -> [0, 1]: positive part or magnitude, divided by each map's maximum."""
    m = np.abs(raw) if sign == "absolute" else np.clip(raw, 0, None)
    top = m.reshape(len(m), -1).max(axis=1, initial=0)[:, None, None]
    return np.divide(m, top, out=np.zeros_like(m), where=top > 0).astype(np.float32)


def as_faces(images: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Faces (N x 48 x 48 uint8 array, one 48 x 48 face, or Records) and their labels.

    Raises:
        FervizError: for anything else.
    """
    labels = None
    if hasattr(images, "images") and hasattr(images, "labels"):
        images, labels = images.images(), np.asarray(images.labels)
    faces = np.asarray(images)
    if faces.ndim == 2:
        faces = faces[None]
    if faces.ndim != 3 or faces.dtype != np.uint8 or len(faces) == 0:
        raise FervizError(f"explain needs N x H x W uint8 faces, got {faces.dtype} "
                          f"array of shape {faces.shape}")
    return faces, labels


def explain(model: nn.Module, images: Any, target: Target = "pred",
            method: str = "occlusion", labels: np.ndarray | None = None, *,
            score: str | None = None, batch_size: int | None = None,
            device: str | torch.device | None = None, progress: bool | None = None,
            cache: bool = True, **options: Any) -> SaliencyMaps:
    """Explain a model's outputs on N faces with one registered method.

    Args:
        model: a :class:`~ferviz.models.fermodel.FERModel` (faces in [0, 1] -> 7 logits), or
            a plain ``nn.Module`` (wrapped with the default card; CAM layer found).
        images: N x 48 x 48 uint8 faces, or :class:`~ferviz.data.records.Records`.
        target: see :func:`resolve_targets`.
        method: a name in :data:`~ferviz.explain.registry.METHODS`.
        labels: true labels when ``target='true'`` (taken from Records otherwise).
        score: explain ``prob`` or ``logit`` (default: the method's).
        batch_size: images per internal batch (default: the method's).
        device: default CUDA when available; the model is moved back afterwards.
        progress: show a progress bar (default: for more than four batches).
        cache: reuse / store maps under ``$FERVIZ_CACHE/saliency`` keyed by weights, faces,
            targets, method and options.
        **options: method options, e.g. ``window``, ``stride``, ``baseline`` (occlusion),
            ``layer`` (CAM layer path), ``n_steps`` (integrated gradients).

    Raises:
        FervizError: unknown method or options, bad faces or targets.
    """
    spec = get_method(method)
    if not hasattr(model, "card"):  # a plain nn.Module: the default card, its CAM layer found
        from ..models.load import wrap_module

        model = wrap_module(model)
    faces, record_labels = as_faces(images)
    labels = record_labels if labels is None else labels
    unknown = set(options) - set(spec.defaults) - ({"layer"} if spec.needs_layer else set())
    if unknown:
        known = [*spec.defaults, *(["layer"] if spec.needs_layer else [])]
        raise FervizError(f"{spec.name} has no option {', '.join(sorted(unknown))}; options: "
                          f"{', '.join(known) or 'none'}")
    opts = {**spec.defaults, **options}
    if spec.needs_layer:
        opts["layer"] = opts.get("layer") or getattr(getattr(model, "card", None), "cam_layer", "")
    score = score or spec.score
    dev = torch.device(device) if device else \
        torch.device("cuda" if torch.cuda.is_available() else "cpu")
    x = to_tensor(faces)
    with prepared(model, dev), threads():
        x = x.to(dev)
        targets, contrast = resolve_targets(model, x, target, labels, lazy=spec.predicts)
        if contrast is not None and spec.class_agnostic:
            raise FervizError(f"{spec.name} is class-agnostic (its map is the same for every "
                              "class), so it cannot explain a contrast; use gradcam or occlusion")
        key = _cache_key(model, faces, targets, contrast, spec, score, opts) if cache else None
        hit = _cache_read(key)
        if hit is not None:
            return hit
        start = time.perf_counter()
        raw, targets = _run(spec, model, x, targets, contrast, score, opts, batch_size, progress)
        maps = SaliencyMaps(maps=normalise(raw, spec.sign), raw=raw, targets=targets,
                            method=spec.name, contrast=contrast, score=score, options=opts,
                            seconds=time.perf_counter() - start,
                            class_agnostic=spec.class_agnostic)
    if key is not None:
        from ..cache import cache_dir

        maps.save(cache_dir("saliency") / f"{key}.npz")
    return maps


def _run(spec: Method, model: nn.Module, x: torch.Tensor, targets: np.ndarray | None,
         contrast: int | None, score: str, opts: dict[str, Any], batch_size: int | None,
         progress: bool | None) -> tuple[np.ndarray, np.ndarray]:
    """Raw maps and the explained classes (predicted in the method's own forward pass when
    ``targets`` is None)."""
    from tqdm.auto import tqdm

    fn = spec.function()
    forward = Scored(model, score, contrast)
    if spec.needs_layer:
        opts = {**opts, "layer": model.cam_layer(opts.get("layer"))}
    bs = batch_size or spec.batch_size
    t = None if targets is None else torch.from_numpy(targets).to(x.device)
    out, chosen = [], []
    for i in tqdm(range(0, len(x), bs), desc=spec.name, unit="batch",
                  disable=progress is False or (progress is None and len(x) <= 4 * bs)):
        raw = fn(forward, x[i:i + bs], None if t is None else t[i:i + bs], **opts)
        if t is None:
            raw, picked = raw
            chosen.append(np.asarray(torch.as_tensor(picked).cpu(), np.int64))
        out.append(raw.detach().float().cpu().numpy() if torch.is_tensor(raw)
                   else np.asarray(raw, np.float32))
    return np.concatenate(out).astype(np.float32), \
        (np.concatenate(chosen) if targets is None else targets)


def _cache_key(model: nn.Module, faces: np.ndarray, targets: np.ndarray | None,
               contrast: int | None, spec: Method, score: str,
               opts: dict[str, Any]) -> str | None:
    digest = model.digest() if hasattr(model, "digest") else None
    if digest is None:
        return None
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps([_CACHE_VERSION, digest, spec.name, score, contrast,
                         sorted((k, repr(v)) for k, v in opts.items())]).encode())
    h.update(np.ascontiguousarray(faces).tobytes())
    h.update(b"pred" if targets is None else targets.tobytes())
    return h.hexdigest()


def _cache_read(key: str | None) -> SaliencyMaps | None:
    if key is None:
        return None
    from ..cache import cache_dir, read_cached

    return read_cached(cache_dir("saliency") / f"{key}.npz", SaliencyMaps.load)
