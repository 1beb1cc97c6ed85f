"""Case commands: `init`, `add`, `ls`, `show`, `log`, `log verify`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, JsonOption, emit_json, err, fail,
                                   file_error, open_case, out, printable, progress, table)

log_app = typer.Typer(help="The custody log: every action on the case, hash-chained.", no_args_is_help=False)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("add")(add)
    app.command("ls")(ls)
    app.command("show")(show)
    app.add_typer(log_app, name="log")


def init(
    folder: Path = typer.Argument(Path("."), help="Folder for the new case (created if missing)."),
    name: Optional[str] = typer.Option(None, help="Case name shown in reports. Default: the folder name."),
    actor: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who creates the case (custody log)."),
    as_json: bool = JsonOption,
) -> None:
    """Create a case: a folder holding the originals, an SQLite database and the custody log.

    Everything stays in that folder; no server, nothing sent anywhere.
    """
    from osint.case import Case
    from osint.errors import OsintError

    try:
        case = Case.create(folder, name=name, actor=actor)
    except OsintError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"case": str(case.root), "id": case.id, "name": case.name})
    else:
        out.print(f"Created case [bold]{case.name}[/] ({case.id}) in {case.root}")


def add(
    paths: list[Path] = typer.Argument(..., help="Files and folders to add (folders are walked; folder symlinks are not followed)."),
    source_url: str = typer.Option("", "--source-url", help="Where the material was collected from (a channel, a page)."),
    collector: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who collected it. Default: $OSINT_ACTOR or your user name."),
    note: str = typer.Option("", help="Free text kept with each acquisition, e.g. how it was scraped."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Add collected photos and videos to the case, byte for byte.

    Files are recognised by content (JPEG, PNG, WebP, HEIC/HEIF, TIFF, GIF; MP4, MOV, MKV, WebM, AVI),
    decoded once to prove they are intact, stored read-only under their SHA-256, and logged in the custody
    log. The same bytes from two places are one item with two acquisitions; adding the same file again does
    nothing, so an interrupted run can simply be repeated. Damaged files and files named like media that are
    not media fail with one line each; other files are skipped. Exit code 1 if any input failed.
    """
    from osint.case import default_actor
    from osint.ingest import add_walked, walk

    case = open_case(case_dir)
    collector = collector or default_actor()
    entries = list(walk(paths))
    with progress("adding", len(entries)) as advance:
        def on_file(outcome) -> None:  # type: ignore[no-untyped-def]
            if outcome.status == "failed":
                file_error(outcome.path, outcome.error or "failed")
            elif outcome.warning:
                err.print(f"[yellow]warning:[/] {escape(printable(outcome.path))}: {escape(printable(outcome.warning))}",
                      highlight=False)
            advance(1, Path(outcome.path).name)

        summary = add_walked(case, entries, collector=collector, source_url=source_url, note=note,
                             on_file=on_file)
    counts = summary.as_dict()
    if as_json:
        emit_json({"summary": counts, "files": [o.__dict__ for o in summary.outcomes]})
    else:
        skipped = [o for o in summary.outcomes if o.status == "skipped"]
        for o in skipped[:20]:
            err.print(f"skipped: {printable(o.path)}: {printable(o.error)}", highlight=False, markup=False)
        if len(skipped) > 20:
            err.print(f"... and {len(skipped) - 20} more skipped", highlight=False)
        out.print(f"{counts['added']} added, {counts['new-source']} new sources of stored items, "
                  f"{counts['already']} already in the case, {counts['skipped']} skipped (not media), "
                  f"{counts['failed']} failed", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


def ls(
    media_type: Optional[str] = typer.Option(None, "--type", help="Only 'image' or 'video'."),
    role: str = typer.Option("collected", help="'collected' (default), 'reference', 'landmark' or 'all'."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """List the items in the case (full SHA-256 with --json; any unique prefix works with `show`)."""
    from osint.known import known_marks, known_text

    case = open_case(case_dir)
    items = case.items(media_type=media_type, role=None if role == "all" else role)
    known = known_marks(case)
    if as_json:
        emit_json([{**it.__dict__, "metadata": None, "sources": len(case.acquisitions(it.sha256)),
                    "known": known.get(it.sha256, [])} for it in items])
        return
    rows = []
    for it in items:
        acq = case.acquisitions(it.sha256)
        dims = f"{it.width}x{it.height}" if it.width else ""
        rows.append((it.sha256[:12], it.media_type, it.format, dims, _size(it.size), len(acq),
                     Path(acq[0].original_path).name if acq else "", known_text(known.get(it.sha256, []))))
    table(f"{case.name}: {len(items)} items", ["sha256", "type", "format", "pixels", "size", "sources", "first name",
                                               "known (list: label)"], rows)


def show(
    sha: str = typer.Argument(..., help="SHA-256 of the item, or any unique prefix (4+ hex digits)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Show one item: its acquisitions, metadata, stored results and custody entries."""
    from osint.errors import OsintError

    case = open_case(case_dir)
    try:
        item = case.item(sha)
    except OsintError as exc:
        fail(str(exc))
    acqs = case.acquisitions(item.sha256)
    entries = [e for e in case.custody() if item.sha256 in str(e.inputs) or item.sha256 in str(e.outputs)]
    results = [(r.stage, r.version, r.error is None) for r in case.item_results([item.sha256])]
    from osint.known import known_marks

    known = known_marks(case).get(item.sha256, [])
    if as_json:
        emit_json({"item": item.__dict__, "stored_at": str(case.object_path(item.sha256)),
                   "acquisitions": [a.__dict__ for a in acqs], "known": known,
                   "results": [{"stage": s, "version": v, "ok": bool(ok)} for s, v, ok in results],
                   "custody": [e.body() | {"hash": e.hash} for e in entries]})
        return
    out.print(f"[bold]{item.sha256}[/]  {item.media_type}/{item.format}  {_size(item.size)}  "
              f"{item.width}x{item.height}  role={item.role}")
    out.print(f"stored at {case.object_path(item.sha256)}", highlight=False)
    if item.metadata_error:
        label = "partial or damaged video" if item.media_type == "video" else "metadata error"
        out.print(f"[yellow]{label}:[/] {escape(printable(item.metadata_error))}")
    table("acquisitions", ["when (UTC)", "collector", "source URL", "original path", "note"],
          [(a.acquired_at, a.collector, a.source_url, a.original_path, a.note) for a in acqs])
    meta = {k: v for k, v in item.metadata.items() if k != "exif"}
    exif = item.metadata.get("exif", {})
    table("metadata", ["key", "value"], [*meta.items(), *sorted(exif.items())[:60]])
    if known:
        table("known material (on hash lists: osint known import)", ["list", "label", "source", "matched by"],
              [(m["list"], m["label"], m["source"], m["by"] + (f" {m['distance']} bits" if m["by"] == "pdq" else ""))
               for m in known])
    if results:
        table("results", ["stage", "version", "ok"], [(s, v, "yes" if ok else "error") for s, v, ok in results])
    table("custody", ["seq", "time", "actor", "action"], [(e.seq, e.time, e.actor, e.action) for e in entries])


@log_app.callback(invoke_without_command=True)
def log(
    ctx: typer.Context,
    limit: int = typer.Option(50, min=0, help="Show the newest N entries (0: all)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Show the custody log (newest last). `osint log verify` proves it and the store are intact."""
    if ctx.invoked_subcommand:
        return
    case = open_case(case_dir)
    entries = case.custody()
    shown = entries[-limit:] if limit else entries
    if as_json:
        emit_json([e.body() | {"hash": e.hash} for e in shown])
        return
    table(f"custody log of {case.name}: {len(entries)} entries, head {case.head()[:16]}",
          ["seq", "time (UTC)", "actor", "action", "what"],
          [(e.seq, e.time, e.actor, e.action, _what(e)) for e in shown])


@log_app.command("verify")
def log_verify(
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Prove the case is intact: re-check every custody link and re-hash every stored original.

    Reports the first broken point and every other problem: an entry edited, removed, inserted or
    reordered, an original changed or missing, an item with no custody entry. Exit code 1 if any.
    Write down the head hash it prints: it pins the whole log as it is now.
    """
    case = open_case(case_dir)
    with progress("re-hashing originals", None) as advance:
        report = case.verify(progress=lambda done, total: advance(1))
    if as_json:
        emit_json({"ok": report.ok, "entries": report.entries, "objects": report.objects, "head": report.head,
                   "problems": [p.__dict__ for p in report.problems]})
    elif report.ok:
        out.print(f"[green]OK[/]: {report.entries} custody entries chained, {report.objects} originals re-hashed "
                  f"and unchanged; head {report.head}")
    else:
        first = report.problems[0]
        out.print(f"[bold red]BROKEN[/]: {len(report.problems)} problem(s); first at {first.kind} {first.where}: "
                  f"{escape(printable(first.reason))}", highlight=False)
        for p in report.problems[1:]:
            out.print(f"  {p.kind} {p.where}: {printable(p.reason)}", highlight=False, markup=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_SOME_FAILED)


def _what(entry) -> str:  # type: ignore[no-untyped-def]
    if entry.action == "add":
        return f"{entry.outputs.get('sha256', '')[:12]} <- {entry.inputs.get('path', '')}"
    if "items" in entry.inputs:
        return f"{len(entry.inputs['items'])} items"
    return ", ".join(f"{k}={v}" for k, v in {**entry.inputs, **entry.outputs}.items())[:80]


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
