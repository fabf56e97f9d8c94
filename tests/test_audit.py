"""``ferviz audit``, the leak and contempt notes of ``ferviz evaluate``, and ``ferviz matrix``,
on a tiny CK+-style folder with a planted leak, near copy and blank face."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import FER2013, FERPLUS, needs_fer2013, needs_ferplus
from dataset_folders import (
    BLANK,
    CK_SUBJECTS,
    CONTEMPT_FRAMES,
    FRAMES,
    LEAK,
    NEAR,
    build_ck,
)

from ferviz.errors import FervizError


@pytest.fixture(scope="module")
def ck(tmp_path_factory):
    return build_ck(tmp_path_factory.mktemp("ck"))


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``ferviz ARGS`` in-process: (exit code, stdout, stderr)."""
    from ferviz.cli import main

    argv, sys.argv = sys.argv, ["ferviz", *args]
    try:
        main()
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return code, out.out, out.err


def test_audit_finds_the_planted_problems(ck):
    from ferviz.app.audit import audit_data

    a = audit_data(str(ck))
    exact = a.pairs[a.pairs["kind"] == "exact"]
    pair = exact.iloc[0]
    assert len(exact) == 1 and {pair.id_a.rsplit("/")[-1], pair.id_b.rsplit("/")[-1]} == {
        LEAK, "S001_001_00000001.png"}
    assert {pair.split_a, pair.split_b} == {"train", "test"}
    near = a.pairs[a.pairs["kind"] == "near"]
    assert any(r.id_a.endswith(NEAR) or r.id_b.endswith(NEAR) for r in near.itertuples())
    row = a.by_splits[a.by_splits["kind"] == "exact"].iloc[0]
    assert row["across"] and row["splits"] == "test / train"
    assert a.blank["id"].str.endswith(BLANK).tolist() == [True]
    assert a.shared_groups["subject"] == ["S001"]  # the leaked copy is filed under S001
    assert a.contempt.total == CONTEMPT_FRAMES and a.ferplus is None
    assert a.balance.loc["total", "total"] == a.faces
    no_splits = audit_data(str(ck / "test"), near=None)  # every face in split "all"
    assert no_splits.balance.loc["total", "all"] == 2 * FRAMES + 1
    d = json.loads(json.dumps(a.to_dict(), default=str))
    assert d["exact_duplicates"] == 1 and d["contempt"]["policy"] == "drop"
    assert audit_data(str(ck), near=None).near_distance is None


def test_hamming_pairs_match_brute_force():
    from ferviz.analysis.audit import hamming_pairs

    rng = np.random.default_rng(0)
    h = rng.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64)
    h[1::3] = h[::3][:len(h[1::3])] ^ np.uint64(0b1011)  # planted pairs 3 bits apart
    i, j, d = hamming_pairs(h, 4)
    bits = np.array([[bin(int(a) ^ int(b)).count("1") for b in h] for a in h])
    want = {(a, b) for a, b in zip(*np.nonzero(bits <= 4)) if a < b}
    assert set(zip(i.tolist(), j.tolist())) == want and len(want) >= 100
    assert (d == bits[i, j]).all()


def test_evaluate_states_contempt_intervals_groups_and_leak(ck, capsys):
    code, out, err = cli(capsys, "evaluate", "-m", "fer_synth_cnn", "-d", str(ck),
                         "--split", "test", "--json", "--by", "sequence")
    assert code == 0, err
    r = json.loads(out)
    assert r["n"] == 2 * FRAMES + 1
    assert r["contempt"] == {"policy": "drop", "faces": 0, "by_split": {}}
    assert r["intervals"]["cluster"] == "subject" and r["intervals"]["clusters"] == 2
    assert r["leak"]["duplicates"] == 1 and r["leak"]["training_split"] == "train"
    assert any("training leak" in w for w in r["warnings"])
    assert {g["sequence"] for g in r["by"]} == {"S004_001", "S004_002", "S001_005"}
    code, out, err = cli(capsys, "evaluate", "-m", "fer_synth_cnn", "-d", str(ck),
                         "--one-per-sequence", "--by", "subject")
    assert code == 0, err
    assert "contempt: drop (3 faces dropped)" in out
    assert f"cluster bootstrap over {len(CK_SUBJECTS)} subjects" in out
    assert out.count("S00") >= len(CK_SUBJECTS)


