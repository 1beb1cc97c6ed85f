"""An impossible GPS position (latitude 95) is a flag on the answer, never an item error."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from osint.cli import app
from tests.geolocate.conftest import gps_photo


def test_latitude_95_is_flagged_not_failed(tmp_path: Path) -> None:
    runner = CliRunner()
    case_dir = tmp_path / "case"
    assert runner.invoke(app, ["init", str(case_dir)]).exit_code == 0
    c = ["--case", str(case_dir)]
    bad = gps_photo(tmp_path / "pole.jpg", lat=(95.0, 0.0, 0.0), lon=(30.0, 0.0, 0.0))
    good = gps_photo(tmp_path / "kyiv.jpg", seed=1)
    assert runner.invoke(app, ["add", str(bad), str(good), *c]).exit_code == 0
    res = runner.invoke(app, ["geolocate", "-w", "1", *c, "--json"])
    assert res.exit_code == 0, res.output
    answers = {Path(r["file"]).name if "file" in r else r["source"]: r for r in json.loads(res.stdout)}
    flagged = [a for r in answers.values() for a in r.get("answers", []) if a["lat"] == 95.0]
    assert len(flagged) == 1 and any("not on Earth" in f for f in flagged[0]["flags"])
    assert flagged[0]["place"] is None
    assert sum(1 for r in answers.values() for a in r.get("answers", []) if a.get("place")) == 1
    out = tmp_path / "map.html"
    res = runner.invoke(app, ["map", "--out", str(out), *c])
    assert res.exit_code == 0, res.output
