"""``ferviz saliency``'s work: faces of one photo -> predictions, maps, region shares, panels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FervizError
from ..labels import EMOTIONS
from ..outputs import check_output
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
    face), the methods' trust verdicts when they were checked, which regions the evidence
    was read with (``landmarks``, ``fixed boxes`` or ``custom``) and why, and the face's
    landmarks (:class:`~ferviz.data.landmarks.Landmarks`, when fitted)."""

    number: int
    id: str
    face: np.ndarray
    probs: np.ndarray
    maps: dict[str, SaliencyMaps]
    evidence: dict[str, Evidence]
    found: Any = None
    trust: dict[str, Any] | None = None
    regions: str = "fixed boxes"
    regions_why: str | None = None
    landmarks: Any = None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.probs)[:k]
        return [(EMOTIONS[i], float(self.probs[i])) for i in order]

    def caption(self, method: str, regions: bool = True) -> list[str]:
        """The panel caption of one method's map: evidence lines, the trust badge
        (``trust not checked`` for a method missing from a ``trust`` dict; none without),
        then (with ``regions``) which regions were used."""
        lines = self.evidence[method].caption(0)
        if self.trust is not None:
            lines.append(badge(self.trust.get(method))["text"])
        return [*lines, f"regions: {self.regions}"] if regions else lines

    def warning(self, method: str) -> bool:
        """Whether the map must not be read as facial evidence (flags or failed checks)."""
        return self.evidence[method].warning(0) or bool(
            self.trust is not None and badge(self.trust.get(method))["warning"])

    def to_dict(self, output: str | None = None) -> dict[str, Any]:
        return {"number": self.number, "id": self.id, "output": output,
                **(self.found.to_dict() if self.found is not None else {"box": None}),
                "regions": {"used": self.regions, "why": self.regions_why,
                            "landmarks": self.landmarks.to_dict() if self.landmarks else None},
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
    marks = getattr(photo, "landmarks", None) or [None] * len(records)
    faces = records.images()
    x = to_tensor(faces)
    model.eval()
    with torch.inference_mode():
        probs = torch.softmax(model(x), dim=1).numpy()
    per_method = {m: explain(model, faces, target, m) for m in methods}
    results = []
    for i, face_id in enumerate(records.ids):
        spec, used, why = face_regions(marks[i], regions)
        maps = {m: _one(s, i) for m, s in per_method.items()}
        ev = {m: s.evidence(spec) for m, s in maps.items()}
        results.append(FaceResult(i + 1, str(face_id), faces[i], probs[i], maps, ev, found[i],
                                  trust, used, why, marks[i]))
    return results


def face_regions(marks: Any, custom: Any = None) -> tuple[Any, str, str | None]:
    """The regions to read one face's maps with, their name and why: ``custom`` regions
    when given; the face's own landmark regions when its landmarks were fitted reliably;
    else the fixed boxes of the aligned frame."""
    from ..data import landmarks as lm
    from .regions import landmark_masks

    if custom is not None:
        return custom, "custom", "--regions file"
    if marks is None:
        why = "no landmarks fitted" if lm.available() else \
            f"the landmarks extra is not installed ({lm.INSTALL_HINT})"
        return None, "fixed boxes", why
    if not marks.reliable:
        return None, "fixed boxes", "landmarks not reliable: " + "; ".join(marks.problems)
    return landmark_masks(marks.points), "landmarks", "68 landmarks fitted reliably"


def _one(s: SaliencyMaps, i: int) -> SaliencyMaps:
    from dataclasses import replace

    return replace(s, maps=s.maps[i:i + 1], raw=s.raw[i:i + 1], targets=s.targets[i:i + 1])


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
    check_output(base, force=True)  # a folder that cannot be written: before any work
    return paths


def overview_path(base: Path) -> Path:
    """Where the numbered-boxes overview of a photo goes: ``<panel stem>.faces.png``."""
    return base.with_name(f"{base.stem}.faces.png")
