"""Plain helpers of the Streamlit dashboard (``app.py``): settings, defaults, URL state and
the HTML of galleries and saliency panels. Nothing here imports streamlit or torch.

Settings, strongest first: the page URL's query parameters (a shared link), arguments after
``--`` (``streamlit run app.py -- --data fer2013.csv.xz``), environment variables
(``FERVIZ_DATA``, ``FERVIZ_FERPLUS``, ``FERVIZ_LABELS``, ``FERVIZ_SPLIT``, ``FERVIZ_MODEL``),
the ``[dashboard]`` table of a settings file (``--settings``, ``$FERVIZ_SETTINGS``, else
``ferviz.toml`` in the working directory), then the built-in defaults.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pandas as pd

from .errors import FervizError
from .labels import EMOTIONS

SETTINGS_FILE = "ferviz.toml"
KEYS = ("data", "ferplus", "labels", "split", "model")
ENV = {k: f"FERVIZ_{k.upper()}" for k in KEYS}
LABEL_MODES = ("fer2013", "ferplus-majority", "ferplus-dist")
SYNTH_MODEL = "fer_synth_cnn"
PROBS = [f"p_{e}" for e in EMOTIONS]
FER2013_SPLIT = "PrivateTest"
MODEL_FILE, MODEL_UPLOAD = "(model file)", "(upload a checkpoint)"  # model choices besides the zoo


@dataclass(frozen=True)
class Settings:
    """What the dashboard opens on, and where each value came from.

    Attributes:
        data: ``synth``, a FER2013 csv, or an image folder.
        ferplus: FER+ votes file (``fer2013new.csv``) or None.
        labels: ``fer2013``, ``ferplus-majority`` or ``ferplus-dist``.
        split: split to open (None: the data set's default).
        model: zoo name or model file (None: the default for the data).
        origin: setting -> ``argument``, ``environment``, ``<file>`` or ``default``.
    """

    data: str = "synth"
    ferplus: str | None = None
    labels: str = "fer2013"
    split: str | None = None
    model: str | None = None
    origin: dict[str, str] = field(default_factory=dict, compare=False)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="streamlit run app.py --", exit_on_error=False,
                                add_help=False)
    p.add_argument("--data", help="synth, a fer2013 csv (.csv/.gz/.xz) or an image folder")
    p.add_argument("--ferplus", help="FER+ votes (fer2013new.csv)")
    p.add_argument("--labels", choices=LABEL_MODES)
    p.add_argument("--split")
    p.add_argument("--model", help="zoo name or model file")
    p.add_argument("--settings", help=f"settings file (default ./{SETTINGS_FILE})")
    return p


def parse_args(argv: Sequence[str]) -> dict[str, str]:
    """The dashboard's ``--`` arguments as a dict of the given ones.

    Raises:
        FervizError: for unknown arguments or bad values.
    """
    try:
        ns, extra = _parser().parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit) as e:
        raise FervizError(f"dashboard arguments: {e}") from None
    if extra:
        raise FervizError(f"unknown dashboard argument(s) {' '.join(extra)}; use --data, "
                          "--ferplus, --labels, --split, --model or --settings")
    return {k: v for k, v in vars(ns).items() if v is not None}


def read_settings_file(path: str | os.PathLike) -> dict[str, str]:
    """The ``[dashboard]`` table of a TOML settings file; relative paths are taken from the
    file's folder.

    Raises:
        FervizError: unreadable file, bad TOML or unknown keys.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError as e:
            raise FervizError(f"{path}: reading settings files needs Python >= 3.11 or the "
                              "tomli package") from e
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("dashboard", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise FervizError(f"{path}: not a readable settings file ({e})") from e
    if not isinstance(table, dict):
        raise FervizError(f"{path}: [dashboard] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise FervizError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: "
                          f"{', '.join(KEYS)}")
    out = {k: str(v) for k, v in table.items()}
    for k in ("data", "ferplus", "model"):
        if k in out and out[k] != "synth" and (path.parent / out[k]).exists():
            out[k] = str(path.parent / out[k])
    return out


def resolve_settings(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                     cwd: str | os.PathLike = ".") -> Settings:
    """Settings from ``--`` arguments, the environment and the settings file (in that order
    of strength).

    Raises:
        FervizError: bad arguments, a named settings file that is missing, or bad values.
    """
    environ = os.environ if environ is None else environ
    args = parse_args(argv)
    named = args.pop("settings", None) or environ.get("FERVIZ_SETTINGS")
    file = Path(named) if named else Path(cwd) / SETTINGS_FILE
    if named and not file.is_file():
        raise FervizError(f"{file}: settings file not found")
    layers = [(str(file), read_settings_file(file) if file.is_file() else {}),
              ("environment", {k: environ[v] for k, v in ENV.items() if environ.get(v)}),
              ("argument", args)]
    values: dict[str, Any] = {}
    origin = {k: "default" for k in KEYS}
    for where, layer in layers:
        for k, v in layer.items():
            values[k], origin[k] = v, where
    if values.get("labels", "fer2013") not in LABEL_MODES:
        raise FervizError(f"labels must be one of {', '.join(LABEL_MODES)}, "
                          f"not {values['labels']!r}")
    return Settings(**values, origin=origin)


def data_kind(spec: str) -> str:
    """``synth``, ``fer2013`` (a csv), ``folder``, or ``missing``."""
    if spec == "synth":
        return "synth"
    p = Path(spec)
    if p.is_dir():
        return "folder"
    if p.is_file() and p.name.lower().endswith((".csv", ".csv.gz", ".csv.xz")):
        return "fer2013"
    return "missing"


def default_model(spec: str) -> tuple[str, str | None]:
    """The zoo model to open a data set with, and a note when it is a fallback.

    FER2013 and image folders get the zoo's most accurate FER2013 model
    (:func:`ferviz.explain.photo.default_model`); FER-Synth gets its own model.
    """
    if data_kind(spec) == "synth":
        return SYNTH_MODEL, None
    from .explain.photo import default_model as best

    return best()


def file_stamp(*paths: str | os.PathLike | None) -> str:
    """Size and modification time of existing files (and of a folder's direct entries), to
    key caches that must notice when a data set or model changes on disk."""
    parts = []
    for p in (Path(x) for x in paths if x):
        entries = [p, *sorted(p.iterdir())] if p.is_dir() else [p] if p.exists() else []
        parts += [f"{e.name}:{e.stat().st_size}:{e.stat().st_mtime_ns}" for e in entries]
    return "|".join(parts)


def data_stamp(data: str, ferplus: str | None = None) -> str:
    """:func:`file_stamp` of a data set's files; for FER-Synth, of its generator's source
    (the faces change only when it does)."""
    if data == "synth":
        from .data import synth

        return file_stamp(synth.__file__)
    return file_stamp(data, ferplus)


def model_stamp(spec: str) -> str:
    """:func:`file_stamp` of a zoo entry's files, or of a model file and its sidecar."""
    from .models import zoo

    if zoo.exists(spec):
        return file_stamp(zoo.root() / spec / "card.json", zoo.root() / spec / zoo.WEIGHTS)
    return file_stamp(spec, f"{spec}.json")


def model_name(spec: str) -> str:
    """A model's display name without loading it (zoo card name, else the file name)."""
    from .models import zoo

    return (zoo.card(spec).name or spec) if zoo.exists(spec) else Path(spec).name


def default_split(kind: str, splits: Sequence[str]) -> str:
    """The split a data set opens on: FER2013 PrivateTest, FER-Synth test, else the first."""
    for wanted in ((FER2013_SPLIT,) if kind == "fer2013" else ("test", "Test")):
        if wanted in splits:
            return wanted
    return splits[0] if splits else ""


def synth_banner() -> str:
    """The banner shown on the FER-Synth demo set (plain text with inline code)."""
    return ("This is the **FER-Synth demo set** (procedural cartoon faces) with its zoo model. "
            "To open FER2013, run `streamlit run app.py -- --data path/to/fer2013.csv.xz "
            "[--ferplus fer2013new.csv]`, set `FERVIZ_DATA`, or write a `ferviz.toml` with a "
            "`[dashboard]` table (see the README), or pick *FER2013 csv* in the sidebar.")


def upload_path(data: bytes, name: str, folder: Path) -> Path:
    """Where an uploaded file is kept: ``folder/<content hash>/<sanitised name>``, written
    once (two sessions uploading the same bytes share it, different bytes never clash)."""
    digest = hashlib.blake2b(data, digest_size=12).hexdigest()
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(name).name).strip("._") or "upload"
    path = folder / digest / safe[-80:]
    if not path.is_file():
        from .cache import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return path


def check_upload_size(size: int, limit_mb: float) -> None:
    """Raises FervizError when an upload is larger than ``limit_mb`` megabytes (the
    ``server.maxUploadSize`` setting)."""
    if size > limit_mb * 1024 * 1024:
        raise FervizError(f"the file is {size / 1024 / 1024:.1f} MB; the upload limit is "
                          f"{limit_mb:g} MB (server.maxUploadSize in .streamlit/config.toml)")
    if size == 0:
        raise FervizError("the file is empty (0 bytes)")


# --- the clickable confusion matrix ---------------------------------------------------------

def clickable(fig, selected: tuple[str, str] | None = None):
    """Make a :func:`ferviz.viz.figures.confusion_heatmap` figure selectable by clicking.

    Streamlit returns no selection for heatmap traces (streamlit issue 8760), so one
    transparent square marker is laid over each cell (same ``customdata`` ``[true, pred,
    count]``); a click selects it, and the selected cell is outlined.
    """
    import plotly.graph_objects as go

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


def selected_cell(points: Sequence[Mapping[str, Any]]) -> tuple[str, str] | None:
    """(true, pred) of the clicked cell from a plotly selection's points, or None."""
    for p in points:
        data = p.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) >= 2 and \
                data[0] in EMOTIONS and data[1] in EMOTIONS:
            return str(data[0]), str(data[1])
    return None


