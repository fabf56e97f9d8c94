"""Per frame: find the faces, follow them with an id (new ids after a hard cut), predict
each face from a steadied crop and explain some."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data.boxes import Box, iou
from ..labels import EMOTIONS
from .cuts import CutDetector
from .tracker import Tracker

DETECT_WIDTH = 320  # frames are shrunk to this width for a full search (faces cut at full size)
MIN_FACE = 24  # pixels, at the detection width
FULL_EVERY = 5  # frames between full searches while faces are followed
ROI_FACE = 56  # pixels: a followed face is searched for at about this size ...
ROI_NEIGHBOURS = 3  # ... where fewer overlapping hits suffice (a full search needs 5)
TORCH_THREADS = 1  # one face per forward pass: more threads only wait on each other


@dataclass(frozen=True)
class FaceOnFrame:
    """One face on one frame: its track id, box (x, y, w, h) in the frame (the tracker's
    steadied box, which the crop is cut from), the 48 x 48 crop, the 7 probabilities and,
    on explained frames, its saliency map in [0, 1]."""

    id: int
    box: Box
    face: np.ndarray
    probs: np.ndarray
    map: np.ndarray | None = None

    @property
    def emotion(self) -> str:
        return EMOTIONS[int(np.argmax(self.probs))]


@dataclass(frozen=True)
class Frame:
    """A decoded frame (BGR), the faces followed on it, whether a hard cut came just before
    it and its shot (the number of cuts before it)."""

    index: int
    time: float
    image: np.ndarray
    faces: list[FaceOnFrame] = field(default_factory=list)
    cut: bool = False
    shot: int = 0


class FaceFinder:
    """Frame -> face boxes with OpenCV's Haar cascade. Every ``full_every``-th frame (and
    every frame while no face is followed) the whole frame is searched, shrunk to ``width``
    pixels; on the others only around the boxes the tracker expects, at the expected size,
    which costs a small fraction of a full search. Without ``detect`` the whole frame is one
    face."""

    def __init__(self, detect: bool = True, width: int = DETECT_WIDTH,
                 full_every: int = FULL_EVERY) -> None:
        self.detect, self.width, self.full_every = detect, width, full_every

    def __call__(self, gray: np.ndarray, index: int = 0,
                 expected: Sequence[np.ndarray] = ()) -> list[Box]:
        h, w = gray.shape
        if not self.detect:
            return [(0, 0, w, h)]
        if index % self.full_every == 0 or not len(expected):
            return _search(gray, self.width / w, MIN_FACE)
        return _distinct([b for box in expected for b in _search_around(gray, box)])


def _search(gray: np.ndarray, scale: float, min_size: int, max_size: int | None = None,
            min_neighbors: int = 5) -> list[Box]:
    """Faces in ``gray`` searched at ``scale`` (at most 1), boxes in ``gray``'s pixels."""
    import cv2

    from ..data.images import detect_faces

    scale = min(1.0, scale)
    h, w = gray.shape
    small = gray if scale == 1 else cv2.resize(
        gray, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return [(round(x / scale), round(y / scale), round(bw / scale), round(bh / scale))
            for x, y, bw, bh in detect_faces(small, min_size, max_size, min_neighbors)]


def _search_around(gray: np.ndarray, box: np.ndarray) -> list[Box]:
    """Faces of about ``box``'s size in a window twice its side around it."""
    x, y, bw, bh = box
    side = max(bw, bh)
    x0, y0 = max(0, int(x + bw / 2 - side)), max(0, int(y + bh / 2 - side))
    x1, y1 = min(gray.shape[1], int(x + bw / 2 + side)), min(gray.shape[0], int(y + bh / 2 + side))
    scale = min(1.0, ROI_FACE / max(side, 1))
    seen = side * scale  # the face's side where it is searched
    if min(x1 - x0, y1 - y0) * scale < MIN_FACE:
        return []
    return [(bx + x0, by + y0, w, h) for bx, by, w, h in
            _search(gray[y0:y1, x0:x1], scale, max(MIN_FACE, int(0.7 * seen)),
                    int(1.45 * seen) + 1, ROI_NEIGHBOURS)]


def _distinct(boxes: list[Box], overlap: float = 0.5) -> list[Box]:
    """Boxes without near-duplicates (a face found from two expected boxes)."""
    kept: list[Box] = []
    for b in boxes:
        if not kept or iou(np.array([b], float), np.array(kept, float)).max() < overlap:
            kept.append(b)
    return kept


def analyse(frames: Iterable[tuple[int, float, np.ndarray]], model: Any, fps: float,
            detect: bool = True, overlay: str | None = None, every: int = 1,
            target: str = "pred") -> Iterator[Frame]:
    """Follow, predict and (every ``every``-th frame, with method ``overlay``) explain the
    faces of each (index, seconds, BGR image) in ``frames``, one frame at a time."""
    find = FaceFinder(detect)
    tracker = Tracker(confirm=3 if detect else 1, patience=max(2, round(fps / 2)), steady=True)
    cuts = CutDetector()
    with few_threads():
        for index, seconds, image in frames:
            yield follow(model, find, tracker, index, seconds, image,
                         overlay if overlay and index % every == 0 else None, target, cuts)


@contextmanager
def few_threads() -> Iterator[None]:
    """Torch with :data:`TORCH_THREADS` threads inside the block (one face per forward pass
    gains nothing from more, and on a busy machine they wait on each other)."""
    from ..models.threads import threads

    with threads(TORCH_THREADS):
        yield


def follow(model: Any, find: FaceFinder, tracker: Tracker, index: int, seconds: float,
           image: np.ndarray, overlay: str | None = None, target: str = "pred",
           cuts: CutDetector | None = None) -> Frame:
    """One frame: look for a hard cut (with ``cuts``: after one every track ends), find the
    faces, update the tracks, predict (and explain) the faces."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    cut = bool(cuts and cuts(gray))
    if cut:
        tracker.cut()
    seen = tracker.update(find(gray, index, tracker.expected()))
    shot = cuts.cuts if cuts else 0
    return _frame(model, gray, Frame(index, seconds, image, cut=cut, shot=shot), seen, overlay,
                  target)


def _frame(model: Any, gray: np.ndarray, frame: Frame, seen: list[tuple[int, Box]],
           overlay: str | None, target: str) -> Frame:
    """``frame`` with its followed faces cropped, predicted and (with ``overlay``)
    explained."""
    from ..data.images import crop_face
    from ..predict import predict_proba

    if not seen:
        return frame
    faces = np.stack([crop_face(gray, box) for _, box in seen])
    probs = predict_proba(model, faces, progress=False)
    maps = explain_faces(model, faces, probs, overlay, target) if overlay else [None] * len(seen)
    return replace(frame, faces=[FaceOnFrame(i, box, f, p, m) for (i, box), f, p, m
                                 in zip(seen, faces, probs, maps)])


def explain_faces(model: Any, faces: np.ndarray, probs: np.ndarray, method: str,
                  target: str) -> np.ndarray:
    """Saliency maps of one frame's faces (``pred`` explains the probabilities' top class
    without another forward pass; nothing is cached on disk)."""
    from ..explain import explain

    goal: Any = probs.argmax(axis=1) if target == "pred" else target
    return explain(model, faces, goal, method, cache=False, progress=False).maps


def face_records(path: Any, index: int, box: Box, face_id: int):
    """Face ``face_id`` cut from frame ``index`` of a video at ``box``, as one-face
    :class:`~ferviz.data.records.Records` (what ``explain_photo`` takes)."""
    import cv2

    from ..data.images import crop_face
    from .source import read_frame

    gray = cv2.cvtColor(read_frame(path, index), cv2.COLOR_BGR2GRAY)
    return records_of(crop_face(gray, box)[None], [f"{Path(path).name}@{index}#face{face_id}"])


def records_of(faces: np.ndarray, ids: Sequence[str]):
    """48 x 48 faces with these ids as unlabelled :class:`~ferviz.data.records.Records`."""
    from ..data.records import Records

    n = len(faces)
    return Records(ids=np.array(list(ids), dtype=object), labels=np.full(n, -1),
                   splits=np.full(n, "video", dtype=object),
                   sources=np.full(n, "video", dtype=object), faces=np.asarray(faces),
                   name=", ".join(ids))
