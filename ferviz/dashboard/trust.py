"""Trust badges for the pages that draw maps: the verdict of each method on the sidebar's
model, checked on the sidebar's faces (:func:`ferviz.app.explaining.verdicts`). Cached
verdicts show at once; the checks of the others run at once when short, else after a Run
click (their time estimated from a measured forward pass); until then: "not checked"."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

import streamlit as st

from . import resources as res
from .jobs import Job, background
from .sidebar import Context

N = 256  # faces checked (a seeded sample of the data set)


def verdicts(ctx: Context, methods: Sequence[str]) -> dict[str, Any]:
    """Verdict per method (None: not checked), running the missing checks when allowed."""
    from ..app.explaining import check_passes
    from ..app.explaining import verdicts as checked

    methods = list(dict.fromkeys(methods))
    if not methods:
        return {}
    with res.torch_lock():
        got, why = checked(ctx.model, ctx.faces, methods, N, compute=False)
    failed_before = st.session_state.setdefault("fv_trust_failed", {})  # key -> lines
    prefix = f"trust:{ctx.ms}:{ctx.ds}:"  # failures of this model on these faces
    why += [line for k, lines in failed_before.items() if k.startswith(prefix)
            for line in lines if line.split(":", 1)[0] in methods and line not in why]
    failed = {line.split(":", 1)[0] for line in why}
    todo = [m for m in methods if m not in got and m not in failed]
    n = min(N, len(ctx.faces))
    seconds = res.estimate(ctx.ms, check_passes(todo, n), False) if todo else 0.0
    what = f"trust checks of {', '.join(todo)} on {n} faces"
    if todo and seconds <= res.WORTH_A_CLICK:
        with st.spinner(f"Checking {', '.join(todo)}…"), res.torch_lock():
            more, later = checked(ctx.model, ctx.faces, todo, N)
        got.update(more)
        why += later
    elif todo:
        key = prefix + ",".join(todo)
        model, faces, lines = ctx.model, ctx.faces, failed_before.setdefault(key, [])

        def work(job: Job) -> None:
            def step(done: int, total: int) -> None:
                job.done, job.total = done, total

            lines[:] = checked(model, faces, todo, N, on_step=step,
                               cancelled=job.stop.is_set)[1]

        if background(key, what, seconds, len(todo) * 4 + 1, "steps", work):
            more, _ = checked(ctx.model, ctx.faces, todo, N, compute=False)  # cached now
            got.update(more)
        why += lines
    for line in why:
        st.warning(line)
    return {m: got.get(m) for m in methods}


def badge_html(method: str, verdict: Any) -> str:
    """One badge as HTML (``data-trust`` carries its state for tests and styling)."""
    from ..app.explaining import badge

    b = badge(verdict)
    colour = {"pass": "#1d5e20", "fail": "#b23b16", "unchecked": "#556"}[b["state"]]
    return (f'<span class="fv-trust" data-method="{escape(method)}" data-trust="{b["state"]}" '
            f'title="{escape(b["text"])}" style="color:{colour};font-size:13px;'
            f'margin-right:12px">{escape(method)}: {escape(b["label"])}</span>')


def show(found: dict[str, Any]) -> None:
    """The badges of some methods in one line, and a warning per method that failed."""
    from ..app.explaining import badge

    if not found:
        return
    st.html("<div>" + "".join(badge_html(m, v) for m, v in found.items()) + "</div>")
    for m, v in found.items():
        b = badge(v)
        if b["warning"]:
            st.warning(f"{m}: {b['text']}")
