"""Tracking on FER-Synth clips through the real pipeline (OpenCV's Haar detector and the zoo's
fer_synth_cnn): a still face's crop holds still, so its probabilities do not jitter with the
detector's wobbling box; a moving face is still followed without lag; a hard cut gives the
faces after it new ids and is counted; a clip without a cut reports none."""

from __future__ import annotations

import numpy as np
import pytest

from ferviz.data.boxes import iou
from ferviz.table import PROBS
from ferviz.video.synthclip import Actor, Shot, demo_actors, shot_frames, write_clip, write_shots

SIZE = (320, 240)
CAMERA = {"noise": 3.0, "flicker": 0.02}  # sensor noise (grey levels), lighting flicker (2%)


def top_class_jitter(table) -> float:
    """The standard deviation across frames of the probability of the face's top class."""
    probs = table[PROBS].to_numpy()
    return float(probs[:, probs.mean(axis=0).argmax()].std())


def true_box(actor: Actor, k: int, n: int) -> np.ndarray:
    """The square the actor's face was drawn in on frame ``k`` of ``n`` (x, y, w, h)."""
    cx, cy = actor.centre_at(k, n, SIZE)
    return np.array([[cx - actor.side / 2, cy - actor.side / 2, actor.side, actor.side]], float)


def test_a_still_face_probabilities_hold_steady(tmp_path, synth_model):
    """A still face whose expression (fear) the model is not sure of, filmed with a camera's
    noise: the detector's box wobbles (its side by 19-30 pixels of 110 over a clip). Measured
    on camera seeds 0-9, the standard deviation across frames of the top-class probability
    was 0.156 on average (0.113-0.207) when each frame's crop was cut at that frame's
    detection (seeds 0-3 here: 0.170, 0.117, 0.117, 0.207, mean 0.153), and is 0.029
    (0.002-0.115) with the steadied box (seeds 0-3: 0.026, 0.010, 0.007, 0.115, mean 0.040).
    The bound, 0.07 on the mean of seeds 0-3, lies between the two."""
    from ferviz.video.run import explain_video

    actor = Actor(3, ("fear",), (0.5, 0.5), (0.5, 0.5), side=110)
    runs = [explain_video(write_clip(tmp_path / f"still{seed}.mp4", [actor], 45, SIZE,
                                     seed=seed, **CAMERA), synth_model, progress=False)
            for seed in range(4)]
    for r in runs:
        assert [f["id"] for f in r.summary["faces"]] == [1] and len(r.table) >= 40
    jitter = [top_class_jitter(r.table) for r in runs]
    assert np.mean(jitter) < 0.07, jitter
    sides = [int(np.ptp(r.table["w"])) for r in runs]
    assert max(sides) <= 0.1 * actor.side, sides  # 19-25 pixels before, 5-6 now
    assert all(r.summary["cuts"] == 0 and r.table["shot"].eq(0).all() for r in runs)


@pytest.mark.parametrize("actor, n", [
    (Actor(5, ("happy",), (0.2, 0.45), (0.8, 0.55), side=100), 40),  # 4.9 pixels a frame
    (Actor(5, ("happy",), (0.25, 0.5), (0.75, 0.5), side=100), 16),  # 10.7 pixels a frame
], ids=["moderate", "fast"])
def test_a_moving_face_is_followed(tmp_path, synth_model, actor, n):
    """The steadied box stays on a moving face: its overlap with the square the face was
    drawn in (IoU, mean and least: measured 0.958 and 0.923 for 'moderate', 0.911 and 0.852
    for 'fast'; with each frame's detection 0.936/0.857 and 0.913/0.828), and it does not
    lag behind the face along its path (measured -0.3 and -0.6 pixels on average; an
    exponential average of the boxes without a velocity lags by several pixels)."""
    from ferviz.video.run import explain_video

    clip = write_clip(tmp_path / "moving.mp4", [actor], n, SIZE, **CAMERA)
    r = explain_video(clip, synth_model, progress=False)
    table = r.table
    assert table["face"].eq(1).all() and len(table) >= n - 3  # confirmed on the 3rd frame
    overlap = [iou(np.array([[b.x, b.y, b.w, b.h]], float), true_box(actor, b.frame, n))[0, 0]
               for b in table.itertuples()]
    assert np.mean(overlap) >= 0.88 and min(overlap) >= 0.8, overlap
    path = np.subtract(actor.end, actor.start) * SIZE
    along = [np.dot(np.subtract([b.x + b.w / 2, b.y + b.h / 2], actor.centre_at(b.frame, n, SIZE)),
                    path / np.linalg.norm(path)) for b in table.itertuples()]
    assert abs(np.mean(along)) < 0.05 * actor.side, along
    assert r.summary["cuts"] == 0


