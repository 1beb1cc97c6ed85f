"""Links, groups and search over a case: reposts group together, videos link to their stills with a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from osint.hashing import HashSet, compare, hash_case, hash_file, stored_hashes
from osint.ingest import add_paths
from tests.hashing.conftest import write_video
from tests.hashing.test_index import _chunk_bits, _spread


def test_groups_collect_reposts_and_leave_distinct_photos_alone(case, photos: list[Path], tmp_path: Path) -> None:
    reposts = tmp_path / "reposts"
    reposts.mkdir()
    Image.open(photos[0]).resize((240, 180)).save(reposts / "small.jpg", quality=40)
    ImageOps.mirror(Image.open(photos[0])).save(reposts / "mirrored.jpg", quality=85)
    ImageOps.expand(Image.open(photos[1]), border=30, fill=(0, 0, 0)).save(reposts / "framed.jpg", quality=85)
    add_paths(case, [*photos, reposts], collector="tester")
    run = hash_case(case)
    assert run.computed == 9 and not run.errors
    assert hash_case(case).cached == 9                         # cached per (sha256, stage, version)
    hashes, failed = stored_hashes(case)
    groups = HashSet(hashes).groups()
    by_name = {a.sha256: Path(a.original_path).name for a in case.acquisitions()}
    named = sorted(sorted(by_name[m] for m in g.members) for g in groups)
    assert named == [["framed.jpg", "p1.jpg"], ["mirrored.jpg", "p0.jpg", "small.jpg"]]
    mirrored = next(m for g in groups for m in g.links if {by_name[m.a], by_name[m.b]} == {"mirrored.jpg", "p0.jpg"})
    assert any(e.algorithm == "pdq" and e.linked and e.transform == "mirror" for e in mirrored.evidence)


def test_a_video_links_to_its_still_and_to_its_reencoded_copy_naming_the_time(tmp_path: Path,
                                                                             photos: list[Path]) -> None:
    scenes = [np.asarray(Image.open(p).convert("RGB")) for p in photos[:3]]
    video = write_video(tmp_path / "clip.mp4", scenes)
    copy = write_video(tmp_path / "copy.mp4", [np.asarray(Image.fromarray(s).resize((320, 240))) for s in scenes])
    still = tmp_path / "still.jpg"
    Image.fromarray(scenes[1]).save(still, quality=70)
    hashes = {"clip": hash_file(video), "copy": hash_file(copy), "still": hash_file(still),
              "other": hash_file(photos[4])}
    assert {f.t for f in hashes["clip"].frames} >= {0.0, 1.0, 2.0}
    found = HashSet(hashes)
    groups = found.groups()
    assert [sorted(g.members) for g in groups] == [["clip", "copy", "still"]]
    match = found.similar(hashes["still"])
    clip = next(m for m in match if m.b == "clip")
    assert clip.linked and 1.0 <= clip.best().t_b < 2.0 and clip.best().t_a is None
    video_pair = compare(hashes["clip"], hashes["copy"])
    assert video_pair.linked


def test_real_video_links_to_a_still_cut_from_it(shared_data: Path, tmp_path: Path) -> None:
    import cv2

    clip = shared_data / "video" / "hamilton" / "short_hamilton_clip.mp4"
    hashes = hash_file(clip)
    t = hashes.frames[len(hashes.frames) // 2].t
    cap = cv2.VideoCapture(str(clip))
    cap.set(cv2.CAP_PROP_POS_MSEC, t * 1000)
    ok, bgr = cap.read()
    cap.release()
    assert ok
    still = tmp_path / "still.jpg"
    Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)).resize((320, 180)).save(still, quality=60)
    others = {p.name: hash_file(p) for p in sorted((shared_data / "video" / "no_known_faces").iterdir())}
    found = HashSet({"hamilton": hashes, **others}).similar(hash_file(still))
    assert [m.b for m in found if m.linked] == ["hamilton"]
    assert abs(found[0].best().t_b - t) < 0.1


def test_an_item_that_fails_is_stored_as_an_error_and_the_run_goes_on(  # type: ignore[no-untyped-def]
        case, photos: list[Path], monkeypatch) -> None:
    from osint.errors import CorruptMedia
    from osint.hashing import stage

    add_paths(case, photos[:3], collector="tester")
    bad = case.items()[1].sha256

    def flaky(path: Path):  # type: ignore[no-untyped-def]
        if path.name == bad:
            raise CorruptMedia("damaged jpeg: test")
        return hash_file(path)

    monkeypatch.setattr(stage, "hash_file", flaky)
    run = hash_case(case)
    assert run.computed == 2 and run.errors == {bad: "damaged jpeg: test"}
    hashes, failed = stored_hashes(case)
    assert len(hashes) == 2 and failed == {bad: "damaged jpeg: test"}
    assert hash_case(case).cached == 3                       # the error is a stored result, not retried


def _hexes(words: np.ndarray) -> list[str]:
    return [w.astype(">u8").tobytes().hex() for w in words]


def _near(rng: np.random.Generator, words: np.ndarray, most: int) -> np.ndarray:
    """Each row with 0..most random bits flipped (a bit drawn twice flips back)."""
    out = words.copy()
    for row in out:
        for b in rng.integers(0, row.size * 64, size=int(rng.integers(0, most + 1))):
            row[b // 64] ^= np.uint64(1) << np.uint64(63 - b % 64)
    return out


def test_links_of_a_generated_case_equal_brute_force_over_every_pair() -> None:
    """2,000 items (random hashes, 500 of them near copies of another item, some just past a threshold, 40 PDQ
    copies with 2 bits off in every chunk): the indexed links are exactly the item pairs that brute force finds
    within a threshold (PDQ: under the chunk rule), at the same distances."""
    from osint.hashing import FrameHashes, MediaHashes, Thresholds
    from osint.hashing.index import distances

    rng = np.random.default_rng(14)
    n, copies, limits = 2000, 500, Thresholds()
    parent = rng.integers(0, n - copies, size=copies)
    ph = rng.integers(0, 2**64, size=(n, 1), dtype=np.uint64)
    dh = rng.integers(0, 2**64, size=(n, 1), dtype=np.uint64)
    pdq = rng.integers(0, 2**64, size=(n, 8, 4), dtype=np.uint64)
    ph[n - copies:] = _near(rng, ph[parent], limits.phash + 3)
    dh[n - copies:] = _near(rng, dh[parent], limits.dhash + 3)
    pdq[n - copies:] = _near(rng, pdq[parent].reshape(-1, 4), limits.pdq + 10).reshape(copies, 8, 4)
    for k in range(n - 40, n):    # 24 bits off, 2 in each chunk: within 31 bits but outside the chunk rule
        pdq[k] = [_spread(rng, row, 2) for row in pdq[parent[k - n + copies]]]
    ph_hex, dh_hex, pdq_hex = _hexes(ph), _hexes(dh), _hexes(pdq.reshape(-1, 4))
    hashes = {f"{k:064x}": MediaHashes("image", (FrameHashes(
        None, False, "full", (0.0, 0.0, 1.0, 1.0), ph_hex[k], dh_hex[k], pdq_hex[8 * k], 100,
        tuple(pdq_hex[8 * k:8 * k + 8])),)) for k in range(n)}
    names = list(hashes)

    brute = {"phash": distances(ph[:, None], ph[None]), "dhash": distances(dh[:, None], dh[None])}
    def by_rule(v: int) -> np.ndarray:   # a's variant v vs b, where the chunk rule allows a link (else 999)
        d = distances(pdq[:, None, v], pdq[None, :, 0])
        a, b = np.nonzero(d <= limits.pdq)
        far = ~(_chunk_bits(pdq[a, v] ^ pdq[b, 0]) <= 1).any(axis=(-1, -2))
        d[a[far], b[far]] = 999
        return d

    to_b = np.min([by_rule(v) for v in range(8)], axis=0)
    brute["pdq"] = np.minimum(to_b, to_b.T)
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for algo, d in brute.items():
        for a, b in zip(*np.nonzero(np.triu(d <= limits.of(algo), k=1))):
            expected.setdefault((names[a], names[b]), {})[algo] = int(d[a, b])

    found = {(m.a, m.b): {e.algorithm: e.distance for e in m.evidence} for m in HashSet(hashes).links(limits)}
    assert found == expected
    assert len(expected) >= 300 and any("pdq" in ev and len(ev) == 1 for ev in expected.values())
    assert sum(1 for ev in expected.values() if ev.get("pdq", 0) > limits.pdq_certain) >= 20
    spread = [(names[parent[k - n + copies]], names[k]) for k in range(n - 40, n)]   # each with its original
    assert not any("pdq" in expected.get(pair, {}) for pair in spread)


def test_striped_pictures_whose_dhash_rows_repeat_do_not_link_by_dhash(tmp_path: Path) -> None:
    """Vertical bands and the same bands shaded top to bottom: two pictures (pHash 29, PDQ 122 bits apart) whose
    dHash rows all repeat one pattern, 1 bit apart; the stripe gate keeps them apart, and a resized copy of an
    ordinary photo still links by dHash."""
    from tests.conftest import make_photo

    bands = np.tile(np.repeat(np.random.default_rng(3).integers(30, 225, 40), 10).astype(float), (300, 1))
    shade = 0.35 + 0.65 * np.abs(np.sin(7 * np.linspace(0, 1, 300)))[:, None]
    hashes = []
    for k, grey in enumerate((bands, bands * shade)):
        Image.fromarray(np.stack([grey] * 3, -1).clip(0, 255).astype(np.uint8)).save(tmp_path / f"s{k}.png")
        hashes.append(hash_file(tmp_path / f"s{k}.png"))
    dhash = next(e for e in compare(*hashes).evidence if e.algorithm == "dhash")
    assert dhash.distance <= 3 and not dhash.linked and not compare(*hashes).linked
    assert HashSet({"a": hashes[0]}).similar(hashes[1]) == [] and HashSet({"a": hashes[0], "b": hashes[1]}).links() == []
    make_photo(tmp_path / "p.jpg", seed=5, size=(400, 300))
    Image.open(tmp_path / "p.jpg").resize((200, 150)).save(tmp_path / "half.jpg", quality=90)
    half = compare(hash_file(tmp_path / "p.jpg"), hash_file(tmp_path / "half.jpg"))
    assert next(e for e in half.evidence if e.algorithm == "dhash").linked
