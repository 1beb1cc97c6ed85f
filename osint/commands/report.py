"""Review commands: `report` (the offline HTML report), `review` (decisions: list, set, import) and `demo`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, JsonOption, emit_json, err, fail,
                                   file_error, fmr_text, open_case, out, printable, regular_input, table)

review_app = typer.Typer(help="Record decisions on match candidates: confirmed, rejected or unsure, by whom.")

ReviewerOption = typer.Option(None, "--reviewer", envvar="OSINT_ACTOR",
                              help="Who decides (kept with the decision and in the custody log). "
                                   "Default: $OSINT_ACTOR or your user name.")
PersonOption = typer.Option(None, "--person", help="Only candidates for this reference person (its id).")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.add_typer(review_app, name="review")
    app.command("demo")(demo)


def report(
    out_file: Path = typer.Option(Path("report.html"), "--out", "-o", help="Where to write the HTML file."),
    blur: bool = typer.Option(True, "--blur/--no-blur",
                              help="Show images blurred and grey until clicked (the page has the same switch)."),
    thumbnails: bool = typer.Option(True, "--thumbnails/--no-thumbnails",
                                    help="Make thumbnails of duplicate-group members and located items "
                                         "(decodes those originals; face crops are always shown)."),
    person: Optional[str] = typer.Option(None, "--person",
                                         help="Only this reference person's candidates (its id), e.g. to keep "
                                              "the file of a very large case small."),
    image_px: int = typer.Option(320, "--image-px", min=64,
                                 help="Frames and photos larger than this many pixels are embedded reduced to it "
                                      "(face crops are 160 px and stay as they are). Larger: sharper, bigger file."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Write the review report: one HTML file that opens offline in any browser.

    It shows match candidates grouped by person (reference and found face side by side, with the distance
    and the false-match rate measured at it: the share of different-person pairs that score as close),
    the photo or video frame each face came from, duplicate groups (repost chains), the map of located
    items and a custody summary. Decisions made in the page (keys c / r / u) are exported as a JSON file
    for `osint review import`. The page makes no network request.
    """
    from osint.report import collect, write_report

    from osint.errors import OsintError

    case = open_case(case_dir)
    try:
        data = collect(case, thumbnails=thumbnails, person=person)
    except OsintError as exc:
        fail(str(exc))
    written = write_report(data, out_file, blur=blur, max_side=image_px)
    summary = {"report": str(written.path.absolute()), "bytes": written.size, "candidates": written.candidates,
               "images": written.images, "missing_images": list(written.missing_images)}
    if as_json:
        emit_json(summary)
        return
    out.print(f"Wrote {written.path} ({written.size / 1e6:.1f} MB): {written.candidates} candidate(s), "
              f"{written.images} images. Open it in a browser; it works offline.", highlight=False)
    if written.missing_images:
        err.print(f"[yellow]warning:[/] {len(written.missing_images)} image(s) could not be read from the case")


