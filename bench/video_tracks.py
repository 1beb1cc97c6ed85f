"""Video tracks on real clips: how many tracks per clip against the people in it, and whether the right person
ranks first for a track, with the lines a reviewer reads per frame (before) and per track (now).

    python bench/video_tracks.py                 # every clip in ../shared/data/video, sampled every 1 s
    python bench/video_tracks.py --every 0.5     # denser sampling: more frames to link

References: the two Hamilton cast stills (video/hamilton) plus one photo each of the first `--gallery` persons
of ../shared/data/faces/images with a usable face, so "ranks first" is among that many persons. People per
clip: our own count from viewing the sampled frames (video/SOURCE.md says what the source states). Every
reference person is scored with the adult table (the cast and the press photos are adults of the same years).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

CLIPS = {  # clip -> the people whose faces the sampled frames show, as we counted them on every frame (1 s)
    "hamilton/short_hamilton_clip.mp4": "about 15: Lin-Manuel Miranda (0.0 s, 3.0-7.0 s; must rank first), a "
                                        "bearded man, a profile, 5 dark blurred and 7 lit audience faces",
    "facenet_pytorch/video.mp4": "about 12 (unknown people walking towards the camera) and a crest the "
                                 "detector takes for a face",
    "no_known_faces/MOT20-05-raw_even_shorter.mp4": "night crowd from above: no face",
    "no_known_faces/vtest.avi": "plaza from above: no face",
}
CAST = {"LMM": "hamilton/ref_Lin_Manuel_Miranda.png", "ALEX": "hamilton/ref_Alex_Lacamoire.png"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=float, default=1.0, help="seconds between sampled frames (default 1.0)")
    ap.add_argument("--gallery", type=int, default=48, help="other reference persons from faces/images (default 48)")
    args = ap.parse_args()
    from osint.facematch import FaceSettings, analyse_file, from_result, link_tracks, match, match_media
    from osint.facematch.faceset import concat
    from osint.facematch.gallery import choose_face

    if not DATA.is_dir():
        sys.exit("../shared/data is not present")
    settings = FaceSettings(every_s=args.every)
    ref_files = {p: DATA / "video" / f for p, f in CAST.items()}
    for folder in sorted((DATA / "faces" / "images").iterdir()):
        if len(ref_files) >= 2 + args.gallery:
            break
        photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        if folder.name.startswith("_") or folder.name in ("Lin_Manuel_Miranda", "Alex_Lacamoire") or not photos:
            continue
        ref_files[folder.name] = photos[0]
    sets, owners = [], []
    for person, path in ref_files.items():
        data = analyse_file(path, settings)
        fs = from_result(str(path), data, settings.models)
        pick = choose_face(person, str(path), None, [{"index": f.index, "box": list(f.box), "status": f.status}
                                                      for f in data.faces], None)
        if pick.status == "ok":
            sets.append(fs.take([i for i, f in enumerate(fs.faces) if f.index == pick.face]))
            owners.append(person)
    refs = concat(sets, settings.models)
    adults = {p: "adults" for p in owners}       # the cast and the press photos: adults, photos of the same years
    print(f"{len(owners)} reference persons (2 cast stills + {len(owners) - 2} from faces/images); "
          f"sampling every {args.every} s and at scene changes; model fused (default)\n")
    print("| clip | people seen | frames sampled | faces encoded | most faces in one frame | tracks "
          "(of >= 2 faces) | candidate lines per frame -> per track | rank-1 person per track |")
    print("|---|---|---|---|---|---|---|---|")
    for clip, people in CLIPS.items():
        path = DATA / "video" / clip
        start = time.perf_counter()
        data = analyse_file(path, settings)
        took = time.perf_counter() - start
        faces = from_result(clip, data, settings.models)
        tracks, _ = link_tracks(faces)
        per_frame = match(faces, refs, owners, tables=adults)
        per_track = match_media(faces, refs, owners, tables=adults)
        per_frame_t = {}
        for f in faces.faces:
            per_frame_t[(f.t, f.frame)] = per_frame_t.get((f.t, f.frame), 0) + 1
        firsts = sorted((c for c in per_track if c.rank == 1), key=lambda c: c.track.start if c.track else 0)
        ranked = "; ".join(f"track {c.track.number} ({c.track.span()}, {c.track.faces} faces): {c.person} "
                           f"d={c.distance:.3f}" for c in firsts if c.track) or "none within threshold"
        print(f"| {Path(clip).name} | {people} | {data.frames_sampled} | {len(faces)} | "
              f"{max(per_frame_t.values(), default=0)} | {len(tracks)} ({sum(t.faces >= 2 for t in tracks)}) | "
              f"{len(per_frame)} -> {len(per_track)} | {ranked} |", flush=True)
        print(f"<!-- {clip}: analysed in {took:.1f} s; tracks: "
              + ", ".join(f"{t.number}: {t.span()} x{t.faces}" for t in tracks) + " -->", flush=True)


if __name__ == "__main__":
    main()
