"""Who is in each face: subject and sequence ids from known file-name schemes, a csv, or a
regular expression.

Known schemes (matched on the file name):

- CK+ ``S005_001_00000011.png``: subject ``S005``, sequence ``S005_001`` (frames of one
  posed expression);
- JAFFE ``KA.AN1.39.tiff``: subject ``KA`` (emotion from ``AN``; no sequences);
- KDEF ``AF01ANS.JPG``: subject ``F01`` (gender and number), sequence ``AF01AN`` (session,
  subject, expression: one posed expression shot from five angles), emotion from ``AN``;
- RaFD ``Rafd090_01_Caucasian_female_angry_frontal.jpg``: subject ``01``, sequence
  ``01_angry`` (one expression shot from five cameras and three gaze directions).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..errors import FervizError
from ..labels import canonical
from .records import Records

_KDEF = {"af": "fear", "an": "angry", "di": "disgust", "ha": "happy", "ne": "neutral",
         "sa": "sad", "su": "surprise"}
_SCHEMES = {
    "CK+": re.compile(r"^(?P<subject>S\d{3})_(?P<seq>\d{3})_\d+\.\w+$", re.I),
    "JAFFE": re.compile(r"^(?P<subject>[A-Za-z]{2})\.(?P<emotion>[A-Za-z]{2})\d*\.\d+\.\w+$"),
    "KDEF": re.compile(r"^(?P<session>[AB])(?P<subject>[FM]\d{2})(?P<emotion>AF|AN|DI|HA|NE|SA|SU)"
                       r"(?:S|HL|HR|FL|FR)\.\w+$", re.I),
    "RaFD": re.compile(r"^Rafd\d{3}_(?P<subject>\d{2,3})_[A-Za-z]+_[A-Za-z]+_(?P<emotion>[A-Za-z]+)"
                       r"_[A-Za-z]+\.\w+$", re.I),
}
MAX_GROUP_COLUMNS = 256  # a groups csv with more is refused before its rows are read
RESERVED = ("id", "split", "source", "label", "pred", "confidence", "margin", "entropy",
            "correct")


@dataclass(frozen=True)
class NameInfo:
    """What a known file-name scheme says about a face (None where it says nothing)."""

    scheme: str
    subject: str
    sequence: str | None
    emotion: str | None  # canonical emotion, 'contempt', or None


def _emotion(scheme: str, code: str) -> str | None:
    code = code.lower()
    if scheme == "KDEF":
        return _KDEF[code]
    if code in ("contempt", "contemptuous"):
        return "contempt"
    return canonical(code)


def parse_name(name: str) -> NameInfo | None:
    """Subject, sequence and emotion from a file name in a known scheme, else None."""
    for scheme, pattern in _SCHEMES.items():
        m = pattern.match(name)
        if not m:
            continue
        g = m.groupdict()
        emotion = _emotion(scheme, g["emotion"]) if g.get("emotion") else None
        if scheme == "JAFFE" and emotion is None:
            continue
        subject = g["subject"] if scheme == "RaFD" else g["subject"].upper()
        sequence = None
        if scheme == "CK+":
            sequence = f"{subject}_{g['seq']}"
        elif scheme == "KDEF":
            sequence = f"{g['session'].upper()}{subject}{g['emotion'].upper()}"
        elif scheme == "RaFD":
            sequence = f"{subject}_{g['emotion'].lower()}"
        return NameInfo(scheme, subject, sequence, emotion)
    return None


def name_groups(names: list[str]) -> dict[str, np.ndarray] | None:
    """``subject`` (and ``sequence``) columns parsed from file names; None if none parse."""
    infos = [parse_name(Path(n).name) for n in names]
    if not any(infos):
        return None
    out = {"subject": np.array([i.subject if i else None for i in infos], dtype=object)}
    if any(i and i.sequence for i in infos):
        out["sequence"] = np.array([i.sequence if i else None for i in infos], dtype=object)
    return out


def _check_names(columns: list[str], where: str) -> None:
    bad = [c for c in columns if c in RESERVED or c.startswith(("p_", "votes_", "soft_"))]
    if bad:
        raise FervizError(f"{where}: group column name(s) {', '.join(bad)} clash with ferviz's "
                          "own columns; rename them")


def _keys(records: Records) -> list[tuple[str, ...]]:
    """Ways a face may be named in a groups csv: its id, file name, or file stem."""
    return [(str(i), Path(str(i)).name, Path(str(i)).stem) for i in records.ids]


def groups_from_csv(records: Records, path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Group columns from a csv whose first column names faces (id, file name or stem).

    Raises:
        FervizError: unreadable file, no group columns, more than
            :data:`MAX_GROUP_COLUMNS`, duplicate ids, or no face matched.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FervizError(f"{path}: no such file")
    try:
        width = pd.read_csv(path, dtype=str, nrows=0).shape[1]
        if width - 1 > MAX_GROUP_COLUMNS:
            raise FervizError(f"{path}: {width - 1:,} group columns; a groups csv holds at most "
                              f"{MAX_GROUP_COLUMNS} (an id column, then one column per "
                              "grouping such as subject or sequence)")
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as e:
        raise FervizError(f"{path}: cannot read as a groups csv ({e})") from e
    if table.shape[1] < 2:
        raise FervizError(f"{path}: needs an id column and at least one group column")
    key, columns = table.columns[0], [str(c) for c in table.columns[1:]]
    _check_names(columns, str(path))
    if table[key].duplicated().any():
        dup = table[key][table[key].duplicated()].iloc[0]
        raise FervizError(f"{path}: id {dup!r} appears more than once")
    rows = {k: i for i, k in enumerate(table[key])}
    match = [next((rows[k] for k in keys if k in rows), -1) for keys in _keys(records)]
    if all(m < 0 for m in match):
        raise FervizError(f"{path}: no id matches a face; use face ids, file names or stems "
                          f"(e.g. {Path(str(records.ids[0])).name})")
    rows_of = np.array(match)
    out = {}
    for name, column in zip(columns, table.columns[1:]):
        values = np.append(table[column].to_numpy(object), "")[rows_of]  # -1: no row, ""
        values[values == ""] = None
        out[name] = values
    return out


def groups_from_regex(records: Records, pattern: str) -> dict[str, np.ndarray]:
    """Group columns from the named groups of a regular expression searched in each face id.

    Raises:
        FervizError: invalid pattern, no named group, or no face id matched.
    """
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise FervizError(f"--group-regex {pattern!r}: {e}") from e
    if not rx.groupindex:
        raise FervizError(f"--group-regex {pattern!r} has no named group, e.g. (?P<subject>...)")
    _check_names(list(rx.groupindex), "--group-regex")
    found = [rx.search(str(i)) for i in records.ids]
    if not any(found):
        raise FervizError(f"--group-regex {pattern!r} matches no face id (e.g. "
                          f"{records.ids[0]})")
    return {c: np.array([m.group(c) if m else None for m in found], dtype=object)
            for c in rx.groupindex}


def with_groups(records: Records, csv: str | os.PathLike | None = None,
                regex: str | None = None) -> Records:
    """Records with group columns from a csv and/or a regex added (they override parsed ones)."""
    extra = {}
    if csv is not None:
        extra.update(groups_from_csv(records, csv))
    if regex is not None:
        extra.update(groups_from_regex(records, regex))
    return replace(records, groups={**(records.groups or {}), **extra}, _digest=None) \
        if extra else records


def group_column(records: Records, column: str) -> np.ndarray:
    """One group column, every face's value.

    Raises:
        FervizError: if the column is unknown or some faces lack a value.
    """
    have = records.groups or {}
    if column not in have:
        raise FervizError(f"no {column!r} group for {records.name or 'these faces'} (groups: "
                          f"{', '.join(have) or 'none'}); give them with --groups or "
                          "--group-regex")
    values = have[column]
    missing = int(sum(v is None for v in values))
    if missing:
        raise FervizError(f"{missing} of {len(values)} faces have no {column}")
    return values


def one_frame_per_sequence(records: Records) -> Records:
    """The last face (in id order: CK+'s peak frame) of each sequence; faces outside any
    sequence are kept.

    Raises:
        FervizError: if the records have no sequence column.
    """
    if not records.groups or "sequence" not in records.groups:
        raise FervizError(f"{records.name or 'the data'} has no sequence ids to keep one frame "
                          "per sequence (known from CK+, KDEF and RaFD names, or --groups)")
    seq = records.groups["sequence"]
    last: dict[str, int] = {}
    for i in np.argsort(records.ids.astype(str), kind="stable"):
        if seq[i] is not None:
            last[seq[i]] = i
    keep = np.array(sorted({*last.values(), *np.flatnonzero([s is None for s in seq])}), int)
    return records.select(keep)
