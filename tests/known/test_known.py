"""Known-material triage: hash lists in (CSV, VICS), marks on the right items, lists out; hostile lists refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pdqhash
import pytest
from PIL import Image, ImageOps
from typer.testing import CliRunner

from osint.case import Case
from osint.cli import app
from osint.hashing import bits_to_hex
from osint.hashing.vpdq import MAX_FRAMES, VPDQ_STAGE, VPDQ_VERSION, VpdqFrame, to_text
from osint.known import KIND, ListError, known_marks, read_list
from osint.media import load_image
from tests.conftest import make_photo

runner = CliRunner()


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    return [make_photo(tmp_path / "photos" / f"p{k}.jpg", seed=k, size=(480, 360)) for k in range(4)]


def _case(tmp_path: Path, name: str, files: list[Path]) -> Path:
    folder = tmp_path / name
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["add", "-C", str(folder), *map(str, files)])
    assert result.exit_code == 0, result.output
    return folder


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marks(folder: Path) -> dict[str, set[str]]:
    with Case.open(folder) as case:
        return {sha: {m["label"] for m in ms} for sha, ms in known_marks(case).items()}


def test_csv_list_marks_exact_and_pdq_near_items_only(photos: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "mirrored_small.jpg"
    ImageOps.mirror(Image.open(photos[2])).resize((300, 225)).save(copy, quality=60)
    folder = _case(tmp_path, "case", [*photos, copy])
    listed = tmp_path / "list.csv"
    pdq = bits_to_hex(pdqhash.compute(load_image(photos[2]))[0])
    md5 = hashlib.md5(photos[1].read_bytes()).hexdigest()
    listed.write_text(f"sha256,md5,pdq,label,source\n{_sha(photos[0])},,,propaganda A,team X\n"
                      f",{md5.upper()},,propaganda B,team X\n,,{pdq},propaganda C,team Y\n"
                      f"{_sha(photos[0])},,,propaganda A,team X\n")
    result = runner.invoke(app, ["known", "import", str(listed), "--name", "partner", "-C", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["duplicates"] == 1 and report["rejected"] == 0
    assert _marks(folder) == {_sha(photos[0]): {"propaganda A"}, _sha(photos[1]): {"propaganda B"},
                              _sha(photos[2]): {"propaganda C"}, _sha(copy): {"propaganda C"}}
    by = {m["sha256"]: m for m in report["marks"]}
    assert by[_sha(copy)]["by"] == "pdq" and by[_sha(copy)]["transform"] == "mirror"
    assert by[_sha(photos[2])]["distance"] == 0 and by[_sha(photos[1])]["by"] == "md5"
    # visible in ls and show, logged in custody
    listing = {it["sha256"]: it["known"] for it in json.loads(runner.invoke(app, ["ls", "-C", str(folder), "--json"]).stdout)}
    assert [(m["list"], m["label"]) for m in listing[_sha(photos[1])]] == [("partner", "propaganda B")]
    assert listing[_sha(photos[3])] == []
    assert "propaganda" in runner.invoke(app, ["ls", "-C", str(folder)], env={"COLUMNS": "250"}).stdout
    shown = runner.invoke(app, ["show", _sha(copy)[:12], "-C", str(folder)], env={"COLUMNS": "250"}).stdout
    assert "propaganda C" in shown and "known:mark" in shown
    with Case.open(folder) as case:
        assert sum(e.action == "known:mark" for e in case.custody()) == 4
        assert case.verify().ok
    # the same list again changes nothing; a shorter list under the same name removes what it no longer holds
    again = runner.invoke(app, ["known", "import", str(listed), "--name", "partner", "-C", str(folder)])
    assert again.exit_code == 0
    listed.write_text(f"sha256,label\n{_sha(photos[0])},propaganda A\n")
    assert runner.invoke(app, ["known", "import", str(listed), "--name", "partner", "-C", str(folder)]).exit_code == 0
    assert _marks(folder) == {_sha(photos[0]): {"propaganda A"}}
    with Case.open(folder) as case:   # the kept mark is logged again: it now rests on another list file
        assert sum(e.action == "known:mark" for e in case.custody()) == 5
        assert sum(e.action == "known:unmark" for e in case.custody()) == 3


def test_vics_exported_by_one_case_marks_the_same_items_in_another(photos: list[Path], tmp_path: Path) -> None:
    copy = tmp_path / "recompressed.jpg"
    Image.open(photos[3]).resize((400, 300)).save(copy, quality=40)
    first = _case(tmp_path, "first", photos[:2] + [photos[3]])
    for fmt in ("vics", "csv"):
        out = tmp_path / f"first.{fmt}"
        result = runner.invoke(app, ["known", "export", str(out), "--format", fmt, "--label", "seen by team 1",
                                     "-C", str(first)])
        assert result.exit_code == 0, result.output
        assert b"JFIF" not in out.read_bytes() and len(out.read_bytes()) < 5000   # hashes, never pictures
    doc = json.loads((tmp_path / "first.vics").read_text())
    media = doc["value"][0]["Media"]
    assert {m["MD5"].lower() for m in media} == {hashlib.md5(p.read_bytes()).hexdigest()
                                                 for p in photos[:2] + [photos[3]]}
    second = _case(tmp_path, "second", [photos[0], photos[2], copy])
    result = runner.invoke(app, ["known", "import", str(tmp_path / "first.vics"), "--name", "team1",
                                 "-C", str(second), "--json"])
    assert result.exit_code == 0, result.output
    assert _marks(second) == {_sha(photos[0]): {"seen by team 1"}, _sha(copy): {"seen by team 1"}}
    other = _case(tmp_path, "third", [photos[0], photos[2], copy])
    result = runner.invoke(app, ["known", "import", str(tmp_path / "first.csv"), "--name", "team1", "-C", str(other)])
    assert result.exit_code == 0, result.output
    assert _marks(other) == _marks(second)


def test_hostile_lists_are_refused_and_mark_nothing(photos: list[Path], tmp_path: Path) -> None:
    folder = _case(tmp_path, "case", photos)
    wrong_columns = tmp_path / "wrong.csv"
    wrong_columns.write_text(f"hash,comment\n{_sha(photos[0])},x\n")
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as fh:                      # 2 GB, sparse: costs no disk
        fh.write(b"sha256,label\n")
        fh.truncate(2 * 1024 ** 3)
    long_line = tmp_path / "long.csv"
    long_line.write_text("sha256,label\n" + "a" * (11 * 1024 * 1024) + ",x\n")
    not_vics = tmp_path / "other.json"
    not_vics.write_text('{"items": [1, 2]}')
    for path, why in ((wrong_columns, "must name the columns"), (huge, "limit"), (long_line, "longer than"),
                      (not_vics, "not VICS")):
        result = runner.invoke(app, ["known", "import", str(path), "--name", "bad", "-C", str(folder)])
        assert result.exit_code == 2 and why in result.stderr, (path, result.output)
    with pytest.raises(ListError, match="limit"):
        read_list(huge)
    bad_rows = tmp_path / "bad_rows.csv"
    bad_rows.write_text(f"sha256,pdq,label\n{_sha(photos[0])[:-1]}g,,bad hex\n{_sha(photos[1])},,ok\n"
                        f"{_sha(photos[2])},,extra,cell\n,{'f' * 63},short pdq\n{_sha(photos[3])[:40]},,short\n")
    result = runner.invoke(app, ["known", "import", str(bad_rows), "--name", "rows", "-C", str(folder)])
    assert result.exit_code == 1
    for line in ("line 2", "line 4", "line 5", "line 6"):
        assert f"{line}:" in result.stderr
    assert _marks(folder) == {_sha(photos[1]): {"ok"}}
    with Case.open(folder) as case:
        assert list(case.records(KIND)) == [f"rows/{_sha(photos[1])}"]


def test_marks_show_in_the_report_and_travel_in_a_verified_bundle(photos: list[Path], tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from osint.evidence import create_key, export_bundle, select_items, unlock, verify_bundle
    from osint.report import collect
    from osint.report.render import render_html

    folder = _case(tmp_path, "case", photos[:2])
    listed = tmp_path / "list.csv"
    listed.write_text(f"sha256,label,source\n{_sha(photos[1])},seen in channel Z,team X\n")
    assert runner.invoke(app, ["known", "import", str(listed), "--name", "partner", "-C", str(folder)]).exit_code == 0
    with Case.open(folder) as case:
        data = collect(case, thumbnails=False)
        assert [(k.item, k.list, k.label, k.by) for k in data.known] == [(_sha(photos[1]), "partner",
                                                                         "seen in channel Z", "sha256")]
        assert "seen in channel Z" in render_html(data)[0]
        monkeypatch.setenv("OSINT_HOME", str(tmp_path / "home"))
        info = create_key("Evidence lead", "a long enough passphrase")
        out = tmp_path / "bundle"
        export_bundle(case, select_items(case, prefixes=[_sha(photos[1])[:12]]), out,
                      unlock(info, "a long enough passphrase"))
        doc = json.loads((out / "data" / "results.json").read_text())
        assert [(r["kind"], r["data"]["matches"][0]["label"]) for r in doc["records"]] == [("known",
                                                                                           "seen in channel Z")]
        assert verify_bundle(out).ok


def _listed_vpdq(seed: int, n: int) -> list[VpdqFrame]:
    rng = np.random.default_rng(seed)
    return [VpdqFrame(k / 25, rng.bytes(32).hex(), 90) for k in range(n)]


def test_vpdq_lists_mark_matching_videos_and_hostile_vpdq_rows_mark_nothing(tmp_path: Path) -> None:
    from tests.hashing.conftest import write_video

    videos = [write_video(tmp_path / f"v{k}.mp4", [np.full((120, 160, 3), 40 * k + 20, np.uint8)]) for k in range(3)]
    folder = _case(tmp_path, "case", videos)
    stored = {_sha(v): _listed_vpdq(k, 50) for k, v in enumerate(videos)}
    with Case.open(folder) as case:     # as the vPDQ stage stores them (made up: no vpdq package needed)
        case.put_results(VPDQ_STAGE, VPDQ_VERSION, [(sha, {"vpdq": to_text(f), "frames": 50}, None)
                                                    for sha, f in stored.items()])
    trimmed = to_text(stored[_sha(videos[0])][5:45])            # a trimmed copy of video 0: all in it
    hexes = "ab" * 32
    rows = [f'"{trimmed}",copy of v0',                                                      # line 2
            f'"g{trimmed[1:]}",bad hex',                                                    # line 3
            f'"{";".join([f"{hexes},90,1.000"] * (MAX_FRAMES + 1))}",absurd frame count',    # line 4
            f'"{hexes},900,1.000",quality out of range',                                    # line 5
            f'"{hexes};{hexes},90,1.000",missing fields',                                   # line 6
            f'"{trimmed};{"f" * 5_000_000}",oversized field',                               # line 7
            f'"{to_text(_listed_vpdq(99, 40))}",an unrelated video']                        # line 8: fine, no match
    listed = tmp_path / "videos.csv"
    listed.write_text("vpdq,label\n" + "\n".join(rows) + "\n")
    result = runner.invoke(app, ["known", "import", str(listed), "--name", "partner", "-C", str(folder), "--json"])
    assert result.exit_code == 1, result.output
    errors = [e for e in result.stderr.splitlines() if not e.startswith("vPDQ skipped")]  # notice without vpdq
    for line, why in (("line 3", "frame 1 'g"), ("line 4", "over the 120,000"), ("line 5", "out of range"),
                      ("line 6", "frame 1 'abab"), ("line 7", "frame 41 'ffff")):
        assert any(f"{listed}: {line}: vpdq: " in e and why in e for e in errors), (line, errors)
    assert len(errors) == 5 and all(len(e) < 400 for e in errors)
    assert _marks(folder) == {_sha(videos[0]): {"copy of v0"}}
    mark = json.loads(result.stdout)["marks"][0]
    assert mark["by"] == "vpdq" and mark["transform"] == "vpdq: 80% / 100% of frames within 31 bits"
    # VICS: vPDQ in AlternativeHashes; a hostile entry is named and marks nothing
    doc = {"value": [{"CaseNumber": "team Y", "Media": [
        {"MediaID": 1, "AlternativeHashes": [{"HashName": "PhotoDNA", "HashValue": "AAMA"},
                                             {"HashName": "vPDQ", "HashValue": to_text(stored[_sha(videos[1])])}],
         "Comments": "label seen by team Y"},
        {"MediaID": 2, "AlternativeHashes": {"HashName": "vPDQ", "HashValue": trimmed}},
        {"MediaID": 3, "AlternativeHashes": [{"HashName": "vPDQ", "HashValue": "0" * 64 + ",50,1e9"}]}]}]}
    listed_vics = tmp_path / "videos.vics"
    listed_vics.write_text(json.dumps(doc))
    result = runner.invoke(app, ["known", "import", str(listed_vics), "--name", "team", "-C", str(folder)])
    assert result.exit_code == 1
    assert "case 1 Media #2: AlternativeHashes is not a list" in result.stderr
    assert "case 1 Media #3: vpdq: frame 1" in result.stderr
    assert _marks(folder) == {_sha(videos[0]): {"copy of v0"}, _sha(videos[1]): {"seen by team Y"}}
