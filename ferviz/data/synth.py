"""FER-Synth: deterministic cartoon faces whose expressions are defined by action units.

Each emotion is a vector of action-unit parameters (brows, eyes, nose wrinkle, mouth). A face
is rendered at 96x96 from those parameters plus an identity (face shape, skin, feature
spacing), a pose (rotation +-10 degrees, shift, scale), lighting and noise, then reduced to
48x48. The regions whose action units differ from neutral form the ground-truth mask, so
explanations have a known right answer. Blends of two expressions (or a weak expression, i.e.
a blend with neutral) are recorded as soft labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..labels import EMOTIONS, FACE_SIZE
from .records import Records

_S = 96  # canonical rendering size
_VERSION = 1  # bump when rendering changes, to invalidate cached sets
# Action units: brow_raise, brow_tilt (inner end down +), eye_open, nose_wrinkle,
# mouth_curve (corners up +), mouth_open, mouth_width, lip_raise.
AU_NAMES = ("brow_raise", "brow_tilt", "eye_open", "nose_wrinkle", "mouth_curve",
            "mouth_open", "mouth_width", "lip_raise")
EXPRESSIONS: dict[str, tuple[float, ...]] = {
    "neutral":  (0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    "happy":    (0.0, 0.0, 0.6, 0.0, 1.0, 0.45, 1.3, 0.0),
    "sad":      (0.1, -1.0, 0.85, 0.0, -0.9, 0.0, 0.9, 0.0),
    "angry":    (-0.6, 1.0, 0.65, 0.0, -0.2, 0.0, 0.75, 0.0),
    "surprise": (1.0, 0.0, 1.6, 0.0, 0.0, 1.0, 0.7, 0.0),
    "fear":     (0.6, -0.6, 1.5, 0.0, -0.3, 0.45, 1.35, 0.0),
    "disgust":  (-0.3, 0.3, 0.65, 1.0, -0.4, 0.0, 1.0, 1.0),
}
# Which face parts each action unit moves; the ground-truth mask of an expression is the
# union of the parts whose units differ from neutral.
_PARTS = {"brows": (0, 1), "eyes": (2,), "nose": (3, 7), "mouth": (4, 5, 6, 7)}


@dataclass(frozen=True)
class Identity:
    """The person: face shape, skin tone, feature placement."""

    face_w: float
    face_h: float
    skin: float
    background: float
    eye_gap: float
    eye_y: float
    mouth_y: float
    brow_thick: int
    hair: float

    @staticmethod
    def sample(rng: np.random.Generator) -> Identity:
        return Identity(face_w=rng.uniform(31, 37), face_h=rng.uniform(39, 45),
                        skin=rng.uniform(135, 200), background=rng.uniform(20, 235),
                        eye_gap=rng.uniform(13, 17), eye_y=rng.uniform(40, 44),
                        mouth_y=rng.uniform(70, 75), brow_thick=int(rng.integers(2, 4)),
                        hair=rng.uniform(10, 80))


def expression_parts(emotion: str) -> tuple[str, ...]:
    """Face parts that define an emotion (neutral: every part, held at rest)."""
    au = np.array(EXPRESSIONS[emotion])
    base = np.array(EXPRESSIONS["neutral"])
    moved = [p for p, units in _PARTS.items()
             if np.abs(au[list(units)] - base[list(units)]).max() > 0.15]
    return tuple(moved) if moved else ("brows", "eyes", "mouth")


def _draw(au: np.ndarray, ident: Identity) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Render a 96x96 float face and a 96x96 mask per part."""
    import cv2

    img = np.full((_S, _S), ident.background, np.float32)
    parts = {p: np.zeros((_S, _S), np.uint8) for p in _PARTS}
    aa = cv2.LINE_AA
    cx = _S // 2
    cv2.ellipse(img, (cx, 51), (int(ident.face_w), int(ident.face_h)), 0, 0, 360, ident.skin,
                -1, aa)
    cv2.ellipse(img, (cx, 23), (int(ident.face_w) + 2, 16), 0, 180, 360, ident.hair, -1, aa)
    brow_raise, tilt, eye_open, wrinkle, curve, mouth_open, width, lip_raise = au
    dark = max(ident.skin - 110, 10)
    # brows
    for side in (-1, 1):
        y = ident.eye_y - 9 - 5 * brow_raise
        inner = (cx + side * 5, y + 4 * tilt)
        outer = (cx + side * (ident.eye_gap + 9), y - 1.5 * tilt)
        pts = [tuple(int(round(v)) for v in q) for q in (inner, outer)]
        cv2.line(img, pts[0], pts[1], dark, ident.brow_thick, aa)
        cv2.line(parts["brows"], pts[0], pts[1], 1, ident.brow_thick + 6)
    # eyes
    for side in (-1, 1):
        c = (int(round(cx + side * ident.eye_gap)), int(round(ident.eye_y)))
        axes = (7, max(1, int(round(3.6 * eye_open))))
        cv2.ellipse(img, c, axes, 0, 0, 360, 235, -1, aa)
        cv2.ellipse(img, c, axes, 0, 0, 360, dark, 1, aa)
        cv2.circle(img, c, min(3, axes[1]), 25, -1, aa)
        cv2.ellipse(parts["eyes"], c, (axes[0] + 4, axes[1] + 4), 0, 0, 360, 1, -1)
    # nose and its wrinkles
    ny0, ny1 = int(ident.eye_y + 3), int(ident.mouth_y - 12)
    cv2.line(img, (cx, ny0), (cx + 2, ny1), dark + 30, 1, aa)
    cv2.line(img, (cx - 4, ny1 + 1), (cx + 4, ny1 + 1), dark, 2, aa)
    for k in range(3):
        if wrinkle > 0.05:
            y = ny0 + 1 + 3 * k
            cv2.line(img, (cx - 6, y), (cx + 6, y + 1), ident.skin - 90 * wrinkle, 1, aa)
    cv2.rectangle(parts["nose"], (cx - 9, ny0 - 2), (cx + 9, ny1 + 4), 1, -1)
    # mouth: upper and lower lip curves
    half = 12 * width
    xs = np.linspace(-1, 1, 21)
    base = ident.mouth_y + 2 * curve
    upper = base - 6 * curve * xs**2 - lip_raise * 4 * np.clip(xs + 0.3, 0, None)
    lower = upper + mouth_open * 12 * (1 - xs**2)
    up = np.stack([cx + half * xs, upper], 1)
    lo = np.stack([cx + half * xs, lower], 1)[::-1]
    poly = np.round(np.concatenate([up, lo])).astype(np.int32)
    if mouth_open > 0.05:
        cv2.fillPoly(img, [poly], 35, aa)
    cv2.polylines(img, [np.round(up).astype(np.int32)], False, dark, 2, aa)
    cv2.polylines(img, [np.round(lo).astype(np.int32)], False, dark, 2, aa)
    cv2.fillPoly(parts["mouth"], [poly], 1)
    cv2.polylines(parts["mouth"], [poly], True, 1, 8)
    return img, parts


