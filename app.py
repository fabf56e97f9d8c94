"""The ferviz dashboard: ``streamlit run app.py [-- --data fer2013.csv.xz --ferplus ...]``.

Widgets and layout only: the analyses, figures, galleries and explanations come from the
``ferviz`` package, and the plain helpers (settings, URL state, HTML) from
:mod:`ferviz.dashboard`. Every choice lives in the page URL, so a view can be shared.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from ferviz import dashboard as dash
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS

PAGES = {"overview": "Overview", "confusion": "Confusion matrix",
         "ambiguous": "Ambiguous samples", "inspector": "Sample inspector",
         "compare": "Compare models", "try": "Try it", "export": "Export"}
KINDS = {"synth": "FER-Synth demo set", "fer2013": "FER2013 csv", "folder": "Image folder"}
FILE, UPLOAD = dash.MODEL_FILE, dash.MODEL_UPLOAD
DEFAULT_METHODS = "gradcam,occlusion"
PHOTO_TYPES = ["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff", "gif"]
MODEL_TYPES = ["safetensors", "pt", "pth", "bin", "ckpt", "onnx"]


# --- state: one dict per session, mirrored in the URL -----------------------------------------

def state() -> dict[str, str]:
    """This session's choices as strings (seeded from the URL on the first run)."""
    if "fv" not in st.session_state:
        st.session_state["fv"] = {k: str(v) for k, v in st.query_params.to_dict().items()}
    return st.session_state["fv"]


def bind(key: str, default: Any = None, options: list | None = None,
         decode: Callable[[str], Any] = str) -> str:
    """The widget key of ``state[key]``, seeding the widget from the state (or ``default``)
    when it has no value yet, and repairing values that are no longer among ``options``."""
    s, wk = state(), f"w_{key}"
    try:
        seeded = decode(s[key]) if key in s else default
    except (TypeError, ValueError):
        seeded = default
    if options is not None and seeded not in options:
        seeded = default if default in options else (options[0] if options else None)
    current = st.session_state.get(wk, seeded)
    if wk not in st.session_state or (options is not None and current not in options):
        if seeded is not None:
            st.session_state[wk] = seeded
    return wk


def keep(key: str, value: Any) -> Any:
    """Store a widget's value in the state (the URL form) and return it."""
    if isinstance(value, bool):
        state()[key] = "1" if value else "0"
    elif isinstance(value, (list, tuple)):
        state()[key] = ",".join(map(str, value))
    elif value is None:
        state().pop(key, None)
    else:
        state()[key] = str(value)
    return value


def sync_url() -> None:
    """Write the state into the page URL (only when it changed)."""
    want = {k: v for k, v in state().items() if v not in ("", None)}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def flag(text: str) -> bool:
    return text == "1"


def methods_list(text: str) -> list[str]:
    """Registered explanation methods named in a comma-separated list (others dropped)."""
    from ferviz.explain import METHODS

    return [m for m in text.split(",") if m in METHODS]


def clamped(low: int, high: int) -> Callable[[str], int]:
    """A decoder of integers that keeps URL values inside a widget's range."""
    return lambda text: min(max(int(text), low), high)


# --- cached resources ---------------------------------------------------------------------------

def settings() -> dash.Settings:
    """Settings from ``--`` arguments (when run as ``streamlit run app.py -- ...``), the
    environment and the settings file."""
    own = os.path.basename(sys.argv[0]) == os.path.basename(__file__)
    return dash.resolve_settings(sys.argv[1:] if own else [])


