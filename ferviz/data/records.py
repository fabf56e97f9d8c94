"""Records: the one columnar type every data source produces (one row per 48x48 face)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import FervizError
from ..labels import CONTEMPT, EMOTIONS, FERPLUS_COLUMNS, label_name

if TYPE_CHECKING:
    import pandas as pd

    from .contempt import ContemptNote


@dataclass(eq=False)
class Records:
    """Faces with their labels and provenance, stored column-wise.

    Attributes:
        ids: unique id per face (e.g. ``fer2013:28710``, a file path, ``photo.jpg#face1``).
        labels: int index into :data:`ferviz.labels.EMOTIONS`, -1 when unknown.
        splits: split name per face (``Training``, ``PublicTest``, ``PrivateTest``, ``test``...).
        sources: data source per face (``fer2013``, ``folder``, ``photo``, ``synth``...).
        faces: N x 48 x 48 uint8 faces, or None when ``paths`` are decoded lazily.
        paths: image file per face, decoded on first access of :meth:`images`.
        votes: N x 10 FER+ vote counts in :data:`FERPLUS_COLUMNS` order, if known.
        soft: N x 7 soft labels (FER+ vote distribution, FER-Synth blends), if known.
        masks: N x 48 x 48 bool ground-truth expression regions (FER-Synth), if known.
        name: a short description of where the set came from.
        groups: named per-face group columns (``subject``, ``sequence``...; None = unknown).
        contempt: the contempt policy of the load and the faces it touched.
    """

    ids: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    sources: np.ndarray
    faces: np.ndarray | None = None
    paths: np.ndarray | None = None
    votes: np.ndarray | None = None
    soft: np.ndarray | None = None
    masks: np.ndarray | None = None
    name: str = ""
    groups: dict[str, np.ndarray] | None = None
    contempt: ContemptNote | None = None
    _digest: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        self.ids = np.asarray(self.ids, dtype=object)
        self.labels = np.asarray(self.labels, dtype=np.int8)
        self.splits = np.asarray(self.splits, dtype=object)
        self.sources = np.asarray(self.sources, dtype=object)
        if self.faces is None and self.paths is None:
            raise ValueError("Records need faces or paths")
        for name in ("labels", "splits", "sources", "faces", "paths", "votes", "soft", "masks"):
            column = getattr(self, name)
            if column is not None and len(column) != n:
                raise ValueError(f"Records column {name} has {len(column)} rows, ids have {n}")
        if self.groups is not None:
            self.groups = {k: np.asarray(v, dtype=object) for k, v in self.groups.items()}
            if any(len(v) != n for v in self.groups.values()):
                raise ValueError(f"Records group columns must have {n} rows")

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, index: np.ndarray | Sequence[int] | slice) -> Records:
        """A new Records with the rows picked by an index array, boolean mask or slice."""
        if not isinstance(index, slice):
            index = np.asarray(index)
        pick = lambda a: None if a is None else np.asarray(a[index])  # noqa: E731
        return replace(
            self, ids=self.ids[index], labels=self.labels[index], splits=self.splits[index],
            sources=self.sources[index], faces=pick(self.faces), paths=pick(self.paths),
            votes=pick(self.votes), soft=pick(self.soft), masks=pick(self.masks), _digest=None,
            groups=None if self.groups is None else {k: v[index] for k, v in self.groups.items()},
        )

    def split(self, *names: str) -> Records:
        """The rows of the given splits (case-insensitive).

        Raises:
            FervizError: if no row belongs to them.
        """
        wanted = {n.lower() for n in names}
        mask = np.array([str(s).lower() in wanted for s in self.splits], dtype=bool)
        if not mask.any():
            have = ", ".join(sorted(set(map(str, self.splits)))) or "none"
            raise FervizError(f"split {', '.join(names)} is empty in {self.name or 'the data'} "
                              f"(splits present: {have})")
        out = self.select(np.flatnonzero(mask))
        if self.contempt is not None:
            out.contempt = self.contempt.within(names)
        return out

    def images(self) -> np.ndarray:
        """N x 48 x 48 uint8 faces, decoding ``paths`` once if needed (cached on disk)."""
        if self.faces is None:
            from .facecache import decode_faces

            self.faces = decode_faces(self.paths)
        return self.faces

    def digest(self) -> str:
        """A content hash of faces, labels and ids, used as the data key of caches."""
        if self._digest is None:
            h = hashlib.blake2b(digest_size=16)
            h.update(np.ascontiguousarray(self.images()).tobytes())
            h.update(self.labels.tobytes())
            h.update("\n".join(map(str, self.ids)).encode("utf-8", "surrogatepass"))
            if self.votes is not None:
                h.update(np.ascontiguousarray(self.votes).tobytes())
            for key, values in sorted((self.groups or {}).items()):
                h.update("\n".join([key, *map(str, values)]).encode())
            self._digest = h.hexdigest()
        return self._digest

    def frame(self) -> pd.DataFrame:
        """Per-face metadata as a DataFrame: id, split, source, label (and votes)."""
        import pandas as pd

        df = pd.DataFrame({
            "id": self.ids.astype(str), "split": self.splits.astype(str),
            "source": self.sources.astype(str),
            "label": [label_name(int(i)) for i in self.labels],
        })
        if self.votes is not None:
            for j, col in enumerate(FERPLUS_COLUMNS):
                df[f"votes_{col}"] = np.asarray(self.votes)[:, j].astype(np.int16)
        if self.soft is not None:
            for j, emo in enumerate(EMOTIONS):
                df[f"soft_{emo}"] = np.asarray(self.soft)[:, j].astype(np.float32)
        for key, values in (self.groups or {}).items():
            df[key] = pd.Series(values, dtype="string")
        return df

    def class_counts(self) -> dict[str, int]:
        """Faces per emotion (and 'unknown'), in :data:`EMOTIONS` order."""
        counts = {e: int((self.labels == i).sum()) for i, e in enumerate(EMOTIONS)}
        if (self.labels == CONTEMPT).any():
            counts["contempt"] = int((self.labels == CONTEMPT).sum())
        if (self.labels < 0).any():
            counts["unknown"] = int((self.labels < 0).sum())
        return counts


def concat(parts: Sequence[Records], name: str = "") -> Records:
    """Stack several Records (e.g. the faces of many photos) into one."""
    if not parts:
        raise FervizError("no faces to combine")
    def cat(attr: str) -> np.ndarray | None:
        cols = [getattr(p, attr) for p in parts]
        return None if any(c is None for c in cols) else np.concatenate(cols)
    faces = np.concatenate([p.images() for p in parts])
    keys = {tuple(sorted(p.groups or {})) for p in parts}
    groups = {k: np.concatenate([p.groups[k] for p in parts]) for k in keys.pop()} \
        if len(keys) == 1 and parts[0].groups else None
    return Records(ids=cat("ids"), labels=cat("labels"), splits=cat("splits"),
                   sources=cat("sources"), faces=faces, votes=cat("votes"), soft=cat("soft"),
                   masks=cat("masks"), name=name or parts[0].name, groups=groups)
