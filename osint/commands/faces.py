"""Face commands: `refs add/ls/rm` (reference persons), `match` (ranked candidates), `faces scan/cluster`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, CaseOption, ClusterOption, JsonOption,
                                   WorkersOption, emit_json, err, fail, file_error, fmr_text, make_executor, open_case,
                                   out, printable, progress, table, write_csv)

refs_app = typer.Typer(help="Reference persons (missing children) and their photos, kept in the case.",
                       no_args_is_help=True)
faces_app = typer.Typer(help="Faces in the case's photos and videos: find them, group unknown ones.",
                        no_args_is_help=True)

DetectorOption = typer.Option(
    "yunet", "--detector",
    help="Face detector. yunet (default): finds faces from ~12 px and turned up to 90 degrees, fastest "
         "(chosen by measured recall and speed). hog: dlib's frontal HOG (face_recognition's default), misses "
         "faces under ~40 px. cnn: dlib's MMOD CNN, pose-tolerant but seconds per photo on CPU.")
ModelOption = typer.Option(
    None, "--model",
    help="Which distance ranks faces: dlib (ResNet, Euclidean), sface (OpenCV SFace, cosine), or fused (both, "
         "each divided by its own 0.1%-FMR threshold, summed). Default: the model with the best measured TAR for the "
         "reference person's population; for children (under 18 in the reference photos, from --born and the "
         "photo's date) fused scores normalised against the case's other reference persons when there are 10 or "
         "more, else sface.")
MaxFmrOption = typer.Option(
    None, "--max-fmr", min=0.0, max=1.0,
    help="List a person for a face when the distance is at most the one where this share of different-person "
         "pairs score as close (false-match rate, measured on children 1-5 years apart for a child reference, on "
         "adult press photos for an adult one, the higher of both when the age is unknown). Default 0.01 (1%): loose on "
         "purpose, since growing up moves true matches further apart; rank candidates, do not cut.")
TopOption = typer.Option(3, "--top", min=1, help="At most this many persons per face, closest first.")
EveryOption = typer.Option(1.0, "--every", min=0.05,
                           help="Videos: seconds between sampled frames (every scene change is sampled too).")
MinFaceOption = typer.Option(None, "--min-face", min=4,
                             help="Smallest face to look for, in original pixels (default: 20 for yunet, 40 for "
                                  "hog/cnn). Smaller means detection on a larger copy: slower.")


def register(app: typer.Typer) -> None:
    app.add_typer(refs_app, name="refs")
    app.add_typer(faces_app, name="faces")
    app.command("match")(match_cmd)
    app.command("date")(date_cmd)


def _settings(detector: str, min_face: int | None = None, every: float = 1.0):  # -> FaceSettings
    from osint.facematch import FaceSettings

    try:
        return FaceSettings(detector=detector, min_face=min_face, every_s=every)
    except ValueError as exc:
        fail(str(exc))


def _scan(case: Any, settings: Any, items: list[Any] | None, executor: Any) -> Any:
    """Run the faces stage with a progress bar and one error line per failed item."""
    from osint.facematch import scan_case

    items = case.items(role=None) if items is None else items
    paths = {it.sha256: it for it in items}
    with progress("finding faces", len(items)) as advance:
        def on_item(item: Any, data: Any, error: str | None) -> None:
            if error:
                acq = case.acquisitions(item.sha256)
                file_error(acq[0].original_path if acq else item.sha256, f"faces: {error}")
            advance(1, item.sha256[:12])

        run = scan_case(case, settings, list(paths.values()), executor=executor, on_item=on_item)
    return run


# ---- refs --------------------------------------------------------------------------------------------
@refs_app.command("add")
def refs_add(
    person: str = typer.Argument(..., help="Person id, e.g. the NGO's file number UA-0412."),
    photos: list[Path] = typer.Argument(..., help="Reference photos of this person, or folders of them (several ages help)."),
    name: Optional[str] = typer.Option(None, help="Name shown in results."),
    born: Optional[str] = typer.Option(None, help="Year (or date) of birth: lets reviewers judge the age gap."),
    missing_since: Optional[str] = typer.Option(None, "--missing-since", help="When the person went missing (YYYY-MM)."),
    note: str = typer.Option("", help="Free text kept with the person record."),
    face: Optional[int] = typer.Option(None, "--face", min=0,
                                       help="Which face to use when a photo shows several (the number printed "
                                            "for it); applies to every photo given."),
    detector: str = DetectorOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Add a reference person with photos; the photos are stored in the case (role "reference") and logged.

    Each photo must show exactly one usable face, or you pick one with --face N. Photos with no face, or
    with several faces and no choice, are kept but not used, and listed so you can decide.
    Exit code 1 if any photo is not usable.
    """
    from osint.facematch import add_references

    case = open_case(case_dir)
    _check_born(born)
    result = add_references(case, person, photos, name=name, born=born, missing_since=missing_since, note=note,
                            face=face, settings=_settings(detector))
    bad = [p for p in result if p.status != "ok"]
    recorded = case.record("person", person) is not None
    if as_json:
        emit_json({"person": person, "recorded": recorded, "photos": [vars(p) for p in result]})
    else:
        for p in result:
            if p.status == "ok":
                out.print(f"[green]ok[/] {escape(printable(p.path))}: face {p.face} used", highlight=False)
            elif p.status == "several_faces":
                faces = ", ".join(f"{f['index']} at {tuple(f['box'])}" for f in p.faces if f["status"] == "ok")
                file_error(p.path, f"{len(p.faces)} faces ({faces}); choose one with --face N")
            elif p.status == "bad_face":
                file_error(p.path, f"--face {face} is not an encoded face of this photo (faces: "
                                   f"{[f['index'] for f in p.faces if f['status'] == 'ok']})")
            elif p.status == "too_small":
                file_error(p.path, "faces found but all too small to encode reliably")
            else:
                file_error(p.path, p.error or "no face found")
        out.print(f"{person}: {len(result) - len(bad)} of {len(result)} photos usable"
                  + ("" if recorded else "; no photo could be added, so the person was not recorded"), highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if bad else EXIT_OK)


