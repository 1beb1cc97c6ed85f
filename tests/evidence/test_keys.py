"""Keys: Ed25519, encrypted at rest, 0600, fingerprints, one clear error for a wrong passphrase."""

from __future__ import annotations

import base64
import hashlib
import json
import stat

import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.evidence import KeyProblem, create_key, find_key, list_keys, load_public, unlock
from osint.evidence.keys import verify_signature
from tests.evidence.conftest import PASSPHRASE

runner = CliRunner()


def test_key_is_encrypted_0600_and_fingerprinted(home):
    info = create_key("Evidence lead, NGO X", PASSPHRASE)
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    doc = json.loads(info.path.read_text())
    assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["n"] >= 1 << 15
    raw_private = unlock(info, PASSPHRASE)._private.private_bytes_raw()  # type: ignore[attr-defined]
    assert raw_private.hex() not in info.path.read_text()
    assert base64.b64encode(raw_private).decode() not in info.path.read_text()
    assert info.fingerprint.replace(" ", "") == hashlib.sha256(info.public_key).hexdigest()
    assert len(info.fingerprint.split()) == 16
    signer = unlock(info, PASSPHRASE)
    sig = signer.sign(b"tag manifest")
    assert verify_signature(info.public_key, sig, b"tag manifest")
    assert not verify_signature(info.public_key, sig, b"tag manifesT")


def test_wrong_passphrase_is_one_clear_error(home):
    info = create_key("Lead", PASSPHRASE)
    with pytest.raises(KeyProblem, match="wrong passphrase for key 'Lead'"):
        unlock(info, "guess")


def test_role_cannot_be_edited_in_the_key_file(home):
    info = create_key("Volunteer", PASSPHRASE, role="volunteer")
    doc = json.loads(info.path.read_text())
    doc["role"] = "evidence-lead"
    info.path.write_text(json.dumps(doc))
    with pytest.raises(KeyProblem, match="edited"):
        unlock(find_key("Volunteer"), PASSPHRASE)


def test_find_by_name_or_fingerprint_and_no_duplicates(home):
    a = create_key("Lead A", PASSPHRASE)
    b = create_key("Volunteer B", PASSPHRASE, role="volunteer")
    assert [k.name for k in list_keys()] == ["Lead A", "Volunteer B"]
    assert find_key("Lead A").path == a.path
    assert find_key(b.fingerprint[:9]).path == b.path      # "abcd ef01" with the space
    with pytest.raises(KeyProblem, match="several keys"):
        find_key(None)
    with pytest.raises(KeyProblem, match="already exists"):
        create_key("Lead A", PASSPHRASE)
    with pytest.raises(KeyProblem, match="role"):
        create_key("Someone", PASSPHRASE, role="boss")


def test_cli_init_ls_export_public(home):
    res = runner.invoke(app, ["keys", "init", "--name", "Evidence lead, NGO X", "--json"])
    assert res.exit_code == 0, res.output
    made = json.loads(res.stdout)
    listed = json.loads(runner.invoke(app, ["keys", "ls", "--json"]).stdout)
    assert [k["fingerprint"] for k in listed] == [made["fingerprint"]]
    assert listed[0]["role"] == "evidence-lead"
    pem = runner.invoke(app, ["keys", "export-public"]).stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert hashlib.sha256(load_public(pem.encode())).hexdigest() == made["fingerprint"].replace(" ", "")


def test_cli_wrong_passphrase_exit_code(home, monkeypatch, world, tmp_path):
    monkeypatch.setenv("OSINT_KEY_PASSPHRASE", "not it")
    res = runner.invoke(app, ["evidence", "export", "-C", str(world.case.root), "--all",
                              "--out", str(tmp_path / "b.zip")])
    assert res.exit_code == 2
    assert "wrong passphrase" in res.output
    assert not (tmp_path / "b.zip").exists()
