"""Outputs under a full disk, a read-only folder and an unusable cache, and ``--max-frames``
on a good video: each through the ``ferviz`` command line, with one ``error:`` line, exit
code 2, nothing half-written at the destination and earlier outputs kept.

A full disk is simulated in a child process: ``RLIMIT_FSIZE`` caps every file it writes, and
with ``SIGXFSZ`` ignored a write past the cap fails with ``OSError(EFBIG)`` as on a full
disk. A read-only folder is made with ``chmod``; root ignores that, so as root the child runs
without ``CAP_DAC_OVERRIDE`` (``setpriv``), under which root's folder modes hold again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ferviz.video.synthclip import Actor, write_clip

LIMITED = """import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
cap = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))
from ferviz.cli import main
sys.argv[0] = "ferviz"
main()
"""


def ferviz(*args: object, cwd: Path, cap: int | None = None, drop_root: bool = False,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``ferviz ARGS`` in a child process, its files capped at ``cap`` bytes; ``drop_root``:
    without the capability that lets root write into read-only folders."""
    argv = [sys.executable, "-c", LIMITED, str(cap if cap is not None else -1),
            *map(str, args)]
    if drop_root and os.geteuid() == 0:
        argv = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", *argv]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {}), "PYTHONDONTWRITEBYTECODE": "1"})


def one_error(res: subprocess.CompletedProcess, *words: str) -> None:
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr and all(w in lines[0] for w in words), lines


def snapshot(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.blake2b(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if p.is_file()}


def full_disk(args: list[object], outputs: list[str], tmp: Path, cap: int, *words: str) -> None:
    """``ferviz ARGS`` writes ``outputs`` in ``tmp``; with every file capped at ``cap``
    bytes it fails in one line, writes none of them anew (nothing half-written, no leftover
    ``.part``) and, given ``--force``, keeps the ones written before byte for byte."""
    good = ferviz(*args, cwd=tmp)
    assert good.returncode == 0, good.stderr
    before = snapshot(tmp)
    assert set(outputs) <= set(before), sorted(before)
    res = ferviz(*args, "--force", cwd=tmp, cap=cap)
    one_error(res, *words)
    assert snapshot(tmp) == before and not [p for p in tmp.iterdir() if ".part" in p.name]
    for o in outputs:
        (tmp / o).unlink()
    res = ferviz(*args, cwd=tmp, cap=cap)
    one_error(res, *words)
    assert not [p.name for p in tmp.iterdir() if p.name in outputs or ".part" in p.name]


def clip(path: Path, n: int = 8) -> Path:
    return write_clip(path, [Actor(1, ("happy",), (0.5, 0.5), (0.5, 0.5))], n, (160, 120))


def test_predict_on_a_full_disk(tmp_path):
    full_disk(["predict", "-m", "fer_synth_cnn", "-d", "synth:60", "-o", "p.parquet"],
              ["p.parquet"], tmp_path, 2000, "cannot write p.parquet")


def test_photo_saliency_on_a_full_disk(tmp_path):
    from bad_input_files import png

    (tmp_path / "a.png").write_bytes(png())
    full_disk(["saliency", "a.png", "--no-detect", "-m", "fer_synth_cnn", "-o", "s.png"],
              ["s.png"], tmp_path, 4000, "File too large", "s.png")


@pytest.mark.parametrize("cap", [5000, 200_000])  # the video itself; a timeline
def test_video_saliency_on_a_full_disk_writes_all_or_nothing(tmp_path, cap):
    clip(tmp_path / "c.mp4")
    outs = ["v.mp4", "v.frames.parquet", "v.frames.csv", "v.timeline.html", "v.timeline.png"]
    full_disk(["saliency", "c.mp4", "-m", "fer_synth_cnn", "-o", "v.mp4"], outs, tmp_path,
              cap, "v.mp4" if cap < 10_000 else "v.timeline")


def test_ensemble_on_a_full_disk_leaves_no_folder(tmp_path):
    args = ["ensemble", "cs230_baseline", "cs230_five_layer", "-o", "ens"]
    good = ferviz(*args, cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    card = (tmp_path / "ens" / "card.json").read_bytes()
    one_error(ferviz(*args, "--force", cwd=tmp_path, cap=100), "File too large",
              "card.json")
    assert (tmp_path / "ens" / "card.json").read_bytes() == card
    assert os.listdir(tmp_path / "ens") == ["card.json"]
    one_error(ferviz(*args[:-1], "new/ens", cwd=tmp_path, cap=100), "File too large")
    assert not (tmp_path / "new").exists()


def test_local_explain_job_on_a_full_disk_keeps_no_half_part(tmp_path):
    args = ["explain", "-m", "fer_synth_cnn", "-d", "synth:40", "-x", "gradcam", "--engine",
            "local", "-o"]
    warm = ferviz(*args, "warm", cwd=tmp_path)  # the data's caches: only the job is capped
    assert warm.returncode == 0, warm.stderr
    args.append("job")
    one_error(ferviz(*args, cwd=tmp_path, cap=4000), "File too large")
    assert not [p for p in (tmp_path / "job").iterdir() if p.name.startswith(("part-",
                                                                              ".part-"))]
    again = ferviz(*args, cwd=tmp_path)  # the job resumes once there is room
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "job" / "part-00000.parquet").is_file()


@pytest.fixture
def read_only(tmp_path):
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        pytest.skip("as root without setpriv a read-only folder cannot be made")
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)


