"""The report file: self-contained, offline, inert to hostile names, and sane in size at 5,000 candidates."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

from PIL import Image

from osint.report import MAX_SIDE, data_uri, render_html, write_report
from tests.report.synthetic import report_data

HOSTILE = "</script><script>window.pwned=1</script><img src=x onerror=alert(1)>.jpg"


def _embedded(page: str, element: str) -> object:
    match = re.search(rf'<script type="application/json" id="{element}">(.*?)</script>', page, re.S)
    assert match, element
    return json.loads(match.group(1))


def test_report_is_one_offline_file_with_everything_embedded(tmp_path: Path) -> None:
    data = report_data(30, hostile_name=HOSTILE)
    out = write_report(data, tmp_path / "r.html")
    page = out.path.read_text()
    assert out.candidates == 30 and out.images == len(data.images) and not out.missing_images
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//|ftp:)""", page, re.I), "external resource"
    assert "<link" not in page and not re.search(r"<script[^>]+src=", page)
    doc = _embedded(page, "report-data")
    images = _embedded(page, "report-images")
    assert len(doc["candidates"]) == 30 and doc["case"]["id"] == "case-id-1"
    assert all(images[c["found_crop"]].startswith("data:image/jpeg;base64,") for c in doc["candidates"])
    assert doc["candidates"][0]["name"] == HOSTILE          # kept exactly, as data
    assert HOSTILE not in page and "window.pwned=1</script>" not in page   # but never as markup


def test_unreadable_image_is_reported_not_fatal(tmp_path: Path) -> None:
    data = report_data(3)
    data.images["crop1"] = tmp_path / "gone.jpg"
    data.images["crop2"] = b"not an image"
    page, n, missing = render_html(data)
    assert set(missing) == {"crop1", "crop2"} and n == len(data.images) - 2
    assert any("could not be read" in note for note in _embedded(page, "report-data")["notes"])


def test_five_thousand_candidates_stay_small(tmp_path: Path) -> None:
    """Size only: how fast it is written and opened is bench/report.py's figure, not a timed test."""
    data = report_data(5000, distinct=64)
    out = write_report(data, tmp_path / "big.html")
    page = out.path.read_text()
    images = _embedded(page, "report-images")
    overhead = out.size - sum(len(uri) for uri in images.values())     # everything but the images themselves
    assert out.candidates == 5000 and out.images == len(data.images) == len(images)
    assert overhead / 5000 < 1500, f"{overhead / 5000:.0f} bytes per candidate besides its images"
    context = Image.open(io.BytesIO(base64.b64decode(images["ctx0"].split(",", 1)[1])))
    assert max(context.size) == MAX_SIDE and len(images["crop0"]) == len(data_uri(data.images["crop0"]))


def test_custody_summary_reports_a_garbage_row_instead_of_crashing(case):
    import sqlite3

    from osint.report.collect import custody_summary

    case.append_custody("note", "tester")
    sqlite3.connect(case.root / "case.db", isolation_level=None).execute(
        "UPDATE custody SET entry='[1]' WHERE seq=1")
    summary = custody_summary(case)
    assert not summary.chain_ok and summary.chain_problems[0].startswith("entry 1:")
    assert [e["action"] for e in summary.recent] == ["note"]