@st.cache_resource(show_spinner=False)
def torch_lock() -> threading.RLock:
    """One lock around model calls: sessions share cached models, and explanation hooks
    must not see another session's forward pass."""
    return threading.RLock()


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the explanation libraries in the background (pytorch-grad-cam alone takes
    seconds), so the first saliency panel is quick."""
    def work() -> None:
        time.sleep(2)  # let the first page draw first
        import pytorch_grad_cam  # noqa: F401

        import ferviz.explain.cam  # noqa: F401
        import ferviz.explain.gradients  # noqa: F401
        import ferviz.models.load  # noqa: F401
    thread = threading.Thread(target=work, name="ferviz-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False, max_entries=4)
def all_records(data: str, labels: str, ferplus: str | None, stamp: str = ""):
    """A data set (``stamp`` changes when its files do)."""
    from ferviz.data import open_data

    return open_data(data, labels=labels, ferplus=ferplus or None)


@st.cache_resource(show_spinner=False, max_entries=8)
def split_records(data: str, labels: str, ferplus: str | None, split: str, stamp: str = ""):
    records = all_records(data, labels, ferplus, stamp)
    return records.split(split) if split else records


@st.cache_resource(show_spinner=False, max_entries=6)
def get_model(spec: str, arch: str, trust: bool, options: tuple, stamp: str = ""):
    """A model (``stamp`` changes when its files do)."""
    from ferviz.models.load import load_model

    return load_model(spec, arch=arch or None, trust=trust, **dict(options))


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def predictions(mkey: tuple, dkey: tuple, tta: bool) -> pd.DataFrame:
    """The predictions table (the core caches it as parquet; this copy, kept by Streamlit
    on disk too, lets the first page draw before torch is even imported)."""
    from ferviz.predict import predict

    with torch_lock():
        return predict(get_model(*mkey), split_records(*dkey), tta=tta)


@st.cache_data(show_spinner=False, max_entries=16, persist="disk")
def scores(mkey: tuple, dkey: tuple, tta: bool) -> dict[str, Any]:
    """The Overview's numbers and tables, and the confusion matrices."""
    from ferviz.analysis.confusions import top_confusions
    from ferviz.analysis.metrics import accuracy_ci, class_report, confusion, summary

    df = predictions(mkey, dkey, tta)
    return {"ci": accuracy_ci(df), "summary": summary(df), "report": class_report(df),
            "top": top_confusions(df), "counts": confusion(df),
            "rates": confusion(df, normalize=True)}


@st.cache_data(show_spinner=False, max_entries=1024)
def face_saliency(mkey: tuple, dkey: tuple, row: int, method: str, target: str):
    """One face's map, region shares, explained target and seconds for one method."""
    from ferviz.explain import explain
    from ferviz.explain.regions import region_shares

    face = split_records(*dkey).images()[row:row + 1]
    with torch_lock():
        maps = explain(get_model(*mkey), face, target=target, method=method, progress=False)
    shares = region_shares(maps.maps).iloc[0].to_dict()
    return maps.maps[0], shares, maps.target_names()[0], maps.seconds


@st.cache_data(show_spinner=False, max_entries=256)
def gallery_block(mkey: tuple, dkey: tuple, tta: bool, rows: tuple[int, ...],
                  overlay_method: str, hrefs: tuple[str, ...], name: str,
                  extra: tuple = ()) -> str:
    """A gallery of table rows as one HTML block (optionally with saliency overlays, and
    ``extra`` (name, 7 probabilities) bars per row, e.g. a second model's)."""
    from ferviz.report.gallery import Gallery
    from ferviz.report.sections import vote_shares

    df = predictions(mkey, dkey, tta)
    faces = split_records(*dkey).images()
    overlays = row_overlays(mkey, dkey, rows, overlay_method) if overlay_method else {}
    g = Gallery(df, faces, overlays, vote_shares(df))
    items = [g.item(r, probs=[(lab, pd.Series(p, index=dash.PROBS))] if lab else ())
             for r, (lab, p) in zip(rows, extra or [("", ())] * len(rows))]
    return dash.gallery_html(items, list(hrefs), name)


def row_overlays(mkey: tuple, dkey: tuple, rows: tuple[int, ...], method: str) -> dict:
    """Saliency overlays (WEBP data URIs) of some rows for the gallery."""
    from ferviz.explain import explain
    from ferviz.viz.overlays import overlay
    from ferviz.viz.thumbs import image_uri

    faces = split_records(*dkey).images()[list(rows)]
    if not len(faces):
        return {}
    with torch_lock():
        maps = explain(get_model(*mkey), faces, target="pred", method=method, progress=False)
    return {r: [(method, image_uri(overlay(f, m, scale=2), "WEBP"))]
            for r, f, m in zip(rows, faces, maps.maps)}


