"""Batch stages on a Dask LocalCluster (2 worker processes): same results as in-process, nothing lost when
a worker dies, resumable when the coordinator stops."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from osint.case import Case
from osint.errors import OsintError
from osint.ingest import add_paths
from osint.pipeline import InlineExecutor, PoolExecutor, run_stage
from tests.conftest import make_photo

distributed = pytest.importorskip("distributed", reason="Dask is not installed (pip install 'osint[cluster]')")

from osint.cluster import ClusterError, DaskExecutor  # noqa: E402 - only once Dask is known to be there

PHOTOS = 20


@dataclass(frozen=True)
class Digest:
    sha256: str
    mean: list[float]
    shape: list[int]


def digest(path: Path) -> Digest:
    """Real work from the original's content: its SHA-256 and the mean colour of the decoded photo."""
    from osint.media import load_image

    image = load_image(path, max_side=64)
    return Digest(hashlib.sha256(path.read_bytes()).hexdigest(), [round(float(m), 6) for m in
                                                                  image.reshape(-1, 3).mean(0)], list(image.shape))


def digest_or_die(path: Path, victim: str, marker: Path, every_time: bool = False) -> Digest:
    """`digest`, except that the worker computing `victim` dies abruptly (once, or every time)."""
    if path.name == victim and (every_time or not marker.exists()):
        marker.touch()
        os._exit(1)
    return digest(path)


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes; a task may kill one worker and still be rescheduled once."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                                      dashboard_address=None, silence_logs=50) as lc:
            yield lc


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """Generated photos plus one tiny video (which `digest` refuses: an error that must travel as data)."""
    import cv2
    import numpy as np

    folder = tmp_path_factory.mktemp("photos")
    for seed in range(PHOTOS):
        make_photo(folder / f"p{seed}.jpg", seed=seed, size=(160 + seed, 120))
    video = cv2.VideoWriter(str(folder / "clip.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 5, (64, 48))
    for i in range(5):
        video.write(np.full((48, 64, 3), i * 40, np.uint8))
    video.release()
    return folder


def filled(root: Path, photos: Path) -> Case:
    case = Case.create(root, actor="tester")
    add_paths(case, [photos], collector="tester")
    assert len(case.items()) == PHOTOS + 1
    return case


def stored(case: Case, stage: str) -> dict[str, tuple[object, str | None]]:
    """The stage's stored (data, error) per item, checking that no item has two; the case folder's own path
    (which some stages record with the original's path) is written <case>, so two cases compare."""
    rows = case.results(stage)
    assert len(rows) == len({r.sha256 for r in rows})
    return {r.sha256: json.loads(json.dumps((r.data, r.error)).replace(str(case.root), "<case>")) for r in rows}


def logged_items(case: Case, stage: str) -> list[str]:
    """Every item named by the stage's custody entries, once per entry that names it."""
    return [sha for e in case.custody() if e.action == f"analyse:{stage}" for sha in e.inputs["items"]]


@pytest.mark.parametrize("where_to", ["local-pool", "dask-shared-path", "dask-shipped-bytes"])
def test_cluster_results_equal_in_process_results(tmp_path, photos, cluster, where_to):
    executor = {"local-pool": lambda: PoolExecutor(2), "dask-shared-path": lambda: DaskExecutor(cluster),
                "dask-shipped-bytes": lambda: DaskExecutor(cluster, ship_bytes=True)}[where_to]()
    local, remote = filled(tmp_path / "local", photos), filled(tmp_path / "remote", photos)
    a = run_stage(local, "digest", "1", digest, local.items(), executor=InlineExecutor(), chunk=4)
    b = run_stage(remote, "digest", "1", digest, remote.items(), executor=executor, chunk=4)
    assert (a.computed, len(a.errors)) == (b.computed, len(b.errors)) == (PHOTOS, 1)
    assert stored(local, "digest") == stored(remote, "digest")
    assert sorted(logged_items(remote, "digest")) == sorted(it.sha256 for it in remote.items())
    assert remote.verify().ok
    where = [e.details.get("computed_on") for e in remote.custody() if e.action == "analyse:digest"]
    if where[0] is None:  # a local pool: nothing left this machine
        assert where == [None] * len(where) and where != []
    else:  # each entry names the scheduler, the workers' hosts and how they got the originals
        assert all(w["dask_scheduler"] == cluster.scheduler_address and w["hosts"] == [socket.gethostname()]
                   and ("shipped" in w["originals"]) == (where_to == "dask-shipped-bytes") for w in where)


def test_worker_killed_mid_run_loses_and_duplicates_nothing(tmp_path, photos, cluster):
    case = filled(tmp_path / "case", photos)
    victim = case.items(media_type="image")[PHOTOS // 2].sha256
    marker = tmp_path / "died"
    compute = functools.partial(digest_or_die, victim=victim, marker=marker)
    run = run_stage(case, "digest", "1", compute, case.items(), executor=DaskExecutor(cluster), chunk=4)
    assert marker.exists(), "the worker computing the victim did not die"
    assert (run.computed, len(run.errors)) == (PHOTOS, 1)
    results = stored(case, "digest")
    assert set(results) == {it.sha256 for it in case.items()}
    assert results[victim][1] is None and results[victim][0]["sha256"] == victim
    logged = logged_items(case, "digest")
    assert sorted(logged) == sorted(results)  # each item in exactly one custody entry
    assert case.verify().ok


def test_item_that_always_kills_its_worker_becomes_that_items_error(tmp_path, photos, cluster):
    case = filled(tmp_path / "case", photos)
    victim = case.items()[-1].sha256  # in a task with others: they must still come through
    compute = functools.partial(digest_or_die, victim=victim, marker=tmp_path / "died", every_time=True)
    run = run_stage(case, "digest", "1", compute, case.items(), executor=DaskExecutor(cluster))
    assert "killed its Dask worker" in run.errors[victim]
    failed = {victim, case.items(media_type="video")[0].sha256}  # no bystander of the victim among them
    assert set(run.errors) == failed and run.computed == PHOTOS + 1 - len(failed)
    assert len(stored(case, "digest")) == PHOTOS + 1


def test_coordinator_stopped_mid_run_resumes_where_it_stopped(tmp_path, photos, cluster):
    case = filled(tmp_path / "case", photos)
    seen: list[str] = []

    def stop_after_ten(item, data, error):
        seen.append(item.sha256)
        if len(seen) == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stage(case, "digest", "1", digest, case.items(), executor=DaskExecutor(cluster), chunk=4,
                  on_item=stop_after_ten)
    kept = len(stored(case, "digest"))
    assert kept == 10  # every result computed before the stop is kept, the partial chunk too
    again = run_stage(case, "digest", "1", digest, case.items(), executor=DaskExecutor(cluster), chunk=4)
    assert again.cached == kept and again.computed + len(again.errors) == PHOTOS + 1 - kept
    assert sorted(logged_items(case, "digest")) == sorted(it.sha256 for it in case.items())


def test_original_missing_here_is_that_items_error_as_in_process(tmp_path, cluster):
    missing = tmp_path / "gone.jpg"
    assert list(DaskExecutor(cluster).run(digest, [missing])) == list(InlineExecutor().run(digest, [missing]))


def test_worker_that_cannot_read_the_case_stops_the_run_instead_of_storing_errors(tmp_path):
    from osint.cluster import _compute_paths  # what a worker runs; a LocalCluster shares this file system

    with pytest.raises(ClusterError, match="same path on every worker"):
        _compute_paths(digest, [tmp_path / "not-on-shared-storage.jpg"])


@pytest.mark.parametrize("address, says", [("tcp://127.0.0.1:9", "cannot reach"), ("tls://127.0.0.1:9", "CA_FILE")])
def test_unreachable_scheduler_is_one_clear_error(address, says):
    executor = DaskExecutor(address, connect_timeout_s=1)
    for attempt in (executor.check, lambda: list(executor.run(digest, [Path("x")]))):
        with pytest.raises(OsintError, match=says):
            attempt()



def test_hashing_stage_on_the_cluster_stores_what_it_stores_in_process(tmp_path, photos, cluster):
    from osint.hashing import STAGE, hash_case

    local, remote = filled(tmp_path / "local", photos), filled(tmp_path / "remote", photos)
    a, b = hash_case(local, executor=InlineExecutor()), hash_case(remote, executor=DaskExecutor(cluster))
    assert (a.computed, a.errors) == (b.computed, b.errors) and a.computed == PHOTOS + 1  # the video too
    assert stored(local, STAGE) == stored(remote, STAGE)


def test_face_stage_on_the_cluster_stores_what_it_stores_in_process(tmp_path, cluster):
    import skimage

    from osint.facematch import STAGE, scan_case

    samples = Path(skimage.__file__).parent / "data"  # public-domain pictures scikit-image ships: faces and not
    files = [samples / name for name in ("astronaut.png", "camera.png", "coffee.png")]
    local, remote = Case.create(tmp_path / "local", actor="t"), Case.create(tmp_path / "remote", actor="t")
    for case in (local, remote):
        add_paths(case, files, collector="tester")
    a, b = scan_case(local, executor=InlineExecutor()), scan_case(remote, executor=DaskExecutor(cluster))
    assert (a.computed, a.errors) == (b.computed, b.errors) == (3, {})
    assert stored(local, STAGE) == stored(remote, STAGE)
    assert any(data["faces"] for data, _ in stored(remote, STAGE).values())


def test_geolocation_stage_on_the_cluster_stores_what_it_stores_in_process(tmp_path, cluster, shared_data):
    from osint.geolocate import STAGE, LocateOptions, locate_case

    files = sorted((shared_data / "exif").rglob("*.jpg"))[:12]
    local, remote = Case.create(tmp_path / "local", actor="t"), Case.create(tmp_path / "remote", actor="t")
    for case in (local, remote):
        add_paths(case, files, collector="tester")
    a = locate_case(local, LocateOptions(), local.items(), executor=InlineExecutor())
    b = locate_case(remote, LocateOptions(), remote.items(), executor=DaskExecutor(cluster))
    assert (a.computed, a.errors) == (b.computed, b.errors) and a.computed >= 10
    assert stored(local, STAGE) == stored(remote, STAGE)


def test_hash_command_with_cluster_option_stores_what_workers_1_stores(tmp_path, photos, cluster):
    from typer.testing import CliRunner

    from osint.cli import app
    from osint.hashing import STAGE

    cases = {}
    for name, option in (("local", ["--workers", "1"]), ("cluster", ["--cluster", cluster.scheduler_address])):
        cases[name] = filled(tmp_path / name, photos)
        result = CliRunner().invoke(app, ["hash", "--case", str(tmp_path / name), *option, "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["computed"] == PHOTOS + 1
    assert stored(cases["local"], STAGE) == stored(cases["cluster"], STAGE)
