"""How well each hash links a repost to its original, at the threshold where distinct originals never link.

Takes every real photo in ../shared/data (faces/, landmarks/, exif/) as the set of distinct originals
(documented copies of one picture kept once), finds per hash the smallest distance between two distinct
originals (the threshold is one bit less), then makes transformed copies of a sample of the larger photos
(resize, JPEG quality, crop, mirror, rotation, border, caption, screenshot, gamma/colour, watermark) and
prints, per transform and per hash, the share of copies still within the threshold of their original.
With local features (default; --no-local skips them), every original also gets RootSIFT keypoints: each
original is checked against its visual-word shortlist (links between distinct originals are wrong links),
each copy is searched among all originals through the index (a link to another original is a wrong link),
and the table gains the local links' recall and the recall of any hash or local link. Distinct originals that
local features link are printed with their evidence: a link whose pixels agree at SAME_PHOTO or more with a
residual under SAME_PHOTO_PX is two crops of one photograph (LFW cuts people photographed together into
separate files), and a copy linked to such a sibling of its own original is counted in its own column, not as
a wrong link; every other link between distinct originals is a wrong link. The originals' local features are
kept in /tmp/osint-dupes-local (by content hash and LOCAL_VERSION): a re-run after a change to search or
verification only skips their extraction.

    python bench/dupes_eval.py [--positives 120] [--workers 2] [--limit N] [--no-local]
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from osint.hashing.local import LocalFeatures

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".heic", ".tif", ".tiff"}
MIN_SIDE = 600          # photos at least this long are used to make transformed copies
WORK_SIDE = 1600        # copies are made from the original decoded to at most this many pixels
SAME_PHOTO = 0.95       # distinct originals whose local link agrees this well (bursts, nearby viewpoints: <= 0.90)
SAME_PHOTO_PX = 0.5     # with inliers this close to the transform (bursts: >= 0.86 px) are crops of one photograph
_LOCAL = None           # the originals' LocalSet, inherited by the forked workers (search and checks there)
CACHE = Path(tempfile.gettempdir()) / "osint-dupes-local"   # originals' local features, by content + LOCAL_VERSION


def same_picture_duplicates(data: Path) -> set[Path]:
    """Files that are documented copies of another file's picture (kept once in the set of originals)."""
    drop: set[Path] = set()
    seen: set[str] = set()
    with open(data / "faces" / "attributes.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["attribute"] == "near_duplicate_group":
                if row["value"] in seen:
                    drop.add(data / "faces" / row["file"])
                seen.add(row["value"])
    exif = data / "exif" / "exif-samples" / "jpg"
    drop |= {exif / "orientation" / f"{shape}_{k}.jpg" for shape in ("landscape", "portrait") for k in range(2, 9)}
    drop |= {exif / "hdr" / "canon_hdr_YES.jpg", exif / "hdr" / "iphone_hdr_YES.jpg"}   # same shot, HDR on/off
    drop |= {exif / "Canon_40D_photoshop_import.jpg"}                                     # Canon_40D.jpg re-saved
    # attributes.csv: "mirror reflection shot" of deepface_img11 (PDQ links it, mirrored, at 2 bits)
    drop |= {data / "faces" / "images" / "Angelina_Jolie" / "deepface_img11_reflection.jpg"}
    # two LFW crops of one photo (the Htoo twins side by side): local features link them, rightly
    drop |= {data / "faces" / "images" / "Luther_Htu" / "Luther_Htu_0001.jpg"}
    return drop


def originals(data: Path) -> list[Path]:
    drop = same_picture_duplicates(data)
    found = [p for sub in ("faces", "landmarks", "exif") for p in sorted((data / sub).rglob("*"))
             if p.suffix.lower() in SUFFIXES and p not in drop]
    return found


# ---- transforms ------------------------------------------------------------------------------------------
def _font(size: int):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    return ImageFont.load_default(size=max(8, size))


def _caption(im, rng, text="ДІТИ ЕВАКУЙОВАНІ / children evacuated"):  # type: ignore[no-untyped-def]
    from PIL import ImageDraw

    im = im.copy()
    draw = ImageDraw.Draw(im)
    size = im.height // 12
    y = int(im.height * rng.uniform(0.65, 0.85))
    draw.text((im.width // 20, y), text, font=_font(size), fill=(255, 255, 255), stroke_width=max(1, size // 12),
              stroke_fill=(0, 0, 0))
    return im


def _watermark(im, rng):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = im.height // 14
    draw.text((int(im.width * 0.55), int(im.height * 0.05)), "@channel_news", font=_font(size),
              fill=(255, 255, 255, 140))
    return Image.alpha_composite(im.convert("RGBA"), layer).convert("RGB")


def _crop(im, rng, share):  # type: ignore[no-untyped-def]
    w, h = im.size
    dx, dy = int(w * share), int(h * share)
    left, top = int(rng.integers(0, dx + 1)), int(rng.integers(0, dy + 1))
    return im.crop((left, top, w - (dx - left), h - (dy - top)))


def _border(im, rng):  # type: ignore[no-untyped-def]
    from PIL import ImageOps

    return ImageOps.expand(im, border=max(im.size) // 12, fill=(255, 255, 255) if rng.random() < 0.5 else (0, 0, 0))


def _screenshot(im, rng):  # type: ignore[no-untyped-def]
    """A phone screenshot: the picture scaled to the screen width on a dark page with a status bar and text."""
    from PIL import Image, ImageDraw

    screen = Image.new("RGB", (1080, 2340), (18, 18, 18))
    scale = 1080 / im.width
    shown = im.resize((1080, max(1, int(im.height * scale))), Image.Resampling.BICUBIC)
    top = int(rng.integers(300, 700))
    screen.paste(shown, (0, top))
    draw = ImageDraw.Draw(screen)
    draw.text((40, 30), "12:41   4G  87%", font=_font(40), fill=(230, 230, 230))
    draw.text((40, top - 120), "Новини · 2 год", font=_font(48), fill=(230, 230, 230))
    draw.text((40, top + shown.height + 40), "1.2K views   Share   Comment", font=_font(44), fill=(200, 200, 200))
    return screen.resize((540, 1170), Image.Resampling.BILINEAR)


def _gamma_colour(im, rng):  # type: ignore[no-untyped-def]
    from PIL import Image

    a = np.asarray(im, dtype=np.float64) / 255.0
    gamma = rng.choice([0.6, 1.6])
    gains = np.array([1.12, 1.0, 0.85]) if rng.random() < 0.5 else np.array([0.88, 1.0, 1.15])
    return Image.fromarray(np.clip(a ** gamma * gains * 255.0, 0, 255).astype(np.uint8))


def _resize(im, factor):  # type: ignore[no-untyped-def]
    from PIL import Image

    return im.resize((max(1, round(im.width * factor)), max(1, round(im.height * factor))), Image.Resampling.BICUBIC)


TRANSFORMS = {
    "resize 0.25x": lambda im, rng: _resize(im, 0.25),
    "resize 0.5x": lambda im, rng: _resize(im, 0.5),
    "resize 2x": lambda im, rng: _resize(im, 2.0),
    "JPEG q30": lambda im, rng: im,
    "JPEG q95": lambda im, rng: im,
    "crop 5%": lambda im, rng: _crop(im, rng, 0.05),
    "crop 10%": lambda im, rng: _crop(im, rng, 0.10),
    "crop 20%": lambda im, rng: _crop(im, rng, 0.20),
    "crop 30%": lambda im, rng: _crop(im, rng, 0.30),
    "mirror": lambda im, rng: im.transpose(0),          # FLIP_LEFT_RIGHT
    "rotate 90": lambda im, rng: im.transpose(4),       # ROTATE_270 (turn clockwise)
    "border": _border,
    "caption text": _caption,
    "watermark": _watermark,
    "screenshot": _screenshot,
    "gamma/colour": _gamma_colour,
    "crop 10%+caption+0.5x+q50": lambda im, rng: _resize(_caption(_crop(im, rng, 0.10), rng), 0.5),
}
QUALITY = {"JPEG q30": 30, "JPEG q95": 95, "crop 10%+caption+0.5x+q50": 50}


def cached_local_features(path: Path, cache: Path = CACHE) -> LocalFeatures:
    """An original's local features, kept in `cache` under a hash of its bytes and LOCAL_VERSION, so a re-run
    after a change to verification or search only (not extraction) skips the extraction of every original."""
    import hashlib
    import os

    from osint.hashing.local import LOCAL_VERSION, LocalFeatures, local_features

    key = hashlib.sha256(LOCAL_VERSION.encode() + b"\0" + Path(path).read_bytes()).hexdigest()
    stored = cache / f"{key}.npz"
    if stored.is_file():
        return LocalFeatures.from_bytes(stored.read_bytes())
    found = local_features(path)
    cache.mkdir(parents=True, exist_ok=True)
    part = stored.with_suffix(f".{os.getpid()}.part")
    part.write_bytes(found.to_bytes())
    part.replace(stored)
    return found


def _check(pair):  # type: ignore[no-untyped-def]
    return _LOCAL.check(pair)


def make_copy(job: tuple[str, str, int, str, bool]):  # type: ignore[no-untyped-def]
    """Write one transformed copy (JPEG), hash it and (with `local`) search its local features among the
    originals: (original, transform, seed, folder, local) -> (MediaHashes, local links or None, seconds)."""
    from PIL import Image

    from osint.hashing import hash_file
    from osint.hashing.local import local_features
    from osint.media import load_image

    original, name, seed, folder, local = job
    rng = np.random.default_rng(seed)
    im = TRANSFORMS[name](Image.fromarray(load_image(original, max_side=WORK_SIDE)), rng)
    out = Path(folder) / f"{seed}_{name.replace(' ', '_').replace('/', '_').replace('%', '')}.jpg"
    im.save(out, quality=QUALITY.get(name, 85))
    t = time.perf_counter()
    hashes = hash_file(out)
    found = _LOCAL.similar(local_features(out)) if local else None
    return hashes, found, time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positives", type=int, default=120, help="originals to make transformed copies of")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--closest", type=int, default=3, help="closest distinct pairs to print per hash")
    parser.add_argument("--limit", type=int, default=0, help="use a random subset of this many originals (0: all)")
    parser.add_argument("--local", action=argparse.BooleanOptionalAction, default=True,
                        help="crop-robust links from local features (osint.hashing.local)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    from PIL import Image

    from osint.hashing import ALGORITHMS, BITS, HashSet, Thresholds, compare, hash_file
    from osint.pipeline import PoolExecutor

    from osint.hashing.local import LocalSet

    t0 = time.time()
    files = originals(DATA)
    if args.limit:
        files = sorted(np.random.default_rng(1).choice(files, min(args.limit, len(files)), replace=False).tolist())
    hashes, failed = {}, {}
    for path, result, error in PoolExecutor(args.workers).run(hash_file, files):
        if error:
            failed[path] = error
        else:
            hashes[str(path)] = result
    print(f"{len(hashes)} distinct originals hashed ({len(failed)} unreadable: "
          f"{', '.join(p.name for p in failed)}) in {time.time() - t0:.0f} s")
    global _LOCAL
    local_set = None
    same_photo: dict[str, set[str]] = {}
    n_distinct_wrong = 0
    if args.local:
        t = time.time()
        # in the originals' order, not the workers' finishing order: the vocabulary is sampled from the features
        # in this order, so a run's index (and which copies reach a shortlist) would otherwise vary run to run
        done = {str(path): result for path, result, error in PoolExecutor(args.workers).run(cached_local_features, files)
                if not error and str(path) in hashes}
        feats = {str(path): done[str(path)] for path in files if str(path) in done}
        t_feat = time.time() - t
        local_set = _LOCAL = LocalSet(feats)
        t_index = time.time() - t - t_feat
        pairs = local_set.candidates()
        distinct = [lk for _, lk, error in PoolExecutor(args.workers).run(_check, pairs) if lk is not None]
        same = [lk for lk in distinct if lk.agreement >= SAME_PHOTO and lk.residual <= SAME_PHOTO_PX]
        n_distinct_wrong = len(distinct) - len(same)
        print(f"local features of {len(feats)} originals in {t_feat:.0f} s (cached in {CACHE}) ({t_feat / max(1, len(feats)) * 1e3:.0f} ms "
              f"each with {args.workers} workers), visual-word index in {t_index:.0f} s, every original's shortlist "
              f"({len(pairs):,} candidate pairs, plain and mirrored) checked in {time.time() - t - t_feat - t_index:.0f} "
              f"s: {len(distinct)} local links between distinct originals, {len(same)} of them crops of one "
              f"photograph (agreement >= {SAME_PHOTO}, residual <= {SAME_PHOTO_PX} px), {n_distinct_wrong} wrong")
        for lk in sorted(distinct, key=lambda lk: (lk in same, lk.a)):
            kind = "same photograph" if lk in same else "WRONG"
            print(f"    {kind}: {Path(lk.a).relative_to(DATA)} ~ {Path(lk.b).relative_to(DATA)}: {lk.describe()}")
        from osint.hashing.local import local_groups

        for group in local_groups(list(feats), same):
            for member in group:
                same_photo[member] = set(group)

    from osint.hashing import MIN_QUALITY

    flat = [p for p, h in hashes.items() if all(f.pdq_quality < MIN_QUALITY for f in h.frames)]
    views = sum(len(h.frames) for h in hashes.values())
    print(f"{views} views ({views - len(hashes)} border-trimmed content views); {len(flat)} originals too flat to "
          f"link (PDQ quality < {MIN_QUALITY}): {', '.join(str(Path(p).relative_to(DATA)) for p in flat)}")
    # the smallest distance between two distinct originals, per hash: the threshold is one bit below it
    wide = Thresholds(phash=24, dhash=24, pdq=100)
    near = HashSet(hashes).links(wide)
    thresholds = {}
    n_pairs = len(hashes) * (len(hashes) - 1) // 2
    for algo in ALGORITHMS:
        dist = sorted((e.distance, m.a, m.b) for m in near for e in m.evidence if e.algorithm == algo)
        thresholds[algo] = dist[0][0] - 1 if dist else wide.of(algo)
        beyond = [sum(1 for d in dist if d[0] <= thresholds[algo] + k) for k in range(1, 5)]
        print(f"{algo}: closest distinct originals at {dist[0][0] if dist else '>' + str(wide.of(algo))} "
              f"of {BITS[algo]} bits -> threshold {thresholds[algo]}; pairs within threshold+1..+4: {beyond} "
              f"of {n_pairs:,}")
        for d, a, b in dist[:args.closest]:
            print(f"    {d:3d}  {Path(a).relative_to(DATA)}  ~  {Path(b).relative_to(DATA)}")
    limits = Thresholds(**thresholds)

    sizes = {p: max(Image.open(p).size) for p in hashes if Path(p).suffix.lower() in {".jpg", ".jpeg", ".png"}}
    big = sorted(p for p, s in sizes.items() if s >= MIN_SIDE)
    rng = np.random.default_rng(0)
    chosen = sorted(rng.choice(big, size=min(args.positives, len(big)), replace=False).tolist())
    jobs = [(p, name, k * 100 + t, "", args.local) for k, p in enumerate(chosen) for t, name in enumerate(TRANSFORMS)]
    t1 = time.time()
    default = Thresholds()
    columns = (*ALGORITHMS, "any", "default any", "local", "default any+local")
    dist = {name: {c: [] for c in columns} for name in TRANSFORMS}
    wrong = {name: [0, 0, 0, 0] for name in TRANSFORMS}
    seconds: list[float] = []
    wrong_named = []
    index = HashSet(hashes)
    with tempfile.TemporaryDirectory() as folder:
        jobs = [(p, name, seed, folder, local) for p, name, seed, _, local in jobs]
        for (original, name, _, _, _), made, error in PoolExecutor(args.workers).run(make_copy, jobs):
            if error:
                print(f"  could not make {name} of {original}: {error}", file=sys.stderr)
                continue
            copy, local_hits, took = made
            local_hits = local_hits or []
            seconds.append(took)
            own = any(lk.a == original for lk in local_hits)
            dist[name]["local"].append(0 if own else 999)
            siblings = same_photo.get(original, set())
            wrong[name][3] += sum(lk.a != original and lk.a in siblings for lk in local_hits)
            wrong[name][2] += sum(lk.a not in siblings and lk.a != original for lk in local_hits)
            wrong_named += [f"{name} of {Path(original).relative_to(DATA)} ~ {Path(lk.a).relative_to(DATA)} (local: "
                            f"{lk.describe()})" for lk in local_hits if lk.a != original and lk.a not in siblings]
            match = compare(hashes[original], copy, limits)
            found = {e.algorithm: e.distance for e in match.evidence}   # empty when a side is too flat to link
            for algo in ALGORITHMS:
                dist[name][algo].append(found.get(algo, 999))
            dist[name]["any"].append(0 if match.linked else 999)
            default_linked = compare(hashes[original], copy, default).linked
            dist[name]["default any"].append(0 if default_linked else 999)
            dist[name]["default any+local"].append(0 if default_linked or own else 999)
            for k, rule in enumerate((limits, default)):
                others = [m.b for m in index.similar(copy, rule) if m.b != original]
                wrong[name][k] += len(others)
                wrong_named += [f"{name} of {Path(original).relative_to(DATA)} ~ {Path(o).relative_to(DATA)}"
                                f" ({'defaults' if k else 'zero-false-link thresholds'})" for o in others]
    print(f"{len(chosen)} originals of at least {MIN_SIDE} px x {len(TRANSFORMS)} transforms, made and hashed in "
          f"{time.time() - t1:.0f} s\n")

    head = ["transform", *[f"{a} <= {thresholds[a]}" for a in ALGORITHMS], "any", f"pdq <= {default.pdq}",
            f"any at defaults {default.phash}/{default.dhash}/{default.pdq}", "median bits p/d/q", "wrong links"]
    if local_set is not None:
        head += ["local", "**any at defaults or local**", "local wrong links", "local links to a same-photograph sibling"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in TRANSFORMS:
        row = [name]
        for algo in ALGORITHMS:
            d = np.array(dist[name][algo])
            row.append(f"{(d <= thresholds[algo]).mean():.0%}")
        row.append(f"{(np.array(dist[name]['any']) == 0).mean():.0%}")
        row.append(f"{(np.array(dist[name]['pdq']) <= default.pdq).mean():.0%}")
        row.append(f"{(np.array(dist[name]['default any']) == 0).mean():.0%}")
        row.append("/".join(f"{np.median(dist[name][a]):.0f}" for a in ALGORITHMS))
        row.append(f"{wrong[name][0]} / {wrong[name][1]}")
        if local_set is not None:
            row.append(f"{(np.array(dist[name]['local']) == 0).mean():.0%}")
            row.append(f"**{(np.array(dist[name]['default any+local']) == 0).mean():.0%}**")
            row.append(str(wrong[name][2]))
            row.append(str(wrong[name][3]))
        print("| " + " | ".join(row) + " |")
    print(f"\nrecall = share of copies within the threshold of their own original; 'any' = linked by at least one "
          f"hash; wrong links = copies within a threshold of some other original (zero-false-link thresholds / "
          f"defaults). {len(hashes)} originals, {n_pairs:,} distinct pairs, none linked at the zero-false-link "
          f"thresholds. Total {time.time() - t0:.0f} s.")
    if local_set is not None:
        print(f"local wrong links: {sum(w[2] for w in wrong.values())} from copies, {n_distinct_wrong} between distinct "
              f"originals; {sum(w[3] for w in wrong.values())} copies linked to a sibling crop of their original's "
              f"photograph (not wrong: see the same-photograph links above)")
    if seconds:
        print(f"time per copy (one worker's view): hash {'+ local features + index search ' if local_set else ''}"
              f"mean {np.mean(seconds) * 1e3:.0f} ms, median {np.median(seconds) * 1e3:.0f} ms")
    for line in wrong_named:
        print(f"  wrong link: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
