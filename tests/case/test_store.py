"""The case store and its custody log: every kind of tampering is found and located."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from osint.case import Case, CustodyEntry, check_chain
from osint.errors import CaseError
from osint.ingest import add_paths
from tests.conftest import make_photo


@pytest.fixture
def filled(case: Case, tmp_path: Path) -> Case:
    for i in range(4):
        make_photo(tmp_path / "in" / f"{i}.jpg", seed=i)
    add_paths(case, [tmp_path / "in"], collector="volunteer-17")
    case.put_results("demo", "v1", [(it.sha256, {"n": 1}, None) for it in case.items()], actor="analyst")
    return case


def _raw(case: Case) -> sqlite3.Connection:
    return sqlite3.connect(case.root / "case.db", isolation_level=None)


def test_intact_case_verifies(filled: Case) -> None:
    report = filled.verify()
    assert report.ok and report.entries == 6 and report.objects == 4
    assert report.head == filled.custody()[-1].hash
    entries = filled.custody()
    assert [e.action for e in entries] == ["init", "add", "add", "add", "add", "analyse:demo"]
    assert all(b.prev == a.hash for a, b in zip(entries, entries[1:]))
    assert entries[-1].actor == "analyst" and entries[1].actor == "volunteer-17"


def test_edited_entry_is_found(filled: Case) -> None:
    db = _raw(filled)
    raw = db.execute("SELECT entry FROM custody WHERE seq=3").fetchone()[0]
    db.execute("UPDATE custody SET entry=? WHERE seq=3", (raw.replace("volunteer-17", "someone-else"),))
    problems = filled.verify().problems
    assert problems[0].where == "entry 3" and "edited" in problems[0].reason


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(filled: Case) -> None:
    db = _raw(filled)
    entry = CustodyEntry.decode(db.execute("SELECT entry FROM custody WHERE seq=3").fetchone()[0])
    forged = CustodyEntry(**{**entry.body(), "actor": "someone-else"})
    db.execute("UPDATE custody SET entry=?, hash=? WHERE seq=3", (forged.encode().decode(), forged.hash))
    problems = filled.verify().problems
    assert [p.where for p in problems] == ["entry 4"] and "link" in problems[0].reason


def test_removed_entry_is_found(filled: Case) -> None:
    _raw(filled).execute("DELETE FROM custody WHERE seq=2")
    problems = filled.verify().problems
    assert problems[0].where == "entry 3" and "removed" in problems[0].reason
    assert any(p.kind == "item" for p in problems)  # that item's addition is no longer logged


def test_reordered_entries_are_found(filled: Case) -> None:
    db = _raw(filled)
    a, b = (db.execute("SELECT entry, hash FROM custody WHERE seq=?", (s,)).fetchone() for s in (2, 3))
    db.execute("UPDATE custody SET entry=?, hash=? WHERE seq=2", b)
    db.execute("UPDATE custody SET entry=?, hash=? WHERE seq=3", a)
    problems = filled.verify().problems
    assert problems and problems[0].where == "entry 2"


def test_inserted_entry_is_found(filled: Case) -> None:
    rows = filled.custody_rows()
    seq, raw, digest = rows[2]
    shifted = [(s, r, h) for s, r, h in rows[:3]] + [(seq + 1, raw, digest)] + \
              [(s + 1, r, h) for s, r, h in rows[3:]]
    assert check_chain(shifted)


def test_changed_or_missing_original_is_found(filled: Case) -> None:
    items = filled.items()
    changed = filled.object_path(items[0].sha256)
    os.chmod(changed, 0o644)
    data = bytearray(changed.read_bytes())
    data[100] ^= 0xFF
    changed.write_bytes(bytes(data))
    os.chmod(filled.object_path(items[1].sha256), 0o644)
    filled.object_path(items[1].sha256).unlink()
    problems = {p.where: p.reason for p in filled.verify().problems}
    assert "changed" in problems[items[0].sha256]
    assert "missing" in problems[items[1].sha256]


def test_results_are_cached_by_stage_and_version(filled: Case) -> None:
    items = filled.items()
    assert filled.pending("demo", "v1", items) == []
    assert len(filled.pending("demo", "v2", items)) == 4
    assert filled.result(items[0].sha256, "demo", "v1").data == {"n": 1}


def test_records_are_logged(case: Case) -> None:
    case.put_record("person", "UA-0412", {"name": "Denys K."}, action="refs:add", actor="lead")
    assert case.record("person", "UA-0412") == {"name": "Denys K."}
    assert case.delete_record("person", "UA-0412", action="refs:rm", actor="lead")
    assert [e.action for e in case.custody()][-2:] == ["refs:add", "refs:rm"]
    assert case.verify().ok


def test_item_lookup_by_prefix(filled: Case) -> None:
    sha = filled.items()[0].sha256
    assert filled.item(sha[:10].upper()).sha256 == sha
    with pytest.raises(CaseError):
        filled.item("zz")
    with pytest.raises(CaseError):
        filled.item("0000000000")


def test_open_and_find(tmp_path: Path, filled: Case) -> None:
    sub = filled.root / "derived"
    assert Case.find(sub).id == filled.id
    with pytest.raises(CaseError):
        Case.open(tmp_path / "nowhere")
    with pytest.raises(CaseError):
        Case.create(filled.root)


def test_opening_a_case_spares_partial_files_of_a_live_process(case: Case) -> None:
    live = case._tmp_name()
    live.write_bytes(b"partial copy of a running add")
    dead = case.root / "tmp" / "999999999-0123.part"
    dead.write_bytes(b"left by a killed run")
    Case.open(case.root).close()
    assert live.exists() and not dead.exists()


def test_reading_results_and_records_across_stages(filled: Case) -> None:
    shas = [it.sha256 for it in filled.items()]
    filled.put_results("other", "v1", [(shas[0], {"person": "UA-0412 100%_x"}, None)], actor="a")
    assert [(r.stage, r.data) for r in filled.item_results([shas[0]])] == \
        [("demo", {"n": 1}), ("other", {"person": "UA-0412 100%_x"})]
    assert [r.sha256 for r in filled.search_results("100%_x")] == [shas[0]]
    assert filled.search_results("100%_y") == [] and filled.search_results("0%x") == []  # % and _ are literal
    filled.put_record("person", "UA-0412", {"name": "Denys K."}, action="refs:add")
    assert filled.all_records() == [("person", "UA-0412", {"name": "Denys K."})]


@pytest.mark.parametrize("garbage", ["1", '{"outputs": ["x"]}', "not json"])
def test_verify_reports_a_garbage_custody_row_instead_of_crashing(filled: Case, garbage: str) -> None:
    _raw(filled).execute("UPDATE custody SET entry=? WHERE seq=3", (garbage,))
    problems = filled.verify().problems
    assert problems[0].where == "entry 3"


def test_evidence_first_added_as_a_landmark_becomes_collected(case: Case, tmp_path: Path) -> None:
    photo = make_photo(tmp_path / "site.jpg", seed=5)
    add_paths(case, [photo], collector="lead", role="landmark")
    assert case.items() == []
    copy = tmp_path / "channel" / "repost.jpg"
    copy.parent.mkdir()
    copy.write_bytes(photo.read_bytes())
    outcome = add_paths(case, [copy], collector="volunteer").outcomes[0]
    assert outcome.status == "new-source"
    assert [it.role for it in case.items()] == ["collected"]
    assert case.custody()[-1].details["role_from"] == "landmark"


def _hold_stage_lock(root: str, held: Any, release: Any) -> None:
    from osint.case import Case

    with Case.open(root) as c, c.stage_lock("hash", "v1"):
        held.set()
        release.wait(30)


def test_a_run_that_waits_for_another_on_the_same_stage_says_so(case: Any, capfd: Any) -> None:
    """A second run of a stage waits for the first (no double work), and says whom it waits for."""
    import multiprocessing
    import threading

    ctx = multiprocessing.get_context("spawn")
    held, release = ctx.Event(), ctx.Event()
    other = ctx.Process(target=_hold_stage_lock, args=(str(case.root), held, release))
    other.start()
    try:
        assert held.wait(60)
        threading.Timer(1.0, release.set).start()
        with case.stage_lock("hash", "v1"):
            assert not other.is_alive() or release.is_set()
        err = capfd.readouterr().err
        assert f"waiting: another osint process (pid {other.pid}) is running stage 'hash'" in err
        with case.stage_lock("hash", "v1"):            # free now: no message
            pass
        assert "waiting" not in capfd.readouterr().err
    finally:
        release.set()
        other.join(30)
