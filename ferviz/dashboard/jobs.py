"""Long work in the dashboard (predictions, trust checks): work estimated above
:data:`resources.WORTH_A_CLICK` waits for a Run click, then runs in a background thread step
by step, shown as a progress bar with a Cancel button. Cancel stops the thread between
steps; only finished results are cached (atomically), so nothing is left half-cached."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
    """Long work running in a background thread (predictions, trust checks)."""

    total: int
    seconds: float  # estimated
    unit: str = "faces"
    done: int = 0
    error: str | None = None
    finished: bool = False
    started: float = field(default_factory=time.perf_counter)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the job's thread has ended (done, failed or cancelled), at most
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


def background(key: str, what: str, seconds: float, total: int, unit: str,
               work: Callable[[Job], None]) -> bool:
    """Long work behind a Run button: once clicked, ``work(job)`` runs in a background
    thread (holding the model lock; it reports ``job.done`` of ``total`` ``unit`` and stops
    when ``job.stop`` is set), shown as a progress bar with a Cancel button. True once the
    work has finished (its results where ``work`` put them, e.g. a cache); False before, and
    after a failure (shown) or a Cancel (said)."""
    jobs = _jobs()
    job = jobs.get(key)
    if job is not None and job.finished:
        del jobs[key]
        if not job.error:
            return True
        st.error(job.error)
        job = None
    if job is None:
        gate = st.empty()
        with gate.container():
            if key in _cancelled():
                st.warning(f"Cancelled {what}; nothing was kept.")
            st.info(f"{_capital(what)} takes about {seconds:.0f} s on this machine.")
            if not st.button(f"Run: {what}", key=f"run_{key}"):
                return False
        gate.empty()
        _cancelled().discard(key)
        job = jobs[key] = Job(total, seconds, unit)
        job.thread = threading.Thread(target=_run, args=(job, work, what, res.torch_lock()),
                                      name="ferviz-job", daemon=True)
        job.thread.start()
    _progress(key, what)
    return False


def ready(key: str, ms: ModelSpec, ds: DataSpec, tta: bool, what: str) -> bool:
    """Whether the predictions of ``ms`` on ``ds`` may be asked for now: they are cached, or
    estimated short enough to compute at once. Longer work runs in the :func:`background`
    (the one prediction path, :func:`ferviz.app.predicting.predictions`, as ``ferviz
    evaluate`` runs it); this stays False until the whole table is cached."""
    if res.predicted(ms, ds, tta):
        _jobs().pop(key, None)
        return True
    n = len(res.records(ds))
    seconds = res.estimate(ms, n, tta)
    if seconds <= res.WORTH_A_CLICK:
        return True
    model, records = res.model(ms), res.records(ds)

    def work(job: Job) -> None:
        from ..app.predicting import predictions

        predictions(model, records, tta, on_batch=lambda done: setattr(job, "done", done),
                    cancelled=job.stop.is_set)

    return background(key, what, seconds, n, "faces", work)


def _run(job: Job, work: Callable[[Job], None], what: str, lock: threading.RLock) -> None:
    """The job's thread: ``work`` under the model lock; a Cancel ends it quietly, a failure
    is kept for the page to show."""
    from ..errors import Cancelled

    try:
        with lock:
            work(job)
    except Cancelled:
        return
    except Exception as e:  # noqa: BLE001 (shown in the page: the session must not wait forever)
        job.error = f"{what} failed: {e}"
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
        bar.progress(min(job.done / job.total, 1.0), text=f"{_capital(what)}: {job.done:,} of "
                     f"{job.total:,} {job.unit} in {elapsed:.0f} s, about {max(left, 1):.0f} s "
                     "left")
        if time.perf_counter() >= end:
            return
        time.sleep(REFRESH)
    st.rerun(scope="app")
