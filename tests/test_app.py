"""The dashboard in-process (``streamlit.testing.v1.AppTest``) on FER-Synth: every page, its
widgets, selections that change what is shown, bad input shown in the page; and its plain
helpers (settings, clickable confusion matrix, galleries)."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT

from ferviz.dashboard import settings as dset
from ferviz.dashboard import uploads
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS

APP = str(ROOT / "app.py")
TIMEOUT = 90


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch, tmp_path_factory):
    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))  # st.cache_data
    for var in (*dset.ENV.values(), "FERVIZ_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT / "tests")  # no ferviz.toml here


@pytest.fixture(scope="module")
def synth_preds(synth_model):
    """The app's table for FER-Synth test: the same model on the same faces."""
    from ferviz.data import open_data
    from ferviz.predict import predict

    records = open_data("synth", split="test")
    return predict(synth_model, records), records


def app(**params):
    """The app after its first run, opened on a URL with these query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({k: str(v) for k, v in params.items()})
    return at.run()


def ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def htmls(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


def gallery(at, name: str) -> tuple[int, list[str]]:
    """(data-count, card ids) of the gallery called ``name``."""
    text = htmls(at)
    m = re.search(rf'data-gallery="{re.escape(name)}" data-count="(\d+)"', text)
    if m is None:
        assert f'class="fv-empty" data-gallery="{name}"' in text, f"no gallery {name}"
        return 0, []
    block = text[m.start():]
    return int(m.group(1)), re.findall(r'class="fv-face" data-id="([^"]+)"', block)


def png(face: np.ndarray, side: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(face).resize((side, side), Image.NEAREST).save(buf, "PNG")
    return buf.getvalue()


# --- pages ------------------------------------------------------------------------------------

def test_opens_on_fer_synth_with_banner_and_overview(synth_preds):
    df, _ = synth_preds
    at = app()
    ok(at)
    assert any("FER2013" in i.value and "--data" in i.value for i in at.info)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{df['correct'].mean():.1%}"
    assert metrics["Labelled faces"] == f"{len(df):,}"
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and len(at.dataframe) == 1
    balance = json.loads(charts[1].proto.spec)["data"][0]["x"]
    assert balance == list(EMOTIONS)  # the emotions' order, as in every chart
    assert at.query_params["page"] == ["overview"] or at.query_params["page"] == "overview"
    assert at.sidebar.selectbox(key="w_model_choice").value == "fer_synth_cnn"
    assert at.sidebar.selectbox(key="w_split").value == "test"


def test_confusion_selection_opens_the_cell_sorted_by_confidence(synth_preds):
    from ferviz.analysis.confusions import cell, top_confusions

    df, _ = synth_preds
    true, pred = top_confusions(df, 1)[["true", "pred"]].iloc[0]
    at = app(page="confusion")
    ok(at)
    at.selectbox(key="w_true").set_value(true)
    at.selectbox(key="w_pred").set_value(pred).run()
    ok(at)
    expected = cell(df, true, pred)
    count, ids = gallery(at, f"{true}:{pred}")
    assert count == len(expected) > 0
    assert ids == list(expected["id"].head(24))  # most confident first
    assert (at.query_params["true"], at.query_params["pred"]) in ((true, pred), ([true], [pred]))
    at.slider(key="w_n").set_value(4).run()
    assert gallery(at, f"{true}:{pred}")[0] == min(4, len(expected))


def test_drill_down_reopens_from_the_url(synth_preds):
    df, _ = synth_preds
    at = app(page="confusion", true="happy", pred="happy", n=8)
    ok(at)
    count, ids = gallery(at, "happy:happy")
    happy = df[(df["label"] == "happy") & (df["pred"] == "happy")]
    assert count == 8 and ids == list(happy.sort_values("confidence", ascending=False,
                                                        kind="stable")["id"].head(8))
    assert at.selectbox(key="w_true").value == "happy"
    assert "page=inspector" in htmls(at)  # each face links to the inspector


def test_ambiguous_sorts_change_the_order(synth_preds):
    df, _ = synth_preds
    at = app(page="ambiguous")
    ok(at)
    sort = at.selectbox(key="w_sort")
    assert len(sort.options) == 3  # close calls, entropy, margin (no FER+ votes)
    from ferviz.analysis.ambiguity import ambiguous

    _, ids = gallery(at, "ambiguous:close")  # the report's and the Python door's set, in order
    assert ids == list(ambiguous(df)["id"].head(24))
    sort.set_value("entropy").run()
    _, ids = gallery(at, "ambiguous:entropy")
    assert ids == list(df.sort_values("entropy", ascending=False, kind="stable")["id"].head(24))
    at.selectbox(key="w_sort").set_value("margin")
    at.checkbox(key="w_errors").check().run()
    ok(at)
    _, ids = gallery(at, "ambiguous:margin")
    wrong = df[~df["correct"]].sort_values("margin", kind="stable")
    assert ids == list(wrong["id"].head(24))


def test_inspector_shows_saliency_for_a_chosen_target(synth_preds):
    df, _ = synth_preds
    face = str(df["id"].iloc[7])
    at = app(page="inspector", sample=face)
    ok(at)
    assert at.selectbox(key="w_sample").value == face
    text = htmls(at)
    pred = df["pred"].iloc[7]
    assert f'data-method="gradcam ({pred})"' in text and f'data-method="occlusion ({pred})"' in text
    at.selectbox(key="w_target").set_value("sad")
    at.selectbox(key="w_contrast").set_value("neutral")
    at.multiselect(key="w_methods").set_value(["gradcam"]).run()
    ok(at)
    text = htmls(at)
    assert 'data-method="gradcam (sad-neutral)"' in text and "occlusion (" not in text
    assert re.search(r"<td>(mouth|brows|left_eye|right_eye|nose|cheeks|chin|forehead)</td>"
                     r"<td>\d+%</td>", text)


@pytest.fixture(scope="module")
def second_model(tmp_path_factory, synth_model):
    """A second model file: the zoo model with a perturbed classifier (sidecar names its
    architecture)."""
    import torch
    from safetensors.torch import save_file

    sd = {k: v.clone() for k, v in synth_model.net.state_dict().items()}
    last = [k for k in sd if k.endswith("weight")][-1]
    sd[last] += torch.randn(sd[last].shape, generator=torch.Generator().manual_seed(0)) * 0.3
    path = tmp_path_factory.mktemp("second") / "noisy.safetensors"
    save_file(sd, str(path))
    path.with_name(path.name + ".json").write_text('{"arch": "synth_cnn"}')
    return path


def test_compare_models_shows_deltas_and_disagreements(synth_preds, second_model, monkeypatch):
    from ferviz.analysis import compare as cmp
    from ferviz.models.load import load_model
    from ferviz.predict import predict

    df, records = synth_preds
    other = predict(load_model(str(second_model)), records)
    monkeypatch.setenv("FERVIZ_ROOTS", str(second_model.parent))
    at = app(page="compare", compare="(model file)", compare_path=second_model)
    ok(at)
    dis = cmp.disagreements(df, other)
    count, ids = gallery(at, "disagreements")
    assert count == min(24, len(dis)) > 0 and ids == list(dis["id"].head(24))
    metrics = {m.label: m.value for m in at.metric}
    test = cmp.mcnemar(df, other)
    assert metrics["Only A right / only B right"] == f"{test['only_a']} / {test['only_b']}"
    assert len(at.get("plotly_chart")) == 2
    assert "noisy.safetensors" in htmls(at)  # B's bars in the gallery are labelled


def test_try_it_predicts_an_upload_and_survives_bad_ones(synth_preds, synth_model, tmp_path):
    import torch

    _, records = synth_preds
    face = records.images()[3]
    with torch.inference_mode():
        x = torch.from_numpy(face[None, None]).float() / 255
        want = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"][
            int(synth_model(x).argmax())]
    at = app(page="try")
    ok(at)
    assert at.get("file_uploader") and at.toggle(key="camera_on").value is False
    uploader = at.get("file_uploader")[0]
    bad = [("notes.png", b"this is not an image", "image/png"),
           ("empty.png", b"", "image/png"),
           ("wall.png", png(np.full((48, 48), 128, np.uint8), 400), "image/png")]
    for name, data, mime in bad:
        uploader.set_value((name, data, mime))
        at.run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert any(e.startswith(("Cannot use this image", "No face was found")) for e in errors)
        # said of the upload: never the server's copy of it, never a command-line flag
        assert not any("uploads" in e or " --" in e for e in errors), errors
        uploader = at.get("file_uploader")[0]
    uploader.set_value(("face.png", png(face, 96), "image/png"))
    at.run()
    ok(at)
    assert any(f"predicted {want}" in m.value for m in at.markdown)
    assert f'data-pred="{want}"' in htmls(at) and 'data-method="gradcam (' in htmls(at)
    assert any(c.value.startswith(("regions: landmarks (", "regions: fixed boxes ("))
               for c in at.caption)  # which regions the shares were read with


def test_upload_limit_is_enforced():
    limit = 25
    with pytest.raises(FervizError, match="upload limit is 25 MB"):
        uploads.check_upload_size(limit * 1024 * 1024 + 1, limit)
    uploads.check_upload_size(1000, limit)
    config = (ROOT / ".streamlit" / "config.toml").read_text()
    assert re.search(r"^maxUploadSize = 25$", config, re.M)


def test_export_offers_parquet_and_builds_the_report(synth_preds):
    df, _ = synth_preds
    at = app(page="export", true="neutral", pred="sad")
    ok(at)
    radio = at.radio(key="w_scope")
    assert len(radio.options) == 3 and "true neutral → predicted sad" in radio.options[2]
    radio.set_value("cell").run()
    n = int(((df["label"] == "neutral") & (df["pred"] == "sad")).sum())
    assert any("parquet" in b.label and f"({n} rows" in b.label
               for b in at.get("download_button"))
    at.button(key="build_report").click().run()
    ok(at)
    key, html = at.session_state["report"]
    assert html.startswith("<!DOCTYPE html>") or "<html" in html[:200]
    assert any(b.label.startswith("HTML report") for b in at.get("download_button"))


def test_bad_data_path_is_shown_and_the_app_recovers():
    at = app()
    at.sidebar.selectbox(key="w_kind").set_value("fer2013").run()
    at.sidebar.text_input(key="w_path").input("nonexistent/fer2013.csv").run()
    assert not at.exception and any("no such file" in e.value for e in at.error)
    for outside in ("/etc/passwd", "../../../../etc/passwd"):  # not under the roots
        at.sidebar.text_input(key="w_path").input(outside).run()
        errors = [e.value for e in at.error]
        assert any("outside the folders this dashboard may open" in e for e in errors)
        assert not any("passwd" in e for e in errors)  # the path is not echoed back
    at.sidebar.selectbox(key="w_kind").set_value("synth").run()
    ok(at)
    assert at.metric


def test_fer2013_csv_from_the_environment(monkeypatch, tmp_path, synth_preds):
    """FERVIZ_DATA pointing at a FER2013-format csv opens it on PrivateTest, with the best
    FER2013 zoo model or a note saying there is none."""
    _, records = synth_preds
    faces, labels = records.images()[:60], records.labels[:60]
    usage = ["Training"] * 20 + ["PublicTest"] * 20 + ["PrivateTest"] * 20
    pd.DataFrame({"emotion": labels, "pixels": [" ".join(map(str, f.ravel())) for f in faces],
                  "Usage": usage}).to_csv(tmp_path / "fer2013.csv", index=False)
    monkeypatch.setenv("FERVIZ_DATA", str(tmp_path / "fer2013.csv"))
    at = app()
    ok(at)
    assert at.sidebar.selectbox(key="w_kind").value == "fer2013"
    assert at.sidebar.selectbox(key="w_split").value == "PrivateTest"
    assert not any("FER-Synth demo set" in i.value for i in at.info)
    best, note = dset.default_model(str(tmp_path / "fer2013.csv"))
    assert at.sidebar.selectbox(key="w_model_choice").value == best
    assert bool(note) == any(note and note in w.value for w in at.warning)
    assert {m.label: m.value for m in at.metric}["Labelled faces"] == "20"


# --- plain helpers ----------------------------------------------------------------------------

def test_settings_precedence_and_files(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "ferviz.toml").write_text('[dashboard]\ndata = "data"\nsplit = "val"\n'
                                          'model = "fer_synth_cnn"\n')
    s = dset.resolve_settings([], {}, tmp_path)
    assert s.data == str(tmp_path / "data") and s.split == "val"
    assert s.origin["data"].endswith("ferviz.toml") and s.origin["labels"] == "default"
    s = dset.resolve_settings([], {"FERVIZ_SPLIT": "test"}, tmp_path)
    assert s.split == "test" and s.origin["split"] == "environment"
    s = dset.resolve_settings(["--split", "train", "--labels", "ferplus-dist"],
                              {"FERVIZ_SPLIT": "test"}, tmp_path)
    assert (s.split, s.labels, s.origin["split"]) == ("train", "ferplus-dist", "argument")
    assert dset.resolve_settings([], {}, tmp_path / "data").data == "synth"


@pytest.mark.parametrize("argv, env, toml, message", [
    (["--bogus"], {}, None, "unknown dashboard argument"),
    (["--labels", "votes"], {}, None, "dashboard arguments"),
    ([], {"FERVIZ_LABELS": "votes"}, None, "labels must be one of"),
    ([], {}, "[dashboard]\ncolour = 1\n", "unknown setting"),
    ([], {}, "[dashboard\n", "not a readable settings file"),
    ([], {"FERVIZ_SETTINGS": "/nonexistent.toml"}, None, "settings file not found"),
])
def test_bad_settings_are_explained(tmp_path, argv, env, toml, message):
    if toml is not None:
        (tmp_path / "ferviz.toml").write_text(toml)
    with pytest.raises(FervizError, match=message):
        dset.resolve_settings(argv, env, tmp_path)


def test_clickable_matrix_keeps_the_heatmap_and_selects_cells(synth_preds):
    from ferviz.analysis.metrics import confusion
    from ferviz.dashboard.pages.confusion import selected_cell
    from ferviz.viz.figures import clickable, confusion_heatmap

    df, _ = synth_preds
    fig = clickable(confusion_heatmap(confusion(df), confusion(df, True)), ("sad", "fear"))
    heat, cells = fig.data
    assert heat.type == "heatmap" and cells.type == "scatter" and len(cells.x) == 49
    k = list(cells.x).index("fear") + 7 * 4  # row sad, column fear
    assert (cells.y[k], cells.x[k]) == ("sad", "fear")
    assert cells.customdata[k][2] == ((df["label"] == "sad") & (df["pred"] == "fear")).sum()
    assert fig.layout.shapes[0].x0 == 1.5 and fig.layout.shapes[0].y0 == 3.5
    point = {"x": "fear", "y": "sad", "customdata": list(cells.customdata[k])}
    assert selected_cell([point]) == ("sad", "fear")
    assert selected_cell([{"x": 1, "y": 2}]) is None and selected_cell([]) is None


def test_gallery_html_escapes_everything(synth_preds):
    from ferviz.viz.gallery import Gallery
    from ferviz.viz.html import gallery_html

    df, records = synth_preds
    evil = df.head(2).copy()
    evil.loc[0, "id"] = '<script>alert("x")</script>'
    items = Gallery(evil, records.images()[:2]).items([0, 1], ['<img src=x onerror=alert(1)>',
                                                             ""])
    html = gallery_html(items, ['?a="><script>', None], name="<b>")
    assert "<script>" not in html and "<img src=x" not in html and "<b>" not in html
    assert html.count('class="fv-face"') == 2 and "&lt;script&gt;" in html


def test_uploads_are_kept_by_content(tmp_path):
    a = uploads.upload_path(b"one", "../../etc/passwd", tmp_path)
    b = uploads.upload_path(b"two", "../../etc/passwd", tmp_path)
    assert a != b and a.read_bytes() == b"one" and tmp_path in a.parents
    assert uploads.upload_path(b"one", "x y.png", tmp_path).name == "x_y.png"


def test_a_tampered_url_falls_back_to_defaults():
    at = app(page="bogus", n="9999", true="nobody", methods="gradcam,<script>", split="nope")
    ok(at)
    assert at.sidebar.radio(key="w_page").value == "overview"
    assert at.sidebar.selectbox(key="w_split").value == "test"
    at.sidebar.radio(key="w_page").set_value("confusion").run()
    ok(at)
    assert at.slider(key="w_n").value == 96 and at.selectbox(key="w_true").value == "sad"
    at.sidebar.radio(key="w_page").set_value("inspector").run()
    ok(at)
    assert at.multiselect(key="w_methods").value == ["gradcam"]


def test_a_ck_style_folder_shows_subjects_contempt_and_its_audit(monkeypatch, tmp_path):
    from dataset_folders import build_ck

    root = build_ck(tmp_path / "ck")
    monkeypatch.setenv("FERVIZ_DATA", str(root))
    monkeypatch.setenv("FERVIZ_ROOTS", str(tmp_path))
    at = app()
    ok(at)
    assert "subject" in at.selectbox(key="w_by").options
    assert any("cluster bootstrap over" in c.value and "subjects" in c.value
               for c in at.caption)
    assert at.sidebar.selectbox(key="w_contempt").value == ""
    at.sidebar.radio(key="w_page").set_value("audit").run()
    ok(at)
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Faces"].replace(",", "")) > 0 and "Exact duplicates" in metrics