@review_app.callback(invoke_without_command=True)
def review(
    ctx: typer.Context,
    reviewer: Optional[str] = ReviewerOption,
    person: Optional[str] = PersonOption,
    interactive: Optional[bool] = typer.Option(None, "--interactive/--no-interactive",
                                               help="Ask for a decision on each undecided candidate in turn "
                                                    "(default: when run in a terminal)."),
    case_dir: Optional[Path] = CaseOption,
) -> None:
    """Go through undecided candidates one by one and record confirmed / rejected / unsure.

    Each candidate shows the person, the distance (smaller is more alike), the false-match rate at that
    distance and where the face crops are, to open beside the terminal. The HTML report (`osint report`)
    shows them side by side; both record the same decisions.
    """
    if ctx.invoked_subcommand:
        return
    from osint.case import default_actor
    from osint.report import case_candidates, case_decisions, record_decision

    case = open_case(case_dir)
    candidates = case_candidates(case)
    decided = {d.candidate for d in case_decisions(case)}
    todo = [c for c in candidates.values() if c.id not in decided and (person is None or c.person == person)]
    if not (sys.stdin.isatty() if interactive is None else interactive):
        _candidate_table(case, todo, "undecided candidates")
        out.print("Record a decision: osint review set CANDIDATE confirmed|rejected|unsure --comment TEXT",
                  highlight=False)
        return
    who = reviewer or default_actor()
    for n, c in enumerate(todo, 1):
        out.print(f"\n[bold]{n}/{len(todo)}[/] candidate {c.id}: person {c.person}, distance {c.distance:.3f} "
                  f"(model {c.model}), false-match rate {fmr_text(c.fmr, c.fmr_bound)}"
                  + (f" (measured on {c.population})" if c.population else ""), highlight=False)
        out.print(f"  found in {escape(printable(c.name or c.item[:12]))}" + (f" at {c.t:.1f} s" if c.t is not None else ""),
                  highlight=False)
        if c.track:
            out.print(f"  {c.track}", highlight=False, markup=False)
        if c.ages:
            out.print(f"  {c.ages}", highlight=False, markup=False)
        for flag in c.age_flags:
            out.print(f"  age check: {flag}", highlight=False, markup=False)
        for label, sha in (("reference crop", c.ref_crop), ("found crop", c.found_crop), ("context", c.context)):
            if sha:
                out.print(f"  {label}: {case.derived_path(sha, '.jpg')}", highlight=False)
        answer = typer.prompt("  [c]onfirmed / [r]ejected / [u]nsure / [s]kip / [q]uit", default="s").strip().lower()
        if answer.startswith("q"):
            break
        verdict = {"c": "confirmed", "r": "rejected", "u": "unsure"}.get(answer[:1])
        if verdict is None:
            continue
        comment = typer.prompt("  comment", default="", show_default=False)
        record_decision(case, c, verdict, who, comment, via="cli")
        out.print(f"  recorded: {verdict} by {who}", highlight=False)


