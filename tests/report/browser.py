"""Headless Debian chromium driven by Playwright (never downloads a browser): skips where either is missing."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless browser, or a pytest skip when chromium or Playwright is absent."""
    if not CHROMIUM:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield browser
        finally:
            browser.close()


class Page:
    """A report opened in a fresh page, recording every request, console error and dialog it causes."""

    def __init__(self, browser: Any, path: Path, width: int = 1400, height: int = 1000):
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("dialog", lambda d: (self.errors.append(f"dialog: {d.message}"), d.dismiss()))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)

    def wait(self, expression: str, timeout: float = 20.0) -> None:
        """Poll a JS expression until true (wait_for_function would need eval, which the page's CSP forbids)."""
        end = time.monotonic() + timeout
        while not self.page.evaluate(expression):
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {expression}")
            time.sleep(0.05)

    def network(self) -> list[str]:
        """Requests other than the report file itself (data: images never show up as requests)."""
        return [u for u in self.requests if not u.startswith("file://")]

    def decoded(self, selector: str) -> list[int]:
        """naturalWidth of every image matching `selector` (0: failed to decode)."""
        return self.page.eval_on_selector_all(selector, "els => els.map(e => e.complete ? e.naturalWidth : -1)")
