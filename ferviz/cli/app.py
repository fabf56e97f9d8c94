"""The typer app, its ``--version`` and the console entry point :func:`main`: usage errors
are typer's (usage message, exit 2); bad input is a :class:`FervizError` (``error: <message>``,
exit 2); Ctrl-C is ``interrupted``, exit 130."""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from typing import Annotated

import typer

from .. import __version__
from ..errors import FervizError, shown

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Interpretability and error analysis for facial expression recognition.",
                  pretty_exceptions_enable=False, rich_markup_mode=None)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ferviz {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")]
        = False,
          quiet: Annotated[bool, typer.Option(
              "--quiet", "-q", help="No progress bars on stderr.")] = False) -> None:
    """Interpretability and error analysis for facial expression recognition."""
    if quiet:
        os.environ["FERVIZ_QUIET"] = "1"


class Interrupted(BaseException):
    """Ctrl-C, raised past every library's own KeyboardInterrupt handling."""


def _on_sigint(signum: int, frame: object) -> None:
    raise Interrupted


class _SecondCtrlC:
    """Ctrl-C pressed again while the main thread is stuck in native code (a TorchScript
    forward that loops forever never returns to Python, so :func:`_on_sigint` cannot run):
    a watcher thread learns of each SIGINT through :func:`signal.set_wakeup_fd`, says 3 s
    after the first that the work has not stopped, and ends the process at the second.

    Started by :func:`main` only, in the main thread: the console script owns its process
    (the dashboard and notebooks are never ended this way)."""

    def __init__(self) -> None:
        self.read, self.write = os.pipe()
        os.set_blocking(self.write, False)
        try:
            self.previous: int | None = signal.set_wakeup_fd(self.write)
        except ValueError:  # not the main thread: Ctrl-C is not this thread's to handle
            self.previous = None
        else:
            threading.Thread(target=self._watch, daemon=True, name="ferviz-ctrl-c").start()

    def _watch(self) -> None:
        presses, told = 0, False
        while True:
            wait = 3.0 if presses == 1 and not told else None
            if not select.select([self.read], [], [], wait)[0]:
                typer.echo("note: still stopping (work in native code, such as a model's "
                           "forward pass, does not see Ctrl-C); press Ctrl-C again to stop at "
                           "once", err=True)
                told = True
                continue
            data = os.read(self.read, 64)
            if 0 in data:  # main() is done
                os.close(self.read)
                return
            presses += data.count(signal.SIGINT)
            if presses >= 2:
                typer.echo("interrupted (stopped at once: finished outputs were kept, "
                           "unfinished ones were not written)", err=True)
                os._exit(130)

    def close(self) -> None:
        if self.previous is not None:
            signal.set_wakeup_fd(self.previous)
            os.write(self.write, b"\0")
        else:
            os.close(self.read)
        os.close(self.write)


def main() -> None:
    """Entry point of the console script."""
    previous = signal.signal(signal.SIGINT, _on_sigint)
    watcher = _SecondCtrlC()
    try:
        app(prog_name="ferviz")
    except FervizError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except OSError as e:  # a file the system refuses (name too long, permissions, a full disk)
        where = f": {shown(e.filename)}" if e.filename else ""
        typer.echo(f"error: {e.strerror or e or type(e).__name__}{where}", err=True)
        sys.exit(2)
    except RecursionError:
        typer.echo("error: the input nests too deeply (a cycle or a deeply nested file)",
                   err=True)
        sys.exit(2)
    except Interrupted:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        watcher.close()
        signal.signal(signal.SIGINT, previous)

