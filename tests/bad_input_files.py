"""The bad-input corpus: its case type, the list the cases are appended to, and makers of
tiny broken files (built at test time). The cases are in bad_input_cases.py, the runner in
test_bad_inputs.py.

To add a case, append to CASES: ``add(expected text, "ferviz arguments", {file: content})``.
In the arguments ``{d}`` is the case's own folder; a file's content is bytes, text, or a
function that writes the file at the path it is given. Cases run in-process through the
command's entry point; ``process=True`` (a case that could block, such as a fifo) and a
sample of the others run through the installed console script.

A few cases are inputs that must work despite looking broken (a job with a part missing):
``ok=check`` makes the case one that exits 0 with the expected text on stderr (a warning)
and ``check(folder)`` returning None (else what is wrong with the result).
"""

from __future__ import annotations

import atexit
import io
import json
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

Content = bytes | str | Callable[[Path], None]
Check = Callable[[Path], "str | None"]


@dataclass(frozen=True)
class Case:
    expect: str
    argv: tuple[str, ...]
    files: dict[str, Content] = field(default_factory=dict)
    process: bool = False
    ok: Check | None = None


CASES: list[Case] = []


def add(expect: str, args: str, files: dict[str, Content] | None = None,
        process: bool = False, ok: Check | None = None) -> None:
    CASES.append(Case(expect, tuple(shlex.split(args)), files or {}, process, ok))


def fifo(path: Path) -> None:
    """A named pipe (reading it blocks until someone writes)."""
    import os

    os.mkfifo(path)


# ---------------------------------------------------------------- file makers
def fer_csv(rows: int = 3, pixels: str | None = None, emotion: str = "3",
            usage: str = "Training", header: str = "emotion,pixels,Usage",
            sep: str = ",") -> bytes:
    """A tiny fer2013.csv whose second line carries the given (bad) fields."""
    g = np.random.default_rng(rows)
    lines = [header]
    for k in range(rows):
        px = " ".join(map(str, g.integers(0, 256, 2304)))
        split = ("Training", "PublicTest", "PrivateTest")[k % 3]
        lines.append(sep.join([emotion, pixels if pixels is not None else px, usage])
                     if k == 0 else sep.join([str(k % 7), px, split]))
    return ("\n".join(lines) + "\n").encode()


GOOD = fer_csv()
SYNTH_CSV = fer_csv(6)


def png(size: tuple[int, int] = (48, 48), mode: str = "L") -> bytes:
    """A noise image (it does not compress to a few bytes)."""
    shape = size[::-1] + ((3,) if mode == "RGB" else ())
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)).save(
        buf, format="PNG")
    return buf.getvalue()


def ferplus(rows: int = 3, row: str | None = None, header: str | None = None) -> bytes:
    head = header or ("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,"
                      "fear,contempt,unknown,NF")
    lines = [head] + [row if (k == 0 and row) else f"Training,fer{k:07d}.png,4,6,0,0,0,0,0,0,0,0"
                      for k in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def torch_save(make: Callable[[], object]) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import torch

        torch.save(make(), path)
    return write


def state_dict(arch: str) -> Callable[[Path], None]:
    def make():
        from ferviz.models.registry import create_model

        return create_model(arch)[0].state_dict()
    return torch_save(make)


def exits_on_unpickle(path: Path) -> None:
    import pickle

    class Exit:
        def __reduce__(self):
            return (sys.exit, (3,))
    path.write_bytes(pickle.dumps(Exit(), protocol=2))


def zipped(files: dict[str, bytes]) -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


NET = """import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        s = x.mean((1, 2, 3))[:, None].repeat(1, 7) * 4 - 2  # logits, some negative
        return {out}
"""
EMPTY_PT = torch_save(dict)  # a state dict of a network without weights


def net(out: str) -> dict[str, Content]:
    """A user architecture whose forward returns ``out`` (``s`` is a valid N x 7 output)."""
    return {"net.py": NET.format(out=out), "w.pt": EMPTY_PT}


def bomb(path: Path) -> None:
    Image.new("1", (8000, 8000)).save(path)  # 64 million pixels in a few kB


# Command prefixes: data is opened (and fails) before the model is loaded.
EV = "evaluate -m fer_synth_cnn -d"
PR = "predict -m fer_synth_cnn -o {d}/out.parquet -d"
MD = "evaluate -d synth --split val -m"
TR = "train --arch synth_cnn -o {d}/run"


# ---------------------------------------------------------------- sharded job folders
JOB_ROWS, JOB_SHARD = 250, 100  # three parts: 100, 100 and 50 faces
JOB_ARGS = f"-m fer_synth_cnn -d synth:{JOB_ROWS} --shard-size {JOB_SHARD}"
_FINISHED: list[Path] = []


def finished_job() -> Path:
    """A finished job folder written once by the real local engine (the cases copy it): the
    job of ``ferviz predict JOB_ARGS --engine local``."""
    if not _FINISHED:
        from ferviz.app.sharded import run
        from ferviz.specs import DataSpec, ModelSpec

        root = Path(tempfile.mkdtemp(prefix="ferviz-corpus-job-"))
        atexit.register(shutil.rmtree, root, True)
        run(ModelSpec("fer_synth_cnn"), DataSpec(f"synth:{JOB_ROWS}"), root / "job",
            shard_size=JOB_SHARD)
        _FINISHED.append(root / "job")
    return _FINISHED[0]


def job(damage: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """A copy of the finished job at the case's path, then ``damage(folder)``."""
    def write(path: Path) -> None:
        shutil.copytree(finished_job(), path)
        if damage is not None:
            damage(path)
    return write


def put(name: str, content: Content) -> Callable[[Path], None]:
    """Damage: the job's file ``name`` replaced by ``content`` (bytes, text or a maker)."""
    def damage(folder: Path) -> None:
        path = folder / name
        path.unlink()
        if callable(content):
            content(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
    return damage


def edit(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    """Damage: the job's JSON file ``name`` changed by ``change(its object)``."""
    def damage(folder: Path) -> None:
        d = json.loads((folder / name).read_text())
        change(d)
        (folder / name).write_text(json.dumps(d))
    return damage


def truncated(name: str, size: int = 500) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes()[:size])
    return damage


def removed(*names: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        for name in names:
            (folder / name).unlink()
    return damage


def folder(path: Path) -> None:
    path.mkdir()


def other_columns(path: Path) -> None:
    """A readable parquet file of the right rows (50) and none of a part's columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": list(range(JOB_ROWS % JOB_SHARD))}), path)


def job_table(folder: Path):
    import pandas as pd

    return pd.read_parquet(folder).sort_values("row").reset_index(drop=True)


def started_over(path: Path) -> str | None:
    """Check of a --force run: a readable manifest and exactly the finished job's table."""
    import pandas as pd

    from ferviz.analysis.job_files import read_manifest

    job_folder = path / "job"
    m = read_manifest(job_folder)
    if m is None or m["rows"] != JOB_ROWS:
        return f"manifest {m}"
    try:
        pd.testing.assert_frame_equal(job_table(job_folder), job_table(finished_job()))
    except AssertionError as e:
        return f"not the job's table: {e}"
    return None


def report_covers(rows: int) -> Check:
    """Check of a job report: written, and saying it covers ``rows`` faces of the job's."""
    def check(path: Path) -> str | None:
        html = path / "r.html"
        text = f"this report covers {rows:,} of its {JOB_ROWS:,} faces"
        return None if html.is_file() and text in html.read_text() else f"no {text!r}"
    return check
