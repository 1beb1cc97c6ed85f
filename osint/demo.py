"""`osint demo`: build a small case from pictures installed packages ship, and run every stage on it.

Nothing is downloaded. The pictures come from scikit-image's bundled sample data: NASA's public-domain
portrait of astronaut Eileen Collins and Lav Varshney's CC0 cameraman (the demo's two "missing persons"),
and CC0/public-domain scenes (coffee, Chelsea the cat, a SpaceX launch). From them the demo generates what
investigators meet: the portrait placed into scenes, a repost chain (recompressed, trimmed, mirrored), both
persons in one photo, a video in which she appears after two seconds, photos with GPS in EXIF, and a launch
photo with no GPS that the landmark gallery locates. Then it ingests, hashes, matches faces, geolocates,
writes the review report, and exports a signed evidence bundle of every lead that it verifies. A stage
that fails or is not installed is reported and the rest go on.
"""

from __future__ import annotations

import importlib.util
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from osint.errors import OsintError

PERSON = "eileen-collins"
PERSON_NAME = "Eileen Collins (demo reference, NASA public-domain portrait)"
SECOND = "cameraman"
SECOND_NAME = "Cameraman (demo reference, CC0 photo by Lav Varshney)"
STAND_IN = "demo: a public-domain portrait of an adult stands in for a missing child's photo"
SOURCE_URL = "osint-demo: generated from scikit-image sample pictures"
COLLECTOR = "osint-demo"   # who "collected" the generated pictures; the person running the demo acts
# Where the demo pretends its photos were taken (EXIF GPS) and where the launch pad really is.
ROSTOV = (47.2357, 39.7015)
TAGANROG = (47.2362, 38.8969)
SLC40 = (28.5619, -80.5772)


class DemoError(OsintError):
    """The demo cannot build its inputs (e.g. scikit-image is not installed) or the folder is in use."""


@dataclass(frozen=True)
class Step:
    """One demo step: "ok", "failed" (with the reason) or "skipped" (stage not available), and its time."""

    name: str
    status: str
    detail: str
    seconds: float


@dataclass
class DemoResult:
    """Where everything is, and what each step did."""

    root: Path
    inputs: Path
    case: Path
    report: Path | None = None
    bundle: Path | None = None
    key: Path | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)


def _sample(name: str) -> np.ndarray:
    """An RGB sample picture that scikit-image installs with itself (read from its files, never fetched)."""
    from PIL import Image

    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise DemoError("the demo builds its pictures from scikit-image's bundled samples: pip install scikit-image")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except OSError as exc:
        raise DemoError(f"scikit-image's sample {name} cannot be read: {exc}") from None


def _resize(rgb: np.ndarray, width: int) -> np.ndarray:
    from PIL import Image

    height = round(rgb.shape[0] * width / rgb.shape[1])
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def _paste(scene: np.ndarray, part: np.ndarray, x: int, y: int) -> np.ndarray:
    """`part` placed into a copy of `scene` with a soft elliptical edge (a photo inside a photo)."""
    out = scene.astype(np.float32).copy()
    h, w = part.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    r = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    alpha = np.clip((1.0 - r) * 4, 0, 1)[..., None]
    out[y:y + h, x:x + w] = alpha * part + (1 - alpha) * out[y:y + h, x:x + w]
    return out.astype(np.uint8)


def _save(rgb: np.ndarray, path: Path, quality: int = 90, gps: tuple[float, float] | None = None,
          taken: str = "2024:06:01 13:32:00") -> Path:
    """Write a JPEG; with `gps`, also EXIF position (8 m stated error), GPS time (UTC) and local capture
    time `taken` at +03:00."""
    from datetime import datetime, timedelta

    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "osint demo", "generated scene"
    if gps:
        lat, lon = gps
        info = exif.get_ifd(0x8825)
        utc = datetime.strptime(taken, "%Y:%m:%d %H:%M:%S") - timedelta(hours=3)
        info.update({0: b"\x02\x03\x00\x00", 1: "N" if lat >= 0 else "S", 2: _dms(lat),
                     3: "E" if lon >= 0 else "W", 4: _dms(lon), 29: utc.strftime("%Y:%m:%d"),
                     7: (float(utc.hour), float(utc.minute), float(utc.second)), 31: 8.0})
        details = exif.get_ifd(0x8769)
        details[0x9003], details[0x9011] = taken, "+03:00"
    Image.fromarray(rgb).save(path, quality=quality, exif=exif)
    return path


