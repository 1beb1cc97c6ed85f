"""EXIF GPS: position, altitude, GPS time, stated accuracy and capture time, with sanity flags.

exifread reads most files; where it raises, finds no EXIF, or yields a non-finite GPS rational (a zero
denominator), the same tags are read with Pillow (pillow-heif for HEIC/HEIF) and `reader` says which one
answered. Values are ExifTool's numeric conventions: signed decimal degrees, metres (negative below sea level).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from osint.geolocate.places import on_earth

# Assumed horizontal error when a file states none: typical phone/camera GPS outdoors (metres).
DEFAULT_GPS_ERROR_M = 50.0
# One unit of dilution of precision is worth about this many metres of user range error (metres).
UERE_M = 5.0
# GPS time and capture time (both in UTC) further apart than this are flagged (seconds).
MAX_CLOCK_GAP_S = 600
# Without an OffsetTime tag, local time minus GPS time should be a whole quarter hour (a time zone) give or
# take this much camera-clock drift (seconds).
ZONE_SLACK_S = 180
# A time-zone offset more than this many hours from longitude/15 is flagged (political zones and
# summer time put real offsets up to ~3 h from solar time, e.g. western China, Spain in summer).
MAX_ZONE_GAP_H = 3.5

EDITORS = re.compile(r"photoshop|lightroom|gimp|snapseed|picasa|paint|affinity|pixelmator|photoscape|"
                     r"acdsee|capture one|darktable|rawtherapee|facetune|vsco|picsart|canva|exiftool|"
                     r"photos? editor|fotor|luminar|\bedit", re.I)

_GPS_TAGS = {1: "GPSLatitudeRef", 2: "GPSLatitude", 3: "GPSLongitudeRef", 4: "GPSLongitude",
             5: "GPSAltitudeRef", 6: "GPSAltitude", 7: "GPSTimeStamp", 11: "GPSDOP", 29: "GPSDateStamp",
             31: "GPSHPositioningError"}
_EXIF_TAGS = {0x9003: "DateTimeOriginal", 0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal"}
_IFD0_TAGS = {0x010F: "Make", 0x0110: "Model", 0x0131: "Software", 0x000B: "ProcessingSoftware"}
_EXIFREAD_NAMES = {**{f"GPS {n}": n for n in _GPS_TAGS.values()}, "GPS GPSDate": "GPSDateStamp",
                   "GPS Tag 0x001F": "GPSHPositioningError",  # exifread 3.x has no name for tag 31
                   **{f"EXIF {n}": n for n in _EXIF_TAGS.values()},
                   **{f"Image {n}": n for n in _IFD0_TAGS.values()}}


@dataclass(frozen=True)
class ExifGPS:
    """What a file's EXIF says about where and when it was taken; None where a tag is absent or unusable.

    `uncertainty_m` is the horizontal error radius: GPSHPositioningError if present, else DOP x 5 m, else
    an assumed 50 m (`uncertainty_source` says which). `gps_time` is UTC; `capture_time` is
    DateTimeOriginal with its OffsetTime when the file gives one (else naive local time).
    """

    lat: float | None
    lon: float | None
    altitude_m: float | None
    gps_time: str | None
    dop: float | None
    h_error_m: float | None
    capture_time: str | None
    offset_time: str | None
    make: str | None
    model: str | None
    software: str | None
    uncertainty_m: float | None
    uncertainty_source: str | None
    reader: str
    reader_notes: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None


def read_gps(path: Path | str) -> ExifGPS:
    """Read GPS and capture-time tags of one photo, choosing the reader per file (see module docstring)."""
    path = Path(path)
    notes: list[str] = []
    raw, reader = {}, "none"
    try:
        raw, reader = _exifread_tags(path), "exifread"
    except Exception as exc:  # noqa: BLE001 - hostile metadata may raise anything
        notes.append(f"exifread failed: {type(exc).__name__}: {str(exc)[:120]}")
    problem = _problem(raw)
    if problem:
        if reader == "exifread":
            notes.append(f"exifread: {problem}")
        try:
            alt, alt_reader = _pillow_tags(path)
        except Exception as exc:  # noqa: BLE001 - same reason
            notes.append(f"pillow failed: {type(exc).__name__}: {str(exc)[:120]}")
        else:
            if not _problem(alt) or (not raw and alt):
                raw, reader = alt, alt_reader
            elif alt:
                notes.append(f"{alt_reader}: {_problem(alt)}")
    return interpret(raw, reader if raw else "none", tuple(notes))


def _problem(raw: dict[str, Any]) -> str | None:
    """Why a reader's answer is not good enough to keep without trying another reader (None: fine)."""
    if not raw:
        return "no EXIF found"
    if "GPSLatitude" not in raw and "DateTimeOriginal" not in raw:
        return "no GPS or capture time found"
    for name in ("GPSLatitude", "GPSLongitude", "GPSAltitude"):
        if any(not math.isfinite(v) for v in _floats(raw.get(name))):
            return f"{name} has a zero-denominator rational"
    return None


