"""``ferviz saliency`` and ``ferviz regions`` through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ferviz.cli import app


@pytest.fixture
def face_png(tmp_path, synth_test):
    path = tmp_path / "face.png"
    Image.fromarray(synth_test.images()[5]).save(path)
    return path


def test_saliency_panel_json_and_no_overwrite(face_png, run):
    from typer.testing import CliRunner

    runner = CliRunner()
    res = runner.invoke(app, ["saliency", str(face_png), "-m", "fer_synth_cnn", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    face = out["faces"][0]
    assert out["model"] == "fer_synth_cnn" and set(face["methods"]) == {"occlusion", "gradcam"}
    assert abs(sum(face["probabilities"].values()) - 1) < 1e-3 and len(face["top3"]) == 3
    shares = face["methods"]["occlusion"]["region_shares"]
    assert abs(sum(shares.values()) - 1) < 1e-3
    panel = face_png.with_name("face.saliency.png")
    assert face["output"] == str(panel)
    image = np.asarray(Image.open(panel))
    assert image.ndim == 3 and image.shape[1] > 3 * image.shape[0] / 2
    before = panel.stat().st_mtime_ns
    again = run("saliency", str(face_png), "-m", "fer_synth_cnn", "-x", "occlusion")
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert panel.stat().st_mtime_ns == before
    forced = run("saliency", str(face_png), "-m", "fer_synth_cnn", "-x", "saliency",
                  "-o", str(face_png.with_name("x.png")), "--target", "sad-neutral")
    assert forced.returncode == 0, forced.stderr
    assert "face.png#face1:" in forced.stdout and face_png.with_name("x.png").is_file()


def test_saliency_no_face(tmp_path, run):
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 300), 128, np.uint8)).save(path)
    res = run("saliency", str(path), "-m", "fer_synth_cnn", "-x", "occlusion")
    assert res.returncode == 2 and "no face" in res.stderr and "--no-detect" in res.stderr
    assert "Traceback" not in res.stderr
    ok = run("saliency", str(path), "-m", "fer_synth_cnn", "-x", "occlusion", "--no-detect")
    assert ok.returncode == 0, ok.stderr


def test_regions_command(synth_test):
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["regions", "-m", "fer_synth_cnn", "-d", "synth",
                                   "--split", "test", "--limit", "30", "-x", "gradcam"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[1].startswith("regions: fixed boxes") and "mouth" in lines[2]
    assert lines[-1].startswith("area")
    bad = CliRunner().invoke(app, ["regions", "-m", "fer_synth_cnn", "-d", "synth",
                                   "--limit", "5", "-x", "lime"])
    assert bad.exit_code != 0


def test_default_model_is_the_best_on_fer2013_labels_not_a_ferplus_model(tmp_path, monkeypatch):
    import shutil

    from ferviz.explain.photo import default_model
    from ferviz.models import zoo

    for name in ("cs230_five_layer", "mini_xception", "ferplus_cnn"):
        (tmp_path / name).mkdir()
        shutil.copy(zoo.root() / name / "card.json", tmp_path / name)
    monkeypatch.setenv("FERVIZ_ZOO", str(tmp_path))
    assert zoo.card("ferplus_cnn").info["metrics"]["accuracy"] > \
        zoo.card("cs230_five_layer").info["metrics"]["accuracy"]  # FER+ labels are easier
    assert default_model() == ("cs230_five_layer", None)


def test_every_panel_says_its_trust_and_reuses_checks_run_before(face_png, run):
    """Without --check a map is captioned 'trust not checked'; after a --check run, the
    cached verdict shows without --check too."""
    args = ["saliency", str(face_png), "-m", "fer_synth_cnn", "-x", "gradcam", "--force",
            "-o", str(face_png.with_name("p.png"))]
    before = run(*args)
    assert before.returncode == 0 and "trust not checked" in before.stdout
    assert "trust" not in json.loads(run(*args, "--json").stdout)["faces"][0]["methods"][
        "gradcam"]
    checked = run(*args, "--check", "--json")
    assert checked.returncode == 0, checked.stderr
    verdict = json.loads(checked.stdout)["faces"][0]["methods"]["gradcam"]["trust"]
    after = json.loads(run(*args, "--json").stdout)["faces"][0]["methods"]["gradcam"]
    assert after["trust"] == verdict
    assert "trust not checked" not in run(*args).stdout
