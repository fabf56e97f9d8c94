"""A non-editable install: the wheel, installed into a fresh virtual environment outside the
checkout (reusing this environment's torch and friends), carries the zoo and the dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, free_port, in_browser, stop, wait_until_serving


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A venv with the freshly built ferviz wheel (``--no-deps``: dependencies come from the
    running environment's site-packages, named in a ``.pth`` file, so nothing is downloaded;
    ``--system-site-packages`` would give the base interpreter's when the suite itself runs
    in a venv)."""
    work = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(work / "dist"), str(ROOT)], check=True, timeout=600,
                   cwd=work)
    wheel = next((work / "dist").glob("ferviz-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "ferviz/model_zoo/fer_synth_cnn/weights.safetensors" in names
    assert "ferviz/dashboard/streamlit_app.py" in names
    env = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    python = str(env / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, timeout=600, cwd=work)
    own = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()"
                          "['purelib'])"], capture_output=True, text=True, check=True).stdout
    paths = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(own.strip()) / "_suite_packages.pth").write_text("\n".join(paths) + "\n")
    return env


def run(env: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FERVIZ_ZOO")}
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=cwd,
                          env={**clean, "PATH": f"{env / 'bin'}:{clean['PATH']}"})


def test_wheel_runs_outside_the_checkout(venv, tmp_path):
    where = run(venv, "python", "-c", "import ferviz; print(ferviz.__file__)", cwd=tmp_path)
    assert str(venv) in where.stdout, where.stdout + where.stderr
    models = run(venv, "ferviz", "models", "--json", cwd=tmp_path)
    assert models.returncode == 0, models.stderr
    assert "fer_synth_cnn" in {c["name"] for c in json.loads(models.stdout)}
    ev = run(venv, "ferviz", "evaluate", "-m", "fer_synth_cnn", "-d", "synth", "--split",
             "test", "--json", cwd=tmp_path)
    assert ev.returncode == 0, ev.stderr
    assert json.loads(ev.stdout)["accuracy"] > 0.95
    version = run(venv, "ferviz", "--version", cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("ferviz ")


def test_packaged_dashboard_runs_under_apptest(venv, tmp_path):
    code = ("import sys\n"
            "from pathlib import Path\n"
            "import ferviz.dashboard.launch as launch\n"
            "from streamlit.testing.v1 import AppTest\n"
            "assert str(Path(launch.APP).resolve()).startswith(sys.prefix), launch.APP\n"
            "at = AppTest.from_file(str(launch.APP), default_timeout=120).run()\n"
            "assert not at.exception, [e.value for e in at.exception]\n"
            "assert not at.error, [e.value for e in at.error]\n"
            "print('METRICS', {m.label: m.value for m in at.metric})\n")
    out = run(venv, "python", "-c", code, cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "'Labelled faces': '1,400'" in out.stdout


@in_browser
def test_installed_dashboard_in_chromium(venv, tmp_path, browser):
    """``ferviz dashboard`` from the wheel install, outside the checkout, in headless
    Chromium: ferviz's own page menu only (no Streamlit page list from a ``pages/`` folder),
    the Overview's charts drawn, every page of the menu opens without an error, and the
    launch settings apply (25 MB uploads)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PYTHONPATH", "FERVIZ_ZOO") and not k.startswith("FERVIZ_")
             or k == "FERVIZ_CACHE"}
    proc = subprocess.Popen(
        [str(venv / "bin" / "ferviz"), "dashboard", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=tmp_path, env={**clean, "HOME": str(tmp_path)}, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        serving, lines = wait_until_serving(proc)
        assert serving, "".join(lines)[-2000:]
        from ferviz.dashboard.pages import all_pages

        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        done = '[data-testid="stApp"][data-test-script-state="notRunning"]'
        for shown in all_pages():
            page.goto(f"http://127.0.0.1:{port}/?page={shown.key}")
            page.wait_for_selector('[data-testid="stSidebar"] [role="radiogroup"]',
                                   timeout=120_000)
            page.wait_for_selector(done, timeout=120_000)
            assert page.locator('[data-testid="stSidebarNav"]').count() == 0, shown.key
            failed = page.locator('[data-testid="stException"], '
                                  '[data-testid="stAlertContentError"]')
            assert failed.count() == 0, (shown.key, failed.all_inner_texts())
            if shown.key == "overview":
                page.wait_for_selector(".main-svg", timeout=120_000)  # its charts drawn
            if shown.key == "try":
                limit = page.locator('[data-testid="stFileUploader"]').inner_text()
                assert "25MB" in limit.replace(" ", ""), limit
        assert not errors, errors
    finally:
        stop(proc)
