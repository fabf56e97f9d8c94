"""A repeated ``ferviz evaluate`` reads the cached predictions through the torch-free digest
index: no model is loaded and torch is not imported; any change to the model's files, options
or trust is noticed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import cv2
import pytest
from conftest import ROOT


def _script() -> str:
    script = Path(sysconfig.get_path("scripts")) / "ferviz"
    return str(script) if script.is_file() else shutil.which("ferviz")


@pytest.fixture
def setup(tmp_path):
    """A 40-image folder of FER-Synth faces (PNGs in emotion folders), a copy of the zoo's
    FER-Synth entry as a model folder, and an empty cache."""
    from ferviz.data.synth import load_synth
    from ferviz.labels import EMOTIONS
    from ferviz.models import zoo

    records = load_synth(40, seed=5, ambiguity=0)
    for k, (face, label) in enumerate(zip(records.faces, records.labels)):
        folder = tmp_path / "faces" / EMOTIONS[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{k:02d}.png"), face)
    shutil.copytree(zoo.root() / "fer_synth_cnn", tmp_path / "entry")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FERVIZ_CACHE": str(tmp_path / "cache")}
    return tmp_path, env


def _evaluate(tmp_path: Path, env: dict, *extra: str) -> tuple[dict, bool]:
    """``ferviz evaluate --json`` through the console script: its result and whether torch
    was imported (``python -X importtime`` lists every module imported)."""
    out = subprocess.run([sys.executable, "-X", "importtime", _script(), "evaluate", "-m",
                          str(tmp_path / "entry"), "-d", str(tmp_path / "faces"), "--json",
                          *extra], check=False, capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines()
                if line.startswith("import time:")}
    return json.loads(out.stdout), "torch" in imported


def test_repeated_evaluate_does_not_import_torch(setup):
    tmp_path, env = setup
    first, torch_first = _evaluate(tmp_path, env)
    again, torch_again = _evaluate(tmp_path, env)
    assert torch_first and not torch_again
    assert again == first and first["n"] == 40
    tta, torch_tta = _evaluate(tmp_path, env, "--tta")  # other options: not cached yet
    assert torch_tta and tta["n"] == 40
    weights = tmp_path / "entry" / "weights.safetensors"
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10**9))
    touched, torch_touched = _evaluate(tmp_path, env)  # the weights file changed: load it
    assert torch_touched and touched == first
    assert not _evaluate(tmp_path, env)[1]


def test_digest_index(synth_model, tmp_path, monkeypatch, capsys):
    from ferviz.models.digests import known, remember
    from ferviz.specs import ModelSpec

    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path))
    ms = ModelSpec("fer_synth_cnn")
    assert known(ms) is None
    remember(ms, synth_model)
    k = known(ms)
    assert (k.digest, k.name) == (synth_model.digest(), "fer_synth_cnn")
    assert k.info == json.loads(json.dumps(synth_model.card.info)) and "data" in k.info
    assert known(ModelSpec("fer_synth_cnn", input_size=64)) is None  # other options
    assert known(ModelSpec("fer_synth_cnn", trust=True)) is None
    entry, = (tmp_path / "models").glob("*.json")
    entry.write_text('{"digest": 3}')
    assert known(ms) is None and "damaged cache file" in capsys.readouterr().err
    assert not entry.exists()


def test_trust_is_checked_even_when_predictions_are_cached(synth_model, synth_test, tmp_path,
                                                           monkeypatch, run):
    """A pickled model evaluated with --trust is refused without it, cache or not."""
    import torch

    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))
    torch.save(synth_model.net, tmp_path / "net.pt")
    args = ["evaluate", "-m", str(tmp_path / "net.pt"), "-d", "synth", "--split", "test"]
    assert run(*args, "--trust").returncode == 0
    out = run(*args)
    assert out.returncode == 2 and "refusing to unpickle" in out.stderr
