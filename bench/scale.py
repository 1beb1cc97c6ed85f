"""Throughput of a batch stage in-process, on 1 and 2 local worker processes, and on a Dask cluster.

The work is a real stage through its public entry point, as `osint hash` / `osint faces` run it, over real
photos from ../shared/data (every camera photo in exif/, then face photos from faces/):
  hash   osint.hashing.hash_case: decode at 256 px, pHash + dHash + PDQ with its 8 dihedral variants
  faces  osint.facematch.scan_case: YuNet detection + encoding, crops stored as derived files
Each executor gets a fresh copy of the same case. The Dask cluster is started as a team would start it,
`dask scheduler` and `dask worker --nworkers 2 --nthreads 1`, here as local processes. Every executor first
runs the stage on 4 photos of a throwaway copy (imports, model loading), outside the timings.
"coord CPU" is the CPU time of the process running the stage, per item: submitting, receiving, writing
results and custody. The no-op rows run a compute that only stats the original, so their ms/item is the
pipeline's whole per-item overhead on that executor.

    python bench/scale.py                        # hashing, 300 photos
    python bench/scale.py --work faces --photos 120
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
WARM_UP = 4


def file_size(path: Path) -> int:
    """The no-op compute: a stat of the original, so a run times only the pipeline's own per-item cost."""
    return path.stat().st_size


def real_photos(n: int) -> list[Path]:
    """`n` photos: every camera photo in exif/ first (larger, some EXIF-rotated), then face photos."""
    found: list[Path] = []
    for folder in ("exif", "faces/images"):
        found += sorted(p for p in (SHARED / folder).rglob("*") if p.suffix.lower() in PHOTO_SUFFIXES)
    return found[:n]


def stage_runner(work: str) -> Callable[..., Any]:
    """`run(case, executor, items=None) -> StageRun` for the chosen stage, through its public function."""
    if work == "hash":
        from osint.hashing import hash_case

        return lambda case, executor, items=None: hash_case(case, executor=executor, items=items)
    from osint.facematch import scan_case

    return lambda case, executor, items=None: scan_case(case, items=items, executor=executor)


@contextmanager
def dask_cluster(folder: Path, workers: int) -> Iterator[str]:
    """Start `dask scheduler` and `dask worker` as separate processes; yield the scheduler's address."""
    from distributed import Client

    info = folder / "scheduler.json"
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                               str(info), "--port", "0", "--no-dashboard"], **quiet)]
    try:
        while not info.exists():
            time.sleep(0.1)
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                                       str(info), "--nworkers", str(workers), "--nthreads", "1",
                                       "--memory-limit", "2GiB", "--no-dashboard",
                                       "--local-directory", str(folder / "workers")], **quiet))
        address = json.loads(info.read_text())["address"]
        with Client(address, set_as_default=False) as client:
            client.wait_for_workers(workers, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", choices=["hash", "faces"], default="hash", help="which stage to run")
    parser.add_argument("--photos", type=int, default=300, help="how many real photos (default 300)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"skipped: {SHARED} is absent")
        return

    from osint.case import Case
    from osint.cluster import DaskExecutor
    from osint.ingest import add_paths
    from osint.pipeline import InlineExecutor, PoolExecutor, run_stage

    run_work = stage_runner(args.work)
    with tempfile.TemporaryDirectory(prefix="osint-scale-") as tmp:
        folder = Path(tmp)
        with Case.create(folder / "template", actor="bench") as template:
            add_paths(template, real_photos(args.photos), collector="bench")
            n = len(template.items())
            megabytes = sum(template.object_path(it.sha256).stat().st_size for it in template.items()) / 1e6
        copies = iter(range(1_000_000))

        def fresh() -> Case:
            return Case.open(shutil.copytree(folder / "template", folder / f"copy{next(copies)}", symlinks=True))

        print(f"{n} real photos ({megabytes:.0f} MB) from {SHARED}; stage: {args.work}; "
              f"{os.cpu_count()} CPU cores, shared with other work")
        print(f"{'executor':<34} {'compute':<8} {'items/s':>8} {'ms/item':>8} {'coord CPU ms/item':>18}")

        def measure(label: str, executor: Any, noop: bool = False) -> None:
            with fresh() as case:
                if not noop:
                    with fresh() as warm:
                        run_work(warm, executor, warm.items()[:WARM_UP])
                wall, cpu = time.perf_counter(), time.process_time()
                run = (run_stage(case, "bench-noop", "1", file_size, case.items(), executor=executor) if noop
                       else run_work(case, executor))
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                assert run.computed + len(run.errors) == n and case.verify().ok, run
            print(f"{label:<34} {'no-op' if noop else args.work:<8} {n / wall:8.1f} {1000 * wall / n:8.2f} "
                  f"{1000 * cpu / n:18.2f}", flush=True)

        measure("in-process", InlineExecutor())
        measure("local pool, 1 worker process", PoolExecutor(1))
        measure("local pool, 2 worker processes", PoolExecutor(2))
        with dask_cluster(folder, workers=2) as address:
            measure("Dask 2 workers, shared path", DaskExecutor(address))
            measure("Dask 2 workers, shipped bytes", DaskExecutor(address, ship_bytes=True))
            measure("Dask 2 workers, shared path", DaskExecutor(address), noop=True)
        measure("in-process", InlineExecutor(), noop=True)


if __name__ == "__main__":
    main()
