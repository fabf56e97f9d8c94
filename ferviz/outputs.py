"""Where results are written: checked before any work, never replaced without ``force``, and
never lost when the write itself fails."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import FervizError


def check_output(path: str | os.PathLike, force: bool = False) -> Path:
    """Make sure ``path`` can be written before the work that produces it starts: its folder
    is writable (or can be made in a writable folder: it is made when the output is written,
    so a refused or failed run leaves none behind), and ``path`` itself does not exist unless
    ``force``.

    Raises:
        FervizError: an existing output without ``force``, a folder in the way, or a folder
            that cannot be created or written.
    """
    path = Path(path)
    if path.is_dir():
        raise FervizError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise FervizError(f"{path} exists; use --force to overwrite it")
    folder = path.parent
    there = next((p for p in [folder, *folder.parents] if p.exists()), Path.cwd())
    if not there.is_dir():
        raise FervizError(f"cannot write to {folder}: {there} is a file, not a folder")
    try:
        with tempfile.NamedTemporaryFile(dir=there, prefix=".ferviz-check-"):
            pass
    except OSError as e:
        raise FervizError(f"cannot write to {folder}: {e.strerror or e}") from e
    return path


def write_or_keep(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(path)``; if that fails with an OS error (disk full, permissions changed,
    a folder removed meanwhile), write to a fallback file under the cache instead so finished
    work is not lost, and raise an error naming it.

    Raises:
        FervizError: the write failed (the message names where the result was kept).
    """
    try:
        write(path)
        return path
    except OSError as e:
        from .cache import cache_dir

        try:
            keep = cache_dir("unsaved") / path.name
            write(keep)
        except (OSError, FervizError):  # FervizError: the cache folder is unusable too
            raise FervizError(f"cannot write {path} ({e.strerror or e}), nor a copy "
                              "under the cache folder ($FERVIZ_CACHE/unsaved)") from e
        raise FervizError(f"cannot write {path} ({e.strerror or e}); the result was kept "
                          f"as {keep}") from e


@contextmanager
def new_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield ``folder``; if the block fails, remove the folders it created that are still
    empty (a refused or failed command leaves no empty output folder behind)."""
    folder = Path(folder)
    missing = [p for p in [folder, *folder.parents] if not p.exists()]
    try:
        yield folder
    except BaseException:
        for p in missing:  # deepest first
            try:
                p.rmdir()
            except OSError:  # not empty, or already gone
                break
        raise
