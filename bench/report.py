"""How big and how fast the review report is for many candidates, with real face photos as crops and frames.

Face crops are made as the face stage makes them (160 px JPEG, quality 88) from ../shared/data/faces, and
context thumbnails at 640 px (quality 85), `--per-context` faces per context photo. Prints write time, file
size, bytes per candidate and, where Debian's chromium and Playwright are installed, the time until the page
is ready in headless chromium and the time to turn a page.

    python bench/report.py                   # 1,000 and 5,000 candidates
    python bench/report.py --sizes 20000     # a very large case
"""

from __future__ import annotations

import argparse
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from osint.report import Candidate, Person, ReportData, candidate_id, write_report

FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "faces" / "images"


def _jpeg(img: Image.Image, side: int, quality: int) -> bytes:
    img = img.copy()
    img.thumbnail((side, side))
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def report_data(n: int, photos: list[Path], per_context: int) -> ReportData:
    """`n` candidates over 10 persons; every crop and context is a distinct real photo (cycling if needed)."""
    images: dict[str, bytes] = {}
    cands = []
    cache: dict[int, tuple[bytes, bytes]] = {}
    for i in range(n):
        k = i % len(photos)
        if k not in cache:
            with Image.open(photos[k]) as img:
                w, h = img.size
                face = img.crop((w // 4, h // 5, 3 * w // 4, 4 * h // 5)).resize((160, 160))
                cache[k] = (_jpeg(face, 160, 88), _jpeg(img.resize((640, 640)), 640, 85))
        images[f"crop{i}"], images[f"ctx{i // per_context}"] = cache[k]
        person, item = f"p{i % 10}", f"{i // per_context:064x}"
        cands.append(Candidate(candidate_id(person, item, i % per_context, None), person, item, i % per_context,
                               0.4 + (i % 100) / 500, 0.6, 0.001, "fused", ref_crop=f"crop{i % 10}",
                               found_crop=f"crop{i}", context=f"ctx{i // per_context}", name=photos[k].name))
    persons = tuple(Person(f"p{j}", f"Person {j}", (f"crop{j}",)) for j in range(10))
    return ReportData("bench", "bench", persons, tuple(sorted(cands, key=lambda c: (c.person, c.distance))),
                      images=images)


def open_in_chromium(path: Path) -> tuple[float, float] | None:
    """Seconds until the page is ready, and to draw the next page of candidates; None without a browser."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not chromium:
        return None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page()
        start = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector("body[data-ready='1']", timeout=120_000)
        ready = time.perf_counter() - start
        start = time.perf_counter()
        page.keyboard.press("n")
        page.locator(".card").first.wait_for()
        turn = time.perf_counter() - start
        browser.close()
    return ready, turn


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,5000", help="candidate counts, comma-separated")
    ap.add_argument("--per-context", type=int, default=3, help="faces per context photo")
    args = ap.parse_args()
    if not FACES.is_dir():
        print(f"skipped: {FACES} is not present")
        return 0
    photos = sorted(FACES.rglob("*.jpg"))
    print(f"{len(photos)} face photos; {args.per_context} candidates per context photo")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            data = report_data(n, photos, args.per_context)
            start = time.perf_counter()
            out = write_report(data, Path(tmp) / f"r{n}.html")
            took = time.perf_counter() - start
            line = (f"{n:>6} candidates: {out.images} images, {out.size / 1e6:6.1f} MB "
                    f"({out.size / n / 1e3:.1f} kB per candidate), written in {took:.2f} s")
            opened = open_in_chromium(out.path)
            if opened:
                line += f"; chromium ready in {opened[0]:.2f} s, next page in {opened[1] * 1000:.0f} ms"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
