"""Re-matching after adding a reference, in a case holding 100,000 cached faces: `python bench/rematch.py`.

Builds a case with N items (small generated photos, really ingested) whose "faces" stage results hold
100,000 faces in all, with real encodings (from bench/face_eval.py's cache, or encoded now from LFW photos),
each slightly perturbed so no two are equal. Then adds one reference person from a real photo and times
the re-match, then (--persons) 11 child reference persons more, so children's scores are normalised against
a cohort of 10 other persons, and times it again. The re-match is what `osint match` does after `osint refs
add` (check the stage cache, load the reference faces and all cached faces from the case, rank). No collected
image is decoded: analysis is disabled.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "faces"
sys.path.insert(0, str(ROOT))


def real_encodings() -> dict[str, np.ndarray]:
    cache = ROOT / "out" / "face_eval" / "yunet.npz"
    if cache.exists():
        z = np.load(cache)
        return {m: z[m][z["ok"]] for m in ("dlib", "sface")}
    from bench.face_eval import central_face

    rows = [central_face(str(p), "yunet") for p in sorted((DATA / "images").glob("A*/*.jpg"))[:300]]
    return {m: np.asarray([r[k] for r in rows if r[0] is not None]) for k, m in enumerate(("dlib", "sface"))}


def rematch(case: Any, settings: Any, what: str) -> None:
    """Time what `osint match` does after `osint refs add` (gallery.case_matches, step by step): check the
    stage cache, load the reference and all cached faces, pick each person's table from their age, score
    (cohort-normalised for children with enough others) and rank."""
    from osint.facematch import case_faces, match_media, reference_faces, scan_case
    from osint.facematch.ages import case_dated
    from osint.facematch.gallery import calibration_tables

    t0 = time.perf_counter()
    run = scan_case(case, settings)
    t1 = time.perf_counter()
    refs, owners = reference_faces(case, settings)
    found = case_faces(case, settings)
    t2 = time.perf_counter()
    cands = match_media(found, refs, owners, tables=calibration_tables(case, refs, owners))
    t3 = time.perf_counter()
    cands = case_dated(case, cands)
    t4 = time.perf_counter()
    print(f"re-match, {what}, over {len(found):,} cached faces ({run.cached:,} items cached, {run.computed} "
          f"computed): {t4 - t0:.2f} s in all = cache check {t1 - t0:.2f} s + load faces and encodings {t2 - t1:.2f} s "
          f"+ tables, scores, video tracks and ranking {t3 - t2:.2f} s; ages of the candidates {t4 - t3:.2f} s; "
          f"{len(cands):,} candidates within the default FMR 1% "
          f"({', '.join(sorted({c.model + ' / ' + c.table for c in cands})) or 'none'})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--faces", type=int, default=100_000)
    ap.add_argument("--per-item", type=int, default=10, help="faces per item (group photos, video frames)")
    ap.add_argument("--persons", type=int, default=11,
                    help="then add this many child reference persons and time the re-match again (0: skip)")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is not present")
        return
    from PIL import Image

    from osint.case import Case
    from osint.facematch import FaceSettings, STAGE, add_references, analyse
    from osint.facematch.ages import set_item_date
    from osint.facematch.analyse import pack
    from osint.ingest import add_paths

    kept = analyse.analyse_file
    real = real_encodings()
    settings = FaceSettings()
    version = settings.version()
    n_items = args.faces // args.per_item
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for i in range(n_items):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(src / f"{i:06d}.png")
        case = Case.create(Path(tmp) / "case", actor="bench")
        t0 = time.perf_counter()
        add_paths(case, [src], collector="bench")
        print(f"case: {n_items:,} items ingested in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        batch = []
        for k, item in enumerate(case.items()):
            idx = rng.integers(0, len(real["dlib"]), args.per_item)
            enc = {}
            for m in ("dlib", "sface"):
                v = real[m][idx] + rng.normal(0, 0.002, (args.per_item, 128)).astype(np.float32)
                enc[m] = pack(list(v / np.linalg.norm(v, axis=1, keepdims=True) if m == "sface" else v))
            marks = pack(rng.uniform(0, 640, (args.per_item, 10)))
            faces = [{"index": j, "t": None, "frame": None, "box": [10 * j, 10, 60, 70], "score": 0.9123,
                      "status": "ok", "row": j, "quality": 11.873, "crop": f"{k:032x}{j:032x}"}
                     for j in range(args.per_item)]
            batch.append((item.sha256, {"media_type": "image", "width": 640, "height": 480, "frames_sampled": 1,
                                        "faces": faces, "encodings": enc, "landmarks": marks,
                                        "frames": [{"t": None, "frame": None, "scene_change": False,
                                                    "context": f"{k:064x}"}]}, None))
            if len(batch) == 1000:
                case.put_results(STAGE, version, batch, actor="bench")
                batch = []
        case.put_results(STAGE, version, batch, actor="bench")
        print(f"cached faces stored: {n_items * args.per_item:,} in {time.perf_counter() - t0:.0f} s")

        ref = DATA / "images" / "Lin_Manuel_Miranda"
        t0 = time.perf_counter()
        add_references(case, "P-0001", sorted(ref.iterdir())[:1], name="reference person", settings=settings)
        print(f"refs add (one photo: ingest, detect, encode, record): {time.perf_counter() - t0:.2f} s")

        def refuse(path: Path, settings: FaceSettings) -> None:
            raise AssertionError(f"re-match decoded an image: {path}")
        analyse.analyse_file = refuse          # proves the re-match touches no image
        rematch(case, settings, "one reference person (age unknown: conservative table)")
        if args.persons > 1:
            # children (born 2010, photos dated 2020): with 10 or more others their scores are cohort-normalised
            analyse.analyse_file = kept
            others = [d for d in sorted((DATA / "images").glob("A*")) if d.is_dir()][: args.persons]
            for k, folder in enumerate(others, 2):
                photo = sorted(folder.iterdir())[:1]
                add_references(case, f"C-{k:04d}", photo, born="2010", settings=settings)
                sha = next(r["sha256"] for r in case.records("reference_photo").values() if r["person"] == f"C-{k:04d}")
                set_item_date(case, sha, "2020-06-01", what="bench")
            analyse.analyse_file = refuse
            rematch(case, settings, f"{args.persons + 1} reference persons, {args.persons} of them children with a cohort")
        case.close()


if __name__ == "__main__":
    main()
