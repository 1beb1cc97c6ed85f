"""`osint capture` from the command line: bad input one line each, dry run, and a kill -9 mid-run resumed."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from tests.capture.site import CHANNEL, Site


def _osint(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "osint.cli", *args], capture_output=True, text=True, timeout=180)


def test_bad_inputs_one_line_each_batch_goes_on(case, site: Site, tmp_path: Path):
    bad = {"/missing": "HTTP 404", "/broken": "HTTP 500", "/loop/a": "redirect loop", "/stall": "timed out",
           "/drip.html": "did not finish within 2 s", "/short.jpg": "truncated: the server declared 50,000 bytes",
           "/huge.bin": "declares 5,368,709,120 bytes, over the limit", "/endless.mp4": "larger than the limit",
           "/fake.jpg": "not a photo or video"}
    urls = tmp_path / "urls.txt"
    urls.write_text("# bad and good, mixed\n" + "\n".join(site.url(p) for p in bad) + "\n" +
                    site.url("/media/k1.jpg") + "\nfile:///etc/passwd\nftp://example.org/x\n")
    started = time.monotonic()
    res = _osint("capture", "-C", str(case.root), "--from-file", str(urls), site.url("/media/k2.jpg"),
                 "--allow-private", "--rate", "0", "--timeout", "2", "--max-size", "1", "--no-browser")
    assert time.monotonic() - started < 60
    assert res.returncode == 1, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(bad) + 2
    for path, why in bad.items():
        line = next(e for e in errors if site.url(path) in e)
        assert why in line, line
    assert any("file:///etc/passwd" in e and "only http:// and https://" in e for e in errors)
    assert "connecting directly from this machine" in res.stderr
    assert "2 captured" in res.stdout
    assert len(case.items()) == 2 and len(case.records("capture")) == 2
    assert not list((case.root / "tmp").iterdir())
    assert case.verify().ok


def test_private_addresses_refused_without_flag(case, site: Site):
    before = len(site.requests)
    res = _osint("capture", "-C", str(case.root), site.url("/news/pupils.html"), "http://localhost/x",
                 "--no-browser")
    assert res.returncode == 1
    assert res.stderr.count("--allow-private") >= 2
    assert len(site.requests) == before and case.items() == []


def test_dry_run_connects_to_nothing(case, site: Site, no_network):
    from osint.cli import app

    res = CliRunner().invoke(app, ["capture", "-C", str(case.root), "--dry-run", "--json",
                                   "https://t.me/kids_camp", "https://example.org/page.html", "file:///x"])
    assert res.exit_code == 1
    plan = json.loads(res.stdout)
    assert [p["kind"] for p in plan] == ["telegram", "web", ""]
    assert plan[0]["fetch"] == "https://t.me/s/kids_camp" and "file://" in plan[2]["refused"]
    assert no_network == [] and case.records("capture") == {}


def _captured(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return int(con.execute("SELECT count(*) FROM records WHERE kind='capture'").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_nine_then_rerun_resumes(case, site: Site):
    args = [sys.executable, "-m", "osint.cli", "capture", "-C", str(case.root), site.url(f"/s/{CHANNEL}"),
            "--allow-private", "--rate", "6", "--no-browser", "--json"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while _captured(case.root / "case.db") < 2 and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = _captured(case.root / "case.db")
    assert 2 <= done_before < 6
    assert [p.name.split("-")[1] for p in (case.root / "tmp").iterdir()] == ["capture"]   # its working folder
    res = subprocess.run(args[:-4] + ["--allow-private", "--rate", "0", "--no-browser", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["resumed"] is True and out["summary"]["done_before"] == done_before
    assert out["summary"]["captured"] == 6 - done_before
    caps = case.records("capture")
    assert len(caps) == 6 and len({d["url"] for d in caps.values()}) == 6
    assert len({d["run"] for d in caps.values()}) == 1
    acqs = case.acquisitions()
    assert len(acqs) == len({(a.sha256, a.original_path, a.source_url) for a in acqs}) == 9
    assert len(case.items()) == 8 and case.verify().ok
    assert not list((case.root / "tmp").iterdir())                  # the killed run's folder is gone
    # a finished run, captured again: new captures and acquisitions, not one new stored copy
    again = json.loads(subprocess.run(args[:-4] + ["--allow-private", "--rate", "0", "--no-browser", "--json"],
                                      capture_output=True, text=True, timeout=120).stdout)
    assert again["resumed"] is False and again["summary"]["captured"] == 6
    assert again["summary"]["media_added"] == 0 and len(case.items()) == 8
    assert len(case.acquisitions()) == 18 and len(case.records("capture")) == 12
