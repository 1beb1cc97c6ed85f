"""Write a `ReportData` as one self-contained HTML file: data and images inlined, no network, no CDN.

The page holds the report as JSON and every image once (as a data: URI keyed by content), and draws one page
of cards at a time, so a case with thousands of candidates opens quickly and only the shown images decode.
A Content-Security-Policy forbids the page every network request (images may only be data: URIs).
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from osint import TOOL
from osint.report.model import ImageSource, ReportData

FORMAT = "osint-report/1"
PAGE_SIZE = 24          # candidate cards / groups / table rows drawn per page
MAX_SIDE = 320          # embedded images larger than this (pixels) are reduced to it: the page shows them at <= 320
SHRINK_QUALITY = 80     # JPEG quality of reduced images
_MIME = {b"\xff\xd8": "image/jpeg", b"\x89P": "image/png", b"GI": "image/gif", b"RI": "image/webp"}


@dataclass(frozen=True)
class ReportFile:
    """A written report: where, its size in bytes, how many candidates and embedded images, what is missing."""

    path: Path
    size: int
    candidates: int
    images: int
    missing_images: tuple[str, ...]


def _asset(name: str) -> str:
    return (resources.files("osint.report") / "static" / name).read_text(encoding="utf-8")


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: no '<' can close it or open a comment."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def data_uri(source: ImageSource, max_side: int | None = None) -> str | None:
    """An image as a data: URI (type from its first bytes), reduced to `max_side` pixels (as JPEG) if larger;
    None when the file is missing or not an image."""
    try:
        raw = source.read_bytes() if isinstance(source, Path) else source
    except OSError:
        return None
    mime = _MIME.get(raw[:2])
    if mime is None:
        return None
    if max_side:
        raw, mime = _fit(raw, mime, max_side)
    return f"data:{mime};base64," + base64.b64encode(raw).decode("ascii")


def _fit(raw: bytes, mime: str, max_side: int) -> tuple[bytes, str]:
    """The image reduced to fit `max_side` (JPEG), or unchanged when it fits or cannot be decoded."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(raw)) as img:
            if max(img.size) <= max_side:
                return raw, mime
            img.draft("RGB", (max_side, max_side))
            small = img.convert("RGB")
            small.thumbnail((max_side, max_side))
    except (OSError, ValueError, Image.DecompressionBombError):
        return raw, mime
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=SHRINK_QUALITY)
    return buf.getvalue(), "image/jpeg"


def render_html(data: ReportData, *, blur: bool = True, page_size: int = PAGE_SIZE, max_side: int = MAX_SIDE,
                generated_at: str | None = None) -> tuple[str, int, tuple[str, ...]]:
    """The report page as text, with the number of embedded images and the keys of unreadable ones.

    `blur` sets the default of the page's "blur and grey images until clicked" setting; images larger than
    `max_side` pixels are embedded reduced (face crops are 160 px and stay as they are)."""
    images: dict[str, str] = {}
    missing = []
    for key, source in data.images.items():
        uri = data_uri(source, max_side)
        if uri is None:
            missing.append(key)
        else:
            images[key] = uri
    doc = {
        "format": FORMAT, "tool": TOOL, "case": {"id": data.case_id, "name": data.case_name},
        "generated_at": generated_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "page_size": page_size, "blur": blur,
        "persons": [dataclasses.asdict(p) for p in data.persons],
        "candidates": [dataclasses.asdict(c) for c in data.candidates],
        "decisions": [dataclasses.asdict(d) for d in data.decisions],
        "groups": [dataclasses.asdict(g) for g in data.groups],
        "located": [dataclasses.asdict(loc) for loc in data.located],
        "known": [dataclasses.asdict(k) for k in data.known],
        "custody": None if data.custody is None else dataclasses.asdict(data.custody),
        "notes": list(data.notes) + ([f"{len(missing)} image(s) could not be read from the case and are "
                                      f"shown as 'no image'"] if missing else []),
    }
    title = f"osint review report: {data.case_name}"
    parts = {"TITLE": _escape(title), "CSS": _asset("report.css"), "JS": _asset("report.js"),
             "DATA": _script_json(doc), "IMAGES": _script_json(images), "MAP": data.map_html or ""}
    page = re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _asset("report.html"))
    return page, len(images), tuple(missing)


def write_report(data: ReportData, out: Path | str, *, blur: bool = True, page_size: int = PAGE_SIZE,
                 max_side: int = MAX_SIDE) -> ReportFile:
    """Render `data` and write it to `out` atomically (a partial file never replaces a good one)."""
    out = Path(out)
    page, n_images, missing = render_html(data, blur=blur, page_size=page_size, max_side=max_side)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return ReportFile(out, out.stat().st_size, len(data.candidates), n_images, missing)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
