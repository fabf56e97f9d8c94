"""Round 3 of the bad-input corpus: numbers in data (huge vote counts, endless lines, a photo
one pixel high, a groups csv with thousands of columns), video targets and frame counts,
outputs whose folder is a file, refused ensembles (see bad_input_files.py for the case
shape)."""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import numpy as np
from bad_input_files import EV, GOOD, add, ferplus, png
from bad_videos import absurd_count


# ---------------------------------------------------------------- file makers
def one_long_line(compress: str, size: int = 3 << 20):
    """A fer2013 csv whose second line is ``size`` bytes with no newline (``compress``: '',
    'gz' or 'xz'): a few kB compressed, one endless line once decompressed."""
    def write(path: Path) -> None:
        data = b"emotion,pixels,Usage\n" + b"1" * size
        path.write_bytes({"": data, "gz": gzip.compress(data, 1),
                          "xz": lzma.compress(data, preset=1)}[compress])
    return write


def only_newlines(path: Path) -> None:
    """A header and 64 MB of newlines, xz-compressed to a few kB."""
    path.write_bytes(lzma.compress(b"emotion,pixels,Usage\n" + b"\n" * (64 << 20), preset=1))


def photo(height: int, width: int):
    def write(path: Path) -> None:
        g = np.random.default_rng(height * width)
        from PIL import Image

        Image.fromarray(g.integers(0, 256, (height, width), dtype=np.uint8)).save(path)
    return write


def groups(columns: int, ids: tuple[str, ...] = ("synth:1:0", "synth:1:1")) -> bytes:
    lines = ["id," + ",".join(f"g{j}" for j in range(columns))]
    lines += [i + "," + ",".join("ab"[j % 2] for j in range(columns)) for i in ids]
    return ("\n".join(lines) + "\n").encode()


def clip(path: Path) -> None:
    """A 6-frame clip with one face (FER-Synth person 1, happy)."""
    from ferviz.video.synthclip import Actor, write_clip

    write_clip(path, [Actor(1, ("happy",), (0.5, 0.5), (0.5, 0.5))], 6, (160, 120))


# ---------------------------------------------------------------- numbers in data
FP = f"{EV} {{d}}/f.csv --ferplus {{d}}/v.csv"
HUGE = "1" + "0" * 400  # pandas reads it as a Python int: float(HUGE) overflows
VOTES = "Training,fer{:07d}.png,{},6,0,0,0,0,0,0,0,0"
add("line 2: vote counts must be whole numbers 0-32767", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row=VOTES.format(0, HUGE))})
add("lines 2, 3, 4: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row=VOTES.format(0, HUGE), rows=1) +
     "".join(VOTES.format(k, HUGE) + "\n" for k in (1, 2)).encode()})
add("line 2: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row=VOTES.format(0, "-" + "9" * 400))})
add("line 2: vote counts must be whole numbers", FP,
    {"f.csv": GOOD, "v.csv": ferplus(row=VOTES.format(0, "1e400"))})
for suffix in ("", ".gz", ".xz"):
    add("line 2 is longer than 1 MB (a FER2013 line is about 9 kB)", f"{EV} {{d}}/f.csv{suffix}",
        {f"f.csv{suffix}": one_long_line(suffix[1:])}, process=suffix == ".xz")
add("no rows", f"{EV} {{d}}/f.csv.xz", {"f.csv.xz": only_newlines}, process=True)
for height, width in [(1, 200), (200, 1), (1, 5000), (3, 2000)]:
    add("no face found; pass --no-detect", "saliency {d}/p.png -m fer_synth_cnn",
        {"p.png": photo(height, width)})
add("3,000 group columns; a groups csv holds at most 256", f"{EV} synth --groups {{d}}/g.csv",
    {"g.csv": groups(3000)}, process=True)
add("257 group columns", f"{EV} synth --groups {{d}}/g.csv", {"g.csv": groups(257)})

# ---------------------------------------------------------------- targets, videos and photos
TARGETS = "choose pred, an emotion (angry, disgust, fear, happy, sad, surprise, neutral)"
VID = "saliency {d}/c.mp4 -m fer_synth_cnn"
add(f"unknown target 'sadd'; {TARGETS}", f"{VID} --target sadd", {"c.mp4": clip})
add("unknown target 'sadd'", f"{VID} --target sadd --overlay gradcam", {"c.mp4": clip})
add("unknown target 'sad-sadd'", f"{VID} --target sad-sadd --overlay gradcam", {"c.mp4": clip})
add("unknown target 'Pred'", f"{VID} --target Pred", {"c.mp4": clip})
add("target 'true' needs known labels", f"{VID} --target true --overlay gradcam",
    {"c.mp4": clip})
add("the contrast happy-happy explains nothing", f"{VID} --target happy-happy --overlay gradcam",
    {"c.mp4": clip})
add(f"unknown target 'sadd'; {TARGETS}", "saliency {d}/a.png --no-detect --target sadd",
    {"a.png": png()})
add("target 'true' needs known labels", "saliency {d}/a.png --no-detect --target true",
    {"a.png": png()})
add("pass --max-frames N to read the first N frames", "saliency {d}/v.avi -m fer_synth_cnn",
    {"v.avi": absurd_count})

# ---------------------------------------------------------------- outputs
add("f.txt is a file, not a folder",
    "saliency {d}/a.png --no-detect -m fer_synth_cnn -o {d}/f.txt/sub/x.png",
    {"a.png": png(), "f.txt": "a file"})
add("f.txt is a file, not a folder", f"{VID} -o {{d}}/f.txt/x.mp4",
    {"c.mp4": clip, "f.txt": "a file"})
add("an ensemble needs at least two different zoo models",
    "ensemble fer_synth_cnn fer_synth_cnn -o {d}/new/ens")
add("the members' data differ", "ensemble fer_synth_cnn cs230_baseline -o {d}/ens")
