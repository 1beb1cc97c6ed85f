"""Calibrate face matching on ../shared/data/faces and write the shipped distance -> FMR table.

    python bench/face_eval.py                 # measure, print, (re)write osint/facematch/calibration/faces.json
    python bench/face_eval.py --no-write      # measure and print only
    python bench/face_eval.py --small-faces   # also: how recognition degrades as faces shrink (12..64 px)
    python bench/face_eval.py --detectors     # also: detector recall/speed on _multi boxes and video frames
    python bench/face_eval.py --flip          # measure with flip augmentation (face + mirror averaged); never writes
    python bench/face_eval.py --marks dlib68  # measure SFace aligned on dlib's 68 landmarks; never writes
    python bench/face_eval.py --limit 150 --wccn 0.3  # encodings whitened within class (WCCN, shrunk 0.3) as
                                              # learned on the other identities (children_eval.py --wccn); never writes

Every labelled image is run through the package's own pipeline (default detector, then dlib ResNet and
SFace on the most central face). Genuine pairs: every pair of images of one identity, except copies of one
photo at several resolutions (near_duplicate_group). Impostor pairs: every cross-identity pair, except the
label pairs suspected to be one person (suspected_same_person). Encodings are cached in out/face_eval/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "faces"
VIDEO = ROOT.parent / "shared" / "data" / "video"
CACHE = ROOT / "out" / "face_eval"
TABLE = ROOT / "osint" / "facematch" / "calibration" / "faces.json"
FMRS = ("0.01", "0.001", "0.0001")
# From faces/SOURCE.md "Caveats", used when suspected_same_person.csv itself is not in the snapshot.
SUSPECTED = [("deepface_p13", "George_Clooney"), ("deepface_p11", "Matt_Damon")]

sys.path.insert(0, str(ROOT))


def central_face(path: str, detector: str, flip: bool = False,
                 marks: str = "yunet") -> tuple[np.ndarray | None, np.ndarray | None, int, int, float]:
    """(dlib, sface, faces found, chosen face width, quality) for the encodable face nearest the centre."""
    from osint.facematch.analyse import FaceSettings, faces_in_frame
    from osint.media import load_image

    settings = FaceSettings(detector=detector, encoder="fused", flip=flip, marks=marks)
    rgb = load_image(path)
    rows: dict = {"dlib": [], "sface": []}
    faces = faces_in_frame(rgb, settings, rows=rows)
    ok = [f for f in faces if f.row is not None]
    if not ok:
        return None, None, len(faces), 0, 0.0
    h, w = rgb.shape[:2]
    best = most_central(ok, h, w)
    return (np.asarray(rows["dlib"][best.row]), np.asarray(rows["sface"][best.row]), len(faces), best.box[2],
            best.quality)


def most_central(faces: list, height: int, width: int):  # -> FoundFace
    """The face whose box centre is nearest the image centre (LFW labels name the centred person)."""
    return min(faces, key=lambda f: (f.box[0] + f.box[2] / 2 - width / 2) ** 2 + (f.box[1] + f.box[3] / 2 - height / 2) ** 2)


def _central(args: tuple[str, str, bool, str]) -> tuple[np.ndarray | None, np.ndarray | None, int, int, float]:
    return central_face(*args)


def load_labels() -> tuple[list[str], list[str], dict[str, str]]:
    files, ids = [], []
    for r in csv.DictReader(open(DATA / "labels.csv")):
        if r["identity"]:
            files.append(r["file"])
            ids.append(r["identity"])
    dup = {r["file"]: r["value"] for r in csv.DictReader(open(DATA / "attributes.csv"))
           if r["attribute"] == "near_duplicate_group"}
    return files, ids, dup


def suspected_pairs() -> set[frozenset[str]]:
    path = DATA / "suspected_same_person.csv"
    if path.exists():
        rows = list(csv.reader(open(path)))[1:]
        return {frozenset(r[:2]) for r in rows if len(r) >= 2}
    return {frozenset(p) for p in SUSPECTED}


def encode_all(files: list[str], detector: str, workers: int, flip: bool = False,
               marks: str = "yunet") -> dict[str, np.ndarray]:
    """Encodings of every labelled image (cached under out/face_eval, keyed by the stage version)."""
    from osint.facematch.analyse import FaceSettings

    version = FaceSettings(detector=detector, encoder="fused", flip=flip, marks=marks).version()
    cache = CACHE / f"{detector}{'-flip' if flip else ''}{'' if marks == 'yunet' else '-' + marks}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        if str(z["version"]) == version and list(z["files"]) == files:
            print(f"encodings: cached in {cache.relative_to(ROOT)}")
            return dict(z)
    t0 = time.time()
    n = len(files)
    dl, sf = np.zeros((n, 128), np.float32), np.zeros((n, 128), np.float32)
    ok, nfaces, width, quality = np.zeros(n, bool), np.zeros(n, int), np.zeros(n, int), np.zeros(n)
    with ProcessPoolExecutor(workers) as pool:
        for i, (d, s, k, w, q) in enumerate(pool.map(_central, [(str(DATA / f), detector, flip, marks) for f in files], chunksize=8)):
            nfaces[i], width[i], quality[i] = k, w, q
            if d is not None:
                dl[i], sf[i], ok[i] = d, s, True
            if i % 500 == 0:
                print(f"  encoded {i}/{n} ({time.time() - t0:.0f} s)", flush=True)
    print(f"encodings: {n} images in {time.time() - t0:.0f} s with {workers} processes")
    CACHE.mkdir(parents=True, exist_ok=True)
    out = dict(files=np.asarray(files), version=np.asarray(version), dlib=dl, sface=sf, ok=ok, nfaces=nfaces,
               width=width, quality=quality)
    np.savez(cache, **out)
    return out


def bounded(files: list[str], ids: list[str], limit: int) -> tuple[list[str], list[str]]:
    """The images of the first `limit` identities (in label order) that have two or more images."""
    count = defaultdict(int)
    for p in ids:
        count[p] += 1
    keep = [p for p in dict.fromkeys(ids) if count[p] >= 2][:limit]
    chosen = set(keep)
    rows = [(f, p) for f, p in zip(files, ids) if p in chosen]
    return [f for f, _ in rows], [p for _, p in rows]


def pair_masks(files: list[str], ids: list[str], dup: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Upper-triangle masks of genuine and impostor pairs over `files`."""
    n = len(files)
    lab = np.asarray(ids)
    same = lab[:, None] == lab[None, :]
    groups = np.asarray([dup.get(f, f"#{i}") for i, f in enumerate(files)])
    near_dup = (groups[:, None] == groups[None, :]) & ~np.eye(n, dtype=bool)
    upper = np.triu(np.ones((n, n), bool), 1)
    genuine = same & ~near_dup & upper
    impostor = ~same & upper
    for pair in suspected_pairs():
        a, b = tuple(pair)
        ia, ib = lab == a, lab == b
        impostor &= ~((ia[:, None] & ib[None, :]) | (ib[:, None] & ia[None, :]))
    return genuine, impostor


