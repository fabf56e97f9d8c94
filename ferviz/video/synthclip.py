"""FER-Synth clips: cartoon faces with known expressions over time, moving on a textured
background, written with OpenCV's VideoWriter. Tests, benchmarks and the docs use them, so
every label and position on every frame is known. A clip may be several shots joined by hard
cuts (each shot its own scene), and may have a camera's sensor noise and lighting flicker."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Actor:
    """One face in a clip: who (a FER-Synth identity), what it shows (emotions, each held for
    an equal share of the clip), where it goes (centre from ``start`` to ``end``, fractions of
    the frame) and its side in pixels."""

    person: int
    emotions: tuple[str, ...]
    start: tuple[float, float]
    end: tuple[float, float]
    side: int = 120

    def emotion_at(self, k: int, n: int) -> str:
        """The expression shown on frame ``k`` of ``n``."""
        return self.emotions[min(k * len(self.emotions) // n, len(self.emotions) - 1)]

    def centre_at(self, k: int, n: int, size: tuple[int, int]) -> tuple[int, int]:
        """The face's centre (x, y) in pixels on frame ``k`` of ``n``; ``size`` is (w, h)."""
        a = k / max(n - 1, 1)
        return (round(((1 - a) * self.start[0] + a * self.end[0]) * size[0]),
                round(((1 - a) * self.start[1] + a * self.end[1]) * size[1]))


@dataclass(frozen=True)
class Shot:
    """A run of frames between hard cuts: its actors (whose paths and expressions span the
    shot), its length and its scene (the background; scene 0 is the usual one)."""

    actors: tuple[Actor, ...]
    frames: int
    scene: int = 0


def background(size: tuple[int, int], seed: int = 0, scene: int = 0) -> np.ndarray:
    """A smooth textured BGR background (blurred noise over soft stripes), h x w x 3. Scenes
    other than 0 differ in the stripes' direction and period, the brightness and the tint."""
    import cv2

    w, h = size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    periods, level, tint = (23.0, 41.0, 17.0), 120.0, np.array([1.0, 0.92, 0.85], np.float32)
    if scene:
        look = np.random.default_rng([seed, scene])
        periods = tuple(look.uniform(8, 45, 3) * look.choice([-1, 1], 3))
        level, tint = look.uniform(70, 170), look.uniform(0.7, 1.0, 3).astype(np.float32)
    stripes = 30 * np.sin(xx / periods[0] + yy / periods[1]) + 20 * np.cos(yy / periods[2])
    noise = cv2.GaussianBlur(rng.normal(0, 40, (h, w)).astype(np.float32), (0, 0), 6)
    base = np.clip(level + stripes + noise, 0, 255)
    return np.clip(base[..., None] * tint, 0, 255).astype(np.uint8)


def _sprite(person: int, emotion: str, side: int) -> tuple[np.ndarray, np.ndarray]:
    """A face drawn at ``side`` pixels and its opacity: rendered over black and over white,
    the background shows where the two differ."""
    from dataclasses import replace

    import cv2

    from ..data.synth import EXPRESSIONS, Identity, _draw

    ident = Identity.sample(np.random.default_rng([9999, person]))
    au = np.array(EXPRESSIONS[emotion])
    dark, _ = _draw(au, replace(ident, background=0.0))
    light, _ = _draw(au, replace(ident, background=255.0))
    alpha = np.clip(1 - (light - dark) / 255.0, 0, 1)
    face = cv2.resize(np.clip(dark, 0, 255), (side, side), interpolation=cv2.INTER_AREA)
    return face, cv2.resize(alpha, (side, side), interpolation=cv2.INTER_AREA)


