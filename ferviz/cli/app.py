"""The typer app, its ``--version`` and the console entry point :func:`main`: usage errors
are typer's (usage message, exit 2); bad input is a :class:`FervizError` (``error: <message>``,
exit 2); Ctrl-C is ``interrupted``, exit 130."""

from __future__ import annotations

import os
import signal
import sys
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


def main() -> None:
    """Entry point of the console script."""
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        app(prog_name="ferviz")
    except FervizError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(2)
    except OSError as e:  # a file the system refuses (name too long, permissions, a full disk)
        where = f": {shown(e.filename)}" if e.filename else ""
        typer.echo(f"error: {e.strerror or type(e).__name__}{where}", err=True)
        sys.exit(2)
    except RecursionError:
        typer.echo("error: the input nests too deeply (a cycle or a deeply nested file)",
                   err=True)
        sys.exit(2)
    except Interrupted:
        typer.echo("interrupted", err=True)
        sys.exit(130)
    finally:
        signal.signal(signal.SIGINT, previous)

