"""A recipient without osint verifies a bundle with sha256sum, openssl and bagit.py, as summary.html says."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.evidence.conftest import export


def _run(*args: str, cwd) -> subprocess.CompletedProcess:  # type: ignore[no-untyped-def]
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)


@pytest.mark.skipif(not (shutil.which("sha256sum") and shutil.which("openssl")), reason="needs sha256sum and openssl")
def test_sha256sum_and_openssl_verify_the_bundle(world, tmp_path):
    export(world, tmp_path / "b")
    bag = tmp_path / "b"
    assert _run("sha256sum", "-c", "--quiet", "manifest-sha256.txt", cwd=bag).returncode == 0
    assert _run("sha256sum", "-c", "--quiet", "tagmanifest-sha256.txt", cwd=bag).returncode == 0
    verify = ("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signer.pem", "-rawin",
              "-in", "tagmanifest-sha256.txt", "-sigfile", "tagmanifest-sha256.txt.sig")
    ok = _run(*verify, cwd=bag)
    if "rawin" in ok.stderr:
        pytest.skip("this openssl cannot verify Ed25519 signatures (-rawin needs OpenSSL 3)")
    assert ok.returncode == 0, ok.stderr
    (bag / "bag-info.txt").write_text((bag / "bag-info.txt").read_text() + "Note: forged\n")
    assert _run("sha256sum", "-c", "--quiet", "tagmanifest-sha256.txt", cwd=bag).returncode != 0
    tm = bag / "tagmanifest-sha256.txt"
    tm.write_text(tm.read_text().replace(tm.read_text()[:64], "0" * 64, 1))
    assert _run(*verify, cwd=bag).returncode != 0
