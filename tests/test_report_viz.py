"""Figure builders and inline thumbnails used by the report (and the dashboard)."""

from __future__ import annotations

import base64
import io
import xml.etree.ElementTree as ET

import numpy as np
import plotly.graph_objects as go
import pytest
from test_analysis import CONF, PRED, TRUE, make_table

from ferviz.analysis import calibration, compare, metrics, slices
from ferviz.viz import figures, thumbs


def decode(uri: str) -> bytes:
    head, data = uri.split(",", 1)
    assert head.endswith(";base64")
    return base64.b64decode(data)


def test_png_uri_is_lossless(rng):
    from PIL import Image

    face = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    uri = thumbs.png_uri(face)
    assert uri.startswith("data:image/png;base64,")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(decode(uri)))), face)
    rgb = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    webp = thumbs.image_uri(rgb, "WEBP")
    assert webp.startswith("data:image/webp;base64,")
    assert Image.open(io.BytesIO(decode(webp))).size == (48, 48)


def test_prob_bars_escape_and_scale():
    uri = thumbs.prob_bars([0.5, 0.25, 0.25], labels=["<script>", "b&c", "x"], true="b&c")
    svg = decode(uri).decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # well-formed XML
    ns = "{http://www.w3.org/2000/svg}"
    paths = root.findall(f".//{ns}path")
    widths = [float(p.get("d").split("h")[1]) for p in paths]
    assert widths[0] == pytest.approx(2 * widths[1]) and widths[1] == widths[2]
    assert paths[0].get("stroke") == "#1f3b73" and paths[1].get("stroke") == "#e07b00"
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "50%" in texts and "<script>" in texts


def test_figures_from_analysis_outputs():
    df = make_table(TRUE, PRED, CONF, tag=["a"] * 5 + ["<b>x</b>"] * 5)
    counts, rates = metrics.confusion(df), metrics.confusion(df, normalize=True)
    cm = figures.confusion_heatmap(counts, rates)
    assert isinstance(cm, go.Figure)
    z = np.asarray(cm.data[0].z)
    assert np.allclose(z, rates.to_numpy())
    assert list(cm.data[0].customdata[4][6][:2]) == ["sad", "neutral"]
    assert cm.data[0].customdata[4][6][2] == 2 and cm.data[0].text[0][1] == ""
    f1 = figures.f1_bars(metrics.class_report(df))
    assert [t.name for t in f1.data] == ["precision", "recall", "f1"]
    assert list(f1.data[2].x) == list(metrics.per_class(df).index)
    rel = figures.reliability_curve(calibration.reliability(df, 5))
    assert len(rel.data[1].x) == (calibration.reliability(df, 5)["count"] > 0).sum()
    hist = figures.confidence_histogram(calibration.confidence_hist(df, 10))
    assert sum(hist.data[0].y) + sum(hist.data[1].y) == 10
    other = make_table(TRUE, TRUE)
    d = figures.delta_bars(compare.deltas(df, other), "a", "<i>b</i>")
    assert d.data[0].y[0] == pytest.approx(0.5) and "&lt;i&gt;" in d.layout.title.text
    dis = figures.disagreement_heatmap(compare.disagreement(df, other))
    assert np.asarray(dis.data[0].z).sum() == 10
    s = figures.slice_bars(slices.by_slice(df, "tag"))
    assert "&lt;b&gt;x&lt;/b&gt;" in list(s.data[0].x)
    amb = figures.ambiguity_scatter(np.arange(4.0), np.arange(4.0), [True, False, True, True])
    assert len(amb.data[0].x) == 3 and len(amb.data[1].x) == 1
