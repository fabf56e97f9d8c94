"""The page's choices, mirrored in its URL so a view can be shared.

One table declares every key: its default, how it is read back from the URL, and whether it
may travel in a link at all (``trust`` never does). Widgets are created through :func:`ui`,
which seeds them from the state, repairs values that are no longer valid, and stores what the
person chose.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import streamlit as st

DEFAULT_METHODS = "gradcam,occlusion"


@dataclass(frozen=True)
class Key:
    """One URL key: ``kind`` is str, int, bool or list (comma-separated); ints are clamped
    to ``[low, high]``; a key that is not ``shareable`` is never read from or written to
    the URL."""

    name: str
    default: Any = None
    kind: str = "str"
    low: int = 0
    high: int = 0
    shareable: bool = True

    def decode(self, text: str) -> Any:
        if self.kind == "bool":
            return text == "1"
        if self.kind == "int":
            return min(max(int(text), self.low), self.high)
        if self.kind == "list":
            return [t for t in text.split(",") if t]
        return text

    def encode(self, value: Any) -> str | None:
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        return str(value)


KEYS = {k.name: k for k in [
    Key("page", "overview"),
    # data and model (sidebar)
    Key("kind"), Key("path", ""), Key("data"), Key("ferplus", ""), Key("labels", "fer2013"),
    Key("split"), Key("model"), Key("model_choice"), Key("model_path", ""), Key("arch", ""),
    Key("trust", False, "bool", shareable=False),
    Key("input_size", 0, "int", 0, 256), Key("channels", 0, "int", 0, 3),
    Key("normalize", ""), Key("order", ""), Key("output", ""), Key("cam_layer", ""),
    Key("tta", False, "bool"),
    Key("contempt", ""), Key("by", ""), Key("near", 4, "int", 0, 12),
    # confusion matrix
    Key("true", "sad"), Key("pred", "neutral"), Key("n", 24, "int", 4, 96),
    Key("cam", False, "bool"),
    # ambiguous samples
    Key("sort", "close"), Key("errors", False, "bool"), Key("n_amb", 24, "int", 4, 200),
    # inspector
    Key("sample"), Key("methods", DEFAULT_METHODS.split(","), "list"), Key("target", "pred"),
    Key("contrast", ""),
    # compare, try it, export
    Key("compare"), Key("compare_path", ""), Key("compare_tta", False, "bool"),
    Key("whole", False, "bool"), Key("try_methods", DEFAULT_METHODS.split(","), "list"),
    Key("scope", "split"),
    # video
    Key("video_path", ""), Key("overlay", ""), Key("every", 1, "int", 1, 1000),
    Key("frame", 0, "int", 0, 10**9), Key("video_methods", DEFAULT_METHODS.split(","), "list"),
    Key("live_methods", DEFAULT_METHODS.split(","), "list"),
    Key("job", ""), Key("job_split", ""), Key("job_true", "sad"), Key("job_pred", "neutral"),
]}


def state() -> dict[str, str]:
    """This session's choices as strings (seeded from the URL's shareable keys on the first
    run; unknown keys are ignored)."""
    if "fv" not in st.session_state:
        st.session_state["fv"] = {k: str(v) for k, v in st.query_params.to_dict().items()
                                  if k in KEYS and KEYS[k].shareable}
    return st.session_state["fv"]


def get(name: str) -> Any:
    """The decoded value of a key (its default when unset or unreadable)."""
    key, s = KEYS[name], state()
    try:
        return key.decode(s[name]) if name in s else key.default
    except (TypeError, ValueError):
        return key.default


def put(name: str, value: Any) -> Any:
    """Store a value in the state (and return it)."""
    text = KEYS[name].encode(value)
    if text is None:
        state().pop(name, None)
    else:
        state()[name] = text
    return value


def ui(widget: Callable[..., Any], name: str, label: str, options: Sequence | None = None,
       default: Any = None, **kwargs: Any) -> Any:
    """Create ``widget`` (a streamlit input such as ``st.sidebar.selectbox``) for key
    ``name``, seeded from the state (or ``default``, else the key's default), keep its value
    in the state and return it.

    ``options`` is passed as the widget's choices; a stored value that is no longer among
    them falls back to the default (or the first option).
    """
    wk, fallback = f"w_{name}", KEYS[name].default if default is None else default
    seeded = get(name) if name in state() else fallback
    if options is not None:
        options = list(options)
        is_list = KEYS[name].kind == "list"
        valid = (lambda v: all(x in options for x in v)) if is_list else (lambda v: v in options)
        if is_list and seeded is not None:
            seeded = [x for x in seeded if x in options]  # drop names no longer offered
        if not valid(seeded):
            seeded = fallback if valid(fallback) else (options[0] if options else None)
        if wk in st.session_state and not valid(st.session_state[wk]):
            del st.session_state[wk]
    if wk not in st.session_state and seeded is not None:
        st.session_state[wk] = seeded
    args = (label, options) if options is not None else (label,)
    return put(name, widget(*args, key=wk, **kwargs))


def sync_url() -> None:
    """Write the shareable state into the page URL (only when it changed)."""
    want = {k: v for k, v in state().items() if v not in ("", None) and KEYS[k].shareable}
    if st.query_params.to_dict() != want:
        st.query_params.from_dict(want)


def link(values: Mapping[str, Any] | None = None, **changes: Any) -> str:
    """A relative ``?query`` URL of the shareable state with some values changed (None drops
    one)."""
    merged = {**(state() if values is None else values), **changes}
    return "?" + urlencode({k: v for k, v in merged.items()
                            if v not in (None, "") and k in KEYS and KEYS[k].shareable})
