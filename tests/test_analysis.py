"""Analyses on hand-computed predictions tables: metrics, confusions, calibration, slices."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from ferviz.analysis import calibration, confusions, metrics, slices
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS, INDEX


def from_probs(labels, probs: np.ndarray, **columns) -> pd.DataFrame:
    """A predictions table (the columns of :func:`ferviz.predict.table`) from N x 7 probs."""
    probs = np.asarray(probs, np.float64)
    df = pd.DataFrame({"id": [f"face{i}" for i in range(len(probs))], "split": "test",
                       "source": "hand", "label": list(labels)})
    for j, e in enumerate(EMOTIONS):
        df[f"p_{e}"] = probs[:, j]
    ranked = -np.sort(-probs, axis=1)
    df["pred"] = [EMOTIONS[i] for i in probs.argmax(axis=1)]
    df["confidence"] = ranked[:, 0]
    df["margin"] = ranked[:, 0] - ranked[:, 1]
    df["entropy"] = -(probs * np.log(np.clip(probs, 1e-12, None))).sum(axis=1)
    df["correct"] = df["pred"] == df["label"]
    for k, v in columns.items():
        df[k] = v
    return df


def make_table(labels, preds, confidence=None, **columns) -> pd.DataFrame:
    """A predictions table whose top class is ``preds`` with probability ``confidence``; the
    rest of the mass is spread evenly over the other six emotions."""
    n = len(labels)
    conf = np.full(n, 0.7) if confidence is None else np.asarray(confidence, np.float64)
    probs = np.repeat(((1 - conf) / 6)[:, None], 7, axis=1)
    probs[np.arange(n), [INDEX[p] for p in preds]] = conf
    return from_probs(labels, probs, **columns)


TRUE = ["angry"] * 3 + ["fear"] * 2 + ["sad"] * 4 + ["neutral"]
PRED = ["angry", "fear", "angry", "sad", "fear", "neutral", "neutral", "sad", "fear", "neutral"]
CONF = [0.9, 0.5, 0.8, 0.6, 0.7, 0.95, 0.4, 0.85, 0.45, 0.75]


@pytest.fixture
def hand() -> pd.DataFrame:
    return make_table(TRUE, PRED, CONF)


def test_confusion_and_per_class(hand):
    cm = metrics.confusion(hand)
    assert cm.loc["angry", "angry"] == 2 and cm.loc["angry", "fear"] == 1
    assert cm.loc["sad", "neutral"] == 2 and cm.to_numpy().sum() == 10
    rates = metrics.confusion(hand, normalize=True)
    assert rates.loc["sad", "neutral"] == pytest.approx(0.5)
    assert rates.loc["disgust"].sum() == 0  # a class with no samples: a zero row, no NaN
    rep = metrics.class_report(hand)
    assert rep.loc["angry", ["precision", "recall", "f1"]].tolist() == \
        pytest.approx([1, 2 / 3, 0.8])
    assert rep.loc["fear", "f1"] == pytest.approx(0.4)
    assert rep.loc["sad", "f1"] == pytest.approx(1 / 3)
    assert rep.loc["neutral", ["precision", "recall"]].tolist() == pytest.approx([1 / 3, 1])
    assert rep.loc["happy"].tolist() == [0, 0, 0, 0]  # no samples, never predicted
    assert rep.loc["macro avg", "f1"] == pytest.approx((0.8 + 0.4 + 1 / 3 + 0.5) / 4)
    assert rep.loc["weighted avg", "f1"] == pytest.approx((2.4 + 0.8 + 4 / 3 + 0.5) / 10)
    assert rep.loc["macro avg", "support"] == 10
    s = metrics.summary(hand)
    assert s["accuracy"] == 0.5 and s["macro_f1"] == pytest.approx(rep.loc["macro avg", "f1"])


@pytest.mark.parametrize("seed", range(6))
def test_metrics_equal_scikit_learn(seed):
    """The numpy metrics give scikit-learn's numbers exactly: unknown labels left out, classes
    absent from the truth or never predicted (seeds 0 and 1 drop some), zero divisions as 0."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    rng = np.random.default_rng(seed)
    n = [0, 1, 7, 40, 300, 3000][seed]
    pool = np.array([*EMOTIONS[:4], "unknown"]) if seed < 2 else np.array([*EMOTIONS, "unknown"])
    labels = rng.choice(pool, n)
    preds = rng.choice(list(EMOTIONS[1:]), n)
    df = make_table(labels, preds)
    d = metrics.labelled(df)
    cm = confusion_matrix(d["label"], d["pred"], labels=list(EMOTIONS)) if len(d) else \
        np.zeros((7, 7), np.int64)
    assert (metrics.confusion(df).to_numpy() == cm).all()
    pc = metrics.per_class(df)
    if len(d):
        want = precision_recall_fscore_support(d["label"], d["pred"], labels=list(EMOTIONS),
                                               zero_division=0)
        for got, expected in zip([pc[c].to_numpy() for c in pc.columns], want):
            assert (got == expected).all()  # equal, not approximately equal
    else:
        assert (pc.to_numpy() == 0).all()
    assert pc["support"].dtype == np.int64  # (scikit-learn gives floats when every score is 0)
    if len(d):  # the other macro-F1, by name: scikit-learn's default average
        from sklearn.metrics import f1_score

        s = metrics.summary(df)
        assert s["macro_f1_seen"] == pytest.approx(f1_score(d["label"], d["pred"],
                                                            average="macro", zero_division=0))
        present = sorted(set(d["label"]))
        assert s["macro_f1"] == pytest.approx(f1_score(d["label"], d["pred"], labels=present,
                                                       average="macro", zero_division=0))


