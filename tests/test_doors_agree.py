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
