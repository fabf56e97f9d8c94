"""How many torch threads ferviz's own work runs on: the one owner of that choice, asked by
predictions, explanations and video.

Torch starts one thread per core. On a machine where another process keeps cores busy, those
threads wait on each other (measured: 3,589 forwards 1.5x slower on two threads than on one
beside one busy process), so each piece of work runs on the cores left idle, at least one and
at most torch's own count. ``FERVIZ_THREADS=N`` fixes the count instead. The count changes
only how the work is spread, not what it computes (tested: the same probabilities to the
bit on one thread and on two).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

ENV = "FERVIZ_THREADS"
SAMPLE = 0.05  # seconds the machine's CPU use is sampled over
KEEP = 2.0  # seconds a choice is reused before sampling again
_LOCK = threading.Lock()
_chosen: tuple[float, int] | None = None  # (when, threads)


def _cpu_seconds() -> tuple[float, float] | None:
    """(busy CPU seconds of the whole machine, of this process) so far; None where
    ``/proc/stat`` cannot be read."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    own = os.times()
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"), own.user + own.system


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def busy_elsewhere(interval: float = SAMPLE) -> float | None:
    """Cores kept busy by other processes now (sampled over ``interval``); None where the
    system does not say."""
    first = _cpu_seconds()
    if first is None:
        return None
    time.sleep(interval)
    second = _cpu_seconds()
    if second is None:
        return None
    others = (second[0] - first[0]) - (second[1] - first[1])
    return max(others / interval, 0.0)


def choose(most: int) -> int:
    """The threads for a piece of work: ``FERVIZ_THREADS`` when set, else the idle cores
    (at least 1, at most ``most``), sampled at most every :data:`KEEP` seconds."""
    global _chosen
    fixed = os.environ.get(ENV, "").strip()
    if fixed.isdigit() and int(fixed) > 0:
        return int(fixed)
    with _LOCK:
        now = time.monotonic()
        if _chosen is None or now - _chosen[0] > KEEP:
            others = busy_elsewhere()
            n = most if others is None else cores() - round(others)
            _chosen = (now, n)
            log.debug("torch threads: %s (other processes busy on %s cores)", n, others)
        return max(1, min(most, _chosen[1]))


@contextmanager
def threads(n: int | None = None) -> Iterator[int]:
    """Torch on ``n`` threads inside the block (default: :func:`choose`, at most the count
    set now: torch's own, the user's, or an enclosing block's); that count is restored
    after."""
    import torch

    before = torch.get_num_threads()
    n = n or choose(before)
    if n != before:
        torch.set_num_threads(n)
    try:
        yield n
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
