"""The one prediction path of every view: records decoded, the (cached) predictions table
with progress and cancel hooks, its cost measured, and tables read and written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..errors import FervizError
from ..outputs import check_output
from ..specs import DataSpec, ModelSpec

if TYPE_CHECKING:
    import pandas as pd

    from ..data.records import Records
    from ..models.fermodel import FERModel


def opened(ds: DataSpec) -> Records:
    """The spec's faces, decoded now: bad data fails before a model is loaded (and torch
    imported)."""
    records = ds.open()
    records.images()
    return records


def predictions(model: FERModel, records: Records, tta: bool = False,
                on_batch: Callable[[int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> pd.DataFrame:
    """The (cached) predictions table of a loaded model on records: the one prediction path
    of every view (``on_batch(done)`` follows it; ``cancelled()``, checked between batches,
    stops it with :class:`ferviz.errors.Cancelled`, caching nothing)."""
    from ..predict import predict

    return predict(model, records, tta=tta, on_batch=on_batch, cancelled=cancelled,
                   progress=False if on_batch else None)


def predicted(model: FERModel, records: Records, tta: bool = False) -> bool:
    """Whether the predictions table is already cached (no model work to wait for)."""
    from ..predict import cache_path

    return cache_path(model, records, tta).is_file()


def seconds_per_face(model: FERModel, tta: bool = False) -> float:
    """Measured: one pass over 256 faces in one batch, as the real run batches them (all 10
    views with TTA: augmenting costs too), per face. (32 faces overestimated tenfold: a small
    batch costs mostly overhead.)"""
    import time

    import numpy as np

    from ..predict import predict_proba

    x = np.zeros((256, 48, 48), np.uint8)
    predict_proba(model, x[:32], tta, progress=False)  # warm up
    t = time.perf_counter()
    predict_proba(model, x, tta, progress=False)
    return (time.perf_counter() - t) / len(x)


def predict_to_file(ms: ModelSpec, ds: DataSpec, out: Path, tta: bool, force: bool) -> int:
    """Write the predictions table as parquet; returns its number of rows."""
    from ..outputs import write_or_keep
    from ..predict import save_table

    check_output(out, force)
    records = opened(ds)
    df = predictions(ms.load(), records, tta)
    write_or_keep(out, lambda path: save_table(df, path))
    return len(df)


def read_table(path: Path) -> pd.DataFrame:
    """A predictions table from parquet."""
    import pandas as pd

    if not path.is_file():
        raise FervizError(f"{path}: no such file")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as e:
        raise FervizError(f"{path}: not a readable parquet table ({e})") from e
