"""Issue 11, core side (data): the FER2013 parser's checks and speed path, damaged caches,
half-written files, the image-folder face cache, non-UTF-8 names, label modes."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ferviz.cache import atomic_path, cache_dir, read_cached
from ferviz.data import fercsv, open_data
from ferviz.data.fer2013 import load_fer2013, load_table
from ferviz.data.folders import load_folder
from ferviz.errors import FervizError, shown
from ferviz.predict import predict

ROWS = [(i % 7, ("Training", "PublicTest", "PrivateTest")[i % 3]) for i in range(9)]


def _pixels(g: np.random.Generator) -> np.ndarray:
    return g.integers(0, 256, 2304)


def _csv(rows=ROWS, seed: int = 0, crlf: bool = False) -> tuple[bytes, np.ndarray]:
    g = np.random.default_rng(seed)
    faces = np.stack([_pixels(g) for _ in rows]).astype(np.uint8)
    lines = ["emotion,pixels,Usage"] + [f"{e},{' '.join(map(str, f))},{u}"
                                        for (e, u), f in zip(rows, faces)]
    return (("\r\n" if crlf else "\n").join(lines) + "\n").encode(), faces.reshape(-1, 48, 48)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- FER2013 parsing
def test_parse_matches_a_plain_split_in_every_layout(tmp_path, monkeypatch):
    monkeypatch.setattr(fercsv, "BLOCK", 9000)  # several blocks, lines cut across reads
    text, faces = _csv()
    faces_, codes, usage = fercsv.parse_csv(_write(tmp_path / "a.csv", text))
    assert np.array_equal(faces_, faces) and codes.tolist() == [e for e, _ in ROWS]
    assert usage.tolist() == [u for _, u in ROWS]
    crlf, _ = _csv(crlf=True)
    assert np.array_equal(fercsv.parse_csv(_write(tmp_path / "b.csv", crlf))[0], faces)
    # other column order, quoted fields, a blank line, lower-case split names
    lines = text.decode().splitlines()[1:]
    odd = ["Usage,pixels,emotion,extra"] + [
        f'"{u.lower()}","{p}",{e},x' for e, p, u in (ln.split(",") for ln in lines)]
    odd.insert(3, "")
    got = fercsv.parse_csv(_write(tmp_path / "c.csv", "\n".join(odd).encode()))
    assert np.array_equal(got[0], faces) and got[2].tolist() == [u for _, u in ROWS]
    late = text.replace(b",PrivateTest\n", b",PrivateTset\n")  # lines 4, 7, 10
    with pytest.raises(FervizError, match="line 4: Usage 'PrivateTset'"):  # in block 2
        fercsv.parse_csv(_write(tmp_path / "d.csv", late))


@pytest.mark.parametrize("edit, message", [
    (lambda ls: ls[:1] + [ls[1].replace(",Training", ",Trainign")] + ls[2:],
     "line 2: Usage 'Trainign' is not a FER2013 split"),
    (lambda ls: [ls[0]] + [ln.rsplit(",", 1)[0] + ",Val" for ln in ls[1:]],
     "lines 2, 3, 4, 5, 6 (and 4 more): Usage 'Val'"),
    (lambda ls: ls[:4] + [ls[4].replace(",Training", ',"Training')] + ls[5:],
     "line 5: unbalanced quotes in '\"Training'"),
    (lambda ls: ls[:5] + [ls[5].replace(" ", " 256 ", 1).rsplit(" ", 2)[0] + " 1,PublicTest"]
     + ls[6:], "line 6: pixel value '256' is not an integer 0-255"),
    (lambda ls: ls[:7] + [ls[7].replace(" ", ",", 1)] + ls[8:],
     "line 8: 4 comma-separated fields, expected 3"),
    (lambda ls: ls[:9] + [ls[9].replace(" ", "  99 ", 1)], "line 10: 2305 pixel values"),
])
def test_bad_lines_are_named(tmp_path, edit, message):
    lines = _csv()[0].decode().splitlines()
    path = _write(tmp_path / "bad.csv", ("\n".join(edit(lines)) + "\n").encode())
    with pytest.raises(FervizError, match=re.escape(message)):
        fercsv.parse_csv(path)


@pytest.mark.parametrize("suffix, opener", [(".csv.gz", gzip.compress), (".csv.xz", lzma.compress)])
def test_corrupt_and_truncated_archives_are_one_error(tmp_path, suffix, opener):
    packed = opener(_csv()[0])
    for name, data in (("cut", packed[:len(packed) // 2]),
                       ("flipped", packed[:40] + bytes([packed[40] ^ 0xFF]) + packed[41:]),
                       ("junk", b"\x00not compressed at all" * 20)):
        with pytest.raises(FervizError, match="corrupt or truncated|missing column|no rows"):
            fercsv.parse_csv(_write(tmp_path / f"{name}{suffix}", data))


def test_damaged_fer2013_cache_is_rebuilt_with_a_note(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))
    path = _write(tmp_path / "f.csv", _csv()[0])
    faces = np.array(load_table(path)[0])
    npy = next((tmp_path / "cache" / "fer2013").glob("*.npy"))
    npy.write_bytes(npy.read_bytes()[:500])  # truncated: a memmap error
    assert np.array_equal(load_table(path)[0], faces)
    assert "note: damaged cache file" in capsys.readouterr().err
    meta = next((tmp_path / "cache" / "fer2013").glob("*.json"))
    meta.write_text('{"emotion": [1, 2')
    assert np.array_equal(load_table(path)[0], faces)
    assert capsys.readouterr().err.count("note: damaged cache file") == 1


def test_label_modes_and_sources_are_checked(tmp_path):
    csv = _write(tmp_path / "f.csv", _csv()[0])
    folder = tmp_path / "faces" / "happy"
    folder.mkdir(parents=True)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(folder / "a.png")
    for spec in ("synth", csv, tmp_path / "faces", folder / "a.png"):
        with pytest.raises(FervizError, match="unknown label mode 'bogus'; choose fer2013, "
                                              "ferplus-majority, ferplus-dist"):
            open_data(spec, labels="bogus")
    with pytest.raises(FervizError, match="needs a fer2013 csv"):
        open_data(tmp_path / "faces", labels="ferplus-dist")
    with pytest.raises(FervizError, match="FER\\+ votes join a fer2013 csv only"):
        open_data("synth", ferplus=csv)
    with pytest.raises(FervizError, match="no such file"):
        load_fer2013(csv, ferplus=tmp_path / "missing.csv")


# ---------------------------------------------------------------- caches and .part files
def test_stale_part_files_are_removed_and_live_ones_kept(tmp_path, monkeypatch):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = _write(tmp_path / f".out.parquet.{dead}.abc123.part", b"x" * 100)
    live = _write(tmp_path / f".out.parquet.{os.getpid()}.def456.part", b"y")
    old = _write(tmp_path / ".out.parquet.zzz.part", b"z")  # an older name, without a pid
    young = _write(tmp_path / ".other.bin.qqq.part", b"w")
    os.utime(old, (time.time() - 7200,) * 2)
    with atomic_path(tmp_path / "out.parquet") as tmp:
        tmp.write_bytes(b"done")
    assert not stale.exists() and not old.exists() and live.exists() and young.exists()
    assert (tmp_path / "out.parquet").read_bytes() == b"done"
    (tmp_path / "c" / "predictions").mkdir(parents=True)
    other = _write(tmp_path / "c" / "predictions" / f".k.parquet.{dead}.aaa.part", b"1")
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "c"))
    cache_dir("predictions")
    assert not other.exists()


def test_read_cached_deletes_a_damaged_file(tmp_path, capsys):
    bad = _write(tmp_path / "x.json", b"{not json")
    assert read_cached(bad, lambda p: json.loads(p.read_text())) is None
    assert not bad.exists() and capsys.readouterr().err.startswith("note: damaged cache file")
    assert read_cached(tmp_path / "absent.json", json.loads) is None


def test_damaged_predictions_cache_is_rebuilt(synth_model, synth_test, tmp_path, monkeypatch,
                                              capsys):
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path))
    few = synth_test.select(slice(0, 30))
    first = predict(synth_model, few)
    table = next((tmp_path / "predictions").glob("*.parquet"))
    table.write_bytes(b"PAR1 but not really")
    again = predict(synth_model, few)
    assert "note: damaged cache file" in capsys.readouterr().err
    assert np.allclose(first["p_happy"], again["p_happy"])


# ---------------------------------------------------------------- image folders
def _folder(root: Path, n: int = 4) -> Path:
    g = np.random.default_rng(1)
    for k in range(n):
        cls = root / ("happy", "sad")[k % 2]
        cls.mkdir(parents=True, exist_ok=True)
        Image.fromarray(g.integers(0, 256, (60, 60), dtype=np.uint8)).save(cls / f"{k}.png")
    return root


def test_folder_faces_are_decoded_once_and_again_when_a_file_changes(tmp_path, monkeypatch):
    from ferviz.data import images

    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))
    root = _folder(tmp_path / "photos")
    calls = []
    real = images.read_face
    monkeypatch.setattr(images, "read_face", lambda p, d="auto": calls.append(p) or real(p, d))
    first = load_folder(root).images()
    assert len(calls) == 4
    again = load_folder(root).images()
    assert len(calls) == 4 and np.array_equal(first, again)
    changed = root / "happy" / "0.png"
    Image.fromarray(np.zeros((60, 60), np.uint8)).save(changed)
    os.utime(changed, ns=(time.time_ns() + 10**9,) * 2)
    third = load_folder(root).images()
    assert calls[4:] == [str(changed)] and (third[0] == 0).all()
    assert np.array_equal(third[1:], first[1:])


def test_non_utf8_file_names_are_shown_escaped(tmp_path, synth_model, monkeypatch):
    monkeypatch.setenv("FERVIZ_CACHE", str(tmp_path / "cache"))
    root = _folder(tmp_path / "photos", 2)
    odd = os.fsdecode(bytes(root / "happy") + b"/caf\xe9.png")
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(odd, format="PNG")
    records = load_folder(root)
    assert any(i.endswith("caf\\xe9.png") for i in records.ids)
    df = predict(synth_model, records)  # digest and parquet need printable ids
    assert len(df) == 3
    os.mkdir(os.fsdecode(bytes(root) + b"/gl\xfcck"))
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(
        os.fsdecode(bytes(root) + b"/gl\xfcck/a.png"))
    with pytest.raises(FervizError, match=re.escape("gl\\xfcck")):
        load_folder(root)
    assert shown("\udcff") == "\\xff" and shown("\ud800x") == "\\ud800x"
