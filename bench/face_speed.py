"""Face throughput on real 1, 4 and 12 MP photos, ours against the naive way, all cores for both.

    python bench/face_speed.py            # 1, 4 and 12 MP
    python bench/face_speed.py --quick    # 3 photos per size

Photos: dlib's 9 PASCAL VOC group photos (43 hand-drawn face boxes, many children) enlarged to 1, 4 and
12 MP, plus the real camera photos of that size class in ../shared/data/faces (deepface, 4-5 and 12.6 MP,
one labelled face each). Naive: what face_recognition does, full-resolution dlib HOG with upsample 1, then
5-point landmarks and the ResNet encoding per face. Ours: `analyse_file` with the default settings
(YuNet on a reduced copy, dlib + SFace encodings, crops and context thumbnail). A labelled face counts as
found when a detection's centre lies on it and its width is 0.5-2x the labelled width.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "faces"
REAL = {4: ["images/Angelina_Jolie/deepface_img4.jpg", "images/deepface_p11/deepface_img31.jpg",
            "images/deepface_p08/deepface_img23.jpg", "images/deepface_p02/deepface_img54.jpg"],
        12: ["images/deepface_p03/deepface_img49.jpg"]}
sys.path.insert(0, str(ROOT))


def naive(path: str) -> list[tuple[int, int, int, int]]:
    """face_recognition's way: full-resolution HOG, upsample 1, then landmarks + encoding for each face."""
    import numpy as np
    from PIL import Image

    from osint.facematch import models

    rgb = np.asarray(Image.open(path).convert("RGB"))
    boxes = []
    for r in models.hog_detector()(rgb, 1):
        shape = models.shape_predictor()(rgb, r)
        np.asarray(models.resnet().compute_face_descriptor(rgb, shape, 1))
        boxes.append((r.left(), r.top(), r.width(), r.height()))
    return boxes


def ours(path: str) -> list[tuple[int, int, int, int]]:
    """The default: YuNet on a reduced copy, dlib + SFace encodings, crops and thumbnail."""
    from osint.facematch import analyse_file

    return [tuple(f.box) for f in analyse_file(path).faces if f.status == "ok"]


def ours_dlib(path: str) -> list[tuple[int, int, int, int]]:
    """The same work as naive (dlib encodings only), found our way."""
    from osint.facematch import FaceSettings, analyse_file

    return [tuple(f.box) for f in analyse_file(path, FaceSettings(encoder="dlib")).faces if f.status == "ok"]


def found(truth: list[tuple[float, float, float, float]], boxes: list[tuple[int, int, int, int]]) -> int:
    hits = 0
    for tx, ty, tw, th in truth:
        cx, cy = tx + tw / 2, ty + th / 2
        hits += any(abs(x + w / 2 - cx) < 0.5 * tw and abs(y + h / 2 - cy) < 0.6 * th and 0.5 < w / tw < 2
                    for x, y, w, h in boxes)
    return hits


def build(tmp: Path, mp: int, quick: bool) -> list[tuple[str, list]]:
    """Enlarged VOC photos with scaled boxes, and real photos of that size with their naive HOG face as truth."""
    from PIL import Image

    boxes = defaultdict(list)
    for r in csv.DictReader(open(DATA / "multi_face_boxes.csv")):
        boxes[r["file"]].append(tuple(int(r[k]) for k in ("left", "top", "width", "height")))
    out = []
    for f, truth in list(boxes.items())[:3 if quick else None]:
        im = Image.open(DATA / f).convert("RGB")
        s = (mp * 1e6 / (im.size[0] * im.size[1])) ** 0.5
        big = im.resize((round(im.size[0] * s), round(im.size[1] * s)), Image.Resampling.LANCZOS)
        path = tmp / f"{mp}mp_{Path(f).name}"
        big.save(path, quality=92)
        out.append((str(path), [tuple(v * s for v in b) for b in truth]))
    for f in REAL.get(mp, [])[:1 if quick else None]:
        out.append((str(DATA / f), None))
    return out


def run(pool: ProcessPoolExecutor, fn, paths: list[str]) -> tuple[float, list]:
    t0 = time.perf_counter()
    res = list(pool.map(fn, paths))
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    if not DATA.is_dir():
        print(f"skipped: {DATA} is not present")
        return
    print(f"{args.workers} worker processes (all cores), models loaded once per worker before timing")
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.workers) as pool:
        warm = [str(DATA / "images/_multi/fr_two_people.jpg")] * args.workers * 2
        for fn in (naive, ours, ours_dlib):
            list(pool.map(fn, warm))
        for mp in (1, 4, 12):
            photos = build(Path(tmp), mp, args.quick)
            paths = [p for p, _ in photos]
            t_naive, r_naive = run(pool, naive, paths)
            t_ours, r_ours = run(pool, ours, paths)
            t_dlib, r_dlib = run(pool, ours_dlib, paths)
            labelled = sum(len(t) for _, t in photos if t)
            hit_n = sum(found(t, b) for (_, t), b in zip(photos, r_naive) if t)
            hit_o = sum(found(t, b) for (_, t), b in zip(photos, r_ours) if t)
            real = [(b_n, b_o) for (_, t), b_n, b_o in zip(photos, r_naive, r_ours) if t is None]
            real_kept = sum(found([tuple(map(float, b)) for b in b_n], b_o) for b_n, b_o in real)
            real_n = sum(len(b_n) for b_n, _ in real)
            n = len(paths)
            f_n, f_o = sum(map(len, r_naive)), sum(map(len, r_ours))
            print(f"\n{mp:2d} MP: {n} photos ({n - len(real)} enlarged VOC with {labelled} labelled faces, {len(real)} real)")
            print(f"  naive: {n / t_naive:6.2f} images/s {f_n / t_naive:6.2f} faces/s  labelled faces found {hit_n}/{labelled}")
            print(f"  ours : {n / t_ours:6.2f} images/s {f_o / t_ours:6.2f} faces/s  labelled faces found {hit_o}/{labelled}"
                  f"; of naive's {real_n} faces on real photos, ours found {real_kept}")
            print(f"  ours, dlib encodings only (naive's work): {n / t_dlib:6.2f} images/s {sum(map(len, r_dlib)) / t_dlib:6.2f} "
                  f"faces/s  labelled faces found {sum(found(t, b) for (_, t), b in zip(photos, r_dlib) if t)}/{labelled}")
            print(f"  speed-up {t_naive / t_ours:.1f}x (default, also SFace), {t_naive / t_dlib:.1f}x (same encodings)")


if __name__ == "__main__":
    main()
