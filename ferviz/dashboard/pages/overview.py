"""Overview: accuracy with its interval, F1 per class, class balance, top confusions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ...labels import EMOTIONS
from .. import resources as res
from ..sidebar import Context
from ..page import Page


def render(ctx: Context) -> None:
    from ...viz import figures

    df, t = ctx.df, res.scores(ctx.ms, ctx.ds, ctx.tta)
    (acc, lo, hi), s = t["ci"], t["summary"]
    if s["n"] == 0:
        st.warning("No face of this split has a known label: there is nothing to score.")
        return
    c = st.columns(4)
    c[0].metric("Accuracy", f"{acc:.1%}", help="95% bootstrap confidence interval below")
    c[0].caption(f"95% CI {lo:.1%} – {hi:.1%}")
    c[1].metric("Macro-F1", f"{s['macro_f1']:.3f}")
    c[2].metric("Weighted F1", f"{s['weighted_f1']:.3f}")
    c[3].metric("Labelled faces", f"{s['n']:,}")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.f1_bars(t["report"]), key="f1_chart")
    with right:
        balance = pd.DataFrame({"true": df["label"].value_counts(),
                                "predicted": df["pred"].value_counts()}).reindex(EMOTIONS)
        st.plotly_chart(figures.class_balance(balance.fillna(0)), key="balance_chart")
    st.markdown("**Top confusions** — open them on the *Confusion matrix* page")
    st.dataframe(t["top"], hide_index=True,
                 column_config={"rate": st.column_config.NumberColumn(format="percent"),
                                "share": st.column_config.NumberColumn(format="percent"),
                                "mean_confidence": st.column_config.NumberColumn(
                                    format="%.2f")})


PAGE = Page("overview", "Overview", 10, render)