def curve(gen: np.ndarray, imp: np.ndarray) -> dict:
    """Distance grid with FMR (impostors at or below) and TAR (genuines at or below) at each point."""
    imp, gen = np.sort(imp), np.sort(gen)
    qs = np.concatenate([np.logspace(-7, 0, 120), np.linspace(0, 1, 81)])
    grid = np.unique(np.round(np.concatenate([np.quantile(imp, np.clip(qs, 0, 1)), np.quantile(gen, np.linspace(0, 1, 41)),
                                              np.linspace(min(gen[0], imp[0]), max(gen[-1], imp[-1]), 81)]), 5))
    fmr = np.searchsorted(imp, grid, side="right") / len(imp)
    tar = np.searchsorted(gen, grid, side="right") / len(gen)
    return {"distance": grid.tolist(), "fmr": [float(f"{v:.4g}") for v in fmr], "tar": [round(float(v), 5) for v in tar]}


def summarise(name: str, gen: np.ndarray, imp: np.ndarray) -> dict:
    imp_sorted = np.sort(imp)
    th, tar = {}, {}
    for f in FMRS:
        k = int(float(f) * len(imp_sorted))
        t = float(imp_sorted[k]) if k < len(imp_sorted) else float(imp_sorted[-1])
        t = float(np.nextafter(t, -np.inf))     # strictly below the k-th impostor: FMR <= f
        th[f], tar[f] = round(t, 5), round(float((gen <= t).mean()), 5)

    def pct(v: np.ndarray) -> str:
        return " ".join(f"{q}%:{np.percentile(v, q):.3f}" for q in (1, 5, 25, 50, 75, 95, 99))

    print(f"\n== {name}: {len(gen):,} genuine pairs, {len(imp):,} impostor pairs")
    print(f"  genuine  {pct(gen)}")
    print(f"  impostor {pct(imp)}")
    for f in FMRS:
        print(f"  FMR {float(f):.2%}: threshold {th[f]:.4f}  TAR {tar[f]:.2%}")
    return {"n_genuine": int(len(gen)), "n_impostor": int(len(imp)), "threshold_at_fmr": th, "tar_at_fmr": tar,
            "genuine_median": round(float(np.median(gen)), 4), "impostor_median": round(float(np.median(imp)), 4),
            "table": curve(gen, imp)}


