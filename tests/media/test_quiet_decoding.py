"""A damaged video through `osint hash` and `osint faces scan` as real processes: FFmpeg's `[mpeg4 @ 0x...]` lines
and Python warnings never reach the terminal, and what the decoder complained about is kept in the result."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from osint.case import Case
from osint.facematch.analyse import STAGE as FACES_STAGE
from osint.hashing.stage import STAGE as HASH_STAGE
from osint.pipeline import _call
from tests.hostile import make_video


def _osint(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "always"}  # a warning that escaped would certainly print
    return subprocess.run([sys.executable, "-m", "osint.cli", *args], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_damaged_video_decodes_quietly_with_its_complaints_kept(tmp_path: Path, workers: str) -> None:
    mp4 = bytearray(make_video(tmp_path / "clean.mp4", "mp4v").read_bytes())
    rng = random.Random(16)
    for _ in range(300):                                    # garbled throughout, header left alone
        mp4[rng.randrange(len(mp4) // 10, len(mp4))] = rng.randrange(256)
    video = tmp_path / "garbled.mp4"
    video.write_bytes(bytes(mp4))
    root = str(tmp_path / "case")
    assert _osint("init", root).returncode == 0
    assert _osint("add", str(video), "-C", root).returncode == 0
    for stage in (["hash"], ["faces", "scan"]):
        done = _osint(*stage, "--workers", workers, "-C", root)
        assert done.returncode == 0, done.stderr
        assert " @ 0x" not in done.stderr and "Warning" not in done.stderr, done.stderr
    with Case.open(Path(root)) as case:
        stored = [r.data for stage in (HASH_STAGE, FACES_STAGE) for r in case.results(stage)]
    assert len(stored) == 2
    for data in stored:
        assert any("damaged" in n or "Error at MB" in n for n in data["decoder_notes"]), data.get("decoder_notes")


def test_pillow_warnings_become_notes_not_output(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    def warns(path: Path) -> dict[str, str]:
        warnings.warn("Corrupt EXIF data.  Expecting to read 12 bytes but only got 2. ", UserWarning, stacklevel=2)
        return {"path": str(path)}

    result, error = _call(warns, tmp_path)
    assert error is None and result["decoder_notes"] == ["UserWarning: Corrupt EXIF data.  Expecting to read 12 "
                                                         "bytes but only got 2. "]
    assert capfd.readouterr().err == ""
