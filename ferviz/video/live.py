"""A live camera: frames arrive one by one from another thread (a WebRTC track); each is
followed, predicted and annotated as it comes, and the page reads the latest frame, its
faces and a rolling history from here."""

from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

import numpy as np

from .cuts import CutDetector
from .frames import FaceFinder, Frame, few_threads, follow
from .tracker import Tracker

if TYPE_CHECKING:
    import pandas as pd

HISTORY_SECONDS = 30.0  # the rolling timeline's span
LIVE_FPS = 15.0  # assumed frame rate for how long a lost face is kept


class LiveAnalyser:
    """Annotates camera frames as they arrive (thread-safe).

    Args:
        model: a loaded FERModel.
        lock: held around each model call (the dashboard shares one between sessions).
    """

    def __init__(self, model: Any, lock: AbstractContextManager | None = None) -> None:
        self.model, self.lock = model, lock or nullcontext()
        self.find = FaceFinder()
        self.tracker = Tracker(patience=round(LIVE_FPS / 2), steady=True)
        self.cuts = CutDetector()
        self.start = time.monotonic()
        self.frames = 0
        self.latest: Frame | None = None
        self.history: deque[tuple] = deque()
        self._mutex = threading.Lock()

    def process(self, image: np.ndarray) -> np.ndarray:
        """Follow and predict the faces of one BGR frame; returns it annotated."""
        from .draw import annotate
        from .summary import rows

        seconds = time.monotonic() - self.start
        with self._mutex, self.lock, few_threads():
            frame = follow(self.model, self.find, self.tracker, self.frames, seconds, image,
                           cuts=self.cuts)
            self.frames += 1
            self.latest = frame
            self.history.extend(rows(frame))
            while self.history and self.history[0][1] < seconds - HISTORY_SECONDS:
                self.history.popleft()
        return annotate(frame)

    def snapshot(self) -> tuple[Frame | None, int]:
        """The latest frame with its faces, and how many frames were analysed."""
        with self._mutex:
            return self.latest, self.frames

    def timeline(self) -> pd.DataFrame:
        """The rolling per-frame table of the last :data:`HISTORY_SECONDS`."""
        from .summary import frame_table

        with self._mutex:
            return frame_table(list(self.history))
