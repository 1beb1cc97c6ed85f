"""The hash stage in a case: compute once per original (cached by SHA-256 and VERSION), load for search."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from osint.case import Case, Item
from osint.hashing.hashes import STAGE, VERSION, MediaHashes, hash_file
from osint.hashing.local import LOCAL_STAGE, LOCAL_VERSION, LocalFeatures, local_file
from osint.hashing.vpdq import VPDQ_STAGE, VPDQ_VERSION, VpdqFrame, from_text, vpdq_file
from osint.pipeline import Executor, StageRun, run_stage


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
    todo = case.items(role=None) if items is None else items

    def keep(_item: Item, data: Any) -> Any:
        return None if data is None else {"features": case.put_derived(data, ".npz"), "bytes": len(data)}

    return run_stage(case, LOCAL_STAGE, LOCAL_VERSION, local_file, todo, executor=executor, on_item=on_item,
                     keep=keep, details={"algorithms": LOCAL_VERSION})


def stored_local(case: Case) -> dict[str, LocalFeatures]:
    """The case's photos' local features for LOCAL_VERSION ({sha256: features}); videos and failures left out."""
    out = {}
    for r in case.results(LOCAL_STAGE, LOCAL_VERSION):
        if r.error is None and r.data:
            out[r.sha256] = LocalFeatures.from_bytes(case.derived_path(r.data["features"], ".npz").read_bytes())
    return out


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
