"""Try it: upload or take a photo; its faces are detected, predicted and explained."""

from __future__ import annotations

from html import escape

import streamlit as st

from ...errors import FervizError
from .. import resources as res
from .. import trust
from ..page import Page
from ..sidebar import Context
from ..state import ui

PHOTO_TYPES = ["png", "jpg", "jpeg", "bmp", "webp", "tif", "tiff", "gif"]


def render(ctx: Context) -> None:
    from ...app.catalog import methods as registered
    from ...app.explaining import NoFace
    from ...cache import cache_dir
    from ..uploads import check_upload_size, upload_path

    limit = st.get_option("server.maxUploadSize")
    c = st.columns([2, 1])
    upload = c[0].file_uploader(f"A photo (up to {limit} MB)", type=PHOTO_TYPES, key="photo")
    whole = ui(c[1].checkbox, "whole", "The image is one face (no detection)")
    camera = c[1].toggle("Use the camera", key="camera_on")
    shot = st.camera_input("Take a photo", key="camera") if camera else None
    methods = ui(st.multiselect, "try_methods", "Methods", registered())
    image = shot or upload
    if image is None:
        st.info("Upload a photo or take one with the camera.")
        return
    path = None
    try:
        data = image.getvalue()
        check_upload_size(len(data), limit)
        path = upload_path(data, image.name or "camera.jpg", cache_dir("uploads"))
        with st.spinner("Finding, predicting and explaining the faces…"):
            faces = res.photo_results(ctx.ms, str(path), "never" if whole else "auto",
                                      tuple(methods), "pred")
    except NoFace:
        st.error("No face was found in this image. If it is a face crop, tick *The image is "
                 "one face*.")
        return
    except FervizError as e:  # said of the upload, never of the server's copy of it
        text = str(e).replace(str(path), image.name or "it") if path else str(e)
        st.error(f"Cannot use this image: {text}")
        return
    show_faces(ctx, faces)


def show_faces(ctx: Context, faces: list) -> None:
    """Each face of a photo: prediction, probabilities and saliency panel, with the trust
    badge of each method (checked on the sidebar's model and data)."""
    from dataclasses import replace

    from ...viz.html import saliency_html
    from ...viz.thumbs import prob_bars

    st.success(f"{len(faces)} face{'s' if len(faces) > 1 else ''} found")
    found = trust.verdicts(ctx, list(faces[0].maps) if faces else [])
    trust.show(found)
    checked = {m: v for m, v in found.items() if v is not None}
    faces = [replace(f, trust=checked) for f in faces]
    for k, f in enumerate(faces):
        top = f.top(3)
        st.markdown(f"**Face {k + 1}: predicted {top[0][0]}** ({top[0][1]:.1%}) · then "
                    + ", ".join(f"{e} {p:.1%}" for e, p in top[1:]))
        a, b = st.columns([1, 3])
        a.html(f'<div class="fv-prediction" data-pred="{escape(top[0][0])}">'
               f'<img src="{prob_bars(f.probs)}" alt="probabilities" style="width:240px">'
               "</div>")
        ev = f.evidence
        panels = [(s.titles()[0], s.maps[0], dict(zip(ev[m].regions, ev[m].shares[0])))
                  for m, s in f.maps.items()]
        areas = next((dict(zip(e.regions, e.area)) for e in ev.values()), None)
        b.html(saliency_html(f.face, panels, areas))
        b.caption(f"regions: {f.regions} ({f.regions_why})")
        for m in f.maps:
            (b.warning if f.warning(m) else b.caption)(f"{m}: " + "; ".join(f.caption(m)))


PAGE = Page("try", "Try it", 60, render, scores=False)
