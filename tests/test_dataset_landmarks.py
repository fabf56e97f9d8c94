"""Per-face landmark regions over a data set of image files: a folder of large real faces
(scikit-image's astronaut, cut and scaled), a large non-face (coins) and small 48x48
FER-Synth faces. The large reliable faces get their own 68-landmark regions, the rest keep
the fixed boxes, and the views say so (the installed console script in a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sysconfig
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import ROOT
from PIL import Image

from ferviz.data import landmarks as lm
from ferviz.data import source_landmarks as sl
from ferviz.data.folders import load_folder
from ferviz.explain.face_masks import UNRELIABLE, choose
from ferviz.explain.regions import class_table, region_masks, share_array

needs_dlib = pytest.mark.skipif(not lm.available(), reason="needs the landmarks extra")
LARGE = ("astro_512", "astro_flip", "astro_300", "astro_320")  # faces of 73-99 px
N_SMALL = 8  # 48x48 FER-Synth faces, plus the 256-px astronaut with a 53-px face


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    from skimage import data

    from ferviz.data.synth import load_synth

    root = tmp_path_factory.mktemp("bigfaces")
    g = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)

    def shrink(a: np.ndarray, side: int) -> np.ndarray:
        return cv2.resize(a, (side, side), interpolation=cv2.INTER_AREA)

    images = {"happy/astro_512.png": g, "happy/astro_flip.png": g[:, ::-1],
              "happy/astro_300.png": shrink(g[0:400, 40:440], 300),
              "happy/astro_320.png": g[10:330, 60:380],
              "happy/astro_256.png": shrink(g, 256),
              "sad/coins.png": data.coins()[60:316, 60:316]}
    for k, face in enumerate(load_synth(N_SMALL, seed=3).images()):
        images[f"neutral/synth{k}.png"] = face
    for name, pixels in images.items():
        (root / name).parent.mkdir(exist_ok=True)
        Image.fromarray(np.ascontiguousarray(pixels)).save(root / name)
    return root


@needs_dlib
def test_large_reliable_faces_get_their_own_regions_small_ones_the_boxes(folder):
    records = load_folder(folder)
    fits = sl.fit_records(records, quiet=True)
    by_name = {Path(p).stem: f for p, f in zip(records.paths, fits)}
    assert all(by_name[n].reliable for n in LARGE)
    assert by_name["astro_256"] == sl.SMALL  # her face is 53 px there
    assert all(by_name[f"synth{k}"] == sl.SMALL for k in range(N_SMALL))
    assert not by_name["coins"].reliable and by_name["coins"].problems
    masks, used = choose(fits, len(records))
    assert (used.landmarks, used.fixed) == (4, {sl.SMALL: N_SMALL + 1, UNRELIABLE: 1})
    assert used.line().startswith("regions: 68-landmark regions for 4 of 14 faces, "
                                  "fixed boxes for the rest (")
    for name, m in zip((Path(p).stem for p in records.paths), masks):
        assert (m is not None) == (name in LARGE)
    # the fitted points sit on her eyes in the 48x48 face the model sees: the darkest
    # pixels around each eye centre are darker than the face's median
    faces = records.images()
    for i, f in enumerate(fits):
        if Path(records.paths[i]).stem in LARGE:
            for eye in (f.points[36:42].mean(0), f.points[42:48].mean(0)):
                x, y = np.round(eye).astype(int)
                assert faces[i][y - 1:y + 2, x - 2:x + 3].min() < np.median(faces[i])


@needs_dlib
def test_class_table_reads_each_face_with_its_own_masks(folder):
    records = load_folder(folder)
    masks, _ = choose(sl.fit_records(records, quiet=True), len(records))
    rng = np.random.default_rng(0)
    maps = rng.random((len(records), 48, 48))
    table = class_table(maps, records.labels, faces=masks)
    happy = [i for i, lab in enumerate(records.labels) if lab == 3]
    want = np.mean([share_array(maps[i:i + 1], region_masks(masks[i] or None))[0]
                    for i in happy], 0)
    assert np.allclose(table.loc["happy"].drop("n").to_numpy(float), want)
    assert not np.allclose(table.loc["happy"].drop("n").to_numpy(float),
                           class_table(maps, records.labels).loc["happy"].drop("n")
                           .to_numpy(float))
    assert np.allclose(table.loc["area"].drop("n").sum(), 1)


@needs_dlib
def test_fits_are_cached_per_file_and_refitted_when_the_file_changes(folder, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    records = load_folder(copy)
    first = sl.fit_records(records, quiet=True)
    again = sl.fit_records(records, quiet=True)
    for a, b in zip(first, again):
        assert a == b if isinstance(a, str) else (
            np.array_equal(a.points, b.points) and a.problems == b.problems
            and a.face_score == b.face_score)
    target = copy / "happy" / "astro_320.png"
    Image.fromarray(np.zeros((320, 320), np.uint8)).save(target)  # another image, old face
    i = [Path(p).name for p in records.paths].index("astro_320.png")
    assert sl.fit_records(records, quiet=True)[i] == sl.CHANGED
    fresh = load_folder(copy)  # decodes the new image: the stale answer was not cached
    refit = sl.fit_records(fresh, quiet=True)[i]  # a black image: fitted, refused
    assert not isinstance(refit, str) and not refit.reliable


def test_without_the_extra_every_face_keeps_the_boxes_and_says_so(folder, monkeypatch):
    monkeypatch.setattr(lm, "model_dir", lambda: None)
    records = load_folder(folder)
    masks, used = choose(sl.fit_records(records), len(records))
    assert masks == [None] * len(records) and used.used == "fixed boxes"
    assert lm.INSTALL_HINT in used.line() and used.line().startswith(
        f"regions: fixed boxes of the aligned 48x48 frame for all {len(records)} faces")


def test_a_regions_file_overrides_and_faces_from_arrays_keep_the_boxes(synth_test):
    _, used = choose(sl.fit_records(synth_test), len(synth_test), {"a": [(0, 9, 0, 9)]})
    assert used.line() == f"regions: custom (--regions file) for all {len(synth_test)} faces"
    _, used = choose(sl.fit_records(synth_test), len(synth_test))
    assert used.fixed == {sl.NO_FILE: len(synth_test)} and used.landmarks == 0


def _console(*args: str) -> subprocess.CompletedProcess:
    script = Path(sysconfig.get_path("scripts")) / "ferviz"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([str(script) if script.is_file() else "ferviz", *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


@needs_dlib
def test_cli_says_which_regions_it_used(folder):
    base = ["regions", "-m", "fer_synth_cnn", "-d", str(folder), "-x", "gradcam"]
    text = _console(*base)
    assert text.returncode == 0, text.stderr
    line = text.stdout.splitlines()[1]
    assert line.startswith("regions: 68-landmark regions for 4 of 14 faces, fixed boxes for "
                           f"the rest ({sl.SMALL}: {N_SMALL + 1}; {UNRELIABLE}: 1 (")
    out = _console(*base, "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert {k: got["regions"][k] for k in ("used", "faces", "landmarks", "fixed_boxes")} == \
        {"used": "mixed", "faces": 14, "landmarks": 4, "fixed_boxes": 10}
    assert got["classes"]["happy"]["n"] == 5 and "mouth" in got["classes"]["area"]



@needs_dlib
def test_the_report_region_table_says_which_regions_it_read(folder, tmp_path):
    from ferviz.app import tasks
    from ferviz.specs import DataSpec, ModelSpec

    path = tasks.report(ModelSpec("fer_synth_cnn"), DataSpec(str(folder)), tmp_path / "r.html",
                        saliency=("gradcam",), regions_per_class=14)
    html = path.read_text()
    note = html[html.index('<p class="region-note">'):].split("</p>")[0]
    assert "regions: 68-landmark regions for 4 of 14 faces, fixed boxes for the rest" in note
