"""The Ray engine: shards through ``Dataset.map_batches`` with one
:class:`~ferviz.engine.work.ShardWorker` actor per model replica (GPU actors when asked).

Ray restarts a killed actor and retries its shard (``max_restarts`` / ``max_task_retries``
default to unlimited for Ray Data actors); a part is written atomically by the worker that
computed it, so a retried shard replaces only its own file. The only module importing Ray.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from ..errors import FervizError, shown
from ..progress import progress as bar
from .job import Manifest, Shard
from .work import ShardWorker


def run_on_ray(manifest: Manifest, folder: Path, todo: list[Shard], address: str | None,
               workers: int | None, gpus: float | None, progress: bool | None) -> None:
    """Compute ``todo`` on a Ray cluster (started locally when ``address`` is None and Ray is
    not initialised yet, and stopped after)."""
    try:
        import ray
        import ray.data
    except ImportError as e:
        raise FervizError("the ray engine needs Ray: pip install 'ferviz[ray]'") from e
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise FervizError(f"cannot reach a Ray cluster at {address}: {e}") from e
    try:
        _run(ray, manifest, folder, todo, workers, gpus, progress)
    finally:
        if started:
            ray.shutdown()


GCS_PORT, CLIENT_PORT = 6379, 10001  # Ray's defaults: a cluster's head, a ray:// server
CONNECT_SECONDS = 5.0


def check_address(address: str | None, timeout: float = CONNECT_SECONDS) -> None:
    """Fail fast on a cluster address nothing answers at: Ray itself retries a dead address
    for minutes. ``host:port``, ``host`` (port 6379) and ``ray://host[:port]`` (port 10001)
    are tried with one TCP connection; ``auto`` and None are Ray's to resolve.

    Raises:
        FervizError: naming the address: malformed, or no connection within ``timeout``.
    """
    if address is None or address == "auto":
        return
    text = address.removeprefix("ray://")
    host, _, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not port:
        port = str(CLIENT_PORT if address.startswith("ray://") else GCS_PORT)
    host = host.strip("[]")  # [::1]:6379
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise FervizError(f"--address {shown(address)}: not a Ray cluster address (host:port, "
                          "ray://host:port or auto)")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        why = "no answer" if isinstance(e, TimeoutError) else (e.strerror or str(e))
        raise FervizError(f"cannot reach a Ray cluster at {shown(address)}: {why}") from e


def _run(ray, manifest: Manifest, folder: Path, todo: list[Shard], workers: int | None,
         gpus: float | None, progress: bool | None) -> None:
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    resources = ray.cluster_resources()
    if gpus is None:  # GPU actors when the cluster has GPUs
        gpus = 1.0 if resources.get("GPU", 0) >= 1 else 0.0
    replicas = workers or max(1, int(resources.get("GPU", 0) // gpus if gpus else
                                     resources.get("CPU", 1)))
    replicas = min(replicas, len(todo))  # an actor per shard at most: none waits idle
    items = [{"index": s.index, "start": s.start, "stop": s.stop} for s in todo]
    shards = ray.data.from_items(items, override_num_blocks=len(items))
    done = shards.map_batches(
        ShardWorker, batch_size=1, compute=ray.data.ActorPoolStrategy(size=replicas),
        num_gpus=gpus or None, num_cpus=None if gpus else 1,
        fn_constructor_args=(manifest.job.to_dict(), manifest.layout, str(folder.resolve())))
    try:
        with bar(total=sum(s.rows for s in todo), desc=f"faces on {replicas} Ray workers",
                 unit="face", quiet=True if progress is False else None) as shown:
            for row in done.iter_rows():
                shown.update(int(row["rows"]))
    except Exception as e:  # Ray wraps what a worker raised: show ferviz's own message
        cause = _ferviz_cause(e)
        if cause is not None:
            raise FervizError(str(cause)) from None
        raise


def _ferviz_cause(e: BaseException | None) -> FervizError | None:
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, FervizError):
            return e
        e = getattr(e, "cause", None) or e.__cause__ or e.__context__
    return None