def _dms(deg: float) -> tuple[float, float, float]:
    deg = abs(deg)
    d, m = int(deg), int((deg - int(deg)) * 60)
    return float(d), float(m), round((deg - d - m / 60) * 3600, 2)


def _video(path: Path, scenes: list[tuple[np.ndarray, float]], fps: int = 10) -> Path:
    """A short MP4 (MPEG-4 part 2) showing each picture for its seconds, 800 px wide."""
    import cv2

    frames = [(_resize(rgb, 800), seconds) for rgb, seconds in scenes]
    h = min(f.shape[0] for f, _ in frames)
    fourcc = cv2.VideoWriter_fourcc(*"mp4v")  # type: ignore[attr-defined]  # missing from cv2's stubs
    writer = cv2.VideoWriter(str(path), fourcc, fps, (800, h))
    for rgb, seconds in frames:
        for _ in range(round(seconds * fps)):
            writer.write(np.ascontiguousarray(rgb[:h, :, ::-1]))
    writer.release()
    return path


def make_inputs(folder: Path) -> dict[str, Path]:
    """Generate the demo's reference, collected and landmark pictures under `folder`; returns them by role."""
    astronaut, camera = _sample("astronaut.png"), _sample("camera.png")
    coffee, cat, rocket = _sample("coffee.png"), _sample("chelsea.png"), _sample("rocket.jpg")
    ref = _save(_resize(astronaut, 720), folder / "reference" / "eileen_collins.jpg", 95)
    ref2 = _save(_resize(camera[:400, 40:440], 720), folder / "reference" / "cameraman.jpg", 95)
    col = folder / "collected"
    post = _paste(_resize(coffee, 1280), _resize(astronaut, 300), 820, 180)
    original = _save(post, col / "channel_a" / "post_001.jpg", 90, ROSTOV)
    _save(_resize(post, 900), col / "channel_b" / "repost_of_001.jpg", 45)
    _save(post[12:-12, 20:-12], col / "channel_b" / "crop_of_001.jpg", 80)   # borders trimmed: hashes still link
    _save(post[:, ::-1], col / "channel_c" / "mirrored_001.jpg", 85)
    two = _paste(_paste(_resize(cat, 1280), _resize(astronaut, 220), 120, 300), _resize(camera, 300), 860, 220)
    _save(two, col / "channel_a" / "post_002_two_people.jpg", 88, TAGANROG, "2024:06:03 09:05:00")
    _save(_resize(camera, 900), col / "channel_c" / "cameraman.jpg", 88)
    h, w = rocket.shape[:2]
    _save(_resize(rocket[h // 8:, w // 10: w - w // 10], 1000), col / "channel_d" / "launch_site.jpg", 85)
    appears = _paste(_resize(coffee, 800), _resize(astronaut, 260), 480, 60)
    _video(col / "channel_d" / "clip.mp4", [(_resize(cat, 800), 2.0), (appears, 2.0)])
    landmark = _save(rocket, folder / "landmarks" / "slc40.jpg", 92)
    return {"reference": ref, "reference2": ref2, "collected": col, "landmark": landmark, "original": original}


def build_demo(root: Path | str, *, on_step: Callable[[Step], None] | None = None) -> DemoResult:
    """Build the demo case in `root` (which must not hold a case yet) and run every stage on it."""
    from osint.case import Case

    root = Path(root).absolute()
    if (root / "case" / "case.json").exists():
        raise DemoError(f"{root} already holds a demo case; choose another --out folder or remove it")
    result = DemoResult(root, root / "inputs", root / "case")
    state: dict[str, Any] = {}

    def step(name: str, action: Callable[[], str]) -> None:
        start = time.perf_counter()
        try:
            status, detail = "ok", action()
        except ImportError as exc:
            status, detail = "skipped", f"stage not available in this installation ({exc})"
        except Exception as exc:  # noqa: BLE001 - one failed step is reported, the demo goes on
            status, detail = "failed", f"{type(exc).__name__}: {exc}"
        done = Step(name, status, detail, round(time.perf_counter() - start, 2))
        result.steps.append(done)
        if on_step:
            on_step(done)

    inputs = make_inputs(result.inputs)
    case = Case.create(result.case, name="demo")
    try:
        step("ingest", lambda: _ingest(case, inputs))
        step("hash", lambda: _hash(case))
        step("faces", lambda: _faces(case, inputs, state))
        step("geolocate", lambda: _geolocate(case, inputs))
        step("report", lambda: _report(case, result))
        step("evidence", lambda: _evidence(case, result, state))
    finally:
        case.close()
    return result


def _ingest(case: Any, inputs: dict[str, Path]) -> str:
    from osint.ingest import add_paths

    summary = add_paths(case, [inputs["collected"]], collector=COLLECTOR, source_url=SOURCE_URL,
                        note="synthetic demo material")
    counts = summary.as_dict()
    if summary.failed:
        raise DemoError(f"{summary.failed} demo file(s) failed to ingest")
    return f"{counts['added']} photos and videos added to the case"


def _hash(case: Any) -> str:
    from osint.hashing import hash_case, repost_groups

    run = hash_case(case)
    groups = repost_groups(case)[1]
    largest = len(groups[0].members) if groups else 0
    return f"{run.computed} items hashed; {len(groups)} duplicate group(s), largest {largest}"


def _faces(case: Any, inputs: dict[str, Path], state: dict[str, Any]) -> str:
    from osint.facematch import FaceSettings, add_references, case_matches, scan_case

    settings = FaceSettings()
    for person, name, photo in ((PERSON, PERSON_NAME, inputs["reference"]),
                                (SECOND, SECOND_NAME, inputs["reference2"])):
        refs = add_references(case, person, [photo], name=name, settings=settings, note=STAND_IN)
        if not refs or refs[0].status != "ok":
            raise DemoError(f"the reference photo of {person} gave no usable face "
                            f"({refs[0].status if refs else 'nothing'})")
    scan_case(case, settings, case.items())
    matched = case_matches(case, settings)
    state["leads"] = sorted({c.face.item for c in matched.candidates} | {f.item for f in matched.refs.faces})
    return (f"{len(matched.faces)} faces encoded in collected items; {len(matched.candidates)} candidate(s) "
            "for review")


def _geolocate(case: Any, inputs: dict[str, Path]) -> str:
    from osint.geolocate import LocateOptions, add_landmarks, case_index, latest_results, locate_case

    add_landmarks(case, [(inputs["landmark"], *SLC40, "SpaceX launch complex 40, Cape Canaveral")])
    index = case_index(case)
    options = LocateOptions(landmark_index=index[0], landmark_features=index[1]) if index else LocateOptions()
    locate_case(case, options, case.items(media_type="image"))
    located = {r["source"]: {a["method"] for a in r.get("answers", []) if a.get("lat") is not None
                             and (a.get("evidence") or {}).get("verified") is not False}
               for r in latest_results(case)}
    methods = sorted({m for ms in located.values() for m in ms})
    return f"{sum(bool(m) for m in located.values())} of {len(located)} photos located ({', '.join(methods) or 'none'})"


def _report(case: Any, result: DemoResult) -> str:
    from osint.report import collect, write_report

    out = write_report(collect(case), result.root / "report.html")
    result.report = out.path
    return f"{out.candidates} candidate(s), {out.images} images, {out.size / 1e6:.1f} MB"


def _evidence(case: Any, result: DemoResult, state: dict[str, Any]) -> str:
    from osint.evidence import create_key, export_bundle, select_items, unlock, verify_bundle

    passphrase = secrets.token_urlsafe(16)
    keys = result.root / "keys"
    info = create_key("Demo evidence lead", passphrase, folder=keys)
    (keys / "PASSPHRASE-demo-only.txt").write_text(passphrase + "\n")
    result.key = info.path
    # No reviewer has confirmed anything in a demo, so the bundle holds the reference photos and every item with
    # a candidate (after review, `osint evidence export --person` takes a person's decided items).
    selection = select_items(case, prefixes=state["leads"]) if state.get("leads") else select_items(case, person=PERSON)
    bundle = export_bundle(case, selection, result.root / "evidence-demo.zip", unlock(info, passphrase))
    result.bundle = bundle.path
    check = verify_bundle(bundle.path, trusted=[info.fingerprint])
    if not check.ok:
        raise DemoError(f"the bundle just written does not verify: {check.verdict()}")
    return f"{bundle.items} item(s) signed and verified: {check.verdict()}"
