"""Capture speed from a local web site: `python bench/capture.py [--posts 200] [--photos 100]`.

Starts the test site of tests/capture (127.0.0.1 only) with a Telegram-shaped channel of --posts posts (20 a
page, 1 to 3 photos each, real photos from ../shared/data/faces where present), then captures it into a fresh
case twice: without a browser, and with Debian's chromium (one launch; a screenshot of every post). Prints
pages, posts and media per second, bytes, and the share of time spent in the browser. Rate limit off.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from osint.capture import CaptureOptions, NetOptions, capture
    from osint.capture.browser import chromium_path
    from osint.case import Case
    from tests.capture.site import Site

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--posts", type=int, default=200)
    ap.add_argument("--photos", type=int, default=100)
    args = ap.parse_args()
    site = Site(big=args.posts, big_photos=args.photos)
    try:
        modes = [False] + ([True] if chromium_path() else [])
        for browser in modes:
            with tempfile.TemporaryDirectory() as tmp:
                case = Case.create(Path(tmp) / "case", actor="bench")
                options = CaptureOptions(net=NetOptions(allow_private=True, rate=0), collector="bench",
                                         browser=browser)
                start = len(site.requests)
                t0 = time.perf_counter()
                summary = capture(case, [site.url("/s/big")], options)
                wall = time.perf_counter() - t0
                pages = sum(1 for p, _ in site.requests[start:] if p.startswith("/s/big"))
                media = sum(len(o.media) for o in summary.outcomes)
                print(f"{'with chromium' if browser else 'no browser':>14}: {summary.count('captured')} posts, "
                      f"{pages} pages, {media} media, {summary.requests} requests, {summary.bytes / 1e6:.1f} MB "
                      f"in {wall:.1f} s: {pages / wall:.2f} pages/s, {summary.count('captured') / wall:.1f} posts/s, "
                      f"{media / wall:.1f} media/s; browser {summary.browser_seconds:.1f} s "
                      f"({summary.browser_seconds / wall:.0%}); {len(case.items())} items stored, "
                      f"failed {summary.failed}")
                case.close()
    finally:
        site.close()
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB (this process)")


if __name__ == "__main__":
    main()
