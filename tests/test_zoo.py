"""The shipped zoo: cards are complete, the README table is generated from them, and each
FER2013 model's card accuracy is confirmed by re-evaluation on the real PrivateTest."""

from __future__ import annotations

import re

import pytest
from conftest import FER2013, FERPLUS, ROOT, needs_fer2013

from ferviz.models import zoo

REQUIRED = ("recipe", "training", "metrics", "data", "data_hash")


def test_zoo_is_small_and_cards_are_complete():
    size = sum(p.stat().st_size for p in zoo.root().rglob("*") if p.is_file())
    assert size < 40e6
    for name in zoo.names():
        card = zoo.card(name)
        metrics = card.metrics
        assert metrics is not None and metrics.dataset and metrics.split, name
        if card.goal is not None and metrics.accuracy < card.goal:  # explained on the card
            assert len(card.info.get("note", "")) > 40, f"{name}: missed its goal, no note"
        if card.members:
            assert all(zoo.exists(m) for m in card.members)
            continue
        missing = [k for k in REQUIRED if k not in card.info]
        assert not missing, f"{name}: card lacks {missing}"
        m = card.info["metrics"]
        assert {"accuracy", "accuracy_tta", "macro_f1", "per_class", "confusion"} <= set(m)
        assert (zoo.root() / name / zoo.WEIGHTS).is_file()
        if "weights" in card.info:  # float16 storage may move accuracy by 0.1 point at most
            assert abs(card.info["weights"]["accuracy_float32"] - m["accuracy"]) <= 0.001


def test_readme_zoo_table_is_generated_from_the_cards():
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- zoo-table -->\n(.*?)\n<!-- /zoo-table -->", readme, re.S)
    assert table and table.group(1).strip() == zoo.markdown_table().strip()


FER_MODELS = [n for n in zoo.names() if (m := zoo.card(n).metrics) and m.dataset == "FER2013"]


@needs_fer2013
@pytest.mark.parametrize("name", FER_MODELS or [pytest.param("none", marks=pytest.mark.skip(
    reason="no FER2013 model in the zoo yet"))])
def test_card_accuracy_is_confirmed_on_privatetest(name):
    import numpy as np

    from ferviz.analysis.metrics import summary
    from ferviz.data import open_data
    from ferviz.models.load import load_model
    from ferviz.predict import predict
    from ferviz.table import probabilities

    card = zoo.card(name)
    m = card.metrics
    records = open_data(FER2013, split="PrivateTest", labels=m.labels,
                        ferplus=FERPLUS if m.labels != "fer2013" else None)
    if card.members:  # the mean of the members' probabilities (their tables are cached)
        tables = [predict(load_model(k), records) for k in card.members]
        probs = np.mean([probabilities(t) for t in tables], axis=0)
        acc = float((probs.argmax(1) == records.labels).mean())
    else:
        acc = summary(predict(load_model(name), records))["accuracy"]
    assert abs(acc - m.accuracy) * 100 <= 0.2, f"{name}: measured {acc:.4f}, card {m.accuracy}"


def test_ensemble_command_averages_its_members(tmp_path, monkeypatch, synth_test):
    import shutil
    import subprocess
    import sys

    import numpy as np

    from ferviz.models.load import load_model
    from ferviz.predict import predict_proba

    members = ["cs230_five_layer", "mini_xception"]
    for m in members + ["fer_synth_cnn"]:
        shutil.copytree(zoo.root() / m, tmp_path / m)
    monkeypatch.setenv("FERVIZ_ZOO", str(tmp_path))
    run = lambda *a: subprocess.run([sys.executable, "-m", "ferviz", "ensemble", *a],  # noqa: E731
                                    capture_output=True, text=True, timeout=120)
    made = run(*members, "-o", str(tmp_path / "ens"))
    assert made.returncode == 0, made.stderr
    faces = synth_test.images()[:16]
    probs = predict_proba(load_model("ens"), faces, progress=False)
    mean = np.mean([predict_proba(load_model(m), faces, progress=False) for m in members], 0)
    assert np.abs(probs - mean).max() < 1e-5
    assert zoo.card("ens").params == sum(zoo.card(m).params for m in members)
    for bad, why in [(["cs230_five_layer"], "at least two"),
                     (["cs230_five_layer", "fer_synth_cnn"], "data differ"),
                     (["cs230_five_layer", "ens"], "ensembles cannot be members")]:
        out = run(*bad, "-o", str(tmp_path / "bad"))
        assert out.returncode == 2 and why in out.stderr and "Traceback" not in out.stderr


def test_evaluate_half_stores_float16_weights_and_records_both_accuracies(tmp_path, monkeypatch):
    import json
    import shutil
    import subprocess
    import sys

    from safetensors import safe_open

    shutil.copytree(zoo.root() / "fer_synth_cnn", tmp_path / "fer_synth_cnn")
    monkeypatch.setenv("FERVIZ_ZOO", str(tmp_path))
    weights = tmp_path / "fer_synth_cnn" / zoo.WEIGHTS
    before = weights.stat().st_size
    out = subprocess.run([sys.executable, "-m", "ferviz", "evaluate", "-m", "fer_synth_cnn",
                          "-d", "synth", "--split", "test", "--update-card", "--half"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    with safe_open(str(weights), "pt") as f:
        dtypes = {f.get_tensor(k).dtype for k in f.keys() if "num_batches" not in k}
    assert {str(d) for d in dtypes} == {"torch.float16"}
    assert weights.stat().st_size < 0.6 * before
    info = json.loads((tmp_path / "fer_synth_cnn" / "card.json").read_text())["info"]
    assert info["weights"]["dtype"] == "float16"
    assert abs(info["weights"]["accuracy_float32"] - info["metrics"]["accuracy"]) <= 0.001
