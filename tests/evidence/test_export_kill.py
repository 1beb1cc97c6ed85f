"""`evidence export` killed with SIGKILL at many points: the bundle and its custody entry exist both or neither
once the case is next opened, and no partial bundle (holding copies of originals) is left anywhere."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osint.case import Case
from osint.evidence import verify_bundle

KILLS = 7


def _export_cmd(case: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "from osint.cli import run; run()", "evidence", "export", "--all", "-o", str(out),
            "-C", str(case), "--actor", "lead"]


def _add_big_original(case: Case, tmp_path: Path) -> None:
    """A 24 MB original, so that writing the bundle takes long enough to be killed in the middle."""
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(24 << 20))
    case.add_item(case.stage_file(src), media_type="video", format="mp4", mime="video/mp4", width=None,
                  height=None, metadata={}, metadata_error=None, original_path=str(src), original_mtime=None,
                  collector="volunteer")


def _settled(case_dir: Path, out: Path) -> None:
    """Open the case (what the next run does), then check: bundle and entry both or neither, nothing partial."""
    with Case.open(case_dir) as case:
        logged = [e for e in case.custody() if e.action == "export" and e.outputs.get("bundle") == out.name]
        assert len(logged) == (1 if out.exists() else 0), (out, logged)
        assert list(out.parent.glob(f".{out.name}.*")) == []
        assert list((case_dir / "pending").glob("*")) == []
        assert case.verify().ok
    if out.exists():
        assert verify_bundle(out).ok


def _wait_for(test, limit: float = 60.0) -> float:
    started = time.monotonic()
    while not test():
        assert time.monotonic() - started < limit, "timed out"
        time.sleep(0.002)
    return time.monotonic()


@pytest.mark.parametrize("suffix", ["", ".zip"], ids=["folder", "zip"])
def test_kill_9_during_export_leaves_bundle_and_entry_both_or_neither(world, tmp_path, suffix):
    _add_big_original(world.case, tmp_path)
    case_dir = world.case.root
    whole = tmp_path / f"whole{suffix}"
    proc = subprocess.Popen(_export_cmd(case_dir, whole), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    begun = _wait_for(lambda: list(tmp_path.glob(f".{whole.name}.*.part")))
    writing = _wait_for(whole.exists) - begun   # from the first partial byte to the bundle in place
    assert proc.wait() == 0
    _settled(case_dir, whole)
    outcomes = []
    for i in range(KILLS):
        out = tmp_path / f"bundle-{i}{suffix}"
        proc = subprocess.Popen(_export_cmd(case_dir, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for(lambda out=out: list(tmp_path.glob(f".{out.name}.*.part")))
        time.sleep(writing * 1.2 * i / (KILLS - 1))  # from the partial's first byte to past publishing it
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        partial = bool(list(tmp_path.glob(f".{out.name}.*")))
        _settled(case_dir, out)
        outcomes.append((out.exists(), partial))
    again = tmp_path / f"again{suffix}"   # the next export still works
    subprocess.run(_export_cmd(case_dir, again), check=True, capture_output=True)
    _settled(case_dir, again)
    assert outcomes[0] == (False, True), outcomes   # killed while copying: a partial, then nothing
