"""How ``ferviz dashboard`` starts streamlit on the packaged app (no streamlit import here)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

APP = Path(__file__).with_name("streamlit_app.py")


def split_args(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(streamlit's, the dashboard's): arguments of the form ``--server.x``/``--theme.x``
    (streamlit's config) go to streamlit, the rest to the dashboard."""
    ours, theirs, args = [], [], list(args)
    while args:
        a = args.pop(0)
        if a.startswith("--") and "." in a.split("=")[0]:
            theirs.append(a)
            if "=" not in a and args and not args[0].startswith("--"):
                theirs.append(args.pop(0))
        else:
            ours.append(a)
    return theirs, ours


# Streamlit settings of the dashboard, passed at launch (a pip-installed package has no
# .streamlit/config.toml; the clone's copy of it holds the same values, checked by a test).
# The packaged script sits beside the pages/ package: Streamlit's own page menu stays hidden.
SETTINGS = {"server.headless": "true", "server.maxUploadSize": "25",
            "server.runOnSave": "false", "browser.gatherUsageStats": "false",
            "client.toolbarMode": "minimal", "client.showSidebarNavigation": "false",
            "theme.base": "light"}


def streamlit_argv(args: Sequence[str]) -> list[str]:
    """``python -m streamlit run <app> [streamlit --options] -- [dashboard arguments]``, with
    :data:`SETTINGS` unless the user gave them."""
    theirs, ours = split_args(args)
    given = {a.split("=")[0].removeprefix("--") for a in theirs if a.startswith("--")}
    theirs = [f"--{k}={v}" for k, v in SETTINGS.items() if k not in given] + theirs
    return [sys.executable, "-m", "streamlit", "run", str(APP), *theirs, "--", *ours]
