"""Decisions: recorded in the case and custody, imported from the page's export (idempotent, per-entry
errors), and carried into evidence bundles of the item they concern."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osint.ingest import add_file
from osint.report import (EXPORT_FORMAT, Candidate, DecisionError, candidate_id, case_decisions, import_decisions,
                          record_decision, resolve)
from tests.conftest import make_photo


def _candidate(item: str, face: int = 0) -> Candidate:
    return Candidate(candidate_id("p1", item, face, None), "p1", item, face, 0.41, 0.55, 0.001, "fused")


def _export(path: Path, case_id: str, decisions: list[dict]) -> Path:
    path.write_text(json.dumps({"format": EXPORT_FORMAT, "case_id": case_id, "decisions": decisions}))
    return path


@pytest.fixture
def item(case, tmp_path: Path) -> str:
    sha = add_file(case, make_photo(tmp_path / "found.jpg", seed=3), collector="tester").sha256
    assert sha
    return sha


def test_decision_goes_to_case_and_custody(case, item: str) -> None:
    cand = _candidate(item)
    record_decision(case, cand, "unsure", "Olena", "similar, but the photo is blurred")
    record_decision(case, cand, "confirmed", "Olena", "same scar on the chin")   # replaces her earlier one
    record_decision(case, cand, "rejected", "Taras")
    got = {(d.reviewer, d.decision) for d in case_decisions(case)}
    assert got == {("Olena", "confirmed"), ("Taras", "rejected")}
    logged = [e for e in case.custody() if e.action == "review"]
    assert [e.details["decision"] for e in logged] == ["unsure", "confirmed", "rejected"]
    assert [e.actor for e in logged] == ["Olena", "Olena", "Taras"] and logged[0].inputs["item"] == item
    assert case.verify().ok
    with pytest.raises(DecisionError):
        record_decision(case, cand, "maybe", "Olena")
    with pytest.raises(DecisionError):
        record_decision(case, cand, "confirmed", "  ")


def test_import_is_idempotent_and_reports_bad_entries(case, item: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSINT_ACTOR", "importer")
    good, other = _candidate(item, 0), _candidate(item, 1)
    known = {good.id: good, other.id: other}
    entries = [{"candidate": good.id, "decision": "confirmed", "reviewer": "Olena", "comment": "ok",
                "time": "2026-11-24T10:00:00Z"},
               {"candidate": "ffffffffffff", "decision": "rejected", "reviewer": "Olena"},
               {"candidate": other.id, "decision": "probably", "reviewer": "Olena"},
               {"candidate": other.id, "decision": "unsure", "reviewer": ""}]
    path = _export(tmp_path / "d.json", case.id, entries)
    first = import_decisions(case, path, known)
    assert (first.recorded, first.already, len(first.errors)) == (1, 0, 3)
    assert "ffffffffffff" in first.errors[0] and "probably" in first.errors[1] and "reviewer" in first.errors[2]
    again = import_decisions(case, path, known)
    assert (again.recorded, again.already) == (0, 1)
    logged = [e for e in case.custody() if e.action == "review"]
    assert [(e.details["via"], e.actor) for e in logged] == [("report", "Olena")]
    assert logged[0].details["recorded_by"] == "importer" and len(logged[0].details["file_sha256"]) == 64
    with pytest.raises(DecisionError, match="another case"):
        import_decisions(case, _export(tmp_path / "x.json", "not-this-case", entries), known)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(DecisionError, match="not a JSON file"):
        import_decisions(case, tmp_path / "bad.json", known)
    assert resolve(known, good.id.upper()) == good
    with pytest.raises(DecisionError, match="no candidate"):
        resolve(known, "zz")


def test_evidence_bundle_of_the_item_carries_its_decisions(case, item: str, tmp_path: Path) -> None:
    from osint.evidence import create_key, export_bundle, select_items, unlock, verify_bundle

    record_decision(case, _candidate(item), "confirmed", "Olena", "same scar")
    key = create_key("Lead", "pass phrase", folder=tmp_path / "keys")
    out = export_bundle(case, select_items(case, prefixes=[item[:12]]), tmp_path / "bundle", unlock(key, "pass phrase"))
    assert verify_bundle(out.path, trusted=[key.fingerprint]).ok
    doc = json.loads((out.path / "data" / "results.json").read_text())
    decisions = [r["data"] for r in doc["records"] if r["kind"] == "decision"]
    assert decisions and decisions[0]["decision"] == "confirmed" and decisions[0]["item"] == item


@pytest.mark.parametrize("content", ["[" * 100_000, '{"format": "%s", "case_id": "%s", "decisions": 5}',
                                     '{"format": "%s", "case_id": "%s", "decisions": {"a": 1}}', "\x00\xff", ""])
def test_any_malformed_file_is_one_clear_error(case, tmp_path: Path, content: str) -> None:
    path = tmp_path / "d.json"
    path.write_bytes((content % (EXPORT_FORMAT, case.id) if "%s" in content else content).encode("utf-8", "replace"))
    with pytest.raises(DecisionError, match=str(path)):
        import_decisions(case, path, {})


def test_an_imported_time_is_the_reviewers_claim_beside_the_time_of_import(case, item: str, tmp_path: Path) -> None:
    cand = _candidate(item)
    path = _export(tmp_path / "d.json", case.id, [{"candidate": cand.id, "decision": "confirmed", "reviewer": "Olena",
                                                   "time": "1999-01-01T00:00:00Z"}])
    assert import_decisions(case, path, {cand.id: cand}).recorded == 1
    data = case.records("decision")[f"{cand.id}:Olena"]
    assert data["claimed_time"] == "1999-01-01T00:00:00Z" and data["time"] > "2026"
    assert [d.time for d in case_decisions(case)] == [data["time"]]
    entry = [e for e in case.custody() if e.action == "review"][-1]
    assert entry.details["claimed_time"] == "1999-01-01T00:00:00Z" and entry.time[:10] == data["time"][:10]
    assert import_decisions(case, path, {cand.id: cand}).already == 1   # the same file again: nothing new
