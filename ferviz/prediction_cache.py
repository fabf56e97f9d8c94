"""Where predictions tables are cached, and reading and writing them: no torch, so a model
spec's cached predictions are found without loading the model (see
:mod:`ferviz.models.digests`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from .cache import atomic_path, cache_dir, read_cached
from .models.digests import Known, known
from .table import PROBS

if TYPE_CHECKING:
    import pandas as pd

    from .data.records import Records
    from .specs import ModelSpec


def table_path(model_digest: str, records_digest: str, tta: bool = False) -> Path:
    """The cache file of a model's predictions (by weights digest) on records (by digest)."""
    key = hashlib.blake2b(json.dumps([model_digest, records_digest, tta, 1]).encode(),
                          digest_size=16).hexdigest()
    return cache_dir("predictions") / f"{key}.parquet"


def read_table(path: Path, rows: int) -> pd.DataFrame | None:
    """The cached table at ``path`` if it holds ``rows`` rows of predictions; None when it is
    absent (a damaged file is removed with a note, see :func:`ferviz.cache.read_cached`)."""
    return read_cached(path, lambda p: _checked(p, rows))


def _checked(path: Path, rows: int) -> pd.DataFrame:
    import pandas as pd

    df = pd.read_parquet(path)
    if len(df) != rows or not set(PROBS) <= set(df.columns):
        raise ValueError(f"holds {len(df)} rows, not the {rows} predicted")
    return df


def save_table(df: pd.DataFrame, path: str | Path) -> None:
    """Write a predictions table as parquet, atomically."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)


def cached(ms: ModelSpec, records: Records, tta: bool = False
           ) -> tuple[Known, pd.DataFrame] | None:
    """The spec's model (as the digest index knows it) and its cached predictions on
    ``records``, or None when either is not cached as the files are now."""
    model = known(ms)
    df = None if model is None else read_table(
        table_path(model.digest, records.digest(), tta), len(records))
    return None if df is None else (model, df)
