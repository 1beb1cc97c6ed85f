"""Video pages (YouTube, Rutube, OK.ru, VK Video, or any page with `--video`) through yt-dlp used as a library.

yt-dlp finds the video file behind a player page and downloads it; its metadata (id, title, description,
uploader, upload date, duration, format) is kept in the capture record. It goes through the same proxy, with
the same User-Agent, size limit and timeout as every other request, one file with audio and video (no
ffmpeg merging), no playlists. Its own requests are not in the WARC: the page is (fetched by osint), and the
downloaded file is archived as a WARC resource record under the URL yt-dlp took it from.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from osint.capture.net import HEAD, CaptureError, Fetched, NetOptions, now_iso

KEPT = ("id", "title", "fulltitle", "description", "uploader", "uploader_id", "uploader_url", "channel", "channel_id",
        "channel_url", "upload_date", "timestamp", "release_timestamp", "duration", "view_count", "like_count",
        "webpage_url", "original_url", "extractor", "extractor_key", "format_id", "format", "ext", "width", "height",
        "fps", "vcodec", "acodec", "filesize", "url", "tags", "categories", "location")


@dataclass(frozen=True)
class Downloaded:
    """A video yt-dlp fetched: the file as a `Fetched` (via "yt-dlp ...") and the metadata it reported."""

    file: Fetched
    info: dict[str, Any]


def ytdlp_version() -> str:
    try:
        from yt_dlp.version import __version__

        return str(__version__)
    except ImportError:
        return ""


def download_video(url: str, workdir: Path, net: NetOptions) -> Downloaded:
    """Download the video of the page at `url` with yt-dlp; CaptureError (one line) when it cannot."""
    try:
        import yt_dlp
    except ImportError:
        raise CaptureError("video pages need yt-dlp (pip install yt-dlp)") from None
    folder = workdir / f"ytdlp-{hashlib.sha256(url.encode()).hexdigest()[:12]}"
    folder.mkdir(exist_ok=True)
    opts: dict[str, Any] = {
        "outtmpl": str(folder / "video.%(ext)s"), "format": "best[ext=mp4]/best", "noplaylist": True,
        "max_filesize": net.max_bytes, "socket_timeout": net.read_timeout, "retries": 1, "extractor_retries": 1,
        "http_headers": {"User-Agent": net.user_agent, "Accept-Language": "uk,ru;q=0.8,en;q=0.6"},
        "quiet": True, "no_warnings": True, "noprogress": True, "logger": _Quiet(), "cachedir": False,
        "sleep_interval_requests": (1.0 / net.rate) if net.rate > 0 else 0,
    }
    if net.proxy:
        opts["proxy"] = net.proxy
    started, when = time.monotonic(), now_iso()
    try:
        with yt_dlp.YoutubeDL(opts) as ydl:
            info = ydl.extract_info(url, download=True)
    except Exception as exc:  # noqa: BLE001 - yt-dlp raises many kinds; each is one line for this URL
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CaptureError(f"yt-dlp could not fetch the video: {text.removeprefix('ERROR: ')[:300]}") from None
    if not info:
        raise CaptureError("yt-dlp found no video on the page")
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            raise CaptureError("yt-dlp found no video on the page")
        info = entries[0]
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.endswith((".part", ".ytdl"))]
    if not files:
        raise CaptureError(f"yt-dlp downloaded nothing (larger than --max-size {net.max_bytes:,} bytes?)")
    path = files[0]
    digest, size, head = hashlib.sha256(), 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            head = head or chunk[:HEAD]
            digest.update(chunk)
            size += len(chunk)
    media_url = str(info.get("url") or info.get("webpage_url") or url)
    got = Fetched(media_url, url, 200, "", (("Content-Type", f"video/{info.get('ext') or 'mp4'}"),), path, size,
                  digest.hexdigest(), head, when, time.monotonic() - started, via=f"yt-dlp {ytdlp_version()}")
    return Downloaded(got, {k: info[k] for k in KEPT if info.get(k) is not None})


class _Quiet:
    """yt-dlp's logger: say nothing (failures come back as exceptions)."""

    def debug(self, msg: str) -> None:
        pass

    def info(self, msg: str) -> None:
        pass

    def warning(self, msg: str) -> None:
        pass

    def error(self, msg: str) -> None:
        pass
