"""Shared fixtures: small seeded FER-Synth sets and the zoo's FER-Synth model. Nothing is
downloaded; tests needing the real FER2013 in ../shared/data skip when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
FER2013 = SHARED / "fer2013" / "fer2013.csv.xz"
FERPLUS = SHARED / "ferplus" / "fer2013new.csv"

CHROMIUM = Path("/usr/bin/chromium")  # Debian's chromium, installed by .ci/run
ARTIFACTS = ROOT / "test-artifacts"  # screenshots (git-ignored)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
browser_test = [pytest.mark.browser,
                pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent")]



def in_browser(test):
    """Mark one test as a browser test (skipped without Debian's chromium)."""
    for mark in browser_test:
        test = mark(test)
    return test


needs_fer2013 = pytest.mark.skipif(not FER2013.is_file(), reason="../shared/data/fer2013 absent")
needs_ferplus = pytest.mark.skipif(not (FER2013.is_file() and FERPLUS.is_file()),
                                   reason="../shared/data FER2013 / FER+ absent")


@pytest.fixture(scope="session", autouse=True)
def _cache(tmp_path_factory) -> Iterator[None]:
    """Keep the suite's caches apart from the user's (whatever FERVIZ_CACHE they exported),
    shared across the session."""
    before = os.environ.get("FERVIZ_CACHE")
    os.environ["FERVIZ_CACHE"] = str(tmp_path_factory.mktemp("ferviz-cache"))
    yield
    if before is None:
        os.environ.pop("FERVIZ_CACHE", None)
    else:
        os.environ["FERVIZ_CACHE"] = before


@pytest.fixture(scope="session")
def synth_test():
    """200 FER-Synth test faces (15% blends), with ground-truth masks and soft labels."""
    from ferviz.data.synth import load_synth

    return load_synth(200, seed=2, ambiguity=0.15)


@pytest.fixture(scope="session")
def synth_model():
    """The zoo's FER-Synth CNN (about 97% on the FER-Synth test split)."""
    from ferviz.models.load import load_model

    return load_model("fer_synth_cnn")


@pytest.fixture(scope="module")
def browser():
    """Headless chromium driven by Playwright (no browser download: Debian's binary)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def free_port() -> int:
    """A free loopback port."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen, wait: float = 10) -> None:
    """Terminate a server process; kill it if it has not gone after ``wait`` seconds."""
    proc.terminate()
    try:
        proc.wait(wait)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


SERVING = "You can now view your Streamlit app"  # printed once the server accepts sessions


def wait_until_serving(proc: subprocess.Popen, timeout: float = 120) -> tuple[bool, list[str]]:
    """Read a Streamlit server's output (``proc`` started with ``stdout=PIPE, text=True``)
    until the line it prints once it accepts sessions: no polling, no sleep. Its lines go on
    being read (a full pipe would block the server).

    Returns whether it said so (False when the process ended first or printed nothing like it
    in ``timeout`` seconds: a guard against a hang, not a wait for the server) and the lines
    read so far.
    """
    lines: list[str] = []
    said = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line)
            if SERVING in line:
                said.set()
        said.set()  # the output ended: the process is going

    threading.Thread(target=read, daemon=True).start()
    return said.wait(timeout) and any(SERVING in line for line in lines), lines


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture
def run(monkeypatch, capsys):
    """``ferviz ARGS`` in-process through ``main`` (exit code, stdout, stderr)."""
    from ferviz.cli import main

    def call(*args: str) -> SimpleNamespace:
        monkeypatch.setattr(sys, "argv", ["ferviz", *map(str, args)])
        try:
            main()
            code = 0
        except SystemExit as e:
            code = e.code
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return call
