"""Library warnings are captured per call and thread, and the logger is left exactly as it was."""

from __future__ import annotations

import logging
import threading

import pytest

from osint.media import captured_log


def test_captured_log_keeps_only_this_threads_warnings(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("osint-test-lib")
    before = (logger.level, logger.propagate, list(logger.filters))
    with captured_log("osint-test-lib") as seen:
        logger.warning("odd tag in this file")
        other = threading.Thread(target=lambda: logger.warning("another file, another thread"))
        other.start()
        other.join()
    assert seen == ["odd tag in this file"]
    assert [r.getMessage() for r in caplog.records] == ["another file, another thread"]
    assert (logger.level, logger.propagate, list(logger.filters)) == before
