"""Repost commands: `hash`, `dupes`, `similar` (perceptual hashes, near-duplicate groups, search)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, ClusterOption, JsonOption, WorkersOption,
                                   emit_json, err, fail, file_error, make_executor, open_case, out, progress, table)

DISTANCE_HELP = ("A distance is the number of bits in which two hashes differ: 0 means the same hash; unrelated "
                 "pictures differ in about half the bits (32 of 64, 128 of 256). Among 3,676 distinct real photos "
                 "(bench/dupes_eval.py) none were closer than 6 (pHash), 4 (dHash) or 56 (PDQ); the defaults stay "
                 "below that. Raising them finds more reposts and more false links.")
PhashOption = typer.Option(None, "--phash", min=0, max=64,
                           help="Largest pHash distance (of 64 bits) that links two pictures. Default 5. "
                                "Survives resizing, recompression, borders; not crops or mirroring.")
DhashOption = typer.Option(None, "--dhash", min=0, max=64,
                           help="Largest dHash distance (of 64 bits) that links two pictures. Default 3.")
CropsOption = typer.Option(True, "--crops/--no-crops",
                           help="Also link photos by local features (RootSIFT keypoints, a similarity transform and a "
                                "pixel check): cropped, captioned, rescaled and screenshotted copies that no hash "
                                "links, and a still to the video frame it shows (its time, between keyframes too). "
                                "Features are computed once per photo and video keyframe and kept in the case.")
PdqOption = typer.Option(None, "--pdq", min=0, max=256,
                         help="Largest PDQ distance (of 256 bits, best of the mirrored and 90-degree rotated "
                              "variants) that links two pictures. Default 31; beyond 23 bits two hashes link only "
                              "when one of their 12 chunks differs by at most 1 bit (the chunk rule that keeps "
                              "grouping near-linear: 99.3% of pairs at 31 bits). The hash that catches mirrored, "
                              "rotated, captioned and colour-shifted reposts.")


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_command)
    app.command("dupes")(dupes)
    app.command("similar")(similar)


def _thresholds(phash: Optional[int], dhash: Optional[int], pdq: Optional[int]):  # -> Thresholds
    from osint.hashing import Thresholds

    base = Thresholds()
    return Thresholds(phash=base.phash if phash is None else phash, dhash=base.dhash if dhash is None else dhash,
                      pdq=base.pdq if pdq is None else pdq)


def _names(case, sha: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.original_path for a in case.acquisitions(sha)]


def _short(sha: str) -> str:
    return sha if sha == "query" else sha[:12]


def _per_item(case, label: str, stage, workers: Optional[int], cluster: Optional[str],  # type: ignore[no-untyped-def]
              items: Optional[list[Any]] = None):
    """Run a per-item stage (hash_case, local_case, vpdq_case) over `items` (default: every item) with a progress
    bar and one line per failed item; return the stage's run."""
    items = case.items(role=None) if items is None else items
    with progress(label, len(items)) as advance:
        def on_item(item, data, error) -> None:  # type: ignore[no-untyped-def]
            if error:
                file_error(", ".join(_names(case, item.sha256)) or item.sha256, error)
            advance(1, item.sha256[:12])

        return stage(case, executor=make_executor(workers, cluster), items=items, on_item=on_item)


def _hash_case(case, workers: Optional[int], cluster: Optional[str]):  # type: ignore[no-untyped-def]
    """Hash what is not hashed yet (cached otherwise); print one line per failed item; return the run."""
    from osint.hashing import hash_case

    return _per_item(case, "hashing", hash_case, workers, cluster)


def _vpdq_case(case, workers: Optional[int], cluster: Optional[str]):  # type: ignore[no-untyped-def]
    """vPDQ of the videos not done yet (cached otherwise); None, said once on stderr, without the vpdq package."""
    from osint.hashing import vpdq_available, vpdq_case

    videos = case.items(media_type="video", role=None)
    if not videos:
        return None
    if not vpdq_available():
        err.print("vPDQ skipped: pip install 'osint[vpdq]'", markup=False, highlight=False)
        return None
    return _per_item(case, "vPDQ", vpdq_case, workers, cluster, videos)


