"""Video files: recognised by their first bytes, checked before any work, then decoded one
frame at a time (OpenCV's FFmpeg backend), so a long video never sits in memory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FervizError, regular_file

MAX_PIXELS = 3840 * 2160  # larger frames are refused (4K UHD is the largest accepted)
MAX_FRAMES = 108_000  # an hour at 30 frames/s; --max-frames raises or lowers it
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ts",
                  ".flv", ".wmv", ".ogv", ".3gp", ".y4m")
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ")


def sniff(head: bytes) -> str | None:
    """What a file's first bytes say it is: a container name (``mp4``, ``avi``, ...), or
    ``audio:<format>`` for a sound file, or None."""
    if head[4:8] == b"ftyp":
        return "audio:m4a" if head[8:12] in _AUDIO_BRANDS else "mp4"
    if head[:4] == b"RIFF":
        return {b"AVI ": "avi", b"WAVE": "audio:wav"}.get(head[8:12])
    if head[:4] == b"OggS":
        return "ogg" if b"theora" in head[:64] else "audio:ogg"
    table = {b"\x1a\x45\xdf\xa3": "mkv", b"FLV\x01": "flv", b"YUV4MPEG2": "y4m",
             b"\x00\x00\x01\xba": "mpeg", b"\x00\x00\x01\xb3": "mpeg",
             b"\x30\x26\xb2\x75\x8e\x66\xcf\x11": "asf", b"fLaC": "audio:flac",
             b"ID3": "audio:mp3", b"\xff\xfb": "audio:mp3", b"\xff\xf3": "audio:mp3"}
    for magic, kind in table.items():
        if head.startswith(magic):
            return kind
    if len(head) >= 377 and head[0] == head[188] == head[376] == 0x47:
        return "mpegts"
    return None


def is_video(path: str | os.PathLike) -> bool:
    """Whether ``ferviz saliency`` should take ``path`` as a video: its content says video or
    sound, or (content unknown) its name ends like a video.

    Raises:
        FervizError: a path that is not a regular file (a fifo would block the read).
    """
    p = Path(path)
    regular_file(p)
    try:
        with open(p, "rb") as f:
            kind = sniff(f.read(512))
    except OSError:
        return False
    return kind is not None or p.suffix.lower() in VIDEO_SUFFIXES


@dataclass
class VideoSource:
    """An opened video: its size, frame rate, the frame count its header claims (0 when
    unknown), the frames to read at most, and notes gathered while reading."""

    path: Path
    width: int
    height: int
    fps: float
    claimed: int
    max_frames: int
    notes: list[str] = field(default_factory=list)
    read: int = 0

    def frames(self) -> Iterator[tuple[int, float, np.ndarray]]:
        """(index, seconds, BGR frame) for each decoded frame, one at a time.

        Raises:
            FervizError: if not even the first frame decodes.
        """
        cap = _capture(self.path)
        try:
            while self.read < self.max_frames:
                ok, image = cap.read()
                if not ok:
                    break
                yield self.read, self.read / self.fps, image
                self.read += 1
        finally:
            cap.release()
        if self.read == 0:
            raise FervizError(f"{self.path}: " + ("the video has no frames" if not self.claimed
                                                  else "no frame could be decoded (the video "
                                                  "is corrupt)"))
        if self.read >= self.max_frames and self.claimed > self.read:
            self.notes.append(f"read the first {self.read:,} of the {self.claimed:,} frames "
                              f"its header announces (--max-frames {self.max_frames})")
        elif self.claimed and self.read < self.claimed - 1:
            self.notes.append(f"the video ended after {self.read:,} of the {self.claimed:,} "
                              "frames its header announces (truncated?)")


def _capture(path: Path):
    """An OpenCV capture through FFmpeg; neither OpenCV nor FFmpeg logs to the terminal (a
    file they cannot read is reported by :func:`open_video`, in one line)."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    log = cv2.utils.logging
    level = log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    finally:
        log.setLogLevel(level)


