"""EXIF GPS: agreement with ExifTool on real files, reader fallback, and every sanity flag."""

from __future__ import annotations

import csv
import json
import math

import pytest

from osint.geolocate import read_gps
from osint.geolocate.exif import interpret
from tests.geolocate.conftest import gps_photo


def test_agrees_with_exiftool_on_every_shared_file(shared_data):
    root = shared_data / "exif"
    rows = list(csv.DictReader(open(root / "gps.csv")))
    tool = {r["SourceFile"]: r for r in json.loads((root / "exiftool.json").read_text())}
    assert len(rows) == len(tool) > 100
    with_gps = 0
    for row in rows:
        got = read_gps(root / row["file"])
        if not row["lat"]:
            assert got.lat is None and got.lon is None, row["file"]
            continue
        with_gps += 1
        assert abs(got.lat - float(row["lat"])) < 1e-6, row["file"]
        assert abs(got.lon - float(row["lon"])) < 1e-6, row["file"]
        assert abs(got.lat - tool[row["file"]]["Composite:GPSLatitude"]) < 1e-6
        if row["alt"]:
            assert got.altitude_m == pytest.approx(float(row["alt"]), abs=1e-3), row["file"]
        if row["gps_datetime"]:
            assert got.gps_time[:19].replace("-", ":").replace("T", " ") == row["gps_datetime"][:19]
        if row["datetime_original"]:
            assert got.capture_time[:19].replace("-", ":").replace("T", " ") == row["datetime_original"][:19]
        herr = tool[row["file"]].get("EXIF:GPSHPositioningError")
        if herr is not None:
            assert got.h_error_m == pytest.approx(herr) and got.uncertainty_m == pytest.approx(herr)
    assert with_gps == 20


def test_known_clock_and_zone_problems_in_shared_files_are_flagged(shared_data):
    root = shared_data / "exif"
    dscn = read_gps(root / "exif-samples/jpg/gps/DSCN0010.jpg")  # GPS clock ~22 h from camera clock (SOURCE.md)
    assert any(f.startswith("clock:") for f in dscn.flags)
    eof = read_gps(root / "metadata-extractor-images/heic/exif-at-eof.heic")  # UTC-4 in Mongolia
    assert any(f.startswith("time zone:") for f in eof.flags)
    helsinki = read_gps(root / "exif-samples/jpg/mobile/HMD_Nokia_8.3_5G.jpg")  # +03:00 at 24.9 E: fine
    assert not helsinki.flags


def test_heif_and_webp_through_pillow_agree_with_exiftool(shared_data):
    from osint.geolocate.exif import _pillow_tags

    root = shared_data / "exif"
    rows = {r["file"]: r for r in csv.DictReader(open(root / "gps.csv"))}
    for name in ("exif-samples/heic/IMG_5195.HEIC", "metadata-extractor-images/webp/Issue_473_Java.webp"):
        raw, reader = _pillow_tags(root / name)
        got = interpret(raw, reader)
        assert reader == ("pillow-heif" if name.endswith("HEIC") else "pillow")
        assert abs(got.lat - float(rows[name]["lat"])) < 1e-6 and abs(got.lon - float(rows[name]["lon"])) < 1e-6


def test_webp_that_exifread_cannot_read_falls_back_to_pillow(tmp_path):
    got = read_gps(gps_photo(tmp_path / "a.webp"))
    assert got.reader == "pillow"
    assert any(n.startswith("exifread:") for n in got.reader_notes)
    assert got.lat == pytest.approx(50.45) and got.lon == pytest.approx(30 + 31 / 60 + 12.5 / 3600)
    assert got.capture_time == "2024-05-14T10:20:00+03:00" and got.gps_time == "2024-05-14T07:20:00Z"
    assert not got.flags


def test_zero_denominator_rational_is_reported_not_nan(tmp_path):
    from PIL.TiffImagePlugin import IFDRational

    got = read_gps(gps_photo(tmp_path / "z.jpg", lat=(IFDRational(50, 1), IFDRational(27, 1), IFDRational(0, 0))))
    assert got.lat is None and got.lon is None
    assert any("zero denominator" in f for f in got.flags)
    assert any("zero-denominator" in n for n in got.reader_notes)


def test_south_west_refs_altitude_below_sea_and_accuracy(tmp_path):
    got = read_gps(gps_photo(tmp_path / "s.jpg", lat_ref="S", lon_ref="W", offset=None, dto=None,
                             extra_gps={5: b"\x01", 6: 12.5, 11: 2.0}))
    assert got.lat == pytest.approx(-50.45) and got.lon < 0
    assert got.altitude_m == pytest.approx(-12.5)
    assert got.dop == 2.0 and got.uncertainty_m == pytest.approx(10.0) and "DOP" in got.uncertainty_source


@pytest.mark.parametrize("kwargs, flag", [
    (dict(lat=(0.0, 0.0, 0.0), lon=(0.0, 0.0, 0.0), offset=None, gps_time=None), "null-island"),
    (dict(lat=(95.0, 0.0, 0.0)), "out-of-range"),
    (dict(lon=(30.0, 75.0, 0.0)), "out-of-range longitude"),
    (dict(software="Adobe Photoshop CC 2019"), "edited"),
    (dict(gps_time=(11.0, 0.0, 0.0)), "clock"),
    (dict(offset="-07:00", gps_time=(17.0, 20.0, 0.0)), "time zone"),
    (dict(offset=None, gps_time=(3.0, 13.0, 0.0)), "clock"),  # local - GPS = 7 h 07 min: no zone
])
def test_sanity_flags(tmp_path, kwargs, flag):
    got = read_gps(gps_photo(tmp_path / "f.jpg", **kwargs))
    assert any(f.startswith(flag) for f in got.flags), got.flags


def test_clean_file_has_no_flags(tmp_path):
    got = read_gps(gps_photo(tmp_path / "ok.jpg", offset=None))  # zone implied by GPS vs local time: +3 at 30.5 E
    assert got.flags == () and got.has_position


def test_files_without_exif_give_no_position(tmp_path):
    from tests.conftest import make_photo

    got = read_gps(make_photo(tmp_path / "plain.jpg"))
    assert got.lat is None and got.reader == "none" and got.uncertainty_m is None
    assert math.isfinite(len(got.reader_notes))


def test_absurd_gps_time_gives_no_time_and_keeps_the_position(tmp_path):
    got = read_gps(gps_photo(tmp_path / "hostile.jpg", gps_time=(1e12, 0.0, 0.0)))
    assert got.gps_time is None
    assert got.lat == pytest.approx(50.45)
