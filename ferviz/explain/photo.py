"""``ferviz saliency``'s work: faces of one photo -> predictions, maps, region shares, panels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FervizError
from ..labels import EMOTIONS
from ..predict import to_tensor
from .core import SaliencyMaps, explain
from .evidence import Evidence
from .trust import badge

DEFAULT_METHODS = ("occlusion", "gradcam")
FALLBACK_MODEL = "fer_synth_cnn"


def default_model() -> tuple[str, str | None]:
    """The zoo model with the best test accuracy on FER2013 with FER2013's own labels (a FER+
    model's accuracy is on other labels), and a note when there is none (then the FER-Synth
    model, which only knows cartoon faces)."""
    from ..models import zoo

    best, best_acc = None, -1.0
    for name in zoo.names():
        m = zoo.card(name).metrics
        if m and m.accuracy is not None and (m.dataset, m.labels) == ("FER2013", "fer2013") \
                and m.accuracy > best_acc:
            best, best_acc = name, m.accuracy
    if best is None:
        return FALLBACK_MODEL, (f"no FER2013 model in the zoo yet; using {FALLBACK_MODEL}, "
                                "trained on synthetic cartoon faces (pass --model)")
    return best, None


@dataclass(frozen=True)
class FaceResult:
    """One face of the photo: its number (1 = largest, as in the overview image), id, 48x48
    pixels, 7 probabilities, per method its maps (one-image :class:`SaliencyMaps`) and
    :class:`~ferviz.explain.evidence.Evidence`, where it was found (None for a whole-image
    face), and the methods' trust verdicts when they were checked."""

    number: int
    id: str
    face: np.ndarray
    probs: np.ndarray
    maps: dict[str, SaliencyMaps]
    evidence: dict[str, Evidence]
    found: Any = None
    trust: dict[str, Any] | None = None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.probs)[:k]
        return [(EMOTIONS[i], float(self.probs[i])) for i in order]

    def caption(self, method: str) -> list[str]:
        """The panel caption of one method's map: evidence lines, then the trust badge
        (``trust not checked`` for a method missing from a ``trust`` dict; none without)."""
        lines = self.evidence[method].caption(0)
        if self.trust is not None:
            lines.append(badge(self.trust.get(method))["text"])
        return lines

    def warning(self, method: str) -> bool:
        """Whether the map must not be read as facial evidence (flags or failed checks)."""
        return self.evidence[method].warning(0) or bool(
            self.trust is not None and badge(self.trust.get(method))["warning"])

    def to_dict(self, output: str | None = None) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "output": output,
                **(self.found.to_dict() if self.found is not None else {"box": None}),
                "probabilities": {e: round(float(p), 5) for e, p in zip(EMOTIONS, self.probs)},
                "top3": [{"emotion": e, "probability": round(p, 5)} for e, p in self.top()],
                "methods": {m: {"title": s.titles()[0], "target": s.target_names()[0],
                                "class_agnostic": s.class_agnostic,
                                "seconds": round(s.seconds, 4), **self.evidence[m].to_dict(0),
                                **({"trust": self.trust[m].to_dict()}
                                   if self.trust and m in self.trust else {})}
                            for m, s in self.maps.items()}}


def explain_photo(photo, model, methods=DEFAULT_METHODS, target: Any = "pred",
                  regions=None, trust: dict[str, Any] | None = None) -> list[FaceResult]:
    """Predict and explain each face of a photo (``ferviz.data.photos.read_photo``, or
    Records) with every method.

    Args:
        trust: verdicts per method (:func:`ferviz.explain.trust.verdicts`) shown as badges.

    Raises:
        FervizError: bad methods, targets or regions.
    """
    import torch

    records = getattr(photo, "records", photo)
    found = getattr(photo, "found", None) or [None] * len(records)
    faces = records.images()
    x = to_tensor(faces)
    model.eval()
    with torch.inference_mode():
        probs = torch.softmax(model(x), dim=1).numpy()
    per_method = {m: explain(model, faces, target, m) for m in methods}
    evidence = {m: s.evidence(regions) for m, s in per_method.items()}
    results = []
    for i, face_id in enumerate(records.ids):
        maps = {m: _one(s, i) for m, s in per_method.items()}
        ev = {m: _one_evidence(e, i) for m, e in evidence.items()}
        results.append(FaceResult(i + 1, str(face_id), faces[i], probs[i], maps, ev, found[i],
                                  trust))
    return results


def _one(s: SaliencyMaps, i: int) -> SaliencyMaps:
    from dataclasses import replace

    return replace(s, maps=s.maps[i:i + 1], raw=s.raw[i:i + 1], targets=s.targets[i:i + 1])


def _one_evidence(e: Evidence, i: int) -> Evidence:
    from dataclasses import replace

    return replace(e, shares=e.shares[i:i + 1], flags=e.flags[i:i + 1])


def output_paths(image: str | os.PathLike, n_faces: int, out: str | os.PathLike | None,
                 force: bool) -> list[Path]:
    """One PNG per face: ``out`` (default ``<image>.saliency.png`` beside the input), with
    ``-face<k>`` before the suffix when there are several faces, then (several faces only)
    the overview image of :func:`overview_path`.

    Raises:
        FervizError: if any of them exists and ``force`` is false.
    """
    image = Path(image)
    base = Path(out) if out else image.with_name(f"{image.stem}.saliency.png")
    if base.suffix.lower() != ".png":
        raise FervizError(f"{base}: the panel is a PNG; give an output path ending in .png")
    paths = [base] if n_faces == 1 else \
        [base.with_name(f"{base.stem}-face{k + 1}{base.suffix}") for k in range(n_faces)]
    if n_faces > 1:
        paths.append(overview_path(base))
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise FervizError(f"{', '.join(existing)} exists; pass --force to overwrite "
                          "(or -o for another path)")
    return paths


def overview_path(base: Path) -> Path:
    """Where the numbered-boxes overview of a photo goes: ``<panel stem>.faces.png``."""
    return base.with_name(f"{base.stem}.faces.png")