@st.cache_data(show_spinner=False, max_entries=64)
def photo_results(mkey: tuple, path: str, detect: str, methods: tuple[str, ...], target: str):
    """Faces of an uploaded photo, predicted and explained."""
    from ferviz.data.photos import load_photo
    from ferviz.explain.photo import explain_photo

    records = load_photo(path, detect=detect)
    with torch_lock():
        return explain_photo(records, get_model(*mkey), list(methods), target)


# --- the sidebar: data, model, page -------------------------------------------------------------

@dataclass
class Context:
    """What every page works on."""

    mkey: tuple
    dkey: tuple
    tta: bool
    kind: str
    model_name: str
    df: pd.DataFrame

    @property
    def model(self):
        return get_model(*self.mkey)

    @property
    def faces(self) -> np.ndarray:
        return split_records(*self.dkey).images()


def data_sidebar(cfg: dash.Settings) -> tuple[str, str, str | None, str]:
    """Data set widgets -> (data spec, labels, ferplus, kind)."""
    sb, s = st.sidebar, state()
    start = s.get("data", cfg.data)
    guess = dash.data_kind(start)
    if guess == "missing":
        guess = "fer2013" if start.lower().endswith(("csv", "gz", "xz")) else "folder"
    kind = keep("kind", sb.selectbox("Dataset", list(KINDS), format_func=KINDS.get,
                                     key=bind("kind", guess, list(KINDS))))
    if kind == "synth":
        data = "synth"
    else:
        path_default = start if start != "synth" else ""
        data = sb.text_input("Path on the server" if kind == "folder" else
                             "fer2013.csv (.csv, .gz or .xz)", key=bind("path", path_default))
        keep("path", data)
    keep("data", data)
    ferplus, labels = None, "fer2013"
    if kind == "fer2013":
        ferplus = keep("ferplus", sb.text_input("FER+ votes (fer2013new.csv, optional)",
                                                key=bind("ferplus", cfg.ferplus or ""))) or None
        labels = keep("labels", sb.selectbox("Labels", dash.LABEL_MODES,
                                             key=bind("labels", cfg.labels,
                                                      list(dash.LABEL_MODES))))
    return data, labels, ferplus, kind


def split_sidebar(data: str, labels: str, ferplus: str | None, kind: str, cfg) -> str:
    """The split selectbox (splits of the loaded data set)."""
    with st.spinner("Loading the data set…"):
        records = all_records(data, labels, ferplus, dash.data_stamp(data, ferplus))
    splits = [str(x) for x in dict.fromkeys(records.splits)]
    default = cfg.split if cfg.split in splits else dash.default_split(kind, splits)
    return keep("split", st.sidebar.selectbox("Split", splits,
                                              key=bind("split", default, splits)))


def model_sidebar(cfg: dash.Settings, data: str) -> tuple[tuple, bool, str | None]:
    """Model widgets -> (model key, tta, note about the default)."""
    from ferviz.models import zoo

    sb, s = st.sidebar, state()
    names = zoo.names()
    fallback, note = dash.default_model(data)
    start = s.get("model") or cfg.model or fallback
    choices = [*names, FILE, UPLOAD]
    choice = sb.selectbox("Model", choices, key=bind("model_choice",
                                                     start if start in names else FILE, choices))
    if choice in names:
        spec = choice
    elif choice == FILE:
        spec = sb.text_input("Model file on the server", key=bind(
            "model_path", start if start not in names else ""))
    else:
        spec = uploaded_checkpoint()
    keep("model", spec or None)
    arch, trust, options = "", False, ()
    if choice not in names:
        arch, trust, options = model_options()
    tta = keep("tta", sb.checkbox("Test-time augmentation", key=bind("tta", False,
                                                                     decode=flag)))
    if not spec:
        raise FervizError("choose a model file or upload a checkpoint in the sidebar")
    key = (spec, arch, trust, options, dash.model_stamp(spec))
    return key, tta, note if spec == fallback else None


def uploaded_checkpoint() -> str | None:
    """Save an uploaded checkpoint under the cache (by content hash) and return its path."""
    from ferviz.cache import cache_dir

    f = st.sidebar.file_uploader("Checkpoint", type=MODEL_TYPES, key="model_upload")
    if f is None:
        return state().get("model") if os.path.isfile(state().get("model", "")) else None
    data = f.getvalue()
    dash.check_upload_size(len(data), st.get_option("server.maxUploadSize"))
    return str(dash.upload_path(data, f.name, cache_dir("uploads")))


