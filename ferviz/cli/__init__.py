"""The ``ferviz`` command: parse -> task -> print. Heavy libraries load inside commands; each
module here registers its commands on :data:`app`."""

from . import core, datasets, explain, report  # noqa: F401  (registers the commands)
from .app import app, main

__all__ = ["app", "main"]
