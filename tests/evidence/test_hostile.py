"""Hostile bundles: refused before any byte is read; verifying never writes anything."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from osint.evidence import verify_bundle
from tests.evidence.conftest import export


def _zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def _symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def _snapshot(root: Path) -> set[Path]:
    return set(root.rglob("*"))


@pytest.mark.parametrize("entries, why", [
    ([("b/bagit.txt", b"x"), ("b/../../evil.txt", b"x")], "'..' in the path"),
    ([("b/bagit.txt", b"x"), ("/tmp/evil.txt", b"x")], "absolute path"),
    ([("b/bagit.txt", b"x"), ("b\\..\\evil.txt", b"x")], "backslash"),
    ([("b/bagit.txt", b"x"), _symlink_entry("b/data/originals/a.jpg", "/etc/passwd")], "symbolic link"),
    ([("b/bagit.txt", b"x"), ("b/data/zeros.bin", bytes(30 << 20))], "zip bomb"),
])
def test_hostile_zip_refused_and_nothing_written(tmp_path, entries, why):
    bomb = _zip(tmp_path / "hostile.zip", entries)
    before = _snapshot(tmp_path)
    report = verify_bundle(bomb)
    assert not report.ok and report.failures[0].what == "refused"
    assert why in report.failures[0].reason
    assert _snapshot(tmp_path) == before
    assert not Path("/tmp/evil.txt").exists()


def test_declared_size_bound(world, tmp_path):
    export(world, tmp_path / "b.zip")
    report = verify_bundle(tmp_path / "b.zip", max_bytes=1000)
    assert not report.ok and "zip bomb" in report.failures[0].reason
    assert verify_bundle(tmp_path / "b.zip").ok


def test_symlink_in_folder_bundle_refused(world, tmp_path):
    export(world, tmp_path / "bundle")
    (tmp_path / "bundle" / "data" / "link.jpg").symlink_to("/etc/hostname")
    report = verify_bundle(tmp_path / "bundle")
    assert not report.ok and "symbolic link" in report.failures[0].reason


def test_not_a_bundle(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 not really")
    assert "damaged or truncated" in verify_bundle(tmp_path / "x.zip").failures[0].reason
    assert "missing" in verify_bundle(_zip(tmp_path / "e.zip", [("readme.txt", b"hi")])).failures[0].reason
