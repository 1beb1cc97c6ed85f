"""Sun and shadow: where on Earth the sun stood at a given elevation at a given instant.

A vertical object of height h on flat ground casts a shadow of length h / tan(elevation), so a measured
shadow/height ratio gives the sun's apparent elevation. At one instant every place that sees the sun at
that elevation lies on a small circle around the subsolar point (angular radius 90 deg - elevation), so a
range of elevations (the measurement error) is a ring-shaped band. Sun positions come from astral (NOAA
algorithm, ~0.01 deg against NREL's SPA worked example); atmospheric refraction is applied as astral does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GRID_DEG = 0.25   # band raster resolution (degrees, ~28 km at the equator)


@dataclass(frozen=True)
class SunPosition:
    """Sun elevation in degrees above the horizon, apparent (with refraction: what a shadow shows) and
    geometric (without: what sunrise/sunset tables at -0.833 deg use), and azimuth in degrees from north."""

    elevation_deg: float
    geometric_elevation_deg: float
    azimuth_deg: float


@dataclass(frozen=True)
class ShadowBand:
    """Where a photo can have been taken, from the sun's elevation at the capture instant.

    `elevation_min/max_deg` is the apparent-elevation range used (from the shadow ratio and its error);
    `geometry` is a GeoJSON MultiPolygon (lon/lat) of the band, rasterised at 0.25 deg; the subsolar point
    is where the sun was overhead; `width_km` is the band's north-south width where it crosses the
    subsolar meridian, a measure of how tight the answer is.
    """

    time_utc: str
    elevation_min_deg: float
    elevation_max_deg: float
    shadow_ratio: float | None
    subsolar_lat: float
    subsolar_lon: float
    width_km: float
    geometry: dict[str, Any]


def sun_position(lat: float, lon: float, when: datetime) -> SunPosition:
    """Apparent sun elevation and azimuth at a place and instant (astral; `when` must carry a time zone)."""
    from astral import Observer
    from astral.sun import zenith_and_azimuth

    zen, az = zenith_and_azimuth(Observer(lat, lon), _utc(when), with_refraction=True)
    geo, _ = zenith_and_azimuth(Observer(lat, lon), _utc(when), with_refraction=False)
    return SunPosition(90.0 - zen, 90.0 - geo, az)


def elevation_from_shadow(ratio: float) -> float:
    """Sun elevation (degrees) from shadow length / object height for a vertical object on flat ground."""
    if ratio <= 0 or not math.isfinite(ratio):
        raise ValueError(f"shadow/height ratio must be a positive number, not {ratio}")
    return math.degrees(math.atan(1.0 / ratio))


def subsolar_point(when: datetime) -> tuple[float, float]:
    """(lat, lon) where the sun is overhead at `when`: declination and the longitude of solar noon (astral)."""
    from astral.sun import eq_of_time, julianday, julianday_to_juliancentury, sun_declination

    t = _utc(when)
    jc = julianday_to_juliancentury(julianday(t))
    minutes = t.hour * 60 + t.minute + t.second / 60 + t.microsecond / 6e7
    lon = (720.0 - minutes - eq_of_time(jc)) / 4.0
    return sun_declination(jc), (lon + 180.0) % 360.0 - 180.0


def _geometric(apparent_deg: float) -> float:
    """Apparent elevation -> geometric (true) elevation, inverting astral's refraction model by fixed-point steps."""
    from astral.sun import refraction_at_zenith

    geo = apparent_deg
    for _ in range(3):
        geo = apparent_deg - refraction_at_zenith(90.0 - geo)
    return geo


def shadow_band(when: datetime, *, shadow_ratio: float | None = None, elevation_deg: float | None = None,
                ratio_error: float = 0.05, elevation_error_deg: float = 0.5) -> ShadowBand:
    """The band of places where the sun's apparent elevation at `when` matches the measurement.

    Give `shadow_ratio` (shadow length / object height; `ratio_error` is its relative error, 0.05 = 5 %)
    or `elevation_deg` (+- `elevation_error_deg`). Cost: one numpy pass over a 0.25 deg global grid (~50 ms).
    """
    import numpy as np
    from shapely.geometry import box, mapping
    from shapely.ops import unary_union

    if shadow_ratio is not None:
        lo = elevation_from_shadow(shadow_ratio * (1 + ratio_error))
        hi = elevation_from_shadow(max(shadow_ratio * (1 - ratio_error), 1e-9))
    elif elevation_deg is not None:
        lo, hi = elevation_deg - elevation_error_deg, elevation_deg + elevation_error_deg
    else:
        raise ValueError("give a shadow/height ratio or a sun elevation")
    if hi <= 0:
        raise ValueError(f"a sun elevation of {hi:.2f} deg is at or below the horizon: nothing casts a shadow")
    lo, hi = max(lo, 0.0), min(hi, 90.0)
    slat, slon = subsolar_point(when)
    # cos(angular distance from the subsolar point) = sin(geometric elevation)
    g_lo, g_hi = math.radians(_geometric(lo)), math.radians(_geometric(hi))
    lats = np.arange(-90 + GRID_DEG / 2, 90, GRID_DEG)
    lons = np.arange(-180 + GRID_DEG / 2, 180, GRID_DEG)
    la, lo_ = np.radians(lats)[:, None], np.radians(lons)[None, :]
    s = np.sin(la) * math.sin(math.radians(slat)) + np.cos(la) * math.cos(math.radians(slat)) * np.cos(
        lo_ - math.radians(slon))
    inside = (s >= math.sin(g_lo)) & (s <= math.sin(g_hi))
    boxes = []
    half = GRID_DEG / 2
    for i, row in enumerate(inside):
        if not row.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate(([0], row.astype(np.int8), [0]))))
        for a, b in zip(edges[::2], edges[1::2]):
            boxes.append(box(lons[a] - half, lats[i] - half, lons[b - 1] + half, lats[i] + half))
    geom = unary_union(boxes) if boxes else None
    gj = mapping(geom) if geom is not None else {"type": "MultiPolygon", "coordinates": []}
    if gj["type"] == "Polygon":
        gj = {"type": "MultiPolygon", "coordinates": [gj["coordinates"]]}
    width_km = abs(math.degrees(g_hi - g_lo)) * 111.2
    return ShadowBand(_utc(when).isoformat().replace("+00:00", "Z"), round(lo, 4), round(hi, 4), shadow_ratio,
                      round(slat, 4), round(slon, 4), round(width_km, 1), _rounded(gj))


def in_band(band: ShadowBand, lat: float, lon: float) -> bool:
    """True if (lat, lon) lies inside the band's geometry."""
    from shapely.geometry import Point, shape

    return bool(band.geometry["coordinates"]) and shape(band.geometry).intersects(Point(lon, lat))


def _rounded(gj: dict[str, Any]) -> dict[str, Any]:
    def r(x: Any) -> Any:
        return round(x, 4) if isinstance(x, float) else [r(v) for v in x]

    return {"type": gj["type"], "coordinates": r(gj["coordinates"])}


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("the capture time needs a time zone or offset (e.g. 2024-05-14T10:20+03:00)")
    return when.astimezone(timezone.utc)
