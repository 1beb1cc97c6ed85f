"""The commands end to end: a case with a landmark gallery, geolocation stored and logged, the offline map."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from osint.cli import app
from tests.geolocate.conftest import gps_photo
from tests.geolocate.test_landmarks import other_view, scene


def _jpeg(path, img):  # type: ignore[no-untyped-def]
    from PIL import Image

    Image.fromarray(img).save(path, quality=92)
    return path


def test_case_flow_landmarks_geolocate_map(tmp_path, monkeypatch):
    monkeypatch.setenv("OSINT_ACTOR", "tester")
    runner = CliRunner()
    case_dir = tmp_path / "case"
    assert runner.invoke(app, ["init", str(case_dir)]).exit_code == 0
    c = ["--case", str(case_dir)]
    refs = tmp_path / "refs"
    refs.mkdir()
    for i in range(3):
        _jpeg(refs / f"site{i}.jpg", scene(100 + i))
    (tmp_path / "refs.csv").write_text("file,lat,lon,label\nrefs/site0.jpg,44.55,34.29,Artek camp\n"
                                       "refs/site1.jpg,47.1,37.5,School 7\n")
    res = runner.invoke(app, ["landmarks", "add", "--csv", str(tmp_path / "refs.csv"), *c])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["landmarks", "add", str(refs / "site2.jpg"), "--lat", "50.1", "--lon", "36.2",
                              "--label", "Depot", *c, "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)[0]["status"] == "added"
    res = runner.invoke(app, ["landmarks", "add", str(refs / "site2.jpg"), "--lat", "95", "--lon", "0", *c])
    assert res.exit_code == 1 and "not a valid latitude" in res.stderr
    listed = json.loads(runner.invoke(app, ["landmarks", "ls", *c, "--json"]).stdout)
    assert sorted(r["label"] for r in listed) == ["Artek camp", "Depot", "School 7"]

    query = _jpeg(tmp_path / "seen.jpg", other_view(scene(100)))
    gps = gps_photo(tmp_path / "gps.jpg", lat=(44.0, 33.0, 0.0), lon=(34.0, 17.0, 24.0), software="Snapseed")
    assert runner.invoke(app, ["add", str(query), str(gps), *c]).exit_code == 0
    res = runner.invoke(app, ["geolocate", "--landmarks", "--shadow", "1.2", "-w", "1", *c, "--json"])
    assert res.exit_code == 0, res.output
    by_method = {}
    for r in json.loads(res.stdout):
        assert re.fullmatch(r"[0-9a-f]{64}", r["source"])
        for a in r["answers"]:
            by_method.setdefault(a["method"], []).append(a)
    top = by_method["landmark"][0]
    assert top["evidence"]["label"] == "Artek camp" and top["evidence"]["verified"]
    assert top["place"]["country_code"] == "UA" and top["lat"] == 44.55
    exif = by_method["exif-gps"][0]
    assert exif["lat"] == 44.55 and any(f.startswith("edited") for f in exif["flags"])
    assert len(by_method["sun-shadow"]) == 1  # only the photo with an EXIF capture time gets a band

    from osint.case import Case

    case = Case.open(case_dir)
    assert len(case.results("geolocate")) == 2
    actions = [e.action for e in case.custody()]
    assert "analyse:geolocate" in actions and actions.count("landmark:add") == 3 and "landmark:index" in actions
    assert case.verify().ok
    # a second run computes nothing new
    res = runner.invoke(app, ["geolocate", "--landmarks", "--shadow", "1.2", *c])
    assert res.exit_code == 0 and len(case.results("geolocate")) == 2

    out = tmp_path / "map.html"
    res = runner.invoke(app, ["map", "--out", str(out), "--geojson", str(tmp_path / "all.geojson"), *c])
    assert res.exit_code == 0, res.output
    page = out.read_text()
    assert "<svg" in page and page.count("<circle") >= 1 and "Artek camp" in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", page)  # nothing fetched from anywhere
    assert [u for u in re.findall(r"https?://[^\"' )]+", page) if "w3.org/2000/svg" not in u] == []
    feats = json.loads((tmp_path / "all.geojson").read_text())["features"]
    assert {f["geometry"]["type"] for f in feats} >= {"Point", "MultiPolygon"}
    assert "export:map" in [e.action for e in case.custody()]

    sha = listed[0]["sha256"]
    assert runner.invoke(app, ["landmarks", "rm", sha[:10], *c]).exit_code == 0
    assert len(json.loads(runner.invoke(app, ["landmarks", "ls", *c, "--json"]).stdout)) == 2


def test_outside_a_case_and_bad_inputs(tmp_path):
    runner = CliRunner()
    good = gps_photo(tmp_path / "g.jpg")
    missing = tmp_path / "missing.jpg"
    res = runner.invoke(app, ["geolocate", str(good), str(missing), "--json"])
    assert res.exit_code == 1 and "missing.jpg" in res.stderr
    data = json.loads(res.stdout)
    assert len(data) == 1 and data[0]["answers"][0]["lat"] == 50.45
    (tmp_path / "r.json").write_text(res.stdout)
    res = runner.invoke(app, ["map", "--from", str(tmp_path / "r.json"), "--out", str(tmp_path / "m.html")])
    assert res.exit_code == 0 and "1 points" in res.stdout
    res = runner.invoke(app, ["geolocate", str(good), "--shadow", "1", "--time", "2024-05-14T10:20"])
    assert res.exit_code == 2 and "UTC offset" in res.stderr


def test_corrupt_and_hostile_files_are_one_line_each_and_the_batch_goes_on(tmp_path):
    from typer.testing import CliRunner

    from osint.cli import app
    from tests.geolocate.conftest import gps_photo
    from tests.hostile import hostile_exif_jpeg, jpeg_bytes

    good = gps_photo(tmp_path / "good.jpg")
    (tmp_path / "truncated.jpg").write_bytes(jpeg_bytes(1)[:200])
    hostile = hostile_exif_jpeg(tmp_path / "hostile.jpg")
    res = CliRunner().invoke(app, ["geolocate", str(tmp_path / "truncated.jpg"), str(hostile), str(good), "--json"])
    assert res.exit_code == 0 and "Traceback" not in res.output  # metadata is read; no pixels are needed
    located = {r["source"]: r for r in __import__("json").loads(res.stdout)}
    assert located[str(good)]["answers"], "the good photo is still located"
    truncated = located[str(tmp_path / "truncated.jpg")]
    assert not truncated["answers"] and any("failed" in n for n in truncated["notes"])
    assert str(hostile) in located and not located[str(hostile)]["answers"]  # no GPS believed from garbage
