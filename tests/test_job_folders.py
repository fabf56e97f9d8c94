"""Job folders that were damaged or cut short after the job ran: a resumed run never replaces
or deletes a finished part, ``--force`` starts a damaged job over, a report of a job with a
part missing says what it leaves out, a dead Ray address fails at once, and a
KeyboardInterrupt from a user's file is that file's failure while a real Ctrl-C still stops
ferviz. The single bad inputs (each damaged file) are in the bad-input corpus
(bad_input_cases.py); these are the behaviours around them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from ferviz.analysis.job_files import read_manifest
from ferviz.analysis.parts import MANIFEST, SUMMARY, Parts, part_name
from ferviz.app import sharded
from ferviz.errors import FervizError
from ferviz.specs import DataSpec, ModelSpec

MODEL, DATA = ModelSpec("fer_synth_cnn"), DataSpec("synth:250")
SHARD = 100  # parts of 100, 100 and 50 faces


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished job written by the local engine (tests work on copies)."""
    out = tmp_path_factory.mktemp("finished") / "job"
    r = sharded.run(MODEL, DATA, out, shard_size=SHARD)
    assert (r.state, r.rows, r.computed) == ("new", 250, 3)
    return out


@pytest.fixture
def job(finished, tmp_path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / "job"))


def run(folder: Path, force: bool = False):
    return sharded.run(MODEL, DATA, folder, shard_size=SHARD, force=force)


def table(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).sort_values("row").reset_index(drop=True)


def files(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Each entry's inode, modification time and content hash (of files)."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns,
                     hashlib.blake2b(p.read_bytes()).hexdigest() if p.is_file() else "")
            for p in sorted(folder.iterdir())}


def ferviz(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(sysconfig.get_path("scripts")) / "ferviz"
    exe = str(script) if script.is_file() else shutil.which("ferviz")
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "FERVIZ_QUIET": "1"})


# ---------------------------------------------------------------- resuming and --force
def test_a_resumed_run_computes_only_absent_parts_and_touches_no_finished_one(job, finished):
    (job / part_name(1)).unlink()
    kept = {k: v for k, v in files(job).items() if k.startswith("part-")}
    r = run(job)
    assert (r.state, r.computed, r.skipped) == ("resumed", 1, 2)
    now = files(job)
    assert all(now[name] == stat for name, stat in kept.items())  # not even rewritten
    pd.testing.assert_frame_equal(table(job), table(finished), check_exact=True)


def test_a_damaged_part_is_kept_and_named_and_removing_it_as_told_recomputes_it(job, finished):
    part = job / part_name(1)
    part.write_bytes(part.read_bytes()[:700])  # truncated
    before = files(job)
    with pytest.raises(FervizError, match=r"part-00001\.parquet is damaged .*remove it and run "
                                          r"the job's command again"):
        run(job)
    assert files(job) == before
    part.unlink()
    r = run(job)
    assert (r.computed, r.skipped) == (1, 2)
    pd.testing.assert_frame_equal(table(job), table(finished), check_exact=True)


@pytest.mark.parametrize("damage", [b"{half", b"[1, 2]", b'{"version": 1}',
                                    b'{"version": 2, "rows": 250}'])
def test_force_starts_a_damaged_job_over(job, finished, damage):
    (job / MANIFEST).write_bytes(damage)
    before = files(job)
    with pytest.raises(FervizError, match="_job.json .*use --force to start the job over"):
        run(job)
    assert files(job) == before  # without --force nothing is touched
    r = run(job, force=True)
    assert (r.state, r.computed, r.skipped) == ("restarted", 3, 0)
    assert read_manifest(job) == json.loads((finished / MANIFEST).read_text())
    assert json.loads((job / SUMMARY).read_text()) == json.loads((finished / SUMMARY).read_text())
    pd.testing.assert_frame_equal(table(job), table(finished), check_exact=True)
    assert not [p for p in job.iterdir() if p.name.startswith(".")]  # no leftovers
    assert run(job).state == "resumed"  # the new manifest is the job's


def test_force_refuses_a_folder_in_a_part_s_place_before_removing_anything(job):
    (job / part_name(2)).unlink()
    (job / part_name(2)).mkdir()
    (job / part_name(2) / "mine.txt").write_text("kept")
    (job / MANIFEST).write_bytes(b"{half")
    before = files(job)
    with pytest.raises(FervizError, match="part-00002.parquet is a folder, not a file of a job"):
        run(job, force=True)
    assert files(job) == before and (job / part_name(2) / "mine.txt").read_text() == "kept"


