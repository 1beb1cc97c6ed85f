"""Project VIC VICS 2.0 JSON: the hash and match results in the OData layout victim-ID tools import.

Filled per Media entry: MediaID (1..n in bundle order), MD5 and SHA1 (upper-case hex, as distributed),
MediaSize, RelativeFilePath (the original inside the bundle), Category 0 ("uncategorised": the toolkit
never categorises material; the receiving team does), IsPrecategorized "false", MediaFiles (each
acquisition's file name and folder), Tags ("osint", the bundle's person ids found in the item's results,
"stage:<name>" for each stage with a result) and Comments (SHA-256, source URLs, one line per stage
result that names a bundled person, marked as a candidate for human review, and one per record naming the
item, such as a reviewer's decision, with its person, decision, reviewer, distance, FMR and model).
Case level: CaseID (the case UUID), CaseNumber (case name), SourceApplicationName/Version. Nothing else is
filled.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from osint import __version__
from osint.case import Case
from osint.evidence.select import Selection, strings

SHOWN = ("person", "decision", "reviewer", "distance", "fmr", "population", "model")   # record fields quoted in Comments
ODATA_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"


def vics_json(case: Case, selection: Selection, doc: dict[str, Any], hashed: dict[str, Any]) -> bytes:
    """VICS JSON bytes for the bundle's items; `doc` is results.json's content, `hashed` rel -> digests."""
    media = []
    for n, item in enumerate(doc["items"], 1):
        digest = hashed[item["file"]]
        results = [r for r in doc["results"] if r["sha256"] == item["sha256"]]
        named = [(r, p) for r in results for p in selection.persons if p in strings(r["data"])]
        comments = [f"SHA-256 {item['sha256']}"]
        comments += [f"source {a['source_url']}" for a in item["acquisitions"] if a["source_url"]]
        comments += [f"candidate for human review: {r['stage']} {r['version']} names {p}" for r, p in named]
        comments += [f"{rec['kind']} {rec['key']}: " + ", ".join(f"{k} {rec['data'][k]}" for k in SHOWN
                                                                  if k in rec["data"])
                     for rec in doc["records"] if isinstance(rec["data"], dict)
                     and item["sha256"] in strings(rec["data"]) and any(k in rec["data"] for k in SHOWN)]
        tags = ["osint", *sorted({p for _, p in named}), *sorted({f"stage:{r['stage']}" for r in results})]
        media.append({
            "MediaID": n, "Category": 0, "IsPrecategorized": "false",
            "MD5": digest.md5.upper(), "SHA1": digest.sha1.upper(), "MediaSize": item["size"],
            "RelativeFilePath": item["file"],
            "MediaFiles": [{"FileName": PurePath(a["original_path"]).name,
                            "FilePath": str(PurePath(a["original_path"]).parent),
                            "MD5": digest.md5.upper()} for a in item["acquisitions"]],
            "Tags": ";".join(tags), "Comments": "; ".join(comments)})
    return vics_document(case, media)


def vics_document(case: Case, media: list[dict[str, Any]]) -> bytes:
    """The VICS 2.0 OData envelope (one case: its id, name, this application) around Media entries, as bytes."""
    out = {"@odata.context": ODATA_CONTEXT,
           "value": [{"CaseID": case.id, "CaseNumber": case.name, "SourceApplicationName": "osint",
                      "SourceApplicationVersion": __version__, "Media": media}]}
    return json.dumps(out, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
