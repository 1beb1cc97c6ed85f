"""The hash stages in a case: compute once per original (cached by SHA-256 and VERSION), load for search; the
repost grouping, each pair's verification kept by both SHA-256s and its version."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from osint.case import Case, Item
from osint.hashing.hashes import STAGE, VERSION, MediaHashes, hash_file
from osint.hashing.local import (LOCAL_STAGE, LOCAL_VERSION, PAIR_STAGE, PAIR_VERSION, LocalFeatures, LocalLink,
                                 LocalSet, local_file)
from osint.hashing.match import Group, HashSet, Thresholds
from osint.hashing.stills import (FIT_STAGE, FIT_VERSION, FRAME_STAGE, FRAME_VERSION, VIDEO_STAGE, VIDEO_VERSION,
                                  VideoLocal, video_links, video_local_file)
from osint.hashing.vpdq import VPDQ_STAGE, VPDQ_VERSION, VpdqFrame, from_text, vpdq_file, vpdq_links
from osint.pipeline import Compute, Executor, StageRun, run_stage


def hash_case(case: Case, *, executor: Executor | None = None, items: list[Item] | None = None,
              on_item: Callable[[Item, Any, str | None], None] | None = None) -> StageRun:
    """Hash every photo and video of the case (all roles) that has no hash result for VERSION yet."""
    todo = case.items(role=None) if items is None else items
    return run_stage(case, STAGE, VERSION, hash_file, todo, executor=executor, on_item=on_item,
                     details={"algorithms": VERSION})


def stored_hashes(case: Case) -> tuple[dict[str, MediaHashes], dict[str, str]]:
    """The case's hashes for VERSION: ({sha256: hashes}, {sha256: error} for items that failed)."""
    ok, failed = {}, {}
    for r in case.results(STAGE, VERSION):
        if r.error:
            failed[r.sha256] = r.error
        else:
            ok[r.sha256] = MediaHashes.from_plain(r.data)
    return ok, failed


def local_case(case: Case, *, executor: Executor | None = None, items: list[Item] | None = None,
               on_item: Callable[[Item, Any, str | None], None] | None = None) -> StageRun:
    """Local features of every photo of the case lacking them for LOCAL_VERSION (kept as derived files)."""
    return _derived_stage(case, LOCAL_STAGE, LOCAL_VERSION, local_file, executor, items, on_item)


def video_local_case(case: Case, *, executor: Executor | None = None, items: list[Item] | None = None,
                     on_item: Callable[[Item, Any, str | None], None] | None = None) -> StageRun:
    """Local features of every video's keyframes lacking them for VIDEO_VERSION (kept as derived files)."""
    return _derived_stage(case, VIDEO_STAGE, VIDEO_VERSION, video_local_file, executor, items, on_item)


def _derived_stage(case: Case, stage: str, version: str, compute: Compute, executor: Executor | None,
                   items: list[Item] | None, on_item: Callable[[Item, Any, str | None], None] | None) -> StageRun:
    """Run a stage whose results are bytes (or None: not for this item) kept as derived .npz files."""
    todo = case.items(role=None) if items is None else items

    def keep(_item: Item, data: Any) -> Any:
        return None if data is None else {"features": case.put_derived(data, ".npz"), "bytes": len(data)}

    return run_stage(case, stage, version, compute, todo, executor=executor, on_item=on_item,
                     keep=keep, details={"algorithms": version})


def stored_local(case: Case) -> dict[str, LocalFeatures]:
    """The case's photos' local features for LOCAL_VERSION ({sha256: features}); videos and failures left out."""
    return {sha: LocalFeatures.from_bytes(data) for sha, data in _stored(case, LOCAL_STAGE, LOCAL_VERSION)}


def stored_video_local(case: Case) -> dict[str, VideoLocal]:
    """The case's videos' keyframe local features for VIDEO_VERSION ({sha256: features}); failures left out."""
    return {sha: VideoLocal.from_bytes(data) for sha, data in _stored(case, VIDEO_STAGE, VIDEO_VERSION)}


def _stored(case: Case, stage: str, version: str) -> list[tuple[str, bytes]]:
    return [(r.sha256, case.derived_path(r.data["features"], ".npz").read_bytes())
            for r in case.results(stage, version) if r.error is None and r.data]


