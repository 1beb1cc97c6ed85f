"""Stills cut from real clips BETWEEN keyframes: do they link to their clip, at the exact frame, and never to another?

    python bench/video_stills.py                 # every clip in ../shared/data/video, 5 stills each, 5 variants
    python bench/video_stills.py --per-clip 3    # fewer stills

For each clip the keyframes are the hash stage's (first frame, scene changes, one every second); a still is the
frame halfway between two consecutive keyframes (spread over the clip; a quarter of the way where a clip has
fewer gaps than stills wanted), saved as: plain (PNG), cropped 10-20%
(a share drawn per still, the crop placed off-centre), captioned (a line of white text with a black outline
across its lower quarter, PNG), rescaled 0.5x (PNG) and JPEG quality 60. The stills of one variant are
searched against the keyframes of all clips at once (osint.hashing.video_links, what `osint dupes` runs) and
refined to a frame. Prints per variant: stills linked to their clip, at the exact frame, within 1 frame, wrong
links (a still linked to another clip) and seconds per still (its features, the search, the refinement; the
keyframes' features are computed once per clip, as the case keeps them).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

VARIANTS = ("plain", "cropped 10-20%", "captioned", "rescaled 0.5x", "JPEG 60")


def stills_between_keyframes(clip: Path, keyframes: tuple[int, ...], count: int) -> dict[int, np.ndarray]:
    """`count` frames (index: RGB) between two consecutive keyframes, spread over the clip: halfway between them,
    and where the clip has fewer gaps than `count`, a quarter of the way too."""
    from osint.media.video import frames_between

    gaps = [(a, b) for a, b in zip(keyframes, keyframes[1:]) if b - a >= 4]
    want: set[int] = set()
    for where in (0.5, 0.25):
        spots = [a + int((b - a) * where) for a, b in gaps]
        left = min(count - len(want), len(spots))
        want |= {spots[round(k)] for k in np.linspace(0, len(spots) - 1, left)} if left > 0 else set()
    return {f.index: f.image for f in frames_between(clip, 0.0, float("inf")) if f.index in want}


def variant(rgb: np.ndarray, kind: str, rng: np.random.Generator, dest: Path) -> Path:
    """Write one variant of a still to `dest` (suffix chosen here); return its path."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.fromarray(rgb)
    w, h = im.size
    if kind == "cropped 10-20%":
        share = rng.uniform(0.10, 0.20)
        left, top = int(w * share * rng.uniform(0.2, 0.8)), int(h * share * rng.uniform(0.2, 0.8))
        im = im.crop((left, top, left + int(w * (1 - share)), top + int(h * (1 - share))))
    elif kind == "captioned":
        ImageDraw.Draw(im).text((w * 0.05, h * 0.78), "ДІТИ ЕВАКУЙОВАНІ", fill=(255, 255, 255), stroke_width=2,
                                stroke_fill=(0, 0, 0), font=ImageFont.load_default(size=max(12, h // 12)))
    elif kind == "rescaled 0.5x":
        im = im.resize((w // 2, h // 2), Image.Resampling.BICUBIC)
    if kind == "JPEG 60":
        path = dest.with_suffix(".jpg")
        im.save(path, quality=60)
    else:
        path = dest.with_suffix(".png")
        im.save(path)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-clip", type=int, default=5, help="stills per clip (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from osint.hashing import local_features, video_links, video_local

    clips = sorted(p for p in (DATA / "video").rglob("*") if p.suffix.lower() in (".mp4", ".avi"))
    if not clips:
        sys.exit("../shared/data/video is not present")
    rng = np.random.default_rng(args.seed)
    videos, truth = {}, {}
    started = time.perf_counter()
    for clip in clips:
        name = str(clip.relative_to(DATA / "video"))
        videos[name] = video_local(clip)
        truth[name] = stills_between_keyframes(clip, videos[name].index, args.per_clip)
        print(f"{name}: {len(videos[name].t)} keyframes at frames {list(videos[name].index)}; stills at frames "
              f"{sorted(truth[name])}", flush=True)
    print(f"keyframe features of {len(clips)} clips: {time.perf_counter() - started:.1f} s")
    path_of = {str(c.relative_to(DATA / "video")): c for c in clips}.__getitem__
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in VARIANTS:
            wanted = {f"{clip}#{index}": (clip, index, variant(rgb, kind, rng, Path(tmp) / f"{Path(clip).stem}-{index}"))
                      for clip, stills in truth.items() for index, rgb in stills.items()}
            t0 = time.perf_counter()     # the still's features, the search among all keyframes, the refinement
            links = video_links({name: local_features(path) for name, (_, _, path) in wanted.items()}, videos, path_of)
            seconds = time.perf_counter() - t0
            n, wrong = len(wanted), sum(lk.a != wanted[lk.b][0] for lk in links)
            mine = {lk.b: lk for lk in links if lk.a == wanted[lk.b][0]}
            linked, exact = len(mine), sum(lk.frame_a == wanted[name][1] for name, lk in mine.items())
            near = sum(abs(int(lk.frame_a or 0) - wanted[name][1]) <= 1 for name, lk in mine.items())
            misses = [f"{Path(name).name}: {'frame %s' % mine[name].frame_a if name in mine else 'not linked'}"
                      for name in wanted if name not in mine or mine[name].frame_a != wanted[name][1]]
            rows.append((kind, n, linked, exact, near, wrong, seconds / max(n, 1)))
            print(f"{kind}: {linked}/{n} linked, {exact} exact, {near} within 1 frame, {wrong} wrong; "
                  f"{seconds / max(n, 1):.2f} s/still; {'; '.join(misses) or 'no miss'}", flush=True)
    print("\n| still | stills | linked to its clip | exact frame | within 1 frame | wrong links | s/still |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, n, linked, exact, near, wrong, sec in rows:
        print(f"| {kind} | {n} | {linked} | {exact} | {near} | {wrong} | {sec:.2f} |")


if __name__ == "__main__":
    main()
