"""Sharded jobs: the Ray engine (a local cluster) writes exactly the single-process engine's
table, survives a killed worker and a killed driver (killed at a chosen point by the model
itself: tests/fault_nets.py), and the views read the output lazily."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fault_nets import faulty_model, fired

from ferviz.analysis.counts import summary_counts
from ferviz.analysis.metrics import summary
from ferviz.analysis.parts import Parts, part_name
from ferviz.engine import Job, run_job
from ferviz.specs import DataSpec, ModelSpec

ray = pytest.importorskip("ray")

MODEL = ModelSpec("fer_synth_cnn")
BIG = DataSpec("synth:20000")


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster of two CPUs for this module's tests."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def table(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder).sort_values("row").reset_index(drop=True)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The single-process engine's table of 20,000 FER-Synth faces."""
    out = tmp_path_factory.mktemp("local") / "job"
    r = run_job(Job(MODEL, BIG, shard_size=2500), out)
    assert (r.state, r.rows, r.computed, r.skipped) == ("new", 20_000, 8, 0)
    return out


def test_ray_engine_gives_exactly_the_local_table(cluster, reference, tmp_path):
    from ferviz.predict import predict

    r = run_job(Job(MODEL, BIG, shard_size=2500), tmp_path / "job", engine="ray")
    assert (r.rows, r.computed, r.engine) == (20_000, 8, "ray")
    local, on_ray = table(reference), table(tmp_path / "job")
    pd.testing.assert_frame_equal(local, on_ray, check_exact=True)
    assert local["row"].tolist() == list(range(20_000))  # no duplicates, no holes
    # the one-file path of `ferviz predict` agrees too (its memory layout may differ)
    whole = predict(MODEL.load(), BIG.open(), cache=False)
    assert (whole["pred"] == local["pred"]).all()
    np.testing.assert_allclose(whole["p_happy"], local["p_happy"], atol=1e-5)
    # the summary the job wrote gives the table's metrics without reading the table
    counts = Parts(tmp_path / "job").summary.counts()
    expected = pd.crosstab(local["label"], local["pred"]).reindex(
        index=counts.index, columns=counts.columns, fill_value=0)
    assert (counts.to_numpy() == expected.to_numpy()).all()
    assert summary_counts(counts) == summary(local)


def test_explanation_jobs_agree_and_read_lazily(cluster, tmp_path):
    data = DataSpec("synth:240")
    job = Job(MODEL, data, ("gradcam", "occlusion"), shard_size=100)
    run_job(job, tmp_path / "local")
    run_job(job, tmp_path / "ray", engine="ray")
    local, on_ray = table(tmp_path / "local"), table(tmp_path / "ray")
    pd.testing.assert_frame_equal(local.drop(columns=["face", "map_gradcam", "map_occlusion"]),
                                  on_ray.drop(columns=["face", "map_gradcam", "map_occlusion"]))
    parts = Parts(tmp_path / "ray")
    rows = [5, 130, 239]
    from ferviz.explain import explain

    direct = explain(MODEL.load(), data.open().select(rows), method="gradcam", cache=False)
    np.testing.assert_allclose(parts.arrays(rows, "map_gradcam"), direct.maps, atol=1e-3)
    assert (parts.arrays(rows, "face") == data.open().select(rows).images()).all()
    shares = parts.summary.region_table("gradcam")
    assert np.allclose(shares.sum(axis=1).dropna(), 1.0, atol=1e-4)  # regions + other
    cell = parts.cell("happy", "happy", limit=5)
    assert len(cell) == 5 and cell["confidence"].is_monotonic_decreasing


def clean_table(tmp: Path, data: DataSpec, shard_size: int) -> pd.DataFrame:
    """The single-process engine's table of the fault-injection model, never faulting."""
    _, weights, _, arch = faulty_model(tmp / "clean", faces=0, call=0, action=None)
    run_job(Job(ModelSpec(weights, arch=arch), data, shard_size=shard_size), tmp / "clean-job")
    return table(tmp / "clean-job")


