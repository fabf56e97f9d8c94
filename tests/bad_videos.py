"""Bad video files, made at test time: each name maps to a writer and the words its one-line
error must contain (the bad-input corpus for videos)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np


def _avi(path: Path, n: int, size: tuple[int, int] = (64, 48)) -> bytearray:
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for k in range(n):
        w.write(np.full((size[1], size[0], 3), 40 * k % 255, np.uint8))
    w.release()
    return bytearray(path.read_bytes())


def _mp4(path: Path, n: int = 12) -> bytes:
    import cv2

    from ferviz.video.synthclip import background

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (96, 64))
    back = background((96, 64))
    for k in range(n):
        w.write(np.roll(back, k, axis=1))
    w.release()
    return path.read_bytes()


def truncated_mp4(path: Path) -> None:
    """An MP4 cut in half: its index (``moov``, written last) is gone."""
    data = _mp4(path)
    path.write_bytes(data[:len(data) // 2])


def zero_frames(path: Path) -> None:
    """An AVI with a video stream and no frame."""
    _avi(path, 0)


def audio_only(path: Path) -> None:
    """One second of silence as WAV."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)


def huge_frames(path: Path) -> None:
    """A Y4M header announcing 9000 x 9000 frames (81 megapixels), with a few bytes."""
    path.write_bytes(b"YUV4MPEG2 W9000 H9000 F30:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x80" * 1000)


def absurd_count(path: Path) -> None:
    """A five-frame AVI whose headers announce two billion frames."""
    data = _avi(path, 5)
    big = (2_000_000_000).to_bytes(4, "little")
    head = data.find(b"avih") + 8
    data[head + 16:head + 20] = big  # dwTotalFrames
    stream = data.find(b"strh") + 8
    data[stream + 32:stream + 36] = big  # dwLength
    path.write_bytes(bytes(data))


def garbage(path: Path) -> None:
    """Random bytes under a video's name."""
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())


def empty(path: Path) -> None:
    path.write_bytes(b"")


def no_face(path: Path) -> None:
    """A good clip of a moving textured background, without any face."""
    _mp4(path)


BAD = {  # file name -> (writer, words of the error)
    "truncated.mp4": (truncated_mp4, "truncated"),
    "zero.avi": (zero_frames, "no frames"),
    "sound.wav": (audio_only, "sound file"),
    "huge.y4m": (huge_frames, "too large"),
    "endless.avi": (absurd_count, "--max-frames"),
    "garbage.mp4": (garbage, "not a video"),
    "empty.mp4": (empty, "empty"),
    "noface.mp4": (no_face, "no face found"),
}
