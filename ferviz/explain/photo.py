"""``ferviz saliency``'s work: faces of one photo -> predictions, maps, region shares, panels."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FervizError
from ..labels import EMOTIONS
from .core import SaliencyMaps, explain

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
    """One face of the photo: id, 48x48 pixels, 7 probabilities, and per method its maps
    (one-image :class:`SaliencyMaps`) and region shares."""

    id: str
    face: np.ndarray
    probs: np.ndarray
    maps: dict[str, SaliencyMaps]
    shares: dict[str, dict[str, float]]

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        order = np.argsort(-self.probs)[:k]
        return [(EMOTIONS[i], float(self.probs[i])) for i in order]

    def to_dict(self, output: str | None = None) -> dict[str, Any]:
        return {"id": self.id, "output": output,
                "probabilities": {e: round(float(p), 5) for e, p in zip(EMOTIONS, self.probs)},
                "top3": [{"emotion": e, "probability": round(p, 5)} for e, p in self.top()],
                "methods": {m: {"target": s.target_names()[0], "seconds": round(s.seconds, 4),
                                "region_shares": {k: round(v, 4) for k, v in
                                                  self.shares[m].items()}}
                            for m, s in self.maps.items()}}


def explain_photo(records, model, methods=DEFAULT_METHODS, target: Any = "pred",
                  regions=None) -> list[FaceResult]:
    """Predict and explain each face of a photo (``ferviz.data.photos.load_photo``) with
    every method.

    Raises:
        FervizError: bad methods, targets or regions.
    """
    import torch

    from .regions import region_masks, share_array

    faces = records.images()
    x = torch.from_numpy(faces).unsqueeze(1).float().div(255)
    model.eval()
    with torch.inference_mode():
        probs = torch.softmax(model(x), dim=1).numpy()
    masks = region_masks(regions)
    per_method = {m: explain(model, faces, target, m) for m in methods}
    results = []
    for i, face_id in enumerate(records.ids):
        maps = {m: _one(s, i) for m, s in per_method.items()}
        shares = {m: dict(zip(masks, share_array(s.maps, masks)[0].tolist()))
                  for m, s in maps.items()}
        results.append(FaceResult(str(face_id), faces[i], probs[i], maps, shares))
    return results


def _one(s: SaliencyMaps, i: int) -> SaliencyMaps:
    from dataclasses import replace

    return replace(s, maps=s.maps[i:i + 1], raw=s.raw[i:i + 1], targets=s.targets[i:i + 1])


def output_paths(image: str | os.PathLike, n_faces: int, out: str | os.PathLike | None,
                 force: bool) -> list[Path]:
    """One PNG per face: ``out`` (default ``<image>.saliency.png`` beside the input), with
    ``-face<k>`` before the suffix when there are several faces.

    Raises:
        FervizError: if any of them exists and ``force`` is false.
    """
    image = Path(image)
    base = Path(out) if out else image.with_name(f"{image.stem}.saliency.png")
    if base.suffix.lower() != ".png":
        raise FervizError(f"{base}: the panel is a PNG; give an output path ending in .png")
    paths = [base] if n_faces == 1 else \
        [base.with_name(f"{base.stem}-face{k + 1}{base.suffix}") for k in range(n_faces)]
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise FervizError(f"{', '.join(existing)} exists; pass --force to overwrite "
                          "(or -o for another path)")
    return paths