# --- URL state --------------------------------------------------------------------------------

def link(state: Mapping[str, Any], **changes: Any) -> str:
    """A relative ``?query`` URL of the state with some values changed (None drops one)."""
    merged = {**state, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


# --- galleries --------------------------------------------------------------------------------

GALLERY_CSS = """<style>
.fv-gallery{display:flex;flex-wrap:wrap;gap:10px;margin:4px 0 12px}
.fv-face{border:1px solid #e2e5ea;border-radius:6px;padding:6px;width:208px;font-size:12px;
 background:#fcfcfd;line-height:1.3}
.fv-face img.fv-thumb{width:96px;height:96px;image-rendering:pixelated;vertical-align:top}
.fv-face .fv-ov{display:inline-block;text-align:center;font-size:10px;margin-left:4px}
.fv-face .fv-ov img{width:96px;height:96px;image-rendering:auto}
.fv-face .fv-id{color:#667;word-break:break-all;font-size:10px}
.fv-face .fv-wrong{color:#b23b16;font-weight:600}
.fv-face .fv-muted{color:#778;font-size:10px}
.fv-panel{display:flex;flex-wrap:wrap;gap:14px}
.fv-panel figure{margin:0;text-align:center;font-size:12px}
.fv-panel img{width:192px;height:192px;image-rendering:pixelated;border-radius:4px}
.fv-panel table{font-size:11px;margin:4px auto 0;border-collapse:collapse}
.fv-panel td{padding:0 4px;text-align:right}.fv-panel td:first-child{text-align:left}
</style>"""


def card_html(item, href: str | None = None) -> str:
    """One gallery card from a :class:`ferviz.report.gallery.Item`; every text is escaped."""
    wrong = item.label in EMOTIONS and item.label != item.pred
    parts = [f'<div class="fv-face" data-id="{escape(item.id)}">']
    if item.face:
        parts.append(f'<img class="fv-thumb" src="{escape(item.face)}" '
                     f'alt="face {escape(item.id)}">')
    for method, uri in item.overlays:
        parts.append(f'<span class="fv-ov"><img src="{escape(uri)}" alt="{escape(method)}">'
                     f'<br>{escape(method)}</span>')
    parts.append(f'<div><span class="{"fv-wrong" if wrong else ""}">{escape(item.label)} → '
                 f'{escape(item.pred)}</span> ({item.confidence:.0%})</div>')
    for name, uri in item.bars:
        parts.append(f'<div class="fv-muted">{escape(name)}</div>'
                     f'<img src="{escape(uri)}" alt="{escape(name)} probabilities">')
    if item.note:
        parts.append(f"<div>{escape(item.note)}</div>")
    ident = escape(item.id)
    if href:
        ident = f'<a href="{escape(href)}" target="_self">{ident}</a>'
    parts.append(f'<div class="fv-id">{ident}</div></div>')
    return "".join(parts)


def gallery_html(items: Sequence[Any], hrefs: Sequence[str | None] | None = None,
                 name: str = "") -> str:
    """A block of gallery cards (one HTML string, so images are encoded once per view);
    ``name`` goes into the block's ``data-gallery`` attribute."""
    if not items:
        return f'<p class="fv-empty" data-gallery="{escape(name)}">No faces here.</p>'
    hrefs = hrefs or [None] * len(items)
    cards = "".join(card_html(it, h) for it, h in zip(items, hrefs))
    return (f'{GALLERY_CSS}<div class="fv-gallery" data-gallery="{escape(name)}" '
            f'data-count="{len(items)}">{cards}</div>')


def face_uri(face: np.ndarray, scale: int = 4) -> str:
    """A face as a PNG data URI, upscaled with nearest-neighbour pixels."""
    from .viz.thumbs import png_uri

    return png_uri(np.kron(np.asarray(face, np.uint8), np.ones((scale, scale), np.uint8)))


def saliency_html(face: np.ndarray, panels: Sequence[tuple[str, np.ndarray, Mapping[str, float]]],
                  top: int = 4) -> str:
    """The inspector's panel: the face, then one overlay per method with its ``top`` region
    shares. ``panels`` holds (title, 48 x 48 map in [0, 1], region shares)."""
    from .viz.overlays import overlay
    from .viz.thumbs import png_uri

    figs = [f'<figure><img src="{face_uri(face)}" alt="face"><figcaption>face'
            "</figcaption></figure>"]
    for title, sal, shares in panels:
        ranked = sorted(((v, k) for k, v in shares.items() if k != "other" and v == v),
                        reverse=True)[:top]
        rows = "".join(f"<tr><td>{escape(k)}</td><td>{v:.0%}</td></tr>" for v, k in ranked)
        figs.append(f'<figure data-method="{escape(title)}"><img src="'
                    f'{png_uri(overlay(face, sal, scale=4))}" alt="{escape(title)}">'
                    f"<figcaption>{escape(title)}</figcaption><table>{rows}</table></figure>")
    return f'{GALLERY_CSS}<div class="fv-panel">{"".join(figs)}</div>'


# --- small table views ------------------------------------------------------------------------

AMBIGUITY_SORTS = {  # key: (label, column, ascending)
    "entropy": ("entropy (most uncertain first)", "entropy", False),
    "margin": ("margin (closest call first)", "margin", True),
    "human": ("human disagreement (FER+ vote entropy, highest first)", "human_entropy", False),
}


def sort_ambiguous(df: pd.DataFrame, by: str, human: pd.DataFrame | None = None,
                   errors_only: bool = False) -> pd.DataFrame:
    """The table sorted for the Ambiguous page (``by`` a key of :data:`AMBIGUITY_SORTS`),
    with the human columns of :func:`ferviz.analysis.ambiguity.human` joined when given.

    Raises:
        FervizError: for an unknown sort, or human disagreement without FER+ votes.
    """
    if by not in AMBIGUITY_SORTS:
        raise FervizError(f"unknown sort {by!r}")
    _, column, ascending = AMBIGUITY_SORTS[by]
    out = df if human is None else df.join(human)
    if column not in out.columns:
        raise FervizError("sorting by human disagreement needs FER+ votes (--ferplus)")
    if errors_only:
        out = out[out["label"].isin(EMOTIONS) & (out["label"] != out["pred"])]
    return out.sort_values(column, ascending=ascending, kind="stable")


def table_bytes(df: pd.DataFrame) -> bytes:
    """A predictions table as parquet bytes (for a download button)."""
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()
