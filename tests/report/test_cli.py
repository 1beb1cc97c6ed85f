"""`osint report` and `osint review` on a case where only some stages ran: sections fill from what exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from osint.cli import app
from osint.hashing import hash_case
from osint.ingest import add_paths
from tests.conftest import make_photo

runner = CliRunner()


def _case_with_reposts(case, tmp_path: Path) -> None:
    original = make_photo(tmp_path / "in" / "original.jpg", seed=5, size=(480, 360))
    Image.open(original).transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "in" / "mirrored.jpg", quality=70)
    make_photo(tmp_path / "in" / "unrelated.jpg", seed=6, size=(480, 360))
    add_paths(case, [tmp_path / "in"], collector="tester")
    hash_case(case)


def test_report_with_only_hashes_shows_groups_and_says_what_is_missing(case, tmp_path: Path,
                                                                       no_network: list[object]) -> None:
    _case_with_reposts(case, tmp_path)
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", "-C", str(case.root), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["candidates"] == 0 and summary["images"] == 2 and Path(summary["report"]) == out.absolute()
    doc = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.S).group(1))
    assert [sorted(m["name"] for m in g["members"]) for g in doc["groups"]] == [["mirrored.jpg", "original.jpg"]]
    assert doc["groups"][0]["links"][0]["transform"] != "identity"
    assert any("no reference persons" in n for n in doc["notes"])
    assert doc["custody"]["chain_ok"] and doc["custody"]["actions"]["add"] == 3
    assert doc["blur"] is True
    plain = runner.invoke(app, ["report", "-C", str(case.root), "--out", str(out), "--no-blur", "--no-thumbnails"])
    assert plain.exit_code == 0 and "0 candidate(s), 0 images" in plain.output
    assert no_network == []


def test_review_commands_without_candidates(case, tmp_path: Path) -> None:
    listed = runner.invoke(app, ["review", "list", "-C", str(case.root), "--json"])
    assert listed.exit_code == 0 and json.loads(listed.stdout) == []
    (tmp_path / "d.json").write_text(json.dumps({"format": "something else"}))
    bad = runner.invoke(app, ["review", "import", str(tmp_path / "d.json"), "-C", str(case.root)])
    assert bad.exit_code == 2 and "not a decisions export" in bad.output
    missing = runner.invoke(app, ["review", "set", "abcdef", "confirmed", "-C", str(case.root)])
    assert missing.exit_code == 2 and "no candidate" in missing.output
