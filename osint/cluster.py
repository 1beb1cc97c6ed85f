"""Run a batch stage on a Dask distributed cluster the team already runs, with the same results as locally.

`DaskExecutor` is the third `osint.pipeline.Executor`: `run_stage` hands it the originals' paths and the
stage's top-level `compute`; it submits them to the cluster with a bounded number in flight and yields
(path, result, error) as they finish. Workers only compute: the coordinator alone writes the case, so a
worker that dies loses at most the items it held, and the scheduler recomputes them elsewhere.

What workers get: by default the original's PATH, so every worker must see the case folder on shared storage
at the same absolute path (NFS, SMB, a cluster file system). With `ship_bytes=True` the coordinator reads
each original and sends its bytes to a worker instead. Either way the collected media leave this machine.
Workers need the same osint version (and its stage dependencies) installed; they never see the case database.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import version as package_version
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from osint.errors import OsintError
from osint.pipeline import _call

Outcome = tuple[Any, str | None]
_END = object()


class ClusterError(OsintError):
    """The cluster itself failed (unreachable, no workers, workers that cannot read the case): not one item."""


def _osint_version() -> str:
    """The osint version installed where this runs (called on every worker before a run)."""
    return package_version("osint")


def _compute_path(fn: Callable[[Path], Any], path: Path) -> Outcome:
    """On a worker: compute from the original at `path`, which must be readable there (shared storage)."""
    if not os.access(path, os.R_OK):
        raise ClusterError(f"worker on {socket.gethostname()} cannot read {path}: mount the case folder at the "
                           "same path on every worker, or ship the bytes from the coordinator")
    return _call(fn, path)


def _compute_bytes(fn: Callable[[Path], Any], data: bytes, name: str) -> Outcome:
    """On a worker: write the shipped bytes to a private temporary file, compute from it, delete it."""
    with tempfile.TemporaryDirectory(prefix="osint-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        result, error = _call(fn, path)
    return result, error.replace(str(path), name) if error else None


class DaskExecutor:
    """Computes on a Dask cluster: a scheduler address (tcp://host:8786), a `Client`, or a cluster object.

    `in_flight` bounds the tasks submitted at once (default: twice the workers' threads, at least 4), so the
    coordinator never queues a whole collection. A task whose worker dies is rescheduled by the scheduler
    (up to its `allowed-failures`); if it still fails with `KilledWorker` it is resubmitted `resubmits` more
    times, then recorded as that item's error (a file that crashes a decoder or exhausts a worker's memory).
    """

    def __init__(self, cluster: Any, *, ship_bytes: bool = False, in_flight: int | None = None,
                 resubmits: int = 1, connect_timeout_s: float = 20, worker_wait_s: float = 60):
        if find_spec("distributed") is None:
            raise ClusterError("running on a Dask cluster needs Dask: pip install 'osint[cluster]'")
        self.cluster = cluster
        self.ship_bytes = ship_bytes
        self.in_flight = in_flight
        self.resubmits = resubmits
        self.connect_timeout_s = connect_timeout_s
        self.worker_wait_s = worker_wait_s

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        from distributed import as_completed

        if not args:
            return
        client, owned = self._connect()
        running: dict[Any, tuple[Any, Any]] = {}  # future -> (arg, scattered bytes or None)
        try:
            limit = self.in_flight or max(4, 2 * sum(client.nthreads().values()))
            attempts: dict[Any, int] = {}
            todo = iter(args)
            done = as_completed(loop=client.loop)

            def submit(arg: Any) -> None:
                if self.ship_bytes:
                    ref = client.scatter(Path(arg).read_bytes(), hash=False)
                    fut = client.submit(_compute_bytes, fn, ref, Path(arg).name, pure=False)
                else:
                    ref, fut = None, client.submit(_compute_path, fn, arg, pure=False)
                running[fut] = (arg, ref)
                done.add(fut)

            for arg in todo:
                submit(arg)
                if len(running) >= limit:
                    break
            for fut in done:
                arg, _ = running.pop(fut)
                outcome = self._outcome(fut, arg, attempts)
                fut.release()
                if outcome is None:
                    submit(arg)
                    continue
                yield (arg, *outcome)
                nxt = next(todo, _END)
                if nxt is not _END:
                    submit(nxt)
        finally:
            for fut in running:
                fut.cancel()
            if owned:
                client.close()

    def _outcome(self, fut: Any, arg: Any, attempts: dict[Any, int]) -> Outcome | None:
        """The (result, error) of a finished task, or None when its worker died and it should go again."""
        from distributed import KilledWorker

        try:
            return fut.result()
        except KilledWorker as exc:
            attempts[arg] = attempts.get(arg, 0) + 1
            if attempts[arg] <= self.resubmits:
                return None
            return None, (f"killed the Dask worker computing it {attempts[arg]} times: likely a file that crashes "
                          f"the decoder or exhausts the worker's memory ({exc})")
        except ClusterError:
            raise
        except Exception as exc:
            raise ClusterError(f"the Dask cluster failed while computing {arg}: {type(exc).__name__}: {exc}. "
                               "Results already written are kept; run again to resume") from exc

    def _connect(self) -> tuple[Any, bool]:
        """A client for the cluster, checked to have workers running this osint version; True if we own it."""
        from distributed import Client

        if isinstance(self.cluster, Client):
            client, owned = self.cluster, False
        else:
            try:
                client = Client(self.cluster, timeout=self.connect_timeout_s, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"cannot reach the Dask scheduler at {self.cluster}: {exc}") from exc
            owned = True
        try:
            try:
                client.wait_for_workers(1, timeout=self.worker_wait_s)
            except TimeoutError as exc:
                raise ClusterError(f"no Dask worker joined the scheduler within {self.worker_wait_s:g} s") from exc
            mine = _osint_version()
            try:
                theirs = client.run(_osint_version)
            except Exception as exc:
                raise ClusterError(f"Dask workers cannot run osint ({type(exc).__name__}: {exc}): install "
                                   f"osint {mine} and its stage dependencies on every worker") from exc
            wrong = {w: v for w, v in theirs.items() if v != mine}
            if wrong:
                raise ClusterError(f"Dask workers run another osint version than this coordinator ({mine}): "
                                   + ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items())))
        except BaseException:
            if owned:
                client.close()
            raise
        return client, owned
