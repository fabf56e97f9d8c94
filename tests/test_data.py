"""Data sources: FER-Synth, fer2013 csv, FER+ votes, image folders, photos, bad input."""

from __future__ import annotations

import gzip
import lzma

import numpy as np
import pandas as pd
import pytest
from conftest import FER2013, FERPLUS, needs_fer2013, needs_ferplus
from PIL import Image

from ferviz.data import open_data
from ferviz.data.fer2013 import load_fer2013
from ferviz.data.ferplus import ferplus_labels
from ferviz.data.folders import load_folder
from ferviz.data.images import read_gray
from ferviz.data.photos import load_photo
from ferviz.data.synth import EXPRESSIONS, expression_parts, load_synth
from ferviz.errors import FervizError
from ferviz.labels import EMOTIONS, FERPLUS_COLUMNS, INDEX


# ---------------------------------------------------------------- FER-Synth
def test_synth_is_deterministic_and_well_formed():
    a, b = load_synth(50, seed=7, ambiguity=0.3), load_synth(50, seed=7, ambiguity=0.3)
    assert np.array_equal(a.faces, b.faces) and np.array_equal(a.labels, b.labels)
    assert a.faces.shape == (50, 48, 48) and a.faces.dtype == np.uint8
    assert a.masks.shape == (50, 48, 48) and a.masks.dtype == bool
    assert not np.array_equal(a.faces, load_synth(50, seed=8, ambiguity=0.3).faces)
    np.testing.assert_allclose(a.soft.sum(1), 1, atol=1e-6)
    assert (a.soft.argmax(1) == a.labels).all()


def test_synth_blends_are_recorded_as_soft_labels():
    r = load_synth(300, seed=1, ambiguity=0.5)
    blended = (r.soft > 0).sum(1) == 2
    assert 0.35 < blended.mean() < 0.65
    weak = np.sort(r.soft[blended], axis=1)[:, -2]
    assert (weak >= 0.25).all() and (weak <= 0.45).all()
    assert ((r.soft > 0).sum(1) == 1).sum() + blended.sum() == 300


def test_synth_masks_cover_the_expression_parts():
    r = load_synth(140, seed=3, ambiguity=0)
    share = r.masks.mean(axis=(1, 2))
    assert (share > 0.02).all() and (share < 0.5).all()
    # surprise moves brows, eyes and mouth; happy moves mouth and eyes, not brows
    assert set(expression_parts("surprise")) == {"brows", "eyes", "mouth"}
    assert "brows" not in expression_parts("happy") and "nose" in expression_parts("disgust")
    assert len(EXPRESSIONS) == len(EMOTIONS)


def test_synth_demo_splits_are_disjoint():
    r = open_data("synth")
    assert {str(s) for s in r.splits} == {"train", "val", "test"}
    test = r.split("test")
    assert len(set(map(str, test.ids)) & set(map(str, r.split("train").ids))) == 0
    assert min(test.class_counts().values()) > 100