def model_options() -> tuple[str, bool, tuple]:
    """Architecture, trust and card options of a model file."""
    from ferviz.models.registry import list_models

    sb = st.sidebar
    archs = ["", *list_models()]
    arch = keep("arch", sb.selectbox("Architecture (state dicts)", archs, key=bind(
        "arch", "", archs), format_func=lambda a: a or "(from the file or its .json)"))
    trust = keep("trust", sb.checkbox("Trust the file (unpickle a whole model)",
                                      key=bind("trust", False, decode=flag)))
    with sb.expander("Card options"):
        size = st.number_input("Input size (0: card default)", 0, 512, key=bind(
            "input_size", 0, decode=clamped(0, 512)))
        channels = st.selectbox("Channels", [0, 1, 3], key=bind("channels", 0, [0, 1, 3], int),
                                format_func=lambda c: str(c) if c else "card default")
        normalize = st.text_input("Normalize (0..1, -1..1, 0..255 or MEAN,STD)",
                                  key=bind("normalize", ""))
        order = st.text_input("Label order (fer2013, ferplus or names)", key=bind("order", ""))
        outputs = ["", "logits", "probs", "log_probs"]
        output = st.selectbox("Output", outputs, key=bind("output", "", outputs),
                              format_func=lambda o: o or "card default")
    for k, v in (("input_size", size), ("channels", channels), ("normalize", normalize),
                 ("order", order), ("output", output)):
        keep(k, v or None)
    opts = {"input_size": size or None, "channels": channels or None,
            "normalize": normalize or None, "labels": order or None, "output": output or None}
    return arch, trust, tuple((k, v) for k, v in opts.items() if v is not None)


def open_context(cfg: dash.Settings) -> Context | None:
    """Sidebar choices -> loaded data, model and predictions (errors shown in the page)."""
    try:
        data, labels, ferplus, kind = data_sidebar(cfg)
        split = split_sidebar(data, labels, ferplus, kind, cfg)
        mkey, tta, note = model_sidebar(cfg, data)
        dkey = (data, labels, ferplus, split, dash.data_stamp(data, ferplus))
        n = len(split_records(*dkey))
        with st.spinner(f"Predicting {n:,} faces (cached after the first time)…"):
            df = predictions(mkey, dkey, tta)
        name = dash.model_name(mkey[0])
    except FervizError as e:
        st.error(str(e))
        return None
    if kind == "synth":
        st.info(dash.synth_banner())
    if note:
        st.warning(note)
    st.caption(f"**{name}** on **{KINDS[kind]}** `{data}` · split **{split}** · "
               f"{len(df):,} faces{' · TTA' if tta else ''}")
    return Context(mkey, dkey, tta, kind, name, df)


# --- pages --------------------------------------------------------------------------------------

def page_overview(ctx: Context) -> None:
    """Accuracy with CI, macro-F1, per-class F1, class balance, top confusions."""
    from ferviz.viz import figures

    df, t = ctx.df, scores(ctx.mkey, ctx.dkey, ctx.tta)
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
        st.markdown("**Class balance** (true labels and predictions)")
        balance = pd.DataFrame({"true": df["label"].value_counts(),
                                "predicted": df["pred"].value_counts()}).reindex(EMOTIONS)
        st.bar_chart(balance.fillna(0), stack=False, height=360)
    st.markdown("**Top confusions** — open them on the *Confusion matrix* page")
    st.dataframe(t["top"], hide_index=True,
                 column_config={"rate": st.column_config.NumberColumn(format="percent"),
                                "share": st.column_config.NumberColumn(format="percent"),
                                "mean_confidence": st.column_config.NumberColumn(
                                    format="%.2f")})


def on_cell_click() -> None:
    """Plotly selection -> the drill-down cell (and its selectboxes)."""
    event = st.session_state.get("cm_chart") or {}
    cell = dash.selected_cell(event.get("selection", {}).get("points", []))
    if cell:
        state()["true"], state()["pred"] = cell
        st.session_state["w_true"], st.session_state["w_pred"] = cell


