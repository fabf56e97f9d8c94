"""Data sources; :func:`open_data` picks the right one from a spec string."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import FervizError
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
    spec = str(spec)
    if spec == SYNTH:
        from .synth import synth_splits

        records = synth_splits()
    else:
        path = Path(spec)
        if path.is_dir():
            from .folders import load_folder

            records = load_folder(path, contempt="drop" if contempt == "drop" else "merge")
        elif path.is_file() and any(path.name.lower().endswith(s) for s in
                                    (".csv", ".csv.gz", ".csv.xz")):
            from .fer2013 import load_fer2013

            return load_fer2013(path, splits=split, labels=labels, ferplus=ferplus,
                                contempt=contempt)
        elif path.is_file():
            from .photos import load_photo

            records = load_photo(path, detect=detect)
        else:
            raise FervizError(f"{spec}: no such file or folder (or use 'synth' for the demo set)")
    return records.split(split) if split else records


__all__ = ["Records", "open_data"]
