"""The dashboard's script body: settings, the page menu, the sidebar context, the page."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

from ..errors import FervizError
from .pages import all_pages
from .resources import warm_up
from .settings import Settings, resolve_settings
from .sidebar import open_context
from .state import sync_url, ui

SCRIPTS = ("app.py", "streamlit_app.py")  # the files streamlit runs (their arguments are ours)


def settings() -> Settings:
    """Settings from the script's arguments, the environment and the settings file."""
    own = Path(sys.argv[0]).name in SCRIPTS
    return resolve_settings(sys.argv[1:] if own else [])


def main() -> None:
    st.set_page_config(page_title="ferviz", page_icon="🙂", layout="wide")
    try:
        cfg = settings()
    except FervizError as e:  # never fall back to wider settings than were asked for
        st.error(f"Settings: {e}. Fix the dashboard's arguments and start it again.")
        st.stop()
    pages = {p.key: p for p in all_pages()}
    key = ui(st.sidebar.radio, "page", "Page", list(pages),
             format_func=lambda k: pages[k].title)
    page = pages[key]
    st.title(page.title)
    ctx = open_context(cfg, page.scores) if page.context else cfg
    if ctx is not None:
        try:
            page.render(ctx)
        except FervizError as e:
            st.error(str(e))
        except OSError as e:  # a file the system refuses: say why, not where on the server
            st.error(f"cannot open that file ({e.strerror or type(e).__name__})")
    sync_url()
    warm_up()
