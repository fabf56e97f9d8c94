"""A corpus of bad inputs, each run through the installed ``ferviz`` console script.

Every case must end with exit code 2, exactly one stderr line starting ``error:`` that
contains the expected text, no traceback, and its folder exactly as it was (no file changed,
none added: no half-written output). Cases run four at a time. The cases live in
bad_input_cases.py; add yours there.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sysconfig
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bad_input_cases  # noqa: F401  (fills CASES)
from bad_input_files import CASES, Case, Content


# ---------------------------------------------------------------- the runner
def _console_script() -> str:
    """The installed ``ferviz`` entry point (not a pyenv shim in front of it)."""
    script = Path(sysconfig.get_path("scripts")) / "ferviz"
    return str(script) if script.is_file() else "ferviz"


def _build(folder: Path, files: dict[str, Content]) -> None:
    for name, content in files.items():
        path = folder / name  # a lone surrogate in a name is a non-UTF-8 byte on disk
        path.parent.mkdir(parents=True, exist_ok=True)
        if callable(content):
            content(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)


def _snapshot(folder: Path) -> dict[str, str]:
    return {os.fsdecode(p.relative_to(folder)): hashlib.blake2b(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


def _run(case: Case, folder: Path) -> str | None:
    """Why the case failed, or None."""
    before = _snapshot(folder)
    argv = [a.replace("{d}", str(folder)) for a in case.argv]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([_console_script(), *argv], cwd=folder, capture_output=True,
                         env=env, timeout=300)
    err = out.stderr.decode("utf-8", "backslashreplace")
    lines = err.strip().splitlines()
    problems = []
    if out.returncode != 2:
        problems.append(f"exit code {out.returncode}")
    if len(lines) != 1 or not lines[0].startswith("error: "):
        problems.append("not one 'error:' line on stderr")
    if "Traceback" in err:
        problems.append("a traceback")
    if case.expect not in err:
        problems.append(f"no {case.expect!r} in the message")
    if _snapshot(folder) != before:
        problems.append("its folder changed")
    return None if not problems else (
        f"ferviz {shlex.join(case.argv)}: {', '.join(problems)}\n    stderr: {err[-800:]}")


def test_every_bad_input_is_one_message_and_exit_2(tmp_path):
    from ferviz.data import open_data

    assert len(CASES) >= 150
    open_data("synth")  # the demo set is cached once, not by four cases at a time
    folders = []
    for k, case in enumerate(CASES):
        folder = tmp_path / f"case{k:03d}"
        folder.mkdir()
        _build(folder, case.files)
        folders.append(folder)
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [f for f in pool.map(_run, CASES, folders) if f]
    assert not failures, f"{len(failures)} of {len(CASES)} cases failed:\n" + "\n".join(failures)
