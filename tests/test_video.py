"""Video files through ``ferviz saliency``: FER-Synth clips made at test time, whose faces,
expressions and paths are known on every frame."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_videos import BAD

from ferviz.errors import FervizError
from ferviz.video.synthclip import Actor, demo_actors, write_clip

SIZE = (320, 240)




def drawn(actors, n: int) -> pd.DataFrame:
    """What was drawn: per frame and actor, the emotion and the face's centre."""
    return pd.DataFrame([{"frame": k, "actor": a, "emotion": act.emotion_at(k, n),
                          "cx": act.centre_at(k, n, SIZE)[0], "cy": act.centre_at(k, n, SIZE)[1]}
                         for k in range(n) for a, act in enumerate(actors)])


def matched(table: pd.DataFrame, actors, n: int) -> pd.DataFrame:
    """Each table row joined with the actor whose drawn centre is nearest its box's."""
    truth = drawn(actors, n)
    rows = table.assign(bx=table.x + table.w / 2, by=table.y + table.h / 2).merge(truth,
                                                                                   on="frame")
    rows["dist"] = np.hypot(rows.bx - rows.cx, rows.by - rows.cy)
    return rows.loc[rows.groupby(["frame", "face"])["dist"].idxmin()]


def test_one_face_labels_ids_and_outputs(tmp_path, run):
    n = 42
    actor = Actor(5, ("happy", "sad", "surprise"), (0.3, 0.45), (0.7, 0.55), side=110)
    clip = write_clip(tmp_path / "clip.mp4", [actor], n, SIZE, fps=14)
    res = run("saliency", clip, "-m", "fer_synth_cnn", "--json")
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert summary["frames"] == n and summary["size"] == list(SIZE)
    assert [f["id"] for f in summary["faces"]] == [1]
    face = summary["faces"][0]
    assert [s["emotion"] for s in face["segments"]] == ["happy", "sad", "surprise"]
    assert abs(face["segments"][1]["start"] - 1.0) < 0.15  # frame 14 at 14 frames/s
    out = summary["outputs"]
    table = pd.read_parquet(out["table"])
    assert table["face"].eq(1).all() and len(table) >= n - 3  # confirmed from the 3rd frame
    rows = matched(table, [actor], n)
    assert (rows["dist"] < 15).all()
    assert (rows["pred"] == rows["emotion"]).mean() >= 0.95
    assert pd.read_csv(out["csv"])["pred"].tolist() == table["pred"].tolist()
    assert "plotly" in Path(out["html"]).read_text().lower()
    assert Path(out["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import cv2

    cap = cv2.VideoCapture(out["video"])
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == n and cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 320
    again = run("saliency", clip, "-m", "fer_synth_cnn")
    assert again.returncode == 2 and "--force" in again.stderr


def test_two_faces_crossing_keep_their_ids(tmp_path, synth_model):
    from ferviz.video.run import explain_video

    n = 60
    actors = demo_actors()
    clip = write_clip(tmp_path / "cross.avi", actors, n, SIZE, fps=15, fourcc="MJPG")
    r = explain_video(clip, synth_model, overlay="gradcam", every=20, progress=False)
    assert [f["id"] for f in r.summary["faces"]] == [1, 2]
    rows = matched(r.table, actors, n)
    assert (rows["dist"] < 20).all()
    assert rows.groupby("face")["actor"].nunique().eq(1).all()  # no id swap at the crossing
    assert rows.groupby("face")["frame"].count().min() >= n - 6
    assert (rows["pred"] == rows["emotion"]).mean() >= 0.9
    for f, actor in zip(r.summary["faces"], actors):
        assert [s["emotion"] for s in f["segments"]] == list(actor.emotions)
    assert r.summary["overlay"] == "gradcam" and r.outputs.video.name == "cross.saliency.mp4"


@pytest.mark.parametrize("name", BAD)
def test_bad_videos_one_error_line(tmp_path, run, name):
    write, words = BAD[name]
    path = tmp_path / name
    write(path)
    res = run("saliency", path, "-m", "fer_synth_cnn")
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ") and words in lines[0], lines
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing written


def test_video_options_are_checked(tmp_path, run):
    clip = write_clip(tmp_path / "c.mp4", [Actor(1, ("happy",), (0.5, 0.5), (0.5, 0.5))], 3,
                      SIZE)
    for args, words in [(["-x", "gradcam"], "--overlay"), (["-o", tmp_path / "a.mkv"], ".mp4"),
                        (["--every", "0", "--overlay", "gradcam"], "--every"),
                        (["--overlay", "nosuch"], "nosuch"), (["--max-frames", "0"], "at least")]:
        res = run("saliency", clip, "-m", "fer_synth_cnn", *args)
        assert res.returncode == 2 and words in res.stderr, (args, res.stderr)


def test_memory_stays_flat_on_long_videos(tmp_path, synth_model):
    """Peak traced memory barely grows with the length of the video (frames stream)."""
    import tracemalloc

    from ferviz.video.run import explain_video

    actor = Actor(2, ("neutral",), (0.5, 0.5), (0.5, 0.5), side=100)
    peaks = []
    for n in (20, 100):
        clip = write_clip(tmp_path / f"m{n}.avi", [actor], n, SIZE, fourcc="MJPG")
        tracemalloc.start()
        explain_video(clip, synth_model, detect=False, progress=False)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    frame = SIZE[0] * SIZE[1] * 3
    assert peaks[1] - peaks[0] < 20 * frame, peaks  # 80 more frames would add 80 frames


def test_tracker_ids_survive_a_gap_and_ignore_flickers():
    from ferviz.video.tracker import Tracker

    t = Tracker(confirm=3, patience=4)
    seen = [t.update([(10 + 5 * k, 10, 40, 40)] + ([(200, 200, 30, 30)] if k == 1 else []))
            for k in range(4)]
    assert seen[0] == seen[1] == [] and seen[2] == [(1, (20, 10, 40, 40))]
    assert t.update([]) == []  # missed (occluded) on one frame
    assert t.update([(35, 10, 40, 40)]) == [(1, (35, 10, 40, 40))]  # same id after the gap
    for _ in range(5):
        t.update([])
    assert [t.update([(35, 10, 40, 40)]) for _ in range(3)][-1] == [(2, (35, 10, 40, 40))]


def test_sniffing_and_segments():
    from ferviz.video.source import sniff
    from ferviz.video.summary import segments

    assert sniff(b"\0\0\0\x20ftypisom" + b"\0" * 20) == "mp4"
    assert sniff(b"\0\0\0\x20ftypM4A " + b"\0" * 20) == "audio:m4a"
    assert sniff(b"RIFF\0\0\0\0AVI LIST") == "avi" and sniff(b"\x89PNG\r\n") is None
    probs = np.zeros((30, 7))
    probs[:, 3] = 1  # happy ...
    probs[12:14, 3], probs[12:14, 4] = 0, 1  # ... with a 2-frame sad flicker ...
    probs[20:, 3], probs[20:, 5] = 0, 1  # ... then surprise
    from ferviz.table import PROBS

    face = pd.DataFrame(probs, columns=PROBS).assign(frame=range(30),
                                                     time=np.arange(30) / 10)
    runs = segments(face, fps=10)
    assert [(s["emotion"], s["first_frame"], s["last_frame"]) for s in runs] == \
        [("happy", 0, 19), ("surprise", 20, 29)]


def test_photos_are_not_videos(tmp_path):
    from PIL import Image

    from ferviz.video import is_video

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    assert not is_video(tmp_path / "a.png") and not is_video(tmp_path / "missing.mp4")
    with pytest.raises(FervizError, match="no such file"):
        from ferviz.video.source import open_video

        open_video(tmp_path / "missing.mp4")


def test_live_analyser_follows_frames_from_another_thread(synth_model):
    import threading

    from ferviz.video.live import LiveAnalyser
    from ferviz.video.synthclip import background, frame

    actors, n = demo_actors(), 12
    back, sprites, out = background(SIZE), {}, []
    live = LiveAnalyser(synth_model, threading.RLock())
    images = [frame(actors, k, n, back, sprites) for k in range(n)]
    worker = threading.Thread(target=lambda: out.extend(live.process(im) for im in images))
    worker.start()
    worker.join()
    latest, count = live.snapshot()
    assert count == n and [f.id for f in latest.faces] == [1, 2]
    assert [f.emotion for f in latest.faces] == [a.emotion_at(n - 1, n) for a in actors]
    assert len(out) == n and out[-1].shape == images[-1].shape
    assert not np.array_equal(out[-1], images[-1])  # boxes and labels drawn
    table = live.timeline()
    assert len(table) == 2 * (n - 2) and set(table["face"]) == {1, 2}
