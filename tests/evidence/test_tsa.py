"""Trusted time: an RFC 3161 token from a local timestamp authority, checked on verify."""

from __future__ import annotations

import pytest

from osint.errors import OsintError
from osint.evidence import export_bundle, select_items, verify_bundle

pytest.importorskip("asn1crypto")


def _export(world, out, tsa):  # type: ignore[no-untyped-def]
    return export_bundle(world.case, select_items(world.case, person="UA-0412"), out, world.lead, tsa_url=tsa)


def test_timestamped_bundle_verifies_and_pins_the_signature(world, tmp_path):
    from tests.evidence.tsa_server import local_tsa

    with local_tsa() as url:
        result = _export(world, tmp_path / "b", url)
    assert result.timestamped and (tmp_path / "b" / "tagmanifest-sha256.txt.tsr").is_file()
    assert "timestamp token" in (tmp_path / "b" / "bag-info.txt").read_text()
    report = verify_bundle(tmp_path / "b", pubkey=world.lead.info.public_key)
    assert report.ok, report.failures
    assert "Test TSA" in report.timestamp and "timestamped" in report.verdict()
    # a token taken over another signature (a later export of the same items) does not vouch for this bundle
    with local_tsa() as url:
        _export(world, tmp_path / "c", url)
    (tmp_path / "b" / "tagmanifest-sha256.txt.tsr").write_bytes(
        (tmp_path / "c" / "tagmanifest-sha256.txt.tsr").read_bytes())
    failures = [str(f) for f in verify_bundle(tmp_path / "b").failures]
    assert "timestamp: tagmanifest-sha256.txt.tsr: the token is not over this bundle's signature" in failures
    (tmp_path / "b" / "tagmanifest-sha256.txt.tsr").unlink()
    assert any(f.startswith("timestamp: tagmanifest-sha256.txt.tsr: removed")
               for f in map(str, verify_bundle(tmp_path / "b").failures))


def test_unreachable_tsa_writes_nothing(world, tmp_path):
    with pytest.raises(OsintError, match="timestamp authority"):
        _export(world, tmp_path / "b.zip", "http://127.0.0.1:9/")
    assert not (tmp_path / "b.zip").exists()
    assert world.case.custody()[-1].action != "export"
