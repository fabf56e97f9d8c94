"""Bring your own model: a corpus of networks written as users write them (tests/user_nets.py),
each as a state dict with ``--arch net.py:Class``, scripted and traced TorchScript, and ONNX,
through the console commands in-process. Predictions are exactly a plain forward's (on sets
large enough for the memory-layout probe); explanations, checks and jobs give a result or one
``error:`` line, never a traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent
FACES = 1100  # >= predict.LAYOUT_MIN: the layout probe and timing run
FORMATS = ("state", "scripted", "traced", "onnx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[tuple[str, str], list[str]]:
    """(net, format) -> the model options naming that file."""
    import torch
    import user_nets

    folder = tmp_path_factory.mktemp("user-models")
    shutil.copy(HERE / "user_nets.py", folder / "net.py")
    out = {}
    for name, (size, channels) in user_nets.NETS.items():
        torch.manual_seed(0)
        net = getattr(user_nets, name)().eval()
        x = torch.rand(2, channels, size, size)
        card = ["--input-size", str(size), "--channels", str(channels)]
        torch.save(net.state_dict(), folder / f"{name}.pt")
        out[name, "state"] = [str(folder / f"{name}.pt"), "--arch", f"{folder}/net.py:{name}",
                              *card]
        torch.jit.script(net).save(str(folder / f"{name}.scripted.pt"))
        out[name, "scripted"] = [str(folder / f"{name}.scripted.pt"), "--trust", *card]
        torch.jit.trace(net, x).save(str(folder / f"{name}.traced.pt"))
        out[name, "traced"] = [str(folder / f"{name}.traced.pt"), "--trust", *card]
        torch.onnx.export(net, x, str(folder / f"{name}.onnx"), dynamo=False,
                          input_names=["x"], dynamic_axes={"x": {0: "n"}})
        out[name, "onnx"] = [str(folder / f"{name}.onnx"), *card]
    return out


def _plain(name: str, faces: np.ndarray) -> np.ndarray:
    """Softmax of a plain forward of the same weights (no ferviz code in the way)."""
    import torch
    import user_nets

    torch.manual_seed(0)
    net = getattr(user_nets, name)().eval()
    size, channels = user_nets.NETS[name]
    x = torch.from_numpy(faces).float().div(255).unsqueeze(1)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                        align_corners=False) if size != 48 else x
    with torch.inference_mode():
        return torch.softmax(net(x.expand(-1, channels, -1, -1)), 1).numpy()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["ViewNet", "SizeNet", "FunctionalNet", "RGB64Net"])
def test_predictions_are_a_plain_forward(corpus, run, tmp_path, name, fmt):
    import pandas as pd

    from ferviz.data import open_data

    data = f"synth:{FACES}"
    r = run("predict", "-m", *corpus[name, fmt], "-d", data, "-o", tmp_path / "p.parquet")
    assert r.returncode == 0, r.stderr
    df = pd.read_parquet(tmp_path / "p.parquet")
    probs = df[[c for c in df.columns if c.startswith("p_")]].to_numpy()
    np.testing.assert_allclose(probs, _plain(name, open_data(data).images()), atol=2e-5)
    r = run("evaluate", "-m", *corpus[name, fmt], "-d", data, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["accuracy"] == pytest.approx(float(df["correct"].mean()))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", ["ViewNet", "FunctionalNet"])
def test_every_explanation_gives_a_map_or_one_error_line(corpus, run, tmp_path, name, fmt):
    from PIL import Image

    from ferviz.data import open_data
    from ferviz.explain.registry import METHODS

    photo = tmp_path / "face.png"
    Image.fromarray(open_data("synth:1").images()[0]).resize((160, 160)).save(photo)
    for method in METHODS:
        r = run("saliency", photo, "-m", *corpus[name, fmt], "-x", method,
                "-o", tmp_path / f"{method}.png", "--no-detect")
        assert "Traceback" not in r.stderr
        if r.returncode == 0:
            assert (tmp_path / f"{method}.png").is_file()
        else:
            assert r.returncode == 2 and r.stderr.count("error:") == 1, (method, r.stderr)


def test_the_cam_layer_is_found_named_or_explained(corpus, run, tmp_path):
    from ferviz.models.load import load_model

    spec = corpus["ViewNet", "state"]
    assert load_model(spec[0], arch=spec[2]).card.cam_layer == "features.3"
    assert load_model(spec[0], arch=spec[2], cam_layer="features.0").card.cam_layer == \
        "features.0"
    r = run("evaluate", "-m", *spec, "--cam-layer", "features.9", "-d", "synth")
    assert r.returncode == 2
    assert "no layer 'features.9'" in r.stderr and "features.0, features.3" in r.stderr
    assert "--cam-layer" in r.stderr


def test_matrix_takes_the_model_options(corpus, run):
    r = run("matrix", "-m", *corpus["RGB64Net", "state"], "-d", "synth@test")
    assert r.returncode == 0, r.stderr
    assert "RGB64Net.pt" in r.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_checks_report_and_jobs_take_every_format(corpus, run, tmp_path, fmt):
    """The same user network through the trust checks, the report and a sharded job: a
    result (the job's table equal to ``predict``'s) or one error line naming the model."""
    import pandas as pd

    spec = corpus["ViewNet", fmt]
    for command in (["checks", "-m", *spec, "-d", "synth:64", "--n", "16", "-x", "occlusion"],
                    ["report", "-m", *spec, "-d", "synth:64", "--saliency", "occlusion,gradcam",
                     "-o", tmp_path / "r.html"]):
        r = run(*command)
        assert "Traceback" not in r.stderr
        assert r.returncode == 0 or (r.returncode == 2 and r.stderr.count("error:") == 1), \
            (command[0], r.stderr)
    r = run("predict", "-m", *spec, "-d", "synth:300", "--engine", "local", "-o",
            tmp_path / "job", "--shard-size", "128")
    assert r.returncode == 0, r.stderr
    assert run("predict", "-m", *spec, "-d", "synth:300", "-o", tmp_path / "p.parquet"
               ).returncode == 0
    job = pd.read_parquet(tmp_path / "job").sort_values("row")
    plain = pd.read_parquet(tmp_path / "p.parquet")
    probs = [c for c in plain.columns if c.startswith("p_")]
    np.testing.assert_allclose(job[probs].to_numpy(), plain[probs].to_numpy(), atol=1e-6)


@pytest.mark.parametrize("fmt", ["onnx", "scripted"])
def test_the_dashboard_opens_every_user_model(corpus, fmt, monkeypatch, tmp_path_factory):
    """The dashboard (AppTest) on each user model as a file under its roots, the card
    options and (for TorchScript) the trust box set in the sidebar: the Overview's accuracy
    is a plain forward's, and the inspector draws Grad-CAM and occlusion maps, without an
    error or a traceback."""
    import user_nets
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    from ferviz.dashboard import settings as dset
    from ferviz.data import open_data

    monkeypatch.setenv("HOME", str(tmp_path_factory.getbasetemp() / "home"))
    for var in (*dset.ENV.values(), "FERVIZ_SETTINGS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT / "tests")
    records = open_data("synth", split="test")
    for name, (size, channels) in user_nets.NETS.items():
        path = corpus[name, fmt][0]
        monkeypatch.setenv("FERVIZ_ROOTS", str(Path(path).parent))
        acc = (_plain(name, records.images()).argmax(1) == records.labels).mean()
        for page in ("overview", "inspector"):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            at.query_params.update({"page": page, "model": path, "input_size": str(size),
                                    "channels": str(channels),
                                    "methods": "gradcam,occlusion"})
            at = at.run()
            if fmt == "scripted":
                at = at.sidebar.checkbox(key=f"trust::{path}").check().run()
            problems = [e.value for e in (*at.exception, *at.error)]
            assert not problems, (name, page, problems)
            if page == "overview":
                metrics = {m.label: m.value for m in at.metric}
                assert metrics["Accuracy"] == f"{acc:.1%}", name
            else:
                body = "\n".join(h.proto.body for h in at.get("html"))
                assert body.count("<img") >= 3, name  # the face and a map per method
