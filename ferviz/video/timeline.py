"""The timeline: the 7 emotion probabilities of each face id over time, one row per face,
as an interactive plotly figure (HTML) and as a PNG drawn with matplotlib."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..labels import EMOTIONS
from ..table import PROBS

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

# One colour per emotion, the same in both pictures.
EMOTION_COLOURS = dict(zip(EMOTIONS, ["#d62728", "#8c564b", "#9467bd", "#2ca02c", "#1f77b4",
                                      "#ff7f0e", "#7f7f7f"]))
ROW_HEIGHT = 190  # pixels per face row


def _rows(df: pd.DataFrame, face_id: int) -> pd.DataFrame:
    """One face's rows by frame, with an empty row in each gap (lines break where the face
    was not seen)."""
    import pandas as pd

    g = df[df["face"] == face_id].sort_values("frame")
    gaps = g[g["frame"].diff() > 1]
    blank = pd.DataFrame({"frame": gaps["frame"] - 1, "time": gaps["time"]})
    return pd.concat([g, blank]).sort_values(["frame", "time"], kind="stable")


def timeline_figure(df: pd.DataFrame, title: str = "", frame: int | None = None) -> go.Figure:
    """Probabilities per face id over time (seconds); a dashed line marks ``frame``'s time."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ids = sorted(df["face"].unique()) or [0]
    fig = make_subplots(rows=len(ids), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[f"face #{i}" for i in ids])
    for row, face_id in enumerate(ids, start=1):
        g = _rows(df, face_id)
        for emotion, column in zip(EMOTIONS, PROBS):
            fig.add_trace(go.Scatter(
                x=g["time"], y=g[column], name=emotion, legendgroup=emotion,
                showlegend=row == 1, mode="lines", line={"color": EMOTION_COLOURS[emotion]},
                customdata=g["frame"],
                hovertemplate=f"{emotion} %{{y:.0%}}<br>%{{x:.2f}} s, frame %{{customdata}}"
                              "<extra></extra>"), row=row, col=1)
        fig.update_yaxes(range=[0, 1], tickformat=".0%", row=row, col=1)
    if frame is not None and len(df):
        at = df.loc[df["frame"] == frame, "time"]
        if len(at):
            fig.add_vline(x=float(at.iloc[0]), line_dash="dash", line_color="black")
    fig.update_xaxes(title_text="seconds", row=len(ids), col=1)
    fig.update_layout(template="plotly_white", title=title, height=90 + ROW_HEIGHT * len(ids),
                      margin={"l": 60, "r": 20, "t": 60, "b": 50}, hovermode="x unified")
    return fig


def write_timeline_png(df: pd.DataFrame, path: str | os.PathLike, title: str = "") -> None:
    """The same timeline as a PNG (matplotlib's Agg canvas; no browser needed)."""
    from matplotlib.figure import Figure

    ids = sorted(df["face"].unique()) or [0]
    fig = Figure(figsize=(9, 0.6 + 2.0 * len(ids)), dpi=110)
    axes = fig.subplots(len(ids), 1, sharex=True, squeeze=False)
    for ax, face_id in zip(axes[:, 0], ids):
        g = _rows(df, face_id)
        for emotion, column in zip(EMOTIONS, PROBS):
            ax.plot(g["time"], g[column], color=EMOTION_COLOURS[emotion], lw=1.4, label=emotion)
        ax.set_ylim(0, 1)
        ax.set_ylabel(f"face #{face_id}")
        ax.grid(alpha=0.3)
    axes[0, 0].legend(ncol=7, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                      frameon=False)
    axes[-1, 0].set_xlabel("seconds")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
