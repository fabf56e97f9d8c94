"""Overview: accuracy and macro-F1 with their intervals (clustered by subject when subjects
are known), F1 per class, class balance, metrics per group, top confusions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import resources as res
from ..page import Page
from ..sidebar import Context
from ..state import ui
from ..tables import show


def render(ctx: Context) -> None:
    from ...viz import figures

    df, t = ctx.df, res.scores(ctx.ms, ctx.ds, ctx.tta)
    ci, s = t["ci"], t["summary"]
    if s["n"] == 0:
        st.warning("No face of this split has a known label: there is nothing to score.")
        return
    (acc, lo, hi), (_, f1_lo, f1_hi) = ci["accuracy"], ci["macro_f1"]
    c = st.columns(4)
    c[0].metric("Accuracy", f"{acc:.1%}", help=t["ci_text"])
    c[0].caption(f"95% CI {lo:.1%} – {hi:.1%}")
    c[1].metric("Macro-F1", f"{s['macro_f1']:.3f}")
    c[1].caption(f"95% CI {f1_lo:.3f} – {f1_hi:.3f}")
    c[2].metric("Weighted F1", f"{s['weighted_f1']:.3f}")
    c[3].metric("Labelled faces", f"{s['n']:,}")
    st.caption(t["ci_text"].split(" (", 1)[1].rstrip(")").capitalize() + ".")
    contempt = res.records(ctx.ds).contempt
    if contempt is not None and contempt.total:
        st.caption(contempt.text())
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.f1_bars(t["report"]), key="f1_chart")
    with right:
        st.plotly_chart(figures.class_balance(t["balance"]), key="balance_chart")
    slices(df)
    st.markdown("**Top confusions** — open them on the *Confusion matrix* page")
    show(t["top"], {"rate": "percent", "share": "percent", "mean_confidence": "%.2f"},
         hide_index=True)


def slices(df: pd.DataFrame) -> None:
    """Metrics per subject, sequence, split or source, when the table has several."""
    from ...app.questions import by_slice, slice_columns
    from ...viz import figures

    columns = slice_columns(df)
    if not columns:
        return
    by = ui(st.selectbox, "by", "Metrics by", columns)
    table = by_slice(df, by)
    st.plotly_chart(figures.slice_bars(table), key="slice_chart")
    show(table, dict.fromkeys(("accuracy", "macro_f1", "weighted_f1", "ece"), "%.3f"))


PAGE = Page("overview", "Overview", 10, render)
