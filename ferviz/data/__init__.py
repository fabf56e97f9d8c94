"""Data sources; :func:`open_data` picks the right one from a spec string."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FervizError, shown
from .records import Records

SYNTH = "synth"


def open_data(spec: str | os.PathLike, split: str | None = None, labels: str = "fer2013",
              ferplus: str | os.PathLike | None = None, contempt: str = "merge",
              detect: str = "auto") -> Records:
    """Records from a spec: ``synth`` (the FER-Synth demo set), a fer2013 csv, an image
    folder, or one photo; optionally restricted to a split.

    Raises:
        FervizError: for unusable specs, files and empty splits.
    """
    from .fer2013 import check_labels

    check_labels(labels)
    if contempt not in ("merge", "drop"):
        raise FervizError(f"contempt must be 'merge' or 'drop', not {contempt!r}")
    spec = str(spec)
    if not spec.strip():
        raise FervizError("no data given: name a fer2013 csv, an image folder, a photo, or "
                          "'synth'")
    path = Path(spec)
    is_csv = any(path.name.lower().endswith(s) for s in (".csv", ".csv.gz", ".csv.xz"))
    if spec != SYNTH and not path.exists():
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
    elif path.is_dir():
        from .folders import load_folder

        records = load_folder(path, contempt=contempt)
    elif is_csv:
        from .fer2013 import load_fer2013

        return load_fer2013(path, splits=split, labels=labels, ferplus=ferplus,
                            contempt=contempt)
    else:
        from .photos import load_photo

        records = load_photo(path, detect=detect)
    return records.split(split) if split else records


__all__ = ["Records", "open_data"]