def test_a_killed_worker_still_gives_a_complete_table(cluster, tmp_path):
    """Promise: a Ray worker that dies while computing a shard is replaced and the shard
    computed again: the job completes with exactly a clean run's table. The fault is
    injected: the model exits its process (``os._exit(1)``) when it gets the job's last shard,
    the only one of 50 faces (1,050 faces in shards of 200), once."""
    model, out, data = tmp_path / "model", tmp_path / "job", DataSpec("synth:1050")
    _, weights, _, arch = faulty_model(model, faces=50, call=1, action="exit")
    r = run_job(Job(ModelSpec(weights, arch=arch), data, shard_size=200), out, engine="ray")
    assert fired(model), "no worker was killed"
    assert (r.rows, r.computed, r.skipped) == (1050, 6, 0)
    pd.testing.assert_frame_equal(table(out), clean_table(tmp_path, data, 200),
                                  check_exact=True)
    assert sorted(p.name for p in out.glob("part-*")) == [part_name(i) for i in range(6)]


def test_a_killed_driver_resumes_without_recomputing(tmp_path):
    """Promise: a driver killed mid-job (SIGKILL, with the local Ray cluster it started)
    keeps the parts finished before; running the command again computes only the missing
    shards, leaves the finished parts untouched, and the table is a clean run's. The fault is
    injected: one Ray worker (``--workers 1``: one shard at a time) kills the driver's process
    group in its 3rd shard of 5, so exactly 2 parts were finished."""
    model, out, data = tmp_path / "model", tmp_path / "job", DataSpec("synth:1000")
    cmd = [shutil.which("ferviz") or sys.executable, "predict",
           *faulty_model(model, faces=200, call=3, action="kill-driver"), "-d", data.data,
           "-o", str(out), "--engine", "ray", "--workers", "1", "--shard-size", "200"]
    env = {**os.environ, "FERVIZ_QUIET": "1"}
    first = subprocess.run(cmd, env=env, start_new_session=True, capture_output=True,
                           text=True, timeout=600)
    assert fired(model) and first.returncode == -signal.SIGKILL, first.stderr[-3000:]
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*")}
    assert len(kept) == 2, "the driver was not killed in the 3rd shard"
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "3 shards computed, 2 kept" in again.stdout
    for name, stat in kept.items():  # finished parts were not recomputed
        p = out / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stat
    pd.testing.assert_frame_equal(table(out), clean_table(tmp_path, data, 200),
                                  check_exact=True)
    assert not list(out.glob(".*"))  # no leftovers of the killed writers
    assert sorted(p.name for p in out.glob("part-*")) == [part_name(i) for i in range(5)]


def test_job_report_and_job_page_show_the_output(tmp_path, monkeypatch):
    """The CLI job and its report (installed console script), and the dashboard's Job page."""
    from streamlit.testing.v1 import AppTest

    out, html = tmp_path / "job", tmp_path / "job.html"
    ferviz = shutil.which("ferviz")
    run = subprocess.run([ferviz, "explain", "-m", MODEL.model, "-d", "synth:150", "-x",
                          "gradcam", "-o", str(out), "--shard-size", "64"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "wrote 150 rows" in run.stdout and "3 shards computed" in run.stdout
    scores = summary(table(out))
    assert f"accuracy {scores['accuracy']:.2%}" in run.stdout
    rep = subprocess.run([ferviz, "job-report", str(out), "-o", str(html)],
                         capture_output=True, text=True, timeout=600)
    assert rep.returncode == 0, rep.stderr
    page = html.read_text()
    wrong = table(out).query("label != pred")
    t, p = wrong.groupby(["label", "pred"]).size().idxmax()
    assert f'data-cell="{t}-{p}"' in page and 'alt="gradcam"' in page
    monkeypatch.setenv("FERVIZ_ROOTS", str(tmp_path))
    app = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"),
                            default_timeout=120)
    app.query_params["page"], app.query_params["job"] = "job", str(out)
    app.run()
    assert not app.exception and not app.error
    assert f"{scores['accuracy']:.1%}" in [m.value for m in app.metric]
    assert len(app.get("plotly_chart")) == 3
