"""Plotly figure builders: plain functions from analysis outputs to ``go.Figure``.

Shared by the HTML report and the dashboard. Text that comes from data (slice values, model
names) is HTML-escaped, because plotly renders a subset of HTML inside labels.
"""

from __future__ import annotations

from html import escape

import numpy as np
import pandas as pd
import plotly.graph_objects as go

LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 50}, "height": 420}


def confusion_heatmap(counts: pd.DataFrame, rates: pd.DataFrame,
                      title: str = "Confusion matrix (row-normalised; click a cell)") -> go.Figure:
    """Heatmap coloured by row-normalised rate, annotated with counts.

    Each cell's ``customdata`` is ``[true, pred, count]``, for click handlers.
    """
    true, pred = [str(v) for v in counts.index], [str(v) for v in counts.columns]
    c = counts.to_numpy()
    custom = np.dstack([np.repeat(np.array(true, dtype=object)[:, None], len(pred), 1),
                        np.repeat(np.array(pred, dtype=object)[None, :], len(true), 0), c])
    fig = go.Figure(go.Heatmap(
        z=rates.to_numpy(), x=pred, y=true, customdata=custom, colorscale="Blues", zmin=0, zmax=1,
        text=[[f"{n}<br>{r:.0%}" if n else "" for n, r in zip(cr, rr)]
              for cr, rr in zip(c, rates.to_numpy())],
        texttemplate="%{text}", colorbar={"title": "rate", "tickformat": ".0%"},
        hovertemplate="true %{y} → predicted %{x}<br>%{customdata[2]} faces, %{z:.1%} of "
                      "%{y}<extra></extra>"))
    fig.update_layout(**{**LAYOUT, "height": 480}, title=title,
                      xaxis={"title": "predicted", "side": "bottom"},
                      yaxis={"title": "true", "autorange": "reversed"})
    return fig


def f1_bars(report: pd.DataFrame, title: str = "Per-class precision, recall and F1") -> go.Figure:
    """Grouped bars of precision / recall / F1 per class (rows of a class report)."""
    rows = report.drop(index=[i for i in ("macro avg", "weighted avg") if i in report.index])
    names = [str(i) for i in rows.index]
    support = rows["support"].to_numpy()
    fig = go.Figure([go.Bar(name=m, x=names, y=rows[m], customdata=support,
                            hovertemplate=f"%{{x}}: {m} %{{y:.3f}} (support %{{customdata}})"
                                          "<extra></extra>")
                     for m in ("precision", "recall", "f1")])
    fig.update_layout(**LAYOUT, title=title, barmode="group", yaxis={"range": [0, 1]})
    return fig


def reliability_curve(rel: pd.DataFrame, title: str = "Reliability") -> go.Figure:
    """Accuracy against confidence per bin, with the diagonal of perfect calibration."""
    full = rel[rel["count"] > 0]
    fig = go.Figure([
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                   line={"dash": "dash", "color": "#999"}),
        go.Scatter(x=full["confidence"], y=full["accuracy"], mode="lines+markers", name="model",
                   customdata=full["count"],
                   hovertemplate="confidence %{x:.2f}: accuracy %{y:.2f} (%{customdata} faces)"
                                 "<extra></extra>"),
    ])
    fig.update_layout(**LAYOUT, title=title, xaxis={"title": "confidence", "range": [0, 1]},
                      yaxis={"title": "accuracy", "range": [0, 1]})
    return fig


def confidence_histogram(hist: pd.DataFrame,
                         title: str = "Confidence of right and wrong answers") -> go.Figure:
    """Overlaid bars of right and wrong answers per confidence bin."""
    mid = (hist["low"] + hist["high"]) / 2
    width = float((hist["high"] - hist["low"]).iloc[0]) if len(hist) else 0.05
    fig = go.Figure([go.Bar(x=mid, y=hist[k], name=k, width=width, opacity=0.7,
                            marker_color=c)
                     for k, c in (("right", "#2a9d8f"), ("wrong", "#e76f51"))])
    fig.update_layout(**LAYOUT, title=title, barmode="overlay",
                      xaxis={"title": "confidence", "range": [0, 1]}, yaxis={"title": "faces"})
    return fig


def delta_bars(deltas: pd.DataFrame, name_a: str = "a", name_b: str = "b") -> go.Figure:
    """Bars of ``b - a`` for accuracy, macro-F1 and per-class F1 (a comparison's deltas)."""
    d = deltas["delta"].to_numpy()
    fig = go.Figure(go.Bar(x=[str(i) for i in deltas.index], y=d,
                           marker_color=np.where(d >= 0, "#2a9d8f", "#e76f51"),
                           hovertemplate="%{x}: %{y:+.3f}<extra></extra>"))
    fig.update_layout(**LAYOUT, title=f"{escape(name_b)} minus {escape(name_a)}",
                      yaxis={"title": "difference", "tickformat": "+.2f"})
    return fig