def _check_born(born: str | None) -> None:
    """Warn (one line; the person is still added and matched) about a birth that cannot be right."""
    from datetime import date

    from osint.facematch.ages import parse_born

    birth = parse_born(born)
    if born and birth is None:
        err.print(f"[yellow]warning:[/] --born {escape(born)!r} is not a year or date (YYYY, YYYY-MM-DD): no ages "
                  "will be shown", highlight=False)
    elif birth is not None and birth.year > date.today().year:
        err.print(f"[yellow]warning:[/] --born {birth} is in the future: ages will not be shown and every "
                  "candidate is flagged until it is corrected (`osint refs add ID --born YYYY`)", highlight=False)


@refs_app.command("ls")
def refs_ls(case_dir: Optional[Path] = CaseOption, as_json: bool = JsonOption) -> None:
    """List reference persons with how many of their photos are usable."""
    from osint.facematch import persons

    people = persons(open_case(case_dir))
    if as_json:
        emit_json([{**{k: v for k, v in vars(p).items() if k != "photos"}, "usable": p.usable,
                    "photos": [vars(ph) for ph in p.photos]} for p in people])
        return
    table("Reference persons", ["id", "name", "born", "missing since", "photos", "usable", "not usable"],
          [(p.id, p.name, p.born, p.missing_since, len(p.photos), p.usable,
            ", ".join(f"{Path(ph.path).name}: {ph.status}" for ph in p.photos if ph.status != "ok"))
           for p in people])


@refs_app.command("rm")
def refs_rm(person: str = typer.Argument(..., help="Person id to remove."),
            case_dir: Optional[Path] = CaseOption, as_json: bool = JsonOption) -> None:
    """Remove a reference person (the photos stay in the case as items; the removal is logged)."""
    from osint.facematch import remove_person

    removed = remove_person(open_case(case_dir), person)
    if as_json:
        emit_json({"person": person, "records_removed": removed})
    elif removed:
        out.print(f"removed {person} ({removed} records)")
    if not removed:
        fail(f"no reference person {person!r}", EXIT_SOME_FAILED)


