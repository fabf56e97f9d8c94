"""Face regions of the aligned 48x48 FER frame and the share of attribution in each.

Coordinates are half-open ``(row_start, row_end, col_start, col_end)`` boxes, measured on the
mean FER2013 PrivateTest face (eye centres near row 18, columns 16 and 32; mouth near rows
36-39). ``left_eye`` is the eye on the image's left (the person's right). Pixels in no region
count as ``other`` (hair, background, borders). Pass your own ``regions`` (same form, or
H x W boolean masks) to override them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..errors import FervizError
from ..labels import EMOTIONS

Box = tuple[int, int, int, int]
RegionSpec = Mapping[str, Sequence[Box] | np.ndarray]

REGIONS: dict[str, tuple[Box, ...]] = {
    "forehead": ((0, 11, 8, 40),),
    "brows": ((11, 16, 6, 42),),
    "left_eye": ((16, 23, 8, 22),),
    "right_eye": ((16, 23, 26, 40),),
    "nose": ((16, 23, 22, 26), (23, 33, 17, 31)),
    "cheeks": ((23, 33, 4, 17), (23, 33, 31, 44), (33, 40, 4, 13), (33, 40, 35, 44)),
    "mouth": ((33, 42, 13, 35),),
    "chin": ((42, 48, 13, 35),),
}
OTHER = "other"


def region_masks(regions: RegionSpec | None = None, size: tuple[int, int] = (48, 48)
                 ) -> dict[str, np.ndarray]:
    """Boolean H x W mask per region, plus ``other`` for the uncovered pixels.

    Raises:
        FervizError: overlapping regions, boxes outside the frame, or masks of another size.
    """
    masks: dict[str, np.ndarray] = {}
    for name, spec in (regions or REGIONS).items():
        if isinstance(spec, np.ndarray):
            if spec.shape != size:
                raise FervizError(f"region {name}: mask of shape {spec.shape}, faces are {size}")
            masks[name] = spec.astype(bool)
            continue
        m = np.zeros(size, bool)
        for box in spec:
            r0, r1, c0, c1 = (int(v) for v in box)
            if not (0 <= r0 < r1 <= size[0] and 0 <= c0 < c1 <= size[1]):
                raise FervizError(f"region {name}: box {tuple(box)} is outside the "
                                  f"{size[0]}x{size[1]} frame or empty")
            m[r0:r1, c0:c1] = True
        masks[name] = m
    covered = np.zeros(size, int)
    for m in masks.values():
        covered += m
    if (covered > 1).any():
        raise FervizError("face regions overlap; every pixel may belong to one region only")
    masks[OTHER] = covered == 0
    return masks


def load_regions(path: str | Path) -> dict[str, list[Box]]:
    """Regions from a JSON file ``{"mouth": [[r0, r1, c0, c1], ...], ...}``.

    Raises:
        FervizError: unreadable file or malformed boxes.
    """
    try:
        data = json.loads(Path(path).read_text())
        regions = {str(k): [tuple(int(v) for v in box) for box in boxes]
                   for k, boxes in data.items()}
    except (OSError, ValueError, TypeError, AttributeError) as e:
        raise FervizError(f"{path}: not a regions file ({e}); expected "
                          '{"mouth": [[r0, r1, c0, c1]], ...}') from e
    if any(len(b) != 4 for boxes in regions.values() for b in boxes):
        raise FervizError(f"{path}: every box needs 4 numbers (r0, r1, c0, c1)")
    region_masks(regions)  # validate now
    return regions


def share_array(maps: np.ndarray, masks: Mapping[str, np.ndarray]) -> np.ndarray:
    """N x R shares of each map's total (non-negative) attribution per region; rows of
    all-zero maps are NaN."""
    m = np.clip(np.asarray(maps, np.float64), 0, None)
    stack = np.stack(list(masks.values())).reshape(len(masks), -1).astype(np.float64)
    sums = m.reshape(len(m), -1) @ stack.T
    total = m.reshape(len(m), -1).sum(1, keepdims=True)
    return np.divide(sums, total, out=np.full_like(sums, np.nan), where=total > 0)


def face_share_array(maps: np.ndarray, faces: Sequence[RegionSpec | None] | None = None,
                     regions: RegionSpec | None = None) -> tuple[np.ndarray, list[str]]:
    """N x R shares (as :func:`share_array`) where each face may have its own regions.

    Args:
        faces: per map, that face's regions (e.g. :func:`landmark_masks`), or None for
            ``regions`` (default: the fixed boxes). Every face's regions need the same names.

    Returns:
        The shares and the column names (the regions, then ``other``).

    Raises:
        FervizError: faces whose regions have other names, or a list of another length.
    """
    maps = np.asarray(maps)
    size = maps.shape[1:]
    shared = region_masks(regions, size)
    faces = [None] * len(maps) if faces is None else list(faces)
    if len(faces) != len(maps):
        raise FervizError(f"{len(faces)} per-face regions for {len(maps)} maps")
    out = np.empty((len(maps), len(shared)))
    plain = [i for i, f in enumerate(faces) if f is None]
    if plain:
        out[plain] = share_array(maps[plain], shared)
    for i in (i for i, f in enumerate(faces) if f is not None):
        own = region_masks(faces[i], size)
        if list(own) != list(shared):
            raise FervizError(f"face {i}: regions {', '.join(own)}; expected "
                              f"{', '.join(shared)}")
        out[i] = share_array(maps[i:i + 1], own)[0]
    return out, list(shared)


def region_shares(maps: np.ndarray, regions: RegionSpec | None = None,
                  faces: Sequence[RegionSpec | None] | None = None):
    """Per-image share of attribution per region (rows sum to 1 with ``other``).

    Args:
        maps: N x H x W saliency maps (``SaliencyMaps.maps``); negative values count as 0.
        faces: per-face regions, as :func:`face_share_array`.

    Returns:
        DataFrame, N rows, one column per region and ``other``.
    """
    import pandas as pd

    shares, cols = face_share_array(maps, faces, regions)
    return pd.DataFrame(shares, columns=cols)


def area_shares(regions: RegionSpec | None = None, size: tuple[int, int] = (48, 48)
                ) -> dict[str, float]:
    """Each region's share of the frame: what a uniform (uninformative) map would give."""
    return {k: float(m.mean()) for k, m in region_masks(regions, size).items()}


