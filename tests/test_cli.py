"""The ferviz command: lazy imports, clear errors with exit code 2, the core commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest
from conftest import wait_until_serving
from fault_nets import faulty_model, fired


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
    (["evaluate", "-m", "fer_synth_cnn", "-d", "synth", "--split", "bogus"],
     "split bogus is empty"),
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


def console(*args: str, **kw) -> subprocess.CompletedProcess:
    """The installed ``ferviz`` console script (what users run; CliRunner skips main())."""
    kw.setdefault("env", os.environ.copy())
    return subprocess.run(["ferviz", *args], capture_output=True, text=True, timeout=300, **kw)


@pytest.mark.parametrize("args, says", [
    ([], "Usage:"),                                          # bare: help
    (["--no-such-option"], "No such option"),
    (["evalute"], "No such command"),                        # misspelt command
    (["evaluate", "-d", "synth"], "Missing option"),         # missing option
    (["ensemble"], "Missing argument"),                      # missing argument
    (["report", "-m", "x", "-d", "synth", "--top", "many"], "Invalid value for '--top'"),
    (["evaluate", "-m", "x", "-d", "synth", "--tta", "--bogus"], "No such option"),
])
def test_usage_errors_print_usage_and_exit_2(args, says):
    out = console(*args)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert says in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_version():
    from ferviz import __version__

    out = console("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"ferviz {__version__}"


def test_ctrl_c_stops_predict_with_130_and_writes_nothing(tmp_path):
    """Promise: Ctrl-C during ``predict`` ends it with ``interrupted``, exit 130, no
    traceback, and neither the output nor the predictions cache gets a table (whole or
    partial). The interruption is injected: the model sends SIGINT to its own process in
    its 2nd batch of 512 faces (of 1,500), mid-work on any machine."""
    model = tmp_path / "model"
    out, cache = tmp_path / "p.parquet", tmp_path / "cache"
    r = console("predict", *faulty_model(model, faces=512, call=2, action="interrupt"),
                "-d", "synth:1500", "-o", str(out),
                env={**os.environ, "FERVIZ_CACHE": str(cache)})  # nothing cached: it works
    assert fired(model), "the model was not interrupted"
    assert r.returncode == 130 and r.stderr.strip().endswith("interrupted"), r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    assert list(tmp_path.glob("*.parquet*")) == list(tmp_path.glob(".*")) == []
    assert not [p for p in (cache / "predictions").rglob("*") if p.is_file()]


def test_ctrl_c_keeps_the_finished_shards_and_the_rerun_completes_them(tmp_path):
    """Promise: Ctrl-C during a sharded ``predict`` keeps the shards finished before it and
    nothing of the one running; running the command again computes only the rest, and the
    table is a clean run's. The model sends SIGINT to its own process in shard 3 of 5 (the
    local engine runs them in order), so exactly shards 0 and 1 are kept."""
    from ferviz.analysis.parts import part_name
    from ferviz.engine import Job, run_job
    from ferviz.specs import DataSpec, ModelSpec

    model, out = tmp_path / "model", tmp_path / "job"
    cmd = ["predict", *faulty_model(model, faces=100, call=3, action="interrupt"),
           "-d", "synth:500", "--engine", "local", "--shard-size", "100", "-o", str(out)]
    first = console(*cmd)
    assert fired(model), "the model was not interrupted"
    assert first.returncode == 130 and first.stderr.strip().endswith("interrupted")
    assert "Traceback" not in first.stderr
    kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*")}
    assert sorted(kept) == [part_name(0), part_name(1)] and not list(out.glob(".*"))
    again = console(*cmd)  # the model faults once only
    assert again.returncode == 0, again.stderr
    assert "3 shards computed, 2 kept" in again.stdout
    for name, stat in kept.items():  # the finished shards were not computed again
        p = out / name
        assert (p.stat().st_ino, p.stat().st_mtime_ns) == stat
    _, weights, _, arch = faulty_model(tmp_path / "clean", faces=100, call=3, action=None)
    run_job(Job(ModelSpec(weights, arch=arch), DataSpec("synth:500"), shard_size=100),
            tmp_path / "clean-job")
    pd.testing.assert_frame_equal(pd.read_parquet(out).sort_values("row"),
                                  pd.read_parquet(tmp_path / "clean-job").sort_values("row"),
                                  check_exact=True)


def test_existing_outputs_need_force(tmp_path):
    out = tmp_path / "p.parquet"
    out.write_bytes(b"keep me")
    r = console("predict", "-m", "fer_synth_cnn", "-d", "synth", "--split", "test", "-o",
                str(out))
    assert r.returncode == 2 and "--force" in r.stderr and out.read_bytes() == b"keep me"
    entry = tmp_path / "ens"
    entry.mkdir()
    (entry / "card.json").write_text("{}")
    r = console("ensemble", "fer_synth_cnn", "mini_xception", "-o", str(entry))
    assert r.returncode == 2 and "--force" in r.stderr
    assert (entry / "card.json").read_text() == "{}"


def test_an_unwritable_output_folder_fails_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    r = console("report", "-m", "fer_synth_cnn", "-d", "synth", "--split", "test",
                "-o", str(blocker / "r.html"))
    assert r.returncode == 2 and "cannot write" in r.stderr and "Traceback" not in r.stderr
    assert blocker.read_text() == "not a folder"


def test_dashboard_command_serves_the_packaged_app(tmp_path):
    """Promise: ``ferviz dashboard`` serves the packaged app (its health check answers once
    the server says it accepts sessions) and the server goes with the command."""
    import urllib.request

    from conftest import free_port

    port = free_port()
    p = subprocess.Popen(["ferviz", "dashboard", "--server.headless", "true",
                          "--server.port", str(port), "--data", "synth"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         cwd=tmp_path)
    try:
        serving, lines = wait_until_serving(p)
        assert serving, "".join(lines)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
            assert r.status == 200
    finally:
        p.terminate()
        p.wait(timeout=30)
    with pytest.raises(OSError):  # the server went with the command (nothing left behind)
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5)
