"""Ages across years: photo dates (EXIF, video header, a date a person gives), ages, gaps and the flags."""

from __future__ import annotations

import struct
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from osint.facematch.ages import (Age, Birth, ItemDate, age_at, age_gap, clear_item_date, item_date, metadata_date,
                                  parse_born, set_item_date, under_18, under_18_at_reference)
from tests.conftest import make_photo


def exif_photo(path: Path, when: str, seed: int = 0) -> Path:
    """A generated JPEG whose EXIF DateTimeOriginal is `when` ("YYYY:MM:DD HH:MM:SS")."""
    from PIL import Image

    make_photo(path, seed)
    with Image.open(path) as im:
        exif = im.getexif()
        exif.get_ifd(0x8769)[0x9003] = when
        im.save(path, "JPEG", exif=exif.tobytes())
    return path


def test_birth_and_age_whole_years_or_range() -> None:
    assert parse_born("2011") == Birth(2011) and parse_born(2011) == Birth(2011)
    assert parse_born("2011-03-14") == Birth(2011, 3, 14) and parse_born("2011-03") == Birth(2011, 3)
    assert parse_born("unknown") is None and parse_born(None) is None
    assert age_at(Birth(2011), date(2020, 6, 1)) == Age(8, 9) and str(Age(8, 9)) == "8-9"
    assert age_at(Birth(2011, 3, 14), date(2020, 3, 13)) == Age(8, 8)
    assert age_at(Birth(2011, 3, 14), date(2020, 3, 14)) == Age(9, 9)
    assert age_at(Birth(2011, 3), date(2020, 5, 1)) == Age(9, 9) and age_at(Birth(2011, 3), date(2020, 3, 1)) == Age(8, 9)
    assert age_at(None, date(2020, 1, 1)) is None and age_at(Birth(2011), None) is None


def test_under_18_true_false_or_unknown() -> None:
    assert under_18("2011", date(2020, 1, 1)) is True
    assert under_18("1990", "2020-01-01") is False
    assert under_18("2006", date(2024, 6, 1)) is None          # 17 or 18: unknown, use the conservative table
    assert under_18("2006-01-01", date(2024, 6, 1)) is False
    assert under_18(None, date(2024, 6, 1)) is None and under_18("2011", None) is None
    assert under_18("2030", date(2024, 1, 1)) is None           # before birth: nothing to say


def test_gap_and_flags() -> None:
    ref, found = ItemDate("2019-07-01", "EXIF capture time"), ItemDate("2023-01-15", "post date (given by x)")
    gap = age_gap("2012", ref, found, today=date(2025, 1, 1))
    assert gap.age_reference == Age(6, 7) and gap.age_found == Age(10, 11) and gap.years_between == 3.5
    assert gap.flags == () and gap.summary() == "age 6-7 -> 10-11 (+3.5 y)"
    back = age_gap("2012", found, ref, today=date(2025, 1, 1))
    assert back.years_between == -3.5 and any("before the reference photo" in f for f in back.flags)
    future = age_gap("2031", ref, found, today=date(2025, 1, 1))
    assert future.age_found is None and any("birth year 2031 is in the future" in f for f in future.flags)
    before_birth = age_gap("2021", ref, found, today=date(2025, 1, 1))
    assert any("before the birth" in f for f in before_birth.flags) and before_birth.age_found == Age(1, 2)
    adult = age_gap("2000", ref, found, today=date(2025, 1, 1))
    assert any("an adult" in f for f in adult.flags)
    unknown = age_gap(None, ItemDate(None, "none"), found)
    assert unknown.age_found is None and unknown.years_between is None and unknown.flags == ()
    assert age_gap("ten", ref, found).flags[0].startswith("birth 'ten' is not a year")


def test_metadata_dates_and_what_is_missing() -> None:
    assert metadata_date({"exif": {"EXIF DateTimeOriginal": "2021:04:05 10:00:00"}}).date == "2021-04-05"
    blank = metadata_date({"exif": {"EXIF DateTimeOriginal": "0000:00:00 00:00:00", "Image DateTime": "2022:01:02 03:04:05"}})
    assert blank.date == "2022-01-02" and "edited" in blank.source
    assert metadata_date({"creation_time": "2023-02-03T04:05:06Z"}, "video") == ItemDate("2023-02-03", "video creation time")
    none = metadata_date({"creation_time": None}, "video")
    assert none.date is None and "osint date" in none.note and "video" in none.note


