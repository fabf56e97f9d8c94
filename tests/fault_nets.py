"""Deterministic fault injection for the interruption and kill tests: a user network (the
file a user passes as ``--arch net.py:Net``) that faults at a chosen point of the work
instead of a test sleeping and hoping the work is still running.

The network counts, per process, its forward calls on batches of exactly ``faces`` faces (the
load check's 8 and the layout probes' 8 and 32 random faces are other sizes) and faults on
call number ``call``: once over all processes and runs, whichever process first creates the
``fired`` file beside it (it writes its pid there). A rerun of the same model therefore
computes cleanly, and a ``fired`` file proves that the fault happened.
"""

from __future__ import annotations

from pathlib import Path

import torch

SOURCE = '''
import os
import signal
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

FIRED = Path(__file__).with_name("fired")
FACES, CALL, ACTION = {faces!r}, {call!r}, {action!r}
calls = 0  # forward calls on batches of FACES faces in this process


def fault():
    """Once over all processes: the first to create FIRED faults."""
    try:
        fd = os.open(FIRED, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    if ACTION == "interrupt":  # Ctrl-C, at this point of the work
        os.kill(os.getpid(), signal.SIGINT)
    elif ACTION == "exit":  # the process dies (a crashed or killed worker)
        os._exit(1)
    elif ACTION == "kill-driver":  # SIGKILL to the driver's process group, then this worker
        driver = os.getsid(0)  # the test starts the driver as a session leader
        command = Path(f"/proc/{{driver}}/cmdline").read_bytes()
        if str(Path(__file__).with_name("net.pt")).encode() not in command:
            raise RuntimeError(f"process {{driver}} is not the driver of this model's job")
        os.killpg(driver, signal.SIGKILL)  # the driver and the local cluster it started
        os._exit(1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(144, 7)

    def forward(self, x):
        global calls
        if len(x) == FACES and ACTION:
            calls += 1
            if calls == CALL:
                fault()
        return self.fc(F.avg_pool2d(x, 4).flatten(1))
'''


def faulty_model(folder: Path, faces: int, call: int, action: str | None) -> list[str]:
    """Write ``net.py`` and seeded weights ``net.pt`` into ``folder``; returns the model
    options (``-m net.pt --arch net.py:Net``). ``action``: ``interrupt`` (SIGINT to its own
    process), ``exit`` (``os._exit(1)``), ``kill-driver`` (SIGKILL to the process group of
    the driver, which the test must start as a session leader naming this ``net.pt``; then
    ``os._exit(1)``) or None (never faults: the clean run to compare with; same weights, same
    outputs)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "net.py").write_text(SOURCE.format(faces=faces, call=call, action=action))
    g = torch.Generator().manual_seed(0)
    torch.save({"fc.weight": torch.randn(7, 144, generator=g),
                "fc.bias": torch.randn(7, generator=g)}, folder / "net.pt")
    return ["-m", str(folder / "net.pt"), "--arch", f"{folder / 'net.py'}:Net"]


def fired(folder: Path) -> int | None:
    """The pid of the process that faulted, or None if the fault did not happen."""
    path = folder / "fired"
    return int(path.read_text()) if path.is_file() else None