# ---------------------------------------------------------------- fer2013 csv
def _fer_csv(rows: int = 12, seed: int = 0) -> pd.DataFrame:
    g = np.random.default_rng(seed)
    usage = (["Training"] * 6 + ["PublicTest"] * 3 + ["PrivateTest"] * 3)[:rows]
    return pd.DataFrame({
        "emotion": [i % 7 for i in range(rows)],
        "pixels": [" ".join(map(str, g.integers(0, 256, 2304))) for _ in range(rows)],
        "Usage": usage})


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".csv.xz"])
def test_fer2013_csv_loads_every_compression(tmp_path, suffix):
    df = _fer_csv()
    text = df.to_csv(index=False).encode()
    path = tmp_path / f"fer{suffix}"
    opener = {".csv": open, ".csv.gz": gzip.open, ".csv.xz": lzma.open}[suffix]
    with opener(path, "wb") as f:
        f.write(text)
    r = load_fer2013(path, splits="PrivateTest")
    assert len(r) == 3 and set(r.splits) == {"PrivateTest"}
    row = 9  # first PrivateTest row
    expected = np.array(df["pixels"][row].split(), dtype=np.uint8).reshape(48, 48)
    assert np.array_equal(r.faces[0], expected)
    assert r.labels[0] == row % 7 and r.ids[0] == f"fer2013:{row}"
    again = load_fer2013(path, splits=("Training", "PublicTest"))  # from the cache
    assert len(again) == 9


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.assign(pixels=d["pixels"].where(d.index != 4, "1 2 3")), "line 6: 3 pixel values"),
    (lambda d: d.assign(pixels=d["pixels"].where(d.index != 2,
                                                 d["pixels"][2].replace(" ", " x", 1))),
     "line 4: pixel value 'x"),
    (lambda d: d.assign(emotion=d["emotion"].where(d.index != 3, 9)),
     "line 5: unknown emotion code '9'"),
    (lambda d: d.drop(columns="Usage"), "missing column(s) Usage"),
    (lambda d: d.assign(pixels=d["pixels"].where(d.index != 0, " ".join(["300"] * 2304))),
     "line 2: pixel value '300' is not an integer 0-255"),
])
def test_fer2013_bad_csv_gives_one_clear_error(tmp_path, mutate, message):
    path = tmp_path / "bad.csv"
    mutate(_fer_csv()).to_csv(path, index=False)
    with pytest.raises(FervizError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_fer2013(path)


def test_fer2013_empty_and_missing(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(FervizError, match="the file is empty"):
        load_fer2013(empty)
    header = tmp_path / "header.csv"
    header.write_text("emotion,pixels,Usage\n")
    with pytest.raises(FervizError, match="no rows"):
        load_fer2013(header)
    with pytest.raises(FervizError, match="no such file"):
        load_fer2013(tmp_path / "nope.csv")
    ok = tmp_path / "ok.csv"
    _fer_csv().to_csv(ok, index=False)
    with pytest.raises(FervizError, match="unknown split"):
        load_fer2013(ok, splits="Validation")
    with pytest.raises(FervizError, match="split test is empty"):
        open_data(ok).split("test")


# ---------------------------------------------------------------- FER+
def _votes(rows: list[dict]) -> np.ndarray:
    return np.array([[r.get(c, 0) for c in FERPLUS_COLUMNS] for r in rows], np.int16)


def test_ferplus_rules():
    votes = _votes([
        {"happiness": 8, "neutral": 2},            # clear happy
        {"neutral": 4, "contempt": 3, "anger": 3},  # merge: neutral 7
        {"contempt": 6, "sadness": 4},              # merge -> neutral; drop -> sad
        {"NF": 10},                                 # not a face
        {"unknown": 5, "fear": 5},                  # unknown ties the top emotion: dropped
        {"sadness": 5, "neutral": 5},               # tie: no majority
    ])
    labels, soft, valid = ferplus_labels(votes, contempt="merge")
    assert list(labels) == [INDEX["happy"], INDEX["neutral"], INDEX["neutral"], -1, -1, -1]
    assert list(valid) == [True, True, True, False, False, True]
    np.testing.assert_allclose(soft[0, INDEX["happy"]], 0.8)
    labels, soft, valid = ferplus_labels(votes, contempt="drop")
    assert labels[2] == -1 and not valid[2]  # contempt out-votes sadness: row dropped
    assert labels[1] == INDEX["neutral"]


def test_ferplus_row_count_must_match(tmp_path):
    csv = tmp_path / "fer.csv"
    _fer_csv().to_csv(csv, index=False)
    votes = tmp_path / "new.csv"
    pd.DataFrame(np.ones((5, 10), int), columns=FERPLUS_COLUMNS).assign(
        Usage="Training").to_csv(votes)
    with pytest.raises(FervizError, match="5 rows, but fer2013.csv has 12"):
        load_fer2013(csv, labels="ferplus-majority", ferplus=votes)
    with pytest.raises(FervizError, match="needs the FER\\+ votes"):
        load_fer2013(csv, labels="ferplus-dist")


# ---------------------------------------------------------------- folders
def _png(path, value=128, size=(48, 48), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_folder_aliases_and_kaggle_splits(tmp_path):
    for cls, name in [("anger", "Training_1.jpg"), ("sadness", "PublicTest_2.png"),
                      ("happiness", "PrivateTest_3.png"), ("surprised", "x.bmp"),
                      ("fearful", "y.tif"), ("disgusted", "z.jpeg"), ("neutral", "w.tiff")]:
        _png(tmp_path / "test" / cls / name)
    r = load_folder(tmp_path)
    got = {str(i).split("/")[-2]: (int(lab), str(s))
           for i, lab, s in zip(r.ids, r.labels, r.splits)}
    assert got["anger"] == (INDEX["angry"], "Training")
    assert got["sadness"] == (INDEX["sad"], "PublicTest")
    assert got["happiness"] == (INDEX["happy"], "PrivateTest")
    assert got["surprised"] == (INDEX["surprise"], "test")
    assert r.faces is None and r.images().shape == (7, 48, 48)  # decoded lazily


def test_folder_ckplus_contempt_and_jaffe(tmp_path):
    _png(tmp_path / "ck" / "contempt" / "S005_001_00000011.png")
    _png(tmp_path / "ck" / "anger" / "S010_004_00000019.png")
    assert len(load_folder(tmp_path / "ck", contempt="drop")) == 1
    merged = load_folder(tmp_path / "ck", contempt="merge")
    assert sorted(merged.labels) == sorted([INDEX["neutral"], INDEX["angry"]])
    jaffe = tmp_path / "jaffe"
    jaffe.mkdir()
    im = Image.new("P", (256, 256), 3)
    im.putpalette([i // 3 for i in range(768)])
    im.save(jaffe / "KA.AN1.39.tiff")
    Image.new("L", (256, 256), 90).save(jaffe / "KL.HA2.160.tiff")
    r = load_folder(jaffe)
    assert sorted(r.labels) == [INDEX["angry"], INDEX["happy"]]
    assert r.images().shape == (2, 48, 48)


def test_folder_unknown_classes_are_listed(tmp_path):
    _png(tmp_path / "happy" / "a.png")
    _png(tmp_path / "bored" / "b.png")
    _png(tmp_path / "sleepy" / "c.png")
    with pytest.raises(FervizError, match="bored, sleepy"):
        load_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FervizError, match="no images"):
        load_folder(tmp_path / "empty")


# ---------------------------------------------------------------- images and photos
def test_image_modes_are_decoded(tmp_path):
    Image.new("RGBA", (40, 30), (255, 0, 0, 255)).save(tmp_path / "rgba.png")
    Image.new("I;16", (20, 20), 4000).save(tmp_path / "deep.png")
    pal = Image.new("P", (10, 10), 1)
    pal.putpalette([0, 0, 0, 200, 200, 200] + [0] * 762)
    pal.save(tmp_path / "pal.png")
    assert read_gray(tmp_path / "rgba.png").shape == (30, 40)
    assert read_gray(tmp_path / "pal.png").max() == 200
    assert read_gray(tmp_path / "deep.png").dtype == np.uint8


def test_exif_rotation_is_applied(tmp_path):
    im = Image.new("L", (60, 20), 50)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    im.save(tmp_path / "rot.jpg", exif=exif)
    assert read_gray(tmp_path / "rot.jpg").shape == (60, 20)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_text("hello, not an image"), "not an image"),
    (lambda p: p.write_bytes(_png_bytes()[:200]), "corrupt or truncated"),
    (lambda p: Image.new("1", (8000, 6000)).save(p), "decompression bomb"),
])
def test_bad_images_give_one_clear_error(tmp_path, make, message):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(FervizError, match=message):
        read_gray(path)
    with pytest.raises(FervizError, match="no such file"):
        read_gray(tmp_path / "missing.png")


def _png_bytes() -> bytes:
    import io

    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 255, (64, 64), dtype=np.uint8)
    Image.fromarray(noise).save(buf, "PNG")
    return buf.getvalue()


