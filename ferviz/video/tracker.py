"""An id per face across frames: each track predicts its next box from its velocity, and
detections are matched to predictions by box overlap and centre distance (Hungarian
assignment). A track is reported once it has been seen on a few frames in a row (lone false
detections never get an id) and dropped after it has been missed for a while. After a hard cut
every track ends, so the faces of the next shot get new ids.

The detector's box of a still face wobbles by a few pixels from frame to frame (about +-8% of
its side), and a crop cut from each frame's raw box makes the probabilities of a face whose
expression is not clear-cut jitter with it. A steady tracker reports a steadied box instead
(:class:`Steady`): the detections smoothed, then held still while they only wobble."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..data.boxes import Box, iou

# The steadied box (chosen on FER-Synth clips, see tests/test_video_tracking.py):
CENTRE_GAIN = 0.5  # share of a detection's offset from the expected centre taken in ...
VELOCITY_GAIN = 0.3  # ... and into the centre's velocity (so a moving face is not lagged)
SIZE_GAIN = 0.2  # share of a detection's size change taken in (faces rarely resize fast)
OUTLIER = 0.25  # a detection counts at most this far (in box sides) from where it was expected
HOLD = 0.04  # the box moves only when the smoothed centre or size moves more (in box sides)


@dataclass
class Steady:
    """The box a face is cut from: the detections smoothed, then held still while they only
    wobble. The centre goes through an alpha-beta filter (a constant-velocity tracker: each
    detection's offset from where the face was expected corrects the centre by
    :data:`CENTRE_GAIN` of it and its velocity by :data:`VELOCITY_GAIN`, so a moving face is
    not lagged), the size through an exponential average (:data:`SIZE_GAIN`), and an offset
    counts at most :data:`OUTLIER` box sides (a stray detection). Then a dead band: the box
    stays where it is until the smoothed centre (x or y) or size moves more than
    :data:`HOLD` of the box's side, and then jumps there.

    Boxes are kept as centre x, centre y, width, height; the velocity is the centre's, in
    pixels per frame.
    """

    smooth: np.ndarray
    shown: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))

    @classmethod
    def at(cls, box: np.ndarray) -> Steady:
        centred = _centred(box)
        return cls(centred, centred.copy())

    def miss(self) -> None:
        """A frame without the face: the smoothed box moves on."""
        self.smooth[:2] += self.velocity

    def update(self, box: np.ndarray) -> None:
        """Take in a detection (x, y, w, h)."""
        expected = self.smooth.copy()
        expected[:2] += self.velocity
        side = max(expected[2:].max(), 1.0)
        offset = np.clip(_centred(box) - expected, -OUTLIER * side, OUTLIER * side)
        self.smooth = expected + offset * np.array([CENTRE_GAIN] * 2 + [SIZE_GAIN] * 2)
        self.velocity = self.velocity + VELOCITY_GAIN * offset[:2]
        band = HOLD * self.shown[2:].max()
        for part in (slice(0, 1), slice(1, 2), slice(2, 4)):
            if np.abs(self.smooth[part] - self.shown[part]).max() > band:
                self.shown[part] = self.smooth[part]

    def box(self) -> Box:
        """The steadied box (x, y, w, h)."""
        cx, cy, w, h = self.shown
        return _ints(np.array([cx - w / 2, cy - h / 2, w, h]))


@dataclass
class Track:
    """One face being followed: its last detected box, velocity (pixels per frame), how
    often it was seen in a row, how many frames since it was last seen, its id (0 until
    confirmed) and its steadied box."""

    box: np.ndarray
    velocity: np.ndarray
    hits: int = 1
    missed: int = 0
    id: int = 0
    steady: Steady = field(init=False)

    def __post_init__(self) -> None:
        self.steady = Steady.at(self.box)

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.missed + 1)

    def update(self, box: np.ndarray, smoothing: float = 0.5) -> None:
        self.steady.update(box)
        step = (box - self.box) / (self.missed + 1)
        self.velocity = smoothing * self.velocity + (1 - smoothing) * step
        self.velocity[2:] = 0  # sizes do not drift
        self.box, self.missed, self.hits = box, 0, self.hits + 1

    def miss(self) -> None:
        self.missed += 1
        self.hits = self.hits if self.id else 0  # an unconfirmed face must be seen in a row
        self.steady.miss()


class Tracker:
    """Feed it each frame's detections; it answers ``(id, box)`` for the confirmed faces.

    Args:
        confirm: frames in a row a face must be seen before it gets an id.
        patience: frames a face may go unseen (occluded, missed) before its track ends.
        gate: largest centre distance for a match, in units of the box's side.
        steady: answer each face's steadied box (:class:`Steady`, what a crop should be cut
            from) instead of this frame's detection.
    """

    def __init__(self, confirm: int = 3, patience: int = 15, gate: float = 0.9,
                 steady: bool = False) -> None:
        self.confirm, self.patience, self.gate, self.steady = confirm, patience, gate, steady
        self.tracks: list[Track] = []
        self.next_id = 1

    def cut(self) -> None:
        """A hard cut: every track ends, so the faces after it get new ids."""
        self.tracks = []

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
                t.miss()
        self.tracks = [t for t in self.tracks if t.missed <= self.patience and (t.id or t.hits)]
        self.tracks += [Track(found[c], np.zeros(4)) for c in range(len(found)) if c not in used]
        for t in self.tracks:
            if not t.id and t.hits >= self.confirm:
                t.id, self.next_id = self.next_id, self.next_id + 1
        return sorted((t.id, t.steady.box() if self.steady else _ints(t.box))
                      for t in self.tracks if t.id and not t.missed)


def _ints(box: np.ndarray) -> Box:
    x, y, w, h = (round(float(v)) for v in box)
    return x, y, w, h


def _centred(box: np.ndarray) -> np.ndarray:
    """(x, y, w, h) -> (centre x, centre y, w, h), as floats."""
    x, y, w, h = np.asarray(box, float)
    return np.array([x + w / 2, y + h / 2, w, h])


def _distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Centre distance of every box pair, in units of the larger side of the ``a`` box."""
    ca = a[:, :2] + a[:, 2:] / 2
    cb = b[:, :2] + b[:, 2:] / 2
    d = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2)
    return d / np.maximum(a[:, 2:].max(axis=1), 1)[:, None]
