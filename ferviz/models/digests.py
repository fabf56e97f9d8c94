"""A model spec's weights digest (:meth:`FERModel.digest`), name and card info without loading
the model or importing torch: a small index in the cache, keyed by the spec, the files behind
it and their size and modification time, filled each time the spec is loaded."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..cache import atomic_path, cache_dir, read_cached
from . import zoo

if TYPE_CHECKING:
    from ..specs import ModelSpec
    from .fermodel import FERModel

VERSION = 1  # bump when FERModel.digest changes what it hashes


@dataclass(frozen=True)
class Known:
    """What the index remembers of a loaded spec."""

    digest: str
    name: str
    info: dict[str, Any] = field(default_factory=dict)


def _entry(ms: ModelSpec) -> Path:
    """The index file of a spec: changes with any option, the ferviz version, the zoo root
    (or the file's absolute path) and the size and mtime of the files behind the spec."""
    where = zoo.root() / ms.model if ms.is_zoo() else Path(ms.model).resolve()
    key = json.dumps([VERSION, __version__, ms.to_dict(), str(where), ms.stamp()],
                     sort_keys=True)
    name = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return cache_dir("models") / f"{name}.json"


def known(ms: ModelSpec) -> Known | None:
    """The remembered digest, name and info of ``ms``, or None (never loaded as it is now)."""
    if not ms.stamp():  # no such file: loading it gives the message
        return None
    return read_cached(_entry(ms), _read)


def _read(path: Path) -> Known:
    d = json.loads(path.read_text())
    if not (isinstance(d, dict) and isinstance(d.get("digest"), str)
            and isinstance(d.get("name"), str) and isinstance(d.get("info"), dict)):
        raise ValueError("not a digest index entry")
    return Known(d["digest"], d["name"], d["info"])


def remember(ms: ModelSpec, model: FERModel) -> None:
    """Record the digest, name and card info of ``model``, just loaded from ``ms``."""
    entry = {"digest": model.digest(), "name": model.card.name, "info": model.card.info}
    with atomic_path(_entry(ms)) as tmp:
        tmp.write_text(json.dumps(entry, default=str))