def _hashed_case(case_dir: Optional[Path], workers: Optional[int], cluster: Optional[str], phash: Optional[int],
                 dhash: Optional[int], pdq: Optional[int]):  # type: ignore[no-untyped-def]
    """Open the case, hash what is new, and return (case, stage run, thresholds, {sha256: stored hashes})."""
    from osint.hashing import stored_hashes

    case = open_case(case_dir)
    run = _hash_case(case, workers, cluster)
    return case, run, _thresholds(phash, dhash, pdq), stored_hashes(case)[0]


def _local_stages(case, hashes, workers: Optional[int], cluster: Optional[str]) -> None:  # type: ignore[no-untyped-def]
    """Local features of every photo and of the keyframes of every video that hashed (a video that does not
    decode has had its one error line from hashing); computed once, kept."""
    from osint.hashing import local_case, video_local_case

    _per_item(case, "local features", local_case, workers, cluster)
    videos = [it for it in case.items(role=None) if it.sha256 in hashes and hashes[it.sha256].media_type == "video"]
    _per_item(case, "keyframe features", video_local_case, workers, cluster, videos)


def _local_json(lk) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"a": lk.a, "b": lk.b, "method": lk.method, "why": lk.describe(), **lk.__dict__}


def _frames(hashes) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [{"t": f.t, "view": f.view, "box": f.box, "phash": f.phash, "dhash": f.dhash, "pdq": f.pdq,
             "pdq_quality": f.pdq_quality} for f in hashes.frames]


def _evidence_text(match) -> str:  # type: ignore[no-untyped-def]
    """One cell: each hash's distance, with times and transforms where they say something."""
    parts = []
    for e in match.evidence:
        where = "".join(f" {side}@{t:.1f}s" for side, t in (("a", e.t_a), ("b", e.t_b)) if t is not None)
        extra = (f" {e.transform}" if e.transform != "identity" else "") + \
                ("" if e.view_a == e.view_b == "full" else f" {e.view_a}~{e.view_b}")
        parts.append(f"{e.algorithm} {e.distance}{'*' if e.linked else ''}{where}{extra}")
    return ", ".join(parts)


def _match_json(m) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"a": m.a, "b": m.b, "linked": m.linked, "distances": [e.__dict__ for e in m.evidence]}


