"""The hash stage in a case: compute once per original (cached by SHA-256 and VERSION), load for search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from osint.case import Case, Item
from osint.hashing.hashes import STAGE, VERSION, MediaHashes, hash_file
from osint.hashing.local import LOCAL_STAGE, LOCAL_VERSION, LocalFeatures, LocalLink, LocalSet, local_file
from osint.hashing.match import Group, HashSet, Thresholds
from osint.hashing.stills import VIDEO_STAGE, VIDEO_VERSION, VideoLocal, video_links, video_local_file
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


def local_links(case: Case, progress: Callable[[int], None] | None = None) -> list[LocalLink]:
    """Every crop-robust link of the case from its stored local features: photo to photo, and photo to the video
    frame it shows (at that frame's time). `progress(n)` is told of photos done in each of the two passes."""
    stills = {sha: f for sha, f in stored_local(case).items() if len(f.features.descriptors)}
    links = LocalSet(stills).links(progress=progress) if len(stills) >= 2 else []
    return links + video_links(stills, stored_video_local(case), case.object_path, progress=progress)


def repost_groups(case: Case, thresholds: Thresholds = Thresholds(), *, local: bool = True,
                  progress: Callable[[int], None] | None = None) -> tuple[HashSet, list[Group]]:
    """The case's groups of reposts, the one grouping `dupes`, the report and `evidence export --group` show: hash
    links between photos and video keyframes, vPDQ links between videos, plus (`local`) the local-feature links
    between photos and from a photo to the video frame it shows, from what the case has stored (items not hashed
    are left out). Returns the hash set too, for pairwise distances."""
    found = HashSet(stored_hashes(case)[0])
    return found, found.groups(thresholds, [*(local_links(case, progress) if local else []),
                                            *vpdq_links(stored_vpdq(case))])