def histogram(gen: np.ndarray, imp: np.ndarray, bins: int = 16) -> None:
    lo, hi = np.percentile(gen, 0.5), np.percentile(imp, 99.5)
    edges = np.linspace(lo, hi, bins + 1)
    g, _ = np.histogram(gen, edges)
    i, _ = np.histogram(imp, edges)
    print("  distance   genuine pairs (scaled to the fullest bin) | impostor pairs (same)")
    for k in range(bins):
        print(f"  {edges[k]:6.3f}  {'#' * int(40 * g[k] / g.max()):<40} | {'*' * int(40 * i[k] / i.max())}")


def official_pairs(files: list[str], dist: dict[str, np.ndarray], thresholds: dict[str, float]) -> None:
    index = {f: i for i, f in enumerate(files)}
    rows = [r for r in csv.DictReader(open(DATA / "pairs.csv")) if r["file_a"] in index and r["file_b"] in index]
    a = np.asarray([index[r["file_a"]] for r in rows])
    b = np.asarray([index[r["file_b"]] for r in rows])
    same = np.asarray([r["same"] == "1" for r in rows])
    print(f"\n== official pairs.csv ({same.sum()} same, {(~same).sum()} different; both images encoded)")
    for model, d in dist.items():
        t = thresholds[model]
        dd = d[a, b]
        print(f"  {model:6s} at its FMR-0.1% threshold {t:.4f}: TAR {np.mean(dd[same] <= t):.2%}  "
              f"FAR {np.mean(dd[~same] <= t):.2%}")