def hash_command(
    paths: Optional[list[Path]] = typer.Argument(None, help="Files or folders to hash without a case (nothing "
                                                           "is stored). Without PATHs: every item of the case."),
    case_dir: Optional[Path] = CaseOption,
    workers: Optional[int] = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    as_json: bool = JsonOption,
) -> None:
    """Perceptual hashes of photos and video keyframes: pHash, dHash (64 bits) and PDQ (256 bits).

    Photos are decoded at reduced size (at most 256 pixels) since every hash looks at a small thumbnail;
    videos give one keyframe at every scene change and at least one every second, each hashed with its time.
    Pictures with added borders or padding also get a "content" view with those cut off. In a case, each
    item is hashed once and stored (re-running only hashes what is new), and each video also gets its vPDQ
    (Meta's video hash, every frame) when the optional vpdq package is installed. Damaged or unsupported
    files get one error line each; exit code 1 if any.
    """
    if not paths:
        case = open_case(case_dir)
        run = _hash_case(case, workers, cluster)
        video = _vpdq_case(case, workers, cluster)
        if as_json:
            emit_json({"stage": run.stage, "version": run.version, "computed": run.computed, "cached": run.cached,
                       "errors": run.errors, "vpdq": video and {"version": video.version, "computed": video.computed,
                                                                "cached": video.cached, "errors": video.errors}})
        else:
            out.print(f"{run.computed} hashed, {run.cached} already hashed, {len(run.errors)} failed "
                      f"({run.version})" + (f"; vPDQ: {video.computed} videos hashed, {video.cached} already, "
                                            f"{len(video.errors)} failed" if video else ""), highlight=False)
        raise typer.Exit(EXIT_SOME_FAILED if run.errors or (video and video.errors) else EXIT_OK)

    from osint.hashing import hash_file
    from osint.ingest import walk

    files, failed, rows, results = [], 0, [], []
    for path, problem in walk(paths):
        if problem:
            file_error(str(path), problem)
            failed += 1
        else:
            files.append(path)
    with progress("hashing", len(files)) as advance:
        for path, hashes, error in make_executor(workers, cluster).run(hash_file, files):
            advance(1, path.name)
            if error:
                file_error(str(path), error)
                failed += 1
                results.append({"path": str(path), "error": error})
                continue
            results.append({"path": str(path), "media_type": hashes.media_type, "frames": _frames(hashes),
                            "decoder_notes": list(hashes.decoder_notes)})
            rows += [(path.name, "" if f.t is None else f"{f.t:.1f}", f.view, f.phash, f.dhash, f.pdq[:16] + "…",
                      f.pdq_quality) for f in hashes.frames]
    if as_json:
        emit_json(sorted(results, key=lambda r: r["path"]))
    else:
        table(None, ["file", "t (s)", "view", "pHash", "dHash", "PDQ", "quality"], rows)
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def dupes(
    phash: Optional[int] = PhashOption,
    dhash: Optional[int] = DhashOption,
    pdq: Optional[int] = PdqOption,
    crops: bool = CropsOption,
    case_dir: Optional[Path] = CaseOption,
    workers: Optional[int] = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    as_json: bool = JsonOption,
) -> None:
    """Groups of near-duplicates in the case (reposts of one picture, stills cut from a video), largest first.

    Two items are linked when any of their pictures (a photo, or a video keyframe) are within the threshold
    of any one hash, or (with the optional vpdq package) when one video contains the other by vPDQ: 80% of
    its distinct frames within 31 bits of the other's, as Meta's matcher counts. A group is everything linked
    directly or through a chain of links, so review one member and the rest are the same picture. Exact duplicates (same bytes) are already one item.
    Items not hashed yet are hashed first. Groups are leads for review, not proof. To hand a group to a
    prosecutor: `osint evidence export --group SHA` with any member's SHA-256 prefix.
    """
    from osint.hashing import VpdqLink, repost_groups

    case, run, limits, hashes = _hashed_case(case_dir, workers, cluster, phash, dhash, pdq)
    if crops:
        _local_stages(case, hashes, workers, cluster)
    _vpdq_case(case, workers, cluster)
    with progress("crop-robust links", None) as advance:
        found, groups = repost_groups(case, limits, local=crops, progress=lambda n: advance(n, ""))
    if as_json:
        items = {it.sha256: it for it in case.items(role=None)}
        emit_json({"thresholds": limits.__dict__, "version": run.version, "failed": run.errors,
                   "groups": [{"size": len(g.members),
                               "members": [{"sha256": m, "media_type": items[m].media_type, "role": items[m].role,
                                            "paths": _names(case, m), "frames": _frames(hashes[m])}
                                           for m in g.members],
                               "pairs": [_match_json(p) for p in found.pairwise(g, limits)],
                               "local_links": [_local_json(lk) for lk in g.local if not isinstance(lk, VpdqLink)],
                               "vpdq_links": [_local_json(lk) for lk in g.local if isinstance(lk, VpdqLink)]} for g in groups]})
    else:
        rows = []
        for k, g in enumerate(groups, 1):
            for m in g.members:
                names = _names(case, m)
                link = next((lk for lk in g.links if m in (lk.a, lk.b)), None)
                crop = next((lk for lk in sorted(g.local, key=lambda lk: getattr(lk, "t_a", None) is None)
                             if m in (lk.a, lk.b)), None)
                link = None if getattr(crop, "t_a", None) is not None else link    # a still's time in its video first
                why = f"{_short(link.a)}~{_short(link.b)}: {_evidence_text(link)}" if link else \
                    f"{_short(crop.a)}~{_short(crop.b)}: {crop.describe()}" if crop else ""
                rows.append((k, len(g.members), _short(m), hashes[m].media_type,
                             Path(names[0]).name if names else "", why))
        table(f"{len(groups)} groups of near-duplicates among {len(hashes)} hashed items "
              f"(pHash<={limits.phash}, dHash<={limits.dhash}, PDQ<={limits.pdq}, beyond {limits.pdq_certain} only with one "
              f"chunk within 1 bit; * = linked"
              f"{'; local = crop-robust link by local features' if crops else ''}; vpdq = videos by vPDQ)",
              ["group", "size", "sha256", "type", "first name", "a link (distances in bits)"], rows)
    raise typer.Exit(EXIT_SOME_FAILED if run.errors else EXIT_OK)


