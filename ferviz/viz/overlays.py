"""Images of explanations: heatmap colouring, overlays on grayscale faces, and the PNG panel
of ``ferviz saliency`` (PIL and OpenCV only, so it stays quick to import)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import FervizError
from ..labels import EMOTIONS

_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def heatmap(saliency01: np.ndarray) -> np.ndarray:
    """H x W values in [0, 1] -> H x W x 3 uint8 RGB (OpenCV's JET colour map)."""
    import cv2

    v = np.clip(np.nan_to_num(np.asarray(saliency01, np.float32)), 0, 1)
    return cv2.applyColorMap((v * 255).round().astype(np.uint8), cv2.COLORMAP_JET)[..., ::-1]


def overlay(face: np.ndarray, saliency01: np.ndarray, alpha: float = 0.5,
            scale: int = 1) -> np.ndarray:
    """A grayscale face with a saliency map blended on top, H x W x 3 uint8 RGB.

    Args:
        face: H x W uint8.
        saliency01: H x W map in [0, 1] (e.g. ``SaliencyMaps.maps[i]``).
        alpha: weight of the heatmap.
        scale: integer upscaling of the result (bilinear map, nearest-neighbour face).

    Raises:
        FervizError: if the face and map differ in shape.
    """
    import cv2

    face, sal = np.asarray(face), np.asarray(saliency01, np.float32)
    if face.shape != sal.shape or face.ndim != 2:
        raise FervizError(f"face {face.shape} and saliency {sal.shape} must be the same H x W")
    if scale > 1:
        size = (face.shape[1] * scale, face.shape[0] * scale)
        face = cv2.resize(face, size, interpolation=cv2.INTER_NEAREST)
        sal = cv2.resize(sal, size, interpolation=cv2.INTER_LINEAR)
    grey = np.repeat(face[..., None].astype(np.float32), 3, axis=2)
    mixed = (1 - alpha) * grey + alpha * heatmap(sal).astype(np.float32)
    return mixed.round().clip(0, 255).astype(np.uint8)


@dataclass(frozen=True)
class PanelMap:
    """One explanation in a panel: its title, map in [0, 1], caption lines (the evidence:
    :meth:`ferviz.explain.evidence.Evidence.caption`, off-face share first, and the trust
    badge), and whether the caption is a warning (drawn in red)."""

    title: str
    saliency01: np.ndarray
    caption: Sequence[str] = ()
    warning: bool = False


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.truetype(_FONT, size)
    except OSError:
        return ImageFont.load_default(size)


def _wrap(draw, text: str, font, width: int) -> list[str]:
    """``text`` broken into lines no wider than ``width`` pixels."""
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def panel(face: np.ndarray, probs: Sequence[float], maps: Sequence[PanelMap],
          title: str = "", scale: int = 4):
    """A PIL image: the face, bars of the 7 emotion probabilities, one overlay per map with
    its title and caption lines (red when the map carries a warning)."""
    from PIL import Image, ImageDraw

    side, pad, bars_w, line_h = face.shape[0] * scale, 12, 240, 17
    big, small = _font(16), _font(13)
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    captions = [[w for line in (m.title, *m.caption) for w in _wrap(measure, line, small, side)]
                for m in maps]
    text_h = line_h * max([len(c) for c in captions] + [1]) + 8
    width = pad + (side + pad) * (1 + len(maps)) + bars_w + pad
    height = pad + 26 + side + text_h + pad
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((pad, pad), title, fill="black", font=big)
    top = pad + 26
    img.paste(Image.fromarray(np.asarray(face)).resize((side, side), Image.NEAREST), (pad, top))
    draw.text((pad, top + side + 4), "face", fill="black", font=small)
    x0 = pad + side + pad
    best = int(np.argmax(probs))
    row = side / len(EMOTIONS)
    for i, (name, p) in enumerate(zip(EMOTIONS, probs)):
        y = top + i * row
        draw.text((x0, y + row / 2 - 8), name, fill="black", font=small)
        bx, bw = x0 + 70, bars_w - 120
        draw.rectangle((bx, y + 5, bx + bw, y + row - 5), outline="#bbbbbb")
        draw.rectangle((bx, y + 5, bx + bw * float(p), y + row - 5),
                       fill="#d62728" if i == best else "#1f77b4")
        draw.text((bx + bw + 6, y + row / 2 - 8), f"{float(p) * 100:.1f}%", fill="black",
                  font=small)
    x = x0 + bars_w + pad
    for m, lines in zip(maps, captions):
        img.paste(Image.fromarray(overlay(face, m.saliency01, scale=scale)), (x, top))
        if m.warning:
            draw.rectangle((x - 2, top - 2, x + side + 1, top + side + 1), outline="#d62728",
                           width=2)
        for j, line in enumerate(lines):
            colour = "black" if j == 0 else "#d62728" if m.warning else "#333333"
            draw.text((x, top + side + 4 + line_h * j), line, fill=colour, font=small)
        x += side + pad
    return img


def write_panel(path: str | os.PathLike, face: np.ndarray, probs: Sequence[float],
                maps: Sequence[PanelMap], title: str = "", force: bool = False) -> None:
    """Write :func:`panel` as a PNG, atomically.

    Raises:
        FervizError: if ``path`` exists and ``force`` is false.
    """
    from ..cache import atomic_path

    if os.path.exists(path) and not force:
        raise FervizError(f"{path} exists; pass --force to overwrite it")
    image = panel(face, probs, maps, title)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
