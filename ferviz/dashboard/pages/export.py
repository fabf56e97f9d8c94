"""Export: the predictions (parquet) and the HTML report of the current selection."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from ..page import Page
from ..resources import torch_lock
from ..sidebar import Context
from ..state import get, ui


def table_bytes(df: pd.DataFrame) -> bytes:
    """A predictions table as parquet bytes (for a download button)."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def selection(df: pd.DataFrame, scope: str, cell: tuple) -> pd.DataFrame:
    """The rows of the selection: the split, its errors, or one confusion cell."""
    from ...app.questions import cell as cell_rows
    from ...app.questions import errors

    if scope == "errors":
        return errors(df)
    if scope == "cell":
        return cell_rows(df, *cell)
    return df


def render(ctx: Context) -> None:
    df, cell = ctx.df, (get("true"), get("pred"))
    scopes = {"split": f"the whole split ({len(df):,} faces)", "errors": "the errors",
              "cell": f"the drill-down cell true {cell[0]} → predicted {cell[1]}"}
    scope = ui(st.radio, "scope", "Selection", list(scopes), format_func=scopes.get)
    sub = selection(df, scope, cell)
    stem = "-".join(x for x in (ctx.name, ctx.ds.split, scope,
                                "-".join(cell) if scope == "cell" else "") if x)
    st.download_button(f"Predictions table ({len(sub):,} rows, parquet)",
                       data=table_bytes(sub), file_name=f"{stem}.parquet",
                       mime="application/vnd.apache.parquet", key="dl_parquet")
    report(ctx, sub, stem)


def report(ctx: Context, sub: pd.DataFrame, stem: str) -> None:
    """Build the HTML report of the selection on request, then offer it."""
    from ...app.catalog import methods as registered
    from ...app.reporting import Options, build_html

    methods = st.multiselect("Saliency in the report's galleries", registered(),
                             key="report_methods")
    key = (ctx.ms, ctx.ds, ctx.tta, stem, tuple(methods), len(sub))
    if st.button("Build the HTML report", key="build_report") and len(sub):
        with st.spinner(f"Building the report of {len(sub):,} faces…"), torch_lock():
            html = build_html(sub.reset_index(drop=True), ctx.faces[sub.index.to_numpy()],
                              model=ctx.model, model_card=ctx.model.card.to_dict(),
                              data_info={"data": ctx.ds.with_split(None).name(),
                                         "split": ctx.ds.split, "selection": stem},
                              options=Options(saliency=tuple(methods)),
                              title=f"{ctx.name}: {stem}")
        st.session_state["report"] = (key, html)
    built = st.session_state.get("report")
    if built and built[0] == key:
        st.download_button(f"HTML report ({len(built[1]) / 1e6:.1f} MB)", data=built[1],
                           file_name=f"{stem}.html", mime="text/html", key="dl_report")
    elif not len(sub):
        st.info("The selection is empty.")


PAGE = Page("export", "Export", 70, render)
