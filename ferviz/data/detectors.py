"""The two face detectors of photo mode and how one is chosen.

- ``mmod``: dlib's MMOD CNN face detector (``mmod_human_face_detector.dat`` from the
  ``landmarks`` extra's ``face-recognition-models``; nothing is downloaded). The photo is
  shrunk so its longer side is at most :data:`DETECT_SIDE` px (the CNN costs about 7 us a
  pixel on one CPU core without BLAS), boxes are mapped back. Without upsampling it finds
  faces of about 80 px and more at that scale; it is run again on the photo upsampled 2x (4x
  the time) when it found nothing, or for ``all_faces``. Its score is the confidence; the
  eyes are the centres of the eye corners of dlib's 5-point shape predictor, which was
  trained on this detector's boxes. Its box is tighter than Haar's: it is widened by
  :data:`MMOD_TO_HAAR` about its centre so that both give the same crop framing.
- ``haar``: OpenCV's frontal-face cascade, confidence = its final-stage level weight
  (``detectMultiScale3(outputRejectLevels=True)``); the eyes are what the eye cascade finds
  in the upper 60% of the box. Both cascades ship inside ``opencv-python``.

``auto`` (the default; ``$FERVIZ_DETECTOR`` overrides it) is ``mmod`` when its weights are
installed, else ``haar``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import FervizError
from . import landmarks as lm
from .boxes import Box, iou
from .images import cascade, detect_faces

DETECTORS = ("auto", "mmod", "haar")
NAMES = {"mmod": "dlib's MMOD CNN", "haar": "OpenCV's Haar cascade"}
DETECT_SIDE = 640  # MMOD runs on the photo shrunk to this longer side (px)
CONFIRM_SIDE = 120  # px: a Haar box MMOD missed is looked at again at this size
MMOD_TO_HAAR = 1.1  # median Haar side / MMOD side on faces both find (bench_detector.py)
# px at the detection scale: a narrower photo holds no face MMOD finds (about 40 px at the
# least, upsampled), and under 7 px its filter windows do not fit (dlib raises)
MMOD_MIN_SIDE = 20
Eyes = tuple[tuple[float, float], ...]
Found = tuple[Box, float, Eyes]


def _weights():
    folder = lm.model_dir()
    return None if folder is None else folder / "mmod_human_face_detector.dat"


def mmod_available() -> bool:
    """Whether dlib and the MMOD weights are installed (the ``landmarks`` extra)."""
    path = _weights()
    return path is not None and path.is_file()


def choose(detector: str | None = None) -> str:
    """``mmod`` or ``haar``: ``detector``, else ``$FERVIZ_DETECTOR``, else ``auto``.

    Raises:
        FervizError: an unknown name, or ``mmod`` without its weights.
    """
    name = detector or os.environ.get("FERVIZ_DETECTOR") or "auto"
    if name not in DETECTORS:
        raise FervizError(f"face detector must be one of {', '.join(DETECTORS)}, not {name!r}")
    if name == "auto":
        return "mmod" if mmod_available() else "haar"
    if name == "mmod" and not mmod_available():
        raise FervizError(f"the mmod face detector needs the landmarks extra: {lm.INSTALL_HINT}")
    return name


@lru_cache(maxsize=1)
def _mmod():
    import dlib

    folder = lm.model_dir()
    return (dlib.cnn_face_detection_model_v1(str(_weights())),
            dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat")))


def mmod(gray: np.ndarray, upsample: bool = False) -> list[Found]:
    """MMOD boxes (widened to Haar's framing) with scores and eye centres, in photo
    coordinates; ``upsample`` finds faces down to about 40 px at the detection scale."""
    import cv2
    import dlib

    scale = min(1.0, DETECT_SIDE / max(gray.shape))
    if min(gray.shape) * scale < MMOD_MIN_SIDE:  # a strip of a photo: no face to find
        return []
    net, five = _mmod()
    small = gray if scale == 1 else cv2.resize(gray, None, fx=scale, fy=scale,
                                               interpolation=cv2.INTER_AREA)
    img = np.ascontiguousarray(gray, np.uint8)
    out = []
    for d in net(np.ascontiguousarray(small, np.uint8), int(upsample)):
        r = d.rect
        x, y, w, h = (v / scale for v in (r.left(), r.top(), r.width(), r.height()))
        rect = dlib.rectangle(round(x), round(y), round(x + w), round(y + h))
        p = np.array([(q.x, q.y) for q in five(img, rect).parts()], float)
        eyes = (tuple(p[2:4].mean(0)), tuple(p[0:2].mean(0)))  # image-left eye first
        side = max(w, h) * MMOD_TO_HAAR
        box = (round(x + w / 2 - side / 2), round(y + h / 2 - side / 2), round(side),
               round(side))
        out.append((box, float(d.confidence), eyes))
    return out


def mmod_checked(gray: np.ndarray, upsample: bool = False) -> list[Found]:
    """:func:`mmod`, plus the faces it missed where Haar has a box: MMOD looks again at a crop
    around each such box, scaled so that the box is :data:`CONFIRM_SIDE` px, and a face it
    finds there is kept (a face the shrunk photo made too small for MMOD; Haar's boxes on
    texture are not confirmed)."""
    found = mmod(gray, upsample)
    for box in detect_faces(gray):  # Haar's boxes (as :func:`haar`, without its eyes)
        if _unseen(box, found):
            found += [f for f in _mmod_around(gray, box)
                      if iou([f[0]], [box]).item() > 0.3 and _unseen(f[0], found)]
    return found


def _unseen(box: Box, found: list[Found]) -> bool:
    """Whether ``box`` overlaps none of the faces ``found`` (IoU at most 0.3)."""
    return not (iou([box], [f[0] for f in found]) > 0.3).any()


def _mmod_around(gray: np.ndarray, box: Box) -> list[Found]:
    """MMOD on the region of ``box`` widened by half its side each way, scaled so the box is
    :data:`CONFIRM_SIDE` px; boxes and eyes in photo coordinates."""
    import cv2

    x, y, w, h = box
    x0, y0 = max(0, x - w // 2), max(0, y - h // 2)
    x1, y1 = min(gray.shape[1], x + w + w // 2), min(gray.shape[0], y + h + h // 2)
    scale = CONFIRM_SIDE / max(w, h)
    crop = cv2.resize(gray[y0:y1, x0:x1], None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    back = lambda v, o: v / scale + o  # noqa: E731 - crop to photo coordinates
    return [((round(back(b[0], x0)), round(back(b[1], y0)), round(b[2] / scale),
              round(b[3] / scale)), score, tuple((back(ex, x0), back(ey, y0)) for ex, ey in eyes))
            for b, score, eyes in mmod(crop)]


def haar(gray: np.ndarray, min_size: int = 30) -> list[Found]:
    """Haar boxes with level weights and the eye centres the eye cascade finds."""
    import cv2

    eq = cv2.equalizeHist(gray)
    boxes, _, weights = cascade().detectMultiScale3(
        eq, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size),
        outputRejectLevels=True)
    return [(tuple(int(v) for v in b), float(s), _eyes(eq, b))
            for b, s in zip(boxes, np.ravel(weights))]


def _eyes(eq: np.ndarray, box: Any) -> Eyes:
    """Eye centres the eye cascade finds in the upper 60% of a face box (at most two: the
    largest in each half of the box)."""
    x, y, w, h = (int(v) for v in box)
    top = eq[y:y + int(h * 0.6), x:x + w]
    eyes = cascade("haarcascade_eye.xml").detectMultiScale(
        top, scaleFactor=1.1, minNeighbors=3, minSize=(max(8, w // 10),) * 2,
        maxSize=(w // 2,) * 2)
    best: dict[bool, tuple[int, float, float]] = {}
    for ex, ey, ew, eh in (tuple(int(v) for v in e) for e in eyes):
        cx, cy = x + ex + ew / 2, y + ey + eh / 2
        right_half = cx >= x + w / 2
        if ew * eh > best.get(right_half, (0, 0.0, 0.0))[0]:
            best[right_half] = (ew * eh, cx, cy)
    return tuple((cx, cy) for _, (_, cx, cy) in sorted(best.items()))
