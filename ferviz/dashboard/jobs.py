"""Long predictions in the dashboard: work estimated above :data:`resources.WORTH_A_CLICK`
waits for a Run click, then runs in a background thread batch by batch, shown as a progress
bar with a Cancel button. Cancel stops the thread between batches; only a finished table is
written to the predictions cache (atomically), so nothing is left half-cached."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import streamlit as st

from ..specs import DataSpec, ModelSpec
from . import resources as res

REFRESH = 0.5  # seconds between progress bar updates
# Seconds one script run keeps updating the bar: Streamlit collects garbage after every run
# (0.7 s of held GIL with torch loaded), so a rerun per update would starve the job.
WATCH = 10.0


@dataclass(eq=False)
class Job:
    """Predictions running in a background thread."""

    total: int
    seconds: float  # estimated
    done: int = 0
    error: str | None = None
    finished: bool = False
    started: float = field(default_factory=time.perf_counter)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job's thread has ended (table cached, failed or cancelled), at most
        ``timeout`` seconds; whether it has."""
        if self.thread is not None:
            self.thread.join(timeout)
        return self.finished


def _jobs() -> dict[str, Job]:
    return st.session_state.setdefault("fv_jobs", {})


def _cancelled() -> set[str]:
    return st.session_state.setdefault("fv_cancelled", set())


def clicked(key: str, seconds: float, what: str) -> bool:
    """Whether short work (not the predictions: see :func:`ready`) estimated at ``seconds``
    may run: at once when short, else after the person clicks Run (remembered for this
    session and ``key``); it then runs in the page with a spinner."""
    done = st.session_state.setdefault("fv_clicked", set())
    if seconds <= res.WORTH_A_CLICK or key in done:
        return True
    st.info(f"{_capital(what)} takes about {seconds:.0f} s on this machine." if
            seconds < float("inf") else f"{_capital(what)} may take minutes.")
    if st.button(f"Run: {what}", key=f"run_{key}"):
        done.add(key)
        return True
    return False


def ready(key: str, ms: ModelSpec, ds: DataSpec, tta: bool, what: str) -> bool:
    """Whether the predictions of ``ms`` on ``ds`` may be asked for now: they are cached, or
    estimated short enough to compute at once. Longer work shows its estimate and a Run
    button; once clicked it runs as a :class:`Job` with a progress bar and a Cancel button,
    and this stays False until the job has cached the whole table."""
    jobs = _jobs()
    if res.predicted(ms, ds, tta):
        jobs.pop(key, None)
        return True
    n = len(res.records(ds))
    seconds = res.estimate(ms, n, tta)
    if seconds <= res.WORTH_A_CLICK:
        return True
    job = jobs.get(key)
    if job is not None and job.error:
        st.error(job.error)
        del jobs[key]
        job = None
    if job is None:
        gate = st.empty()
        with gate.container():
            if key in _cancelled():
                st.warning(f"Cancelled {what}; nothing was cached.")
            st.info(f"{_capital(what)} takes about {seconds:.0f} s on this machine.")
            if not st.button(f"Run: {what}", key=f"run_{key}"):
                return False
        gate.empty()
        _cancelled().discard(key)
        jobs[key] = start(ms, ds, tta, seconds)
    _progress(key, what)
    return False


def start(ms: ModelSpec, ds: DataSpec, tta: bool, seconds: float) -> Job:
    """Start predicting in a background thread (model and faces are loaded here, in the
    script's thread)."""
    model, records, lock = res.model(ms), res.records(ds), res.torch_lock()
    job = Job(len(records), seconds)
    job.thread = threading.Thread(target=_work, args=(job, model, records, tta, lock),
                                  name="ferviz-predict", daemon=True)
    job.thread.start()
    return job


def _work(job: Job, model, records, tta: bool, lock: threading.RLock) -> None:
    """The job's thread: the one prediction path (:func:`ferviz.app.predicting.predictions`, as
    ``ferviz evaluate`` runs it), Cancel checked between its batches; the table is cached
    only when every face is predicted."""
    from ..app.predicting import predictions
    from ..errors import Cancelled

    try:
        with lock:
            predictions(model, records, tta, on_batch=lambda done: setattr(job, "done", done),
                        cancelled=job.stop.is_set)
    except Cancelled:
        return
    except Exception as e:  # noqa: BLE001 (shown in the page: the session must not wait forever)
        job.error = f"predicting failed: {e}"
    finally:
        job.finished = True


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cancel(key: str) -> None:
    job = _jobs().pop(key, None)
    if job is not None:
        job.stop.set()
        _cancelled().add(key)


@st.fragment(run_every=WATCH)
def _progress(key: str, what: str) -> None:
    """The running job's progress bar, updated every :data:`REFRESH` s for :data:`WATCH` s
    per run, and its Cancel button; the whole page runs again once the job has ended."""
    job = _jobs().get(key)
    bar = st.empty()
    st.button("Cancel", key=f"cancel_{key}", on_click=_cancel, args=(key,))
    end = time.perf_counter() + WATCH
    while job is not None and not job.finished:
        elapsed = time.perf_counter() - job.started
        left = elapsed / job.done * (job.total - job.done) if job.done else \
            job.seconds - elapsed
        bar.progress(job.done / job.total, text=f"{_capital(what)}: {job.done:,} of "
                     f"{job.total:,} faces in {elapsed:.0f} s, about {max(left, 1):.0f} s left")
        if time.perf_counter() >= end:
            return
        time.sleep(REFRESH)
    st.rerun(scope="app")
