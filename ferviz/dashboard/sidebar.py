"""The sidebar: data set, split and model -> the :class:`Context` every page works on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from ..errors import FervizError
from ..specs import LABEL_MODES, SYNTH, DataSpec, ModelSpec
from . import resources as res
from .jobs import ready
from .settings import Settings, default_model, default_split, synth_banner
from .state import get, put, state, ui

KINDS = {"synth": "FER-Synth demo set", "fer2013": "FER2013 csv", "folder": "Image folder"}
FILE, UPLOAD = "(model file)", "(upload a checkpoint)"  # model choices besides the zoo
CONTEMPT = {"": "the source's default (FER+ votes: merge; folders: drop)",
            "merge": "merge into neutral", "drop": "drop"}
MODEL_TYPES = ["safetensors", "pt", "pth", "bin", "ckpt", "onnx", "h5", "hdf5", "keras"]


@dataclass(frozen=True)
class Context:
    """What every page works on."""

    settings: Settings
    ms: ModelSpec
    ds: DataSpec
    tta: bool
    kind: str
    df: pd.DataFrame

    @property
    def model(self):
        return res.model(self.ms)

    @property
    def faces(self) -> np.ndarray:
        return res.faces(self.ds)

    @property
    def name(self) -> str:
        return self.ms.name()


def data_spec(cfg: Settings) -> tuple[DataSpec, str]:
    """Data set widgets -> (spec of all faces, kind)."""
    sb = st.sidebar
    start = get("data") or cfg.data
    guess = DataSpec(start).kind() if start else "synth"
    guess = guess if guess in KINDS else ("fer2013" if str(start).lower().endswith(
        ("csv", "gz", "xz")) else "folder")
    kind = ui(sb.selectbox, "kind", "Dataset", list(KINDS), default=guess,
              format_func=KINDS.get)
    if kind == "synth":
        return DataSpec(put("data", SYNTH)), kind
    path = ui(sb.text_input, "path", "Path on the server" if kind == "folder" else
              "fer2013.csv (.csv, .gz or .xz)", default=start if start != SYNTH else "")
    put("data", path)
    if not path:
        raise FervizError("give the data set's path in the sidebar")
    data = str(cfg.allowed(path))
    ferplus, labels = None, "fer2013"
    if kind == "fer2013":
        ferplus = ui(sb.text_input, "ferplus", "FER+ votes (fer2013new.csv, optional)",
                     default=cfg.ferplus or "") or None
        labels = ui(sb.selectbox, "labels", "Labels", LABEL_MODES, default=cfg.labels)
        ferplus = str(cfg.allowed(ferplus)) if ferplus else None
    contempt = None
    if kind == "folder" or ferplus:
        contempt = ui(sb.selectbox, "contempt", "Contempt faces", list(CONTEMPT),
                      format_func=CONTEMPT.get) or None
    return DataSpec(data, None, labels, ferplus, contempt, confine=True), kind


def split_spec(ds: DataSpec, kind: str, cfg: Settings) -> DataSpec:
    """The split selectbox (splits of the loaded data set)."""
    with st.spinner("Loading the data set…"):
        splits = [str(x) for x in dict.fromkeys(res.all_records(ds).splits)]
    default = cfg.split if cfg.split in splits else default_split(kind, splits)
    return ds.with_split(ui(st.sidebar.selectbox, "split", "Split", splits, default=default))


def model_spec(cfg: Settings, data: str) -> tuple[ModelSpec, str | None]:
    """Model widgets -> (spec, note about the default)."""
    from ..app.catalog import zoo_names

    sb, names = st.sidebar, zoo_names()
    fallback, note = default_model(data)
    start = get("model") or cfg.model or fallback
    choice = ui(sb.selectbox, "model_choice", "Model", [*names, FILE, UPLOAD],
                default=start if start in names else FILE)
    if choice in names:
        spec = choice
    elif choice == FILE:
        spec = ui(sb.text_input, "model_path", "Model file on the server",
                  default=start if start not in names else "")
        spec = str(cfg.allowed(spec)) if spec else ""
    else:
        spec = uploaded_checkpoint()
    put("model", spec or None)
    if not spec:
        raise FervizError("choose a model file or upload a checkpoint in the sidebar")
    if choice in names:
        return ModelSpec(spec), note if spec == fallback else None
    return file_options(spec, cfg), None


def uploaded_checkpoint() -> str | None:
    """Save an uploaded checkpoint under the cache (by content hash) and return its path."""
    from ..cache import cache_dir
    from .uploads import check_upload_size, upload_path

    f = st.sidebar.file_uploader("Checkpoint", type=MODEL_TYPES, key="model_upload")
    if f is None:
        return None
    data = f.getvalue()
    check_upload_size(len(data), st.get_option("server.maxUploadSize"))
    return str(upload_path(data, f.name, cache_dir("uploads")))


def file_options(path: str, cfg: Settings) -> ModelSpec:
    """Architecture, card options and trust of a model file. Trust is a click at the page,
    naming the file; it never comes from or goes into a link."""
    from ..app.catalog import arch_names, outputs

    sb = st.sidebar
    arch = ui(sb.selectbox, "arch", "Architecture (state dicts)", ["", *arch_names()],
              format_func=lambda a: a or "(from the file or its .json)")
    trust = sb.checkbox(f"Trust {cfg.shown(path)}: run code from it (TorchScript, unpickling a "
                        "whole model or a file.py architecture)", key=f"trust::{path}")
    with sb.expander("Card options"):
        size = ui(st.number_input, "input_size", "Input size (0: card default)",
                  min_value=0, max_value=256)
        channels = ui(st.selectbox, "channels", "Channels", [0, 1, 3],
                      format_func=lambda c: str(c) if c else "card default")
        normalize = ui(st.text_input, "normalize",
                       "Normalize (0..1, -1..1, 0..255, imagenet or MEAN,STD)")
        order = ui(st.text_input, "order", "Label order (fer2013, ferplus or names)")
        output = ui(st.selectbox, "output", "Output", ["", *outputs()],
                    format_func=lambda o: o or "card default")
        cam_layer = ui(st.text_input, "cam_layer",
                       "Grad-CAM layer (default: the last convolution with a spatial output)")
    return ModelSpec(path, arch or None, trust, size or None, channels or None,
                     normalize or None, order or None, output or None, cam_layer=cam_layer or None)


def open_context(cfg: Settings, scores: bool = True) -> Context | None:
    """Sidebar choices -> loaded data, model and predictions (errors shown in the page); the
    data set's notes and warnings only on pages that show its ``scores``."""
    try:
        ds, kind = data_spec(cfg)
        ds = split_spec(ds, kind, cfg)
        ms, note = model_spec(cfg, ds.data)
        tta = ui(st.sidebar.checkbox, "tta", "Test-time augmentation")
        n = len(res.records(ds))
        if not ready(f"predict:{ms}:{ds}:{tta}", ms, ds, tta,
                     f"predicting {n:,} faces{' with TTA' if tta else ''}"):
            return None
        with st.spinner(f"Predicting {n:,} faces (cached after the first time)…"):
            df = res.predictions(ms, ds, tta)
    except FervizError as e:
        st.error(str(e))
        return None
    if kind == "synth":
        st.info(synth_banner())
    if note:
        st.warning(note)
    for line in res.warnings(ms, ds, tta) if scores else ():
        st.warning(line.removeprefix("warning: "))
    where = "FER-Synth" if kind == "synth" else cfg.shown(ds.data)
    st.caption(f"**{ms.name()}** on **{KINDS[kind]}** `{where}` · split **{ds.split}** · "
               f"{len(df):,} faces{' · TTA' if tta else ''}")
    return Context(cfg, ms, ds, tta, kind, df)


__all__ = ["Context", "open_context", "state"]
