"""The dashboard's Video page in-process (AppTest): a FER-Synth clip under the roots gives
the summary, the scrubbed frame, the timeline, and a face's saliency on request."""

from __future__ import annotations

import pytest
from conftest import ROOT

from ferviz.video.synthclip import demo_actors, write_clip


@pytest.fixture
def page(monkeypatch, tmp_path):
    """Open the Video page on the FER-Synth model with the roots at ``tmp_path``."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("FERVIZ_ROOTS", str(tmp_path))
    monkeypatch.chdir(ROOT / "tests")

    def open_page(**params):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params.update({"page": "video", "model_choice": "fer_synth_cnn",
                                "model": "fer_synth_cnn", **params})
        return at.run()
    return open_page


def test_video_page_scrubs_and_explains_a_face(page, tmp_path):
    write_clip(tmp_path / "cross.avi", demo_actors(), 36, (320, 240), fps=12, fourcc="MJPG")
    at = page(video_path="cross.avi", frame="18", overlay="gradcam", every="6")
    assert not at.exception and not at.error, (at.exception, at.error)
    assert not at.success  # maps over every frame, asked for by a link: nothing runs yet
    run = [b for b in at.button if b.label.startswith("Run: drawing gradcam")]
    assert len(run) == 1 and any("may take minutes" in i.value for i in at.info)
    run[0].click().run()
    assert not at.exception and not at.error, (at.exception, at.error)
    assert "36 frames" in at.success[0].value and "2 faces" in at.success[0].value
    assert at.slider[0].value == 18
    faces = [b for b in at.button if b.label.startswith("Face #")]
    assert [b.label.split(":")[0] for b in faces] == ["Face #1", "Face #2"]
    faces[1].click().run()
    assert not at.exception and not at.error
    html = "\n".join(h.proto.body for h in at.get("html"))
    assert "fv-prediction" in html and "gradcam" in html
    assert any("Face #2 on frame 18" in m.value for m in at.markdown)
    at.slider[0].set_value(0).run()  # the face of frame 18 is not shown on frame 0
    assert not any("on frame 18" in m.value for m in at.markdown)


def test_video_page_bad_input(page, tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"\0\0\0\x18ftypisom" + b"\0" * 200)
    at = page(video_path="broken.mp4")
    assert "truncated" in at.error[0].value and not at.exception
    at = page(video_path="/etc/passwd")
    assert "outside the folders" in at.error[0].value