def face_links(ids: pd.Series) -> tuple[str, ...]:
    """Links that open each face in the inspector (the URL carries the whole state)."""
    return tuple(dash.link(state(), page="inspector", sample=i) for i in ids)


@st.fragment
def confusion_view(ctx: Context) -> None:
    """The clickable matrix and the drill-down gallery of the selected cell."""
    from ferviz.analysis.confusions import cell
    from ferviz.viz import figures

    df, t = ctx.df, scores(ctx.mkey, ctx.dkey, ctx.tta)
    options = list(EMOTIONS)
    left, right = st.columns([3, 2])
    with right:
        true = keep("true", st.selectbox("True class", options, key=bind("true", "sad", options)))
        pred = keep("pred", st.selectbox("Predicted class", options,
                                         key=bind("pred", "neutral", options)))
        n = keep("n", st.slider("Faces shown", 4, 96, step=4,
                                key=bind("n", 24, decode=clamped(4, 96))))
        show_cam = keep("cam", st.checkbox("Grad-CAM overlays", key=bind("cam", False,
                                                                         decode=flag)))
    fig = dash.clickable(figures.confusion_heatmap(t["counts"], t["rates"]), (true, pred))
    with left:
        st.plotly_chart(fig, key="cm_chart", on_select=on_cell_click, selection_mode="points",
                        config={"displayModeBar": False})
    rows = cell(df, true, pred)
    with right:
        st.markdown(f"**true {true} → predicted {pred}: {len(rows):,} faces**, most "
                    "confident first. Click a cell or pick the classes above.")
    shown = rows.head(n)
    with st.spinner("Explaining the faces shown…" if show_cam else "Drawing the faces…"):
        html = gallery_block(ctx.mkey, ctx.dkey, ctx.tta, tuple(int(i) for i in shown.index),
                             "gradcam" if show_cam else "", face_links(shown["id"]),
                             f"{true}:{pred}")
    st.html(html)
    sync_url()


def page_confusion(ctx: Context) -> None:
    st.markdown("Click a cell of the matrix to open its faces (or choose the classes).")
    confusion_view(ctx)


def page_ambiguous(ctx: Context) -> None:
    """Faces sorted by entropy, margin or (with FER+ votes) human disagreement."""
    from ferviz.analysis import ambiguity as amb
    from ferviz.viz import figures

    df = ctx.df
    votes = amb.has_votes(df)
    sorts = [k for k in dash.AMBIGUITY_SORTS if votes or k != "human"]
    c = st.columns([2, 1, 1])
    by = keep("sort", c[0].selectbox("Sort by", sorts, key=bind("sort", sorts[0], sorts),
                                     format_func=lambda k: dash.AMBIGUITY_SORTS[k][0]))
    errors = keep("errors", c[1].checkbox("Errors only", key=bind("errors", False,
                                                                  decode=flag)))
    n = keep("n_amb", c[2].number_input("Faces shown", 4, 200, step=4,
                                        key=bind("n_amb", 24, decode=clamped(4, 200))))
    human = amb.human(df) if votes else None
    table = dash.sort_ambiguous(df, by, human, errors)
    close = amb.ambiguous(df)
    st.caption(f"{len(close):,} faces are close calls (their 3 likeliest emotions lie within "
               "10 points); the table's column headers sort it too.")
    shown = table.head(int(n))
    st.html(gallery_block(ctx.mkey, ctx.dkey, ctx.tta, tuple(int(i) for i in shown.index), "",
                          face_links(shown["id"]), f"ambiguous:{by}"))
    cols = ["id", "label", "pred", "confidence", "margin", "entropy",
            *(["human_entropy", "agreement", "majority"] if votes else [])]
    st.dataframe(table.head(500)[cols], hide_index=True)
    if votes:
        h = amb.human_vs_model(df)
        st.markdown(f"Model vs human ambiguity: Spearman {h['spearman']:.3f} over "
                    f"{h['n']:,} faces with usable votes.")
        st.plotly_chart(figures.ambiguity_scatter(df["entropy"].to_numpy(),
                                                  human["human_entropy"].to_numpy(),
                                                  df["correct"].to_numpy()))


