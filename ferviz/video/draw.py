"""The annotated frame: a box per face in its id's colour, the id, the top emotion and its
probability, and on explained frames the saliency map laid over the face."""

from __future__ import annotations

import numpy as np

from .frames import FaceOnFrame, Frame

# Tableau 10 in BGR: the colour of face id k is PALETTE[(k - 1) % 10].
PALETTE = [(180, 119, 31), (14, 127, 255), (44, 160, 44), (40, 39, 214), (189, 103, 148),
           (75, 86, 140), (194, 119, 227), (127, 127, 127), (34, 189, 188), (207, 190, 23)]


def colour(face_id: int) -> tuple[int, int, int]:
    """The BGR colour of a face id."""
    return PALETTE[(face_id - 1) % len(PALETTE)]


def annotate(frame: Frame, alpha: float = 0.45) -> np.ndarray:
    """A copy of the frame's image with its faces drawn (BGR uint8)."""
    import cv2

    out = frame.image.copy()
    thick = max(1, round(out.shape[1] / 320))
    for f in frame.faces:
        if f.map is not None:
            _blend_map(out, f, alpha)
        x, y, w, h = f.box
        c = colour(f.id)
        cv2.rectangle(out, (x, y), (x + w, y + h), c, thick, cv2.LINE_AA)
        label = f"#{f.id} {f.emotion} {f.probs.max():.0%}"
        scale = 0.4 * thick
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        top = max(0, y - th - base - 2)
        cv2.rectangle(out, (x, top), (x + tw + 4, top + th + base + 2), c, -1)
        cv2.putText(out, label, (x + 2, top + th + 1), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thick, cv2.LINE_AA)
    return out


def _blend_map(image: np.ndarray, f: FaceOnFrame, alpha: float) -> None:
    """Lay the face's saliency map (JET colours) over the square its crop was cut from."""
    import cv2

    from ..data.images import face_square
    from ..viz.overlays import heatmap

    x0, y0, x1, y1 = face_square(image.shape, f.box)
    sal = cv2.resize(np.asarray(f.map, np.float32), (x1 - x0, y1 - y0),
                     interpolation=cv2.INTER_LINEAR)
    colours = heatmap(sal)[..., ::-1].astype(np.float32)  # RGB -> BGR
    weight = alpha * np.clip(sal, 0.15, 1)[..., None]
    region = image[y0:y1, x0:x1].astype(np.float32)
    image[y0:y1, x0:x1] = ((1 - weight) * region + weight * colours).round().astype(np.uint8)