def small_faces(files: list[str], ids: list[str], enc: dict[str, np.ndarray], thresholds: dict[str, float],
                scales: dict[str, float], detector: str, workers: int) -> None:
    """Degrade one image per identity (of those with 2+): shrink it so the face is W px wide, or blur it;
    re-detect and re-encode it, and see whether it still matches the person's other images at the FMR-1%
    threshold, how often it falsely matches strangers there, and what quality score it gets."""
    from osint.facematch.calibration import distances

    by_id = defaultdict(list)
    for i, p in enumerate(ids):
        if enc["width"][i] >= 48:
            by_id[p].append(i)
    probes = [v[0] for v in by_id.values() if len(v) >= 2][:300]
    labels = np.asarray(ids)

    def take(rows: np.ndarray) -> dict[str, np.ndarray]:
        return {"dlib": enc["dlib"][rows], "sface": enc["sface"][rows]}

    def report(label: str, jobs: list) -> None:
        with ProcessPoolExecutor(workers) as pool:
            got = list(pool.map(_shrunk, jobs, chunksize=8))
        found = {m: 0 for m in ("dlib", "sface", "fused")}
        false: dict[str, list[float]] = {m: [] for m in found}
        quality = []
        for i, (d, s, q) in zip(probes, got):
            if d is None:
                continue
            quality.append(q)
            others = np.asarray([j for j in by_id[ids[i]] if j != i])
            strangers = np.flatnonzero(labels != ids[i])
            a = {"dlib": d[None], "sface": s[None]}
            for m in found:
                found[m] += bool((distances(m, a, take(others), scales) <= thresholds[m]).any())
                false[m].append(float((distances(m, a, take(strangers), scales) <= thresholds[m]).mean()))
        print(f"  {label}: encoded {len(quality) / len(probes):6.1%}, quality {np.mean(quality):5.2f}; matched "
              f"(FMR vs strangers): " +
              "  ".join(f"{m} {found[m] / len(probes):6.1%} ({np.mean(false[m]):.2%})" for m in found))

    print(f"\n== degraded faces: {len(probes)} probe images vs the person's other images, threshold at FMR 1%; "
          f"quality of undegraded faces: {np.percentile(enc['quality'], 1):.2f} (1st percentile), "
          f"{np.median(enc['quality']):.2f} (median)")
    for width in (12, 16, 20, 24, 32, 48):
        report(f"face {width:2d} px wide", [(str(DATA / files[i]), width / enc["width"][i], 0.0, detector) for i in probes])
    for sigma in (1.0, 2.0, 3.0, 4.0):
        report(f"blur sigma {sigma:.0f} px per 50 px of face",
               [(str(DATA / files[i]), 1.0, sigma * enc["width"][i] / 50.0, detector) for i in probes])


def _shrunk(args: tuple[str, float, float, str]) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """Encode the central face of the image shrunk by `factor` and blurred (Gaussian, `sigma` px), with
    encoding forced even below min_encode; returns (dlib, sface, quality)."""
    import cv2

    from osint.facematch.analyse import FaceSettings, faces_in_frame
    from osint.media import load_image

    path, factor, sigma, detector = args
    rgb = load_image(path)
    small = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor != 1 else rgb
    if sigma > 0:
        small = cv2.GaussianBlur(small, (0, 0), sigma)
    rows: dict = {"dlib": [], "sface": []}
    faces = faces_in_frame(small, FaceSettings(detector=detector, encoder="fused", min_encode=1), rows=rows)
    ok = [f for f in faces if f.row is not None]
    if not ok:
        return None, None, 0.0
    h, w = small.shape[:2]
    best = most_central(ok, h, w)
    return np.asarray(rows["dlib"][best.row]), np.asarray(rows["sface"][best.row]), best.quality


