"""Two `osint add` runs over the same files at the same time: between them every file is counted once as
added, and the other run calls it already present (never a second "added" or "new-source")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from osint.ingest import add_paths
from tests.conftest import make_photo


def test_an_acquisition_stored_meanwhile_by_another_add_is_already(case, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    photo = make_photo(tmp_path / "a.jpg")
    assert add_paths(case, [photo], collector="tester").as_dict()["added"] == 1
    # the race: this run checked for the acquisition before the other run stored it
    monkeypatch.setattr(type(case), "has_acquisition", lambda *a, **k: False)
    again = add_paths(case, [photo], collector="tester").as_dict()
    assert again["already"] == 1 and again["new-source"] == 0 and again["added"] == 0


def test_concurrent_adds_count_each_file_once(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for i in range(30):
        make_photo(folder / f"{i:02d}.jpg", seed=i)
    root = tmp_path / "case"
    cli = [sys.executable, "-m", "osint.cli"]
    subprocess.run([*cli, "init", str(root)], check=True, capture_output=True)
    runs = [subprocess.Popen([*cli, "add", str(folder), "-C", str(root), "--collector", "tester", "--json"],
                             stdout=subprocess.PIPE, text=True) for _ in range(2)]
    counts = [json.loads(run.communicate(timeout=300)[0])["summary"] for run in runs]
    assert sum(c["added"] for c in counts) == 30
    assert sum(c["new-source"] for c in counts) == 0 and sum(c["already"] for c in counts) == 30
