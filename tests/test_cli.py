"""The case commands as a user runs them: output, JSON, exit codes, help, no network, and kill -9 safety."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from osint.cli import app
from tests.conftest import db_count, make_photo

runner = CliRunner()


def _run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for i in range(3):
        make_photo(tmp_path / "collected" / f"{i}.jpg", seed=i)
    (tmp_path / "collected" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return tmp_path


def test_init_add_ls_show_log_verify(folder: Path) -> None:
    case = str(folder / "case")
    assert "Created case" in _run("init", case, "--name", "kherson-2024")
    out = runner.invoke(app, ["add", str(folder / "collected"), "-C", case, "--source-url", "https://t.me/x",
                              "--collector", "volunteer-17", "--note", "scraped 2024-05-14", "--json"])
    assert out.exit_code == 1, "one input failed, so the exit code says so"
    report = json.loads(out.stdout)
    assert report["summary"] == {"added": 3, "new-source": 0, "already": 0, "failed": 1, "skipped": 0}
    assert "broken.jpg" in out.stderr and "damaged jpeg" in out.stderr

    items = json.loads(_run("ls", "-C", case, "--json"))
    assert len(items) == 3 and all(len(it["sha256"]) == 64 for it in items)
    shown = json.loads(_run("show", items[0]["sha256"][:8], "-C", case, "--json"))
    assert shown["acquisitions"][0]["source_url"] == "https://t.me/x"
    assert shown["acquisitions"][0]["collector"] == "volunteer-17"
    assert [e["action"] for e in shown["custody"]] == ["add"]
    assert "volunteer-17" in _run("log", "-C", case)
    assert len(json.loads(_run("log", "-C", case, "--json", "--limit", "0"))) == 4
    assert "OK" in _run("log", "verify", "-C", case)


def test_verify_exit_code_on_tampering(folder: Path) -> None:
    case = folder / "case"
    _run("init", str(case))
    runner.invoke(app, ["add", str(folder / "collected" / "0.jpg"), "-C", str(case)])
    sqlite3.connect(case / "case.db", isolation_level=None).execute("UPDATE custody SET entry=replace(entry,'add','ADD') WHERE seq=2")
    result = runner.invoke(app, ["log", "verify", "-C", str(case)])
    assert result.exit_code == 1 and "BROKEN" in result.stdout and "entry 2" in result.stdout


def test_no_case_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["ls"])
    assert result.exit_code == 2 and "no case" in result.stderr and "osint init" in result.stderr


def _all_commands(group: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every command below a (Typer's own click) group, by its full name."""
    found = []
    for name, cmd in group.commands.items():
        found.append((prefix + name, cmd))
        if hasattr(cmd, "commands"):
            found += _all_commands(cmd, prefix + name + " ")
    return found


def test_every_command_and_option_has_help() -> None:
    root = typer.main.get_command(app)
    commands = _all_commands(root)
    assert {"init", "add", "ls", "show", "log", "log verify"} <= {n for n, _ in commands}
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"`osint {name}` has no help text"
        for param in cmd.params:
            if param.param_type_name == "option" and param.name != "help":
                assert (param.help or "").strip(), f"`osint {name} {param.opts[0]}` has no help text"


def test_case_commands_open_no_network_socket(folder: Path, no_network: list[object]) -> None:
    case = str(folder / "case")
    _run("init", case)
    runner.invoke(app, ["add", str(folder / "collected"), "-C", case])
    sha = json.loads(_run("ls", "-C", case, "--json"))[0]["sha256"]
    _run("show", sha, "-C", case)
    _run("log", "-C", case)
    _run("log", "verify", "-C", case)
    assert no_network == []


@pytest.mark.slow
def test_kill_9_mid_add_then_rerun_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    src = tmp_path / "collected"
    for i in range(1000):
        make_photo(src / f"{i:04d}.jpg", seed=i, size=(48, 32), quality=70)
    case = tmp_path / "case"
    cmd = [sys.executable, "-m", "osint.cli"]
    subprocess.run([*cmd, "init", str(case)], check=True, capture_output=True)
    proc = subprocess.Popen([*cmd, "add", str(src), "-C", str(case), "--collector", "v"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while db_count(case / "case.db", "SELECT count(*) FROM items") < 300 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = db_count(case / "case.db", "SELECT count(*) FROM items")
    assert 300 <= killed_at < 1000, "the kill must land part-way through"

    again = subprocess.run([*cmd, "add", str(src), "-C", str(case), "--collector", "v", "--json"],
                           capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)["summary"]
    assert summary["added"] + summary["already"] == 1000 and summary["failed"] == 0
    db = case / "case.db"
    assert db_count(db, "SELECT count(*) FROM items") == 1000
    assert db_count(db, "SELECT count(*) FROM acquisitions") == 1000
    assert db_count(db, "SELECT count(DISTINCT original_path) FROM acquisitions") == 1000
    assert db_count(db, "SELECT count(*) FROM custody WHERE entry LIKE '%\"action\":\"add\"%'") == 1000
    assert sum(1 for p in (case / "objects").rglob("*") if p.is_file()) == 1000
    assert not any((case / "tmp").iterdir())
    verify = subprocess.run([*cmd, "log", "verify", "-C", str(case)], capture_output=True, text=True)
    assert verify.returncode == 0 and "OK" in verify.stdout


def test_file_names_are_never_read_as_markup(tmp_path: Path) -> None:
    case = str(tmp_path / "case")
    _run("init", case)
    odd = tmp_path / "in" / "photo [red]b [bold]c.jpg"
    odd.parent.mkdir()
    odd.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    result = runner.invoke(app, ["add", str(odd.parent), "-C", case])
    assert result.exit_code == 1
    assert "photo [red]b [bold]c.jpg" in result.stderr.replace("\n", "")


def test_missing_refs_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["match", "--refs", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_log_on_a_damaged_custody_row_is_one_clear_error(folder: Path) -> None:
    case = folder / "case"
    _run("init", str(case))
    sqlite3.connect(case / "case.db", isolation_level=None).execute("UPDATE custody SET entry='[1]' WHERE seq=1")
    result = subprocess.run([sys.executable, "-m", "osint.cli", "log", "-C", str(case)], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "custody entry 1 is unreadable" in result.stderr
    assert "Traceback" not in result.stderr
    assert runner.invoke(app, ["log", "verify", "-C", str(case)]).exit_code == 1


def test_csv_cells_starting_a_formula_are_neutralised() -> None:
    import csv
    import io

    from osint.commands.common import write_csv

    hostile = ["=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x","click")']
    buf = io.StringIO()
    write_csv(buf, ["v", "n"], [{"v": v, "n": -0.5} for v in hostile] + [{"v": "plain", "n": 3}])
    rows = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + v for v in hostile] + ["plain"]
    assert rows[1][1] == "-0.5"  # numbers stay numbers
