"""Datasets as they are: contempt policies, subject / sequence groups, cluster bootstrap
intervals, subject-independent splits and domain warnings, on tiny CK+-, JAFFE- and
KDEF-style folders of FER-Synth faces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dataset_folders import (
    CK_SUBJECTS,
    CONTEMPT_FRAMES,
    FRAMES,
    JAFFE_POSERS,
    build_ck,
    build_jaffe,
    build_kdef,
)

from ferviz.data import open_data, open_grouped
from ferviz.data.groups import one_frame_per_sequence, parse_name
from ferviz.errors import FervizError
from ferviz.labels import CONTEMPT, EMOTIONS, INDEX

SCORED = len(CK_SUBJECTS) * 2 * FRAMES + 3  # sequences' frames + leak, near copy, blank


@pytest.fixture(scope="module")
def ck(tmp_path_factory):
    return build_ck(tmp_path_factory.mktemp("ck"))


@pytest.fixture(scope="module")
def jaffe(tmp_path_factory):
    return build_jaffe(tmp_path_factory.mktemp("jaffe"))


@pytest.mark.parametrize("name, subject, sequence, emotion", [
    ("S005_001_00000011.png", "S005", "S005_001", None),
    ("KA.AN1.39.tiff", "KA", None, "angry"),
    ("AF01ANS.JPG", "F01", "AF01AN", "angry"),
    ("BM21AFHL.jpg", "M21", "BM21AF", "fear"),
    ("Rafd090_01_Caucasian_female_angry_frontal.jpg", "01", "01_angry", "angry"),
    ("Rafd045_12_Moroccan_male_contemptuous_left.jpg", "12", "12_contemptuous", "contempt"),
])
def test_known_file_name_schemes(name, subject, sequence, emotion):
    info = parse_name(name)
    assert (info.subject, info.sequence, info.emotion) == (subject, sequence, emotion)
    assert parse_name("IMG_0001.jpg") is None and parse_name("KA.XX1.3.tiff") is None


def test_ck_contempt_policies_are_explicit_and_counted(ck):
    dropped = open_data(ck)  # image folders drop contempt by default (CK+ has no neutral)
    assert len(dropped) == SCORED and dropped.contempt.policy == "drop"
    assert dropped.contempt.total == CONTEMPT_FRAMES
    assert dropped.contempt.text() == f"contempt: drop ({CONTEMPT_FRAMES} faces dropped)"
    merged = open_data(ck, contempt="merge")
    assert merged.class_counts()["neutral"] == dropped.class_counts()["neutral"] + CONTEMPT_FRAMES
    kept = open_data(ck, contempt="keep")
    assert kept.class_counts()["contempt"] == CONTEMPT_FRAMES
    assert set(kept.frame()["label"]) >= {"contempt"}
    assert open_data(ck, split="test").contempt.total == 0  # contempt frames are in train
    with pytest.raises(FervizError, match="labelled contempt"):
        open_grouped(str(ck), contempt="keep")
    with pytest.raises(FervizError, match="contempt must be one of"):
        open_data(ck, contempt="neutral")


def test_ferplus_keep_makes_contempt_an_eighth_class():
    from ferviz.data.ferplus import contempt_faces, ferplus_labels
    from ferviz.labels import FERPLUS_COLUMNS

    votes = np.zeros((3, len(FERPLUS_COLUMNS)), np.int16)
    col = {c: j for j, c in enumerate(FERPLUS_COLUMNS)}
    votes[0, [col["contempt"], col["sadness"]]] = (6, 4)
    votes[1, [col["contempt"], col["neutral"]]] = (3, 7)
    votes[2, [col["contempt"], col["anger"]]] = (5, 5)
    assert contempt_faces(votes).tolist() == [True, False, False]
    labels, _, valid = ferplus_labels(votes, contempt="keep")
    assert labels.tolist() == [CONTEMPT, INDEX["neutral"], -1] and valid.all()
    assert ferplus_labels(votes, contempt="merge")[0][0] == INDEX["neutral"]


def test_groups_from_ck_jaffe_and_kdef_names(ck, jaffe, tmp_path):
    r = open_data(ck)
    subjects = set(r.groups["subject"])
    assert subjects == set(CK_SUBJECTS)
    frame = r.frame()
    assert frame.groupby("sequence").size().max() == FRAMES
    posers = open_data(jaffe)
    assert set(posers.groups["subject"]) == set(JAFFE_POSERS) and "sequence" not in posers.groups
    kdef = open_data(build_kdef(tmp_path / "kdef"))  # folders are people: names give emotions
    assert kdef.class_counts() == {e: (8 if e in ("happy", "surprise", "fear") else 0)
                                   for e in EMOTIONS}
    assert set(kdef.groups["subject"]) == {"F01", "M02"}
    assert kdef.frame().groupby("sequence").size().eq(2).all()  # two angles per expression


def test_groups_from_csv_and_regex(ck, tmp_path):
    r = open_data(ck)
    names = [p.rsplit("/", 1)[-1] for p in r.ids]
    csv = tmp_path / "g.csv"
    pd.DataFrame({"file": names[:5], "site": ["a"] * 5}).to_csv(csv, index=False)
    g = open_data(ck, groups=csv)
    assert g.groups["site"][:5].tolist() == ["a"] * 5 and g.groups["site"][5] is None
    assert "subject" in g.groups  # parsed groups stay
    rx = open_data(ck, group_regex=r"(?P<person>S\d{3})_")
    assert rx.groups["person"].tolist() == r.groups["subject"].tolist()
    for bad, message in (("(S\\d+", "missing"), ("S\\d+", "no named group"),
                         ("(?P<person>XYZ)", "matches no face"), ("(?P<label>S)", "clash")):
        with pytest.raises(FervizError, match=message):
            open_data(ck, group_regex=bad)
    pd.DataFrame({"file": ["nothing.png"], "site": ["a"]}).to_csv(csv, index=False)
    with pytest.raises(FervizError, match="no id matches"):
        open_data(ck, groups=csv)


def test_one_frame_per_sequence_keeps_the_last(ck, jaffe):
    r = one_frame_per_sequence(open_data(ck))
    frame = r.frame()
    assert frame["sequence"].is_unique and len(r) == 8 + 3  # 8 sequences + 3 extra faces
    ck_frames = frame["id"][frame["sequence"].isin([f"S001_00{i}" for i in (1, 2)])]
    assert all(i.endswith(f"{FRAMES:08d}.png") for i in ck_frames)
    with pytest.raises(FervizError, match="no sequence ids"):
        one_frame_per_sequence(open_data(jaffe))


def _table(labels, preds, subjects) -> pd.DataFrame:
    return pd.DataFrame({"label": labels, "pred": preds, "subject": subjects})


def test_cluster_bootstrap_matches_a_hand_computed_one():
    from sklearn.metrics import f1_score

    from ferviz.analysis.groups import intervals

    rng = np.random.default_rng(7)
    n = 120
    df = _table(rng.choice(EMOTIONS, n), rng.choice(EMOTIONS, n),
                rng.integers(0, 9, n).astype(str))
    df.loc[rng.random(n) < 0.5, "pred"] = df["label"]
    got = intervals(df, "subject", n_resamples=150, seed=5)
    codes, uniques = pd.factorize(df["subject"])
    members = [np.flatnonzero(codes == c) for c in range(len(uniques))]
    draw = np.random.default_rng(5)
    acc, f1 = [], []
    for _ in range(150):
        rows = np.concatenate([members[c] for c in draw.integers(0, len(uniques), len(uniques))])
        part = df.iloc[rows]
        acc.append((part["label"] == part["pred"]).mean())
        scores = []
        for e in set(part["label"]):  # F1 of each emotion present in the truth, by hand
            tp = ((part["label"] == e) & (part["pred"] == e)).sum()
            scores.append(2 * tp / ((part["label"] == e).sum() + (part["pred"] == e).sum()))
        f1.append(np.mean(scores))
    assert got["clusters"] == 9 and got["cluster"] == "subject"
    assert got["macro_f1"][0] == pytest.approx(f1_score(df["label"], df["pred"],
                                                        average="macro"))
    assert got["accuracy"][1:] == pytest.approx(list(np.percentile(acc, [2.5, 97.5])))
    assert got["macro_f1"][1:] == pytest.approx(list(np.percentile(f1, [2.5, 97.5])))


def test_cluster_intervals_widen_when_subjects_differ():
    from ferviz.analysis.groups import default_cluster, intervals

    # one subject always right, one always wrong: resampling subjects gives 0%, 50% or 100%
    df = _table(["happy"] * 20, ["happy"] * 10 + ["sad"] * 10, ["a"] * 10 + ["b"] * 10)
    assert default_cluster(df) == "subject"
    assert intervals(df, "subject")["accuracy"] == [0.5, 0.0, 1.0]
    faces = intervals(df)["accuracy"]
    assert faces[0] == 0.5 and 0.2 < faces[1] < 0.5 < faces[2] < 0.8
    with pytest.raises(FervizError, match="no column"):
        intervals(df, "sequence")


def test_split_by_subject_keeps_each_subject_on_one_side(ck):
    from ferviz.data.groups import group_column
    from ferviz.train import person_split

    r = open_data(ck)
    subjects = group_column(r, "subject")
    train, test = person_split(r, groups=subjects, seed=1)
    assert set(train.groups["subject"]).isdisjoint(test.groups["subject"])
    assert len(train) + len(test) == len(r) and len(test) > 0
    with pytest.raises(FervizError, match="no 'person' group"):
        group_column(r, "person")


def test_domain_warnings():
    from ferviz.analysis.domain import collapse, domain_warnings

    synth_card = {"data": "FER-Synth: train train, select on val"}
    fer_card = {"data": "FER2013 (fer2013 labels): train Training, select on PublicTest"}
    real = pd.DataFrame({"source": "folder", "label": ["happy", "sad"] * 5,
                         "pred": ["disgust"] * 7 + ["happy"] * 3})
    lines = domain_warnings(real, synth_card, "fer_synth_cnn")
    assert any("synthetic faces" in w for w in lines)
    assert any("collapse onto disgust (70%" in w for w in lines)
    assert domain_warnings(real.assign(pred=real["label"]), fer_card) == []
    assert any("face detector" in w for w in domain_warnings(real, fer_card, detected=1.0))
    assert any("real faces" in w for w in domain_warnings(real.assign(
        source="synth", pred=real["label"]), fer_card))
    mostly_happy = real.assign(label="happy", pred="happy")  # the truth is one class too
    assert collapse(mostly_happy) is None


def test_finetune_split_by_subject(ck, tmp_path, synth_model):
    import copy

    from ferviz.train import finetune

    r = open_grouped(str(ck))
    out = finetune(copy.deepcopy(synth_model), r, tmp_path / "ft", epochs=1,
                   log=lambda _: None, split_by="subject")
    assert out["split_by"] == "subject" and out["train"] + out["held_out"] == len(r)
    assert out["held_out"] in (2 * FRAMES, 2 * FRAMES + 1)  # one whole subject of four