def test_a_hard_cut_starts_new_ids(tmp_path, synth_model):
    """Two people at the same place across a cut between two scenes: before cut detection
    they were one face (id 1, 38 frames, its emotion 'sad' over both); now two, one per
    shot, each with its own emotion, and the summary counts the cut."""
    from ferviz.video.run import explain_video

    first = Actor(3, ("happy",), (0.5, 0.5), (0.5, 0.5), side=110)
    second = Actor(8, ("sad",), (0.5, 0.5), (0.5, 0.5), side=110)
    clip = write_shots(tmp_path / "cut.mp4", [Shot((first,), 20, scene=0),
                                               Shot((second,), 20, scene=1)], SIZE, **CAMERA)
    r = explain_video(clip, synth_model, progress=False)
    faces = r.summary["faces"]
    assert [(f["id"], f["dominant"]) for f in faces] == [(1, "happy"), (2, "sad")]
    by_face = r.table.groupby("face")["frame"]
    assert by_face.max()[1] == 19 and by_face.min()[2] >= 20
    assert r.summary["cuts"] == 1 and r.summary["cut_frames"] == [20]
    assert [f["shot"] for f in faces] == [0, 1]
    assert (r.table["shot"] == (r.table["frame"] >= 20)).all()
    assert any("1 hard cut (at frame 20)" in line for line in r.lines())


@pytest.mark.parametrize("scenes", [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7),
                                    (7, 8), (8, 9), (9, 10), (0, 11), (11, 12)])
def test_each_cut_between_scenes_is_found(scenes):
    """The smallest score at these cuts was 9.2 (the threshold is 6)."""
    from ferviz.video.cuts import CutDetector

    shots = [Shot((Actor(3, ("fear",), (0.5, 0.5), (0.5, 0.5), side=110),), 10, scenes[0]),
             Shot((Actor(8, ("sad",), (0.5, 0.5), (0.5, 0.5), side=110),), 10, scenes[1])]
    find = CutDetector()
    cuts = [k for k, image in enumerate(shot_frames(shots, SIZE, **CAMERA)) if find(gray(image))]
    assert cuts == [10] and find.cuts == 1


@pytest.mark.parametrize("shots, camera", [
    ([Shot(demo_actors(), 60)], {"pan": 3, **CAMERA}),  # two faces crossing, the camera pans
    ([Shot((Actor(2, ("happy",), (0.5, 0.5), (0.5, 0.5), side=110),), 40)], {"pan": 8}),
    ([Shot((Actor(3, ("fear",), (0.5, 0.5), (0.5, 0.5), side=110),), 40)],
     {"noise": 6.0, "flicker": 0.10}),  # a noisy camera in flickering light
    ([Shot((Actor(5, ("happy", "surprise", "angry", "neutral"), (0.5, 0.5), (0.5, 0.5),
                  side=220),), 8)], {}),  # a face filling the frame changes expression at once
    ([Shot((Actor(5, ("happy",), (0.25, 0.5), (0.75, 0.5), side=100),), 16)], CAMERA),
], ids=["crossing-pan", "pan", "flicker", "expressions", "fast"])
def test_no_cut_within_a_shot(shots, camera):
    """No cut on clips of one shot; the largest score on these was 2.6."""
    from ferviz.video.cuts import CUT_THRESHOLD, CutDetector

    find = CutDetector()
    scores = []
    for image in shot_frames(shots, SIZE, **camera):
        assert not find(gray(image))
        scores.append(find.score)
    assert find.cuts == 0 and max(scores) < CUT_THRESHOLD / 2, max(scores)


def test_steady_tracker_holds_a_wobbling_box_and_follows_a_moving_one():
    from ferviz.video.tracker import Tracker

    rng = np.random.default_rng(0)
    wobble = [(100 + dx, 60 + dy, 110 + ds, 110 + ds)
              for dx, dy, ds in rng.integers(-3, 4, (30, 3))]  # the detector's noise
    steady, raw = Tracker(steady=True), Tracker()
    held = [s[0][1] for s in [steady.update([b]) for b in wobble][2:]]
    moves = sum(a != b for a, b in zip(held, held[1:]))
    assert moves <= 6, held  # measured 4; the detections change on 27 of these 27 frames
    assert [raw.update([b]) for b in wobble][2:] == [[(1, b)] for b in wobble[2:]]  # unchanged
    moving = Tracker(steady=True)
    for k in range(20):
        seen = moving.update([(10 + 6 * k, 40, 100, 100)])
        if k >= 4:
            assert abs(seen[0][1][0] - (10 + 6 * k)) <= 5, (k, seen)
    moving.cut()
    assert [moving.update([(130, 40, 100, 100)]) for _ in range(3)][-1] == \
        [(2, (130, 40, 100, 100))]  # the same place after a cut: a new face


def gray(image: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
