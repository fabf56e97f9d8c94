"""The pictures of docs/video.md, from a FER-Synth clip made here (no real data):

    python docs/make_video_figures.py

Writes docs/video_timeline.png (the timeline ``ferviz saliency`` draws) and
docs/video_frame.png (one annotated frame with its Grad-CAM overlay), and prints the summary.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FRAME = 45  # the faces cross here


def main() -> None:
    import cv2

    from ferviz.models.load import load_model
    from ferviz.video.run import explain_video
    from ferviz.video.source import read_frame
    from ferviz.video.synthclip import demo_actors, write_clip

    folder = Path(tempfile.mkdtemp(prefix="ferviz-video-docs-"))
    try:
        clip = write_clip(folder / "two_faces.mp4", demo_actors(), 90, (320, 240), fps=15)
        r = explain_video(clip, load_model("fer_synth_cnn"), overlay="gradcam", every=3,
                          progress=False)
        shutil.copyfile(r.outputs.png, DOCS / "video_timeline.png")
        cv2.imwrite(str(DOCS / "video_frame.png"), read_frame(r.outputs.video, FRAME))
        shown = {k: v for k, v in r.summary.items() if k not in ("outputs", "processing")}
        print(json.dumps(shown, indent=1))
    finally:
        shutil.rmtree(folder)


if __name__ == "__main__":
    main()
