"""Ages on every candidate, through the CLI, the review list and the report, on pictures generated from the
demo's public-domain samples (always runs): a dated photo, an undated video, and births that cannot be right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app

runner = CliRunner()


def osint(case: Path, *args: str) -> object:
    return runner.invoke(app, [*args, "--case", str(case)])


@pytest.fixture(scope="module")
def dated_case(tmp_path_factory) -> dict[str, object]:
    """The demo's reference photo (no EXIF date; its date given), a post with EXIF capture time 2024-06-01 and
    a clip with no creation time, matched once."""
    from osint.demo import make_inputs

    tmp = tmp_path_factory.mktemp("ages")
    made = make_inputs(tmp / "in")
    root = tmp / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    clip = made["collected"] / "channel_d" / "clip.mp4"
    assert osint(root, "add", str(made["original"]), str(clip)).exit_code == 0
    res = osint(root, "refs", "add", "EC", str(made["reference"]), "--born", "2015")
    assert res.exit_code == 0, res.output
    ref = json.loads(osint(root, "ls", "--role", "reference", "--json").stdout)[0]["sha256"]
    assert osint(root, "date", ref, "2019-06-01", "--what", "family says").exit_code == 0
    items = {i["sha256"]: i for i in json.loads(osint(root, "ls", "--json").stdout)}
    video = next(s for s, i in items.items() if i["media_type"] == "video")
    photo = next(s for s, i in items.items() if i["media_type"] == "image")
    return {"root": root, "ref": ref, "video": video, "photo": photo}


def match_json(root: Path) -> list[dict]:
    res = osint(root, "match", "--json", "--workers", "1")
    assert res.exit_code == 0, res.output
    return [c for c in json.loads(res.stdout)["candidates"] if c["rank"] == 1]


def test_dated_found_photo_shows_ages_and_gap(dated_case) -> None:
    found = [c for c in match_json(dated_case["root"]) if c["item"] == dated_case["photo"]]
    assert found, "the demo post shows the reference person"
    ages = found[0]["ages"]
    assert ages["reference_date"] == "2019-06-01" and "family says (given by" in ages["reference_date_source"]
    assert ages["found_date"] == "2024-06-01" and ages["found_date_source"] == "EXIF capture time"
    assert (ages["age_reference"], ages["age_found"], ages["years_between"]) == ("3-4", "8-9", 5.0)
    assert ages["flags"] == []
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(osint(dated_case["root"], "match", "--csv", "--workers", "1").stdout)))
    assert [(r["age_reference"], r["age_found"], r["years_between"]) for r in rows if r["item"] == dated_case["photo"]
            and r["rank"] == "1"] == [("3-4", "8-9", "5.0")]
    listed = json.loads(osint(dated_case["root"], "review", "list", "--json").stdout)
    mine = [c for c in listed if c["item"] == dated_case["photo"]]
    assert mine and "age 3-4" in mine[0]["ages"] and "5.0 years later" in mine[0]["ages"]
    page = dated_case["root"] / "report.html"
    assert osint(dated_case["root"], "report", "--out", str(page), "--no-thumbnails").exit_code == 0
    assert "5.0 years later" in page.read_text() and "c.ages" in page.read_text()


def test_undated_video_still_listed_with_a_clear_note(dated_case) -> None:
    video = [c for c in match_json(dated_case["root"]) if c["item"] == dated_case["video"]]
    assert video, "the demo clip shows the reference person"
    ages = video[0]["ages"]
    assert ages["found_date"] is None and ages["age_found"] is None and ages["age_reference"] == "3-4"
    assert "video has no creation time" in ages["found_date_note"] and "osint date" in ages["found_date_note"]
    res = osint(dated_case["root"], "match", "--workers", "1")
    assert res.exit_code == 0 and "have no date" in res.output and "osint date ITEM" in res.output


def test_bad_births_and_dates_are_flagged_not_fatal(dated_case, tmp_path: Path) -> None:
    root = dated_case["root"]
    from osint.case import Case

    with Case.open(root) as case:
        rec = case.record("person", "EC")
        case.put_record("person", "EC", {**rec, "born": "2999"}, action="refs:person")
    found = [c for c in match_json(root) if c["item"] == dated_case["photo"]]
    assert found and found[0]["ages"]["age_found"] is None
    assert any("birth year 2999 is in the future" in f for f in found[0]["ages"]["flags"])
    with Case.open(root) as case:
        case.put_record("person", "EC", {**rec, "born": "2021"}, action="refs:person")
    assert osint(root, "date", dated_case["photo"], "2018-03-01", "--what", "post date").exit_code == 0
    found = [c for c in match_json(root) if c["item"] == dated_case["photo"]]
    flags = found[0]["ages"]["flags"]
    assert any("found photo dated 2018-03-01 is before the birth" in f for f in flags)
    assert any("before the reference photo" in f for f in flags)
    assert found[0]["ages"]["years_between"] < 0
    listed = json.loads(osint(root, "review", "list", "--json").stdout)
    assert any(c["item"] == dated_case["photo"] and c["age_flags"] for c in listed)
    assert osint(root, "date", dated_case["photo"], "--clear").exit_code == 0
    with Case.open(root) as case:
        case.put_record("person", "EC", rec, action="refs:person")
