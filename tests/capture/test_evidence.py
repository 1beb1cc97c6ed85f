"""Evidence bundles carry each exported item's capture: its WACZ and screenshot, checked by `evidence verify`."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.capture.conftest import fast
from tests.capture.site import CHANNEL, Site

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def lead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from osint.evidence import create_key, unlock

    monkeypatch.setenv("OSINT_HOME", str(tmp_path / "home"))
    return unlock(create_key("Evidence lead, NGO X", PASSPHRASE), PASSPHRASE)


def _captured(case, site: Site):  # type: ignore[no-untyped-def]
    from osint.capture import capture

    capture(case, [site.url(f"/s/{CHANNEL}")], fast(since=__import__("datetime").date(2024, 1, 15),
                                                     until=__import__("datetime").date(2024, 1, 31)))
    (rec,) = case.records("capture").values()
    # a screenshot as a browser would have stored it (this module runs without one)
    shot = case.put_derived(b"\x89PNG\r\n\x1a\n screenshot bytes", ".png")
    rec = rec | {"screenshot": {"sha256": shot, "file": f"derived/{shot[:2]}/{shot}.png"}}
    case.put_record("capture", next(iter(case.records("capture"))), rec, action="capture")
    return rec


def test_bundle_carries_wacz_and_screenshot(case, site: Site, lead, tmp_path: Path):
    from osint.evidence import export_bundle, select_items, verify_bundle

    rec = _captured(case, site)
    item = rec["items"][0]                        # one photo of the three-photo album
    out = tmp_path / "bundle"
    export_bundle(case, select_items(case, prefixes=[item]), out, lead)
    wacz = out / "data" / "derived" / f"{rec['wacz']['sha256']}.wacz"
    assert wacz.read_bytes() == case.derived_path(rec["wacz"]["sha256"], ".wacz").read_bytes()
    assert (out / "data" / "derived" / f"{rec['screenshot']['sha256']}.png").is_file()
    doc = json.loads((out / "data" / "results.json").read_text())
    (capture_doc,) = [r for r in doc["records"] if r["kind"] == "capture"]
    assert capture_doc["data"]["url"] == site.url(f"/{CHANNEL}/2")
    assert capture_doc["data"]["post_date"] == "2024-01-20T10:00:00Z" and capture_doc["data"]["text"] == "Экскурсия"
    report = verify_bundle(out)
    assert report.ok, report.failures


def test_verify_checks_the_wacz_own_digests(case, site: Site, lead, tmp_path: Path):
    from osint.evidence import export_bundle, select_items, verify_bundle

    rec = _captured(case, site)
    stored = case.derived_path(rec["wacz"]["sha256"], ".wacz")
    tampered = tmp_path / "t.wacz"
    with zipfile.ZipFile(stored) as src, zipfile.ZipFile(tampered, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("pages/"):
                data = data.replace("Экскурсия".encode(), "Edited!!".encode())
            dst.writestr(info, data)
    stored.chmod(0o644)
    stored.write_bytes(tampered.read_bytes())     # the derived store changed after capture
    out = tmp_path / "bundle.zip"
    export_bundle(case, select_items(case, prefixes=[rec["items"][0]]), out, lead)
    report = verify_bundle(out)
    assert not report.ok
    (failure,) = report.failures
    assert failure.where.endswith(".wacz") and "pages/pages.jsonl hashes to" in failure.reason
