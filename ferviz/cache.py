"""The on-disk cache folder, atomic writes, and recovery from damaged or half-written files."""

from __future__ import annotations

import glob
import hashlib
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TypeVar

T = TypeVar("T")
PART = ".part"
STALE_SECONDS = 3600  # a .part file without a live writer's pid is stale after this long
# What reading a truncated or overwritten cache file raises (pyarrow's ArrowInvalid and
# json's JSONDecodeError are ValueErrors; np.load raises all of these).
DAMAGED = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


_WRITABLE: set[Path] = set()  # cache folders found writable by this process


def cache_dir(sub: str = "") -> Path:
    """``$FERVIZ_CACHE`` (default ``~/.cache/ferviz``), created on demand; half-written files
    left there by killed writers are removed.

    Raises:
        FervizError: the folder cannot be created or written (``FERVIZ_CACHE`` names a file,
            a read-only folder...): ferviz does not run without its cache.
    """
    from .errors import FervizError, shown

    given = os.environ.get("FERVIZ_CACHE")
    root = Path(given or Path.home() / ".cache" / "ferviz")
    path = root / sub if sub else root
    try:
        path.mkdir(parents=True, exist_ok=True)
        if path not in _WRITABLE:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".ferviz-check-"):
                pass
    except OSError as e:
        where = f"FERVIZ_CACHE={shown(given)}" if given else \
            f"{shown(root)} (the default; FERVIZ_CACHE is not set)"
        raise FervizError(f"the cache folder {where} cannot be written "
                          f"({e.strerror or e}: {shown(e.filename or path)}); set "
                          "FERVIZ_CACHE to a writable folder") from e
    _WRITABLE.add(path)
    remove_stale_parts(path)
    return path


def _writer_alive(part: Path) -> bool:
    """Whether the process that is writing ``part`` may still run (pid in the name)."""
    fields = part.name[:-len(PART)].split(".")
    pid = fields[-2] if len(fields) >= 3 else ""
    if pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except OSError:  # PermissionError: a live process of another user
            return True
        return True
    try:  # an older name without a pid: judge by age
        return time.time() - part.stat().st_mtime < STALE_SECONDS
    except OSError:
        return True


def remove_stale_parts(folder: Path, name: str = "") -> None:
    """Delete ``.<name>.*.part`` files in ``folder`` (any name by default) whose writer is
    gone, e.g. after a kill -9."""
    try:
        parts = list(folder.glob(f".{glob.escape(name)}*{PART}"))
    except OSError:
        return
    for part in parts:
        if not _writer_alive(part):
            try:
                part.unlink()
            except OSError:
                pass


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(target.parent, target.name + ".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=PART,
                               dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask)  # after writing: some writers replace the file
        os.replace(tmp, target)
    except OSError as e:  # a full disk: name the file the user knows, not the .part
        if e.filename is None or e.filename == tmp:
            e.filename = str(target)
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write(target: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` and move the result over ``target`` atomically."""
    with atomic_path(target) as tmp:
        write(tmp)
    return Path(target)


def read_cached(path: Path, read: Callable[[Path], T]) -> T | None:
    """``read(path)``, or None when the cache file is absent or damaged. A damaged file is
    deleted with a one-line note on stderr, so the caller rebuilds it."""
    if not path.is_file():
        return None
    try:
        return read(path)
    except DAMAGED as e:
        print(f"note: damaged cache file {path} ({type(e).__name__}); rebuilding it",
              file=sys.stderr)
        path.unlink(missing_ok=True)
        return None


def file_hash(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """blake2b-128 of a file's bytes."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
