"""What to do with contempt, the emotion FER2013's seven classes lack.

Policies: ``merge`` (contempt counts as neutral), ``drop`` (contempt faces are removed) and
``keep`` (contempt stays an 8th class, :data:`ferviz.labels.CONTEMPT`). Each source has a
default: FER+ votes merge (as the seed FER+ project did), image folders such as CK+ drop
(CK+ has no neutral class, so merged contempt would pose as neutral).

Every load records a :class:`ContemptNote`: the policy and, per split, the faces it touched
(faces whose label is contempt: merged into neutral, dropped, or kept as contempt).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import FervizError
from ..labels import CONTEMPT

POLICIES = ("merge", "drop", "keep")
DEFAULTS = {"ferplus": "merge", "folder": "drop"}
_DONE = {"merge": "merged into neutral", "drop": "dropped", "keep": "kept as contempt"}


def policy(value: str | None, source: str) -> str:
    """The policy to apply: ``value`` if given, else the source's default.

    Raises:
        FervizError: for an unknown policy.
    """
    if value is None:
        return DEFAULTS[source]
    if value not in POLICIES:
        raise FervizError(f"contempt must be one of {', '.join(POLICIES)}, not {value!r}")
    return value


@dataclass(frozen=True)
class ContemptNote:
    """The contempt policy of a load and the faces it touched, per split."""

    policy: str
    faces: dict[str, int] = field(default_factory=dict)

    @classmethod
    def count(cls, policy: str, splits: Iterable[str]) -> ContemptNote:
        """A note from the split names of the contempt faces (one entry per face)."""
        names, counts = np.unique(np.asarray(list(splits), dtype=str), return_counts=True)
        return cls(policy, {str(s): int(c) for s, c in zip(names, counts)})

    @property
    def total(self) -> int:
        return sum(self.faces.values())

    def within(self, splits: Iterable[str]) -> ContemptNote:
        """The note restricted to some splits (case-insensitive)."""
        wanted = {s.lower() for s in splits}
        return ContemptNote(self.policy, {s: n for s, n in self.faces.items()
                                          if s.lower() in wanted})

    def to_dict(self) -> dict:
        return {"policy": self.policy, "faces": self.total, "by_split": dict(self.faces)}

    def text(self) -> str:
        """One line for outputs, e.g. ``contempt: drop (54 faces dropped)``."""
        return f"contempt: {self.policy} ({self.total} faces {_DONE[self.policy]})"


def require_seven(labels: np.ndarray) -> None:
    """Refuse contempt labels where ferviz scores the seven emotions only.

    Raises:
        FervizError: if some faces are labelled contempt (``contempt="keep"``).
    """
    n = int((np.asarray(labels) == CONTEMPT).sum())
    if n:
        raise FervizError(f"{n} faces are labelled contempt (--contempt keep), but ferviz scores "
                          "the 7 FER2013 emotions (a model's contempt output is merged into "
                          "neutral); use --contempt drop or merge here")
