"""The ferviz command: lazy imports, clear errors with exit code 2, the core commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ferviz", *args], capture_output=True,
                          text=True, cwd=cwd, env=os.environ.copy(), timeout=300)


@pytest.mark.parametrize("args", [["--help"], ["models"]])
def test_help_and_models_do_not_import_heavy_libraries(args):
    code = ("import sys; sys.argv = ['ferviz', *%r]\n"
            "from ferviz.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'captum', 'pytorch_grad_cam', 'streamlit', 'plotly')"
            " if m in sys.modules]\n"
            "print('HEAVY', heavy)" % (args,))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_models_lists_the_zoo():
    out = run("models", "--json")
    assert out.returncode == 0
    cards = {c["name"]: c for c in json.loads(out.stdout)}
    assert cards["fer_synth_cnn"]["info"]["metrics"]["accuracy"] > 0.95


def test_predict_and_evaluate(tmp_path):
    out = run("predict", "-m", "fer_synth_cnn", "-d", "synth", "--split", "test",
              "-o", str(tmp_path / "p.parquet"))
    assert out.returncode == 0, out.stderr
    df = pd.read_parquet(tmp_path / "p.parquet")
    assert len(df) == 1400 and "p_happy" in df
    ev = run("evaluate", "-m", "fer_synth_cnn", "-d", "synth", "--split", "test", "--json")
    assert ev.returncode == 0, ev.stderr
    assert abs(json.loads(ev.stdout)["accuracy"] - df["correct"].mean()) < 1e-9


@pytest.mark.parametrize("args, message", [
    (["evaluate", "-m", "fer_synth_cnn", "-d", "no/such/file.csv"], "no such file"),
    (["evaluate", "-m", "nonexistent", "-d", "synth"], "neither a file nor a zoo model"),
    (["evaluate", "-m", "fer_synth_cnn", "-d", "synth", "--split", "bogus"], "split bogus is empty"),
    (["predict", "-m", "fer_synth_cnn", "-d", "{tmp}/bad.png", "-o", "{tmp}/x.parquet"],
     "not an image"),
    (["evaluate", "-m", "{tmp}/w.pt", "-d", "synth"], "refusing to unpickle"),
])
def test_bad_input_is_one_message_and_exit_2(tmp_path, args, message):
    import torch

    (tmp_path / "bad.png").write_text("text")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "w.pt")
    out = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ")
