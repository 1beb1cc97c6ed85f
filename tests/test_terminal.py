"""Strings from data and files never drive the terminal (control characters escaped on every print path),
and file names that are not UTF-8 are one clear line, not a traceback that loses the rest of the batch."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from tests.conftest import make_photo

ESC = "\x1b[2K\x1b[1G\x1b[32m"


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    root = tmp_path / "case"
    assert run("init", str(root)).exit_code == 0
    return root


def test_escape_codes_from_names_collector_and_note_are_escaped(case_dir: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from osint.commands import common

    monkeypatch.setattr(common.out, "width", 400)  # table cells unfolded, so escapes can be read whole
    folder = tmp_path / "in"
    good = make_photo(folder / f"good{ESC}.jpg")
    (folder / f"broken{ESC}OK.jpg").write_bytes(good.read_bytes()[:400])
    added = run("add", str(folder), "-C", str(case_dir), "--collector", f"vol{ESC}unteer", "--note", f"n\x07{ESC}\u202eote")
    assert added.exit_code == 1
    outputs = [added.output]
    sha = json.loads(run("ls", "-C", str(case_dir), "--json").stdout)[0]["sha256"]
    for args in (["show", sha[:12]], ["show", sha[:12], "--json"], ["log"], ["log", "--json"], ["ls"]):
        result = run(*args, "-C", str(case_dir))
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    for text in outputs:
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "\\x1b[2K" in outputs[0] and "broken" in outputs[0]          # the failed file, named and escaped
    assert "vol\\x1b[2K" in outputs[1] and "n\\x07\\x1b[2K" in outputs[1]   # collector and note in `show`
    shown = json.loads(outputs[2])
    assert shown["acquisitions"][0]["collector"] == f"vol{ESC}unteer"    # JSON keeps the exact value


def test_non_utf8_file_names_in_add_refs_and_landmarks(case_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    make_photo(folder / "a.jpg", seed=1)
    os.rename(folder / "a.jpg", os.fsencode(folder) + b"/caf\xe9.jpg")
    (folder / "z.jpg").write_bytes(b"not a jpeg")
    os.rename(folder / "z.jpg", os.fsencode(folder) + b"/bad\xff.jpg")
    make_photo(folder / "zz.jpg", seed=2)
    added = run("add", str(folder), "-C", str(case_dir))
    assert added.exit_code == 1 and "Traceback" not in added.output
    assert "bad\\xff.jpg" in added.output and "2 added" in added.output     # the batch went on
    shas = [i["sha256"] for i in json.loads(run("ls", "-C", str(case_dir), "--json").stdout)]
    names = {Path(a["original_path"]).name for sha in shas
             for a in json.loads(run("show", sha, "-C", str(case_dir), "--json").stdout)["acquisitions"]}
    assert names == {"caf\\xe9.jpg", "zz.jpg"}
    refs = tmp_path / "refs"
    refs.mkdir()
    make_photo(refs / "r.jpg", seed=3)
    os.rename(refs / "r.jpg", os.fsencode(refs) + b"/r\xe9f.jpg")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.jpg").write_text("not a photo")
    result = run("refs", "add", "UA-0", str(tmp_path / "empty"), "-C", str(case_dir))
    assert result.exit_code == 1 and "not recorded" in result.output            # nothing usable: no empty person
    assert json.loads(run("refs", "ls", "-C", str(case_dir), "--json").stdout) == []
    result = run("refs", "add", "UA-1", str(refs), "-C", str(case_dir))        # a folder: every photo in it
    assert result.exit_code == 1 and "r\\xe9f.jpg: no face found" in result.output
    listed = json.loads(run("refs", "ls", "-C", str(case_dir), "--json").stdout)
    assert [(p["id"], len(p["photos"])) for p in listed] == [("UA-1", 1)]
    land = tmp_path / "land"
    land.mkdir()
    make_photo(land / "l.jpg", seed=4, size=(640, 480))
    os.rename(land / "l.jpg", os.fsencode(land) + b"/l\xe9.jpg")
    path = os.fsdecode(os.fsencode(land) + b"/l\xe9.jpg")
    result = run("landmarks", "add", path, "--lat", "50", "--lon", "30", "-C", str(case_dir))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_relative_and_absolute_paths_are_one_acquisition(case_dir: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_photo(tmp_path / "in" / "x.jpg")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    first = run("add", "../in/x.jpg", "-C", str(case_dir), "--json")
    again = run("add", str(photo), "-C", str(case_dir), "--json")
    assert first.exit_code == 0 and again.exit_code == 0, again.output
    assert json.loads(again.stdout)["files"][0]["status"] == "already"
    acqs = json.loads(run("show", json.loads(first.stdout)["files"][0]["sha256"], "-C", str(case_dir), "--json").stdout)
    assert [a["original_path"] for a in acqs["acquisitions"]] == [str(photo)]


def test_a_case_db_that_is_not_sqlite_is_one_line(tmp_path: Path) -> None:
    """Run as a user runs it (a fresh process per command: no connection of an earlier command still open)."""
    import subprocess
    import sys

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "osint.cli", *args], capture_output=True, text=True, check=False)

    root = tmp_path / "case"
    assert cli("init", str(root)).returncode == 0
    (root / "case.db").write_bytes(os.urandom(4096))
    for args in (["ls"], ["add", str(make_photo(tmp_path / "a.jpg"))], ["log", "verify"]):
        result = cli(*args, "-C", str(root))
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert result.stderr.count("\n") == 1 and "case.db is not a usable case database" in result.stderr
