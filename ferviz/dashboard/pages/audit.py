"""Data audit: duplicate and near-duplicate faces within and across splits (train/test
leaks), blank faces, FER+ not-a-face / unknown votes and contradicted labels, class balance."""

from __future__ import annotations

import streamlit as st

from .. import resources as res
from ..page import Page
from ..sidebar import Context
from ..state import ui
from ..tables import show


def render(ctx: Context) -> None:
    near = ui(st.slider, "near", "Near-duplicates: perceptual hashes at most this many bits "
              "apart (0: exact only)", min_value=0, max_value=12)
    with st.spinner("Hashing every face of the data set (cached after the first time)…"):
        a = res.audit(ctx.ds, near)
    d = a.to_dict()
    k = st.columns(4)
    k[0].metric("Faces", f"{a.faces:,}")
    k[1].metric("Exact duplicates", f"{a.exact_faces():,}",
                help="faces identical to an earlier face")
    k[2].metric("Near-duplicate pairs", "-" if a.near_distance is None else
                f"{d['near_duplicate_pairs']:,}")
    k[3].metric("Blank faces", f"{len(a.blank):,}")
    across = a.by_splits[a.by_splits["across"]] if len(a.by_splits) else a.by_splits
    if len(across):
        st.warning(f"{int(across['pairs'].sum()):,} duplicate pairs cross splits: test faces "
                   "that also appear in training inflate test scores.")
    st.markdown("**Pairs by splits**")
    show(a.by_splits, hide_index=True)
    if a.ferplus is not None:
        f = a.ferplus
        st.markdown(f"FER+ votes: **{f['not_a_face']:,}** not a face, **{f['unknown']:,}** "
                    f"unknown, **{f['contradicted']:,}** FER2013 labels contradicted by a clear "
                    "FER+ majority.")
    if a.contempt is not None:
        st.caption(a.contempt.text())
    for column, values in a.shared_groups.items():
        st.warning(f"{len(values)} {column}s appear in several splits (a leak across "
                   f"splits): {', '.join(map(str, values[:8]))}")
    st.markdown("**Class balance**")
    show(a.balance)
    st.markdown(f"**Pairs** (first 500 of {len(a.pairs):,})")
    show(a.pairs.head(500), hide_index=True)


PAGE = Page("audit", "Data audit", 65, render)
