"""Reviewers' decisions on match candidates: recorded in the case (one record per candidate and reviewer) and
logged in custody, whether made in the terminal or in the report page and imported from its JSON export."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osint.case import Case, default_actor, utcnow
from osint.errors import OsintError
from osint.report.model import DECISIONS, Candidate, Decision

KIND = "decision"
EXPORT_FORMAT = "osint-review-decisions/1"


class DecisionError(OsintError):
    """A decision that cannot be recorded (unknown candidate, bad verdict, no reviewer, wrong case)."""


@dataclass(frozen=True)
class ImportSummary:
    """What `import_decisions` did: recorded now, already recorded identically, and per-entry errors."""

    recorded: int
    already: int
    errors: tuple[str, ...] = field(default_factory=tuple)


def record_decision(case: Case, candidate: Candidate, decision: str, reviewer: str, comment: str = "", *,
                    via: str = "cli", claimed_time: str | None = None,
                    source: dict[str, Any] | None = None) -> Decision:
    """Record `reviewer`'s decision on `candidate` (replacing their earlier one; custody keeps every change,
    with the reviewer as actor and who recorded it, e.g. who imported a page's export, as `recorded_by`).

    `time` is when the case recorded it (this computer's clock); a time the reviewer's page gives is kept
    beside it as `claimed_time`, the reviewer's claim, never in its place.

    The record keeps what was decided on (person, item, face and box, distance, model), so it stays meaningful if
    the match stage is re-run, and it names the item's SHA-256, so evidence bundles of that item carry it."""
    if decision not in DECISIONS:
        raise DecisionError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    reviewer = reviewer.strip()
    if not reviewer:
        raise DecisionError("a decision needs the reviewer's name")
    made = Decision(candidate.id, decision, reviewer, comment.strip(), utcnow())
    data = {"candidate": candidate.id, "decision": decision, "reviewer": reviewer, "comment": made.comment,
            "time": made.time, **({"claimed_time": claimed_time} if claimed_time else {}), "via": via, "person": candidate.person, "item": candidate.item,
            "face": candidate.face, "box": candidate.box, "t": candidate.t, "distance": candidate.distance,
            "threshold": candidate.threshold, "fmr": candidate.fmr, "fmr_is_upper_bound": candidate.fmr_bound,
            "model": candidate.model, "population": candidate.population}
    case.put_record(KIND, _key(candidate.id, reviewer), data, action="review", actor=reviewer,
                    inputs={"candidate": candidate.id, "item": candidate.item, "person": candidate.person},
                    details={"decision": decision, "via": via, "recorded_by": default_actor(),
                             **({"claimed_time": claimed_time} if claimed_time else {}), **(source or {})})
    return made


def case_decisions(case: Case) -> list[Decision]:
    """Every recorded decision, oldest first."""
    found = [Decision(d["candidate"], d["decision"], d["reviewer"], d.get("comment", ""), d["time"])
             for d in case.records(KIND).values()]
    return sorted(found, key=lambda d: (d.time, d.candidate, d.reviewer))


def resolve(candidates: Mapping[str, Candidate], prefix: str) -> Candidate:
    """The candidate whose id is or starts with `prefix` (unique), as typed in the terminal."""
    prefix = prefix.strip().lower()
    found = [c for cid, c in candidates.items() if cid.startswith(prefix)] if prefix else []
    if len(found) != 1:
        raise DecisionError(f"no candidate {prefix!r}" if not found else f"{prefix!r} matches several candidates")
    return found[0]


def import_decisions(case: Case, path: Path | str, candidates: Mapping[str, Candidate]) -> ImportSummary:
    """Record the decisions of a report's JSON export; a bad entry is one error line, the others go on.

    The file must come from a report of this case. Importing the same file twice records nothing new."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        doc = json.loads(raw)
    except OSError as exc:
        raise DecisionError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DecisionError(f"{path}: not a JSON file ({exc})") from None
    except RecursionError:
        raise DecisionError(f"{path}: not a decisions export (JSON nested too deeply to read)") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise DecisionError(f"{path}: not a decisions export of an osint report (format {EXPORT_FORMAT})")
    if doc.get("case_id") != case.id:
        raise DecisionError(f"{path}: made from the report of another case ({doc.get('case_id')}), not {case.id}")
    source = {"file": path.name, "file_sha256": hashlib.sha256(raw).hexdigest()}
    recorded = already = 0
    errors = []
    decisions = doc.get("decisions") or []
    if not isinstance(decisions, list):
        raise DecisionError(f"{path}: \"decisions\" must be a list of decisions, not {type(decisions).__name__}")
    current = case.records(KIND)
    for n, entry in enumerate(decisions, 1):
        try:
            if not isinstance(entry, dict):
                raise DecisionError("not an object")
            cand = candidates.get(str(entry.get("candidate", "")))
            if cand is None:
                raise DecisionError(f"candidate {entry.get('candidate')!r} is not in this case's current matches")
            reviewer, decision = str(entry.get("reviewer", "")).strip(), str(entry.get("decision", ""))
            comment, claimed = str(entry.get("comment") or ""), str(entry.get("time") or "") or None
            old = current.get(_key(cand.id, reviewer))
            if old and (old["decision"], old["comment"], old.get("claimed_time")) == (decision, comment.strip(),
                                                                                       claimed):
                already += 1
                continue
            record_decision(case, cand, decision, reviewer, comment, via="report", claimed_time=claimed,
                            source=source)
            recorded += 1
        except DecisionError as exc:
            errors.append(f"{path}: decision {n}: {exc}")
    return ImportSummary(recorded, already, tuple(errors))


def _key(candidate: str, reviewer: str) -> str:
    return f"{candidate}:{reviewer}"
