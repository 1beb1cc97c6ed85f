"""vPDQ on the real clips: time per video, and whether a re-encoded, trimmed, half-size copy links to its source.

For each clip of ../shared/data/video, writes the copy the tests use (OpenCV mp4v, 1.3 s cut from the start,
0.7 s from the end, half size) to a temporary folder, hashes source and copy with vPDQ (every frame, one
process), and prints per clip its size, frames, seconds per video and the shares of frames matched both
ways; then every pair linked among the 8 videos (`osint dupes` links: one video containing 80% of the
other's distinct frames within 31 bits), which should be exactly the 4 copy-source pairs.

    python bench/vpdq_eval.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data" / "video").resolve()


def main() -> int:
    if not DATA.is_dir():
        print(f"skipped: {DATA} is absent")
        return 0
    sys.path.insert(0, str(ROOT))
    import cv2

    from osint.hashing.vpdq import vpdq_available, vpdq_hash, vpdq_links, vpdq_match
    from tests.hashing.test_video_copies import CLIPS, reencode

    if not vpdq_available():
        print("skipped: the vpdq package is not installed (pip install 'osint[vpdq]')")
        return 0
    print("| clip | size | seconds | frames (copy) | vPDQ s per video (copy) | copy's frames in source | "
          "source's in copy | linked |")
    print("|---|---|---|---|---|---|---|---|")
    hashed, total, videos = {}, 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for k, clip in enumerate(CLIPS):
            src = DATA / clip
            cap = cv2.VideoCapture(str(src))
            size = f"{int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}"
            cap.release()
            copy = reencode(src, Path(tmp) / f"copy{k}.mp4", start_s=1.3, end_cut_s=0.7, scale=0.5)
            times = []
            for name, path in ((clip, src), (f"copy of {clip}", copy)):
                t = time.perf_counter()
                hashed[name] = vpdq_hash(path)
                times.append(time.perf_counter() - t)
            total, videos = total + sum(times), videos + 2
            a, b = hashed[clip], hashed[f"copy of {clip}"]
            m = vpdq_match(a, b)
            print(f"| {clip} | {size} | {a[-1].t:.1f} | {len(a)} ({len(b)}) | {times[0]:.2f} ({times[1]:.2f}) | "
                  f"{m.b_percent:.0f}% | {m.a_percent:.0f}% | {'yes' if m.linked else 'NO'} |")
    print(f"\n{videos} videos hashed in {total:.1f} s, {total / videos:.2f} s per video on average")
    links = vpdq_links(hashed)
    for lk in links:
        print(f"linked: {lk.a} ~ {lk.b}: {lk.describe()}")
    wrong = [lk for lk in links if lk.a.removeprefix("copy of ") != lk.b.removeprefix("copy of ")]
    print(f"{len(links) - len(wrong)} of {len(CLIPS)} copies linked to their source, {len(wrong)} wrong links")
    return 0


if __name__ == "__main__":
    sys.exit(main())