def vpdq_case(case: Case, *, executor: Executor | None = None, items: list[Item] | None = None,
              on_item: Callable[[Item, Any, str | None], None] | None = None) -> StageRun:
    """vPDQ of every video of the case (all roles) lacking it for VPDQ_VERSION; photos are left out."""
    todo = [it for it in (case.items(role=None) if items is None else items) if it.media_type == "video"]
    return run_stage(case, VPDQ_STAGE, VPDQ_VERSION, vpdq_file, todo, executor=executor, on_item=on_item,
                     details={"algorithms": VPDQ_VERSION})


def stored_vpdq(case: Case) -> dict[str, tuple[VpdqFrame, ...]]:
    """The case's videos' vPDQ for VPDQ_VERSION ({sha256: distinct frames}); failures left out."""
    return {r.sha256: from_text(r.data["vpdq"]) for r in case.results(VPDQ_STAGE, VPDQ_VERSION)
            if r.error is None and r.data and r.data["vpdq"]}


KEPT_BATCH = 500     # pair outcomes written per transaction (and custody entry)


class KeptOutcomes:
    """Outcomes of pair verifications (osint.hashing.local.Decided) kept in the case as results of one stage and
    version, the pair's key (both content hashes) in place of an item's: read once, new ones written in batches,
    each one transaction with its custody entry (a killed run keeps whole batches and nothing half written; a
    version bump leaves the old ones unread). Only the pairs a run's shortlists name are looked up: an outcome kept
    for an item no longer in the case, or for a pair no shortlist names, makes no link."""

    def __init__(self, case: Case, stage: str, version: str, batch: int = KEPT_BATCH):
        self.case, self.stage, self.version, self.batch = case, stage, version, batch
        self.known = {r.sha256: r.data["outcome"] for r in case.results(stage, version) if r.error is None}
        self.new: list[tuple[str, Any, str | None]] = []
        self.writable = True

    def __contains__(self, key: object) -> bool:
        return key in self.known

    def __getitem__(self, key: str) -> Any:
        return self.known[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.known[key] = value
        self.new.append((key, {"outcome": value}, None))
        if len(self.new) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Write the outcomes decided since the last flush (not in a read-only copy of a case: kept in memory)."""
        new, self.new = self.new, []
        if new and self.writable:
            try:
                self.case.put_results(self.stage, self.version, new)
            except sqlite3.OperationalError as exc:
                if "readonly" not in str(exc):
                    raise
                self.writable = False


@contextmanager
def kept_outcomes(case: Case, *stages: tuple[str, str]) -> Iterator[list[KeptOutcomes]]:
    """The kept outcomes of each (stage, version), written out at the end (also where the run failed: what was
    decided before the failure is right)."""
    with ExitStack() as stack:
        kept = [KeptOutcomes(case, stage, version, KEPT_BATCH) for stage, version in stages]
        for k in kept:
            stack.callback(k.flush)
        yield kept


def local_links(case: Case, progress: Callable[[int], None] | None = None) -> list[LocalLink]:
    """Every crop-robust link of the case from its stored local features: photo to photo, and photo to the video
    frame it shows (at that frame's time). `progress(n)` is told of photos done in each of the two passes. Each
    pair's verification is kept in the case (stages PAIR_STAGE, FIT_STAGE, FRAME_STAGE), so a second run only
    builds the index and the shortlists and verifies only the pairs new to it."""
    stills = {sha: f for sha, f in stored_local(case).items() if len(f.features.descriptors)}
    with kept_outcomes(case, (PAIR_STAGE, PAIR_VERSION), (FIT_STAGE, FIT_VERSION),
                       (FRAME_STAGE, FRAME_VERSION)) as (pairs, fits, frames):
        links = LocalSet(stills).links(progress=progress, known=pairs) if len(stills) >= 2 else []
        return links + video_links(stills, stored_video_local(case), case.object_path, progress=progress,
                                   fits=fits, frames=frames)


def repost_groups(case: Case, thresholds: Thresholds = Thresholds(), *, local: bool = True,
                  progress: Callable[[int], None] | None = None) -> tuple[HashSet, list[Group]]:
    """The case's groups of reposts, the one grouping `dupes`, the report and `evidence export --group` show: hash
    links between photos and video keyframes, vPDQ links between videos, plus (`local`) the local-feature links
    between photos and from a photo to the video frame it shows, from what the case has stored (items not hashed
    are left out). Returns the hash set too, for pairwise distances."""
    found = HashSet(stored_hashes(case)[0])
    return found, found.groups(thresholds, [*(local_links(case, progress) if local else []),
                                            *vpdq_links(stored_vpdq(case))])
