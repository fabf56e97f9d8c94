"""``ferviz saliency clip.mp4``'s work: stream the frames through detection, tracking,
prediction and (optionally) saliency, writing the annotated video as it goes; then the
per-frame table, the timeline and the summary."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FervizError
from .source import open_video

FOURCC = {".mp4": "mp4v", ".avi": "MJPG"}  # annotated video codecs (MPEG-4 part 2, MJPEG)


@dataclass(frozen=True)
class VideoOutputs:
    """Where a video's results go: ``<prefix>.mp4`` (or the ``-o`` video) and beside it
    ``<prefix>.frames.parquet``, ``.frames.csv``, ``.timeline.html`` and ``.timeline.png``."""

    video: Path
    table: Path
    csv: Path
    html: Path
    png: Path

    @staticmethod
    def of(source: str | os.PathLike, out: str | os.PathLike | None = None) -> VideoOutputs:
        """The outputs for ``source`` (default prefix ``<source stem>.saliency``).

        Raises:
            FervizError: a video name whose suffix is not .mp4 or .avi.
        """
        src = Path(source)
        video = Path(out) if out else src.with_name(f"{src.stem}.saliency.mp4")
        if video.suffix.lower() not in FOURCC:
            raise FervizError(f"{video}: the annotated video is written as "
                              f"{', '.join(FOURCC)}; give an output path ending in one")
        prefix = video.with_suffix("")
        side = {k: prefix.with_name(f"{prefix.name}.{k}") for k in
                ("frames.parquet", "frames.csv", "timeline.html", "timeline.png")}
        return VideoOutputs(video, *side.values())

    def paths(self) -> list[Path]:
        return [self.video, self.table, self.csv, self.html, self.png]


@dataclass
class VideoResult:
    """What ``ferviz saliency`` shows for a video: the summary (also its ``--json``), the
    per-frame table and where everything was written."""

    summary: dict[str, Any]
    table: Any
    outputs: VideoOutputs

    def lines(self) -> list[str]:
        """A few lines for a terminal."""
        s = self.summary
        out = [(f"{s['video']}: {s['frames']:,} frames ({s['seconds']:.1f} s at {s['fps']:g} "
                f"frames/s), {len(s['faces'])} face{'s' * (len(s['faces']) != 1)}; processed "
                f"at {s['processing']['frames_per_second']:.1f} frames/s")]
        if s["cuts"]:
            at = ", ".join(map(str, s["cut_frames"]))
            out.append(f"{s['cuts']} hard cut{'s' * (s['cuts'] != 1)} (at frame "
                       f"{at}): the faces after a cut get new ids")
        for f in s["faces"]:
            runs = ", ".join(f"{g['emotion']} {g['start']:.1f}-{g['end']:.1f} s"
                             for g in f["segments"])
            out.append(f"face #{f['id']}: {f['dominant']} ({f['dominant_share']:.0%} of its "
                       f"{f['frames']} frames); {runs}")
        out += [f"note: {n}" for n in s["notes"]]
        out.append("-> " + ", ".join(str(p) for p in self.outputs.paths()))
        return out


def explain_video(path: str | os.PathLike, model: Any, out: str | os.PathLike | None = None,
                  force: bool = False, detect: bool = True, overlay: str | None = None,
                  every: int = 1, target: str = "pred", max_frames: int | None = None,
                  progress: bool | None = None,
                  on_frame: Callable[[int], None] | None = None) -> VideoResult:
    """Follow, predict and explain the faces of a video file and write its outputs.

    Args:
        model: a loaded :class:`~ferviz.models.fermodel.FERModel`.
        out: the annotated video (see :class:`VideoOutputs`).
        detect: find faces (else each whole frame is one face).
        overlay: a saliency method drawn over the faces of every ``every``-th frame.
        target: what the overlay explains: ``pred``, an emotion or a contrast.
        max_frames: frames read at most (a longer video is read up to there, with a
            note); None: :data:`~ferviz.video.source.MAX_FRAMES`, and a header announcing
            more is refused.
        on_frame: called with each frame's index (a progress display).

    Raises:
        FervizError: bad video (see :func:`~ferviz.video.source.open_video`), existing
            outputs without ``force``, a bad method or ``every``, or no face in any frame.
    """
    from ..cache import atomic_path
    from ..labels import check_target
    from ..outputs import check_output
    from .draw import annotate
    from .frames import analyse
    from .summary import frame_table, summarise
    from .summary import rows as frame_rows

    outputs = VideoOutputs.of(path, out)
    check_target(target, labels=False)  # a video's faces have no labels
    if every < 1:
        raise FervizError(f"--every must be at least 1, not {every}")
    if overlay:
        from ..explain.registry import get_method

        overlay = get_method(overlay).name
    source = open_video(path, max_frames)
    for p in outputs.paths():
        check_output(p, force)
    start, rows, cuts = time.perf_counter(), [], []
    with ExitStack() as stack:  # every output appears at once, or none does
        tmp = {p: stack.enter_context(atomic_path(p)) for p in outputs.paths()}
        with _video_writer(outputs.video, tmp[outputs.video], (source.width, source.height),
                           source.fps) as write:
            for frame in _progress(analyse(source.frames(), model, source.fps, detect, overlay,
                                           every, target), source, progress):
                write(annotate(frame))
                rows += frame_rows(frame)
                if frame.cut:
                    cuts.append(frame.index)
                if on_frame:
                    on_frame(frame.index)
            if not rows:
                raise FervizError(f"{path}: no face found in any of its {source.read:,} frames "
                                  f"({source.read / source.fps:.1f} s); pass --no-detect to "
                                  "take each whole frame as one face")
        seconds = time.perf_counter() - start
        df = frame_table(rows)
        summary = {"video": str(path), "model": getattr(model.card, "name", ""),
                   "size": [source.width, source.height],
                   **summarise(df, source.fps, source.read, cuts),
                   "overlay": overlay, "every": every if overlay else None,
                   "notes": source.notes,
                   "processing": {"seconds": round(seconds, 3),
                                  "frames_per_second": round(source.read / seconds, 2)},
                   "outputs": {k: str(v) for k, v in vars(outputs).items()}}
        _write_side_outputs(df, outputs, tmp, f"{Path(path).name} - {summary['model']}")
    return VideoResult(summary, df, outputs)


def _progress(frames: Iterator, source: Any, show: bool | None) -> Iterator:
    from tqdm.auto import tqdm

    total = min(source.claimed, source.max_frames) or None
    return tqdm(frames, total=total, unit="frame", desc="video",
                disable=None if show is None else not show)


@contextmanager
def _video_writer(path: Path, tmp: Path, size: tuple[int, int], fps: float
                  ) -> Iterator[Callable[[np.ndarray], None]]:
    """A frame writer into ``tmp`` (the temporary file of ``path``; OpenCV picks the
    container from the name, so it writes beside it under ``path``'s suffix). When the block
    succeeds the file is read back: OpenCV reports no failed write (a full disk), so a video
    with fewer frames than written is an error, not a result."""
    import cv2

    named = tmp.with_name(tmp.name + path.suffix)
    writer = cv2.VideoWriter(str(named), cv2.VideoWriter_fourcc(*FOURCC[path.suffix.lower()]),
                             fps, size)
    written = 0

    def write(image: np.ndarray) -> None:
        nonlocal written
        writer.write(image)
        written += 1

    try:
        if not writer.isOpened():
            raise FervizError(f"{path}: OpenCV cannot write this video")
        yield write
        writer.release()
        readable = _frames_in(named, written)
        if readable < written:
            raise FervizError(f"cannot write {path}: only {readable:,} of its {written:,} "
                              "frames could be read back (is the disk full?); nothing was "
                              "written")
        os.replace(named, tmp)
    finally:
        writer.release()
        named.unlink(missing_ok=True)


def _frames_in(path: Path, most: int) -> int:
    """How many frames (up to ``most``) a video file holds, by reading them back (about
    0.5 ms a frame: no decoding to pixels)."""
    from .source import _capture

    cap = _capture(path)
    try:
        n = 0
        while n < most and cap.grab():
            n += 1
        return n
    finally:
        cap.release()


def _write_side_outputs(df: Any, outputs: VideoOutputs, tmp: dict[Path, Path],
                        title: str) -> None:
    """The table, csv and timelines, into the temporary files ``tmp`` of ``outputs``."""
    from .timeline import timeline_figure, write_timeline_png

    df.to_parquet(tmp[outputs.table], index=False)
    df.to_csv(tmp[outputs.csv], index=False)
    fig = timeline_figure(df, title)
    fig.write_html(tmp[outputs.html], include_plotlyjs=True)
    write_timeline_png(df, tmp[outputs.png], title)
