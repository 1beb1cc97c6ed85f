"""Evidence bundle export and verify speed on real media: `python bench/evidence.py [--limit 300]`.

Ingests up to --limit real photos and videos from ../shared/data into a temporary case, then times: export
of all items as a zip and as a folder, `verify_bundle` on each (every file re-hashed, signature, custody),
and the stock `bagit` validator on the folder for comparison. Also checks that two exports give
byte-identical payload manifests, and reports peak memory (verify streams: it never holds a whole file).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def media(limit: int) -> list[Path]:
    """Real photos and videos under ../shared/data, interleaved by folder, at most `limit`."""
    suffixes = {".jpg", ".jpeg", ".png", ".heic", ".mp4", ".mov", ".webm"}
    groups = [sorted(p for p in (DATA / sub).rglob("*") if p.suffix.lower() in suffixes
                     and "invalid" not in p.parts and "tests" not in p.parts)
              for sub in ("faces", "exif", "landmarks", "video")]
    mixed = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    return mixed[:limit]


def timed(label: str, fn, size: int):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    value = fn()
    took = time.perf_counter() - started
    print(f"{label:<34} {took:7.2f} s  {size / took / 1e6:7.1f} MB/s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=300, help="How many real files to ingest (default 300).")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return
    import bagit

    from osint.case import Case
    from osint.evidence import create_key, export_bundle, select_items, unlock, verify_bundle
    from osint.ingest import add_paths

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["OSINT_HOME"] = str(work / "home")
        case = Case.create(work / "case", actor="bench")
        summary = add_paths(case, media(args.limit), collector="bench")
        items = select_items(case, everything=True)
        size = sum(it.size for it in items.items)
        print(f"{len(items.items)} items, {size / 1e6:.1f} MB ({summary.failed} failed to ingest); "
              f"shared 2-core machine, one run")
        signer = unlock(create_key("Bench lead", "bench-pass"), "bench-pass")
        timed("export --all as zip", lambda: export_bundle(case, items, work / "a.zip", signer), size)
        timed("export --all as folder", lambda: export_bundle(case, items, work / "a", signer), size)
        export_bundle(case, items, work / "b", signer)
        same = (work / "a" / "manifest-sha256.txt").read_bytes() == (work / "b" / "manifest-sha256.txt").read_bytes()
        print(f"payload manifests of two exports identical: {same}")
        for name in ("a.zip", "a"):
            report = timed(f"verify {name}", partial(verify_bundle, work / name, pubkey=signer.info.public_key), size)
            assert report.ok, report.failures
        timed("stock bagit validate (folder)", lambda: bagit.Bag(str(work / "a")).validate(processes=1), size)
        print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
        case.close()


if __name__ == "__main__":
    main()
