"""Ingest throughput and peak memory on real photos: `python bench/ingest.py [--sizes 1000 10000]`.

Sources are the real photos under ../shared/data (faces, exif, landmarks), cycled; each copy gets a unique
trailer after the JPEG end marker so every file is a distinct item (the pictures still decode the same).
Each size runs in a fresh process so its peak RSS is its own: flat peak memory across sizes shows that
ingest streams files rather than holding them.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def real_photos() -> list[Path]:
    """Small press photos, camera JPEGs and landmark photos interleaved, so every size gets a realistic mix."""
    groups = [[p for p in sorted((DATA / sub).rglob("*.jpg")) if "invalid" not in p.parts and "tests" not in p.parts]
              for sub in ("faces/images", "exif/exif-samples/jpg", "landmarks/images")]
    longest = max(len(g) for g in groups)
    return [g[i % len(g)] for i in range(longest) for g in groups]


def build_source(dest: Path, n: int) -> int:
    """Write n distinct JPEG files into dest; return their total size in bytes."""
    photos = real_photos()
    total = 0
    for i in range(n):
        src = photos[i % len(photos)]
        data = src.read_bytes() + f"bench-copy-{i}".encode()
        out = dest / f"{i // 1000:03d}" / f"{i:06d}_{src.name}"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        total += len(data)
    return total


def run_one(src: Path, case_dir: Path) -> dict[str, float]:
    """Ingest `src` into a new case in this process and report time and peak memory."""
    from osint.case import Case
    from osint.ingest import add_paths

    case = Case.create(case_dir, actor="bench")
    started = time.perf_counter()
    summary = add_paths(case, [src], collector="bench")
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "added": summary.count("added"), "failed": summary.failed,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--one", nargs=2, metavar=("SRC", "CASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one[0]), Path(args.one[1]))))
        return
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return
    print(f"{'files':>7} {'MB':>8} {'seconds':>8} {'files/s':>8} {'MB/s':>6} {'peak RSS MB':>11}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="osint-bench-") as tmp:
            src = Path(tmp) / "src"
            size = build_source(src, n)
            proc = subprocess.run([sys.executable, __file__, "--one", str(src), str(Path(tmp) / "case")],
                                  capture_output=True, text=True, check=True)
            r = json.loads(proc.stdout)
            assert r["added"] == n and r["failed"] == 0, r
            mb = size / 1e6
            print(f"{n:>7} {mb:>8.1f} {r['seconds']:>8.1f} {n / r['seconds']:>8.0f} {mb / r['seconds']:>6.1f} "
                  f"{r['peak_rss_mb']:>11.0f}")
            shutil.rmtree(src)


if __name__ == "__main__":
    main()