def test_what_the_engine_writes_reads_back_and_an_older_summary_still_reads(job):
    parts = Parts(job)
    assert parts.manifest["version"] == 1 and parts.summary.rows == 250 and not parts.missing
    older = json.loads((job / SUMMARY).read_text())
    del older["version"]  # summaries had no version before this one
    (job / SUMMARY).write_text(json.dumps(older))
    assert Parts(job).summary.to_dict() == {**older, "version": 1}


# ---------------------------------------------------------------- a part missing
def test_a_report_with_a_part_missing_covers_the_rest_and_says_so(job, tmp_path):
    (job / part_name(1)).unlink()
    stored = (job / SUMMARY).read_bytes()
    r = ferviz("job-report", job, "-o", tmp_path / "r.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr.strip().splitlines() == [
        "warning: 1 of the job's 3 part files missing (part-00001.parquet): the report covers "
        "150 of its 250 faces"]
    page = (tmp_path / "r.html").read_text()
    assert "part-00001.parquet" in page and "this report covers 150 of its 250 faces" in page
    assert "150 faces in 3 parts" in page
    # its counts are those of the parts that are there, and the stored summary is untouched
    rest = pd.concat([pd.read_parquet(job / part_name(i)) for i in (0, 2)])
    counts = Parts(job).summary.counts()
    assert counts.to_numpy().sum() == len(rest) == 150
    for (t, p), n in rest.groupby(["label", "pred"]).size().items():
        assert counts.loc[t, p] == n
    assert (job / SUMMARY).read_bytes() == stored


def test_the_job_page_warns_of_a_missing_part(job, monkeypatch):
    from streamlit.testing.v1 import AppTest

    (job / part_name(2)).unlink()
    monkeypatch.setenv("FERVIZ_ROOTS", str(job.parent))
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.query_params["page"], app.query_params["job"] = "job", str(job)
    app.run()
    assert not app.exception and not app.error
    assert any("part-00002.parquet" in w.value and "this page covers 200 of its 250 faces"
               in w.value for w in app.warning)


# ---------------------------------------------------------------- Ray addresses
def test_a_ray_address_is_tried_before_ray_is_given_it():
    from ferviz.engine.on_ray import check_address

    with socket.create_server(("127.0.0.1", 0)) as server:  # listening: reachable
        port = server.getsockname()[1]
        check_address(f"127.0.0.1:{port}")
        check_address(f"ray://127.0.0.1:{port}")
    with pytest.raises(FervizError, match=f"cannot reach a Ray cluster at 127.0.0.1:{port}"):
        check_address(f"127.0.0.1:{port}")  # closed now: refused at once
    for bad in ("127.0.0.1:http", "127.0.0.1:70000", ":6379"):
        with pytest.raises(FervizError, match="not a Ray cluster address"):
            check_address(bad)
    check_address("auto")  # Ray's to resolve
    check_address(None)


def test_a_dead_ray_address_writes_nothing(tmp_path):
    with pytest.raises(FervizError, match="cannot reach a Ray cluster at 127.0.0.1:1"):
        sharded.run(MODEL, DATA, tmp_path / "job", engine="ray", address="127.0.0.1:1")
    assert not (tmp_path / "job").exists()


# ---------------------------------------------------------------- KeyboardInterrupt
def test_a_keyboard_interrupt_from_a_user_file_passes_through_where_ctrl_c_raises_it(tmp_path):
    from ferviz.models.load import load_model

    (tmp_path / "net.py").write_text("raise KeyboardInterrupt\n")
    import torch

    torch.save({}, tmp_path / "w.pt")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # a script's Ctrl-C
    try:
        with pytest.raises(KeyboardInterrupt):
            load_model(str(tmp_path / "w.pt"), arch=f"{tmp_path / 'net.py'}:Net")
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_real_ctrl_c_while_a_user_file_is_imported_still_exits_130(tmp_path):
    (tmp_path / "net.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGINT)\n")
    subprocess.run([sys.executable, "-c", "import torch; torch.save({}, 'w.pt')"],
                   cwd=tmp_path, check=True)
    r = ferviz("evaluate", "-d", "synth", "--split", "val", "-m", "w.pt", "--arch",
               "net.py:Net", cwd=tmp_path)
    assert (r.returncode, r.stderr.strip()) == (130, "interrupted")
