"""A corpus of bad inputs, each run through the command line's entry point in this process,
and a sample of them (every eighth, and each case that could block) through the installed
``ferviz`` console script too, as a user runs it.

Every case must end with exit code 2, exactly one stderr line starting ``error:`` that
contains the expected text, no traceback, and its folder exactly as it was (no file changed,
none added: no half-written output). The few ``ok`` cases (inputs that must work, such as a
job with a part missing) must exit 0 with the expected text on stderr, no error and no
traceback, and pass their own check of the result. The cases live in bad_input_cases.py; add
yours there.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shlex
import subprocess
import sys
import sysconfig
import traceback
from pathlib import Path

import bad_input_cases  # noqa: F401  (fills CASES)
import bad_input_options  # noqa: F401
import bad_input_round3  # noqa: F401
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


SAMPLE = 8  # every SAMPLE-th case also runs through the console script


def _in_process(argv: list[str], folder: Path) -> tuple[object, str]:
    """(exit code, stderr) of ``ferviz ARGV`` run by its entry point in this process."""
    from ferviz.cli import main

    err = io.StringIO()
    saved = (os.getcwd(), sys.argv, sys.dont_write_bytecode)
    os.chdir(folder)
    sys.argv, sys.dont_write_bytecode = ["ferviz", *argv], True
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                main()
                code: object = 0
            except SystemExit as e:
                code = e.code
            except BaseException:  # what main() let through: a traceback for the user
                code = "raised"
                err.write(traceback.format_exc())
    finally:
        os.chdir(saved[0])
        sys.argv, sys.dont_write_bytecode = saved[1], saved[2]
    return code, err.getvalue()


def _console(argv: list[str], folder: Path) -> tuple[object, str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([_console_script(), *argv], cwd=folder, capture_output=True,
                         env=env, timeout=300)
    return out.returncode, out.stderr.decode("utf-8", "backslashreplace")


def _run(case: Case, folder: Path, process: bool) -> str | None:
    """Why the case failed, or None."""
    before = _snapshot(folder)
    argv = [a.replace("{d}", str(folder)) for a in case.argv]
    code, err = (_console if process else _in_process)(argv, folder)
    lines = err.strip().splitlines()
    problems = []
    if code != 2:
        problems.append(f"exit code {code}")
    if len(lines) != 1 or not lines[0].startswith("error: "):
        problems.append("not one 'error:' line on stderr")
    if "Traceback" in err:
        problems.append("a traceback")
    if case.expect not in err:
        problems.append(f"no {case.expect!r} in the message")
    if _snapshot(folder) != before:
        problems.append("its folder changed")
    if case.ok is not None:
        return _run_ok(case, folder, code, err, process)
    where = "console script" if process else "in-process"
    return None if not problems else (
        f"ferviz {shlex.join(case.argv)} ({where}): {', '.join(problems)}\n"
        f"    stderr: {err[-800:]}")


def _run_ok(case: Case, folder: Path, code: object, err: str, process: bool) -> str | None:
    """Why a case that must work failed, or None."""
    problems = [f"exit code {code}"] if code != 0 else []
    if "Traceback" in err or "error:" in err:
        problems.append("an error on stderr")
    if case.expect not in err:
        problems.append(f"no {case.expect!r} on stderr")
    if not problems and (wrong := case.ok(folder)):
        problems.append(f"a wrong result: {wrong}")
    where = "console script" if process else "in-process"
    return None if not problems else (
        f"ferviz {shlex.join(case.argv)} ({where}): {', '.join(problems)}\n"
        f"    stderr: {err[-800:]}")


def test_every_bad_input_is_one_message_and_exit_2(tmp_path):
    from ferviz.data import open_data

    assert len(CASES) >= 400
    open_data("synth")  # the demo set is cached once, not by four cases at a time
    folders = []
    for k, case in enumerate(CASES):
        folder = tmp_path / f"case{k:03d}"
        folder.mkdir()
        _build(folder, case.files)
        folders.append(folder)
    sample = [k for k, case in enumerate(CASES)  # an ok case changed its folder: run once
              if case.process or (k % SAMPLE == 0 and case.ok is None)]
    failures = [f for k, case in enumerate(CASES) if not case.process
                for f in [_run(case, folders[k], False)] if f]
    for k in sample:  # the same case again, as a user runs it (its folder is unchanged)
        failures += [f for f in [_run(CASES[k], folders[k], True)] if f]
    assert not failures, f"{len(failures)} of {len(CASES)} cases failed:\n" + "\n".join(failures)
