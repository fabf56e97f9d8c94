"""One answer through every door: on a data set with subjects, the command line's JSON, the
Python API, ``matrix`` and the HTML report's embedded scores give the same accuracy, macro-F1,
intervals (clustered by subject), per-class table, top confusions and notes; and the Python
door is what the docs say (lazy, pinned names, plain modules accepted)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pandas as pd
import pytest
from dataset_folders import build_jaffe

MODEL = "fer_synth_cnn"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(build_jaffe(tmp_path_factory.mktemp("jaffe")))


def test_every_door_gives_the_same_answer(folder, run, tmp_path):
    import ferviz

    cli = run("evaluate", "-m", MODEL, "-d", folder, "--json")
    assert cli.returncode == 0, cli.stderr
    cli = json.loads(cli.stdout)
    assert cli["intervals"]["cluster"] == "subject" and cli["intervals"]["clusters"] == 3

    study = ferviz.Study(MODEL, folder)
    py = study.evaluate()
    assert {k: py.scores[k] for k in ("n", "accuracy", "macro_f1", "macro_f1_seen")} == \
        {k: cli[k] for k in ("n", "accuracy", "macro_f1", "macro_f1_seen")}
    assert py.extra["intervals"] == cli["intervals"]
    assert py.per_class.to_dict(orient="index") == cli["per_class"]
    assert py.warnings == cli["warnings"] and py.notes == cli["notes"]

    assert run("matrix", "-m", MODEL, "-d", folder, "-o", tmp_path / "m.csv").returncode == 0
    row = pd.read_csv(tmp_path / "m.csv").iloc[0]
    acc, f1 = cli["intervals"]["accuracy"], cli["intervals"]["macro_f1"]
    assert [row.accuracy, row.accuracy_low, row.accuracy_high] == pytest.approx(acc, abs=1e-12)
    assert [row.macro_f1, row.macro_f1_low, row.macro_f1_high] == pytest.approx(f1, abs=1e-12)
    assert "3 subjects" in row.interval

    out = tmp_path / "r.html"
    r = run("report", "-m", MODEL, "-d", folder, "-o", out, "--saliency", "occlusion")
    assert r.returncode == 0, r.stderr
    html = out.read_text()
    embedded = json.loads(re.search(r'<script type="application/json" id="ferviz-scores">'
                                    r"(.*?)</script>", html, re.S).group(1))
    assert embedded["accuracy"] == cli["accuracy"] and embedded["macro_f1"] == cli["macro_f1"]
    assert embedded["intervals"]["accuracy"] == acc[1:]
    assert embedded["intervals"]["macro_f1"] == f1[1:]
    assert embedded["intervals"]["over"] == "bootstrap over 3 subjects"
    for emotion, row in cli["per_class"].items():
        assert embedded["per_class"][emotion] == pytest.approx(row)
    top = study.confusions()
    assert [(c["true"], c["pred"], c["count"]) for c in embedded["top_confusions"]] == \
        list(zip(top["true"], top["pred"], top["count"]))
    assert embedded["notes"] == cli["warnings"]
    assert embedded["ambiguous"] == study.ambiguous(24)["id"].astype(str).tolist()


def _embedded(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="ferviz-scores">'
                                r"(.*?)</script>", html, re.S).group(1))


def test_the_dashboard_shows_the_same_answer(folder, run, monkeypatch, tmp_path_factory):
    """The dashboard (AppTest) on the same folder: the Overview's accuracy, macro-F1 and
    intervals, its warnings, and the Ambiguous page's faces are the command line's and the
    Python API's."""
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    import ferviz
    from ferviz.dashboard import settings as dset

    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))
    for var in (*dset.ENV.values(), "FERVIZ_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT / "tests")
    monkeypatch.setenv("FERVIZ_DATA", folder)
    cli = json.loads(run("evaluate", "-m", MODEL, "-d", folder, "--json").stdout)

    def page(name: str, **params: str):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
        at.query_params.update({"model": MODEL, "page": name, **params})
        at = at.run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        return at

    at = page("overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == f"{cli['accuracy']:.1%}"
    assert metrics["Macro-F1"] == f"{cli['macro_f1']:.3f}"
    (_, lo, hi), (_, f1_lo, f1_hi) = cli["intervals"]["accuracy"], cli["intervals"]["macro_f1"]
    captions = [c.value for c in at.caption]
    assert f"95% CI {lo:.1%} – {hi:.1%}" in captions
    assert f"95% CI {f1_lo:.3f} – {f1_hi:.3f}" in captions
    assert [w.value for w in at.warning] == [w.removeprefix("warning: ")
                                             for w in cli["warnings"]]

    study = ferviz.Study(MODEL, folder)
    for by in ("close", "entropy"):  # the default definition, and one by name
        at = page("ambiguous", sort=by)
        shown = re.findall(r'class="fv-face" data-id="([^"]+)"',
                           "\n".join(h.proto.body for h in at.get("html")))
        assert shown == study.ambiguous(24, by)["id"].astype(str).tolist()
    assert shown  # entropy orders every face


def test_job_report_gives_the_same_answer(folder, run, tmp_path):
    """A sharded job over the same folder: job-report's scores, per-class table and top
    confusions are ``evaluate``'s (the job holds one split, so nothing is pooled away)."""
    cli = json.loads(run("evaluate", "-m", MODEL, "-d", folder, "--json").stdout)
    job = tmp_path / "job"
    r = run("predict", "-m", MODEL, "-d", folder, "--engine", "local", "-o", job)
    assert r.returncode == 0, r.stderr
    r = run("job-report", job, "-o", tmp_path / "job.html")
    assert r.returncode == 0, r.stderr
    embedded = _embedded((tmp_path / "job.html").read_text())
    assert {k: embedded[k] for k in ("n", "macro_f1_seen")} == \
        {k: cli[k] for k in ("n", "macro_f1_seen")}
    assert embedded["accuracy"] == pytest.approx(cli["accuracy"], abs=1e-12)
    assert embedded["macro_f1"] == pytest.approx(cli["macro_f1"], abs=1e-12)
    for emotion, row in cli["per_class"].items():
        assert embedded["per_class"][emotion] == pytest.approx(row)
    top = ferviz_confusions(folder)
    assert [(c["true"], c["pred"], c["count"]) for c in embedded["top_confusions"]] == top[:6]


def ferviz_confusions(folder: str) -> list[tuple[str, str, int]]:
    import ferviz

    top = ferviz.Study(MODEL, folder).confusions()
    return list(zip(top["true"], top["pred"], map(int, top["count"])))


def test_import_ferviz_loads_no_torch_and_pins_its_names():
    code = ("import sys, ferviz\nprint(sorted(n for n in dir(ferviz) if not n.startswith('_')))"
            "\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    names, torch_loaded = out.stdout.splitlines()
    assert names == str(["DataSpec", "FervizError", "ModelSpec", "Study", "evaluate", "explain",
                         "load_model", "open_data", "predict", "report"])
    assert torch_loaded == "False"


def test_a_plain_module_through_every_function():
    from torch import nn

    import ferviz

    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(8 * 24 * 24, 7))
    model = ferviz.load_model(net)
    assert model.card.cam_layer == "0" and model.net is net
    faces = ferviz.open_data("synth:6").images()
    shown = ferviz.explain(net, faces, "gradcam")
    assert shown.maps.maps.shape == (6, 48, 48) and "<img" in shown._repr_html_()
    assert len(shown.plot().data) == 6  # one panel per face
    ev = ferviz.evaluate(net, "synth", split="test")
    assert ev.n == 1400 and "macro-F1" in ev._repr_html_()
    table = ferviz.predict(net, "synth", split="test")
    assert table["correct"].mean() == pytest.approx(ev.scores["accuracy"])
    with pytest.raises(ferviz.FervizError, match="--cam-layer|cam_layer"):
        ferviz.load_model(net, cam_layer="nope")
    from ferviz.explain import explain  # the library's own call takes the module too

    assert explain(net, faces, method="gradcam").maps.shape == (6, 48, 48)


def test_job_report_never_pools_training_faces(run, tmp_path):
    """The demo set has train, val and test splits: the job report's pooled row, matrix and
    top confusions cover val + test only, as the table's held-out rows give them."""
    job, html = tmp_path / "job", tmp_path / "job.html"
    r = run("predict", "-m", MODEL, "-d", "synth", "--engine", "local", "-o", job)
    assert r.returncode == 0, r.stderr
    assert run("job-report", job, "-o", html).returncode == 0
    df = pd.read_parquet(job)
    held = df[df["split"] != "train"]
    assert len(held) < len(df)
    wrong = held[held["label"] != held["pred"]].groupby(["label", "pred"]).size()
    (t, p), n = wrong.idxmax(), int(wrong.max())
    page = html.read_text()
    assert re.search(rf'data-cell="{t}-{p}">true {t} → predicted {p}:\s*{n:,} faces', page)
    assert "training faces are never pooled" in page
    pooled = re.search(r"<th>(.*?)</th><td>([\d,]+)</td>", page.split("<h2>Scores</h2>")[1])
    assert pooled.group(1) == "val + test" and int(pooled.group(2).replace(",", "")) == \
        int((held["label"] != "unknown").sum())