def frame(actors: Sequence[Actor], k: int, n: int, back: np.ndarray,
          sprites: dict | None = None) -> np.ndarray:
    """Frame ``k`` of ``n``: the actors pasted (later ones in front) on ``back``."""
    out = back.astype(np.float32)
    h, w = back.shape[:2]
    sprites = {} if sprites is None else sprites
    for a in actors:
        key = (a.person, a.emotion_at(k, n), a.side)
        if key not in sprites:
            sprites[key] = _sprite(*key)
        face, alpha = sprites[key]
        cx, cy = a.centre_at(k, n, (w, h))
        x0, y0 = cx - a.side // 2, cy - a.side // 2
        fx0, fy0 = max(0, -x0), max(0, -y0)
        x1, y1 = min(w, x0 + a.side), min(h, y0 + a.side)
        x0, y0 = max(0, x0), max(0, y0)
        if x1 <= x0 or y1 <= y0:
            continue
        al = alpha[fy0:fy0 + y1 - y0, fx0:fx0 + x1 - x0, None]
        region = out[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = (1 - al) * region + al * face[fy0:fy0 + y1 - y0,
                                                            fx0:fx0 + x1 - x0, None]
    return out.round().astype(np.uint8)


def shot_frames(shots: Sequence[Shot], size: tuple[int, int] = (320, 240), seed: int = 0,
                pan: int = 0, noise: float = 0.0, flicker: float = 0.0) -> Iterator[np.ndarray]:
    """The BGR frames of ``shots`` one after another, the background moving ``pan`` pixels a
    frame. ``noise`` adds a camera's sensor noise (the standard deviation of each pixel's
    grey levels, new on every frame) and ``flicker`` its lighting changes (the standard
    deviation of each frame's relative brightness)."""
    rng = np.random.default_rng([seed, 1])
    sprites: dict = {}
    for shot in shots:
        back = background(size, seed, shot.scene)
        for k in range(shot.frames):
            image = frame(shot.actors, k, shot.frames, np.roll(back, pan * k, axis=1), sprites)
            if noise or flicker:
                lit = image * (1 + flicker * rng.standard_normal())
                image = np.clip(lit + noise * rng.standard_normal(image.shape), 0, 255)
                image = image.round().astype(np.uint8)
            yield image


def write_clip(path: str | os.PathLike, actors: Sequence[Actor], n_frames: int,
               size: tuple[int, int] = (320, 240), fps: float = 15.0, seed: int = 0,
               fourcc: str = "mp4v", pan: int = 0, noise: float = 0.0,
               flicker: float = 0.0) -> Path:
    """Write a clip of ``n_frames`` frames of ``size`` (w, h), one shot, the background moving
    ``pan`` pixels a frame (``noise`` and ``flicker`` as in :func:`shot_frames`); returns its
    path."""
    return write_shots(path, [Shot(tuple(actors), n_frames)], size, fps, seed, fourcc, pan,
                       noise, flicker)


def write_shots(path: str | os.PathLike, shots: Sequence[Shot],
                size: tuple[int, int] = (320, 240), fps: float = 15.0, seed: int = 0,
                fourcc: str = "mp4v", pan: int = 0, noise: float = 0.0,
                flicker: float = 0.0) -> Path:
    """Write ``shots`` joined by hard cuts as one clip (see :func:`shot_frames`); returns its
    path.

    Raises:
        OSError: OpenCV cannot write ``path`` with ``fourcc``.
    """
    import cv2

    path = Path(path)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write {path} with {fourcc}")
    try:
        for image in shot_frames(shots, size, seed, pan, noise, flicker):
            writer.write(image)
    finally:
        writer.release()
    return path


def write_y4m(path: str | os.PathLike, actors: Sequence[Actor], n_frames: int,
              size: tuple[int, int] = (320, 240), fps: int = 15, seed: int = 0) -> Path:
    """The same clip as raw YUV 4:2:0 frames in a Y4M file: what Chromium plays as a fake
    camera (``--use-file-for-fake-video-capture``)."""
    import cv2

    path = Path(path)
    back, sprites = background(size, seed), {}
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for k in range(n_frames):
            image = frame(actors, k, n_frames, back, sprites)
            f.write(b"FRAME\n" + cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def demo_actors() -> tuple[Actor, Actor]:
    """Two faces crossing the frame in opposite directions, each changing expression."""
    return (Actor(3, ("neutral", "happy", "surprise"), (0.2, 0.3), (0.8, 0.32), side=96),
            Actor(8, ("sad", "angry", "happy"), (0.8, 0.7), (0.2, 0.68), side=96))


