"""The report in a real headless chromium: crops, scores and groups render, blur, keys, export, no network."""

from __future__ import annotations

import json
from pathlib import Path

from osint.report import PAGE_SIZE, write_report
from tests.report.browser import Page, chromium
from tests.report.synthetic import report_data

HOSTILE = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>.jpg"


def test_report_renders_offline_and_records_decisions_by_keyboard(tmp_path: Path) -> None:
    out = write_report(report_data(40, hostile_name=HOSTILE), tmp_path / "report.html")
    with chromium() as browser:
        view = Page(browser, out.path)
        page = view.page
        page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        for card in page.locator(".card").all():                           # images load lazily, on view
            card.scroll_into_view_if_needed()
        view.wait("[...document.querySelectorAll('.card img')].every(i => i.complete)")
        page.evaluate("window.scrollTo(0, 0)")
        assert page.locator(".card").count() == PAGE_SIZE
        widths = view.decoded(".card .crop img")
        assert len(widths) == 2 * PAGE_SIZE and min(widths) == 160        # reference and found crops decoded
        assert min(view.decoded(".card .context img")) == 320                # reduced to the size shown
        first = page.locator(".card").first
        assert "distance 0.300" in first.inner_text() and "false-match rate" in first.inner_text()
        assert "Candidate for human review" in first.inner_text()
        assert "posted 2024-01-20 10:00:00 UTC · https://t.me/example/1" in first.inner_text()   # a captured post
        assert first.locator(".post-text").inner_text() == "Экскурсия <b>not markup</b>"
        assert "duplicate group 1 (2 items)" in first.inner_text()              # its repost chain is linked
        assert "1 of 2 reference photos" in first.inner_text() and "Low-quality face" in first.inner_text()
        assert "below 1.0%: none of the 100 different-person pairs" in first.inner_text()   # an upper bound
        assert page.locator(".group .thumb img").count() == 2 and "pdq" in page.inner_text("#dup-list")
        assert page.locator("#loc-table .mini img").count() == 1
        assert "50.45010" in page.inner_text("#loc-table") and "Chain intact" in page.inner_text("#custody-view")

        blurred = "getComputedStyle(document.querySelector('.card .crop img')).filter"
        assert "blur" in page.evaluate(blurred)
        page.locator(".card .crop .sens").first.click()                   # click reveals that image
        assert page.evaluate(blurred) == "none"
        assert "blur" in page.evaluate("getComputedStyle(document.querySelectorAll('.card .crop img')[1]).filter")
        page.uncheck("#blur-setting")                                      # the setting turns blurring off
        assert page.evaluate("getComputedStyle(document.querySelectorAll('.card .crop img')[1]).filter") == "none"

        page.fill("#reviewer", "Olena")
        page.locator("body").press("Escape")
        page.keyboard.press("j")                                           # second candidate
        page.keyboard.press("r")
        page.keyboard.press("m")
        page.keyboard.type("different ear shape")
        page.keyboard.press("Escape")
        page.keyboard.press("k")                                           # back to the first
        page.keyboard.press("c")
        states = page.eval_on_selector_all(".card", "els => els.slice(0, 2).map(e => e.dataset.state)")
        assert states == ["confirmed", "rejected"]
        with page.expect_download() as download:
            page.keyboard.press("e")
        exported = json.loads(Path(download.value.path()).read_text())
        assert exported["format"] == "osint-review-decisions/1" and exported["case_id"] == "case-id-1"
        made = {d["decision"]: d for d in exported["decisions"]}
        assert set(made) == {"confirmed", "rejected"} and made["rejected"]["comment"] == "different ear shape"
        assert all(d["reviewer"] == "Olena" for d in made.values())

        page.keyboard.press("n")                                           # next page
        assert page.locator(".card").count() == 40 - PAGE_SIZE
        assert page.evaluate("window.pwned") is None
        assert view.errors == [] and view.network() == []


def test_five_thousand_candidates_open_one_page_at_a_time(tmp_path: Path) -> None:
    out = write_report(report_data(5000), tmp_path / "big.html")
    with chromium() as browser:
        view = Page(browser, out.path)
        page = view.page
        assert page.locator(".card").count() == PAGE_SIZE and page.locator("img").count() < 4 * PAGE_SIZE
        page.select_option("#person-filter", "p2")
        assert page.locator("h3.person").inner_text().startswith("Person 2")
        page.select_option("#status-filter", "unsure")                    # the one earlier decision is on p0
        assert page.locator(".card").count() == 0
        assert view.errors == [] and view.network() == []
