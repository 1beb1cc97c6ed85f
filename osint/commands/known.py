"""Known-material commands: `known import` (mark items on a hash list) and `known export` (the case's hashes)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, JsonOption, WorkersOption, emit_json, err,
                                   fail, file_error, make_executor, open_case, out, table)

known_app = typer.Typer(help="Hash lists of known material shared between teams (hashes only, never pictures): "
                             "mark the case's items on a list, or write the case's hashes as one.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(known_app, name="known")


@known_app.command("import")
def import_list(
    file: Path = typer.Argument(..., help="A CSV (header naming sha256, md5, sha1, pdq and/or vpdq columns, a label "
                                          "column, optionally source) or a VICS 2.0 JSON file."),
    name: str = typer.Option(..., "--name", help="The list's name, shown with every mark (e.g. the team or "
                                                 "operation it came from). Importing the same name again replaces "
                                                 "its marks."),
    pdq: Optional[int] = typer.Option(None, "--pdq", min=0, max=128, help="Largest PDQ distance (of 256 bits) at "
                                      "which an item counts as a listed picture. Default 31, the hashing default."),
    max_size: int = typer.Option(256, "--max-size", min=1, help="Refuse lists larger than this many MiB."),
    case_dir: Optional[Path] = CaseOption,
    workers: Optional[int] = WorkersOption,
    as_json: bool = JsonOption,
) -> None:
    """Mark every item of the case that is on a hash list of known material, with the list's name and label.

    An item is known when its SHA-256, MD5 or SHA-1 equals a listed one, or a picture of it (mirrored and
    rotated too) is within the PDQ threshold of a listed PDQ: PDQ here is Meta's reference, so lists from
    other tools compare. A video is known when its vPDQ matches a listed vPDQ (80% of one video's distinct
    frames within 31 bits of the other's, Meta's thresholds; needs the optional vpdq package for new videos).
    Marks show in `ls`, `show`, the report and evidence bundles, and each is logged in custody. Rows that are
    wrong (bad hex, a bad vPDQ, wrong number of cells) get one line each and are skipped; a file that is not
    a list (no label or hash column, too large, not JSON) is refused whole and marks nothing.
    Exit code 1 if any row was skipped.
    """
    import hashlib

    from osint.commands.hashing import _hash_case, _vpdq_case
    from osint.hashing import Thresholds
    from osint.known import ListError, find_marks, mark_known, read_list

    if not name.strip() or "/" in name:
        fail("--name must be a non-empty name without '/'")
    case = open_case(case_dir)
    try:
        hashes = read_list(file, max_bytes=max_size * 1024 * 1024)
    except ListError as exc:
        fail(str(exc))
    for problem in hashes.problems:
        file_error(str(file), problem)
    if hashes.rejected > len(hashes.problems):
        err.print(f"... and {hashes.rejected - len(hashes.problems)} more rows refused", highlight=False)
    threshold = Thresholds().pdq if pdq is None else pdq
    if any(e.kind == "pdq" for e in hashes.entries):
        _hash_case(case, workers, None)
    if any(e.kind == "vpdq" for e in hashes.entries):
        _vpdq_case(case, workers, None)
    digest = hashlib.sha256()
    with open(file, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    marks = find_marks(case, name, hashes, threshold, make_executor(workers, None))
    details = {"list": name, "format": hashes.format, "file": file.name, "entries": len(hashes.entries),
               "rejected": hashes.rejected, "duplicates": hashes.duplicates, "pdq_threshold": threshold}
    removed = mark_known(case, name, digest.hexdigest(), marks, details)
    marked = sorted({m.sha256 for m in marks})
    if as_json:
        emit_json({**details, "marked": len(marked), "unmarked": removed, "problems": hashes.problems,
                   "marks": [m.__dict__ for m in marks]})
    else:
        table(f"{len(marked)} items on list {name!r} ({len(hashes.entries)} hashes read, {hashes.rejected} rows "
              f"refused, {hashes.duplicates} duplicates; PDQ <= {threshold})",
              ["sha256", "label", "source", "matched by", "PDQ bits", "transform / vPDQ shares"],
              [(m.sha256[:12], m.label, m.source, m.by, m.distance if m.by == "pdq" else "",
                "" if m.transform == "identity" else m.transform) for m in marks])
        if removed:
            out.print(f"{removed} earlier marks of {name!r} removed: the list no longer supports them")
    raise typer.Exit(EXIT_SOME_FAILED if hashes.rejected else EXIT_OK)


@known_app.command("export")
def export(
    file: Path = typer.Argument(..., help="Where to write the list (replaced whole, never half-written)."),
    fmt: str = typer.Option("csv", "--format", help="'csv' (sha256, md5, sha1, pdq, vpdq, label, source) or 'vics' "
                                                    "(VICS 2.0 JSON: MD5, SHA1; SHA-256, PDQ and label in Comments; "
                                                    "vPDQ in AlternativeHashes)."),
    label: str = typer.Option("", "--label", help="Label for items not marked known (marked ones keep theirs)."),
    source: str = typer.Option("", "--source", help="The source column. Default: the case's name."),
    case_dir: Optional[Path] = CaseOption,
    workers: Optional[int] = WorkersOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the case's hashes (never pictures) as a list a partner team can import: SHA-256, MD5, SHA-1,
    each photo's PDQ (Meta's reference bits) and each video's vPDQ (with the optional vpdq package; compact
    text: each distinct frame's pdq_hex,quality,seconds joined by ';'), with labels. The export is logged in
    custody."""
    import io

    from osint.commands.common import write_csv
    from osint.commands.hashing import _hash_case, _vpdq_case
    from osint.known import EXPORT_COLUMNS, export_rows, save_export, vics_bytes

    if fmt not in ("csv", "vics"):
        fail("--format must be 'csv' or 'vics'")
    case = open_case(case_dir)
    _hash_case(case, workers, None)
    _vpdq_case(case, workers, None)
    rows = export_rows(case, label, source or case.name, make_executor(workers, None))
    if fmt == "csv":
        buf = io.StringIO()
        write_csv(buf, EXPORT_COLUMNS, rows)
        data = buf.getvalue().encode("utf-8")
    else:
        data = vics_bytes(case, rows)
    save_export(case, file, fmt, rows, data)
    if as_json:
        emit_json({"file": str(file), "format": fmt, "rows": len(rows)})
    else:
        out.print(f"{len(rows)} items written to {file} ({fmt}; hashes and labels only)", highlight=False)