def class_table(maps: np.ndarray, classes: Sequence[int] | np.ndarray,
                regions: RegionSpec | None = None,
                faces: Sequence[RegionSpec | None] | None = None):
    """Mean region shares per class (rows: emotions present, then ``area``), with ``n``.

    Args:
        classes: class index per map (the true or predicted emotion).
        faces: per-face regions, as :func:`face_share_array`; the ``area`` row is then the
            mean over the faces of what a uniform map gives with each face's regions.
    """
    import pandas as pd

    maps = np.asarray(maps)
    df = region_shares(maps, regions, faces)
    cols = list(df.columns)
    size = maps.shape[1:]
    boxes = area_shares(regions, size)
    areas = pd.DataFrame([boxes if f is None else area_shares(f, size)
                          for f in (faces if faces is not None else [None])], columns=cols)
    df["class"] = [EMOTIONS[int(c)] for c in classes]
    table = df.groupby("class", sort=False)[cols].mean()
    table["n"] = df.groupby("class", sort=False).size()
    table = table.reindex([e for e in EMOTIONS if e in table.index])
    table.loc["area"] = {**areas.mean().to_dict(), "n": np.nan}
    return table


PAINT_ORDER = ("cheeks", "forehead", "chin", "nose", "brows", "left_eye", "right_eye",
               "mouth")  # later regions are painted over earlier ones
SUPERSAMPLE = 4  # landmark regions are drawn at 4x and each pixel takes its majority label


def _grow(pts: np.ndarray, along: float, across: float, axis: np.ndarray) -> np.ndarray:
    """Polygon ``pts`` scaled about its centre: ``along`` the eye line ``axis``, ``across``
    perpendicular to it."""
    c = pts.mean(0)
    up = np.array([axis[1], -axis[0]])
    d = pts - c
    return c + np.outer(d @ axis * along, axis) + np.outer(d @ up * across, up)


def landmark_polygons(points: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Polygons (x, y) of the face regions of one face's 68 landmarks (iBUG order): the
    regions of :data:`REGIONS`, drawn on this face. The face is the jaw line closed by a
    forehead one third of the face high (brows to nose base, raised above the brows);
    cheeks are the face's remainder once the other regions are painted over it."""
    p = np.asarray(points, np.float64)
    left, right = p[36:42].mean(0), p[42:48].mean(0)
    eyes = float(np.linalg.norm(right - left))
    axis = (right - left) / eyes
    up = np.array([axis[1], -axis[0]])  # towards the forehead (image rows decrease)
    brows = p[17:27]
    band = 0.12 * eyes
    third = float((p[33] - brows.mean(0)) @ -up)  # brows to nose base
    top = brows + up * (third + band)
    return {
        "cheeks": [np.vstack([p[0:17], top[::-1]])],
        "forehead": [np.vstack([brows + up * band, top[::-1]])],
        "chin": [np.vstack([p[4:13], p[54], p[57], p[48]])],
        "nose": [_grow(np.vstack([p[27] - axis * 0.15 * eyes, p[31:36],
                                  p[27] + axis * 0.15 * eyes]), 1.2, 1.1, axis)],
        "brows": [np.vstack([brows + up * band, (brows - up * band)[::-1]])],
        "left_eye": [_grow(p[36:42], 1.5, 2.5, axis)],
        "right_eye": [_grow(p[42:48], 1.5, 2.5, axis)],
        "mouth": [_grow(p[48:60], 1.3, 1.5, axis)],
    }


def landmark_masks(points: np.ndarray, size: tuple[int, int] = (48, 48)
                   ) -> dict[str, np.ndarray]:
    """Boolean H x W masks of :func:`landmark_polygons` (no overlaps; ``other`` is left to
    :func:`region_masks`), ready to pass as ``regions``."""
    import cv2

    s = SUPERSAMPLE
    label = np.zeros((size[0] * s, size[1] * s), np.uint8)
    polygons = landmark_polygons(points)
    for k, name in enumerate(PAINT_ORDER, 1):
        for poly in polygons[name]:
            pts = np.round((poly * s + (s - 1) / 2) * 16).astype(np.int32)  # 4 fraction bits
            cv2.fillPoly(label, [pts], k, lineType=cv2.LINE_8, shift=4)
    votes = np.stack([(label == k) for k in range(len(PAINT_ORDER) + 1)])
    votes = votes.reshape(len(votes), size[0], s, size[1], s).sum((2, 4))
    winner = votes.argmax(0)
    return {name: winner == PAINT_ORDER.index(name) + 1 for name in REGIONS}