# ---- match -------------------------------------------------------------------------------------------
def match_cmd(
    paths: Optional[list[Path]] = typer.Argument(None, help="With --refs: collected files or folders to search "
                                                              "(no case needed). Without: the case's media."),
    refs: Optional[Path] = typer.Option(None, "--refs", exists=True, file_okay=False, help="Folder of reference photos, one subfolder per "
                                                             "person (named by the person id). Works outside a case."),
    model: Optional[str] = ModelOption,
    max_fmr: Optional[float] = MaxFmrOption,
    top: int = TopOption,
    detector: str = DetectorOption,
    every: float = EveryOption,
    min_face: Optional[int] = MinFaceOption,
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV on stdout instead of a table."),
    workers: Optional[int] = WorkersOption,
    cluster_addr: Optional[str] = ClusterOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Compare every face found with every reference person; list candidates, closest first.

    Each line: where the face is (item, video time, box; in a video, one line per face followed across the
    sampled frames, with its time span, matched on its best frames), the person, the distance (smaller is closer), how
    many of the person's reference photos agree, and the estimated false-match rate (FMR) at that distance:
    the share of pairs of different people that scored as close in calibration. A line is a candidate for
    human review, never an identification. Faces are found once and cached; re-matching after adding a
    reference touches no image.
    """
    from osint.facematch import case_matches, explain, match_folders, not_analysed_note

    settings = _settings(detector, min_face, every)
    model = _model(model)
    executor = make_executor(workers, cluster_addr)
    names: dict[str, str] = {}
    unsearched: dict[str, str] = {}
    if refs is not None:
        if not refs.is_dir():
            fail(f"{refs}: not a folder (--refs takes a folder with one subfolder of photos per person)")
        if not paths:
            fail("give the collected files or folders to search after --refs DIR")
        with progress("analysing", None) as advance:
            result = match_folders(refs, paths or [], settings=settings, executor=executor, model=model,
                                   max_fmr=max_fmr, top=top, on_file=lambda p, e: advance(1, Path(p).name))
        for path, reason in result.errors:
            file_error(path, reason)
        for ph in result.references:
            if ph.status not in ("ok", "failed"):
                file_error(ph.path, f"reference not used: {ph.status.replace('_', ' ')}")
        errors = len(result.errors)
        candidates, scope = result.candidates, f"{result.analysed} files, {result.faces} faces"
    else:
        if paths:
            fail("without --refs, match works on the case: add files with `osint add` first")
        case = open_case(case_dir)
        run = _scan(case, settings, None, executor)
        errors = len(run.errors)
        matched = case_matches(case, settings, model=model, max_fmr=max_fmr, top=top)
        if not matched.owners:
            fail("no usable reference photos in this case: add some with `osint refs add PERSON PHOTOS`")
        candidates, scope = matched.candidates, f"{len(matched.faces.items)} items, {len(matched.faces)} faces"
        names = {p: r["name"] for p, r in case.records("person").items()}
        unsearched = matched.not_analysed
        note = not_analysed_note(case, unsearched)
        if note:
            err.print(f"[yellow]note:[/] {escape(printable(note))}", highlight=False)
    _print_candidates(candidates, names, as_json, as_csv, explain(candidates, model, max_fmr), scope, unsearched)
    raise typer.Exit(EXIT_SOME_FAILED if errors else EXIT_OK)


def _model(model: str | None) -> str | None:
    """The model asked for (checked); None: each reference person's population picks its best."""
    if model not in (None, "dlib", "sface", "fused"):
        fail(f"unknown model {model!r} (dlib, sface or fused)", EXIT_USAGE)
    return model


def _candidate_row(c: Any, names: dict[str, str]) -> dict[str, Any]:
    return {"item": c.face.item, "media_type": c.face.media_type, "frame_time_s": c.face.t, "face": c.face.index,
            "box": list(c.face.box), "person": c.person, "name": names.get(c.person, c.person), "rank": c.rank,
            "distance": c.distance, "fmr": c.fmr,
            "fmr_is_upper_bound": c.fmr_bound, "fmr_measured_on": c.population, "calibration": c.table,
            "agree": c.agree, "photos": c.photos, "model": c.model,
            "threshold": c.threshold, "max_fmr": c.max_fmr, "crop": c.face.crop, "context": c.face.context,
            "reference_item": c.reference.item, "reference_crop": c.reference.crop, "quality": c.face.quality,
            "low_quality": c.low_quality, "ages": c.ages.as_dict() if c.ages else None,
            "track": c.track.as_dict() if c.track else None,
            "status": "candidate for human review"}


def _print_candidates(candidates: list[Any], names: dict[str, str], as_json: bool, as_csv: bool, meaning: str,
                      scope: str, unsearched: dict[str, str]) -> None:
    rows = [_candidate_row(c, names) for c in candidates]
    ages = {id(r): c.ages for r, c in zip(rows, candidates)}
    if as_json:
        emit_json({"meaning": meaning, "searched": scope, "candidates": rows,
                   "not_analysed": [{"item": sha, "reason": why} for sha, why in unsearched.items()]})
        return
    if as_csv:
        keys = ["item", "media_type", "frame_time_s", "face", "box", "person", "name", "rank", "distance", "fmr",
                "fmr_is_upper_bound", "fmr_measured_on", "agree", "photos", "model", "threshold", "low_quality",
                "crop", "reference_item", "age_reference", "age_found", "years_between", "age_flags", "status"]

        def flat(r: dict[str, Any]) -> dict[str, Any]:
            a = r["ages"] or {}
            return {**r, "box": " ".join(map(str, r["box"])), "age_reference": a.get("age_reference"),
                    "age_found": a.get("age_found"), "years_between": a.get("years_between"),
                    "age_flags": "; ".join(a.get("flags") or [])}

        write_csv(sys.stdout, keys, (flat(r) for r in rows))
        return
    table(f"Candidates for human review ({len(rows)}; searched {scope})",
          ["item", "time s", "face", "box", "person", "distance", "FMR", "FMR of", "agree", "quality", "crop",
           "age ref -> found (gap)", "flags"],
          [(_short(r["item"]), _when(r), r["face"] if not r["track"] else f"{r['face']} (track {r['track']['number']})",
            ",".join(map(str, r["box"])), f"{r['person']} ({r['name']})" if r["name"] != r["person"] else r["person"],
            f"{r['distance']:.3f}", fmr_text(r["fmr"], r["fmr_is_upper_bound"]), _POPULATION[r["calibration"]],
            f"{r['agree']}/{r['photos']}", "low" if r["low_quality"] else "ok", (r["crop"] or "")[:12],
            (a.summary() or "no dates") if (a := ages[id(r)]) else "", "; ".join(a.flags) if a else "")
           for r in rows])
    undated = {r["item"] for r in rows if (a := ages[id(r)]) and a.found.date is None}
    if undated:
        err.print(f"{len(undated)} found item(s) have no date, so no age is shown for them: give one with "
                  "`osint date ITEM YYYY-MM-DD` (e.g. the post date)", highlight=False)
    err.print(meaning, highlight=False)


_POPULATION = {"children": "children", "adults": "adults", "conservative": "age unknown"}   # the table's short name


def _when(row: dict[str, Any]) -> str:
    """The time column: a photo nothing, a video frame its time, a track its span and size."""
    track = row["track"]
    if track:
        span = f"{track['start_s']:.1f}-{track['end_s']:.1f}" if track["start_s"] is not None else "no times"
        return f"{span} ({track['faces']} frames)"
    return "" if row["frame_time_s"] is None else f"{row['frame_time_s']:.1f}"


def _short(item: str) -> str:
    return item[:12] if len(item) == 64 and all(c in "0123456789abcdef" for c in item) else item


# ---- dates -------------------------------------------------------------------------------------------
def date_cmd(
    item: str = typer.Argument(..., help="The item (SHA-256 or a unique prefix; `osint ls` lists them)."),
    when: Optional[str] = typer.Argument(None, help="Its date, YYYY-MM-DD. Omit it to show the date in use."),
    what: str = typer.Option("date given", "--what",
                             help="What the date is, kept with it and shown beside ages, e.g. 'post date' "
                                  "(the photo was taken on or before it) or 'caption says'."),
    clear: bool = typer.Option(False, "--clear", help="Remove the date given before (EXIF counts again)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Give the date of a photo or video whose EXIF or video header has none (or a wrong one).

    Match candidates show the child's age in the reference and the found photo and the years between
    them; those need both photos' dates. A date given here wins over the file's own and is kept as a
    record in the case, logged in the custody log with who gave it (run it again to correct it).
    """
    from osint.errors import OsintError
    from osint.facematch.ages import clear_item_date, item_date, set_item_date

    case = open_case(case_dir)
    try:
        sha = case.item(item).sha256
    except OsintError as exc:
        fail(str(exc))
    if clear:
        if not clear_item_date(case, sha):
            fail(f"no date was given for {sha[:12]}", EXIT_SOME_FAILED)
    elif when is not None:
        try:
            set_item_date(case, sha, when, what=what)
        except ValueError as exc:
            fail(str(exc))
    found = item_date(case, sha)
    if as_json:
        emit_json({"item": sha, **vars(found)})
    else:
        out.print(f"{sha[:12]}: {found.date or 'no date'} ({found.source})" + (f"; {found.note}" if found.note else ""),
                  highlight=False)


# ---- faces -------------------------------------------------------------------------------------------
@faces_app.command("scan")
def faces_scan(
    detector: str = DetectorOption,
    every: float = EveryOption,
    min_face: Optional[int] = MinFaceOption,
    workers: Optional[int] = WorkersOption,
    cluster_addr: Optional[str] = ClusterOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Find and encode the faces in every photo and video of the case (cached: a second run costs nothing).

    Faces narrower than 20 px are listed as too small (an encoding of so few pixels is noise), never
    silently dropped. `osint match` runs this itself; use it to prepare a large case ahead of time.
    """
    from osint.facematch import STAGE

    case = open_case(case_dir)
    settings = _settings(detector, min_face, every)
    run = _scan(case, settings, None, executor=make_executor(workers, cluster_addr))
    counts = {"items": 0, "faces": 0, "encoded": 0, "too_small": 0, "no_landmarks": 0, "frames": 0}
    for r in case.results(STAGE, settings.version()):
        if r.data:
            counts["items"] += 1
            counts["frames"] += r.data["frames_sampled"]
            for f in r.data["faces"]:
                counts["faces"] += 1
                counts[{"ok": "encoded"}.get(f["status"], f["status"])] += 1
    summary = {**counts, "computed": run.computed, "cached": run.cached, "errors": len(run.errors),
               "version": settings.version()}
    if as_json:
        emit_json(summary)
    else:
        out.print(f"{counts['items']} items ({counts['frames']} frames): {counts['faces']} faces, "
                  f"{counts['encoded']} encoded, {counts['too_small']} too small to encode, "
                  f"{counts['no_landmarks']} without landmarks; computed {run.computed}, cached {run.cached}, "
                  f"failed {len(run.errors)}")
    raise typer.Exit(EXIT_SOME_FAILED if run.errors else EXIT_OK)


@faces_app.command("cluster")
def faces_cluster(
    model: Optional[str] = ModelOption,
    max_fmr: float = typer.Option(0.001, "--max-fmr", min=0.0, max=1.0,
                                  help="Link two faces when their distance is within the threshold of this "
                                       "false-match rate (default 0.1%: strict, so strangers rarely merge)."),
    min_size: int = typer.Option(2, "--min-size", min=2, help="Smallest group shown."),
    low_quality: bool = typer.Option(False, "--low-quality",
                                     help="Also group faces below the quality floor (blurred, dark, tiny): "
                                          "their encodings crowd together, so groups of them mix strangers."),
    detector: str = DetectorOption,
    every: float = EveryOption,
    workers: Optional[int] = WorkersOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Group faces of the same unknown person across the case's photos and videos.

    Each group has a representative face (closest to the others on average) and its members, with item
    and video time. A group spanning several items is a lead even without a reference photo.
    """
    from osint.facematch import case_faces, cluster, default_model

    case = open_case(case_dir)
    settings = _settings(detector, None, every)
    model = _model(model)
    run = _scan(case, settings, None, make_executor(workers, None))
    model = model or default_model()
    groups = cluster(case_faces(case, settings), model=model, max_fmr=max_fmr, min_size=min_size,
                     low_quality=low_quality)
    if as_json:
        emit_json([{"representative": vars(g.representative), "items": g.items, "mean_distance": g.mean_distance,
                    "members": [vars(m) for m in g.members]} for g in groups])
    else:
        table(f"Groups of the same face ({len(groups)}; model {model}, linked within FMR {max_fmr:.2%} measured on "
              "adults, no age gap: for children the real rate is higher); candidates for human review",
              ["group", "faces", "items", "representative", "crop", "members (item@time)"],
              [(k + 1, len(g.members), g.items, f"{_short(g.representative.item)} face {g.representative.index}",
                (g.representative.crop or "")[:12],
                " ".join(f"{_short(m.item)}" + ("" if m.t is None else f"@{m.t:.1f}s") for m in g.members[:8]) +
                (" ..." if len(g.members) > 8 else ""))
               for k, g in enumerate(groups)])
    raise typer.Exit(EXIT_SOME_FAILED if run.errors else EXIT_OK)
