"""Matching without a case: a folder of reference photos (one subfolder per person) against collected files.

Nothing is stored and nothing is cached: each file is analysed once in memory. For repeated work, a case
(`osint init`, `osint add`, `osint refs add`, `osint match`) caches every face and keeps custody.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from osint.facematch.ages import dated, file_date
from osint.facematch.analyse import FaceSettings, analyse_file, without_images
from osint.facematch.faceset import FaceSet, concat, from_result
from osint.facematch.gallery import RefPhoto, choose_face
from osint.facematch.match import Candidate
from osint.facematch.tracks import match_media


@dataclass
class FolderMatch:
    """Outcome of `match_folders`: candidates, what happened to each reference photo, per-file errors
    (path, reason), and counts of media files analysed and faces encoded in them."""

    candidates: list[Candidate] = field(default_factory=list)
    references: list[RefPhoto] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    analysed: int = 0
    faces: int = 0


def media_files(paths: Iterable[Path | str], errors: list[tuple[str, str]]) -> Iterator[Path]:
    """Photos and videos under `paths` (recognised by content); unreadable or damaged-looking files are
    appended to `errors`, files that are plainly not media (and not named like media) are skipped."""
    from osint.errors import UnsupportedMedia
    from osint.ingest import MEDIA_SUFFIXES, walk
    from osint.media import sniff_file

    for path, problem in walk(paths):
        if problem:
            errors.append((str(path), problem))
            continue
        try:
            sniff_file(path)
        except OSError as exc:
            errors.append((str(path), exc.strerror or str(exc)))
            continue
        except UnsupportedMedia as exc:
            if path.suffix.lower() in MEDIA_SUFFIXES:
                errors.append((str(path), f"named {path.suffix} but {exc}"))
            continue
        yield path


def _analyse_light(path: Path, settings: FaceSettings) -> Any:
    """Analyse a file and drop its crops (nothing is stored outside a case)."""
    return without_images(analyse_file(path, settings))


def match_folders(refs: Path | str, paths: Iterable[Path | str], *, settings: FaceSettings = FaceSettings(),
                  executor: Any = None, model: str | None = None, max_fmr: float | None = None, top: int = 3,
                  on_file: Callable[[str, str | None], None] | None = None) -> FolderMatch:
    """Analyse `refs/<person>/*` and every media file under `paths`, then match as in a case."""
    from osint.pipeline import InlineExecutor

    executor = executor or InlineExecutor()
    result = FolderMatch()
    ref_files = [(folder.name, p) for folder in sorted(Path(refs).iterdir()) if folder.is_dir()
                 for p in media_files([folder], result.errors)]
    if not ref_files:
        result.errors.append((str(refs), "no reference photos: expected one subfolder of photos per person"))
    collected = list(media_files(paths, result.errors))
    compute = functools.partial(_analyse_light, settings=settings)
    owner = {p: person for person, p in ref_files}
    ref_sets, owners, found = [], [], []
    for path, data, error in executor.run(compute, [p for _, p in ref_files] + collected):
        if on_file:
            on_file(str(path), error)
        if error:
            result.errors.append((str(path), error))
            if path in owner:
                result.references.append(RefPhoto(owner[path], str(path), None, "failed", error=error))
            continue
        fs = from_result(str(path), data, settings.models)
        if path in owner:
            photo = choose_face(owner[path], str(path), None,
                                [{"index": f.index, "box": list(f.box), "status": f.status} for f in data.faces],
                                None)
            result.references.append(photo)
            if photo.status == "ok":
                ref_sets.append(fs.take([i for i, f in enumerate(fs.faces) if f.index == photo.face]))
                owners.append(owner[path])
        else:
            result.analysed += 1
            result.faces += len(fs)
            found.append(fs)
    refs_set: FaceSet = concat(ref_sets, settings.models)
    result.candidates = dated(match_media(concat(found, settings.models), refs_set, owners, model=model, max_fmr=max_fmr,
                                    top=top), {}, file_date)
    return result