def similar(
    picture: Path = typer.Argument(..., help="A photo or video (need not be in the case)."),
    phash: Optional[int] = PhashOption,
    dhash: Optional[int] = DhashOption,
    pdq: Optional[int] = PdqOption,
    crops: bool = CropsOption,
    case_dir: Optional[Path] = CaseOption,
    workers: Optional[int] = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    as_json: bool = JsonOption,
) -> None:
    """Everything in the case that looks like PICTURE (other reposts, the video it was cut from), closest first.

    For videos the keyframe time of the closest hash match is named, and for a photo that shows a video's frame
    (local features) that frame's index and time. Items not hashed yet are hashed first.
    """
    from osint.errors import OsintError
    from osint.hashing import HashSet, hash_file

    try:
        query = hash_file(picture)
    except OsintError as exc:
        fail(f"{picture}: {exc}")
    except OSError as exc:
        fail(f"{picture}: {exc.strerror or exc}")
    case, run, limits, hashes = _hashed_case(case_dir, workers, cluster, phash, dhash, pdq)
    matches = HashSet(hashes).similar(query, limits)
    crop_links = []
    if crops and query.media_type == "image":
        from osint.hashing import LocalSet, local_features, stored_local, stored_video_local, video_links

        _local_stages(case, hashes, workers, cluster)
        photos = {sha: f for sha, f in stored_local(case).items() if len(f.features.descriptors)}
        mine, by_hash = local_features(picture), {m.b for m in matches}
        crop_links = [lk for lk in (LocalSet(photos).similar(mine) if photos else []) if lk.a not in by_hash]
        crop_links += video_links({"query": mine}, stored_video_local(case), case.object_path)   # its frame's time
    if as_json:
        emit_json({"query": str(picture), "thresholds": limits.__dict__, "version": run.version,
                   "frames": _frames(query),
                   "matches": [{**_match_json(m), "paths": _names(case, m.b), "media_type": hashes[m.b].media_type}
                               for m in matches],
                   "local_matches": [{**_local_json(lk), "paths": _names(case, lk.a)} for lk in crop_links]})
    else:
        table(f"{len(matches) + len(crop_links)} items look like {picture.name} (a = the item, b = it for local "
              f"links; distances: a = it; * = within threshold)", ["sha256", "type", "first name", "why"],
              [(_short(m.b), hashes[m.b].media_type, Path((_names(case, m.b) or [""])[0]).name, _evidence_text(m))
               for m in matches] +
              [(_short(lk.a), hashes[lk.a].media_type if lk.a in hashes else "image",
                Path((_names(case, lk.a) or [""])[0]).name, lk.describe()) for lk in crop_links])
    raise typer.Exit(EXIT_SOME_FAILED if run.errors else EXIT_OK)


for _command in (dupes, similar):
    _command.__doc__ = f"{_command.__doc__}\n\n    {DISTANCE_HELP}\n"
