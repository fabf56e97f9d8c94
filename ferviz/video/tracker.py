"""An id per face across frames: each track predicts its next box from its velocity, and
detections are matched to predictions by box overlap and centre distance (Hungarian
assignment). A track is reported once it has been seen on a few frames in a row (lone false
detections never get an id) and dropped after it has been missed for a while."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.boxes import Box, iou


@dataclass
class Track:
    """One face being followed: its box, velocity (pixels per frame), how often it was seen
    in a row, how many frames since it was last seen, and its id (0 until confirmed)."""

    box: np.ndarray
    velocity: np.ndarray
    hits: int = 1
    missed: int = 0
    id: int = 0

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.missed + 1)

    def update(self, box: np.ndarray, smoothing: float = 0.5) -> None:
        step = (box - self.box) / (self.missed + 1)
        self.velocity = smoothing * self.velocity + (1 - smoothing) * step
        self.velocity[2:] = 0  # sizes do not drift
        self.box, self.missed, self.hits = box, 0, self.hits + 1


class Tracker:
    """Feed it each frame's detections; it answers ``(id, box)`` for the confirmed faces.

    Args:
        confirm: frames in a row a face must be seen before it gets an id.
        patience: frames a face may go unseen (occluded, missed) before its track ends.
        gate: largest centre distance for a match, in units of the box's side.
    """

    def __init__(self, confirm: int = 3, patience: int = 15, gate: float = 0.9) -> None:
        self.confirm, self.patience, self.gate = confirm, patience, gate
        self.tracks: list[Track] = []
        self.next_id = 1

    def expected(self) -> list[np.ndarray]:
        """Where the live tracks' faces should be on the next frame (x, y, w, h)."""
        return [t.predicted() for t in self.tracks]

    def update(self, boxes: Sequence[Box]) -> list[tuple[int, Box]]:
        """Match this frame's boxes to the tracks; returns (id, box) of the confirmed faces
        seen on this frame, by id."""
        from scipy.optimize import linear_sum_assignment

        found = np.asarray(boxes, float).reshape(-1, 4)
        seen, used = set(), set()
        if self.tracks and len(found):
            pred = np.stack([t.predicted() for t in self.tracks])
            dist = _distance(pred, found)
            for r, c in zip(*linear_sum_assignment(1 - iou(pred, found) + dist)):
                if dist[r, c] <= self.gate:
                    self.tracks[r].update(found[c])
                    seen.add(r)
                    used.add(c)
        for r, t in enumerate(self.tracks):
            if r not in seen:
                t.missed += 1
                t.hits = t.hits if t.id else 0  # an unconfirmed face must be seen in a row
        self.tracks = [t for t in self.tracks if t.missed <= self.patience and (t.id or t.hits)]
        self.tracks += [Track(found[c], np.zeros(4)) for c in range(len(found)) if c not in used]
        for t in self.tracks:
            if not t.id and t.hits >= self.confirm:
                t.id, self.next_id = self.next_id, self.next_id + 1
        return sorted((t.id, _ints(t.box)) for t in self.tracks if t.id and not t.missed)


def _ints(box: np.ndarray) -> Box:
    x, y, w, h = (round(float(v)) for v in box)
    return x, y, w, h


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre distance of every box pair, in units of the larger side of the ``a`` box."""
    ca = a[:, :2] + a[:, 2:] / 2
    cb = b[:, :2] + b[:, 2:] / 2
    d = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    return d / np.maximum(a[:, 2:].max(axis=1), 1)[:, None]
