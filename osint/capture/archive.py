"""Web archives of captures: WARC records written with warcio, packaged as WACZ by py-wacz, checked and read back.

A WACZ is a zip holding the WARC (archive/), a CDXJ index (indexes/), the page list (pages/pages.jsonl) and
datapackage.json, which lists every file with its SHA-256; datapackage-digest.json holds the SHA-256 of
datapackage.json. ReplayWeb.page and the Webrecorder tools open it. `check_wacz` re-checks those digests
without extracting anything (for `osint evidence verify`); `wacz_responses` reads the archived responses back.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any
from urllib.parse import urlsplit

from osint import TOOL
from osint.capture.net import Fetched

RENAMED = {"transfer-encoding"}   # the body is stored de-chunked, so the header is kept under another name
MAX_MEMBER = 8 << 30


class WarcLog:
    """A gzipped WARC file being written: a warcinfo record, then request/response pairs."""

    def __init__(self, path: Path, description: str = ""):
        from warcio.warcwriter import WARCWriter

        self.path = path
        self._fh: IO[bytes] = open(path, "wb")
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="1.1")
        self.records = 0
        info = self._writer.create_warcinfo_record(path.name, {"software": TOOL, "format": "WARC File Format 1.1",
                                                                "description": description})
        self._write(info)

    def _write(self, record: Any) -> None:
        self._writer.write_record(record)
        self.records += 1

    def exchange(self, got: Fetched) -> None:
        """Write the request and the response of one exchange (the body from its file, unmodified); a file
        another tool fetched (yt-dlp) is one resource record under the URL it came from."""
        from warcio.statusandheaders import StatusAndHeaders

        if got.via:
            with open(got.body, "rb") as body:
                self._write(self._writer.create_warc_record(
                    got.url, "resource", payload=body, length=got.size, warc_content_type=got.content_type,
                    warc_headers_dict={"WARC-Date": got.fetched_at[:19] + "Z", "WARC-Source-URI": got.requested,
                                       "WARC-Tool": got.via}))
            return

        parts = urlsplit(got.url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = [("Host", parts.netloc), *[(k, v) for k, v in got.request_headers if k.lower() != "host"]]
        date = got.fetched_at[:19] + "Z"
        request = self._writer.create_warc_record(
            got.url, "request", payload=io.BytesIO(b""), length=0,
            http_headers=StatusAndHeaders(f"GET {target} {got.http_version}", req_headers,
                                          is_http_request=True),
            warc_headers_dict={"WARC-Date": date})
        headers = [(f"X-Archive-Orig-{k}" if k.lower() in RENAMED else k, v) for k, v in got.headers]
        with open(got.body, "rb") as body:
            response = self._writer.create_warc_record(
                got.url, "response", payload=body, length=got.size,
                http_headers=StatusAndHeaders(f"{got.status} {got.reason}".strip(), headers,
                                              protocol=got.http_version),
                warc_headers_dict={"WARC-Date": date})
            request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
            self._write(response)
        self._write(request)

    def close(self) -> None:
        self._fh.close()


@dataclass(frozen=True)
class Page:
    """One page entry of the WACZ page list (what ReplayWeb.page opens first)."""

    url: str
    ts: str
    title: str = ""
    text: str = ""


def make_wacz(warc: Path, out: Path, pages: Iterable[Page], title: str, description: str) -> Path:
    """Package one WARC as a WACZ at `out` with py-wacz (index, page list, datapackage and its digest)."""
    from wacz.main import create_wacz

    listing = out.with_suffix(".pages.jsonl")
    lines = [{"format": "json-pages-1.0", "id": "pages", "title": "Pages", "hasText": True}]
    lines += [{"url": p.url, "ts": p.ts, "title": p.title, "text": p.text} for p in pages]
    listing.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    res = SimpleNamespace(inputs=[str(warc)], output=str(out), pages=str(listing), copy_pages=True,
                          extra_pages=None, text=False, detect_pages=False, hash_type="sha256",
                          log_directory=None, split_seeds=False, ts=None, url=None, date=None, title=title,
                          desc=description, signing_url=None, signing_token=None)
    with contextlib.redirect_stdout(io.StringIO()) as said:
        code = create_wacz(res)
    listing.unlink(missing_ok=True)
    if code not in (0, None):
        raise RuntimeError(f"py-wacz could not package {warc.name}: {said.getvalue().strip()[-300:]}")
    return out


def check_wacz(source: Path | bytes | IO[bytes]) -> list[str]:
    """Problems with a WACZ's own digests (empty: intact): every file listed in datapackage.json with its
    SHA-256 and size, nothing unlisted, and datapackage-digest.json's hash of datapackage.json. Reads the
    zip in place and never extracts it."""
    problems: list[str] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"not a readable WACZ (zip): {exc}"]
    with zf:
        names = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        if "datapackage.json" not in names:
            return ["datapackage.json is missing"]
        try:
            package_bytes = zf.read("datapackage.json")
            package = json.loads(package_bytes)
            resources = {str(r["path"]): r for r in package["resources"]}
        except (ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            return [f"datapackage.json is unreadable: {exc}"]
        if "datapackage-digest.json" in names:
            try:
                digest = json.loads(zf.read("datapackage-digest.json"))
                expected = str(digest.get("hash", ""))
            except (ValueError, AttributeError, zipfile.BadZipFile) as exc:
                expected = f"(unreadable: {exc})"
            actual = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
            if expected != actual:
                problems.append(f"datapackage.json hashes to {actual}, datapackage-digest.json says {expected}")
        for path, info in sorted(names.items()):
            if path in ("datapackage.json", "datapackage-digest.json"):
                continue
            res = resources.get(path)
            if res is None:
                problems.append(f"{path} is not listed in datapackage.json")
                continue
            if info.file_size > MAX_MEMBER:
                problems.append(f"{path} declares {info.file_size:,} bytes: refused")
                continue
            try:
                h, size = hashlib.sha256(), 0
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                problems.append(f"{path} cannot be read: {exc}")
                continue
            if f"sha256:{h.hexdigest()}" != res.get("hash"):
                problems.append(f"{path} hashes to sha256:{h.hexdigest()}, datapackage.json says {res.get('hash')}")
            elif res.get("bytes") not in (None, size):
                problems.append(f"{path} holds {size} bytes, datapackage.json says {res.get('bytes')}")
        for path in sorted(set(resources) - set(names)):
            problems.append(f"{path} is listed in datapackage.json but absent")
    return problems


def wacz_responses(path: Path) -> dict[str, tuple[int, bytes]]:
    """Every archived response in a WACZ: URL -> (HTTP status, body bytes exactly as received)."""
    from warcio.archiveiterator import ArchiveIterator

    found: dict[str, tuple[int, bytes]] = {}
    with zipfile.ZipFile(path) as zf:
        for name in sorted(n for n in zf.namelist() if n.startswith("archive/")):
            with zf.open(name) as fh:
                for record in ArchiveIterator(fh):
                    if record.rec_type == "response":
                        status = int(record.http_headers.get_statuscode() or 0)
                        found[record.rec_headers.get_header("WARC-Target-URI")] = (
                            status, record.raw_stream.read())
    return found
