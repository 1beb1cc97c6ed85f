"""Captures with Debian's headless chromium (one per module): screenshots, rendered text, and the proxy."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.capture.conftest import fast
from tests.capture.site import CHANNEL, Proxy, Site


def _shot(case, record) -> Image.Image:  # type: ignore[no-untyped-def]
    data = case.derived_path(record["screenshot"]["sha256"], ".png").read_bytes()
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def test_page_screenshot_text_and_resources(case, site: Site, browser):
    from osint.capture import capture, wacz_responses

    summary = capture(case, [site.url("/news/pupils.html")], fast(browser=True), browser=browser)
    rec = next(iter(case.records("capture").values()))
    img = _shot(case, rec)
    assert img.width == 1280 and img.height > 400
    # the photo is drawn: the screenshot holds many colours, not a blank page
    assert len(img.convert("RGB").getcolors(1 << 20) or []) > 1000
    assert rec["text"].startswith("New pupils arrived\n") and rec["title"] == "Orphanage No. 3 news"
    replay = wacz_responses(case.derived_path(rec["wacz"]["sha256"], ".wacz"))
    assert replay[site.url("/static/site.css")][1] == site.routes["/static/site.css"].body  # the browser's request
    assert summary.browser_seconds > 0 and not rec["notes"]


def test_telegram_post_screenshots(case, site: Site, browser):
    from osint.capture import capture

    capture(case, [site.url(f"/s/{CHANNEL}")], fast(browser=True, since=__import__("datetime").date(2024, 3, 1)),
            browser=browser)
    caps = {d["url"]: d for d in case.records("capture").values()}
    assert sorted(caps) == [site.url(f"/{CHANNEL}/7"), site.url(f"/{CHANNEL}/9")]
    shots = {url: _shot(case, d) for url, d in caps.items()}
    album, single = shots[site.url(f"/{CHANNEL}/7")], shots[site.url(f"/{CHANNEL}/9")]
    assert album.width < 1280 and album.height > 300          # the post's element, its two photos drawn
    assert album.tobytes() != single.tobytes()


def test_every_request_goes_through_the_proxy(case, site: Site, browser):
    from osint.capture import capture

    proxy = Proxy()
    start = len(site.requests)
    try:
        capture(case, [site.url("/news/pupils.html"), site.url(f"/s/{CHANNEL}")],
                fast(browser=True, proxy=proxy.url), browser=browser)
    finally:
        proxy.close()
    seen = site.requests[start:]
    assert len(seen) >= 10
    assert all(headers.get("Via") == "1.1 test-proxy" for _, headers in seen)
    assert sorted(site.url(p) for p, _ in seen) == sorted(proxy.seen)
    assert any(p == "/static/tg.css" for p, _ in seen)       # the browser's own requests too
    assert all(d["proxy"] is True for d in case.records("capture").values())


def test_without_chromium_capture_still_works(case, site: Site, monkeypatch: pytest.MonkeyPatch):
    from osint.capture import browser as browser_mod
    from osint.capture import capture

    monkeypatch.setattr(browser_mod, "chromium_path", lambda: None)
    notes: list[str] = []
    summary = capture(case, [site.url("/news/pupils.html")], fast(browser=True), on_note=notes.append)
    rec = next(iter(case.records("capture").values()))
    assert notes == ["no screenshots: no chromium on this machine (apt-get install chromium)"]
    assert rec["screenshot"] is None and "no screenshot" in rec["notes"][0]
    assert summary.count("captured") == 1 and len(rec["items"]) == 3
