"""Which regions each face of a data set is read with, and a summary that says so.

Per face: its own 68-landmark regions (:func:`~ferviz.explain.regions.landmark_masks`) when
its landmarks were fitted reliably on its source image
(:func:`ferviz.data.source_landmarks.fit_records`), else the fixed boxes of the aligned
frame; a ``--regions`` file overrides both for every face.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .regions import landmark_masks

UNRELIABLE = "unreliable fit"


@dataclass(frozen=True)
class RegionsUsed:
    """How many of ``faces`` were read with landmark regions; per reason, how many kept the
    fixed boxes (``unreliable`` counts the failed checks of the unreliable fits);
    ``custom``: a regions file was used for all."""

    faces: int
    landmarks: int = 0
    fixed: dict[str, int] = field(default_factory=dict)
    unreliable: dict[str, int] = field(default_factory=dict)
    custom: bool = False

    @property
    def used(self) -> str:
        """``custom``, ``landmarks``, ``fixed boxes`` or ``mixed``."""
        if self.custom:
            return "custom"
        if self.landmarks == self.faces:
            return "landmarks"
        return "mixed" if self.landmarks else "fixed boxes"

    def reasons(self) -> str:
        """Why faces kept the fixed boxes, with counts, e.g. ``unreliable fit: 1 (no face at
        the box for dlib's HOG detector: 1); face under 64 px in its image: 4``."""
        out = []
        for why, n in self.fixed.items():
            detail = ", ".join(f"{p}: {k}" for p, k in self.unreliable.items())
            out.append(f"{why}: {n}" + (f" ({detail})" if why == UNRELIABLE else ""))
        return "; ".join(out)

    def line(self) -> str:
        """One line for the views, e.g. ``regions: 68-landmark regions for 212 of 213 faces,
        fixed boxes for the rest (1 unreliable fit (...))``."""
        if self.custom:
            return f"regions: custom (--regions file) for all {self.faces} faces"
        if not self.landmarks:
            return (f"regions: fixed boxes of the aligned 48x48 frame for all {self.faces} "
                    f"faces ({self.reasons()})")
        if self.landmarks == self.faces:
            return f"regions: 68-landmark regions for all {self.faces} faces"
        return (f"regions: 68-landmark regions for {self.landmarks} of {self.faces} faces, "
                f"fixed boxes for the rest ({self.reasons()})")

    def to_dict(self) -> dict[str, Any]:
        return {"used": self.used, "faces": self.faces, "landmarks": self.landmarks,
                "fixed_boxes": self.faces - self.landmarks if not self.custom else 0,
                "fixed_why": dict(self.fixed), "unreliable": dict(self.unreliable)}


def choose(fits: Sequence[Any] | None, n: int, custom: Any = None
           ) -> tuple[list[dict[str, np.ndarray] | None], RegionsUsed]:
    """Per face, its landmark masks or None (the fixed boxes, or ``custom`` for all), and
    the summary.

    Args:
        fits: per face a :class:`~ferviz.data.landmarks.Landmarks` or why none was fitted
            (as :func:`ferviz.data.source_landmarks.fit_records` returns); None: not tried.
        n: the number of faces.
    """
    if custom is not None:
        return [None] * n, RegionsUsed(n, custom=True)
    fits = list(fits) if fits is not None else ["landmarks not fitted"] * n
    fixed: Counter[str] = Counter()
    unreliable: Counter[str] = Counter()
    masks: list[dict[str, np.ndarray] | None] = []
    for fit in fits:
        if isinstance(fit, str):
            fixed[fit] += 1
            masks.append(None)
        elif not fit.reliable:
            fixed[UNRELIABLE] += 1
            unreliable.update(fit.problems)
            masks.append(None)
        else:
            masks.append(landmark_masks(fit.points))
    used = RegionsUsed(n, sum(m is not None for m in masks), dict(fixed.most_common()),
                       dict(unreliable.most_common()))
    return masks, used
