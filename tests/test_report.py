"""The HTML report: sections, escaping, atomic writes and the ``ferviz report`` command."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas as pd
import pytest

from ferviz.app.reporting import Options, build_html
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS, FERPLUS_COLUMNS
from ferviz.report import default_path, write_report

EVIL = '<script>window.__pwned = 1</script>'
EVIL_IMG = '"><img src=x onerror="window.__pwned = 2">'
TO_FERPLUS = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
              "sad": "sadness", "surprise": "surprise", "neutral": "neutral"}


def with_votes(df: pd.DataFrame, soft: np.ndarray) -> pd.DataFrame:
    """Attach FER+-style votes made from soft labels (10 annotators, rounded)."""
    df = df.copy()
    for c in FERPLUS_COLUMNS:
        df[f"votes_{c}"] = 0
    for j, e in enumerate(EMOTIONS):
        df[f"votes_{TO_FERPLUS[e]}"] = np.rint(soft[:, j] * 10).astype(int)
    return df


def synth_report(synth_test, synth_model, **options) -> str:
    """A full report of the FER-Synth model on 200 FER-Synth faces, compared with TTA."""
    from ferviz.predict import predict

    df = with_votes(predict(synth_model, synth_test), synth_test.soft)
    other = predict(synth_model, synth_test, tta=True)
    return build_html(df, synth_test.images(), model=synth_model,
                      model_card=synth_model.card.to_dict(),
                      data_info={"data": synth_test.name, "split": "test"}, compare=other,
                      compare_name="with TTA", options=Options(**options))


def evil_report(synth_test) -> str:
    """A report whose ids, splits, sources, card and names all carry markup."""
    n = 40
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.full(7, 0.5), n)
    df = pd.DataFrame({"id": [f"{EVIL}{i}.png" if i % 2 else f"{EVIL_IMG}{i}" for i in range(n)],
                       "split": [EVIL, EVIL_IMG] * (n // 2), "source": EVIL_IMG,
                       "label": [EMOTIONS[i % 7] for i in range(n)]})
    for j, e in enumerate(EMOTIONS):
        df[f"p_{e}"] = probs[:, j]
    df["pred"] = [EMOTIONS[i] for i in probs.argmax(axis=1)]
    df["confidence"] = probs.max(axis=1)
    df["margin"] = probs.max(axis=1) - np.sort(probs, axis=1)[:, -2]
    df["entropy"] = -(probs * np.log(probs)).sum(axis=1)
    df["correct"] = df["pred"] == df["label"]
    card = {"name": EVIL, "arch": EVIL_IMG, "source": EVIL, "params": 3,
            "info": {"data": EVIL, "recipe": {"note": EVIL}}}
    return build_html(df, synth_test.images()[:n], model_card=card,
                      data_info={EVIL: EVIL_IMG, "split": EVIL}, compare=df.iloc[::-1],
                      compare_name=EVIL_IMG, title=EVIL)


def strip_bundle(html: str) -> str:
    from plotly.offline import get_plotlyjs

    bundle = get_plotlyjs()
    assert html.count(bundle) == 1, "plotly.js must be inlined exactly once"
    return html.replace(bundle, "")


@pytest.fixture(scope="module")
def html(synth_test, synth_model) -> str:
    return synth_report(synth_test, synth_model)


def test_report_has_every_section(html):
    page = strip_bundle(html)
    for section in ("summary", "errors", "drilldown", "top", "ambiguity", "human",
                    "calibration", "regions", "compare"):
        assert f'<section id="{section}">' in page, section
    assert "fer_synth_cnn" in page and "95% CI" in page
    for fig in ("fig-confusion", "fig-f1", "fig-human", "fig-reliability", "fig-hist",
                "fig-deltas", "fig-disagree"):
        assert f'id="{fig}"' in page, fig
    assert "McNemar" in page and "humans agree with the model" in page


def test_drilldown_has_a_gallery_per_nonempty_cell(html, synth_test, synth_model):
    from ferviz.analysis.metrics import confusion
    from ferviz.predict import predict

    cm = confusion(predict(synth_model, synth_test))
    cells = re.findall(r'class="cell-gallery" data-cell="(\w+)\|(\w+)"', html)
    assert sorted(cells) == sorted((t, p) for t in EMOTIONS for p in EMOTIONS if cm.loc[t, p])
    assert len(re.findall(r'<option value="\w+\|\w+"', html)) == len(cells)
    assert html.count('class="thumb" src="data:image/png;base64,') >= len(cells)


def test_report_loads_nothing_from_the_network(html):
    page = strip_bundle(html)
    remote = r"""(src|href|action)\s*=\s*["']?\s*(https?:|//|ftp:)"""
    assert not re.search(remote, page, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", page, re.IGNORECASE)
    assert "default-src 'none'" in page  # the page's CSP blocks any load that slips through
    srcs = re.findall(r'src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/") for s in srcs)


def test_every_string_is_escaped(synth_test):
    page = strip_bundle(evil_report(synth_test))
    assert EVIL not in page and "<img src=x" not in page and 'onerror="' not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    # the plotly.js bundle, one per figure, the drill-down handler, the embedded scores (JSON,
    # its "<" escaped): nothing injected
    assert page.count("<script") == 3 + page.count('class="plotly-graph-div"')
    assert page.count('<script type="application/json" id="ferviz-scores">') == 1


def test_saliency_unavailable_is_said(synth_test, synth_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "ferviz.explain", None)  # import now fails
    page = synth_report(synth_test, synth_model, saliency=("occlusion",))
    assert "saliency is unavailable in this installation" in page
    assert "Region table: saliency is unavailable" in page


def test_saliency_overlays_and_region_table(synth_test, synth_model):
    from ferviz.app.reporting.saliency import unavailable

    if unavailable():
        pytest.skip(unavailable())
    page = synth_report(synth_test, synth_model, saliency=("occlusion", "gradcam"),
                        max_saliency=10, regions_per_class=3)
    from ferviz.analysis.confusions import top_confusions
    from ferviz.predict import predict

    tops = top_confusions(predict(synth_model, synth_test), Options().top_k)
    want = min(10, int(tops["count"].clip(upper=Options().per_confusion).sum()))
    assert want >= 3
    top = page[page.index('<section id="top">'):page.index('<section id="ambiguity">')]
    assert top.count('alt="occlusion saliency"') == want  # within the budget of 10
    assert top.count('alt="gradcam saliency"') == want
    assert top.count('src="data:image/webp;base64,') == 2 * want
    assert "Mean share of occlusion saliency per face region" in page
    assert "uniform map (region area)" in page


def test_a_failing_method_is_named_and_the_rest_still_shown(synth_test, synth_model):
    from dataclasses import replace

    from ferviz.app.reporting.saliency import unavailable
    from ferviz.models.fermodel import FERModel
    from ferviz.predict import predict

    if unavailable():
        pytest.skip(unavailable())
    broken = FERModel(synth_model.net, replace(synth_model.card, cam_layer="no.such.layer"))
    df = predict(synth_model, synth_test)
    page = build_html(df, synth_test.images(), model=broken,
                      options=Options(saliency=("gradcam", "occlusion"), max_saliency=4,
                                      regions_per_class=2))
    assert "gradcam failed on this model" in page and "no.such.layer" in page
    assert 'alt="occlusion saliency"' in page and 'alt="gradcam saliency"' not in page
    assert "Mean share of occlusion saliency" in page
    with pytest.raises(FervizError, match="unknown explanation method"):
        build_html(df, synth_test.images(), model=synth_model,
                   options=Options(saliency=("occlusionn",)))


def test_unlabelled_faces_still_get_a_report(synth_test, synth_model):
    from ferviz.predict import predict

    df = predict(synth_model, synth_test).assign(label="unknown", correct=False)
    page = build_html(df, synth_test.images())
    assert "No face has a known label" in page and '<section id="ambiguity">' in page


@pytest.mark.parametrize("bad", [{"top_k": -1}, {"max_saliency": -5}, {"spread": 1.5},
                                 {"bins": 0}])
def test_options_are_checked(bad):
    with pytest.raises(FervizError, match="out of range"):
        Options(**bad)


def test_write_report_never_overwrites_silently(tmp_path):
    out = write_report("<p>one</p>", tmp_path / "r.html")
    with pytest.raises(FervizError, match="--force"):
        write_report("<p>two</p>", out)
    assert out.read_text() == "<p>one</p>"
    write_report("<p>two</p>", out, force=True)
    assert out.read_text() == "<p>two</p>" and [p.name for p in tmp_path.iterdir()] == ["r.html"]
    first = default_path("m", "fer2013.csv", "PrivateTest", folder=tmp_path)
    assert first.name == "m-fer2013.csv-PrivateTest.html"
    first.write_text("x")
    assert default_path("m", "fer2013.csv", "PrivateTest", folder=tmp_path).name == \
        "m-fer2013.csv-PrivateTest-2.html"
    assert default_path("../../etc/x y", folder=tmp_path).parent == tmp_path


def test_faces_must_match_the_table(synth_test, synth_model):
    from ferviz.predict import predict

    df = predict(synth_model, synth_test)
    with pytest.raises(FervizError, match="faces for a table"):
        build_html(df, synth_test.images()[:10])


def test_cli_report(tmp_path, synth_model):
    from typer.testing import CliRunner

    from ferviz.cli import app
    from ferviz.data import open_data
    from ferviz.predict import predict, save_table

    runner = CliRunner()
    out = tmp_path / "r.html"
    args = ["report", "-m", "fer_synth_cnn", "-d", "synth", "--split", "test",
            "--saliency", "none", "--top", "2", "-o", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert out.stat().st_size > 1e6 and "wrote" in res.output
    res = runner.invoke(app, args)
    assert isinstance(res.exception, FervizError) and "--force" in str(res.exception)
    other = tmp_path / "val.parquet"
    save_table(predict(synth_model, open_data("synth", split="val")), other)
    res = runner.invoke(app, [*args, "--force", "--compare-preds", str(other)])
    assert isinstance(res.exception, FervizError) and "different faces" in str(res.exception)


def test_report_of_a_ck_style_folder_states_subjects_contempt_and_leaks(tmp_path):
    from dataset_folders import build_ck

    from ferviz.app import tasks
    from ferviz.specs import DataSpec, ModelSpec

    root = build_ck(tmp_path / "ck")
    path = tasks.report(ModelSpec("fer_synth_cnn"), DataSpec(str(root), "test"),
                        tmp_path / "r.html", saliency=())
    html = path.read_text()
    assert "cluster bootstrap over" in html and "subjects" in html
    assert "contempt" in html and "dropped" in html.lower()
    assert "copies of training faces" in html or "duplicate" in html.lower()
