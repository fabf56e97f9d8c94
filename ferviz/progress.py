"""One progress bar for every long step (parsing, predicting, training): tqdm on stderr,
drawn only on a terminal and only once a step has run about two seconds.

Silence it with ``quiet=True`` or the environment variable ``FERVIZ_QUIET=1`` (what the
``--quiet`` flag sets).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

DELAY = 2.0  # seconds before a bar appears: quick steps draw nothing


def is_quiet(quiet: bool | None = None) -> bool:
    """``quiet`` if given, else whether ``FERVIZ_QUIET`` is set to a true value."""
    if quiet is not None:
        return quiet
    return os.environ.get("FERVIZ_QUIET", "").strip().lower() not in ("", "0", "false", "no")


def progress(iterable: Iterable | None = None, desc: str = "", total: float | None = None,
             unit: str = "it", quiet: bool | None = None, **options: Any) -> tqdm:
    """A tqdm bar on stderr (wrapping ``iterable``, or updated by hand when it is None).

    Off when ``quiet`` (or ``FERVIZ_QUIET``) says so or stderr is not a terminal; drawn after
    :data:`DELAY` seconds. ``options`` go to tqdm (``unit_scale``, ``leave``...).
    """
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit=unit, file=sys.stderr,
                disable=True if is_quiet(quiet) else None, delay=DELAY, dynamic_ncols=True,
                **options)
