"""The repost grouping keeps each pair's verification in the case: a second grouping verifies nothing and gives the
same groups as verifying everything; a version bump verifies again; a kept outcome naming an item the case does
not link from never makes a link; a run killed part way leaves a case that verifies and regroups the same."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import ImageOps

from osint.case import Case
from osint.hashing import local, repost_groups, stage, stills
from osint.hashing.local import LOCAL_VERSION, PAIR_STAGE, PAIR_VERSION, LocalSet
from osint.hashing.stills import FIT_STAGE, FIT_VERSION, FRAME_STAGE, FRAME_VERSION, video_links
from tests.hashing.test_local import _crop_caption_half, _picture, _save
from tests.hashing.test_video_stills import STILL, _moving_video, _new_case, _still


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A case whose features are stored (no outcome kept yet): a photo with a captioned crop and a mirrored crop,
    two other photos, a video and a still cut from it between keyframes."""
    tmp = tmp_path_factory.mktemp("kept")
    original = _picture("astronaut")
    files = [_save(original, tmp / "astronaut.jpg"), _save(_crop_caption_half(original, 0.3)[0], tmp / "crop.jpg", 50),
             _save(ImageOps.mirror(original.crop((40, 30, 480, 500))), tmp / "mirror.jpg"),
             _save(_picture("camera"), tmp / "camera.jpg"), _save(_picture("coffee"), tmp / "coffee.jpg")]
    video = _moving_video(tmp / "moving.mp4", "chelsea")
    files += [video, _still(video, STILL, tmp / "still.jpg", crop=0.25)]
    folder = tmp / "case"
    osint = _new_case(folder)
    osint("add", *map(str, files))
    osint("dupes", "--no-crops", "-w", "1")            # hashes only
    from osint.hashing import local_case, video_local_case

    with Case.open(folder) as case:
        local_case(case)
        video_local_case(case)
    return folder


@pytest.fixture
def fresh(case_dir: Path, tmp_path: Path) -> Path:
    """A copy of the case, for a test to keep outcomes in."""
    shutil.copytree(case_dir, tmp_path / "case")
    return tmp_path / "case"


