"""Hard cuts: where a video jumps from one shot to another, so that the faces after it are
new faces (new ids) even when one appears where another just was.

The measure is ffmpeg's ``scdet`` filter's: the mean absolute difference of consecutive
frames (MAFD, in percent of the grey range), and the score of a frame is the smaller of its
MAFD and the change of the MAFD from the frame before (motion that goes on, such as a pan,
differs from frame to frame about equally and scores low). Before comparing, each frame is
shrunk to :data:`CUT_WIDTH` pixels wide (sensor noise and compression artefacts average out)
and scaled to the same mean brightness (lighting that flickers or changes is no cut).

:data:`CUT_THRESHOLD` comes from FER-Synth clips (tests/test_video_tracking.py): the largest
score on clips without a cut was 2.6 (faces crossing, a face filling the frame changing
expression at once, pans of 8 pixels a frame, sensor noise, +-10% lighting flicker), the
smallest at a cut 9.2 (13 pairs of scenes, each with a different face at the same place).
6 lies between them, 2.3 times the one and 1.5 times below the other; ffmpeg's default is
10 on full-size frames without the brightness scaling. A whip pan (a tenth of the frame's
width a frame) scores about 8, and a fast fade from black counts as a cut: both only give
the faces after them new ids. A cut between two shots of one place (the same background,
another face) is not found.
"""

from __future__ import annotations

import numpy as np

CUT_WIDTH = 64  # pixels: frames are compared at this width
CUT_THRESHOLD = 6.0  # percent of the grey range (see the module's docstring)
DARK = 32.0  # grey level: darker frames are not brightened further (noise would dominate)


class CutDetector:
    """Feed it every frame (grey) in order; it answers whether a hard cut came just before.

    Args:
        threshold: the score above which a frame starts a new shot (percent of grey levels).
        width: the width frames are shrunk to before they are compared.

    Attributes:
        cuts: how many cuts were found so far (the shot number of the latest frame).
        score: the latest frame's score.
    """

    def __init__(self, threshold: float = CUT_THRESHOLD, width: int = CUT_WIDTH) -> None:
        self.threshold, self.width = threshold, width
        self.previous: np.ndarray | None = None
        self.mafd = 0.0
        self.score = 0.0
        self.cuts = 0

    def __call__(self, gray: np.ndarray) -> bool:
        small = shrink(gray, self.width)
        before, self.previous = self.previous, small
        if before is None:
            return False
        if before.shape != small.shape:  # a camera that changed its resolution
            self.mafd, self.score = 100.0, 100.0
        else:
            mafd = 100 * float(np.abs(small - before).mean()) / 255
            self.score, self.mafd = min(mafd, abs(mafd - self.mafd)), mafd
        cut = self.score > self.threshold
        self.cuts += cut
        return cut


def shrink(gray: np.ndarray, width: int = CUT_WIDTH) -> np.ndarray:
    """A grey frame shrunk to ``width`` pixels wide and scaled to a mean of 128 (frames darker
    than :data:`DARK` on average are scaled as if they had that mean), as float32."""
    import cv2

    h, w = gray.shape
    scale = min(1.0, width / w)
    small = cv2.resize(gray, (max(1, round(w * scale)), max(1, round(h * scale))),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
    return small * (128 / max(float(small.mean()), DARK))
