"""Data sources; :func:`open_data` picks the right one from a spec string."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FervizError
from .records import Records

SYNTH = "synth"


def open_data(spec: str | os.PathLike, split: str | None = None, labels: str = "fer2013",
              ferplus: str | os.PathLike | None = None, contempt: str | None = None,
              detect: str = "auto", groups: str | os.PathLike | None = None,
              group_regex: str | None = None) -> Records:
    """Records from a spec: ``synth`` (the FER-Synth demo set), a fer2013 csv, an image
    folder, or one photo; optionally restricted to a split.

    Args:
        contempt: ``merge``, ``drop`` or ``keep`` (see :mod:`ferviz.data.contempt`); None
            picks the source's default (FER+ votes: merge, image folders: drop).
        groups: a csv naming faces (id, file name or stem) with group columns.
        group_regex: a regular expression whose named groups become group columns.

    Raises:
        FervizError: for unusable specs, files and empty splits.
    """
    from .contempt import policy

    if contempt is not None:
        policy(contempt, "folder")  # validates it for every source
    spec = str(spec)
    if spec == SYNTH:
        from .synth import synth_splits

        records = synth_splits()
    else:
        path = Path(spec)
        if path.is_dir():
            from .folders import load_folder

            records = load_folder(path, contempt=contempt)
        elif path.is_file() and any(path.name.lower().endswith(s) for s in
                                    (".csv", ".csv.gz", ".csv.xz")):
            from .fer2013 import load_fer2013

            records = load_fer2013(path, splits=split, labels=labels, ferplus=ferplus,
                                   contempt=contempt)
            split = None
        elif path.is_file():
            from .photos import load_photo

            records = load_photo(path, detect=detect)
        else:
            raise FervizError(f"{spec}: no such file or folder (or use 'synth' for the demo set)")
    if groups is not None or group_regex is not None:
        from .groups import with_groups

        records = with_groups(records, groups, group_regex)
    return records.split(split) if split else records


def open_grouped(spec: str, split: str | None = None, labels: str = "fer2013",
                 ferplus: str | os.PathLike | None = None, contempt: str | None = None,
                 groups: str | os.PathLike | None = None, group_regex: str | None = None,
                 one_per_sequence: bool = False) -> Records:
    """:func:`ferviz.data.open_data` for scoring and training on the 7 emotions: group
    columns added, optionally one frame per sequence, and contempt labels refused.

    Raises:
        FervizError: as open_data, plus faces labelled contempt (``contempt="keep"``).
    """
    from .contempt import require_seven
    from .groups import one_frame_per_sequence

    records = open_data(spec, split=split, labels=labels, ferplus=ferplus, contempt=contempt,
                        groups=groups, group_regex=group_regex)
    if one_per_sequence:
        records = one_frame_per_sequence(records)
    require_seven(records.labels)
    return records


__all__ = ["Records", "open_data", "open_grouped"]