def detectors() -> None:
    """Recall on dlib's 43 hand-drawn boxes in _multi, faces on _noface and video frames, time per image."""
    import cv2

    from osint.facematch.detect import DETECTORS, detect
    from osint.media import load_image, sample_frames

    boxes = defaultdict(list)
    for r in csv.DictReader(open(DATA / "multi_face_boxes.csv")):
        boxes[r["file"]].append(tuple(int(r[k]) for k in ("left", "top", "width", "height")))
    noface = sorted((DATA / "images" / "_noface").glob("*.jpg"))
    others = sorted(p for p in (DATA / "images" / "_multi").glob("*.jpg") if f"images/_multi/{p.name}" not in boxes)
    photos = {f: load_image(DATA / f) for f in boxes}
    frames = [(clip.name, f.t, f.image) for clip in (VIDEO / "hamilton" / "short_hamilton_clip.mp4",
                                                     VIDEO / "facenet_pytorch" / "video.mp4")
              if clip.exists() for f in sample_frames(clip, every_s=1.0)]
    print(f"\n== detectors: recall on {sum(map(len, boxes.values()))} hand-drawn boxes (9 PASCAL VOC photos with "
          f"children, faces 37-109 px), false faces on {len(noface)} animal photos, faces on 8 unannotated group "
          f"photos and {len(frames)} video frames (Hamilton clip + street crowd)")
    for name in DETECTORS:
        t0 = time.perf_counter()
        hits = total = extra = 0
        for f, truth in boxes.items():
            found = detect(photos[f], name)
            total += len(truth)
            matched = [_matches(b, found) for b in truth]
            hits += sum(m is not None for m in matched)
            extra += len(found) - len({m for m in matched if m is not None})
        t_multi = (time.perf_counter() - t0) / len(boxes)
        false = sum(len(detect(load_image(p), name)) for p in noface)
        group = [len(detect(load_image(p), name)) for p in others]
        t0 = time.perf_counter()
        vid = [len(detect(img, name)) for _, _, img in frames]
        t_vid = (time.perf_counter() - t0) / max(1, len(frames))
        print(f"  {name:6s} recall {hits}/{total} ({hits / total:.0%}), unmatched boxes {extra}, animal photos {false} "
              f"faces, group photos {sum(group)} faces {group}, video {sum(vid)} faces in {len(frames)} frames "
              f"({sum(v > 0 for v in vid)} frames with a face); {t_multi * 1000:.0f} ms per VOC photo, "
              f"{t_vid * 1000:.0f} ms per video frame")
    print("  smallest face YuNet finds: the 9 VOC photos shrunk so the median face is W px, on a 3 MP grey canvas "
          "(detected at the default scale, 0.6)")
    for width in (10, 12, 14, 16, 20, 24):
        hits = total = 0
        for f, truth in boxes.items():
            s = width / float(np.median([b[2] for b in truth]))
            small = cv2.resize(photos[f], None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            canvas = np.full((1500, 2000, 3), 128, np.uint8)
            canvas[:small.shape[0], :small.shape[1]] = small
            found = detect(canvas, "yunet")
            total += len(truth)
            hits += sum(_matches(tuple(v * s for v in b), found) is not None for b in truth)
        print(f"    faces ~{width} px: {hits}/{total} found")


def _matches(truth: tuple[int, int, int, int], found: list) -> int | None:
    """Index of the detection whose centre lies within the hand-drawn face and whose width is 0.5-2x its width."""
    cx, cy = truth[0] + truth[2] / 2, truth[1] + truth[3] / 2
    for k, d in enumerate(found):
        x, y, w, h = d.box
        if abs(x + w / 2 - cx) < 0.5 * truth[2] and abs(y + h / 2 - cy) < 0.6 * truth[3] and 0.5 < w / truth[2] < 2:
            return k
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detector", default="yunet", help="detector whose boxes feed the encoders")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-write", action="store_true", help="do not rewrite the shipped calibration table")
    ap.add_argument("--small-faces", action="store_true")
    ap.add_argument("--detectors", action="store_true")
    ap.add_argument("--flip", action="store_true", help="encode each face and its mirror, averaged (measured only: "
                    "the shipped encoder does not flip, so the table is not rewritten)")
    ap.add_argument("--marks", default="yunet", choices=("yunet", "dlib68"), help="landmarks SFace is aligned on "
                    "(dlib68: measured only, never writes the table)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N identities with 2+ images (a bounded run; "
                    "never writes the table)")
    ap.add_argument("--wccn", type=float, metavar="SHRINK", help="with --limit: whiten encodings within class as learned "
                    "on the identities left out (bench/children_eval.py --wccn), shrunk by SHRINK; never writes")
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is not present")
        return
    from osint.facematch.calibration import distances

    files, ids, dup = load_labels()
    if args.limit:
        files, ids = bounded(files, ids, args.limit)
        print(f"bounded run: the first {args.limit} identities with 2+ images ({len(files)} images)")
    enc = encode_all(files, args.detector, args.workers, args.flip, args.marks)
    if args.wccn is not None:
        if not args.limit or args.flip or args.marks != "yunet":
            ap.error("--wccn needs --limit (the identities measured are held out of what it learns from) and the "
                     "default encodings (no --flip or --marks)")
        from children_eval import adult_wccn, project

        learned = adult_wccn(args.wccn, args.workers, args.limit)
        enc = dict(enc) | {m: project(enc[m], learned[m]) for m in ("dlib", "sface")} if learned else enc
    ok = enc["ok"]
    print(f"images: {len(files)} labelled, {int(ok.sum())} with an encodable face, {int((~ok).sum())} without "
          f"(failure to enrol: {np.mean(~ok):.2%}); several faces in {int((enc['nfaces'] > 1).sum())} "
          f"(the most central one is used)")
    min_quality = round(float(np.percentile(enc["quality"][ok], 1)), 2)
    print(f"quality (SFace feature length) of the calibration faces: 1st percentile {min_quality}, median "
          f"{np.median(enc['quality'][ok]):.2f}; faces below {min_quality} are flagged low quality (outside what "
          f"the table describes)")
    kept = [i for i in range(len(files)) if ok[i]]
    files_k = [files[i] for i in kept]
    ids_k = [ids[i] for i in kept]
    e = {m: enc[m][kept] for m in ("dlib", "sface")}
    genuine, impostor = pair_masks(files_k, ids_k, dup)
    report, dist = {}, {}
    for model in ("dlib", "sface"):
        dist[model] = distances(model, e, e)
        report[model] = summarise(model, dist[model][genuine], dist[model][impostor])
        histogram(dist[model][genuine], dist[model][impostor])
    scales = {m: report[m]["threshold_at_fmr"]["0.001"] for m in ("dlib", "sface")}
    dist["fused"] = dist["dlib"] / scales["dlib"] + dist["sface"] / scales["sface"]
    report["fused"] = summarise(f"fused (dlib/{scales['dlib']:.4f} + sface/{scales['sface']:.4f})",
                                dist["fused"][genuine], dist["fused"][impostor])
    histogram(dist["fused"][genuine], dist["fused"][impostor])
    best = max(report, key=lambda m: (report[m]["tar_at_fmr"]["0.001"], report[m]["tar_at_fmr"]["0.01"]))
    thresholds = {m: report[m]["threshold_at_fmr"]["0.001"] for m in report}
    official_pairs(files_k, dist, thresholds)
    print(f"\ndefault model: {best} (highest TAR at FMR 0.1%); candidates are listed up to FMR 1% "
          f"(threshold {report[best]['threshold_at_fmr']['0.01']:.4f}) and ranked by distance")
    if args.small_faces:
        small_faces(files_k, ids_k, e | {"width": enc["width"][kept], "quality": enc["quality"][kept]},
                    {m: report[m]["threshold_at_fmr"]["0.01"] for m in report}, scales, args.detector,
                    args.workers)
    if args.detectors:
        detectors()
    if not (args.no_write or args.flip or args.limit or args.marks != "yunet" or args.wccn is not None):
        table = {"generated_by": "bench/face_eval.py", "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "data": "../shared/data/faces: LFW press photos (pairsDevTrain people) + deepface, face_recognition, "
                         "openface examples; adults, no age gap",
                 "population": "adults, no age gap",
                 "detector": args.detector, "version": str(enc["version"]), "images": len(files),
                 "encoded": int(ok.sum()), "fusion_scale": scales, "default_model": best, "default_max_fmr": 0.01,
                 "min_quality": min_quality,
                 "models": report}
        TABLE.parent.mkdir(parents=True, exist_ok=True)
        TABLE.write_text(json.dumps(table, indent=1) + "\n")
        print(f"wrote {TABLE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
