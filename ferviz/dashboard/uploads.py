"""Uploaded files: size limits, and where they are kept (by content, under the cache)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ..errors import FervizError


def upload_path(data: bytes, name: str, folder: Path) -> Path:
    """Where an uploaded file is kept: ``folder/<content hash>/<sanitised name>``, written
    once (two sessions uploading the same bytes share it, different bytes never clash)."""
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "upload"
    path = folder / digest / safe[-80:]
    if not path.is_file():
        from ..cache import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return path


def check_upload_size(size: int, limit_mb: float) -> None:
    """Raises FervizError when an upload is larger than ``limit_mb`` megabytes (the
    ``server.maxUploadSize`` setting)."""
    if size > limit_mb * 1024 * 1024:
        raise FervizError(f"the file is {size / 1024 / 1024:.1f} MB; the upload limit is "
                          f"{limit_mb:g} MB (server.maxUploadSize in .streamlit/config.toml)")
    if size == 0:
        raise FervizError("the file is empty (0 bytes)")