@pytest.fixture(scope="module")
def reference(case_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The groups of the case, every pair verified (in a copy: the case itself keeps nothing)."""
    copy = tmp_path_factory.mktemp("reference") / "case"
    shutil.copytree(case_dir, copy)
    return _groups(copy)


class Calls:
    """How many times the library verified a pair (match_pair: RANSAC + pixel check) or fitted one (_fit)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.verified = self.fitted = 0
        for module in (local, stills):
            monkeypatch.setattr(module, "match_pair", self._counted(local.match_pair, "verified"))
            monkeypatch.setattr(module, "_fit", self._counted(local._fit, "fitted"))

    def _counted(self, fn: Any, what: str) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            setattr(self, what, getattr(self, what) + 1)
            return fn(*args, **kwargs)
        return counted


def _shas(folder: Path) -> dict[str, str]:
    with Case.open(folder) as case:
        return {Path(a.original_path).name: it.sha256 for it in case.items(role=None) for a in case.acquisitions(it.sha256)}


def _groups(folder: Path) -> list[Any]:
    with Case.open(folder) as case:
        return repost_groups(case)[1]


def _uncached(folder: Path) -> list[Any]:
    """The local links as the library finds them verifying every candidate (nothing kept)."""
    with Case.open(folder) as case:
        photos = {s: f for s, f in stage.stored_local(case).items() if len(f.features.descriptors)}
        return LocalSet(photos).links() + video_links(photos, stage.stored_video_local(case), case.object_path)


def test_a_second_grouping_verifies_nothing_and_gives_the_same_groups(fresh: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch)
    first = _groups(fresh)
    assert calls.verified > 10 and calls.fitted > 10
    local_links = [lk for g in first for lk in g.local]
    assert sorted(map(repr, local_links)) == sorted(map(repr, _uncached(fresh)))    # the same as verifying all
    sha = _shas(fresh)
    assert sorted(sorted(g.members) for g in first) == sorted(
        [sorted(sha[n] for n in ("astronaut.jpg", "crop.jpg", "mirror.jpg")), sorted((sha["moving.mp4"], sha["still.jpg"]))])
    assert any(lk.frame_a == STILL for lk in local_links) and any(lk.mirror for lk in local_links)

    calls.verified = calls.fitted = 0
    assert _groups(fresh) == first
    assert (calls.verified, calls.fitted) == (0, 0)
    with Case.open(fresh) as case:
        kept = {stage_: len(case.results(stage_, version)) for stage_, version in
                ((PAIR_STAGE, PAIR_VERSION), (FIT_STAGE, FIT_VERSION), (FRAME_STAGE, FRAME_VERSION))}
        assert min(kept.values()) >= 1, kept
        assert case.verify().ok                        # every kept outcome was logged in custody


def test_a_version_bump_verifies_again(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(LOCAL_VERSION in v for v in (PAIR_VERSION, FIT_VERSION, FRAME_VERSION))   # features change: re-verify
    first = _groups(fresh)
    calls = Calls(monkeypatch)
    for name in ("PAIR_VERSION", "FIT_VERSION", "FRAME_VERSION"):
        monkeypatch.setattr(stage, name, getattr(stage, name) + "+bumped")
    assert _groups(fresh) == first
    assert calls.verified > 10 and calls.fitted > 10


def test_kept_outcomes_for_pairs_the_case_does_not_link_from_make_no_link(fresh: Path) -> None:
    first = _groups(fresh)
    shas = _shas(fresh)
    gone, camera, coffee, still = "f" * 64, shas["camera.jpg"], shas["coffee.jpg"], shas["still.jpg"]
    with Case.open(fresh) as case:
        link = next(lk for g in first for lk in g.local if lk.frame_a is None).to_plain()
        forged = {**link, "a": gone, "b": camera}
        case.put_results(PAIR_STAGE, PAIR_VERSION, [(local.pair_key(gone, camera, False), {"outcome": forged}, None),
                                                    (local.pair_key(camera, gone, True), {"outcome": forged}, None)])
        case.put_results(FIT_STAGE, FIT_VERSION, [(local.pair_key(f"{gone}@0", coffee, False), {"outcome": 500},
                                                   None)])
        case.put_results(FRAME_STAGE, FRAME_VERSION, [(local.pair_key(f"{gone}@0", still, False),
                                                       {"outcome": {**link, "a": gone, "b": still}}, None)])
    again = _groups(fresh)
    assert again == first
    assert all(gone not in g.members and camera not in g.members and coffee not in g.members for g in again)


def test_a_grouping_killed_part_way_leaves_a_case_that_verifies_and_regroups_the_same(
        fresh: Path, reference: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    real, done = local.match_pair, {"n": 0}

    def killed(*args: Any, **kwargs: Any) -> Any:
        done["n"] += 1
        if done["n"] > 7:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(stage, "KEPT_BATCH", 3)
    monkeypatch.setattr(local, "match_pair", killed)
    with pytest.raises(KeyboardInterrupt):
        _groups(fresh)
    monkeypatch.setattr(local, "match_pair", real)
    with Case.open(fresh) as case:
        assert 1 <= len(case.results(PAIR_STAGE, PAIR_VERSION)) <= 7
        assert case.verify().ok
    assert _groups(fresh) == reference


def test_a_read_only_case_still_groups_keeping_nothing(fresh: Path, reference: list[Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    refusals = []

    def refused(*args: Any, **kwargs: Any) -> None:
        refusals.append(args)
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Case, "put_results", refused)
    monkeypatch.setattr(stage, "KEPT_BATCH", 3)
    assert _groups(fresh) == reference
    assert len(refusals) == 3            # one try per kind of outcome, then kept in memory only