def test_photo_faces_are_detected(tmp_path):
    from skimage import data

    astronaut = data.astronaut()
    Image.fromarray(astronaut).save(tmp_path / "one.png")
    r = load_photo(tmp_path / "one.png")
    assert len(r) == 1 and r.faces.shape == (1, 48, 48) and r.labels[0] == -1
    Image.fromarray(np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)).save(
        tmp_path / "two.png")
    assert len(load_photo(tmp_path / "two.png")) == 2
    Image.fromarray(np.full((300, 300), 120, np.uint8)).save(tmp_path / "blank.png")
    with pytest.raises(FervizError, match="--no-detect"):
        load_photo(tmp_path / "blank.png")
    assert len(load_photo(tmp_path / "blank.png", detect="never")) == 1
    _png(tmp_path / "crop.png", size=(48, 48))  # a face crop skips detection
    assert len(load_photo(tmp_path / "crop.png")) == 1


# ---------------------------------------------------------------- the real data
@needs_fer2013
def test_fer2013_privatetest_class_counts():
    r = load_fer2013(FER2013, splits="PrivateTest")
    assert len(r) == 3589
    assert list(r.class_counts().values()) == [491, 55, 528, 879, 594, 416, 626]
    assert list(load_fer2013(FER2013, splits="Training").class_counts().values()) == \
        [3995, 436, 4097, 7215, 4830, 3171, 4965]


@needs_ferplus
def test_ferplus_majority_joins_by_row_position():
    raw = pd.read_csv(FERPLUS)
    r = load_fer2013(FER2013, labels="ferplus-majority", ferplus=FERPLUS)
    pos = {s: i for i, s in enumerate(map(str, r.ids))}
    fer = load_fer2013(FER2013)
    checked = 0
    for row in (0, 1, 2, 10, 28709, 35886):
        votes = raw.iloc[row]
        key = f"fer2013:{row}"
        if key not in pos:
            continue
        emo = {e: votes[c] for c, e in [("anger", "angry"), ("disgust", "disgust"),
                                        ("fear", "fear"), ("happiness", "happy"),
                                        ("sadness", "sad"), ("surprise", "surprise")]}
        emo["neutral"] = votes["neutral"] + votes["contempt"]
        assert EMOTIONS[r.labels[pos[key]]] == max(emo, key=emo.get)
        assert np.array_equal(r.faces[pos[key]], fer.faces[row])
        assert list(r.votes[pos[key]]) == [int(votes[c]) for c in FERPLUS_COLUMNS]
        checked += 1
    assert checked >= 4
    nf = raw.index[raw["NF"] == 10][:5]
    assert all(f"fer2013:{i}" not in pos for i in nf)  # not-a-face rows are dropped
