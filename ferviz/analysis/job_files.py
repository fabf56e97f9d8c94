"""The files of a sharded job's folder, read and checked in one place: ``_job.json`` (the
manifest), ``_summary.json`` and the part files. Whatever is wrong with one (not JSON, the
wrong shape, a newer version, a truncated part, a folder or a fifo in a file's place) is a
:class:`~ferviz.errors.FervizError` that names the file and says what is wrong. Nothing here
writes or deletes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import FervizError, regular_file, shown
from ..labels import EMOTIONS

MANIFEST = "_job.json"
SUMMARY = "_summary.json"
VERSION = 1  # of _job.json and _summary.json
BINS = 20  # confidence histogram bins over [0, 1]
MAX_BYTES = 16 << 20  # no job file is near this; a bigger one is not a job file
COUNT, POSITIVE = "a count", "a positive integer"  # ints >= 0 and >= 1 in a shape

# Shapes: a type; COUNT or POSITIVE; [shape] (a list of them); (n, shape) (a list of n);
# {key: shape} (an object holding at least these keys); {str: shape} (an object of any keys).
MANIFEST_SHAPE = {
    "version": POSITIVE,
    "job": {"model": {"model": str}, "data": {"data": str}, "methods": [str], "target": str,
            "tta": bool, "shard_size": POSITIVE},
    "rows": COUNT, "model_digest": str, "data_stamp": str, "layout": str, "engine": str,
    "shards": COUNT}
_K = len(EMOTIONS)
SUMMARY_SHAPE = {  # confusion: rows true emotion then unknown, columns predicted
    "rows": COUNT,
    "confusion": {str: (_K + 1, (_K, COUNT))},
    "confidence": {str: {"correct": (BINS, COUNT), "wrong": (BINS, COUNT)}},
    "regions": {str: {"regions": [str], "by_pred": (_K, [float]), "n": (_K, COUNT),
                      "flagged": COUNT}}}


class Damaged(FervizError):
    """A job file whose content is wrong (not JSON, the wrong shape, another version), as
    opposed to a folder or a fifo in its place."""


_NAMES = {str: "text", bool: "true or false", float: "a number", dict: "an object",
          list: "a list"}


def read_job_json(path: Path, shape: dict[Any, Any]) -> dict[str, Any]:
    """The JSON object in ``path`` (``_job.json`` or ``_summary.json``), checked against
    ``shape`` and the version this ferviz reads (absent: version 1).

    Raises:
        FervizError: naming the file: not a regular file; :class:`Damaged`: not JSON, not
            the given shape, or written by a newer ferviz.
    """
    what = f"{shown(path)} is damaged"
    regular_file(path, "job file")
    if path.is_dir():
        raise FervizError(f"{shown(path)} is a folder, not a job file")
    if path.stat().st_size > MAX_BYTES:
        raise Damaged(f"{what}: {path.stat().st_size:,} bytes, too large for a job file")
    try:
        d = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as e:  # JSONDecodeError and UnicodeDecodeError
        raise Damaged(f"{what}: not JSON ({e})") from e
    if isinstance(d, dict) and "version" in d and _problem(d["version"], POSITIVE, "") is None \
            and d["version"] > VERSION:
        raise Damaged(f"{shown(path)} was written by a newer ferviz (version {d['version']}; "
                      f"this one reads version {VERSION}); upgrade ferviz")
    problem = _problem(d, shape, "")
    if problem:
        raise Damaged(f"{what}: {problem}")
    return d


def _problem(value: Any, shape: Any, where: str) -> str | None:
    """What makes ``value`` (at ``where``) not of ``shape``, or None."""
    at = f"{where} " if where else ""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{at}should be an object, not {_kind(value)}"
        if str in shape:
            return next((p for k, v in value.items()
                         if (p := _problem(v, shape[str], f"{where}.{k}".lstrip(".")))), None)
        for key, sub in shape.items():
            name = f"{where}.{key}".lstrip(".")
            if key not in value:
                return f"no {name!r}"
            if p := _problem(value[key], sub, name):
                return p
        return None
    if isinstance(shape, (list, tuple)):
        n, sub = (None, shape[0]) if isinstance(shape, list) else shape
        if not isinstance(value, list):
            return f"{at}should be a list, not {_kind(value)}"
        if n is not None and len(value) != n:
            return f"{at}should hold {n} values, not {len(value)}"
        return next((p for i, v in enumerate(value) if (p := _problem(v, sub, f"{where}[{i}]"))),
                    None)
    if shape in (COUNT, POSITIVE):
        low = 1 if shape == POSITIVE else 0
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= low
    elif shape is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, shape)
    return None if ok else f"{at}should be {_NAMES.get(shape, shape)}, not {_kind(value)}"


def _kind(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The checked ``_job.json`` of ``folder``, or None when it has none.

    Raises:
        FervizError: a damaged manifest (see :func:`read_job_json`), or one whose shard count
            does not follow from its rows and shard size.
    """
    path = folder / MANIFEST
    if not os.path.lexists(path):
        return None
    m = read_job_json(path, MANIFEST_SHAPE)
    size = m["job"]["shard_size"]
    if m["shards"] != -(-m["rows"] // size):
        raise Damaged(f"{shown(path)} is damaged: {m['shards']} shards of {size} cannot hold "
                          f"{m['rows']} rows")
    return m


def read_summary(folder: Path, methods: list[str]) -> dict[str, Any]:
    """The checked ``_summary.json`` of ``folder``, a job of the given explanation methods.

    Raises:
        FervizError: a damaged summary (see :func:`read_job_json`), or one whose parts do not
            agree (splits without a histogram, a method without region shares).
    """
    path = folder / SUMMARY
    d = read_job_json(path, SUMMARY_SHAPE)
    problem = next((f"split {k!r} has no confidence histogram" for k in d["confusion"]
                    if k not in d["confidence"]), None) or \
        next((f"no region shares of method {m!r}" for m in methods if m not in d["regions"]),
             None) or \
        next((f"regions.{m}.by_pred rows should hold {len(r['regions'])} values"
              for m, r in d["regions"].items()
              if any(len(row) != len(r["regions"]) for row in r["by_pred"])), None)
    if problem:
        raise Damaged(f"{shown(path)} is damaged: {problem}")
    return d


def part_columns(methods: list[str] | tuple[str, ...]) -> list[str]:
    """The columns every part of a job of these explanation methods holds, among others."""
    return ["row", "id", "split", "label", "pred", "confidence", "margin", "entropy",
            *(["face"] if methods else []),
            *(f"{k}_{m}" for m in methods for k in ("map", "flags"))]


def part_present(path: Path, rows: int, columns: list[str]) -> bool:
    """Whether the part file ``path`` is there (False: absent), checked from its footer: the
    ``rows`` rows of its shard and at least the given columns.

    Raises:
        FervizError: naming the file: a folder, fifo or device, not a readable parquet file
            (truncated, overwritten), or a part of the wrong rows or columns.
    """
    import pyarrow.parquet as pq

    if not os.path.lexists(path):
        return False
    again = "; remove it and run the job's command again to compute that shard again"
    regular_file(path, "part file")
    if path.is_dir():
        raise FervizError(f"{shown(path)} is a folder, not a part file{again}")
    try:
        meta = pq.ParquetFile(path).metadata
        found, names = meta.num_rows, set(meta.schema.to_arrow_schema().names)
    except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
        raise FervizError(f"{shown(path)} is damaged (not a readable parquet file: "
                          f"{(str(e) or type(e).__name__).splitlines()[0][:120]}){again}") from e
    if found != rows:
        raise FervizError(f"{shown(path)} is damaged: {found:,} rows, but its shard has "
                          f"{rows:,}{again}")
    if lacking := [c for c in columns if c not in names]:
        raise FervizError(f"{shown(path)} is damaged: no column {lacking[0]!r}{again}")
    return True
