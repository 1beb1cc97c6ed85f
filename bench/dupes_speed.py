"""How long `osint dupes` and `osint report` take on a case of a few hundred real photos with reposts and stills.

The case: `--photos` face photos from ../shared/data/faces, `--reposts` of them cropped 10% with a caption and as
many cropped and mirrored, and `--stills` stills per clip (frames halfway between two keyframes, cropped 15%) of
two clips of ../shared/data/video. Prints the seconds of `osint hash`, the first `osint dupes` (features and links
computed), the second (everything stored), `osint report`, and where one grouping (`repost_groups`) spends its
time: the repost index, the shortlists, verification (of which the pixel check) and the still-to-frame search (of
which decoding), and how many pairs it verified.

    nice -n 10 python bench/dupes_speed.py                 # 300 photos, 40 + 40 reposts, 3 stills per clip
    nice -n 10 python bench/dupes_speed.py --photos 100
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CLIPS = (DATA / "video" / "hamilton" / "short_hamilton_clip.mp4", DATA / "video" / "facenet_pytorch" / "video.mp4")
sys.path.insert(0, str(ROOT))

PHASES = {  # (module file, function) -> the phase it stands for
    ("features.py", "build"): "repost index (vocabulary, words)",
    ("local.py", "candidates"): "shortlists (photo pairs)",
    ("local.py", "match_pair"): "verification (RANSAC + pixel check)",
    ("local.py", "_agreement"): "  of which the pixel check",
    ("stills.py", "video_links"): "still-to-frame search",
    ("stills.py", "at_frame"): "  of which the frame refinement",
    ("video.py", "frames_between"): "  of which decoding frames",
}


def make_case(folder: Path, photos: int, reposts: int, stills: int) -> list[Path]:
    """The files of the case: photos, their reposts and the clips' stills (written under `folder`)."""
    from PIL import Image, ImageDraw, ImageFont, ImageOps

    from osint.hashing import video_local
    from osint.media.video import frames_between

    faces = sorted((DATA / "faces" / "images").rglob("*.jpg"))[::7][:photos]
    files = list(faces)
    rng = np.random.default_rng(0)
    out = folder / "files"
    out.mkdir()
    for k, src in enumerate(faces[:2 * reposts]):
        with Image.open(src) as im:
            w, h = im.size
            left, top = int(w * 0.1 * rng.uniform()), int(h * 0.1 * rng.uniform())
            copy = im.convert("RGB").crop((left, top, left + int(w * 0.9), top + int(h * 0.9)))
            if k < reposts:
                ImageDraw.Draw(copy).text((4, copy.height * 0.8), "ДІТИ", fill=(255, 255, 255), stroke_width=1,
                                          stroke_fill=(0, 0, 0), font=ImageFont.load_default(size=14))
            else:
                copy = ImageOps.mirror(copy)
            copy.save(out / f"repost{k}.jpg", quality=80)
            files.append(out / f"repost{k}.jpg")
    for clip in CLIPS:
        keys = video_local(clip).index
        want = {a + (b - a) // 2 for a, b in list(zip(keys, keys[1:]))[:stills]}
        for f in frames_between(clip, 0.0, float("inf")):
            if f.index in want:
                im = Image.fromarray(f.image)
                w, h = im.size
                im.crop((int(w * 0.07), int(h * 0.05), int(w * 0.92), int(h * 0.9))).save(
                    out / f"{clip.stem}-{f.index}.jpg", quality=85)
                files.append(out / f"{clip.stem}-{f.index}.jpg")
        files.append(clip)
    return files


def osint(*args: str) -> float:
    """Run `osint ARGS`; the seconds it took."""
    start = time.perf_counter()
    subprocess.run([str(Path(sys.executable).with_name("osint")), *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def _db_mb(case_dir: Path) -> float:
    return sum(f.stat().st_size for f in case_dir.glob("case.db*")) / 1e6


def kept(case_dir: Path) -> str:
    """How many pair outcomes the case keeps, per kind, and the size of the custody entries that logged them."""
    from osint.case import Case
    from osint.hashing.local import PAIR_STAGE, PAIR_VERSION
    from osint.hashing.stills import FIT_STAGE, FIT_VERSION, FRAME_STAGE, FRAME_VERSION

    stages = ((PAIR_STAGE, PAIR_VERSION), (FIT_STAGE, FIT_VERSION), (FRAME_STAGE, FRAME_VERSION))
    with Case.open(case_dir) as case:
        counts = [f"{len(case.results(s, v))} {s}" for s, v in stages]
        logged = [len(raw) for _, raw, _ in case.custody_rows()
                  if any(f'"action":"analyse:{s}"' in raw for s, _ in stages)]
    return f"{', '.join(counts)} in {len(logged)} custody entries of {sum(logged) / 1e6:.1f} MB"


def profile(case_dir: Path) -> None:
    """One grouping in this process under cProfile: seconds per phase, pairs verified, groups."""
    from osint.case import Case
    from osint.hashing import local, repost_groups

    calls = {"n": 0}
    verify = local.match_pair

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return verify(*args, **kwargs)

    local.match_pair = counted       # LocalSet.check calls it through the module
    prof = cProfile.Profile()
    with Case.open(case_dir) as case:
        start = time.perf_counter()
        prof.enable()
        _, groups = repost_groups(case)
        prof.disable()
        took = time.perf_counter() - start
    local.match_pair = verify
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    print(f"  one grouping in process: {took:.1f} s, {len(groups)} groups, {calls['n']} photo pairs verified")
    rows = {(Path(path).name, name): row for (path, _, name), row in stats.items()}
    for where, phase in PHASES.items():
        if where in rows:
            print(f"    {phase:<40} {rows[where][3]:7.1f} s  ({rows[where][1]} calls)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--photos", type=int, default=300)
    ap.add_argument("--reposts", type=int, default=40, help="captioned crops, and as many mirrored crops")
    ap.add_argument("--stills", type=int, default=3, help="stills per clip")
    args = ap.parse_args()
    if not (DATA / "faces" / "images").is_dir() or not all(c.exists() for c in CLIPS):
        print(f"skipped: {DATA} lacks the faces or the clips")
        return 0
    with tempfile.TemporaryDirectory(prefix="osint-dupes-speed-") as tmp:
        folder = Path(tmp)
        files = make_case(folder, args.photos, args.reposts, args.stills)
        case = folder / "case"
        osint("init", str(case))
        osint("add", "-C", str(case), *map(str, files))
        print(f"{len(files)} items: {args.photos} photos, {2 * args.reposts} reposts, "
              f"{len(files) - args.photos - 2 * args.reposts - len(CLIPS)} stills, {len(CLIPS)} clips")
        print(f"  osint hash:          {osint('hash', '-C', str(case), '-w', '1'):6.1f} s")
        before = _db_mb(case)
        print(f"  osint dupes, first:  {osint('dupes', '-C', str(case), '-w', '1'):6.1f} s (features computed)")
        print(f"  osint dupes, second: {osint('dupes', '-C', str(case), '-w', '1'):6.1f} s")
        print(f"  kept: {kept(case)}; case.db {before:.1f} MB before the first dupes, {_db_mb(case):.1f} MB after")
        print(f"  osint report:        {osint('report', '-C', str(case), '-o', str(folder / 'r.html')):6.1f} s")
        profile(case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
