"""`osint hash`, `osint dupes`, `osint similar` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image, ImageOps
from typer.testing import CliRunner

from osint.cli import app
from osint.hashing import STAGE, VERSION

runner = CliRunner()


def _case_with_reposts(tmp_path: Path, photos: list[Path]) -> Path:
    folder = tmp_path / "case"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    ImageOps.mirror(Image.open(photos[0])).save(tmp_path / "mirrored.jpg", quality=80)
    Image.open(photos[0]).resize((200, 150)).save(tmp_path / "thumb.jpg", quality=50)
    result = runner.invoke(app, ["add", "-C", str(folder), *map(str, photos[:3]), str(tmp_path / "mirrored.jpg"),
                                 str(tmp_path / "thumb.jpg")])
    assert result.exit_code == 0, result.output
    return folder


def test_hash_paths_outside_a_case_reports_each_bad_file_and_goes_on(  # type: ignore[no-untyped-def]
        photos: list[Path], tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photos[0].read_bytes()[:1500])
    (tmp_path / "notes.jpg").write_text("hello")
    result = runner.invoke(app, ["hash", "--json", "-w", "1", str(photos[0]), str(photos[1]), str(broken),
                                 str(tmp_path / "notes.jpg")])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    errors = {Path(r["path"]).name: r["error"] for r in data if "error" in r}
    assert set(errors) == {"broken.jpg", "notes.jpg"}
    assert "damaged" in errors["broken.jpg"]
    ok = [r for r in data if "error" not in r]
    assert len(ok) == 2 and all(len(r["frames"][0]["pdq"]) == 64 for r in ok)
    assert "broken.jpg" in result.stderr
    assert not (tmp_path / "case.json").exists()


def test_hash_in_a_case_is_cached_and_logged(photos: list[Path], tmp_path: Path) -> None:
    folder = _case_with_reposts(tmp_path, photos)
    first = runner.invoke(app, ["hash", "-C", str(folder), "--json", "-w", "1"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["computed"] == 5
    again = json.loads(runner.invoke(app, ["hash", "-C", str(folder), "--json", "-w", "1"]).stdout)
    assert again["computed"] == 0 and again["cached"] == 5
    from osint.case import Case

    with Case.open(folder) as case:
        assert len(case.results(STAGE, VERSION)) == 5
        assert any(e.action == f"analyse:{STAGE}" for e in case.custody())


def test_dupes_json_lists_groups_with_hashes_paths_and_pairwise_distances(photos: list[Path], tmp_path: Path) -> None:
    folder = _case_with_reposts(tmp_path, photos)
    result = runner.invoke(app, ["dupes", "-C", str(folder), "--json", "-w", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["thresholds"] == {"phash": 5, "dhash": 3, "pdq": 31, "pdq_certain": 23}
    [group] = data["groups"]
    names = sorted(Path(p).name for m in group["members"] for p in m["paths"])
    assert names == ["mirrored.jpg", "p0.jpg", "thumb.jpg"]
    assert all(len(m["frames"][0]["phash"]) == 16 for m in group["members"])
    assert len(group["pairs"]) == 3 and all(len(p["distances"]) == 3 for p in group["pairs"])
    table = runner.invoke(app, ["dupes", "-C", str(folder), "-w", "1"])
    assert "1 groups" in table.stdout and "mirror" in table.stdout
    zero = ["dupes", "-C", str(folder), "--json", "--pdq", "0", "--phash", "0", "--dhash", "0", "-w", "1"]
    strict = json.loads(runner.invoke(app, [*zero, "--no-crops"]).stdout)
    assert strict["groups"] == [] or all(g["size"] == 2 for g in strict["groups"])
    [local] = json.loads(runner.invoke(app, zero).stdout)["groups"]     # local features alone: mirror and thumbnail
    assert local["size"] == 3 and any(lk["mirror"] and "mirror" in lk["why"] for lk in local["local_links"])


def test_similar_finds_the_picture_and_its_reposts(photos: list[Path], tmp_path: Path) -> None:
    folder = _case_with_reposts(tmp_path, photos)
    query = tmp_path / "query.jpg"
    Image.open(photos[0]).resize((300, 225)).save(query, quality=70)
    result = runner.invoke(app, ["similar", str(query), "-C", str(folder), "--json", "-w", "1"])
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)["matches"]
    assert sorted(Path(m["paths"][0]).name for m in matches) == ["mirrored.jpg", "p0.jpg", "thumb.jpg"]
    assert all(m["linked"] for m in matches)
    missing = runner.invoke(app, ["similar", str(tmp_path / "nope.jpg"), "-C", str(folder)])
    assert missing.exit_code == 2 and "nope.jpg" in missing.stderr


def test_help_explains_distances() -> None:
    for command in ("dupes", "similar"):
        text = runner.invoke(app, [command, "--help"]).stdout
        assert "bits" in text and "--pdq" in text


def test_dupes_and_similar_on_an_empty_case(photos: list[Path], tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["dupes", "-C", str(folder), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["groups"] == []
    result = runner.invoke(app, ["similar", str(photos[0]), "-C", str(folder), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["matches"] == []