@review_app.command("list")
def review_list(
    person: Optional[str] = PersonOption,
    undecided: bool = typer.Option(False, "--undecided", help="Only candidates nobody has decided on yet."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """List match candidates with their distance, false-match rate and the decisions recorded so far."""
    from dataclasses import asdict

    from osint.report import case_candidates, case_decisions

    case = open_case(case_dir)
    decisions = case_decisions(case)
    notes: list[str] = []
    shown = [c for c in case_candidates(case, notes).values() if person is None or c.person == person]
    for note in notes:  # what the list cannot hold: items not searched, persons without references
        err.print(f"[yellow]note:[/] {escape(printable(note))}", highlight=False)
    if undecided:
        done = {d.candidate for d in decisions}
        shown = [c for c in shown if c.id not in done]
    if as_json:
        emit_json([{**asdict(c), "decisions": [asdict(d) for d in decisions if d.candidate == c.id]}
                   for c in shown])
        return
    _candidate_table(case, shown, "match candidates (leads for human review)", decisions)


@review_app.command("set")
def review_set(
    candidate: str = typer.Argument(..., help="Candidate id (or a unique prefix) from `osint review list`."),
    decision: str = typer.Argument(..., help="confirmed, rejected or unsure."),
    comment: str = typer.Option("", "--comment", "-m", help="Why: what you compared, what remains open."),
    reviewer: Optional[str] = ReviewerOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Record one decision; a reviewer's later decision on the same candidate replaces theirs (the custody
    log keeps every one)."""
    from dataclasses import asdict

    from osint.case import default_actor
    from osint.report import DecisionError, case_candidates, record_decision, resolve

    case = open_case(case_dir)
    try:
        made = record_decision(case, resolve(case_candidates(case), candidate), decision.strip().lower(),
                               reviewer or default_actor(), comment, via="cli")
    except DecisionError as exc:
        fail(str(exc))
    if as_json:
        emit_json(asdict(made))
    else:
        out.print(f"recorded: candidate {made.candidate} {made.decision} by {made.reviewer}", highlight=False)


@review_app.command("import")
def review_import(
    file: Path = typer.Argument(..., callback=regular_input, help="The decisions JSON exported from the report page (key e)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Record the decisions exported from the HTML report into the case and its custody log.

    The file must come from a report of this case; each decision names its reviewer. Importing the same
    file again records nothing new. A decision on a candidate the case no longer lists fails with one
    line; the others are recorded. Exit code 1 if any failed.
    """
    from osint.report import DecisionError, case_candidates, import_decisions

    case = open_case(case_dir)
    try:
        summary = import_decisions(case, file, case_candidates(case))
    except DecisionError as exc:
        fail(str(exc))
    for line in summary.errors:
        file_error(str(file), line.split(": ", 1)[1] if line.startswith(str(file)) else line)
    if as_json:
        emit_json({"recorded": summary.recorded, "already": summary.already, "errors": list(summary.errors)})
    else:
        out.print(f"{summary.recorded} decision(s) recorded, {summary.already} already recorded, "
                  f"{len(summary.errors)} failed", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if summary.errors else EXIT_OK)


def demo(
    folder: Path = typer.Option(Path("osint-demo"), "--out", "-o",
                                help="Folder for the demo's inputs, case, report, key and bundle "
                                     "(must not hold a demo yet)."),
    as_json: bool = JsonOption,
) -> None:
    """Build a demo case from pictures installed packages ship and run every stage on it (no download).

    Public-domain / CC0 portraits (astronaut Eileen Collins, a cameraman) stand in for two missing persons;
    they are placed into scenes at several scales, reposted (recompressed, trimmed, mirrored), shown in a
    short video and side by side; some photos carry GPS in EXIF and one is located by a landmark gallery. Then:
    ingest, hashing, face matching, geolocation, the review report and a signed, verified evidence bundle.
    """
    from dataclasses import asdict

    from osint.demo import DemoError, build_demo

    def show(step) -> None:  # type: ignore[no-untyped-def]
        if not as_json:
            colour = {"ok": "green", "failed": "red", "skipped": "yellow"}[step.status]
            out.print(f"[{colour}]{step.status:>7}[/] {step.name:<10} {step.seconds:5.1f} s  {step.detail}",
                      highlight=False)

    try:
        result = build_demo(folder, on_step=show)
    except DemoError as exc:
        fail(str(exc))
    places = {"case": result.case, "inputs": result.inputs, "report": result.report, "bundle": result.bundle,
              "signing key": result.key}
    if as_json:
        emit_json({"ok": result.ok, "steps": [asdict(s) for s in result.steps],
                   **{k.replace(" ", "_"): str(v) if v else None for k, v in places.items()}})
    else:
        table("where everything is", ["what", "path"], [(k, v or "(not made)") for k, v in places.items()])
        out.print(f"Next: open {result.report} in a browser; `osint ls -C {result.case}`; "
                  f"`osint review list -C {result.case}`; `osint log verify -C {result.case}`.", highlight=False)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_SOME_FAILED)


def _candidate_table(case, shown, title, decisions=()) -> None:  # type: ignore[no-untyped-def]
    latest = {d.candidate: d for d in decisions}
    table(f"{case.name}: {len(shown)} {title}", ["candidate", "person", "distance", "false-match rate",
                                                 "rate measured on", "model", "found in", "at (s)", "ages", "decision"],
          [(c.id, c.person, f"{c.distance:.3f}", fmr_text(c.fmr, c.fmr_bound), c.population, c.model,
            c.name or c.item[:12],
            "" if c.t is None else f"{c.t:.1f}",
            c.ages + "".join(f" [!] {f}" for f in c.age_flags),
            f"{latest[c.id].decision} ({latest[c.id].reviewer})" if c.id in latest else "") for c in shown])
