"""Ambiguity: close calls, FER+ human ambiguity and the split of errors by annotators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import FER2013, FERPLUS, needs_ferplus
from test_analysis import from_probs, make_table

from ferviz.analysis import ambiguity as amb
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS, FERPLUS_COLUMNS


def with_probs(df: pd.DataFrame, rows: dict[int, dict[str, float]]) -> pd.DataFrame:
    df = df.copy()
    for i, probs in rows.items():
        p = np.array([probs.get(e, 0.0) for e in EMOTIONS])
        p[p == 0] = (1 - p.sum()) / max((p == 0).sum(), 1)
        df.loc[i, [f"p_{e}" for e in EMOTIONS]] = p
        df.loc[i, "pred"] = EMOTIONS[int(p.argmax())]
        df.loc[i, "confidence"] = p.max()
        df.loc[i, "entropy"] = amb.entropy(p[None])[0]
    return df


def test_ambiguous_finds_the_seed_example():
    df = with_probs(make_table(["angry"] * 3, ["angry"] * 3, [0.9, 0.5, 0.3]),
                    {2: {"angry": 0.29, "fear": 0.28, "sad": 0.26}, 1: {"angry": 0.5, "sad": 0.45}})
    a = amb.ambiguous(df)
    assert a["id"].tolist() == ["face2"]
    assert a["close"].iloc[0] == "angry 29%, fear 28%, sad 26%"
    assert a["spread"].iloc[0] == pytest.approx(0.03) and a["n_close"].iloc[0] == 3
    two = amb.ambiguous(df, k=2, spread=0.04)
    assert two["id"].tolist() == ["face2"]  # 0.29 vs 0.28 is closer than 0.50 vs 0.45
    assert amb.ambiguous(df, k=2, spread=0.1)["id"].tolist() == ["face2", "face1"]
    with pytest.raises(FervizError):
        amb.ambiguous(df, k=1)


def test_synth_blends_rank_as_more_ambiguous(synth_test, synth_model):
    from sklearn.metrics import roc_auc_score

    from ferviz.predict import predict

    df = predict(synth_model, synth_test)
    blend = (synth_test.soft > 0).sum(axis=1) == 2
    assert 10 < blend.sum() < 100
    assert roc_auc_score(blend, df["entropy"]) > 0.8
    assert roc_auc_score(blend, -df["margin"]) > 0.8
    close = amb.ambiguous(df, k=2, spread=0.3).index
    assert blend[close].mean() > 2 * blend.mean()


def votes_table(votes: list[dict[str, int]], labels, preds) -> pd.DataFrame:
    df = make_table(labels, preds)
    for c in FERPLUS_COLUMNS:
        df[f"votes_{c}"] = [v.get(c, 0) for v in votes]
    return df


VOTES = [{"neutral": 10}, {"anger": 5, "sadness": 5}, {"NF": 10},
         {"contempt": 4, "neutral": 4, "happiness": 2}, {"fear": 6, "surprise": 4},
         {"sadness": 9, "neutral": 1}]


def test_human_ambiguity_hand_computed():
    df = votes_table(VOTES, ["neutral", "angry", "happy", "neutral", "fear", "angry"],
                     ["neutral", "sad", "sad", "happy", "fear", "sad"])
    h = amb.human(df)
    assert h["majority"].tolist() == ["neutral", "tie", "unusable", "neutral", "fear", "sad"]
    assert h["agreement"].tolist() == pytest.approx([1, 0.5, 0, 0.8, 0.6, 0.9])
    assert h["human_entropy"].iloc[0] == pytest.approx(0)
    assert h["human_entropy"].iloc[1] == pytest.approx(np.log(2))
    assert h["usable"].tolist() == [True, True, False, True, True, True]
    shares = amb.vote_distribution(df)
    assert shares[3, EMOTIONS.index("neutral")] == pytest.approx(0.8)
    with pytest.raises(FervizError, match="no FER\\+ votes"):
        amb.human(make_table(["sad"], ["sad"]))


def test_error_split_and_contradicted_labels():
    df = votes_table(VOTES, ["neutral", "angry", "happy", "neutral", "fear", "angry"],
                     ["neutral", "sad", "sad", "happy", "surprise", "sad"])
    split = amb.error_split(df, agreement=0.7).set_index("id")["kind"]
    assert split.to_dict() == {
        "face1": "humans disagree too",          # 5 / 5 tie
        "face2": "no usable votes",              # not a face
        "face3": "humans agree, model wrong",    # 80% neutral, model said happy
        "face4": "humans disagree too",          # 60% fear < 70%
        "face5": "humans agree with the model",  # 90% sad: the FER2013 'angry' is likely wrong
    }
    c = amb.contradicted(df)
    assert c["id"].tolist() == ["face5", "face4"][:len(c)] and c["id"].tolist() == ["face5"]
    assert c["model_sides_with"].tolist() == ["ferplus"]


def test_human_vs_model_rank_correlation():
    votes = [{"happiness": 10}, {"happiness": 8, "surprise": 2}, {"happiness": 5, "fear": 3,
             "surprise": 2}, {"anger": 4, "sadness": 3, "fear": 3}]
    df = votes_table(votes, ["happy"] * 4, ["happy"] * 4)
    df["entropy"] = [0.1, 0.5, 0.9, 1.5]
    r = amb.human_vs_model(df)
    assert r["n"] == 4 and r["spearman"] == pytest.approx(1.0)
    df["entropy"] = [1.5, 0.9, 0.5, 0.1]
    assert amb.human_vs_model(df)["spearman"] == pytest.approx(-1.0)
    assert np.isnan(amb.human_vs_model(df.head(2))["spearman"])


@needs_ferplus
def test_real_ferplus_votes_against_an_oracle():
    """PrivateTest's real FER2013 labels and FER+ votes, with a "model" that answers the FER+
    vote distribution: it can only ever side with the annotators."""
    from ferviz.data.ferplus import ferplus_labels, read_votes

    fer = pd.read_csv(FER2013, usecols=["emotion", "Usage"])
    private = (fer["Usage"] == "PrivateTest").to_numpy()
    votes = read_votes(FERPLUS, expected_rows=len(fer))[private]
    _, dist, _ = ferplus_labels(votes)
    probs = np.where(dist.sum(axis=1, keepdims=True) > 0, dist, 1 / 7)
    df = from_probs([EMOTIONS[i] for i in fer["emotion"][private]], probs)
    for j, c in enumerate(FERPLUS_COLUMNS):
        df[f"votes_{c}"] = votes[:, j]

    h = amb.human(df)
    assert len(h) == 3589
    assert (h["usable"] & (h["majority"] != "tie")).sum() == 3392  # as the README reports
    c = amb.contradicted(df)
    assert 0.1 < len(c) / len(df) < 0.5  # FER+ relabelled a sizeable minority
    assert (c["model_sides_with"] == "ferplus").all() and (c["majority"] != c["label"]).all()
    split = amb.error_split(df)
    kinds = split["kind"].value_counts()
    assert kinds.sum() == (df["pred"] != df["label"]).sum()
    assert "humans agree, model wrong" not in kinds
    assert kinds["humans agree with the model"] == (c["agreement"] >= 0.5).sum()
    r = amb.human_vs_model(df)
    assert r["n"] == h["usable"].sum() and r["spearman"] == pytest.approx(1.0)
