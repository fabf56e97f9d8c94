"""The per-frame table (one row per face per frame) and the summary read from it: faces,
frames, hard cuts, each face's shot, dominant emotion and the segments where its emotion
changes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..labels import EMOTIONS
from ..table import PROBS

if TYPE_CHECKING:
    import pandas as pd

    from .frames import Frame

COLUMNS = ["frame", "time", "face", "x", "y", "w", "h", *PROBS, "pred", "confidence", "shot"]
SMOOTH_SECONDS = 0.3  # probabilities are averaged over this window before segmenting
MIN_SEGMENT_SECONDS = 0.5  # shorter runs of one emotion merge into their neighbour


def rows(frame: Frame) -> list[tuple]:
    """The table rows of one frame (the values of :data:`COLUMNS`; ``shot`` counts the hard
    cuts before the frame)."""
    return [(frame.index, round(frame.time, 4), f.id, *f.box, *np.round(f.probs, 5).tolist(),
             f.emotion, round(float(f.probs.max()), 5), frame.shot) for f in frame.faces]


def frame_table(all_rows: list[tuple]) -> pd.DataFrame:
    """The per-frame table from rows."""
    import pandas as pd

    df = pd.DataFrame(all_rows, columns=COLUMNS)
    ints = ["frame", "face", "x", "y", "w", "h", "shot"]
    return df.astype({c: "int64" for c in ints} | {c: "float32" for c in PROBS})


def segments(face: pd.DataFrame, fps: float) -> list[dict[str, Any]]:
    """Runs of one emotion for one face's rows (sorted by frame): probabilities smoothed over
    :data:`SMOOTH_SECONDS`, runs shorter than :data:`MIN_SEGMENT_SECONDS` merged into the one
    before (or after, at the start)."""
    window = max(1, round(SMOOTH_SECONDS * fps))
    smooth = face[PROBS].rolling(window, center=True, min_periods=1).mean().to_numpy()
    labels = smooth.argmax(axis=1)
    frames, times = face["frame"].to_numpy(), face["time"].to_numpy()
    runs: list[list[int]] = []  # [label, first row, last row]
    for i, lab in enumerate(labels):
        if runs and runs[-1][0] == lab:
            runs[-1][2] = i
        else:
            runs.append([int(lab), i, i])
    short = max(1, round(MIN_SEGMENT_SECONDS * fps))
    merged: list[list[int]] = []
    for run in runs:
        if merged and (run[2] - run[1] + 1 < short or merged[-1][0] == run[0]):
            merged[-1][2] = run[2]
        elif merged and merged[-1][2] - merged[-1][1] + 1 < short:
            merged[-1] = [run[0], merged[-1][1], run[2]]
        else:
            merged.append(run)
    return [{"emotion": EMOTIONS[lab], "start": float(times[a]), "end": float(times[b]),
             "first_frame": int(frames[a]), "last_frame": int(frames[b]), "frames": b - a + 1}
            for lab, a, b in merged]


def summarise(df: pd.DataFrame, fps: float, frames: int,
              cuts: Sequence[int] = ()) -> dict[str, Any]:
    """Faces, frames, the hard cuts (``cuts``: the frames that start a new shot) and per
    face: its shot, frames seen, first and last time, dominant emotion (the most frequent top
    emotion) with its share, mean probabilities and segments."""
    faces = []
    for face_id, g in df.groupby("face", sort=True):
        g = g.sort_values("frame")
        counts = g["pred"].value_counts()
        faces.append({
            "id": int(face_id), "shot": int(g["shot"].iloc[0]), "frames": len(g),
            "first": float(g["time"].iloc[0]), "last": float(g["time"].iloc[-1]),
            "dominant": str(counts.index[0]),
            "dominant_share": round(float(counts.iloc[0] / len(g)), 4),
            "mean_probabilities": {e: round(float(g[p].mean()), 4)
                                   for e, p in zip(EMOTIONS, PROBS)},
            "segments": segments(g, fps)})
    with_face = int(df["frame"].nunique()) if len(df) else 0
    return {"frames": frames, "fps": round(fps, 3), "seconds": round(frames / fps, 3),
            "frames_with_faces": with_face, "cuts": len(cuts),
            "cut_frames": [int(k) for k in cuts], "faces": faces}
