"""Run a batch stage on a Dask distributed cluster the team already runs, with the same results as locally.

`DaskExecutor` is the third `osint.pipeline.Executor`: `run_stage` hands it the originals' paths and the
stage's top-level `compute`; it submits them to the cluster with a bounded number in flight and yields
(path, result, error) as they finish. Workers only compute: the coordinator alone writes the case, so a
worker that dies loses at most the items it held, and the scheduler recomputes them elsewhere.

What workers get: by default the original's PATH, so every worker must see the case folder on shared storage
at the same absolute path (NFS, SMB, a cluster file system). With `ship_bytes=True` the coordinator reads
each original and sends its bytes to a worker instead. Either way the collected media leave this machine.
Workers need the same osint version (and its stage dependencies) installed; they never see the case database.
Each custody entry of such a run names the scheduler, the workers' hosts and how they got the originals.
"""

from __future__ import annotations

import gc
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from osint import __version__
from osint.errors import OsintError
from osint.pipeline import _call, transient_error

Outcome = tuple[Any, str | None]


class ClusterError(OsintError):
    """The cluster itself failed (unreachable, no workers, workers that cannot read the case): not one item."""


def _osint_version() -> str:
    """The osint version installed where this runs (called on every worker before a run)."""
    return __version__


TASK_S = 0.5        # aim for tasks of about this many seconds of work: few round trips, still fine-grained
MAX_PER_TASK = 64   # never more originals than this in one task, however cheap each one is
MAX_SHIPPED_BYTES = 64 << 20  # with shipped bytes, a task holds at most this much media (or one original)


Done = tuple[list[Outcome], float, str]  # what a task returns: outcomes, seconds of work, the worker's host


def _compute_paths(fn: Callable[[Path], Any], paths: list[Path]) -> Done:
    """On a worker: compute from the originals at `paths` (readable there: shared storage)."""
    start = time.perf_counter()
    for path in paths:
        if not os.access(path, os.R_OK):
            raise ClusterError(f"worker on {socket.gethostname()} cannot read {path}: mount the case folder at "
                               "the same path on every worker, or ship the bytes from the coordinator")
    return [_call(fn, path) for path in paths], time.perf_counter() - start, socket.gethostname()


def _compute_bytes(fn: Callable[[Path], Any], blobs: list[bytes], names: list[str]) -> Done:
    """On a worker: write each shipped original to a private temporary file, compute from it, delete it."""
    start = time.perf_counter()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="osint-") as tmp:
        for data, name in zip(blobs, names):
            path = Path(tmp) / name
            path.write_bytes(data)
            result, error = _call(fn, path)
            path.unlink()
            outcomes.append((result, error.replace(str(path), name) if error else None))
    return outcomes, time.perf_counter() - start, socket.gethostname()


