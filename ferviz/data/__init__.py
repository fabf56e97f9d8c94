"""Data sources; :func:`open_data` picks the right one from a spec string."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FervizError, regular_file, shown
from .records import Records

SYNTH = "synth"
SYNTH_MAX = 2_000_000  # faces a synth:N set may have (about 4.6 GB of faces and masks)
BIG_SYNTH_SEED = 11  # seed of ``synth:N`` sets (never shared with the demo set's splits)


def synth_size(spec: str) -> int | None:
    """N of a ``synth:N`` spec (N FER-Synth faces, one split ``test``), else None.

    Raises:
        FervizError: ``synth:`` followed by anything but a positive number.
    """
    if not spec.startswith(f"{SYNTH}:"):
        return None
    n = spec.removeprefix(f"{SYNTH}:").replace("_", "")
    if not n.isascii() or not n.isdigit() or int(n[:20]) < 1:
        raise FervizError(f"{shown(spec)[:40]!r}: write synth:N with N a positive number of "
                          "faces")
    if len(n) > 12 or int(n) > SYNTH_MAX:
        raise FervizError(f"synth:{n[:20]}: at most {SYNTH_MAX:,} FER-Synth faces")
    return int(n)


def open_data(spec: str | os.PathLike, split: str | None = None, labels: str = "fer2013",
              ferplus: str | os.PathLike | None = None, contempt: str | None = None,
              detect: str = "auto", groups: str | os.PathLike | None = None,
              group_regex: str | None = None, confine: bool = False) -> Records:
    """Records from a spec: ``synth`` (the FER-Synth demo set), ``synth:N`` (N FER-Synth
    faces), a fer2013 csv, an image folder, or one photo; optionally restricted to a split.

    Args:
        contempt: ``merge``, ``drop`` or ``keep`` (see :mod:`ferviz.data.contempt`); None
            picks the source's default (FER+ votes: merge, image folders: drop).
        groups: a csv naming faces (id, file name or stem) with group columns.
        group_regex: a regular expression whose named groups become group columns.
        confine: an image folder's links that lead outside it are skipped (the dashboard).

    Raises:
        FervizError: for unusable specs, files and empty splits.
    """
    from .contempt import policy
    from .fer2013 import check_labels

    check_labels(labels)
    if contempt is not None:
        policy(contempt, "folder")  # validates it for every source
    spec = str(spec)
    if not spec.strip():
        raise FervizError("no data given: name a fer2013 csv, an image folder, a photo, or "
                          "'synth'")
    big = synth_size(spec)
    path = Path(spec)
    if big is None and spec != SYNTH:
        regular_file(path, "data file")
    is_csv = any(path.name.lower().endswith(s) for s in (".csv", ".csv.gz", ".csv.xz"))
    if spec != SYNTH and big is None and not path.exists():
        raise FervizError(f"{shown(spec)}: no such file or folder (or use 'synth' for the "
                          "demo set)")
    if not (is_csv and path.is_file()):
        if labels != "fer2013":
            raise FervizError(f"label mode {labels} needs a fer2013 csv and its FER+ votes; "
                              f"{shown(spec)} carries its own labels (use --labels fer2013)")
        if ferplus is not None:
            raise FervizError("FER+ votes join a fer2013 csv only, not "
                              f"{shown(spec)}")
    if spec == SYNTH:
        from .synth import synth_splits

        records = synth_splits()
    elif big is not None:
        from .synth import load_synth

        records = load_synth(big, seed=BIG_SYNTH_SEED)
    elif path.is_dir():
        from .folders import load_folder

        records = load_folder(path, contempt=contempt, confine=confine)
    elif is_csv:
        from .fer2013 import load_fer2013

        records = load_fer2013(path, splits=split, labels=labels, ferplus=ferplus,
                               contempt=contempt)
        split = None
    else:
        from .photos import load_photo

        records = load_photo(path, detect=detect)
    if groups is not None or group_regex is not None:
        from .groups import with_groups

        records = with_groups(records, groups, group_regex)
    return records.split(split) if split else records


def open_grouped(spec: str, split: str | None = None, labels: str = "fer2013",
                 ferplus: str | os.PathLike | None = None, contempt: str | None = None,
                 groups: str | os.PathLike | None = None, group_regex: str | None = None,
                 one_per_sequence: bool = False, confine: bool = False) -> Records:
    """:func:`ferviz.data.open_data` for scoring and training on the 7 emotions: group
    columns added, optionally one frame per sequence, and contempt labels refused.

    Raises:
        FervizError: as open_data, plus faces labelled contempt (``contempt="keep"``).
    """
    from .contempt import require_seven
    from .groups import one_frame_per_sequence

    records = open_data(spec, split=split, labels=labels, ferplus=ferplus, contempt=contempt,
                        groups=groups, group_regex=group_regex, confine=confine)
    if one_per_sequence:
        records = one_frame_per_sequence(records)
    require_seven(records.labels)
    return records


__all__ = ["Records", "open_data", "open_grouped"]
