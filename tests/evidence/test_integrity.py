"""Every row evidence is built from is checked against the custody log: one `sqlite3` statement of tampering
is named by `osint log verify` and refused by `evidence export`; a verify running beside an add sees one state."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from osint.case import Case
from osint.cli import app
from osint.errors import CaseError
from osint.evidence import verify_bundle
from tests.conftest import make_photo
from tests.evidence.conftest import export

runner = CliRunner()


def _sql(case: Case, statement: str, *args: object) -> None:
    db = sqlite3.connect(case.root / "case.db", isolation_level=None)
    assert db.execute(statement, args).rowcount != 0 or statement.startswith("INSERT")
    db.close()


def _stray(case: Case) -> None:
    folder = case.root / "objects" / "ab"
    folder.mkdir(exist_ok=True)
    (folder / ("ab" + "0" * 62)).write_bytes(b"planted")


# (name, tampering, the kind and place `log verify` must name, a word of its reason)
EDITS = [
    ("acquisition forged", lambda w: _sql(w.case, "UPDATE acquisitions SET source_url='https://evil.example/', "
                                                  "collector='mallory' WHERE id=3"),
     "acquisition", "acquisition 3 of", "source_url"),
    ("item deleted", lambda w: _sql(w.case, "DELETE FROM items WHERE sha256=?", w.other[0]),
     "item", "{other0}", "deleted"),
    ("result deleted", lambda w: _sql(w.case, "DELETE FROM results WHERE stage='phash'"),
     "result", "result phash/1 of {a}", "deleted"),
    ("result edited", lambda w: _sql(w.case, "UPDATE results SET data='{{\"faces\": []}}' WHERE stage='faces' "
                                             "AND sha256=?".format(), w.ua0412[0]),
     "result", "result faces/yunet-1 of {a}", "changed"),
    ("result inserted", lambda w: _sql(w.case, "INSERT INTO results VALUES (?, 'match', 'sface-1', "
                                               "'{\"faces\": []}', NULL, '2026-01-01')", w.other[0]),
     "result", "result match/sface-1 of {other0}", "inserted"),
    ("decision flipped", lambda w: _sql(w.case, "UPDATE records SET data=replace(data, 'rejected', 'confirmed') "
                                                "WHERE kind='decision'"),
     "record", "record decision/c1:lead-maria", "changed"),
    ("record deleted", lambda w: _sql(w.case, "DELETE FROM records WHERE kind='person' AND key='UA-0500'"),
     "record", "record person/UA-0500", "deleted"),
    ("last entry deleted", lambda w: _sql(w.case, "DELETE FROM custody WHERE seq=(SELECT max(seq) FROM custody)"),
     "custody", "head", "removed"),
    ("role changed", lambda w: _sql(w.case, "UPDATE items SET role='landmark' WHERE sha256=?", w.ua0412[0]),
     "item", "{a}", "role"),
    ("stray object", lambda w: _stray(w.case), "object", "objects/ab/ab000", "no item"),
]


@pytest.mark.parametrize("name,tamper,kind,where,word", EDITS, ids=[e[0] for e in EDITS])
def test_each_edit_is_named_by_log_verify_and_refused_by_export(world, tmp_path, name, tamper, kind, where,
                                                                 word):
    assert world.case.verify().ok
    tamper(world)
    where = where.format(a=world.ua0412[0], other0=world.other[0])
    problems = world.case.verify().problems
    assert any(p.kind == kind and p.where.startswith(where) and word in p.reason for p in problems), problems
    result = runner.invoke(app, ["log", "verify", "-C", str(world.case.root)])
    assert result.exit_code == 1 and "BROKEN" in result.output and where[:40] in result.output
    entries = len(world.case.custody_rows())
    for out in (tmp_path / "bundle", tmp_path / "bundle.zip"):
        with pytest.raises(CaseError, match="does not verify"):
            export(world, out, everything=True)
        assert not out.exists() and not list(tmp_path.glob(".bundle*"))
    assert len(world.case.custody_rows()) == entries  # nothing logged as exported


def test_removed_last_entry_is_found_by_the_anchor_outside_the_database(world):
    head = world.case.head()
    _sql(world.case, "DELETE FROM custody WHERE seq=(SELECT max(seq) FROM custody)")
    assert world.case.verify().problems[0].where == "head"
    (world.case.root / "custody.head").unlink()  # the anchor removed too: still not silently OK
    assert not world.case.verify().ok
    assert head != world.case.head()


def test_an_exported_bundle_carries_the_head_it_was_verified_at(world, tmp_path):
    result = export(world, tmp_path / "bundle")
    info = (tmp_path / "bundle" / "bag-info.txt").read_text()
    entry = world.case.custody()[-1]
    assert entry.seq == result.custody_seq and entry.action == "export"
    assert f"Custody-Head: {entry.outputs['custody_head']}" in info
    assert world.case.verify().ok and verify_bundle(tmp_path / "bundle").ok


def test_a_redacted_record_must_name_a_hash_the_log_recorded(world, tmp_path):
    """The visible part of a redacted record cannot be re-hashed, but the hash it claims must be the logged one."""
    from tests.evidence.test_verify import _reseal

    export(world, tmp_path / "bundle")
    path = tmp_path / "bundle" / "data" / "results.json"
    doc = json.loads(path.read_text())
    redacted = [r for r in doc["results"] + doc["records"] if r["redacted"]]
    assert redacted, "the world must export something redacted"
    redacted[0]["logged_sha256"] = "f" * 64
    path.write_text(json.dumps(doc))
    _reseal(tmp_path / "bundle", signer=world.lead)
    failures = [str(f) for f in verify_bundle(tmp_path / "bundle", pubkey=world.lead.info.public_key).failures]
    assert any("redacted" in f and "custody" in f for f in failures), failures


def test_log_verify_reads_one_snapshot_during_a_concurrent_add(tmp_path):
    """`log verify` run again and again while another process adds photos never reports a half-seen add."""
    case = Case.create(tmp_path / "case", actor="t")
    for i in range(60):
        make_photo(tmp_path / "in" / f"{i:02d}.jpg", seed=i, size=(64, 48))
    adder = subprocess.Popen([sys.executable, "-c", "from osint.cli import run; run()", "add", str(tmp_path / "in"),
                              "-C", str(case.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checks = 0
    try:
        while adder.poll() is None or checks < 3:
            report = Case.open(case.root).verify()
            assert report.ok, report.problems
            checks += 1
            time.sleep(0.01)
    finally:
        adder.wait(60)
    assert adder.returncode == 0 and len(case.items()) == 60 and checks >= 3
