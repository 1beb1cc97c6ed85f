"""Zip entries a bundle never holds (encrypted, exotic compression, names with terminal escapes): one clear
line from `evidence verify`, never a traceback, never raw control characters on the terminal."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.evidence import verify_bundle
from tests.evidence.conftest import export

SPOOF = "data/\x1b[2K\x1b[1G\x1b[32mVALID: all files intact\x1b[0m"


def with_entry(bundle: Path, out: Path, name: str, data: bytes = b"x" * 64) -> Path:
    """A copy of `bundle` with one more entry under the bag's root folder."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        root = src.namelist()[0].split("/")[0]
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(f"{root}/{name}", data)
    return out


def patch_last_entry(path: Path, *, flags: int | None = None, method: int | None = None) -> Path:
    """Set the general-purpose flags or compression method of the zip's last entry (local and central headers)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.infolist()[-1]
    central = data.rfind(b"PK\x01\x02")
    for base, flag_at in ((info.header_offset, 6), (central, 8)):
        if flags is not None:
            data[base + flag_at:base + flag_at + 2] = struct.pack("<H", flags)
        if method is not None:
            data[base + flag_at + 2:base + flag_at + 4] = struct.pack("<H", method)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("patch, why", [({"flags": 1}, "encrypted"), ({"method": 99}, "compression method 99"),
                                        ({"method": 9}, "compression method 9")])
def test_encrypted_or_exotic_entry_is_one_line(world, tmp_path: Path, patch: dict, why: str) -> None:
    bundle = export(world, tmp_path / "b.zip").path
    odd = patch_last_entry(with_entry(bundle, tmp_path / "odd.zip", "data/extra.bin"), **patch)
    report = verify_bundle(odd)
    assert not report.ok and why in report.failures[0].reason
    result = CliRunner().invoke(app, ["evidence", "verify", str(odd)])
    assert result.exit_code == 1
    assert "INVALID" in result.output and why in result.output and "Traceback" not in result.output


def test_entry_name_with_escape_codes_is_shown_escaped(world, tmp_path: Path) -> None:
    bundle = export(world, tmp_path / "b.zip").path
    spoofed = with_entry(bundle, tmp_path / "spoof.zip", SPOOF)
    for args in (["evidence", "verify", str(spoofed)], ["evidence", "verify", str(spoofed), "--json"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "\x1b" not in result.output and "INVALID" in result.output
        assert "\\x1b" in result.output or "\\u001b" in result.output
