"""Issue 11, core side: bad data, damaged caches, half-written files, hostile or broken
models, training options, the image-folder face cache, placement of predictions."""

from __future__ import annotations

import gzip
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ferviz.cache import atomic_path, cache_dir, read_cached
from ferviz.data import open_data
from ferviz.data import fercsv
from ferviz.data.fer2013 import load_fer2013, load_table
from ferviz.data.folders import load_folder
from ferviz.errors import FervizError, shown
from ferviz.models import zoo
from ferviz.models.load import load_model
from ferviz.predict import fastest_layout, placed, predict, predict_proba
from ferviz.progress import is_quiet, progress
from ferviz.recipe import Recipe

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


# ---------------------------------------------------------------- models
NET = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(7))

    def forward(self, x):
        s = x.mean((1, 2, 3))[:, None] * self.w
        return {body}
"""


def _user_model(tmp: Path, body: str, name: str = "net") -> tuple[str, str]:
    (tmp / f"{name}.py").write_text(NET.format(body=body))
    torch.save({"w": torch.ones(7)}, tmp / f"{name}.pt")
    return str(tmp / f"{name}.pt"), f"{tmp / name}.py:Net"


@pytest.mark.parametrize("body, message", [
    ("(s, s)", "returns a tuple, not one tensor"),
    ("{'logits': s}", "returns a dict, not one tensor"),
    ("(s * 100).long()", "returns int64 values, not scores"),
    ("s[:1]", "returns shape (1, 7) for 2 faces"),
    ("s[:, :, None]", "returns shape (2, 7, 1) for 2 faces"),
    ("s[:, :5]", "outputs 5 classes but its label order has 7"),
    ("s * float('nan')", "NaN or infinite scores for 2 of 2 test faces"),
    ("s / 0", "NaN or infinite scores"),
    ("s.view(3, -1)", "forward pass failed on 2 test faces of 1x48x48 (RuntimeError"),
    ("__import__('sys').exit(3)", "forward pass failed on 2 test faces of 1x48x48 (SystemExit"),
])
def test_broken_forward_is_named_at_load(tmp_path, body, message):
    weights, arch = _user_model(tmp_path, body)
    with pytest.raises(FervizError, match="^net.pt: .*" + re.escape(message)):
        load_model(weights, arch=arch)


def test_bad_outputs_on_some_faces_are_counted(tmp_path):
    weights, arch = _user_model(tmp_path, "torch.where(s > 0.9, float('nan'), s)")
    model = load_model(weights, arch=arch)
    faces = np.zeros((1500, 48, 48), np.uint8)
    faces[::500] = 255
    with pytest.raises(FervizError, match="net.pt: the model gives NaN or infinite scores for 3 "
                                          "of 1,500 faces"):
        predict_proba(model, faces, batch_size=256, progress=False)
    weights, arch = _user_model(tmp_path, "s if len(x) < 100 else s.view(3, -1)", "big")
    with pytest.raises(FervizError, match="big.pt: the model's forward pass failed on faces 1-256 of 300"):
        predict_proba(load_model(weights, arch=arch), faces[:300], batch_size=256)


def test_import_that_exits_and_other_user_code_failures(tmp_path):
    weights, _ = _user_model(tmp_path, "s")
    (tmp_path / "bye.py").write_text("import sys\nsys.exit(0)\n")
    with pytest.raises(FervizError, match="bye.py: importing it failed: SystemExit"):
        load_model(weights, arch=f"{tmp_path / 'bye.py'}:Net")
    (tmp_path / "plain.py").write_text("class Net:\n    pass\n")
    with pytest.raises(FervizError, match="builds a Net, not a torch nn.Module"):
        load_model(weights, arch=f"{tmp_path / 'plain.py'}:Net")
    with pytest.raises(FervizError, match="no class Missing"):
        load_model(weights, arch=f"{tmp_path / 'plain.py'}:Missing")


def test_file_architectures_run_only_when_asked(tmp_path):
    weights, arch = _user_model(tmp_path, "s")
    assert load_model(weights, arch=arch).card.arch == arch  # typed by the user
    with pytest.raises(FervizError, match="an arch that was not typed by you asks for arch"):
        load_model(weights, arch=arch, arch_trusted=False)
    assert load_model(weights, arch=arch, arch_trusted=False, trust=True)
    Path(weights + ".json").write_text(json.dumps({"arch": "net.py:Net"}))  # relative
    with pytest.raises(FervizError, match=re.escape(f"{weights}.json (sidecar) asks for arch "
                                                    f"{tmp_path}/net.py:Net, which would run "
                                                    f"the code in {tmp_path}/net.py; pass "
                                                    "--trust")):
        load_model(weights)
    assert load_model(weights, trust=True).card.arch == f"{tmp_path}/net.py:Net"


def test_a_zoo_entry_folder_loads_and_its_card_is_not_trusted(tmp_path):
    entry = tmp_path / "entry"
    shutil.copytree(zoo.root() / "fer_synth_cnn", entry)
    faces = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    same = predict_proba(load_model(str(entry)), faces)
    assert np.allclose(same, predict_proba(load_model("fer_synth_cnn"), faces), atol=1e-6)
    _user_model(entry, "s")
    torch.save({}, entry / "empty.pt")
    card = json.loads((entry / "card.json").read_text())
    (entry / "card.json").write_text(json.dumps({**card, "arch": "net.py:Net",
                                                 "labels": list(card["labels"])}))
    from safetensors.torch import save_file

    save_file({"w": torch.ones(7)}, str(entry / zoo.WEIGHTS))
    with pytest.raises(FervizError, match="card.json \\(card\\) asks for arch .*net.py:Net"):
        load_model(str(entry))
    assert load_model(str(entry), trust=True).card.name == "fer_synth_cnn"
    with pytest.raises(FervizError, match="a folder, not a model"):
        load_model(str(tmp_path))


def test_model_file_messages(tmp_path):
    (tmp_path / "w.safetensors").write_bytes(b"")
    with pytest.raises(FervizError, match="holds weights only; give --arch NAME"):
        load_model(str(tmp_path / "w.safetensors"))
    (tmp_path / "ts.pt").write_bytes(_zip({"m/code/x.py": b"junk", "m/data.pkl": b"junk"}))
    with pytest.raises(FervizError, match="not a readable TorchScript file"):
        load_model(str(tmp_path / "ts.pt"))


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_spec_and_option_errors_need_no_torch(tmp_path):
    code = ("import sys\nfrom ferviz.models.load import load_model\nfrom ferviz.errors import "
            "FervizError\nfor spec, opts in [('nope', {}), (%r, {}), ('fer_synth_cnn', "
            "{'input_size': 0})]:\n    try:\n        load_model(spec, **opts)\n    except "
            "FervizError as e:\n        print(e)\nprint('torch' in sys.modules)\n"
            % str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.splitlines()[-1] == "False", out.stdout + out.stderr
    assert "input size 0 is out of range" in out.stdout


# ---------------------------------------------------------------- predictions
def test_placed_restores_the_models_own_tensors(synth_model):
    params = [(p.data_ptr(), p.stride()) for p in synth_model.parameters()]
    buffers = {n: b for n, b in synth_model.named_buffers()}
    with placed(synth_model, torch.device("cpu"), torch.channels_last) as m:
        conv = next(p for p in m.parameters() if p.ndim == 4)
        assert conv.is_contiguous(memory_format=torch.channels_last)
    assert [(p.data_ptr(), p.stride()) for p in synth_model.parameters()] == params
    assert all(b is buffers[n] for n, b in synth_model.named_buffers())


def test_both_layouts_give_the_same_probabilities(synth_model, synth_test):
    faces = np.concatenate([synth_test.images()] * 6)[:1100]
    layout = fastest_layout(synth_model, faces, torch.device("cpu"))
    assert layout in (torch.channels_last, torch.contiguous_format)
    fast = predict_proba(synth_model, faces, progress=False)  # >= LAYOUT_MIN: timed layout
    plain = predict_proba(synth_model, faces[:200], progress=False)
    np.testing.assert_allclose(fast[:200], plain, atol=1e-5)


# ---------------------------------------------------------------- training and progress
@pytest.mark.parametrize("field, value, message", [
    ("epochs", 0, "epochs must be a whole number of at least 1, not 0"),
    ("batch_size", -4, "batch size must be a whole number of at least 1"),
    ("patience", 2.5, "patience must be a whole number"),
    ("epochs", True, "epochs must be a whole number"),
    ("lr", 0.0, "learning rate must be a finite number > 0"),
    ("lr", float("nan"), "learning rate must be a finite number > 0, not nan"),
    ("lr", float("inf"), "learning rate must be a finite number"),
    ("weight_decay", -1e-4, "weight decay must be a finite number >= 0"),
    ("label_smoothing", 1.0, "label smoothing must be a finite number >= 0 and < 1"),
    ("optimizer", "bogus", "optimizer must be one of adam, sgd, not 'bogus'"),
    ("schedule", "step", "schedule must be one of cosine, constant"),
    ("labels", "soft", "label mode must be one of fer2013, ferplus-majority, ferplus-dist"),
    ("seed", -1, "seed must be a whole number of at least 0"),
])
def test_training_options_are_checked(field, value, message):
    with pytest.raises(FervizError, match=re.escape(message)):
        Recipe(arch="synth_cnn", **{field: value})
    Recipe(arch="synth_cnn")  # the defaults are valid


def test_a_damaged_checkpoint_names_the_remedy(tmp_path):
    from ferviz.data.synth import load_synth
    from ferviz.models.fermodel import FERModel
    from ferviz.models.registry import create_model
    from ferviz.train import CHECKPOINT, train

    (tmp_path / CHECKPOINT).write_bytes(b"PK\x03\x04 half a zip")
    model = FERModel(*create_model("synth_cnn"))
    data = load_synth(20, seed=5, ambiguity=0)
    with pytest.raises(FervizError, match="the checkpoint is damaged .*delete it to start the "
                                          "run over, or choose another output folder"):
        train(model, Recipe(arch="synth_cnn", epochs=1), data, data, tmp_path, progress=False)
    assert (tmp_path / CHECKPOINT).read_bytes() == b"PK\x03\x04 half a zip"


def test_progress_is_quiet_off_a_terminal_and_on_request(monkeypatch):
    monkeypatch.delenv("FERVIZ_QUIET", raising=False)
    assert not is_quiet() and is_quiet(True)
    monkeypatch.setenv("FERVIZ_QUIET", "1")
    assert is_quiet() and not is_quiet(False)
    assert progress(range(3), quiet=None).disable  # FERVIZ_QUIET
    monkeypatch.setenv("FERVIZ_QUIET", "0")
    assert progress(range(3)).disable  # pytest's stderr is not a terminal
    assert list(progress(range(3))) == [0, 1, 2]