def render(au: np.ndarray, ident: Identity, rng: np.random.Generator,
           emotions: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """One 48x48 uint8 face with pose, lighting and noise, and its ground-truth mask."""
    import cv2

    img, parts = _draw(au, ident)
    mask = np.zeros((_S, _S), np.uint8)
    for emotion in emotions:
        for p in expression_parts(emotion):
            mask |= parts[p]
    angle = rng.uniform(-10, 10)
    scale = rng.uniform(0.92, 1.08)
    shift = rng.uniform(-4, 4, size=2)
    m = cv2.getRotationMatrix2D((_S / 2, _S / 2), angle, scale)
    m[:, 2] += shift
    img = cv2.warpAffine(img, m, (_S, _S), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpAffine(mask, m, (_S, _S), flags=cv2.INTER_NEAREST)
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:_S, 0:_S] / _S - 0.5
    light = 1 + rng.uniform(0, 0.35) * (math.cos(theta) * xx + math.sin(theta) * yy)
    img = img * light * rng.uniform(0.8, 1.15) + rng.normal(0, rng.uniform(2, 8), img.shape)
    face = cv2.resize(np.clip(img, 0, 255), (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_NEAREST)
    return face.round().astype(np.uint8), mask.astype(bool)


def make_face(index: int, seed: int, ambiguity: float, person: int | None = None
              ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """Face number ``index`` of a seeded set: (face, mask, label, soft label).

    ``person`` fixes the identity (the same face shape, skin and features throughout).
    """
    rng = np.random.default_rng([seed, index])
    a = int(rng.integers(len(EMOTIONS)))
    soft = np.zeros(len(EMOTIONS), np.float32)
    if rng.uniform() < ambiguity:
        b = int(rng.integers(len(EMOTIONS) - 1))
        b = b + 1 if b >= a else b
        w = rng.uniform(0.25, 0.45)  # share of the weaker expression
        soft[a], soft[b] = 1 - w, w
        names = (EMOTIONS[a], EMOTIONS[b])
        au = (1 - w) * np.array(EXPRESSIONS[EMOTIONS[a]]) + w * np.array(EXPRESSIONS[EMOTIONS[b]])
    else:
        soft[a] = 1.0
        names = (EMOTIONS[a],)
        au = np.array(EXPRESSIONS[EMOTIONS[a]]) + rng.normal(0, 0.05, len(AU_NAMES))
    ident = Identity.sample(np.random.default_rng([9999, person]) if person is not None else rng)
    face, mask = render(au, ident, rng, names)
    return face, mask, a, soft


def load_synth(n: int = 1400, seed: int = 0, ambiguity: float = 0.15,
               split: str = "test", person: int | None = None) -> Records:
    """A deterministic FER-Synth set of ``n`` faces.

    Args:
        n: number of faces.
        seed: set seed; the same (seed, n) always gives the same faces.
        ambiguity: fraction of faces that blend two expressions (soft labels record it).
        split: split name given to every face.
        person: one identity for every face (a "user" for fine-tuning), else random ones.
    """
    from ..cache import atomic_path, cache_dir, read_cached

    path = cache_dir("synth") / f"v{_VERSION}-{n}-{seed}-{ambiguity:g}-{person}.npz"
    cached = read_cached(path, _read_arrays) if n else None
    if cached is not None:
        faces, masks, labels, soft = cached
    else:
        faces, masks, labels, soft = zip(*(make_face(i, seed, ambiguity, person)
                                           for i in range(n))) if n else ((), (), (), ())
        if n:
            faces, masks, labels, soft = map(np.stack, (faces, masks, labels, soft))
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, faces=faces, masks=masks, labels=labels, soft=soft)
    return Records(
        ids=np.array([f"synth:{seed}:{i}" for i in range(n)], dtype=object),
        labels=np.array(labels, np.int8), splits=np.full(n, split, dtype=object),
        sources=np.full(n, "synth", dtype=object),
        faces=faces if n else np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8),
        masks=masks if n else np.zeros((0, FACE_SIZE, FACE_SIZE), bool),
        soft=soft if n else np.zeros((0, len(EMOTIONS)), np.float32),
        name=f"FER-Synth (seed {seed}, {n} faces, ambiguity {ambiguity:g}"
             f"{'' if person is None else f', person {person}'})",
    )


def _read_arrays(path) -> tuple[np.ndarray, ...]:
    with np.load(path) as z:
        return z["faces"], z["masks"], z["labels"], z["soft"]


SPLIT_SEEDS = {"train": 1, "val": 3, "test": 2}  # the splits never share a face


def synth_splits(n_train: int = 4200, n_val: int = 700, n_test: int = 1400) -> Records:
    """The FER-Synth demo set: ``train``, ``val`` (model selection) and held-out ``test``."""
    from .records import concat

    sizes = {"train": n_train, "val": n_val, "test": n_test}
    return concat([load_synth(n, SPLIT_SEEDS[s], 0.15, s) for s, n in sizes.items()],
                  name="FER-Synth")


