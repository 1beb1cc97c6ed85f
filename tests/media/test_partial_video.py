"""A truncated or garbled video is decoded to its end at ingest: the frames and seconds that decode are
recorded, the video is flagged in add, show, the report and evidence bundles, and analysis covers what decodes."""

from __future__ import annotations

import json
import random
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from tests.conftest import cli_on
from tests.hostile import FRAMES, make_video

@pytest.fixture
def videos(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    intact = make_video(folder / "intact.avi", "MJPG")
    data = intact.read_bytes()
    (folder / "truncated.avi").write_bytes(data[:len(data) // 3])
    mp4 = bytearray(make_video(tmp_path / "clean.mp4", "mp4v").read_bytes())
    rng = random.Random(16)
    for _ in range(300):                                    # garbled throughout, header left alone
        mp4[rng.randrange(len(mp4) // 10, len(mp4))] = rng.randrange(256)
    (folder / "garbled.mp4").write_bytes(bytes(mp4))
    return {p.name: p for p in folder.iterdir()}


def test_partial_and_garbled_videos_are_flagged_and_analysed_as_far_as_they_decode(
        videos: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    root = tmp_path / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0

    osint = cli_on(root)

    added = osint("add", *map(str, videos.values()))
    assert "truncated.avi: partial video: only" in added.output and "garbled.mp4: damaged video" in added.output
    assert "intact.avi" not in added.output
    shown = [json.loads(osint("show", it["sha256"], "--json").stdout) for it in json.loads(osint("ls", "--json").stdout)]
    items = {Path(s["acquisitions"][0]["original_path"]).name: s["item"] for s in shown}
    meta = {name: it["metadata"] for name, it in items.items()}
    assert meta["intact.avi"]["decodable_frames"] == FRAMES and meta["intact.avi"]["decoder_problems"] == 0
    assert meta["truncated.avi"]["frame_count"] == FRAMES and 60 < meta["truncated.avi"]["decodable_frames"] < 100
    assert meta["truncated.avi"]["decodable_duration_s"] < 4.5 and meta["truncated.avi"]["duration_s"] == 10.0
    assert meta["garbled.mp4"]["decoder_problems"] > 0
    told = osint("show", items["truncated.avi"]["sha256"]).output
    assert "partial or damaged video" in told and f"of {FRAMES} declared frames decode" in told

    osint("hash")                                            # analysis covers what decodes, no more, no less
    from osint.case import Case

    with Case.open(root) as case:
        times = {name: max(f["t"] for f in case.result(it["sha256"], "hash", _hash_version()).data["frames"])
                 for name, it in items.items()}
    assert times["intact.avi"] >= 9.0 and 2.0 <= times["truncated.avi"] <= meta["truncated.avi"]["decodable_duration_s"]

    out = tmp_path / "r.html"
    osint("report", "--out", str(out), "--no-thumbnails")
    notes = json.loads(re.search(r'id="report-data">(.*?)</script>', out.read_text(), re.DOTALL).group(1))["notes"]
    assert any(n.startswith("video truncated.avi: partial video") for n in notes)
    assert any(n.startswith("video garbled.mp4: damaged video") for n in notes)

    monkeypatch.setenv("OSINT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OSINT_KEY_PASSPHRASE", "correct horse battery staple")
    assert runner.invoke(app, ["keys", "init", "--name", "Lead"]).exit_code == 0
    bundle = tmp_path / "b.zip"
    osint("evidence", "export", "--all", "--out", str(bundle))
    with zipfile.ZipFile(bundle) as zf:
        text = "".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist() if n.endswith(".json"))
    assert "partial video: only" in text and "damaged video: the decoder reported" in text


def _hash_version() -> str:
    from osint.hashing.hashes import VERSION

    return VERSION
