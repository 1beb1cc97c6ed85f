"""The batch shape: one input that kills its worker process takes only itself down, and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

from osint.case import Case
from osint.ingest import add_paths
from osint.pipeline import InlineExecutor, PoolExecutor, run_stage
from tests.conftest import db_count, make_photo

MARK = b"KILL-MY-WORKER"


def size_or_die(path: Path) -> dict[str, int]:
    """A stage computation that dies like a crashing decoder on the marked file."""
    data = path.read_bytes()
    if MARK in data:
        os._exit(3)
    return {"size": len(data)}


def test_a_worker_killed_by_one_input_costs_only_that_input(case: Case, tmp_path: Path) -> None:
    for i in range(12):
        make_photo(tmp_path / "in" / f"{i:02d}.jpg", seed=i, size=(64, 48))
    bad = tmp_path / "in" / "05.jpg"
    bad.write_bytes(bad.read_bytes() + MARK)  # still a valid JPEG: bytes after the end marker
    add_paths(case, [tmp_path / "in"], collector="v")
    bad_sha = next(a.sha256 for a in case.acquisitions() if a.original_path.endswith("05.jpg"))

    run = run_stage(case, "size", "v1", size_or_die, case.items(), executor=PoolExecutor(2), chunk=4)

    assert run.computed == 11 and list(run.errors) == [bad_sha]
    assert "worker process died" in run.errors[bad_sha]
    stored = {r.sha256: r for r in case.results("size", "v1")}
    assert len(stored) == 12 and stored[bad_sha].error and all(
        r.data == {"size": case.object_path(s).stat().st_size} for s, r in stored.items() if s != bad_sha)
    assert case.verify().ok


def test_pool_and_inline_store_the_same(case: Case, tmp_path: Path) -> None:
    for i in range(6):
        make_photo(tmp_path / "in" / f"{i}.jpg", seed=i, size=(64, 48))
    add_paths(case, [tmp_path / "in"], collector="v")
    run_stage(case, "size", "inline", size_or_die, case.items(), executor=InlineExecutor())
    run_stage(case, "size", "pool", size_or_die, case.items(), executor=PoolExecutor(2))
    assert {r.sha256: r.data for r in case.results("size", "inline")} == \
        {r.sha256: r.data for r in case.results("size", "pool")}


def test_an_unreadable_original_is_reported_but_not_cached(case: Case, tmp_path: Path) -> None:
    for i in range(3):
        make_photo(tmp_path / "in" / f"{i}.jpg", seed=i, size=(64, 48))
    add_paths(case, [tmp_path / "in"], collector="v")
    gone = case.items()[1].sha256
    hidden = case.object_path(gone).rename(tmp_path / "away")  # a share that went away for a moment
    run = run_stage(case, "size", "v1", size_or_die, case.items())
    assert list(run.errors) == [gone] and "retried on the next run" in run.errors[gone]
    assert {r.sha256 for r in case.results("size", "v1")} == {it.sha256 for it in case.items()} - {gone}
    hidden.rename(case.object_path(gone))
    again = run_stage(case, "size", "v1", size_or_die, case.items())
    assert (again.computed, again.cached, again.errors) == (1, 2, {})


def _cli_case(tmp_path: Path, photos: int) -> tuple[list[str], Path]:
    """A case made by the CLI in a subprocess holding `photos` small generated photos; the command prefix to run
    osint in a subprocess, and the case folder."""
    import subprocess
    import sys

    for i in range(photos):
        make_photo(tmp_path / "in" / f"{i:03d}.jpg", seed=i, size=(64, 48), quality=70)
    case = tmp_path / "case"
    cmd = [sys.executable, "-m", "osint.cli"]
    subprocess.run([*cmd, "init", str(case)], check=True, capture_output=True)
    subprocess.run([*cmd, "add", str(tmp_path / "in"), "-C", str(case)], check=True, capture_output=True)
    return cmd, case


def test_kill_9_mid_analysis_then_rerun_computes_each_item_once(tmp_path: Path) -> None:
    import signal
    import subprocess
    import time

    cmd, case = _cli_case(tmp_path, 600)
    db = case / "case.db"
    proc = subprocess.Popen([*cmd, "hash", "-C", str(case), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while db_count(db, "SELECT count(*) FROM results") < 64 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = db_count(db, "SELECT count(*) FROM results")
    assert 64 <= killed_at < 600, "the kill must land part-way through"

    again = subprocess.run([*cmd, "hash", "-C", str(case), "--workers", "1"], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert db_count(db, "SELECT count(*) FROM results WHERE error IS NULL") == 600
    logged = db_count(db, "SELECT sum(json_array_length(json_extract(entry, '$.inputs.items'))) FROM custody "
                        "WHERE json_extract(entry, '$.action') = 'analyse:hash'")
    assert logged == 600, "each item's result is logged exactly once, across the killed run and the re-run"
    with Case.open(case) as opened:
        assert opened.verify().ok


def test_two_concurrent_hash_runs_compute_and_log_each_result_once(tmp_path: Path) -> None:
    import subprocess

    cmd, case = _cli_case(tmp_path, 120)
    runs = [subprocess.Popen([*cmd, "hash", "-C", str(case), "--workers", "1", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600)[0] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], outs
    db = case / "case.db"
    logged = db_count(db, "SELECT sum(json_array_length(json_extract(entry, '$.inputs.items'))) FROM custody "
                        "WHERE json_extract(entry, '$.action') = 'analyse:hash'")
    assert db_count(db, "SELECT count(*) FROM results") == 120 and logged == 120
    with Case.open(case) as opened:
        assert opened.verify().ok


def test_a_result_already_stored_is_kept_not_logged_again(case: Case, tmp_path: Path) -> None:
    make_photo(tmp_path / "a.jpg", seed=1)
    add_paths(case, [tmp_path / "a.jpg"], collector="t")
    sha = case.items()[0].sha256
    assert case.put_results("s", "1", [(sha, {"n": 1}, None)]) is not None
    assert case.put_results("s", "1", [(sha, {"n": 2}, None)]) is None   # a concurrent run's duplicate
    assert case.result(sha, "s", "1").data == {"n": 1} and case.verify().ok