def test_saliency_into_a_read_only_folder(tmp_path, read_only):
    from bad_input_files import png

    for folder in (read_only, tmp_path):
        (folder / "a.png").write_bytes(png())
    clip(tmp_path / "c.mp4")
    read_only.chmod(0o555)
    for args in (["saliency", read_only / "a.png", "--no-detect"],
                 ["saliency", tmp_path / "a.png", "-o", read_only / "x.png"],
                 ["saliency", tmp_path / "c.mp4", "-o", read_only / "x.mp4"]):
        res = ferviz(*args, "-m", "fer_synth_cnn", cwd=tmp_path, drop_root=True)
        one_error(res, f"cannot write to {read_only}: Permission denied")
        assert sorted(os.listdir(read_only)) == ["a.png"]


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_an_unusable_cache_is_named(tmp_path, kind, request):
    cache = tmp_path / "cache"
    if kind == "file":
        cache.write_text("not a folder")
    else:
        request.getfixturevalue("read_only")
        cache = tmp_path / "ro"
        cache.chmod(0o555)
    res = ferviz("evaluate", "-m", "fer_synth_cnn", "-d", "synth:20", cwd=tmp_path,
                 drop_root=True, env={"FERVIZ_CACHE": str(cache)})
    one_error(res, f"the cache folder FERVIZ_CACHE={cache} cannot be written",
              "set FERVIZ_CACHE to a writable folder")


def test_max_frames_reads_the_first_frames_of_a_longer_video(tmp_path, run):
    import pandas as pd

    clip(tmp_path / "c.mp4", 20)
    res = run("saliency", tmp_path / "c.mp4", "-m", "fer_synth_cnn", "--max-frames", "12",
              "-o", tmp_path / "v.mp4")
    assert res.returncode == 0, res.stderr
    assert "note: read the first 12 of the 20 frames its header announces (--max-frames 12)" \
        in res.stdout
    table = pd.read_parquet(tmp_path / "v.frames.parquet")
    assert table["frame"].max() == 11
    import cv2

    assert int(cv2.VideoCapture(str(tmp_path / "v.mp4")).get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    full = run("saliency", tmp_path / "c.mp4", "-m", "fer_synth_cnn", "--max-frames", "50",
               "-o", tmp_path / "w.mp4")
    assert full.returncode == 0 and "note:" not in full.stdout, full.stdout
