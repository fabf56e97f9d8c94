"""Comparing two predictions tables on the same faces."""

from __future__ import annotations

import pytest
from test_analysis import make_table

from ferviz.analysis import compare
from ferviz.errors import FervizError

LABELS = ["sad"] * 6 + ["fear"] * 6
A = ["sad"] * 5 + ["neutral"] + ["fear"] * 3 + ["sad"] * 3
B = ["sad"] * 3 + ["neutral"] * 3 + ["fear"] * 6


@pytest.fixture
def pair():
    return make_table(LABELS, A), make_table(LABELS, B).iloc[::-1]  # same faces, other order


def test_deltas_and_disagreement(pair):
    a, b = pair
    d = compare.deltas(a, b)
    assert d.loc["accuracy", "a"] == pytest.approx(8 / 12)
    assert d.loc["accuracy", "b"] == pytest.approx(9 / 12)
    assert d.loc["accuracy", "delta"] == pytest.approx(1 / 12)
    assert d.loc["f1_fear", "b"] == pytest.approx(1.0)
    m = compare.disagreement(a, b)
    assert m.loc["sad", "neutral"] == 2 and m.loc["sad", "fear"] == 3 and m.to_numpy().sum() == 12
    dis = compare.disagreements(a, b)
    assert len(dis) == 5 and set(dis["pred_a"]) == {"sad"}
    assert {"p_sad_a", "p_sad_b", "correct_a", "correct_b"} <= set(dis.columns)


def test_mcnemar_exact(pair):
    a, b = pair
    r = compare.mcnemar(a, b)
    # a alone right on faces 3, 4 (sad); b alone right on faces 9, 10, 11 (fear)
    assert (r["only_a"], r["only_b"], r["both"], r["neither"]) == (2, 3, 6, 1)
    assert r["pvalue"] == pytest.approx(1.0)
    big_a = make_table(["sad"] * 10, ["sad"] * 8 + ["fear"] * 2)
    big_b = make_table(["sad"] * 10, ["fear"] * 8 + ["sad"] * 2)
    assert compare.mcnemar(big_a, big_b)["pvalue"] == pytest.approx(112 / 1024)
    assert compare.mcnemar(big_a, big_a)["pvalue"] == 1.0


def test_align_refuses_other_faces(pair):
    a, b = pair
    with pytest.raises(FervizError, match="different faces"):
        compare.deltas(a, b.iloc[1:])
    with pytest.raises(FervizError, match="different labels"):
        compare.deltas(a, b.assign(label="happy"))
    with pytest.raises(FervizError, match="lacks column"):
        compare.deltas(a, b.drop(columns=["pred"]))
    with pytest.raises(FervizError, match="repeats"):
        compare.deltas(a, b.assign(id="x"))