def test_matrix_writes_every_format(ck, tmp_path, capsys):
    args = ["matrix", "-m", "fer_synth_cnn", "-m", "cs230_baseline", "-d", f"{ck}@test",
            "-d", str(ck)]
    code, out, err = cli(capsys, *args)
    assert code == 0, err
    assert out.count("| fer_synth_cnn |") == 1 and "bootstrap over 2 subjects" in out
    for suffix in ("csv", "html"):
        code, out, err = cli(capsys, *args, "-o", str(tmp_path / f"m.{suffix}"))
        assert code == 0, err
    import pandas as pd

    csv = pd.read_csv(tmp_path / "m.csv")
    assert len(csv) == 4 and (csv["accuracy_low"] <= csv["accuracy"]).all()
    assert "<style>" in (tmp_path / "m.html").read_text()
    code, _, err = cli(capsys, *args, "-o", str(tmp_path / "m.csv"))
    assert code == 2 and "exists" in err


@pytest.mark.parametrize("args, message", [
    (["audit", "-d", "no/such/dir"], "no such file"),
    (["audit", "-d", "{ck}", "--near", "40"], "0-32"),
    (["audit", "-d", "{ck}", "--contempt", "fold"], "contempt must be one of"),
    (["audit", "-d", "{ck}", "--group-regex", "(?P<x"], "--group-regex"),
    (["evaluate", "-m", "fer_synth_cnn", "-d", "{ck}", "--by", "person"], "no column 'person'"),
    (["evaluate", "-m", "fer_synth_cnn", "-d", "{ck}", "--contempt", "keep"], "contempt"),
    (["evaluate", "-m", "fer_synth_cnn", "-d", "{plain}", "--one-per-sequence"], "no sequence"),
    (["matrix", "-m", "fer_synth_cnn", "-d", "{ck}", "-o", "{ck}/m.txt"], "must end in"),
    (["matrix", "-m", "fer_synth_cnn", "-d", "{ck}@"], "PATH@SPLIT"),
    (["matrix", "-m", "fer_synth_cnn", "-m", "fer_synth_cnn", "-d", "{ck}"], "twice"),
    (["finetune", "-m", "fer_synth_cnn", "-d", "{ck}", "-o", "{ck}/ft", "--split-by", "x"],
     "no 'x' group"),
])
def test_bad_input_is_one_message(ck, tmp_path, capsys, args, message):
    from PIL import Image

    (tmp_path / "happy").mkdir()
    Image.new("L", (48, 48), 100).save(tmp_path / "happy" / "me.png")
    code, _, err = cli(capsys, *[a.format(ck=ck, plain=tmp_path) for a in args])
    assert code == 2 and err.startswith("error: ") and message in err, err


@needs_fer2013
def test_fer2013_exact_duplicates_are_a_fixed_number():
    """1,851 FER2013 faces repeat an earlier face (1,514 sets); e.g. rows 33169 and 34325."""
    from ferviz.analysis.audit import exact_groups
    from ferviz.app.audit import audit_data

    a = audit_data(str(FER2013), near=None)
    assert a.faces == 35887 and a.exact_faces() == 1851
    assert a.count("near") == 0 and len(a.blank) == 13
    from ferviz.data import open_data
    from ferviz.data.hashes import face_hashes

    sets = exact_groups(face_hashes(open_data(FER2013), "exact"))
    assert len(sets) == 1514 and any({33169, 34325} <= set(s.tolist()) for s in sets)


@needs_ferplus
def test_ferplus_contempt_note_counts_the_dropped_faces():
    from ferviz.data import open_data

    merged = open_data(FER2013, labels="ferplus-majority", ferplus=FERPLUS)
    dropped = open_data(FER2013, labels="ferplus-majority", ferplus=FERPLUS, contempt="drop")
    from ferviz.data.ferplus import contempt_faces, read_votes

    touched = {f"fer2013:{i}" for i in np.flatnonzero(contempt_faces(read_votes(FERPLUS)))}
    assert merged.contempt.policy == "merge"
    assert merged.contempt.total == dropped.contempt.total == len(touched) > 0
    assert touched.isdisjoint(dropped.ids)
    labels = dict(zip(merged.ids, merged.frame()["label"]))
    assert {labels[i] for i in touched} == {"neutral"}
    test = open_data(FER2013, split="PrivateTest", labels="ferplus-majority", ferplus=FERPLUS)
    assert set(test.contempt.faces) <= {"PrivateTest"}
    with pytest.raises(FervizError, match="majority labels"):
        open_data(FER2013, labels="ferplus-dist", ferplus=FERPLUS, contempt="keep")