def disagreement_heatmap(matrix: pd.DataFrame, name_a: str = "a", name_b: str = "b") -> go.Figure:
    """Counts of (prediction of a, prediction of b)."""
    fig = go.Figure(go.Heatmap(z=matrix.to_numpy(), x=[str(c) for c in matrix.columns],
                               y=[str(i) for i in matrix.index], colorscale="Purples",
                               texttemplate="%{z}",
                               hovertemplate="%{y} → %{x}: %{z}<extra></extra>"))
    fig.update_layout(**{**LAYOUT, "height": 460}, title="Predictions of both models",
                      xaxis={"title": escape(name_b)},
                      yaxis={"title": escape(name_a), "autorange": "reversed"})
    return fig


def ambiguity_scatter(model_entropy: np.ndarray, human_entropy: np.ndarray,
                      correct: np.ndarray, title: str = "Model vs human ambiguity") -> go.Figure:
    """Model entropy against FER+ vote entropy, right and wrong answers apart."""
    correct = np.asarray(correct, dtype=bool)
    fig = go.Figure([go.Scatter(x=np.asarray(human_entropy)[m], y=np.asarray(model_entropy)[m],
                                mode="markers", name=name, opacity=0.45,
                                marker={"size": 4, "color": c})
                     for m, name, c in ((correct, "right", "#2a9d8f"),
                                        (~correct, "wrong", "#e76f51"))])
    fig.update_layout(**LAYOUT, title=title, xaxis={"title": "human vote entropy (nats)"},
                      yaxis={"title": "model entropy (nats)"})
    return fig


def slice_bars(slices: pd.DataFrame, metric: str = "accuracy") -> go.Figure:
    """One bar per slice value for a metric of :func:`ferviz.analysis.slices.by_slice`."""
    names = [escape(str(i)) for i in slices.index]
    fig = go.Figure(go.Bar(x=names, y=slices[metric], customdata=slices["n"],
                           hovertemplate=f"%{{x}}: {metric} %{{y:.3f}} (%{{customdata}} faces)"
                                         "<extra></extra>"))
    fig.update_layout(**LAYOUT, title=f"{metric} by {escape(str(slices.index.name))}",
                      yaxis={"range": [0, 1]})
    return fig


def class_balance(counts: pd.DataFrame, title: str = "Class balance (true labels and "
                  "predictions)") -> go.Figure:
    """Grouped bars of per-class counts (one column per series), in the table's row order
    (the emotions' order, as in every other chart)."""
    fig = go.Figure([go.Bar(name=str(c), x=[str(i) for i in counts.index], y=counts[c])
                     for c in counts.columns])
    fig.update_layout(**LAYOUT, title=title, barmode="group",
                      xaxis={"categoryorder": "array", "categoryarray": list(counts.index)})
    return fig


def clickable(fig, selected: tuple[str, str] | None = None):
    """Make a :func:`ferviz.viz.figures.confusion_heatmap` figure selectable by clicking.

    Streamlit returns no selection for heatmap traces (streamlit issue 8760), so one
    transparent square marker is laid over each cell (same ``customdata`` ``[true, pred,
    count]``); a click selects it, and the selected cell is outlined.
    """
    heat = fig.data[0]
    custom = np.asarray(heat.customdata, dtype=object)
    rows, cols = custom.shape[:2]
    xs = [custom[i, j, 1] for i in range(rows) for j in range(cols)]
    ys = [custom[i, j, 0] for i in range(rows) for j in range(cols)]
    flat = custom.reshape(rows * cols, -1).tolist()
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector=dict(type="heatmap"))
    fig.add_trace(go.Scatter(
        x=xs, y=ys, customdata=flat, mode="markers", showlegend=False, name="cells",
        marker=dict(symbol="square", size=44, color="rgba(0,0,0,0)",
                    line=dict(width=0)),
        selected=dict(marker=dict(color="rgba(255,140,0,0.35)")),
        unselected=dict(marker=dict(opacity=1)),
        hovertemplate="true %{customdata[0]} → predicted %{customdata[1]}<br>"
                      "%{customdata[2]} faces (click to open them)<extra></extra>"))
    if selected:
        fig.add_shape(type="rect", xref="x", yref="y", line=dict(color="#ff8c00", width=3),
                      x0=cols_index(custom, selected[1]) - 0.5,
                      x1=cols_index(custom, selected[1]) + 0.5,
                      y0=rows_index(custom, selected[0]) - 0.5,
                      y1=rows_index(custom, selected[0]) + 0.5)
    fig.update_layout(hovermode="closest", hoverdistance=-1, clickmode="event+select",
                      dragmode=False)
    return fig


def cols_index(custom: np.ndarray, pred: str) -> int:
    """Column of a predicted class in a confusion figure's customdata."""
    return [str(v) for v in custom[0, :, 1]].index(pred)


def rows_index(custom: np.ndarray, true: str) -> int:
    """Row of a true class in a confusion figure's customdata."""
    return [str(v) for v in custom[:, 0, 0]].index(true)