class DaskExecutor:
    """Computes on a Dask cluster: a scheduler address (tcp://host:8786), a `Client`, or a cluster object.

    Originals go in tasks sized to about TASK_S seconds of work (measured as results come back), and at
    most `in_flight` tasks are out at once (default: twice the workers' threads, at least 4), so the
    coordinator never queues a whole collection. A task whose worker dies is rescheduled by the scheduler
    (up to its `allowed-failures`); if it still fails with `KilledWorker`, its originals go again one per
    task, and any that still fail are tried once more each alone, after everything else: only an original
    that kills a worker on its own is recorded as that item's error (a file that crashes a decoder or
    exhausts a worker's memory).
    """

    def __init__(self, cluster: Any, *, ship_bytes: bool = False, in_flight: int | None = None,
                 connect_timeout_s: float = 20, worker_wait_s: float = 60):
        if find_spec("distributed") is None:
            raise ClusterError("running on a Dask cluster needs Dask: pip install 'osint[cluster]'")
        self.cluster = cluster
        self.ship_bytes = ship_bytes
        self.in_flight = in_flight
        self.connect_timeout_s = connect_timeout_s
        self.worker_wait_s = worker_wait_s
        self.scheduler = str(cluster)  # its address, once connected
        self.hosts: set[str] = set()  # the machines whose workers computed something in the latest run

    @property
    def where(self) -> dict[str, Any]:
        """For the custody log: the scheduler, the worker hosts so far, and how they got the originals."""
        return {"dask_scheduler": self.scheduler,
                "hosts": sorted(self.hosts),
                "originals": "shipped from the coordinator" if self.ship_bytes else "read from shared storage"}

    def check(self) -> None:
        """Connect, wait for a worker and compare osint versions, then disconnect: fails early, before a run."""
        client, owned = self._connect()
        if owned:
            client.close()

    def run(self, fn: Callable[[Any], Any], args: Sequence[Any]) -> Iterator[tuple[Any, Any, str | None]]:
        """Compute `fn(arg)` for every arg on the cluster; yield (arg, result, error) as tasks finish."""
        from distributed import KilledWorker, as_completed

        if not args:
            return
        client, owned = self._connect()
        self.scheduler, self.hosts = client.scheduler.address, set()
        running: dict[Any, list[Any]] = {}  # future -> the originals it computes
        try:
            limit = self.in_flight or max(4, 2 * sum(client.nthreads().values()))
            todo = iter(args)
            done = as_completed(loop=client.loop)
            per_item_s: float | None = None  # smoothed worker seconds per original, once known
            suspects: list[Any] = []  # originals whose worker died under them, maybe not by their doing
            alone: set[Any] = set()  # those now computed with nothing else of ours running
            unreadable: list[tuple[Any, None, str]] = []

            def submit(batch: list[Any]) -> None:
                if self.ship_bytes:
                    blobs = client.scatter([Path(a).read_bytes() for a in batch], hash=False)
                    fut = client.submit(_compute_bytes, fn, blobs, [Path(a).name for a in batch], pure=False)
                else:
                    fut = client.submit(_compute_paths, fn, batch, pure=False)
                running[fut] = batch
                done.add(fut)

            def submit_next() -> None:
                """Send the next task; an original this machine cannot read is that item's error, as locally."""
                size = 1 if per_item_s is None else int(TASK_S / max(per_item_s, TASK_S / MAX_PER_TASK))
                batch, shipped = [], 0
                for arg in todo:
                    try:
                        with open(arg, "rb") as fh:
                            shipped += os.fstat(fh.fileno()).st_size if self.ship_bytes else 0
                    except OSError as exc:
                        unreadable.append((arg, None, transient_error(exc)))
                        continue
                    batch.append(arg)
                    if len(batch) >= size or shipped >= MAX_SHIPPED_BYTES:
                        break
                if batch:
                    submit(batch)

            for _ in range(limit):
                submit_next()
            for fut in done:
                batch, outcomes, seconds = running.pop(fut), [], 0.0
                try:
                    outcomes, seconds, host = fut.result()
                    self.hosts.add(host)
                except KilledWorker:
                    if len(batch) > 1:  # again one per task, so that only the original that kills workers fails
                        for arg in batch:
                            submit([arg])
                    elif batch[0] in alone:
                        outcomes = [(None, "killed its Dask worker again and again, even when computed alone: "
                                           "likely a file that crashes a decoder or exhausts a worker's memory")]
                    else:  # perhaps only queued beside the culprit: tried again alone once the rest is done
                        suspects.append(batch[0])
                except ClusterError:
                    raise
                except Exception as exc:
                    raise ClusterError(f"the Dask cluster failed computing {batch[0]}: {type(exc).__name__}: "
                                       f"{exc}. Results already written are kept; run again to resume") from exc
                finally:
                    fut.release()
                if seconds:
                    now = seconds / len(batch)
                    per_item_s = now if per_item_s is None else 0.7 * per_item_s + 0.3 * now
                for arg, (result, error) in zip(batch, outcomes):
                    yield arg, result, error
                submit_next()
                yield from unreadable
                unreadable.clear()
                if not running and suspects:
                    alone.add(suspects[-1])
                    submit([suspects.pop()])
            yield from unreadable
        finally:
            for fut in running:
                fut.cancel()
            if owned:
                client.close()

    def _connect(self) -> tuple[Any, bool]:
        """A client for the cluster, checked to have workers running this osint version; True if we own it."""
        from distributed import Client

        if isinstance(self.cluster, Client):
            client, owned = self.cluster, False
        else:
            # A Client whose connection failed earlier is garbage until the collector finalises it; its __del__
            # closes its event loop, and if that happens inside the next Client's start (the collector runs at
            # any allocation) distributed's loop lock deadlocks. Finalise such leftovers now, before starting.
            gc.collect()
            try:
                client = Client(self.cluster, timeout=self.connect_timeout_s, set_as_default=False)
            except Exception as exc:  # noqa: BLE001 - unreachable, refused, or TLS not configured
                tls = (" (a tls:// scheduler needs the team's CA and a client certificate in the Dask configuration:"
                       " DASK_DISTRIBUTED__COMM__TLS__CA_FILE, DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT and "
                       "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY)") if str(self.cluster).startswith("tls://") else ""
                raise ClusterError(f"cannot reach the Dask scheduler at {self.cluster}: {exc}{tls}") from exc
            owned = True
        try:
            try:
                client.wait_for_workers(1, timeout=self.worker_wait_s)
            except TimeoutError as exc:
                raise ClusterError(f"no Dask worker joined the scheduler within {self.worker_wait_s:g} s") from exc
            mine = _osint_version()
            theirs = client.run(_osint_version, on_error="return")
            for worker, answer in sorted(theirs.items()):
                if isinstance(answer, Exception) and not isinstance(answer, OSError):  # OSError: it just left
                    raise ClusterError(f"Dask worker {worker} cannot run osint ({type(answer).__name__}: {answer}):"
                                       f" install osint {mine} and its stage dependencies on every worker")
            wrong = {w: v for w, v in theirs.items() if isinstance(v, str) and v != mine}
            if wrong:
                raise ClusterError(f"Dask workers run another osint version than this coordinator ({mine}): "
                                   + ", ".join(f"{w} has {v}" for w, v in sorted(wrong.items())))
        except BaseException:
            if owned:
                client.close()
            raise
        return client, owned
