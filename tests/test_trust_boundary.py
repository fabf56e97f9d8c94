"""The trust boundary: a model file runs code only with --trust (TorchScript included), the
dashboard never starts wider than it was asked to, and a link inside an image folder cannot
reach past the folder the dashboard opened."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from ferviz.errors import FervizError

ROOT = Path(__file__).resolve().parents[1]
VICTIM = b"precious bytes"


def _evil_torchscript(tmp_path: Path) -> tuple[Path, Path]:
    """A scripted model whose forward overwrites the first bytes of a file of its choosing
    (the attack: torch.from_file(shared=True) then copy_)."""
    import torch
    from torch import nn

    victim = tmp_path / "victim.txt"
    victim.write_bytes(VICTIM)

    class Evil(nn.Module):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path
            self.fc = nn.Linear(48 * 48, 7)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            t = torch.from_file(self.path, shared=True, size=4, dtype=torch.uint8)
            t.copy_(torch.tensor([80, 87, 78, 68], dtype=torch.uint8))
            return self.fc(x.flatten(1)) + t.float().sum() * 0  # used: kept by the compiler

    path = tmp_path / "evil.pt"
    torch.jit.script(Evil(str(victim))).save(str(path))
    return path, victim


def test_a_torchscript_file_runs_only_with_trust(tmp_path, run):
    evil, victim = _evil_torchscript(tmp_path)
    for command in (["evaluate", "-m", evil, "-d", "synth"],
                    ["predict", "-m", evil, "-d", "synth", "-o", tmp_path / "p.parquet"]):
        r = run(*command)
        assert r.returncode == 2 and "TorchScript file is a program" in r.stderr
        assert "--trust" in r.stderr
        assert victim.read_bytes() == VICTIM
    from ferviz.models.load import load_model

    with pytest.raises(FervizError, match="pass --trust"):
        load_model(str(evil))  # the path every view (dashboard model paths, uploads) takes
    assert victim.read_bytes() == VICTIM
    load_model(str(evil), trust=True)  # asked for: it runs, and does what it says
    assert victim.read_bytes().startswith(b"PWND")


@pytest.mark.parametrize("args, message", [
    (["--labels", "ferplus"], "invalid choice"),
    (["--model-path", "x"], "unknown dashboard argument"),
    (["--settings", "/nonexistent.toml"], "settings file not found"),
    (["--roots", "/nonexistent-root"], "not a folder"),
])
def test_a_bad_dashboard_argument_stops_before_a_server(tmp_path, run, args, message):
    roots = [] if "--roots" in args else ["--roots", str(tmp_path)]
    r = run("dashboard", *args, *roots)  # on success this would exec streamlit
    assert r.returncode == 2 and r.stderr.startswith("error: ") and message in r.stderr


def test_the_dashboard_never_falls_back_to_wider_settings(tmp_path, monkeypatch):
    """Started through streamlit with a typo beside --roots, the page says so and shows
    nothing else: no page menu, no data, no fallback to the working directory."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.chdir("/")
    monkeypatch.setattr(sys, "argv", ["app.py", "--labels", "ferplus", "--roots", str(tmp_path)])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert [e.value for e in at.error] and "Settings:" in at.error[0].value
    assert not at.sidebar.radio and not at.sidebar.text_input and not at.dataframe


def _faces(root: Path, n: int) -> None:
    from PIL import Image

    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (48, 48), np.uint8)).save(root / f"{i}.png")


def test_links_out_of_an_image_folder_are_not_followed_for_the_dashboard(tmp_path):
    from ferviz.data.folders import load_folder
    from ferviz.specs import DataSpec

    _faces(tmp_path / "outside" / "happy", 2)
    _faces(tmp_path / "roots" / "set" / "sad", 3)
    inside = tmp_path / "roots" / "set"
    (inside / "sad" / "leak.png").symlink_to(tmp_path / "outside" / "happy" / "0.png")
    (inside / "happy").symlink_to(tmp_path / "outside" / "happy")
    (inside / "sad" / "passwd.png").symlink_to("/etc/passwd")
    assert len(load_folder(inside)) == 5  # the command line follows the links the user made
    confined = DataSpec(str(inside), confine=True).open()  # what the dashboard opens
    assert len(confined) == 3
    assert all(Path(p).resolve().is_relative_to(inside) for p in confined.paths)
    assert set(confined.labels) == {4}


@pytest.mark.parametrize("path", ["data\x00.csv", "x" * 5000])
def test_a_link_with_a_nul_byte_or_a_huge_path_is_refused_in_one_line(tmp_path, path):
    from ferviz.dashboard.settings import Settings

    with pytest.raises(FervizError, match="not a usable path"):
        Settings(roots=str(tmp_path)).allowed(path)


def test_the_installed_dashboard_gets_the_clones_streamlit_settings():
    """``ferviz dashboard`` passes at launch what ``.streamlit/config.toml`` gives a clone
    (upload limit, no usage statistics, no second page menu)."""
    import tomllib

    from ferviz.dashboard.launch import SETTINGS, streamlit_argv

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    flat = {f"{section}.{k}": str(v).lower() for section, table in config.items()
            for k, v in table.items()}
    assert flat == SETTINGS
    argv = streamlit_argv(["--server.port", "9999", "--data", "synth"])
    assert "--server.maxUploadSize=25" in argv and "--client.showSidebarNavigation=false" in argv
    assert argv[argv.index("--") + 1:] == ["--data", "synth"]
    assert argv.count("--server.port") == 1
