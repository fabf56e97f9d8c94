"""Tiny image folders named like CK+, JAFFE and KDEF, built from FER-Synth faces whose
"persons" (fixed identities) play the subjects, so groups, intervals, splits and duplicates
have known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ferviz.data.synth import make_face
from ferviz.labels import EMOTIONS

# CK+: subject -> (split, [(sequence number, emotion), ...]); three frames per sequence.
CK_SUBJECTS = {"S001": ("train", [(1, "happy"), (2, "surprise")]),
               "S002": ("train", [(1, "sad"), (3, "angry")]),
               "S003": ("train", [(1, "fear"), (2, "disgust")]),
               "S004": ("test", [(1, "happy"), (2, "angry")])}
FRAMES = 3
CONTEMPT_FRAMES = 3  # one contempt sequence of S002, in train
LEAK = "S001_005_00000001.png"  # a copy of S001_001_00000001 (happy) filed under test
NEAR = "S002_007_00000001.png"  # S002_001_00000001 (sad) two grey levels brighter, in train
BLANK = "S003_009_00000001.png"  # a constant image, in train/neutral


def synth_face(person: int, emotion: str, k: int) -> np.ndarray:
    """The k-th FER-Synth face of ``emotion`` for one person (no blends)."""
    found, i = 0, 0
    while True:
        face, _, label, _ = make_face(i, 50 + person, 0.0, person)
        if EMOTIONS[label] == emotion:
            if found == k:
                return face
            found += 1
        i += 1


def _save(face: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(face).save(path)


def build_ck(root: Path) -> Path:
    """CK+-style ``root/<split>/<emotion>/Sxxx_yyy_zzzzzzzz.png``: 24 scored faces of 4
    subjects (8 sequences), 3 contempt frames, a leaked copy, a near copy and a blank face."""
    for person, (subject, (split, seqs)) in enumerate(CK_SUBJECTS.items()):
        for seq, emotion in seqs:
            for f in range(FRAMES):
                _save(synth_face(person, emotion, f),
                      root / split / emotion / f"{subject}_{seq:03d}_{f + 1:08d}.png")
    for f in range(CONTEMPT_FRAMES):
        _save(synth_face(1, "neutral", f),
              root / "train" / "contempt" / f"S002_004_{f + 1:08d}.png")
    _save(synth_face(0, "happy", 0), root / "test" / "happy" / LEAK)
    near = synth_face(1, "sad", 0).astype(np.int16) + 2
    _save(np.clip(near, 0, 255).astype(np.uint8), root / "train" / "sad" / NEAR)
    _save(np.full((48, 48), 90, np.uint8), root / "train" / "neutral" / BLANK)
    return root


JAFFE_POSERS = ("KA", "KL", "KM")
JAFFE_CODES = {"HA": "happy", "SA": "sad", "SU": "surprise", "AN": "angry"}


def build_jaffe(root: Path) -> Path:
    """JAFFE-style flat folder ``KA.HA1.29.tiff``: 3 posers x 4 emotions x 2 shots."""
    n = 0
    for person, poser in enumerate(JAFFE_POSERS):
        for code, emotion in JAFFE_CODES.items():
            for shot in range(2):
                n += 1
                _save(synth_face(10 + person, emotion, shot),
                      root / f"{poser}.{code}{shot + 1}.{n}.tiff")
    return root


def build_kdef(root: Path) -> Path:
    """KDEF-style ``root/AF01/AF01HAS.JPG`` (person folders; the emotion is in the name):
    2 people x 2 sessions x 3 expressions x 2 angles."""
    for person, who in enumerate(("F01", "M02")):
        for session in "AB":
            for code, emotion in (("HA", "happy"), ("SU", "surprise"), ("AF", "fear")):
                for k, angle in enumerate(("S", "HL")):
                    _save(synth_face(20 + person, emotion, k),
                          root / f"{session}{who}" / f"{session}{who}{code}{angle}.JPG")
    return root
