"""vPDQ in a case: compact text, containment by one Hamming join, the stage, links in `dupes`, exchange."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from osint.case import Case
from osint.cli import app
from osint.hashing.vpdq import (MAX_FRAMES, VPDQ_STAGE, VPDQ_VERSION, VpdqFrame, containment, distinct, from_text,
                                to_text, vpdq_links, vpdq_match)
from tests.hashing.conftest import write_video
from tests.hashing.test_video_copies import CLIPS, reencode

runner = CliRunner()


def _frames(rng: np.random.Generator, n: int, quality: int = 90) -> list[VpdqFrame]:
    return [VpdqFrame(round(k / 25, 3), rng.bytes(32).hex(), quality) for k in range(n)]


def _flip(pdq: str, bits: int, rng: np.random.Generator) -> str:
    value = int(pdq, 16)
    for b in rng.choice(256, bits, replace=False):
        value ^= 1 << int(b)
    return f"{value:064x}"


def test_compact_text_keeps_each_pdq_once_with_its_best_quality_and_matching_unchanged() -> None:
    rng = np.random.default_rng(1)
    frames = _frames(rng, 40)
    repeated = [*frames, VpdqFrame(9.0, frames[3].pdq, 100), VpdqFrame(9.1, frames[4].pdq, 10)]
    text = to_text(repeated)
    back = from_text(text)
    assert len(back) == 40 and to_text(back) == text and from_text(text.upper()) == back
    assert from_text(f"{frames[0].pdq},90,1.23e+03") == (VpdqFrame(1230.0, frames[0].pdq, 90),)   # ThreatExchange's
    assert back[3] == VpdqFrame(frames[3].t, frames[3].pdq, 100) and back[4] == frames[4]
    other = [VpdqFrame(f.t, _flip(f.pdq, 20, rng), f.quality) for f in frames[:30]] + _frames(rng, 10)
    assert vpdq_match(repeated, other) == vpdq_match(back, other) == vpdq_match(distinct(repeated), other)


@pytest.mark.parametrize("text, why", [
    ("", "empty"),
    ("ab" * 32 + ",90", "is not pdq_hex"),
    ("zz" * 32 + ",90,0.000", "is not pdq_hex"),
    ("ab" * 33 + ",90,0.000", "is not pdq_hex"),
    ("ab" * 32 + ",101,0.000", "out of range"),
    ("ab" * 32 + ",90,-1.0", "is not pdq_hex"),
    ("ab" * 32 + ",90,nan", "is not pdq_hex"),
    ("ab" * 32 + ",90,1.2.3", "not a number"),
    ("ab" * 32 + ",90,1e999", "out of range"),
    ("ab" * 32 + ",90,90000", "out of range"),
    (";".join(["ab" * 32 + ",90,0.000"] * (MAX_FRAMES + 1)), "over the 120,000"),
])
def test_hostile_compact_text_is_refused_with_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        from_text(text)


def test_containment_equals_brute_force_both_ways() -> None:
    rng = np.random.default_rng(2)
    base = _frames(rng, 60)
    videos = [base, [VpdqFrame(f.t, _flip(f.pdq, 25, rng), f.quality) for f in base[10:40]],     # trimmed copy
              [VpdqFrame(f.t, _flip(f.pdq, 40, rng), f.quality) for f in base],                # too far: no link
              _frames(rng, 30) + [VpdqFrame(0.0, _flip(base[0].pdq, 5, rng), 90)],            # one shared frame
              _frames(rng, 20, quality=30)]                                                    # all below quality
    found = containment(videos)
    for i in range(len(videos)):
        for j in range(i + 1, len(videos)):
            got = found.get((i, j))
            assert ((got.a_percent, got.b_percent) if got else (0.0, 0.0)) == _brute(videos[i], videos[j]), (i, j)
    assert (found[(0, 1)].a_percent, found[(0, 1)].b_percent) == (50.0, 100.0)
    assert (0, 2) not in found and (0, 4) not in found and found[(0, 3)].b_percent == round(100 / 31, 1)
    links = vpdq_links({"src": base, "copy": videos[1], "far": videos[2], "one": videos[3]})
    assert [(lk.a, lk.b, lk.describe()) for lk in links] == [("src", "copy", "vpdq: 50% / 100% of frames within 31 bits")]


def _brute(a: list[VpdqFrame], b: list[VpdqFrame]) -> tuple[float, float]:
    ga, gb = sorted({f.pdq for f in a if f.quality >= 50}), sorted({f.pdq for f in b if f.quality >= 50})
    if not ga or not gb:
        return (0.0, 0.0)
    near = np.array([[bin(int(x, 16) ^ int(y, 16)).count("1") <= 31 for y in gb] for x in ga])
    return round(100 * near.any(axis=1).mean(), 1), round(100 * near.any(axis=0).mean(), 1)


def _scene(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return np.kron(small, np.ones((30, 30, 1), dtype=np.uint8))


def test_hash_says_once_that_vpdq_is_skipped_without_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import osint.hashing

    monkeypatch.setattr(osint.hashing, "vpdq_available", lambda: False)
    folder = tmp_path / "case"
    videos = [write_video(tmp_path / f"v{k}.mp4", [_scene(k), _scene(k + 10)]) for k in range(2)]
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["add", "-C", str(folder), *map(str, videos)]).exit_code == 0
    for args in (["hash"], ["dupes", "--no-crops"]):
        result = runner.invoke(app, [*args, "-C", str(folder)])
        assert result.exit_code == 0, result.output
        assert result.stderr.count("vPDQ skipped: pip install 'osint[vpdq]'") == 1, result.stderr
    with Case.open(folder) as case:
        assert case.results(VPDQ_STAGE, VPDQ_VERSION) == []


def test_vpdq_stage_hashes_each_video_once_and_photos_never(tmp_path: Path) -> None:
    pytest.importorskip("vpdq")
    from osint.hashing import stored_vpdq, vpdq_case
    from tests.conftest import make_photo

    folder = tmp_path / "case"
    videos = [write_video(tmp_path / f"v{k}.mp4", [_scene(k), _scene(k + 10)]) for k in range(3)]
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["add", "-C", str(folder), *map(str, videos),
                               str(make_photo(tmp_path / "p.jpg"))]).exit_code == 0
    with Case.open(folder) as case:
        first = vpdq_case(case, items=case.items(media_type="video")[:1])    # as if killed after one video
        rest = vpdq_case(case)
        again = vpdq_case(case)
        assert (first.computed, rest.computed, rest.cached, again.computed, again.cached) == (1, 2, 1, 0, 3)
        assert len(case.results(VPDQ_STAGE, VPDQ_VERSION)) == 3
        assert sum(e.action == f"analyse:{VPDQ_STAGE}" for e in case.custody()) == 2
        stored = stored_vpdq(case)
    assert len(stored) == 3 and all(len(v) >= 2 for v in stored.values())
    assert not vpdq_links(stored)                            # three unrelated generated videos


@pytest.fixture(scope="module")
def clips_case(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """A case of the 4 real clips and a re-encoded, trimmed (1.3 s, 0.7 s), half-size copy of each."""
    pytest.importorskip("vpdq")
    tmp = tmp_path_factory.mktemp("clips")
    copies = {clip: reencode(shared_data / "video" / clip, tmp / f"copy{k}.mp4", start_s=1.3, end_cut_s=0.7, scale=0.5)
              for k, clip in enumerate(CLIPS)}
    folder = tmp / "case"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    result = runner.invoke(app, ["add", "-C", str(folder), *(str(shared_data / "video" / c) for c in CLIPS),
                                 *map(str, copies.values())])
    assert result.exit_code == 0, result.output
    return folder, copies


@pytest.mark.slow
def test_dupes_links_each_reencoded_trimmed_copy_to_its_source_by_vpdq(clips_case: tuple[Path, dict[str, Path]]) -> None:
    folder, copies = clips_case
    result = runner.invoke(app, ["hash", "-C", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["vpdq"]["computed"] == 8
    result = runner.invoke(app, ["dupes", "--no-crops", "-C", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    name = {m["sha256"]: Path(m["paths"][0]).name for g in json.loads(result.stdout)["groups"] for m in g["members"]}
    linked = set()
    for g in json.loads(result.stdout)["groups"]:
        for lk in g["vpdq_links"]:
            assert lk["why"].startswith("vpdq: ") and lk["why"].endswith("% of frames within 31 bits")
            linked.add(frozenset((name[lk["a"]], name[lk["b"]])))
    assert linked == {frozenset((Path(clip).name, copy.name)) for clip, copy in copies.items()}


@pytest.mark.slow
def test_a_vpdq_only_list_exported_by_one_case_marks_the_copies_in_another(clips_case: tuple[Path, dict[str, Path]],
                                                                           tmp_path: Path) -> None:
    folder, copies = clips_case
    exported = tmp_path / "all.csv"
    assert runner.invoke(app, ["known", "export", str(exported), "-C", str(folder), "--label", "seen"]).exit_code == 0
    csv.field_size_limit(1 << 24)
    with open(exported, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["vpdq"] and len(from_text(r["vpdq"])) > 50 for r in rows)
    sources = [r for r in rows if r["sha256"] not in {_sha(p) for p in copies.values()}]
    listed = tmp_path / "vpdq_only.csv"
    with open(listed, "w", newline="") as fh:                 # no exact hash: only vPDQ can mark the copies
        writer = csv.writer(fh)
        writer.writerow(["vpdq", "label"])
        writer.writerows([(r["vpdq"], f"source {k}") for k, r in enumerate(sources)])
    other = tmp_path / "other"
    assert runner.invoke(app, ["init", str(other)]).exit_code == 0
    assert runner.invoke(app, ["add", "-C", str(other), *map(str, copies.values())]).exit_code == 0
    for source in (listed, _vics(tmp_path, other, folder)):
        result = runner.invoke(app, ["known", "import", str(source), "--name", "partner", "-C", str(other), "--json"])
        assert result.exit_code == 0, result.output
        marks = json.loads(result.stdout)["marks"]
        assert {m["sha256"] for m in marks} == {_sha(p) for p in copies.values()} and len(marks) == 4
        assert all(m["by"] == "vpdq" for m in marks)


def _vics(tmp_path: Path, other: Path, folder: Path) -> Path:
    """The first case's VICS export with MD5, SHA1 and the SHA-256 comment removed (only vPDQ left)."""
    path = tmp_path / "all.vics"
    assert runner.invoke(app, ["known", "export", str(path), "--format", "vics", "-C", str(folder)]).exit_code == 0
    doc = json.loads(path.read_text())
    for media in doc["value"][0]["Media"]:
        assert media["AlternativeHashes"][0]["HashName"] == "vPDQ"
        media["MD5"] = media["SHA1"] = media["Comments"] = ""
    path.write_text(json.dumps(doc))
    return path


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