def interpret(raw: dict[str, Any], reader: str, notes: tuple[str, ...] = ()) -> ExifGPS:
    """Turn normalised tags (name -> number list or text) into an `ExifGPS` with its sanity flags."""
    flags: list[str] = []
    lat = _degrees(raw.get("GPSLatitude"), raw.get("GPSLatitudeRef"), "S", flags, "latitude")
    lon = _degrees(raw.get("GPSLongitude"), raw.get("GPSLongitudeRef"), "W", flags, "longitude")
    if lat is not None and lon is not None:
        if lat == 0 and lon == 0:
            flags.append("null-island: position is exactly 0,0 (a receiver without a fix writes this)")
        if not on_earth(lat, lon):
            flags.append(f"out-of-range: {lat:.6f},{lon:.6f} is not on Earth")
    else:
        lat = lon = None
    alt = _first(raw.get("GPSAltitude"))
    if alt is not None:
        alt = -alt if _int(raw.get("GPSAltitudeRef")) == 1 else alt
    gps_time = _gps_time(raw.get("GPSDateStamp"), raw.get("GPSTimeStamp"))
    dop, herr = _first(raw.get("GPSDOP")), _first(raw.get("GPSHPositioningError"))
    offset = _text(raw.get("OffsetTimeOriginal")) or _text(raw.get("OffsetTime"))
    capture = _capture_time(_text(raw.get("DateTimeOriginal")), offset)
    software = " / ".join(t for t in (_text(raw.get("Software")), _text(raw.get("ProcessingSoftware"))) if t) or None
    if software and EDITORS.search(software):
        flags.append(f"edited: software tag says {software!r}; position and time may have been changed")
    _clock_flags(flags, gps_time, capture, offset, lon)
    if herr is not None and math.isfinite(herr) and herr > 0:
        unc, src = herr, "GPSHPositioningError"
    elif dop is not None and math.isfinite(dop) and dop > 0:
        unc, src = dop * UERE_M, f"GPSDOP {dop:g} x {UERE_M:g} m"
    elif lat is not None:
        unc, src = DEFAULT_GPS_ERROR_M, "assumed: the file states no accuracy"
    else:
        unc, src = None, None
    tags = {k: _show(v) for k, v in raw.items()}
    return ExifGPS(lat, lon, alt, gps_time, dop, herr, capture, offset, _text(raw.get("Make")),
                   _text(raw.get("Model")), software, unc, src, reader, notes, tuple(flags), tags)


def _degrees(value: Any, ref: Any, negative: str, flags: list[str], what: str) -> float | None:
    parts = _floats(value)
    if not parts:
        return None
    if any(not math.isfinite(p) for p in parts):
        flags.append(f"unreadable {what}: a rational has a zero denominator")
        return None
    parts = (parts + [0.0, 0.0])[:3]
    if parts[1] >= 60 or parts[2] >= 60 or min(parts) < 0:
        flags.append(f"out-of-range {what}: minutes/seconds {parts[1]:g}/{parts[2]:g} are not a valid angle")
    deg = parts[0] + parts[1] / 60 + parts[2] / 3600
    return -deg if (_text(ref) or "").upper().startswith(negative) else deg


def _gps_time(date: Any, stamp: Any) -> str | None:
    d, hms = _text(date), _floats(stamp)
    if not d or len(hms) != 3 or not all(math.isfinite(v) for v in hms):
        return None
    m = re.match(r"(\d{4})[:\-](\d{2})[:\-](\d{2})", d)
    if not m:
        return None
    try:
        base = datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=timezone.utc)
    except ValueError:
        return None
    h, mi, sec = hms[0], hms[1], hms[2]
    if not (0 <= h < 24 and 0 <= mi < 60 and 0 <= sec < 61):  # hostile or broken: no time, not a crash
        return None
    return (base + timedelta(hours=h, minutes=mi, seconds=sec)).isoformat().replace("+00:00", "Z")