def test_dates_in_a_case_exif_and_given(case, tmp_path: Path) -> None:
    from osint.ingest import add_file

    photo = exif_photo(tmp_path / "a.jpg", "2019:07:01 12:00:00")
    plain = make_photo(tmp_path / "b.jpg", seed=3)
    sha_a, sha_b = (add_file(case, p, collector="t").sha256 for p in (photo, plain))
    assert item_date(case, sha_a) == ItemDate("2019-07-01", "EXIF capture time")
    assert item_date(case, sha_b).date is None
    set_item_date(case, sha_b, "2023-05-02", what="post date", actor="tester")
    assert item_date(case, sha_b) == ItemDate("2023-05-02", "post date (given by tester)")
    assert [e.action for e in case.custody()][-1] == "date:set"
    with pytest.raises(ValueError):
        set_item_date(case, sha_b, "2023-13-02")
    with pytest.raises(ValueError, match="future"):
        set_item_date(case, sha_b, "2999-01-01")
    case.put_record("person", "UA-1", {"id": "UA-1", "name": "x", "born": "2012"}, action="refs:person")
    assert under_18_at_reference(case, "UA-1", sha_a) is True
    assert under_18_at_reference(case, "UA-2", sha_a) is None          # no such person: unknown
    assert clear_item_date(case, sha_b, actor="tester") and item_date(case, sha_b).date is None


def test_video_creation_time_from_mp4_header(case, tmp_path: Path) -> None:
    """A generated MP4 (OpenCV writes creation time 0 = unknown) and the same with a real time set."""
    import cv2

    from osint.ingest import add_file
    from osint.media import creation_time

    path = tmp_path / "clip.mp4"
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for i in range(5):
        w.write(np.full((48, 64, 3), i * 40, np.uint8))
    w.release()
    assert creation_time(path) is None
    raw = bytearray(path.read_bytes())
    at = raw.find(b"mvhd") + 4
    secs = 2082844800 + 1_700_000_000                              # 2023-11-14T22:13:20Z
    raw[at + 4:at + 8] = struct.pack(">I", secs) if raw[at] == 0 else raw[at + 4:at + 8]
    dated = tmp_path / "dated.mp4"
    dated.write_bytes(bytes(raw))
    assert creation_time(dated) == "2023-11-14T22:13:20Z"
    sha = add_file(case, dated, collector="t").sha256
    assert item_date(case, sha) == ItemDate("2023-11-14", "video creation time")
    (tmp_path / "junk.mp4").write_bytes(b"\x00\x00\x00\x01ftyp" + b"\xff" * 40)
    assert creation_time(tmp_path / "junk.mp4") is None


def test_date_command_sets_shows_refuses_and_clears(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from osint.cli import app

    runner = CliRunner()
    root = tmp_path / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    photo = make_photo(tmp_path / "p.jpg", seed=5)
    assert runner.invoke(app, ["add", str(photo), "--case", str(root)]).exit_code == 0
    sha = json.loads(runner.invoke(app, ["ls", "--json", "--case", str(root)]).stdout)[0]["sha256"]
    res = runner.invoke(app, ["date", sha[:8], "--json", "--case", str(root)])
    assert res.exit_code == 0 and json.loads(res.stdout)["date"] is None and "osint date" in json.loads(res.stdout)["note"]
    res = runner.invoke(app, ["date", sha[:8], "2024-02-29", "--what", "post date", "--case", str(root)])
    assert res.exit_code == 0 and "2024-02-29 (post date (given by" in res.stdout
    res = runner.invoke(app, ["date", sha[:8], "2023-02-29", "--case", str(root)])
    assert res.exit_code == 2 and "is not a date" in res.output
    res = runner.invoke(app, ["date", "ffff", "2023-02-01", "--case", str(root)])
    assert res.exit_code == 2 and "no item" in res.output
    assert runner.invoke(app, ["date", sha[:8], "--clear", "--case", str(root)]).exit_code == 0
    assert runner.invoke(app, ["date", sha[:8], "--clear", "--case", str(root)]).exit_code == 1
    res = runner.invoke(app, ["refs", "add", "UA-9", str(photo), "--born", "2999", "--case", str(root)])
    assert "--born 2999 is in the future" in res.output and "Traceback" not in res.output
