"""Landmark matching on real photos: top-1/top-5 place accuracy and seconds per query as the gallery grows.

Gallery = the `gallery` photos of ../shared/data/landmarks (places.csv gives each place's coordinates)
padded with distractors up to each size: the landmark set's own distractors, every other photo under
../shared/data (faces, EXIF samples), then generated variants of those (mirrored, cropped, rotated).
Queries = the `query` photos. Features are cached on disk by content, so a second run only re-indexes.

    python bench/landmark_eval.py                 # galleries of 100 and 10,000 photos
    python bench/landmark_eval.py --quick         # 100 and 1,000
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from osint.geolocate import (MIN_INLIERS, SHORTLIST, Features, GalleryEntry, LandmarkIndex,  # noqa: E402
                             extract_features)

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
VARIANTS = ("mirror", "crop", "rot90")


def _variant(path: Path, variant: str) -> np.ndarray:
    from osint.media import load_image

    img = load_image(path, max_side=640)
    if variant == "mirror":
        return img[:, ::-1].copy()
    if variant == "crop":
        h, w = img.shape[:2]
        return img[h // 8: h - h // 8, w // 8: w - w // 8].copy()
    if variant == "rot90":
        return np.rot90(img).copy()
    return img


def _features(job: tuple[str, str, str]) -> tuple[str, str | None]:
    """Compute one photo's features into the cache (a worker-process task); returns (cache file, error)."""
    path, variant, out = job
    if os.path.exists(out):
        return out, None
    try:
        f = extract_features(_variant(Path(path), variant) if variant else Path(path))
    except Exception as exc:  # noqa: BLE001 - a bad distractor is skipped, not fatal
        return out, f"{type(exc).__name__}: {exc}"
    tmp = out + ".part"
    with open(tmp, "wb") as fh:
        fh.write(f.to_bytes())
    os.replace(tmp, out)
    return out, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,10000", help="gallery sizes to evaluate (comma-separated)")
    ap.add_argument("--quick", action="store_true", help="galleries of 100 and 1,000 photos only")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "osint" / "landmark-bench",
                    help="folder for cached features (one .npz per photo or variant)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes extracting features")
    ap.add_argument("--shortlist", type=int, default=SHORTLIST, help="gallery photos verified geometrically per query")
    args = ap.parse_args()
    root = DATA / "landmarks"
    if not root.is_dir():
        print(f"skipped: {root} is not present")
        return 0
    sizes = [100, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    places = {r["place"]: r for r in csv.DictReader(open(root / "places.csv"))}
    split = list(csv.DictReader(open(root / "split.csv")))
    gallery = [(str(root / r["file"]), "", r["place"]) for r in split if r["role"] == "gallery"]
    queries = [(str(root / r["file"]), "", r["place"]) for r in split if r["role"] == "query"]
    own = [(str(root / r["file"]), "", "") for r in split if r["role"] == "distractor"]
    others = sorted(p for p in DATA.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"}
                    and "landmarks" not in p.parts)
    pad = own + [(str(p), "", "") for p in others]
    pad += [(str(p), v, "") for v in VARIANTS for p in others]
    need = max(sizes) - len(gallery)
    if need > len(pad):
        print(f"note: only {len(pad)} distractors available; largest gallery is {len(gallery) + len(pad)}")
    pad = pad[:max(0, need)]
    args.cache.mkdir(parents=True, exist_ok=True)

    def cache_file(path: str, variant: str) -> str:
        return str(args.cache / (hashlib.sha1(f"{path}|{variant}".encode()).hexdigest() + ".npz"))

    jobs = [(p, v, cache_file(p, v)) for p, v, _ in gallery + queries + pad]
    todo = [j for j in jobs if not os.path.exists(j[2])]
    t0 = time.perf_counter()
    failed: set[str] = set()
    if todo:
        print(f"extracting features of {len(todo)} photos with {args.workers} processes ...", flush=True)
        with ProcessPoolExecutor(args.workers) as pool:
            for i, (out, error) in enumerate(pool.map(_features, todo, chunksize=16), 1):
                if error:
                    failed.add(out)
                if i % 1000 == 0:
                    print(f"  {i}/{len(todo)}", flush=True)
    extract_s = time.perf_counter() - t0

    def load(path: str, variant: str) -> Features | None:
        f = cache_file(path, variant)
        return None if f in failed else Features.from_bytes(Path(f).read_bytes())

    print(f"feature extraction: {len(todo)} photos in {extract_s:.0f} s "
          f"({extract_s / max(1, len(todo)):.3f} s/photo incl. decode), {len(failed)} failed; "
          f"{len(jobs) - len(todo)} from cache")
    print(f"queries: {len(queries)} photos of {len({q[2] for q in queries})} places; machine: shared 2-core box")
    print(f"{'gallery':>8} {'index s':>8} {'words':>6} {'top-1':>7} {'top-5':>7} {'s/query':>8} "
          f"{'wrong verified':>15}")
    qfeat = [load(p, v) for p, v, _ in queries]
    for size in sizes:
        members = (gallery + pad)[:size]
        feats, entries = [], []
        for i, (p, v, place) in enumerate(members):
            f = load(p, v)
            if f is None:
                continue
            lat, lon = (float(places[place]["lat"]), float(places[place]["lon"])) if place else (0.0, 0.0)
            entries.append(GalleryEntry(str(i), lat, lon, place or f"distractor {i}"))
            feats.append(f)
        by_key = {e.key: f for e, f in zip(entries, feats)}
        t = time.perf_counter()
        index = LandmarkIndex.build(entries, feats)
        build_s = time.perf_counter() - t
        top1 = top5 = wrong = 0
        t = time.perf_counter()
        for (_, _, place), q in zip(queries, qfeat):
            cands = index.match(q, by_key.__getitem__, shortlist=args.shortlist)
            labels = [c.label for c in cands]
            top1 += labels[:1] == [place]
            top5 += place in labels[:5]
            wrong += any(c.verified and c.label != place for c in cands)
        per_q = (time.perf_counter() - t) / len(queries)
        print(f"{len(entries):>8} {build_s:>8.1f} {len(index.vocab):>6} {top1 / len(queries):>7.1%} "
              f"{top5 / len(queries):>7.1%} {per_q:>8.3f} {wrong:>9}/{len(queries)}")
    print(f"'wrong verified': queries for which some wrong place reached {MIN_INLIERS}+ inliers (a false lead).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