def _capture_time(dto: str | None, offset: str | None) -> str | None:
    if not dto:
        return None
    try:
        t = datetime.strptime(dto.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    zone = parse_offset(offset)
    return (t.replace(tzinfo=zone) if zone else t).isoformat()


def parse_offset(text: str | None) -> timezone | None:
    """'+03:00' / '-0500' / 'Z' as a timezone, else None."""
    if not text:
        return None
    text = text.strip()
    if text.upper() == "Z":
        return timezone.utc
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})", text)
    if not m or int(m[2]) > 14:
        return None
    sign = -1 if m[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(m[2]), minutes=int(m[3])))


def _clock_flags(flags: list[str], gps_time: str | None, capture: str | None, offset: str | None,
                 lon: float | None) -> None:
    """Flag a GPS clock far from the capture clock and a time zone that does not fit the longitude."""
    zone_h: float | None = None
    zone_from = ""
    if gps_time and capture:
        g = datetime.fromisoformat(gps_time.replace("Z", "+00:00"))
        c = datetime.fromisoformat(capture)
        if c.tzinfo:
            gap = abs((c - g).total_seconds())
            if gap > MAX_CLOCK_GAP_S:
                flags.append(f"clock: GPS time is {gap / 3600:.2f} h from the capture time (UTC)")
        else:
            local_minus_utc = (c - g.replace(tzinfo=None)).total_seconds()
            quarter = round(local_minus_utc / 900) * 900
            if abs(quarter) > 14 * 3600 or abs(local_minus_utc - quarter) > ZONE_SLACK_S:
                flags.append(f"clock: GPS time and local capture time differ by {local_minus_utc / 3600:+.2f} h, "
                             "which no time zone explains")
            else:
                zone_h, zone_from = quarter / 3600, "implied by GPS time vs capture time"
    zone = parse_offset(offset)
    if zone is not None:
        zone_h, zone_from = zone.utcoffset(None).total_seconds() / 3600, "OffsetTime tag"
    if zone_h is not None and lon is not None and abs(zone_h - lon / 15) > MAX_ZONE_GAP_H:
        flags.append(f"time zone: UTC{zone_h:+g} ({zone_from}) does not fit longitude {lon:.2f} "
                     f"(solar time there is about UTC{lon / 15:+.1f})")


# ---- readers: each returns tag name -> list of floats (numbers) or text ---------------------------------
def _exifread_tags(path: Path) -> dict[str, Any]:
    import exifread

    from osint.media import captured_log

    with captured_log("exifread"), open(path, "rb") as fh:
        tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
    out: dict[str, Any] = {}
    for key, name in _EXIFREAD_NAMES.items():
        tag = tags.get(key)
        if tag is None:
            continue
        values = tag.values
        if isinstance(values, (str, bytes)):
            out[name] = values.decode("latin-1") if isinstance(values, bytes) else values
        else:
            out[name] = [_num(v) for v in values]
    return out


def _pillow_tags(path: Path) -> tuple[dict[str, Any], str]:
    from PIL import Image

    from osint.media import sniff_file

    if sniff_file(path).format == "heif":
        import pillow_heif

        heif = pillow_heif.open_heif(str(path))
        exif = Image.Exif()
        data = heif.info.get("exif")
        if data:
            exif.load(data)
        reader = "pillow-heif"
    else:
        with Image.open(path) as im:
            exif = im.getexif()
        reader = "pillow"
    out: dict[str, Any] = {}
    for ifd, names in ((exif, _IFD0_TAGS), (exif.get_ifd(0x8769), _EXIF_TAGS), (exif.get_ifd(0x8825), _GPS_TAGS)):
        for tag, name in names.items():
            if tag in ifd:
                value = ifd[tag]
                if isinstance(value, bytes):
                    out[name] = value.decode("latin-1")
                elif isinstance(value, str):
                    out[name] = value
                else:
                    out[name] = [_num(v) for v in (value if isinstance(value, (tuple, list)) else [value])]
    return out, reader


def _num(v: Any) -> float:
    den = getattr(v, "denominator", 1)
    num = getattr(v, "numerator", v)
    try:
        return float("nan") if den == 0 else float(num) / float(den)
    except (TypeError, ValueError):
        return float("nan")


def _floats(value: Any) -> list[float]:
    return [float(v) for v in value] if isinstance(value, list) else []


def _first(value: Any) -> float | None:
    vals = _floats(value)
    return vals[0] if vals and math.isfinite(vals[0]) else None


def _int(value: Any) -> int | None:
    v = _first(value)
    return int(v) if v is not None else None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.replace("\x00", "").strip()
        return value or None
    return None


def _show(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(f"{v:.10g}" for v in value)
    return str(value)[:200]