def default_sample(df: pd.DataFrame) -> str:
    """The face the inspector opens on: the drill-down cell's first, else the most confident
    error, else the first face."""
    from ferviz.analysis.confusions import cell

    s = state()
    if "true" in s and "pred" in s:
        rows = cell(df, s["true"], s["pred"], 1)
        if len(rows):
            return str(rows["id"].iloc[0])
    wrong = df[~df["correct"]].sort_values("confidence", ascending=False)
    return str((wrong if len(wrong) else df)["id"].iloc[0])


def page_inspector(ctx: Context) -> None:
    """One face: large, its probabilities, FER+ votes and saliency from several methods."""
    from ferviz.analysis import ambiguity as amb
    from ferviz.viz.thumbs import prob_bars

    df = ctx.df
    ids = df["id"].tolist()
    sample = keep("sample", st.selectbox("Face", ids, key=bind("sample", default_sample(df),
                                                               ids)))
    row = ids.index(sample)
    r = df.iloc[row]
    left, right = st.columns([1, 3])
    with left:
        true = r["label"] if r["label"] in EMOTIONS else None
        st.html(f'<img src="{dash.face_uri(ctx.faces[row], 5)}" alt="face" '
                'style="image-rendering:pixelated;width:240px">'
                f'<p>true <b>{escape(str(r["label"]))}</b>, predicted '
                f'<b>{escape(str(r["pred"]))}</b> ({float(r["confidence"]):.1%})</p>'
                f'<p>model</p><img src="{prob_bars(r[dash.PROBS].to_numpy(float), true=true)}" '
                'alt="probabilities" style="width:240px">')
        if amb.has_votes(df):
            dist = amb.vote_distribution(df.iloc[[row]])[0]
            st.html(f'<p>FER+ votes</p><img src="{prob_bars(dist, true=true)}" '
                    'alt="votes" style="width:240px">')
            st.dataframe(r[amb.VOTES].rename("votes").to_frame())
    with right:
        saliency_view(ctx, row, str(r["pred"]))


@st.fragment
def saliency_view(ctx: Context, row: int, pred: str) -> None:
    """Saliency maps of one face side by side, target selectable (lazy, cached)."""
    from ferviz.explain import METHODS

    names = list(METHODS)
    c = st.columns([2, 1, 1])
    methods = keep("methods", c[0].multiselect("Methods", names, key=bind(
        "methods", methods_list(DEFAULT_METHODS), decode=methods_list)))
    targets = ["pred", *EMOTIONS]
    target = keep("target", c[1].selectbox("Explain", targets, key=bind("target", "pred",
                                                                       targets),
                                           format_func=lambda t: f"predicted ({pred})"
                                           if t == "pred" else t))
    against = ["", *EMOTIONS]
    contrast = keep("contrast", c[2].selectbox("…and not", against, key=bind(
        "contrast", "", against), format_func=lambda t: t or "(no contrast)"))
    explained = target if target != "pred" else pred
    spec = f"{explained}-{contrast}" if contrast and contrast != explained else target
    panels = []
    for m in [m for m in methods if m in names]:
        with st.spinner(f"{m}…"):
            sal, shares, name, _ = face_saliency(ctx.mkey, ctx.dkey, row, m, spec)
        panels.append((f"{m} ({name})", sal, shares))
    if panels:
        st.html(dash.saliency_html(ctx.faces[row], panels))
        st.caption("Under each map: the largest shares of attribution per face region.")
    else:
        st.info("Choose at least one explanation method.")
    sync_url()