def test_class_never_predicted_counts_in_macro():
    df = make_table(["angry", "angry", "sad", "sad"], ["angry", "angry", "angry", "angry"])
    rep = metrics.class_report(df)
    assert rep.loc["sad", ["recall", "f1"]].tolist() == [0, 0]
    assert rep.loc["macro avg", "f1"] == pytest.approx((2 / 3 + 0) / 2)


def test_single_class_table():
    df = make_table(["happy"] * 5, ["happy", "happy", "sad", "happy", "neutral"])
    happy_f1 = metrics.per_class(df).loc["happy", "f1"]
    assert metrics.summary(df)["macro_f1"] == pytest.approx(happy_f1)
    top = confusions.top_confusions(df)
    assert set(top["true"]) == {"happy"} and top["rate"].tolist() == [0.2, 0.2]
    acc, lo, hi = metrics.accuracy_ci(make_table(["happy"] * 5, ["happy"] * 5))
    assert (acc, lo, hi) == (1.0, 1.0, 1.0)


def test_no_labelled_faces():
    df = make_table(["unknown"] * 3, ["sad", "happy", "sad"])
    assert np.isnan(metrics.accuracy_ci(df)).all()
    assert np.isnan(calibration.ece(df))
    assert confusions.top_confusions(df).empty and metrics.confusion(df).to_numpy().sum() == 0


def test_accuracy_ci_matches_normal_approximation():
    df = make_table(["sad"] * 400, ["sad"] * 300 + ["fear"] * 100)
    acc, lo, hi = metrics.accuracy_ci(df, n_resamples=4000)
    half = 1.96 * np.sqrt(0.75 * 0.25 / 400)
    assert acc == 0.75 and lo < acc < hi
    assert lo == pytest.approx(acc - half, abs=0.01) and hi == pytest.approx(acc + half, abs=0.01)
    assert metrics.accuracy_ci(df, seed=3) == metrics.accuracy_ci(df, seed=3)  # reproducible


def test_top_confusions_and_drilldown(hand):
    top = confusions.top_confusions(hand)
    assert list(zip(top["true"], top["pred"])) == [("sad", "neutral"), ("fear", "sad"),
                                                    ("angry", "fear"), ("sad", "fear")]
    assert top.loc[0, "count"] == 2 and top.loc[0, "share"] == pytest.approx(0.4)
    assert top.loc[0, "mean_confidence"] == pytest.approx((0.95 + 0.4) / 2)
    assert len(confusions.top_confusions(hand, k=2)) == 2
    c = confusions.cell(hand, "sadness", "neutral")  # aliases are accepted
    assert c["confidence"].tolist() == [0.95, 0.4] and c["id"].tolist() == ["face5", "face6"]
    assert c.filter(like="p_").shape[1] == 7
    assert confusions.cell(hand, "angry", "angry", n=1)["id"].tolist() == ["face0"]
    assert confusions.cell(hand, "happy", "sad").empty
    with pytest.raises(FervizError, match="unknown emotion"):
        confusions.cell(hand, "bored", "sad")


def test_calibration_hand_computed():
    df = make_table(["sad", "sad", "fear", "fear"], ["sad", "fear", "fear", "happy"],
                    [0.95, 0.85, 0.55, 0.35])
    r = calibration.reliability(df, bins=2)
    assert r["count"].tolist() == [1, 3]
    assert r["accuracy"].tolist() == pytest.approx([0, 2 / 3])
    assert r["confidence"].tolist() == pytest.approx([0.35, (0.95 + 0.85 + 0.55) / 3])
    assert calibration.ece(df, bins=2) == pytest.approx(0.175)
    h = calibration.confidence_hist(df, bins=4)
    assert h["right"].tolist() == [0, 0, 1, 1] and h["wrong"].tolist() == [0, 1, 0, 1]
    assert calibration.reliability(df, bins=10)["count"].sum() == 4
    with pytest.raises(FervizError):
        calibration.reliability(df, bins=0)


def test_perfect_calibration_has_zero_ece():
    df = make_table(["sad"] * 4 + ["fear"] * 4, ["sad"] * 3 + ["fear"] + ["fear"] * 3 + ["sad"],
                    [0.75] * 8)
    assert calibration.ece(df) == pytest.approx(0.0, abs=1e-12)


def test_slices(hand):
    df = hand.assign(tag=["a"] * 5 + ["b"] * 4 + [None])
    s = slices.by_slice(df, "tag")
    assert s.loc["a", "n"] == 5 and s.loc["a", "accuracy"] == pytest.approx(3 / 5)
    assert s.loc["b", "accuracy"] == pytest.approx(1 / 4)
    assert s["n"].sum() == 10  # the untagged face is a slice of its own
    with pytest.raises(FervizError, match="no column"):
        slices.by_slice(hand, "nope")


def test_analysis_never_imports_torch():
    code = ("import sys, importlib, pkgutil, ferviz.analysis as a\n"
            "mods = [m.name for m in pkgutil.iter_modules(a.__path__)]\n"
            "[importlib.import_module('ferviz.analysis.' + m) for m in mods]\n"
            "assert len(mods) >= 6, mods\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
