"""Issue 11, core side (models): broken or hostile networks, the trust rule for code named
by cards, model file messages, placement of predictions, training options, progress bars."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_input_files import zipped

from ferviz.errors import FervizError
from ferviz.models import zoo
from ferviz.models.layout import fastest, placed
from ferviz.models.load import load_model
from ferviz.predict import predict_proba
from ferviz.progress import is_quiet, progress
from ferviz.recipe import Recipe

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
    ("s[:1]", "returns shape (1, 7) for 8 faces"),
    ("s[:, :, None]", "returns shape (8, 7, 1) for 8 faces"),
    ("s[:, :5]", "outputs 5 classes but its label order has 7"),
    ("s * float('nan')", "NaN or infinite scores for 8 of 8 test faces"),
    ("s / 0", "NaN or infinite scores"),
    ("s.view(3, -1)", "forward pass failed on 8 test faces of 1x48x48 (RuntimeError"),
    ("__import__('sys').exit(3)", "forward pass failed on 8 test faces of 1x48x48 (SystemExit"),
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
    with pytest.raises(FervizError,
                       match="big.pt: the model's forward pass failed on faces 1-256 of 300"):
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
    (tmp_path / "ts.pt").write_bytes(zipped({"m/code/x.py": b"junk", "m/data.pkl": b"junk"}))
    with pytest.raises(FervizError, match="a TorchScript file is a program"):
        load_model(str(tmp_path / "ts.pt"))
    with pytest.raises(FervizError, match="not a readable TorchScript file"):
        load_model(str(tmp_path / "ts.pt"), trust=True)


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
    layout = fastest(synth_model, torch.device("cpu"))
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
    ("labels", "soft", "unknown label mode 'soft'; choose fer2013, ferplus-majority, ferplus-dist"),
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
    """Promise: bars are drawn on a terminal only, and never when quiet is asked for (the
    argument first, then FERVIZ_QUIET). stderr is set here to a real terminal (a pty) and to
    a file, so the test does not depend on how pytest captures (passes with ``-s`` too)."""
    import io
    import os
    import pty

    monkeypatch.delenv("FERVIZ_QUIET", raising=False)
    assert not is_quiet() and is_quiet(True)
    leader, follower = pty.openpty()
    with open(follower, "w") as terminal:
        os.set_blocking(leader, False)  # nothing reads the terminal's other end
        monkeypatch.setattr(sys, "stderr", terminal)
        assert terminal.isatty() and not progress(range(3)).disable  # drawn on a terminal
        assert progress(range(3), quiet=True).disable
        monkeypatch.setenv("FERVIZ_QUIET", "1")
        assert is_quiet() and not is_quiet(False)
        assert progress(range(3), quiet=None).disable  # FERVIZ_QUIET
        assert not progress(range(3), quiet=False).disable
        monkeypatch.setenv("FERVIZ_QUIET", "0")
        assert not progress(range(3)).disable
        monkeypatch.setattr(sys, "stderr", io.StringIO())  # a file or a pipe
        assert progress(range(3)).disable and list(progress(range(3))) == [0, 1, 2]
    os.close(leader)
