"""Gallery items: one face of the predictions table with its thumbnail and probability bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..labels import EMOTIONS
from ..table import PROBS
from .thumbs import png_uri, prob_bars


@dataclass
class Item:
    """What the template shows for one face; every string is escaped when rendered."""

    id: str
    label: str
    pred: str
    confidence: float
    face: str | None
    bars: list[tuple[str, str]]
    overlays: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


class Gallery:
    """Builds items from a predictions table (rows numbered 0..N-1) and its faces."""

    def __init__(self, df: pd.DataFrame, faces: np.ndarray | None,
                 overlays: dict[int, list[tuple[str, str]]] | None = None,
                 human: np.ndarray | None = None, name: str = "model") -> None:
        self.df, self.faces, self.overlays, self.human = df, faces, overlays or {}, human
        self.name = name
        self._face: dict[int, str] = {}

    @classmethod
    def of(cls, df: pd.DataFrame, faces: np.ndarray | None,
           overlays: dict[int, list[tuple[str, str]]] | None = None,
           name: str = "model") -> Gallery:
        """A gallery of a predictions table, with FER+ vote bars when it carries votes."""
        from ..analysis import ambiguity as amb

        human = amb.vote_distribution(df) if amb.has_votes(df) else None
        return cls(df, faces, overlays, human, name)

    def face(self, row: int) -> str | None:
        """The face of a row as a PNG data URI (encoded once), or None without images."""
        if self.faces is None:
            return None
        if row not in self._face:
            self._face[row] = png_uri(self.faces[row])
        return self._face[row]

    def item(self, row: int, note: str = "", probs: Sequence[tuple[str, pd.Series]] = ()) -> Item:
        """The item of a row; ``probs`` adds named extra bars (e.g. a second model's)."""
        r = self.df.iloc[row]
        true = r["label"] if r["label"] in EMOTIONS else None
        bars = [(self.name, prob_bars(r[PROBS].to_numpy(np.float64), true=true))]
        bars += [(name, prob_bars(p.to_numpy(np.float64), true=true)) for name, p in probs]
        if self.human is not None:
            bars.append(("FER+ votes", prob_bars(self.human[row], true=true)))
        return Item(id=str(r["id"]), label=str(r["label"]), pred=str(r["pred"]),
                    confidence=float(r["confidence"]), face=self.face(row), bars=bars,
                    overlays=self.overlays.get(row, []), note=note)

    def items(self, rows: Sequence[int], notes: Sequence[str] | None = None) -> list[Item]:
        """Items of several rows (with an optional note each)."""
        return [self.item(int(r), n) for r, n in zip(rows, notes or [""] * len(rows))]
