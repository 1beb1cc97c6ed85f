"""match, review list and the report say how many collected items were not face-scanned, and which: a photo
added after the last scan, or one whose scan failed, is never silently left out of the candidates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from osint.cli import app
from tests.conftest import cli_on
from tests.media.test_damaged_exif import astronaut

runner = CliRunner()


def post(path: Path, grey: int) -> Path:
    Image.fromarray(np.concatenate([astronaut(300), np.full((300, 200, 3), grey, np.uint8)], 1)).save(path, quality=92)
    return path


def test_unscanned_and_failed_items_are_named(tmp_path: Path) -> None:
    root = tmp_path / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0

    osint = cli_on(root)

    Image.fromarray(astronaut(420)).save(tmp_path / "ref.jpg", quality=92)
    osint("add", str(post(tmp_path / "first.jpg", 200)))
    osint("faces", "scan", "--workers", "1")
    osint("refs", "add", "UA-0001", str(tmp_path / "ref.jpg"), "--name", "Child A", "--born", "2012")
    osint("add", str(post(tmp_path / "later.jpg", 90)))          # added after the last scan

    listed = osint("review", "list", "--json")
    assert len(json.loads(listed.stdout)) == 1
    assert "1 collected item(s) not analysed for faces" in listed.stderr and "later.jpg (not face-scanned yet)" in listed.stderr
    out = tmp_path / "r.html"
    osint("report", "--out", str(out), "--no-thumbnails")
    doc = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.DOTALL).group(1))
    assert any("later.jpg (not face-scanned yet)" in n for n in doc["notes"])

    from osint.case import Case
    from osint.facematch import FaceSettings

    with Case.open(root) as case:                                 # a third item whose scan failed
        osint("add", str(post(tmp_path / "broken.jpg", 30)))
        sha = next(a.sha256 for a in case.acquisitions() if a.original_path.endswith("broken.jpg"))
        case.put_results("faces", FaceSettings().version(), [(sha, None, "damaged jpeg: premature end")])
    matched = osint("match", "--json")
    data = json.loads(matched.stdout)
    assert sorted(c["person"] for c in data["candidates"] if c["rank"] == 1) == ["UA-0001", "UA-0001"]
    assert data["not_analysed"] == [{"item": sha, "reason": "face scan failed: damaged jpeg: premature end"}]
    assert "broken.jpg (face scan failed" in matched.stderr
