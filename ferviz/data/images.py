"""Decode any image file safely, find the faces in it, and cut them to 48x48 grayscale."""

from __future__ import annotations

import os
import struct
import threading
import warnings
from pathlib import Path

import numpy as np

from ..errors import FervizError, shown
from ..labels import FACE_SIZE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
MAX_PIXELS = 40_000_000  # larger images are refused as possible decompression bombs
CROP_SIDE = 96  # an image no larger than this on both sides is taken as a face crop
MARGIN = 0.1  # fraction of the detected box added on each side before cropping
_local = threading.local()


def read_gray(path: str | os.PathLike) -> np.ndarray:
    """Decode an image file to an H x W uint8 grayscale array, EXIF rotation applied.

    Handles RGB, RGBA, palette, 16-bit and multi-frame files.

    Raises:
        FervizError: missing, empty, corrupt, truncated, not an image, or too large.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = Path(path)
    name = shown(p)
    if not p.is_file():
        raise FervizError(f"{name}: no such file")
    if p.stat().st_size == 0:
        raise FervizError(f"{name}: the file is empty (0 bytes)")
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise FervizError(f"{name}: {im.width}x{im.height} pixels is too large "
                                      f"(limit {MAX_PIXELS:,}); refusing a possible "
                                      "decompression bomb")
                im.load()
                im = ImageOps.exif_transpose(im)
                return _to_gray(im)
    except FervizError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise FervizError(f"{name}: image too large, refusing a possible decompression bomb") from e
    except UnidentifiedImageError as e:
        raise FervizError(f"{name}: not an image file ferviz can read") from e
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError,
            ZeroDivisionError, struct.error) as e:  # what Pillow's decoders raise on bad data
        raise FervizError(f"{name}: the image is corrupt or truncated ({e})") from e


def _to_gray(im) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return ((a - lo) * scale).round().astype(np.uint8)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        from PIL import Image

        im = im.convert("RGBA")
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im)
    return np.asarray(im.convert("L"), dtype=np.uint8)


def to_face(gray: np.ndarray, size: int = FACE_SIZE) -> np.ndarray:
    """Resize a grayscale crop to size x size (area interpolation when shrinking)."""
    import cv2

    if gray.shape == (size, size):
        return gray.astype(np.uint8, copy=False)
    shrink = gray.shape[0] > size or gray.shape[1] > size
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA if shrink else
                      cv2.INTER_LINEAR)


def read_face(path: str | os.PathLike, detect: str = "auto") -> np.ndarray:
    """Decode an image of one face to 48x48 uint8 (see :func:`face_from_image`)."""
    return face_from_image(read_gray(path), detect)


def cascade(name: str = "haarcascade_frontalface_default.xml"):
    """One of OpenCV's Haar cascades (``cv2.data``), loaded once per thread (a load takes
    tens of ms; a classifier is not shared between threads)."""
    import cv2

    loaded = _local.__dict__.setdefault("cascades", {})
    if name not in loaded:
        loaded[name] = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    return loaded[name]


def detect_faces(gray: np.ndarray, min_size: int = 30, max_size: int | None = None,
                 min_neighbors: int = 5) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of frontal faces found by OpenCV's Haar cascade, largest first
    (sides from ``min_size`` to ``max_size`` pixels; ``min_neighbors`` overlapping hits make
    a face)."""
    import cv2

    boxes = cascade().detectMultiScale(cv2.equalizeHist(gray), scaleFactor=1.1,
                                        minNeighbors=min_neighbors,
                                        minSize=(min_size, min_size),
                                        maxSize=(max_size, max_size) if max_size else None)
    return sorted((tuple(int(v) for v in b) for b in boxes), key=lambda b: -b[2] * b[3])


def face_square(shape: tuple[int, ...], box: tuple[int, int, int, int],
                margin: float = MARGIN) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of the square around a detected box, widened by ``margin`` and
    clipped to an image of ``shape``: the part :func:`crop_face` cuts."""
    x, y, w, h = box
    side = int(round(max(w, h) * (1 + 2 * margin)))
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = max(0, int(cx - side / 2)), max(0, int(cy - side / 2))
    return x0, y0, min(shape[1], x0 + side), min(shape[0], y0 + side)


def crop_face(gray: np.ndarray, box: tuple[int, int, int, int],
              margin: float = MARGIN) -> np.ndarray:
    """Square crop around a detected box, widened by ``margin`` and clipped to the image."""
    x0, y0, x1, y1 = face_square(gray.shape, box, margin)
    return to_face(gray[y0:y1, x0:x1])


def is_face_crop(gray: np.ndarray) -> bool:
    """The auto rule: small images (both sides <= 96 px) are taken as face crops already."""
    return gray.shape[0] <= CROP_SIDE and gray.shape[1] <= CROP_SIDE


def face_from_image(gray: np.ndarray, detect: str = "auto") -> np.ndarray:
    """One 48x48 face from an image: the largest detected face, or the whole image.

    ``detect``: ``auto`` (small images are face crops already), ``always`` or ``never``.
    """
    if detect == "never" or (detect == "auto" and is_face_crop(gray)):
        return to_face(gray)
    boxes = detect_faces(gray)
    return crop_face(gray, boxes[0]) if boxes else to_face(gray)
