"""The face workflow through the CLI on real media: the Hamilton clip, press photos, an animal photo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app

COLLECTED = ["Kit_Harington/fr_train_kit_harington_john2.jpeg", "Kit_Harington/fr_knn_examples_test_johnsnow_test1.jpg",
             "Joseph_Biden/Joseph_Biden_0001.jpg", "Joseph_Biden/Joseph_Biden_0002.jpg",
             "Rose_Leslie/fr_train_rose_leslie_img2.jpg", "_noface/dlib_dog.jpg"]
runner = CliRunner()


def osint(case: Path, *args: str) -> object:
    return runner.invoke(app, [*args, "--case", str(case)] if args[0] != "init" else list(args))


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory, faces_dir: Path, hamilton: Path) -> Path:
    """A case holding the clip and a few photos, scanned once for the whole module."""
    root = tmp_path_factory.mktemp("faces") / "case"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    files = [str(hamilton / "short_hamilton_clip.mp4")] + [str(faces_dir / f) for f in COLLECTED]
    assert osint(root, "add", *files).exit_code == 0
    res = osint(root, "faces", "scan", "--workers", "1", "--json")
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["computed"] == len(files) and first["encoded"] >= 10
    res = osint(root, "refs", "add", "UA-0001", str(hamilton / "ref_Lin_Manuel_Miranda.png"),
                "--name", "Lin-Manuel Miranda", "--born", "1980")
    assert res.exit_code == 0, res.output
    return root


def test_second_scan_costs_nothing(case_dir: Path) -> None:
    res = osint(case_dir, "faces", "scan", "--workers", "1", "--json")
    data = json.loads(res.stdout)
    assert res.exit_code == 0 and data["computed"] == 0 and data["cached"] == len(COLLECTED) + 2  # + reference


def test_reference_found_in_video_with_time_fmr_and_crops(case_dir: Path) -> None:
    res = osint(case_dir, "match", "--json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert "FMR" in out["meaning"] and "human review" in out["meaning"]
    # born 1980, but the reference photo carries no date: age unknown, so the conservative table, and it says so
    assert out["candidates"] and all(c["fmr_measured_on"].startswith("age unknown: the higher FMR of")
                                     and c["calibration"] == "conservative" for c in out["candidates"])
    hits = [c for c in out["candidates"] if c["person"] == "UA-0001" and c["rank"] == 1]
    video = [c for c in hits if c["media_type"] == "video"]
    assert video, out
    # he is on stage from about 3.0 s to 7.1 s: one face followed across those frames, one candidate
    on_stage = [c for c in video if c["track"]["start_s"] <= 3.0 and c["track"]["end_s"] >= 7.0]
    assert len(on_stage) == 1 and on_stage[0]["track"]["faces"] >= 5 and on_stage[0]["fmr"] <= 0.01
    assert len(video) <= 2
    assert not [c for c in hits if c["media_type"] == "image"]     # no photo in the case shows him
    for c in on_stage:
        assert c["status"] == "candidate for human review" and c["model"] and c["threshold"] > 0
        assert c["distance"] <= c["threshold"] and len(c["box"]) == 4 and c["agree"] == 1 and c["photos"] == 1
        assert (case_dir / "derived" / c["crop"][:2] / f"{c['crop']}.jpg").is_file()
        assert (case_dir / "derived" / c["context"][:2] / f"{c['context']}.jpg").is_file()
    log = osint(case_dir, "log", "--json")
    actions = [e["action"] for e in json.loads(log.stdout)]
    assert "refs:person" in actions and "refs:photo" in actions


def test_csv_and_table_say_candidate_for_review(case_dir: Path) -> None:
    res = osint(case_dir, "match", "--csv")
    lines = res.stdout.splitlines()
    assert res.exit_code == 0 and lines[0].startswith("item,media_type,frame_time_s,face,box,person")
    assert all(line.endswith("candidate for human review") for line in lines[1:]) and len(lines) > 1
    res = osint(case_dir, "match")
    assert f"Candidates for human review ({len(lines) - 1};" in res.stdout


def test_reference_with_several_faces_or_none_is_reported(case_dir: Path, faces_dir: Path) -> None:
    two = str(faces_dir / "_multi" / "fr_two_people.jpg")
    res = osint(case_dir, "refs", "add", "UA-0002", two)
    assert res.exit_code == 1 and "--face N" in res.output
    res = osint(case_dir, "refs", "add", "UA-0002", two, "--face", "1")
    assert res.exit_code == 0, res.output
    res = osint(case_dir, "refs", "add", "UA-0003", str(faces_dir / "_noface" / "dlib_eagle.jpg"))
    assert res.exit_code == 1 and "no face" in res.output
    people = {p["id"]: p for p in json.loads(osint(case_dir, "refs", "ls", "--json").stdout)}
    assert people["UA-0002"]["usable"] == 1 and people["UA-0003"]["usable"] == 0
    assert people["UA-0003"]["photos"][0]["status"] == "no_face"
    res = osint(case_dir, "refs", "rm", "UA-0003")
    assert res.exit_code == 0 and "UA-0003" not in {p["id"] for p in json.loads(osint(case_dir, "refs", "ls", "--json").stdout)}
    assert osint(case_dir, "refs", "rm", "UA-0003").exit_code == 1


def test_rematch_after_new_reference_touches_no_collected_image(case_dir: Path, faces_dir: Path, monkeypatch) -> None:
    from osint.facematch import analyse

    res = osint(case_dir, "refs", "add", "UA-0004", str(faces_dir / "Kit_Harington" / "fr_train_kit_harington_john1.jpeg"))
    assert res.exit_code == 0, res.output

    def refuse(path, settings):  # type: ignore[no-untyped-def]
        raise AssertionError(f"decoded {path}")

    monkeypatch.setattr(analyse, "analyse_file", refuse)
    res = osint(case_dir, "match", "--json", "--workers", "1")
    assert res.exit_code == 0, res.output
    kit = {c["item"] for c in json.loads(res.stdout)["candidates"] if c["person"] == "UA-0004" and c["rank"] == 1}
    assert len(kit) == 2                                     # both collected photos of him, nothing else


def test_cluster_groups_the_same_unknown_face_across_items(case_dir: Path) -> None:
    res = osint(case_dir, "faces", "cluster", "--json")
    assert res.exit_code == 0, res.output
    groups = json.loads(res.stdout)
    from osint.case import Case

    with Case.open(case_dir) as case:
        person = {a.sha256: Path(a.original_path).parent.name for a in case.acquisitions()}
    across = [g for g in groups if g["items"] >= 2]
    assert {person[g["members"][0]["item"]] for g in across} >= {"Kit_Harington", "Joseph_Biden"}
    for g in groups:                                       # no group mixes two people
        assert len({person[m["item"]] for m in g["members"]}) == 1
        assert g["representative"] in g["members"]


def test_match_outside_a_case(tmp_path: Path, hamilton: Path, faces_dir: Path, monkeypatch) -> None:
    refs = tmp_path / "refs"
    (refs / "LMM").mkdir(parents=True)
    shutil.copy(hamilton / "ref_Lin_Manuel_Miranda.png", refs / "LMM" / "lmm.png")
    (refs / "KIT").mkdir()
    shutil.copy(faces_dir / "Kit_Harington" / "fr_train_kit_harington_john1.jpeg", refs / "KIT" / "kit.jpeg")
    collected = tmp_path / "collected"
    collected.mkdir()
    shutil.copy(faces_dir / COLLECTED[1], collected / "snow.jpg")
    shutil.copy(faces_dir / "Joseph_Biden" / "Joseph_Biden_0003.jpg", collected / "biden.jpg")
    (collected / "notes.txt").write_text("not media")
    (collected / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["match", "--refs", str(refs), str(collected), "--json", "--workers", "1"])
    assert res.exit_code == 1 and "broken.jpg" in res.stderr       # one bad file: reported, the rest goes on
    cands = json.loads(res.stdout)["candidates"]
    best = {(Path(c["item"]).name, c["person"]) for c in cands if c["rank"] == 1}
    assert ("snow.jpg", "KIT") in best and not any(name == "biden.jpg" for name, _ in best)
    assert not (tmp_path / "case.json").exists()


def test_csv_cells_cannot_run_as_spreadsheet_formulas(tmp_path: Path, hamilton: Path) -> None:
    """A person id and a file name chosen by whoever named them reach the CSV as text, not formulas."""
    import csv
    import io

    ref = hamilton / "ref_Lin_Manuel_Miranda.png"
    person = tmp_path / "refs" / "=1+1"
    person.mkdir(parents=True)
    shutil.copy(ref, person / "a.png")
    collected = tmp_path / "in" / '=HYPERLINK("x.example","click").png'
    collected.parent.mkdir()
    shutil.copy(ref, collected)
    res = runner.invoke(app, ["match", "--refs", str(tmp_path / "refs"), str(tmp_path / "in"), "--csv",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    rows = list(csv.reader(io.StringIO(res.stdout)))
    cells = [c for row in rows[1:] for c in row]
    assert len(rows) >= 2 and "'=1+1" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
