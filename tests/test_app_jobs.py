"""Long predictions in the dashboard (``AppTest``): a Run click, then a progress bar with a
Cancel button; Cancel stops the work between batches and caches nothing; finished work gives
the same table as the CLI. No sleeps: the tests wait on the job's thread (``Job.wait``) and
on an event its first batch sets."""

from __future__ import annotations

import importlib
import threading

import pytest
from test_app import app, ok

SPLIT = "train"  # 4,200 FER-Synth faces: 9 batches of 512


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


@pytest.fixture
def paused_after_first_batch(monkeypatch):
    """The one prediction path unchanged, except that a dashboard job's thread (the caller
    that follows its batches) waits after its first batch until the test releases it: Cancel
    is clicked while the job is known to be running, on a machine of any speed. Yields the
    events (first batch done, release)."""
    module = importlib.import_module("ferviz.predict")  # ferviz.predict is also a function
    real = module.predict_proba
    reached, release = threading.Event(), threading.Event()

    def predict_proba(*args, on_batch=None, **kw):
        def batch_done(done: int) -> None:
            on_batch(done)
            if not reached.is_set():
                reached.set()
                release.wait(300)  # a guard against a test that never releases it

        return real(*args, on_batch=batch_done if on_batch else None, **kw)

    monkeypatch.setattr(module, "predict_proba", predict_proba)
    yield reached, release
    release.set()


def _job(at):
    jobs = at.session_state["fv_jobs"]
    assert len(jobs) == 1
    return next(iter(jobs.values()))


def _table_path(split: str, tta: bool):
    from ferviz.data import open_data
    from ferviz.models.load import load_model
    from ferviz.predict import cache_path

    return cache_path(load_model("fer_synth_cnn"), open_data("synth", split=split), tta)


def test_cancel_stops_between_batches_and_caches_nothing(tmp_path, paused_after_first_batch):
    """Promise: Cancel, clicked while the job runs, stops it before its next batch (exactly
    one batch of 512 done here), shows that nothing was cached, caches nothing (not even a
    partial file), and a later run does not start the work again."""
    reached, release = paused_after_first_batch
    at = app(split=SPLIT)
    ok(at)
    run = [b for b in at.button if b.label.startswith("Run: predicting 4,200 faces")]
    assert len(run) == 1 and not at.get("progress") and not at.metric
    run[0].click().run()
    ok(at)
    job = _job(at)
    assert len(at.get("progress")) == 1
    assert reached.wait(300), "the job did not finish its first batch"
    assert job.thread.is_alive() and job.done == 512 and not job.stop.is_set()
    cancel = [b for b in at.button if b.label == "Cancel"]
    assert len(cancel) == 1
    cancel[0].click().run()
    ok(at)
    assert job.stop.is_set()
    release.set()
    assert job.wait(timeout=60), "the cancelled job did not end"
    assert (job.done, job.total, job.error) == (512, 4200, None)
    assert any("Cancelled" in w.value and "nothing was kept" in w.value for w in at.warning)
    assert not at.get("progress") and not at.metric
    assert any(b.label.startswith("Run: predicting") for b in at.button)
    at.run()  # a later run does not start the work again
    assert not at.session_state["fv_jobs"] and not at.get("progress")
    cache = tmp_path / "cache" / "predictions"
    assert not _table_path(SPLIT, False).exists()
    assert not list(cache.glob("*.part")) and not list(cache.glob(".*.part"))


def test_finished_work_shows_the_page_with_the_cli_numbers(synth_model):
    from ferviz.data import open_data
    from ferviz.predict import predict

    """Promise: after a Run click the job caches the whole table and the page then shows the
    numbers of the CLI's prediction path (waits on the job's thread, not on the clock)."""
    at = app(split="val")
    ok(at)
    next(b for b in at.button if b.label.startswith("Run: predicting 700 faces")).click().run()
    ok(at)
    job = _job(at)
    assert job.wait(timeout=300) and job.error is None, job.error
    at.run()  # the next run of the page, as the job's progress fragment asks for
    ok(at)
    assert _table_path("val", False).is_file()
    df = predict(synth_model, open_data("synth", split="val"), cache=False)  # the CLI path
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{df['correct'].mean():.1%}"
    assert not at.get("progress") and not at.session_state["fv_jobs"]

