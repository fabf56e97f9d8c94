"""Tables as the pages show them: column names read as words (``mean confidence``,
``happiness`` for ``votes_happiness``), numbers formatted by their original column."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st


def header(column: Any) -> str:
    """A column name as a page shows it."""
    return str(column).removeprefix("votes_").removeprefix("p_").replace("_", " ")


def show(df: pd.DataFrame, formats: Mapping[str, str] | None = None, **options: Any) -> None:
    """``st.dataframe`` with readable headers; ``formats`` maps original column names to
    Streamlit number formats (e.g. ``"percent"``, ``"%.3f"``)."""
    config = {header(c): st.column_config.NumberColumn(format=f)
              for c, f in (formats or {}).items() if c in df.columns}
    st.dataframe(df.rename(columns=header), column_config=config, **options)