def open_video(path: str | os.PathLike, max_frames: int | None = None) -> VideoSource:
    """Open a video file and check it before any decoding work.

    Args:
        max_frames: read at most this many frames (a longer video is read up to there, with
            a note); None: at most :data:`MAX_FRAMES`, and a header announcing more is
            refused (an hour's work the person did not ask for).

    Raises:
        FervizError: missing or empty file, a sound file, a file FFmpeg cannot open
            (corrupt, truncated, no video stream), no frames, frames larger than
            :data:`MAX_PIXELS`, or (``max_frames`` None) a header announcing more than
            :data:`MAX_FRAMES` frames.
    """
    import cv2

    p = Path(path)
    if max_frames is not None and max_frames < 1:
        raise FervizError(f"--max-frames must be at least 1, not {max_frames}")
    regular_file(p, "video file")
    if not p.is_file():
        raise FervizError(f"{p}: no such file")
    if p.stat().st_size == 0:
        raise FervizError(f"{p}: the file is empty (0 bytes)")
    with open(p, "rb") as f:
        kind = sniff(f.read(512))
    if kind and kind.startswith("audio:"):
        raise FervizError(f"{p}: a sound file ({kind[6:].upper()}) without pictures; give a "
                          "video or a photo")
    cap = _capture(p)
    try:
        if not cap.isOpened():
            raise FervizError(f"{p}: {_unreadable(p, kind)}")
        w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0)
        claimed = max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0), 0)
    finally:
        cap.release()
    if w * h > MAX_PIXELS:
        raise FervizError(f"{p}: frames of {w}x{h} pixels are too large (limit "
                          f"{MAX_PIXELS:,} pixels, 4K UHD)")
    if w == 0 or h == 0:
        raise FervizError(f"{p}: the video has no frames (no picture size)")
    if max_frames is None and claimed > MAX_FRAMES:
        raise FervizError(f"{p}: the header announces {claimed:,} frames, more than the "
                          f"{MAX_FRAMES:,} (an hour at 30 frames/s) ferviz reads unless told; "
                          "pass --max-frames N to read the first N frames")
    note = [] if 1 <= fps <= 1000 else [f"frame rate unknown ({fps:g}); assumed 25 frames/s"]
    return VideoSource(p, w, h, fps if not note else 25.0, claimed, max_frames or MAX_FRAMES,
                       note)


def _unreadable(p: Path, kind: str | None) -> str:
    """Why FFmpeg could not open a file, as far as its first boxes tell."""
    if kind == "mp4":
        boxes = _mp4_boxes(p)
        if b"moov" not in boxes:
            return ("the video is truncated or corrupt: it has no 'moov' index (a recording "
                    "cut off before it was finished?)")
        return "the video has no frames (no playable video stream)"
    if kind is None:
        return "not a video or image file ferviz can read"
    return f"the {kind} video is corrupt or truncated (FFmpeg cannot read it)"


def _mp4_boxes(p: Path, limit: int = 64) -> list[bytes]:
    """The top-level box types of an MP4/MOV file (at most ``limit``)."""
    types, offset, size = [], 0, p.stat().st_size
    with open(p, "rb") as f:
        while offset + 8 <= size and len(types) < limit:
            f.seek(offset)
            head = f.read(16)
            n = int.from_bytes(head[:4], "big")
            if n == 1 and len(head) == 16:
                n = int.from_bytes(head[8:16], "big")
            types.append(head[4:8])
            if n < 8:
                break
            offset += n
    return types


def read_frame(path: str | os.PathLike, index: int) -> np.ndarray:
    """Frame ``index`` of a video (BGR), by seeking.

    Raises:
        FervizError: a file that cannot be opened or a frame beyond its end.
    """
    import cv2

    cap = _capture(Path(path))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = cap.read()
    finally:
        cap.release()
    if not ok:
        raise FervizError(f"{path}: cannot read frame {index}")
    return image
