"""The local test site (127.0.0.1 only, never the internet) and one browser per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.capture.site import Site


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    s = Site()
    yield s
    s.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One headless Debian chromium for the module; skips where chromium or Playwright is absent."""
    from osint.capture.browser import Browser, chromium_path

    if not chromium_path():
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    b = Browser(None)
    yield b
    b.close()


def fast(**kw: object):  # type: ignore[no-untyped-def]
    """Capture options for the local site: private addresses allowed, no rate limit, short timeouts."""
    from osint.capture import CaptureOptions, NetOptions

    net = {"allow_private": True, "rate": 0.0, "read_timeout": 2.0, "total_timeout": 3.0, "max_bytes": 4 << 20}
    net |= {k: v for k, v in kw.items() if k in NetOptions.__dataclass_fields__}
    rest = {k: v for k, v in kw.items() if k not in NetOptions.__dataclass_fields__}
    return CaptureOptions(net=NetOptions(**net), **{"collector": "volunteer-17", "browser": False, **rest})
