"""Per-face landmark regions: real dlib on real images (skipped without the ``landmarks``
extra), the reliability check refusing what is not a face, and views saying which regions
were used."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from ferviz.data import landmarks as lm
from ferviz.data.photos import read_photo
from ferviz.explain.regions import REGIONS, landmark_masks, region_masks

needs_dlib = pytest.mark.skipif(not lm.available(), reason="needs the landmarks extra")


def _astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)


@pytest.fixture(scope="module")
def astronaut_png(tmp_path_factory):
    path = tmp_path_factory.mktemp("lmk") / "astronaut.png"
    Image.fromarray(_astronaut()).save(path)
    return path


@needs_dlib
def test_astronaut_landmarks_are_reliable_and_where_her_face_is(astronaut_png):
    photo = read_photo(astronaut_png)
    marks, face = photo.landmarks[0], photo.found[0]
    assert marks.reliable and marks.face_score > 0 and marks.points.shape == (68, 2)
    # the eye cascade's eye centres, mapped into the 48x48 crop, sit on the landmark eyes
    from ferviz.data.images import face_square

    x0, y0, x1, y1 = face_square(photo.gray.shape, face.box)
    haar = [((ex - x0) * 48 / (x1 - x0), (ey - y0) * 48 / (y1 - y0)) for ex, ey in face.eyes]
    lmk = [marks.points[36:42].mean(0), marks.points[42:48].mean(0)]
    assert max(np.linalg.norm(np.subtract(a, b)) for a, b in zip(haar, lmk)) < 3
    masks = landmark_masks(marks.points)
    assert list(masks) == list(REGIONS) and all(m.sum() >= 4 for m in masks.values())
    stacked = region_masks(masks)
    assert sum(m.astype(int) for m in stacked.values()).max() == 1  # a partition
    rows = {k: np.argwhere(m)[:, 0].mean() for k, m in masks.items()}
    assert rows["forehead"] < rows["brows"] < rows["left_eye"] < rows["nose"] < \
        rows["mouth"] < rows["chin"]
    cols = {k: np.argwhere(m)[:, 1].mean() for k, m in masks.items()}
    assert cols["left_eye"] < 24 < cols["right_eye"]  # left_eye is on the image's left


@needs_dlib
@pytest.mark.parametrize("patch", ["coins", "texture", "flat", "shoulder"])
def test_reliability_check_refuses_non_face_crops(patch):
    from skimage import data

    rng = np.random.default_rng(0)
    crops = {"coins": data.coins()[100:260, 100:260],
             "texture": cv2.GaussianBlur((rng.random((160, 160)) * 255).astype(np.uint8),
                                         (0, 0), 3),
             "flat": np.full((160, 160), 120, np.uint8),
             "shoulder": _astronaut()[300:460, 40:200]}
    marks = lm.fit(crops[patch], (16, 16, 128, 128))
    assert not marks.reliable and marks.problems


@needs_dlib
def test_a_real_face_crop_passes_and_its_upside_down_copy_fails():
    face = _astronaut()[55:175, 165:285]  # her face, a little wider than the Haar box
    assert lm.fit(face, (12, 12, 96, 96)).reliable
    flipped = lm.fit(face[::-1].copy(), (12, 12, 96, 96))
    assert not flipped.reliable


@needs_dlib
def test_saliency_json_and_text_say_landmarks_for_a_real_face(astronaut_png, tmp_path, run):
    res = run("saliency", str(astronaut_png), "-m", "fer_synth_cnn", "-x", "gradcam",
              "-o", str(tmp_path / "a.png"), "--json")
    assert res.returncode == 0, res.stderr
    face = json.loads(res.stdout)["faces"][0]
    assert face["regions"]["used"] == "landmarks" and face["regions"]["landmarks"]["reliable"]
    assert len(face["regions"]["landmarks"]["points"]) == 68
    text = run("saliency", str(astronaut_png), "-m", "fer_synth_cnn", "-x", "gradcam",
               "-o", str(tmp_path / "b.png"))
    assert "regions: landmarks" in text.stdout


@needs_dlib
def test_a_non_face_gets_fixed_boxes_and_says_why(tmp_path):
    from ferviz.explain.photo import explain_photo
    from ferviz.models.load import load_model

    path = tmp_path / "coins.png"
    Image.fromarray(np.ascontiguousarray(_coins_crop())).save(path)
    photo = read_photo(path, detect="never")
    face = explain_photo(photo, load_model("fer_synth_cnn"), ["gradcam"])[0]
    assert face.regions == "fixed boxes" and face.regions_why.startswith("landmarks not reliable")
    assert face.caption("gradcam")[-1] == "regions: fixed boxes"
    assert np.allclose(face.evidence["gradcam"].masks[:-1], np.stack(
        [m for k, m in region_masks().items() if k != "other"]))


def _coins_crop() -> np.ndarray:
    from skimage import data

    return data.coins()[60:260, 60:260]


def test_without_the_extra_photos_keep_the_fixed_boxes_and_say_so(astronaut_png, monkeypatch):
    from ferviz.explain.photo import explain_photo
    from ferviz.models.load import load_model

    monkeypatch.setattr(lm, "model_dir", lambda: None)
    photo = read_photo(astronaut_png)
    assert photo.landmarks == [None]
    face = explain_photo(photo, load_model("fer_synth_cnn"), ["gradcam"])[0]
    assert face.regions == "fixed boxes" and lm.INSTALL_HINT in face.regions_why
    assert face.to_dict()["regions"] == {"used": "fixed boxes", "why": face.regions_why,
                                         "landmarks": None}
