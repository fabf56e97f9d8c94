"""Long predictions in the dashboard (``AppTest``): a Run click, then a progress bar with a
Cancel button; Cancel stops the work between batches and caches nothing; finished work gives
the same table as the CLI."""

from __future__ import annotations

import time

import pytest
from test_app import app, ok

SPLIT = "train"  # 4,200 FER-Synth faces: long enough with TTA to be cancelled while running


@pytest.fixture(autouse=True)
def _every_prediction_waits(monkeypatch, tmp_path):
    """Every prediction not yet cached waits for a Run click (whatever this machine's speed),
    a script run draws the progress bar once instead of watching the job for seconds, and
    the predictions cache starts empty."""
    from ferviz.dashboard import jobs
    from ferviz.dashboard import resources as res

    monkeypatch.setattr(res, "WORTH_A_CLICK", 0.0)
    monkeypatch.setattr(jobs, "WATCH", 0.0)
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))


def _job(at):
    jobs = at.session_state["fv_jobs"]
    assert len(jobs) == 1
    return next(iter(jobs.values()))


def _table_path(split: str, tta: bool):
    from ferviz.data import open_data
    from ferviz.models.load import load_model
    from ferviz.predict import cache_path

    return cache_path(load_model("fer_synth_cnn"), open_data("synth", split=split), tta)


def test_cancel_stops_between_batches_and_caches_nothing(tmp_path):
    at = app(split=SPLIT, tta=1)
    ok(at)
    run = [b for b in at.button if b.label.startswith("Run: predicting 4,200 faces")]
    assert len(run) == 1 and not at.get("progress") and not at.metric
    run[0].click().run()
    ok(at)
    job = _job(at)
    assert job.thread.is_alive() and len(at.get("progress")) == 1
    cancel = [b for b in at.button if b.label == "Cancel"]
    assert len(cancel) == 1
    cancel[0].click().run()
    ok(at)
    job.thread.join(timeout=30)
    assert not job.thread.is_alive() and job.stop.is_set()
    assert 0 < job.total and job.done < job.total and job.error is None
    assert any("Cancelled" in w.value and "nothing was cached" in w.value for w in at.warning)
    assert not at.get("progress") and not at.metric
    assert any(b.label.startswith("Run: predicting") for b in at.button)
    at.run()  # a later run does not start the work again
    assert not at.session_state["fv_jobs"] and not at.get("progress")
    cache = tmp_path / "cache" / "predictions"
    assert not _table_path(SPLIT, True).exists()
    assert not list(cache.glob("*.part")) and not list(cache.glob(".*.part"))


def test_finished_work_shows_the_page_with_the_cli_numbers(synth_model):
    from ferviz.data import open_data
    from ferviz.predict import predict

    at = app(split="val")
    ok(at)
    next(b for b in at.button if b.label.startswith("Run: predicting 700 faces")).click().run()
    deadline = time.monotonic() + 300
    while not at.metric and time.monotonic() < deadline:  # as the page's progress updates do
        ok(at)
        time.sleep(0.5)
        at.run()
    ok(at)
    assert _table_path("val", False).is_file()
    df = predict(synth_model, open_data("synth", split="val"), cache=False)  # the CLI path
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{df['correct'].mean():.1%}"
    assert not at.get("progress") and not at.session_state["fv_jobs"]