def page_compare(ctx: Context) -> None:
    """Two models on the same split: deltas, McNemar, disagreements."""
    from ferviz.analysis import compare as cmp
    from ferviz.models import zoo
    from ferviz.viz import figures

    names = zoo.names()
    choices = [*names, FILE]
    c = st.columns([2, 2, 1])
    choice = keep("compare", c[0].selectbox("Second model", choices, key=bind(
        "compare", ctx.mkey[0] if ctx.mkey[0] in names else choices[0], choices)))
    spec = choice if choice in names else keep("compare_path", c[1].text_input(
        "Model file on the server", key=bind("compare_path", "")))
    tta_b = keep("compare_tta", c[2].checkbox("TTA", key=bind(
        "compare_tta", (spec, ()) == (ctx.mkey[0], ctx.mkey[3]) and not ctx.tta,
        decode=flag)))
    if not spec:
        st.info("Give the second model's file.")
        return
    mkey_b = (spec, "", False, (), dash.model_stamp(spec))
    with st.spinner("Predicting with the second model…"):
        other = predictions(mkey_b, ctx.dkey, tta_b)
    name_a = f"{ctx.model_name}{' +TTA' if ctx.tta else ''}"
    name_b = f"{dash.model_name(spec)}{' +TTA' if tta_b else ''}"
    d = cmp.deltas(ctx.df, other)
    test = cmp.mcnemar(ctx.df, other)
    k = st.columns(4)
    k[0].metric(f"Accuracy of {name_b}", f"{d.loc['accuracy', 'b']:.1%}",
                f"{d.loc['accuracy', 'delta'] * 100:+.1f} points vs {name_a}")
    k[1].metric("Macro-F1 delta", f"{d.loc['macro_f1', 'delta']:+.3f}")
    k[2].metric("Only A right / only B right", f"{test['only_a']} / {test['only_b']}")
    k[3].metric("McNemar p", f"{test['pvalue']:.3g}")
    left, right = st.columns(2)
    left.plotly_chart(figures.delta_bars(d, name_a, name_b))
    right.plotly_chart(figures.disagreement_heatmap(cmp.disagreement(ctx.df, other),
                                                    name_a, name_b))
    dis = cmp.disagreements(ctx.df, other)
    st.markdown(f"**{len(dis):,} faces the two models label differently** (most confident "
                "disagreement first)")
    disagreement_gallery(ctx, dis.head(24), name_b)


def disagreement_gallery(ctx: Context, dis: pd.DataFrame, name_b: str) -> None:
    """Gallery of disagreements with both models' probability bars."""
    where = pd.Series(range(len(ctx.df)), index=ctx.df["id"])
    rows = tuple(int(where[i]) for i in dis["id"])
    probs_b = dis[[f"p_{e}_b" for e in EMOTIONS]].to_numpy(float)
    extra = tuple((name_b, tuple(p)) for p in probs_b)
    st.html(gallery_block(ctx.mkey, ctx.dkey, ctx.tta, rows, "", face_links(dis["id"]),
                          "disagreements", extra))


def page_try(ctx: Context) -> None:
    """Upload or take a photo: faces detected, predicted and explained."""
    from ferviz.cache import cache_dir
    from ferviz.explain import METHODS

    limit = st.get_option("server.maxUploadSize")
    c = st.columns([2, 1])
    upload = c[0].file_uploader(f"A photo (up to {limit} MB)", type=PHOTO_TYPES,
                                key="photo")
    whole = keep("whole", c[1].checkbox("The image is one face (no detection)",
                                        key=bind("whole", False, decode=flag)))
    camera = c[1].toggle("Use the camera", key="camera_on")
    shot = st.camera_input("Take a photo", key="camera") if camera else None
    methods = keep("try_methods", st.multiselect("Methods", list(METHODS), key=bind(
        "try_methods", methods_list(DEFAULT_METHODS), decode=methods_list)))
    image = shot or upload
    if image is None:
        st.info("Upload a photo or take one with the camera.")
        return
    try:
        data = image.getvalue()
        dash.check_upload_size(len(data), limit)
        path = dash.upload_path(data, image.name or "camera.jpg", cache_dir("uploads"))
        with st.spinner("Finding, predicting and explaining the faces…"):
            faces = photo_results(ctx.mkey, str(path), "never" if whole else "auto",
                                  tuple(methods), "pred")
    except FervizError as e:
        hint = "" if whole else " (if it is a face crop, tick *The image is one face*)"
        st.error(f"Cannot use this image: {e}{hint}")
        return
    show_photo_faces(faces)


