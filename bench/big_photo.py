"""Peak memory and time of each stage on one very large photo: `python bench/big_photo.py [--mpx 150]`.

The photo is a real camera JPEG from ../shared/data/exif enlarged to the requested size (a generated
gradient where the data set is absent), written at quality 90. Each step runs in a fresh process so its peak
RSS is its own: ingest's check (JPEG decoded at 1/8 scale), hashing (decoded at reduced scale to 256 px), a
full decode (what face detection starts from) and the whole face analysis.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
STEPS = {
    "probe (add: 1/8-scale decode)": "from osint.media import probe; probe(P)",
    "hash (reduced decode to 256 px)": "from osint.hashing import hash_file; hash_file(P)",
    "full decode (load_image)": "from osint.media import load_image; load_image(P)",
    "faces (analyse_file)": "from osint.facematch.analyse import analyse_file; analyse_file(P)",
}


def make_photo(path: Path, megapixels: float) -> tuple[int, int]:
    from PIL import Image

    sources = sorted((DATA / "exif" / "exif-samples" / "jpg").glob("*.jpg"))
    base = Image.open(sources[0]).convert("RGB") if sources else Image.linear_gradient("L").convert("RGB")
    ratio = base.width / base.height
    height = int((megapixels * 1e6 / ratio) ** 0.5)
    width = int(height * ratio)
    base.resize((width, height), Image.Resampling.BILINEAR).save(path, quality=90)
    return width, height


def measure(code: str, path: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of `code` run in a fresh Python with P bound to the photo's path."""
    script = ("import re, time; from pathlib import Path; P = Path(%r); t = time.perf_counter(); %s; "
              "print(time.perf_counter() - t, re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1])"
              ) % (str(path), code)  # VmHWM: this process's peak (ru_maxrss would carry the parent's over fork)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seconds, kib = done.stdout.split()[-2:]
    return float(seconds), int(kib) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mpx", type=float, default=150.0, help="Megapixels of the test photo (default 150).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.jpg"
        width, height = make_photo(path, args.mpx)
        print(f"photo: {width} x {height} = {width * height / 1e6:.1f} Mpx, {path.stat().st_size / 1e6:.1f} MB JPEG")
        baseline = measure("import osint.media, osint.hashing, osint.facematch.analyse", path)[1]
        print(f"python + osint imports alone: {baseline:.0f} MiB peak")
        for name, code in STEPS.items():
            start = time.perf_counter()
            seconds, peak = measure(code, path)
            print(f"{name:34s} {seconds:6.1f} s  peak RSS {peak:6.0f} MiB  (process {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
