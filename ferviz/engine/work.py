"""The unit of work of every engine: one shard of faces -> one part file.

:class:`ShardWorker` is the same code in the single-process engine and as a Ray actor (which
loads the model once and computes many shards), so both engines write identical parts.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..analysis.parts import part_name
from ..cache import atomic_path
from .job import Job, Shard

if TYPE_CHECKING:
    import pyarrow as pa

    from ..data.records import Records
    from ..models.fermodel import FERModel

LAYOUTS = ("contiguous", "channels_last")


def compute(model: FERModel, records: Records, start: int, job: Job, layout: str) -> pa.Table:
    """The part of ``records`` (rows ``start``...): the predictions table with a ``row``
    column and, per explanation method, the maps, their region shares and flags (and the
    faces the maps are drawn on)."""
    import pyarrow as pa
    import torch

    from ..predict import predict_proba, table

    faces = records.images()
    memory = torch.channels_last if layout == "channels_last" else torch.contiguous_format
    probs = predict_proba(model, faces, job.tta, progress=False, layout=memory)
    df = table(records, probs)
    df.insert(0, "row", np.arange(start, start + len(df), dtype=np.int64))
    part = pa.Table.from_pandas(df, preserve_index=False)
    if job.methods:
        part = part.append_column("face", _fixed(np.asarray(faces)))
    for method in job.methods:
        for name, column in explained(model, records, method, job.target).items():
            part = part.append_column(name, column)
    return part


def explained(model: FERModel, records: Records, method: str, target: str
              ) -> dict[str, pa.Array]:
    """``map_<method>`` (float16), ``share_<method>_<region>`` (``other`` = off the face) and
    ``flags_<method>`` columns of one method's maps."""
    import pyarrow as pa

    from ..explain import explain

    maps = explain(model, records, target=target, method=method, progress=False, cache=False)
    ev = maps.evidence()
    cols = {f"map_{method}": _fixed(maps.maps.astype(np.float16))}
    for j, region in enumerate(ev.regions):
        cols[f"share_{method}_{region}"] = pa.array(ev.shares[:, j].astype(np.float32))
    cols[f"flags_{method}"] = pa.array([",".join(f) for f in ev.flags])
    return cols


def _fixed(a: np.ndarray) -> pa.Array:
    """N x H x W -> a fixed-size list column of H*W values."""
    import pyarrow as pa

    flat = np.ascontiguousarray(a).reshape(len(a), -1)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), flat.shape[1])


def write_part(folder: Path, index: int, part: pa.Table) -> None:
    """Write part ``index`` atomically (a retried shard replaces only its own file)."""
    import pyarrow.parquet as pq

    with atomic_path(folder / part_name(index)) as tmp:
        pq.write_table(part, tmp, row_group_size=len(part) or None)


class ShardWorker:
    """Computes and writes shards of one job, keeping the model and the data open between
    shards. As a Ray Data callable class it is called with batches of shards."""

    def __init__(self, job: dict[str, Any], layout: str, folder: str,
                 model: FERModel | None = None, records: Records | None = None) -> None:
        self.job, self.layout, self.folder = Job.from_dict(job), layout, Path(folder)
        self.model = model or self.job.model.load()
        self.records = records if records is not None else self.job.data.open()

    def run(self, shard: Shard) -> float:
        """Compute and write one shard; returns the seconds it took."""
        start = time.perf_counter()
        rows = self.records.select(slice(shard.start, shard.stop))
        if rows.faces is None:  # image files: this shard's only, past the shared cache
            from ..data.facecache import decode_faces

            rows.faces = decode_faces(rows.paths, quiet=True, cache=False)
        write_part(self.folder, shard.index, compute(self.model, rows, shard.start, self.job,
                                                     self.layout))
        return time.perf_counter() - start

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shards = [Shard(int(i), int(a), int(b))
                  for i, a, b in zip(batch["index"], batch["start"], batch["stop"])]
        seconds = [self.run(s) for s in shards]
        return {"index": np.array([s.index for s in shards]),
                "rows": np.array([s.rows for s in shards]), "seconds": np.array(seconds)}
