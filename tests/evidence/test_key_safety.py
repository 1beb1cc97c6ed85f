"""OSINT_HOME and key files are checked before use (refused, as ssh does, with one line saying how to fix),
created private whatever the umask; a hostile or damaged key file is one line and blocks only itself."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.evidence import KeyProblem, create_key, find_key, list_keys, unlock
from tests.evidence.conftest import PASSPHRASE

runner = CliRunner()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_created_private_under_umask_000(home: Path) -> None:
    old = os.umask(0)
    try:
        info = create_key("Lead", PASSPHRASE)
    finally:
        os.umask(old)
    assert (mode(home), mode(home / "keys"), mode(info.path)) == (0o700, 0o700, 0o600)


@pytest.mark.parametrize("where", ["home", "keys"])
def test_world_writable_home_or_keys_folder_is_refused(home: Path, where: str) -> None:
    create_key("Lead", PASSPHRASE)
    target = home if where == "home" else home / "keys"
    os.chmod(target, 0o777)
    with pytest.raises(KeyProblem, match=r"writable by other users \(mode 0777\).*chmod 700"):
        list_keys()
    result = runner.invoke(app, ["keys", "export-public"])
    assert result.exit_code == 2 and "-----BEGIN" not in result.output
    assert result.output.count("\n") == 1 and "chmod 700" in result.output
    os.chmod(target, 0o700)
    assert "-----BEGIN PUBLIC KEY" in runner.invoke(app, ["keys", "export-public"]).output


def test_group_readable_key_file_is_refused_alone(home: Path) -> None:
    good = create_key("Lead", PASSPHRASE)
    loose = create_key("Volunteer", PASSPHRASE, role="volunteer")
    os.chmod(loose.path, 0o644)
    problems: list[str] = []
    assert [k.name for k in list_keys(problems=problems)] == ["Lead"]
    assert len(problems) == 1 and "chmod 600" in problems[0]
    assert find_key(None).path == good.path                     # the only usable key is still found
    listed = runner.invoke(app, ["keys", "ls"])
    assert listed.exit_code == 0 and "Lead" in listed.output and "warning:" in listed.output


def test_damaged_key_file_blocks_only_itself(home: Path) -> None:
    create_key("Lead", PASSPHRASE)
    bad = home / "keys" / "broken.key"
    bad.write_text("{not json")
    os.chmod(bad, 0o600)
    assert [k.name for k in list_keys()] == ["Lead"]
    result = runner.invoke(app, ["keys", "export-public", "--key", "Lead"])
    assert result.exit_code == 0 and "-----BEGIN PUBLIC KEY" in result.output


def test_key_file_asking_for_2_to_the_40_scrypt_is_one_line(home: Path) -> None:
    info = create_key("Lead", PASSPHRASE)
    doc = json.loads(info.path.read_text())
    doc["kdf"]["n"] = 1 << 40
    info.path.write_text(json.dumps(doc))
    with pytest.raises(KeyProblem, match="out of range"):
        unlock(info, PASSPHRASE)
