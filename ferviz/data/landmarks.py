"""68 facial landmarks per face, and whether they were found reliably.

dlib's shape predictors fit the landmarks on the detector's box (optional extra
``landmarks``: ``dlib-bin`` and ``face-recognition-models``, whose package data holds the
68- and 5-point models; nothing is downloaded). The 68-point model was trained on iBUG 300-W,
whose licence excludes commercial use (docs/explanations.md).

A fit is *reliable* when every check holds (:func:`problems`): the 5-point model, fitted
independently, agrees with the 68-point model's eye corners and nose; dlib's HOG face
detector confirms a face at the box; the landmarks lie inside the (widened) box; the eye
distance is a plausible share of the box width; eyes, nose, mouth and chin are stacked in
that order and the eye line is nearly level. Points are returned in the coordinates of the
48x48 crop the model sees.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

INSTALL_HINT = "pip install 'ferviz[landmarks]'"
MAX_DISAGREEMENT = 0.08  # mean 5-point vs 68-point distance, in eye distances
MIN_FACE_SCORE = -0.5  # dlib HOG detector score of the best face at the box
EYES_PER_BOX = (0.25, 0.6)  # plausible eye distance / box width
BOX_SLACK = 0.2  # landmarks may lie this share of the box side outside it
MAX_TILT = 20.0  # degrees of eye line left after levelling
HOG_SIDE = 160  # the HOG detector needs faces of ~80 px: crops are scaled to this side
CROP_BOX = (5, 8, 38, 38)  # (x, y, w, h) of the face in an aligned 48x48 crop
FIVE_IN_68 = [45, 42, 36, 39, 33]  # the 68-point indices of dlib's 5 points


@dataclass(frozen=True)
class Landmarks:
    """One face's fit: ``points`` 68 x 2 (x, y) in the 48x48 crop (iBUG order), ``five`` the
    5-point model's points, ``face_score`` the HOG detector's score (-inf: no face there),
    ``problems`` the failed checks (empty: reliable)."""

    points: np.ndarray
    five: np.ndarray
    face_score: float
    problems: tuple[str, ...]

    @property
    def reliable(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"reliable": self.reliable, "problems": list(self.problems),
                "face_score": None if np.isinf(self.face_score) else round(self.face_score, 3),
                "points": np.round(self.points, 2).tolist()}


def model_dir() -> Path | None:
    """Folder of the packaged dlib models, or None without the extra (found without
    importing ``face_recognition_models``, whose ``__init__`` needs ``pkg_resources``)."""
    if importlib.util.find_spec("dlib") is None:
        return None
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if (folder / "shape_predictor_68_face_landmarks.dat").is_file() else None


def available() -> bool:
    """Whether the ``landmarks`` extra is installed."""
    return model_dir() is not None


@lru_cache(maxsize=1)
def _models():
    import dlib

    folder = model_dir()
    return (dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat")),
            dlib.shape_predictor(str(folder / "shape_predictor_5_face_landmarks.dat")),
            dlib.get_frontal_face_detector())


def fit(image: np.ndarray, box: tuple[float, float, float, float]) -> Landmarks:
    """Landmarks of the face in ``box`` (x, y, w, h) of a grayscale crop ``image``, returned
    in 48x48 coordinates of that crop (the image is what :func:`~ferviz.data.images.to_face`
    shrinks to 48x48)."""
    import cv2
    import dlib

    p68, p5, hog = _models()
    h, w = image.shape
    k = max(1.0, HOG_SIDE / max(h, w))
    img = np.ascontiguousarray(image, np.uint8)
    if k > 1:
        img = cv2.resize(img, (round(w * k), round(h * k)), interpolation=cv2.INTER_CUBIC)
    x, y, bw, bh = (v * k for v in box)
    rect = dlib.rectangle(round(x), round(y), round(x + bw), round(y + bh))
    pts = np.array([(p.x, p.y) for p in p68(img, rect).parts()], float)
    five = np.array([(p.x, p.y) for p in p5(img, rect).parts()], float)
    dets, scores, _ = hog.run(img, 0, MIN_FACE_SCORE - 1)
    at_box = [s for d, s in zip(dets, scores)
              if x <= d.center().x <= x + bw and y <= d.center().y <= y + bh]
    score = float(max(at_box)) if at_box else float("-inf")
    scale = np.array([48 / img.shape[1], 48 / img.shape[0]])
    return Landmarks(pts * scale, five * scale, score,
                     problems(pts, five, (x, y, bw, bh), score))


def fit_crop(face: np.ndarray) -> Landmarks:
    """Landmarks of an aligned 48x48 face (upsampled; the face box of the FER frame)."""
    return fit(face, CROP_BOX)


def problems(points: np.ndarray, five: np.ndarray, box: tuple[float, float, float, float],
             face_score: float) -> tuple[str, ...]:
    """The reliability checks a fit fails (see the module docstring), in words."""
    x, y, w, h = box
    left, right = points[36:42].mean(0), points[42:48].mean(0)
    eyes = float(np.linalg.norm(right - left))
    out = []
    if face_score < MIN_FACE_SCORE:
        out.append("no face at the box for dlib's HOG detector")
    if eyes <= 0 or np.linalg.norm(five - points[FIVE_IN_68], axis=1).mean() > \
            MAX_DISAGREEMENT * eyes:
        out.append("5-point and 68-point models disagree")
    lo, hi = np.array([x - BOX_SLACK * w, y - BOX_SLACK * h]), \
        np.array([x + (1 + BOX_SLACK) * w, y + (1 + BOX_SLACK) * h])
    if ((points < lo) | (points > hi)).any():
        out.append("landmarks outside the face box")
    if not EYES_PER_BOX[0] * w <= eyes <= EYES_PER_BOX[1] * w:
        out.append(f"eye distance {eyes / w:.2f} of the box width")
    tilt = np.degrees(np.arctan2(right[1] - left[1], right[0] - left[0]))
    rows = [(left[1] + right[1]) / 2, points[33, 1], points[48:60, 1].mean(), points[8, 1]]
    if abs(tilt) > MAX_TILT or not np.all(np.diff(rows) > 0) or \
            not left[0] < points[33, 0] < right[0]:
        out.append("eyes, nose, mouth and chin not in face order")
    return tuple(out)