def show_photo_faces(faces: list) -> None:
    """Each face of a photo: prediction, probabilities and saliency panel."""
    from ferviz.viz.thumbs import prob_bars

    st.success(f"{len(faces)} face{'s' if len(faces) > 1 else ''} found")
    for k, f in enumerate(faces):
        top = f.top(3)
        st.markdown(f"**Face {k + 1}: predicted {top[0][0]}** ({top[0][1]:.1%}) · then "
                    + ", ".join(f"{e} {p:.1%}" for e, p in top[1:]))
        a, b = st.columns([1, 3])
        a.html(f'<div class="fv-prediction" data-pred="{escape(top[0][0])}">'
               f'<img src="{prob_bars(f.probs)}" alt="probabilities" style="width:240px">'
               "</div>")
        panels = [(f"{m} ({s.target_names()[0]})", s.maps[0], f.shares[m])
                  for m, s in f.maps.items()]
        b.html(dash.saliency_html(f.face, panels))


def page_export(ctx: Context) -> None:
    """Download the predictions (parquet) and the HTML report of the current selection."""
    s, df = state(), ctx.df
    cell = (s.get("true"), s.get("pred"))
    scopes = {"split": f"the whole split ({len(df):,} faces)", "errors": "the errors"}
    if all(cell):
        scopes["cell"] = f"the drill-down cell true {cell[0]} → predicted {cell[1]}"
    scope = keep("scope", st.radio("Selection", list(scopes), format_func=scopes.get,
                                   key=bind("scope", "split", list(scopes))))
    sub = selection(df, scope, cell)
    stem = "-".join(x for x in (ctx.model_name, ctx.dkey[3], scope,
                                "-".join(cell) if scope == "cell" else "") if x)
    st.download_button(f"Predictions table ({len(sub):,} rows, parquet)",
                       data=dash.table_bytes(sub), file_name=f"{stem}.parquet",
                       mime="application/vnd.apache.parquet", key="dl_parquet")
    report_section(ctx, sub, stem)


def selection(df: pd.DataFrame, scope: str, cell: tuple) -> pd.DataFrame:
    """The rows of the Export page's selection."""
    from ferviz.analysis.confusions import cell as cell_rows

    if scope == "errors":
        return df[df["label"].isin(EMOTIONS) & ~df["correct"]]
    if scope == "cell":
        return cell_rows(df, *cell)
    return df


def report_section(ctx: Context, sub: pd.DataFrame, stem: str) -> None:
    """Build the HTML report of the selection on request, then offer it."""
    from ferviz.explain import METHODS
    from ferviz.report import Options, build_html

    methods = st.multiselect("Saliency in the report's galleries", list(METHODS),
                             key="report_methods")
    key = (ctx.mkey, ctx.dkey, ctx.tta, stem, tuple(methods), len(sub))
    if st.button("Build the HTML report", key="build_report") and len(sub):
        with st.spinner(f"Building the report of {len(sub):,} faces…"), torch_lock():
            html = build_html(sub.reset_index(drop=True), ctx.faces[sub.index.to_numpy()],
                              model=ctx.model, model_card=ctx.model.card.to_dict(),
                              data_info={"data": ctx.dkey[0], "split": ctx.dkey[3],
                                         "selection": stem},
                              options=Options(saliency=tuple(methods)),
                              title=f"{ctx.model_name}: {stem}")
        st.session_state["report"] = (key, html)
    built = st.session_state.get("report")
    if built and built[0] == key:
        st.download_button(f"HTML report ({len(built[1]) / 1e6:.1f} MB)", data=built[1],
                           file_name=f"{stem}.html", mime="text/html", key="dl_report")
    elif not len(sub):
        st.info("The selection is empty.")


PAGE_FUNCS: dict[str, Callable[[Context], None]] = {
    "overview": page_overview, "confusion": page_confusion, "ambiguous": page_ambiguous,
    "inspector": page_inspector, "compare": page_compare, "try": page_try,
    "export": page_export,
}


def main() -> None:
    st.set_page_config(page_title="ferviz", page_icon="🙂", layout="wide")
    try:
        cfg = settings()
    except FervizError as e:
        st.error(f"Settings: {e}")
        cfg = dash.Settings()
    page = keep("page", st.sidebar.radio("Page", list(PAGES), format_func=PAGES.get,
                                         key=bind("page", "overview", list(PAGES))))
    st.title(PAGES[page])
    ctx = open_context(cfg)
    if ctx is not None:
        try:
            PAGE_FUNCS[page](ctx)
        except FervizError as e:
            st.error(str(e))
    sync_url()
    warm_up()


main()
