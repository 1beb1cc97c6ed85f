"""Headless Chromium for captures: Debian's `chromium` driven by Playwright (never `playwright install`).

The browser never opens a connection of its own: every request it makes is intercepted and answered by
the capture's `Fetcher` (so the proxy, the rate limit, the address checks and the size limit apply, and the
exchange lands in the WARC), or from what was already fetched. Chromium's own proxy is set to the capture's
proxy, or to a closed local port, so anything the interception missed fails instead of going out directly.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from osint.capture.net import CaptureError, Fetched, Fetcher

PAGE_RESOURCE_LIMIT = 64 << 20
NO_PROXY = "http://127.0.0.1:9"       # the discard port: nothing listens, so a stray request fails at once


def chromium_path() -> str | None:
    """Debian's chromium, if installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_versions() -> dict[str, str]:
    """Playwright's version (chromium's is added once a browser is launched)."""
    try:
        from importlib.metadata import version

        return {"playwright": version("playwright")}
    except Exception:  # noqa: BLE001 - not installed is simply not listed
        return {}


@dataclass(frozen=True)
class Rendered:
    """What the browser saw: title, visible text, media URLs in the DOM, screenshots by selector ('' = page)."""

    title: str
    text: str
    media: tuple[str, ...]
    screenshots: dict[str, bytes] = field(default_factory=dict)
    seconds: float = 0.0
    problems: tuple[str, ...] = ()


class Browser:
    """One launched headless Chromium, reused for every page of a capture run."""

    def __init__(self, proxy: str | None, timeout_s: float = 60.0):
        from playwright.sync_api import sync_playwright

        path = chromium_path()
        if not path:
            raise CaptureError("no chromium on this machine (apt-get install chromium)")
        self.timeout_ms = timeout_s * 1000
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=path, proxy={"server": proxy or NO_PROXY},
                args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run",
                      "--disable-domain-reliability", "--disable-breakpad"])
        except BaseException:
            self._pw.stop()
            raise
        self.version = f"chromium {self._browser.version}"

    def close(self) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def render(self, url: str, fetcher: Fetcher, cache: dict[str, Fetched], selectors: tuple[str, ...] = ("",),
               width: int = 1280) -> Rendered:
        """Load `url` answering every request from `cache` or through `fetcher`; screenshot the whole page
        ('' in `selectors`) and each selector's element."""
        started = time.monotonic()
        problems: list[str] = []
        context = self._browser.new_context(viewport={"width": width, "height": 900}, service_workers="block",
                                            user_agent=fetcher.options.user_agent, java_script_enabled=True)
        try:
            context.route("**/*", _router(fetcher, cache, problems))
            page = context.new_page()
            page.set_default_timeout(self.timeout_ms)
            try:
                page.goto(url, wait_until="load", timeout=self.timeout_ms)
            except Exception as exc:  # noqa: BLE001 - a page that never finishes loading is still shot
                problems.append(f"page did not finish loading: {str(exc).splitlines()[0][:160]}")
            shots: dict[str, bytes] = {}
            for sel in selectors:
                try:
                    if sel:
                        shots[sel] = page.locator(sel).first.screenshot(timeout=self.timeout_ms)
                    else:
                        shots[sel] = page.screenshot(full_page=True, timeout=self.timeout_ms)
                except Exception as exc:  # noqa: BLE001 - one missing element costs only its screenshot
                    problems.append(f"no screenshot of {sel or 'the page'}: {str(exc).splitlines()[0][:160]}")
            title = page.title()
            text = page.evaluate("() => document.body ? document.body.innerText : ''")
            media = page.evaluate(
                "() => [...document.querySelectorAll('img, video, video source')]"
                ".map(e => e.currentSrc || e.src).filter(u => u && /^https?:/.test(u))")
        finally:
            context.close()
        return Rendered(title, text, tuple(dict.fromkeys(media)), shots, time.monotonic() - started, tuple(problems))


def _router(fetcher: Fetcher, cache: dict[str, Fetched], problems: list[str]) -> Callable[[Any], None]:
    def handle(route: Any) -> None:
        url = route.request.url
        if route.request.method not in ("GET", "HEAD") or not url.startswith(("http://", "https://")):
            route.abort()
            return
        got = cache.get(url)
        if got is not None and got.size > PAGE_RESOURCE_LIMIT:   # a big video already stored: the player is enough
            route.abort()
            return
        if got is None:
            try:
                got = fetcher.fetch(url, limit=PAGE_RESOURCE_LIMIT, ok_only=False)
            except CaptureError as exc:
                problems.append(f"browser request {url}: {exc}")
                route.abort()
                return
            cache[url] = got
        headers = {k: v for k, v in got.headers if k.lower() not in ("content-length", "transfer-encoding")}
        route.fulfill(status=got.status, headers=headers, body=got.read())
    return handle


@contextmanager
def maybe_browser(wanted: bool, proxy: str | None, on_note: Callable[[str], None]) -> Iterator[Browser | None]:
    """A launched Browser, or None (saying why) when it is not wanted, chromium is absent or will not start."""
    if not wanted:
        yield None
        return
    try:
        browser = Browser(proxy)
    except Exception as exc:  # noqa: BLE001 - no browser means captures without screenshots, said once
        on_note(f"no screenshots: {str(exc).splitlines()[0][:200]}")
        yield None
        return
    try:
        yield browser
    finally:
        browser.close()
