"""Every shell command in README.md's code blocks runs verbatim in a fresh copy of the
repository (its tracked and unignored files, beside ``../shared``) and exits 0 (with the
test session's cache: parsed FER2013 is not parsed again). Install lines are left out (they
need the network); ``ferviz dashboard`` lines must
start a server that answers once it says it serves, and stop cleanly on SIGTERM. Its Python
blocks run too, in order, as a notebook would run them."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sysconfig
import urllib.request
from pathlib import Path

import pytest
from conftest import FER2013, ROOT, wait_until_serving
from test_app_browser import free_port

NETWORK = re.compile(r"^pip install ")  # needs the network: left out
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=\S*$")  # shell variables for the lines after it
SERVER = re.compile(r"^ferviz dashboard\b")


def blocks() -> list[list[str]]:
    """The lines of each ```bash block of the README."""
    text = (ROOT / "README.md").read_text()
    return [[line for line in b.splitlines() if line.strip()]
            for b in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)]


def fresh_copy(tmp: Path) -> Path:
    """The repository's tracked and unignored files under ``tmp/ferviz`` (symlinks kept),
    with ``tmp/shared`` pointing at the real ``../shared`` when there is one."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    copy = tmp / "ferviz"
    for name in filter(None, listed.stdout.decode().split("\0")):
        src, dst = ROOT / name, copy / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    if (ROOT.parent / "shared").is_dir():
        os.symlink((ROOT.parent / "shared").resolve(), tmp / "shared")
    return copy


def test_python_blocks_run(tmp_path, monkeypatch):
    """The README's ```python blocks run, in order, in one namespace (as a notebook would)."""
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "README.md").read_text()
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    assert len(namespace["faces"]) == 5 and "net" in namespace


def test_blocks_are_found():
    lines = [line for block in blocks() for line in block]
    assert any(line.startswith("ferviz evaluate") for line in lines)
    assert any(NETWORK.match(line) for line in lines)


def serve(line: str, prelude: str, copy: Path, env: dict[str, str]) -> str | None:
    """Start a dashboard line; why it failed, or None once it answered and stopped cleanly.
    It is asked once it says it accepts sessions (no polling)."""
    port = free_port()
    env = {**env, "STREAMLIT_SERVER_PORT": str(port), "STREAMLIT_SERVER_HEADLESS": "true",
           "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(["bash", "-c", f"{prelude}exec {line}"], cwd=copy, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    answered, lines = wait_until_serving(proc)
    try:
        if answered:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=30)
    except OSError:
        answered = False
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = proc.wait()
    if not answered or code != 0:
        return f"answered {answered}, exit {code}: {''.join(lines)[-1500:]}"
    return None


def test_every_readme_command_runs_verbatim(tmp_path):
    copy = fresh_copy(tmp_path)
    scripts = sysconfig.get_path("scripts")  # the installed console script, this checkout's code
    env = {**os.environ, "PYTHONPATH": str(copy), "HOME": str(tmp_path / "home"),
           "PATH": f"{scripts}:{os.environ['PATH']}"}
    env.pop("FERVIZ_ZOO", None)
    failed, ran = [], 0
    for block in blocks():
        prelude = ""
        for line in block:
            if NETWORK.match(line):
                continue
            if ASSIGNMENT.match(line):
                prelude += f"{line}\n"
                continue
            if "../shared/data" in prelude + line and not FER2013.is_file():
                continue  # ../shared/data is absent here
            ran += 1
            if SERVER.match(line):
                why = serve(line, prelude, copy, env)
            else:
                out = subprocess.run(["bash", "-c", prelude + line], cwd=copy, env=env,
                                     capture_output=True, text=True, timeout=600, check=False)
                why = out.returncode and f"exit {out.returncode}: {out.stderr[-1500:]}"
            if why:
                failed.append(f"{line}\n  {why}")
    assert ran and not failed, "\n".join(failed)
