"""Capturing URLs into a case: plan, fetch, render, archive, store, log; resumable after a kill.

Each capture (a plain page, a direct media URL, one Telegram or VK post) is stored in one SQLite
transaction: its media as collected items through ingest (same dedup and custody as `osint add`, the
acquisition naming the media URL with the capture id, the post or page URL, the collector and the HTTP
status), and a `capture` record logged by one custody entry naming what was fetched, from where, with which
tools, and the SHA-256 of every stored file. The WACZ and the screenshot are content-addressed files under
derived/, written before that transaction. A run is a `capture-run` record: a run killed part-way is
resumed by the same command (captures it finished are skipped, capture ids are the same), while a run that
finished is captured anew by the next one (new acquisitions, never new copies of unchanged media).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from osint import TOOL
from osint.capture.archive import Page, WarcLog, make_wacz
from osint.capture.browser import Browser, Rendered, browser_versions, maybe_browser
from osint.capture.net import CaptureError, Fetched, Fetcher, NetOptions, check_url
from osint.capture.parse import MEDIA_EXT, Listing, MediaRef, Post, detect, read_page, read_telegram, read_vk, \
    telegram_channel_url
from osint.case import Case, canonical_sha256, default_actor, utcnow
from osint.errors import UnsupportedMedia
from osint.media import sniff

CAPTURE_KIND = "capture"
MAX_HTML = 32 << 20             # a page's HTML larger than this is refused (media may be up to --max-size)
RUN_KIND = "capture-run"
TELEGRAM_HOSTS = {"t.me", "telegram.me", "www.t.me"}
VK_HOSTS = {"vk.com", "m.vk.com", "www.vk.com", "vk.ru", "m.vk.ru"}
UNSUPPORTED = {
    "instagram.com": "Instagram shows posts only to logged-in accounts",
    "facebook.com": "Facebook shows posts only to logged-in accounts",
    "x.com": "X (Twitter) shows posts only to logged-in accounts",
    "twitter.com": "X (Twitter) shows posts only to logged-in accounts",
    "tiktok.com": "TikTok pages are built by scripts and need an account for most media",
}
VIDEO_HOSTS = {"youtube.com", "youtu.be", "rutube.ru", "ok.ru", "vkvideo.ru", "dzen.ru", "vimeo.com"}
SUPPORTED = ("web pages (http/https) with their photos and videos", "direct photo and video URLs",
             "public Telegram channels and posts (t.me/s/CHANNEL web preview)", "public VK walls and posts",
             "video pages through yt-dlp (YouTube, Rutube, OK.ru, VK Video; any page with --video)")


@dataclass(frozen=True)
class CaptureOptions:
    """What to capture and how. Dates bound post dates (inclusive); `browser` False skips screenshots."""

    net: NetOptions = field(default_factory=NetOptions)
    collector: str = ""
    since: date | None = None
    until: date | None = None
    browser: bool = True
    max_pages: int = 100           # listing pages walked per channel or wall
    max_media: int = 100           # media fetched per post or page
    video: bool = False            # fetch every URL as a video page, with yt-dlp


@dataclass(frozen=True)
class Planned:
    """What `--dry-run` shows for one input: the URL to fetch, its kind, the host, or why it is refused."""

    url: str
    fetch: str
    kind: str
    host: str
    refused: str = ""


@dataclass(frozen=True)
class MediaOutcome:
    """One media URL of a capture: the stored item (or why not)."""

    url: str
    status: str                 # "added", "new-source", "already", "failed", "skipped"
    sha256: str | None = None
    http_status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class CaptureOutcome:
    """One capture (or one input that failed before any capture): status "captured", "done-before",
    "failed" or "skipped"."""

    input: str
    status: str
    url: str = ""
    capture_id: str = ""
    source: str = ""
    post_date: str = ""
    title: str = ""
    media: tuple[MediaOutcome, ...] = ()
    wacz_sha256: str = ""
    screenshot_sha256: str = ""
    error: str = ""
    notes: tuple[str, ...] = ()


@dataclass
class CaptureSummary:
    """Every outcome of a run, the hosts contacted, and where time went."""

    run_id: str = ""
    resumed: bool = False
    outcomes: list[CaptureOutcome] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    browser_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> int:
        return self.count("failed") + sum(1 for o in self.outcomes for m in o.media if m.status == "failed")


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def classify(url: str) -> tuple[str, str]:
    """(kind, URL to fetch) by the URL's shape: "telegram", "vk", "web" (a page or a media file).
    Raises CaptureError for sources known not to work without an account or a downloader."""
    host = _host(url)
    bare = host.removeprefix("www.")
    for name, why in UNSUPPORTED.items():
        if bare == name or bare.endswith("." + name):
            raise CaptureError(f"unsupported source {name}: {why}. Supported: {'; '.join(SUPPORTED)}")
    if any(bare == h or bare.endswith("." + h) for h in VIDEO_HOSTS) or \
            (host in VK_HOSTS and urlsplit(url).path.startswith(("/video", "/clip"))):
        return "video", url
    if host in TELEGRAM_HOSTS:
        return "telegram", telegram_channel_url(url)
    if host in VK_HOSTS:
        return "vk", url
    return "web", url


def plan(urls: Iterable[str], options: CaptureOptions) -> list[Planned]:
    """What a run would fetch, without connecting to anything (names are not even resolved)."""
    out = []
    for url in urls:
        try:
            check_url(url, allow_private=options.net.allow_private, proxied=True)
            kind, fetch = classify(url)
            out.append(Planned(url, fetch, kind, _host(fetch)))
        except CaptureError as exc:
            out.append(Planned(url, "", "", _host(url), str(exc)))
    return out


def _in_range(post_date: str, options: CaptureOptions) -> bool:
    if not post_date or not (options.since or options.until):
        return True
    day = datetime.fromisoformat(post_date.replace("Z", "+00:00")).date()
    return not ((options.since and day < options.since) or (options.until and day > options.until))


def _older_than_since(post_date: str, options: CaptureOptions) -> bool:
    if not post_date or not options.since:
        return False
    return datetime.fromisoformat(post_date.replace("Z", "+00:00")).date() < options.since


def _tools(browser: Browser | None) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    tools = {"osint": TOOL}
    for pkg in ("requests", "warcio", "wacz", "beautifulsoup4", "yt-dlp"):
        try:
            tools[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    if browser is not None:
        tools |= browser_versions()
        tools["browser"] = browser.version
    return tools


class _Run:
    """One capture run over a list of URLs, against one case."""

    def __init__(self, case: Case, options: CaptureOptions, fetcher: Fetcher, browser: Browser | None,
                 workdir: Path, run_id: str, done: set[str], summary: CaptureSummary,
                 on_outcome: Callable[[CaptureOutcome], None]):
        self.case, self.options, self.fetcher, self.browser = case, options, fetcher, browser
        self.workdir, self.run_id, self.done, self.summary = workdir, run_id, done, summary
        self.on_outcome = on_outcome
        self.tools = _tools(browser)

    def emit(self, outcome: CaptureOutcome) -> None:
        self.summary.outcomes.append(outcome)
        self.on_outcome(outcome)

    # ---- one input ---------------------------------------------------------------------------------
    def capture_input(self, url: str) -> None:
        try:
            check_url(url, allow_private=self.options.net.allow_private, proxied=bool(self.options.net.proxy))
            kind, start = classify(url)
        except CaptureError as exc:
            self.emit(CaptureOutcome(url, "failed", error=str(exc)))
            return
        if kind == "video" or self.options.video:
            self.capture_video(url)
            return
        mark = len(self.fetcher.log)
        try:
            first = self.fetcher.fetch(start, limit=self.options.net.max_bytes)
        except CaptureError as exc:
            self.emit(CaptureOutcome(url, "failed", url=start, error=str(exc)))
            return
        try:
            sniff(first.head)
            is_media = True
        except UnsupportedMedia:
            is_media = False
        if is_media:
            post = Post(url=first.url, date="", text="", media=(MediaRef(first.url),), title="")
            self.capture_posts(url, "media", first, self.fetcher.log[mark:], [post], {first.url: first},
                               render=False)
            return
        claimed = first.content_type.split("/")[0]
        if claimed in ("image", "video") or MEDIA_EXT.search(urlsplit(first.url).path):
            self.emit(CaptureOutcome(url, "failed", url=first.url, error=(
                f"served as {first.content_type or 'a media file name'} but the bytes are not a photo or video "
                f"(they start {first.head[:16]!r})")))
            return
        if first.size > MAX_HTML:
            self.emit(CaptureOutcome(url, "failed", url=first.url, error=(
                f"not a photo or video, and at {first.size:,} bytes too large for a web page (limit {MAX_HTML:,})")))
            return
        html = first.text()
        found = detect(html, first.url) if kind == "web" else kind
        if found == "web":
            self.capture_posts(url, "web", first, self.fetcher.log[mark:], [read_page(html, first.url)],
                               {first.url: first, start: first})
            return
        self.walk_listing(url, found, first, self.fetcher.log[mark:])

    def capture_video(self, url: str) -> None:
        """A video page: the page fetched and archived by osint, the video file and its metadata by yt-dlp."""
        from osint.capture.video import download_video

        mark = len(self.fetcher.log)
        try:
            page = self.fetcher.fetch(url)
            got = download_video(url, self.workdir, self.options.net)
        except CaptureError as exc:
            self.emit(CaptureOutcome(url, "failed", url=url, source="video", error=str(exc)))
            return
        info = got.info
        when = info.get("timestamp") or info.get("release_timestamp") or ""
        day = str(info.get("upload_date") or "")
        date = _iso_time(when) or (f"{day[:4]}-{day[4:6]}-{day[6:8]}T00:00:00Z" if len(day) == 8 else "")
        post = Post(url=str(info.get("webpage_url") or url), date=date, text=str(info.get("description") or ""),
                    media=(MediaRef(got.file.url, "video"),), title=str(info.get("title") or ""))
        self.capture_posts(url, "video", page, self.fetcher.log[mark:], [post], {got.file.url: got.file},
                           extra={"video": info})

    def walk_listing(self, url: str, source: str, first: Fetched, exchanges: list[Fetched]) -> None:
        """Walk a channel or wall page by page (older pages), capturing each post in the date range."""
        got, seen = first, {first.url}
        for _ in range(self.options.max_pages):
            html = got.text()
            listing: Listing = read_telegram(html, got.url) if source == "telegram" else read_vk(html, got.url)
            if not listing.posts:
                self.emit(CaptureOutcome(url, "failed", url=got.url, source=source,
                                         error=f"no {source} posts found on the page (not a public channel or "
                                               "wall, or its layout changed)"))
                return
            only = _single_post(url) if source == "telegram" else None
            wanted = [replace(p, title=p.title or listing.title) for p in listing.posts
                      if _in_range(p.date, self.options) and (only is None or p.url.rstrip("/").endswith(only))]
            if only is not None:   # one post's URL: that post alone, from the channel page that shows it
                if not wanted:
                    self.emit(CaptureOutcome(url, "failed", url=got.url, source=source,
                                             error=f"post {only} is not on the channel's public page"))
                else:
                    self.capture_posts(url, source, got, exchanges, wanted[:1], {got.url: got})
                return
            self.capture_posts(url, source, got, exchanges, wanted, {got.url: got})
            for old in self.workdir.glob("*.body"):   # this page's posts are stored: free their bodies
                old.unlink(missing_ok=True)
            self.fetcher.log.clear()
            if all(_older_than_since(p.date, self.options) for p in listing.posts if p.date) and \
                    any(p.date for p in listing.posts):
                return
            if not listing.older or listing.older in seen:
                return
            seen.add(listing.older)
            mark = len(self.fetcher.log)
            try:
                got = self.fetcher.fetch(listing.older)
            except CaptureError as exc:
                self.emit(CaptureOutcome(url, "failed", url=listing.older, source=source,
                                         error=f"older page: {exc}"))
                return
            exchanges = self.fetcher.log[mark:]

    # ---- posts -------------------------------------------------------------------------------------
    def capture_posts(self, url: str, source: str, page: Fetched, page_exchanges: list[Fetched],
                      posts: list[Post], cache: dict[str, Fetched], render: bool = True,
                      extra: dict[str, Any] | None = None) -> None:
        """Fetch each post's media, render the page once for all its screenshots, then store each post."""
        todo = []
        for post in posts:
            if post.url in self.done:
                self.emit(CaptureOutcome(url, "done-before", url=post.url, source=source,
                                         capture_id=self.capture_id(post.url)))
                continue
            todo.append(post)
        if not todo:
            return
        fetched: dict[str, list[tuple[MediaRef, Fetched | None, list[Fetched], str]]] = {}
        for post in todo:
            items: list[tuple[MediaRef, Fetched | None, list[Fetched], str]] = []
            for ref in post.media[:self.options.max_media]:
                mark = len(self.fetcher.log)
                try:
                    hit = cache.get(ref.url) or self.fetcher.fetch(ref.url)
                    cache[ref.url] = hit
                    items.append((ref, hit, self.fetcher.log[mark:], ""))
                except CaptureError as exc:
                    items.append((ref, None, self.fetcher.log[mark:], str(exc)))
            fetched[post.url] = items
        rendered: Rendered | None = None
        notes: list[str] = []
        shared: list[Fetched] = []
        if render and self.browser is not None:
            mark = len(self.fetcher.log)
            selectors = tuple(dict.fromkeys(p.selector for p in todo))
            rendered = self.browser.render(page.url, self.fetcher, cache, selectors)
            self.summary.browser_seconds += rendered.seconds
            shared = self.fetcher.log[mark:]
            notes += rendered.problems
        elif render:
            notes.append("no screenshot: no browser (chromium absent or --no-browser)")
        if rendered is not None and source == "web":   # media the page's scripts loaded (lazy images)
            for post in todo:
                known = {ref.url for ref, _, _, _ in fetched[post.url]}
                for src in rendered.media[:max(0, self.options.max_media - len(known))]:
                    if src not in known and (loaded := cache.get(src)) is not None and loaded.status == 200:
                        fetched[post.url].append((MediaRef(src), loaded, [], ""))
        for post in todo:
            self.store_post(url, source, page, page_exchanges + shared, post, fetched[post.url], rendered,
                            tuple(notes), extra or {})

    def capture_id(self, post_url: str) -> str:
        return f"{self.run_id}-{hashlib.sha256(post_url.encode()).hexdigest()[:12]}"

    def store_post(self, url: str, source: str, page: Fetched, page_exchanges: list[Fetched], post: Post,
                   media: list[tuple[MediaRef, Fetched | None, list[Fetched], str]], rendered: Rendered | None,
                   notes: tuple[str, ...], extra: dict[str, Any]) -> None:
        from osint.ingest import add_file

        case, cid, captured_at = self.case, self.capture_id(post.url), utcnow()
        web = rendered is not None and source == "web"   # a page's text as a person sees it, scripts run
        title = (rendered.title if web and rendered and rendered.title else "") or post.title
        text = (rendered.text.strip() if web and rendered else "") or post.text
        # the web archive: every exchange for this post (the page, its resources, its media)
        warc = WarcLog(self.workdir / f"{cid}.warc.gz", description=f"osint capture {cid} of {post.url}")
        seen: set[int] = set()
        for got in page_exchanges + [g for _, _, ex, _ in media for g in ex] + \
                [f for _, f, _, _ in media if f is not None and f.via]:
            if id(got) not in seen:
                seen.add(id(got))
                warc.exchange(got)
        warc.close()
        label = title or post.url   # never blank: validators read a blank title as a blank row
        pages = [Page(page.url, page.fetched_at, label, text)]
        wacz_path = make_wacz(warc.path, self.workdir / f"{cid}.wacz", pages, title or post.url,
                              f"Captured by {TOOL} for case {case.name}")
        wacz_sha = case.put_derived_file(wacz_path, ".wacz")
        shot = rendered.screenshots.get(post.selector) if rendered else None
        shot_sha = case.put_derived(shot, ".png") if shot else ""
        if rendered and not shot:
            notes += ("no screenshot of this post's element",)
        mark_http = {"status": page.status, "reason": page.reason, "url": page.url, "headers": list(page.headers),
                     "fetched_at": page.fetched_at}
        outcomes: list[MediaOutcome] = []
        collector = self.options.collector or default_actor()
        with case.transaction():
            media_docs: list[dict[str, Any]] = []
            for ref, maybe, _, error in media:
                if maybe is None:
                    outcomes.append(MediaOutcome(ref.url, "failed", error=error))
                    media_docs.append({"url": ref.url, "error": error})
                    continue
                got = maybe
                how = f"downloaded by {got.via}" if got.via else \
                    f"HTTP {got.status} {got.content_type or '(no content type)'}"
                note = f"captured {got.fetched_at} by osint capture {cid}: {how}, {got.size} bytes, from the page {post.url}"
                added = add_file(case, got.body, collector=collector, source_url=post.url, note=note,
                                 origin=f"{_strip_fragment(got.url)}#capture={cid}",
                                 origin_mtime=got.header("last-modified") or None)
                status = added.status
                if status == "skipped" and source in ("telegram", "vk", "media", "video"):
                    status = "failed"
                outcomes.append(MediaOutcome(ref.url, status, added.sha256, got.status, added.error))
                media_docs.append({"url": ref.url, "final_url": got.url, "status": got.status,
                                   "headers": list(got.headers), "size": got.size, "sha256": got.sha256,
                                   "fetched_at": got.fetched_at, **({"via": got.via} if got.via else {}),
                                   "stored": status in ("added", "new-source",
                                                                                    "already"),
                                   "outcome": status, **({"error": added.error} if added.error else {})})
            stored = sorted({m.sha256 for m in outcomes if m.sha256 and m.status in ("added", "new-source",
                                                                                     "already")})
            record = {"run": self.run_id, "source": source, "input": url, "url": post.url, "page_url": page.url,
                      "captured_at": captured_at, "post_date": post.date, "title": title, "text": text,
                      "http": mark_http, "media": media_docs, "items": stored,
                      "wacz": {"sha256": wacz_sha, "file": f"derived/{wacz_sha[:2]}/{wacz_sha}.wacz",
                               "warc_records": warc.records},
                      "screenshot": ({"sha256": shot_sha, "file": f"derived/{shot_sha[:2]}/{shot_sha}.png"}
                                     if shot_sha else None),
                      **extra, "notes": list(notes), "proxy": bool(self.options.net.proxy),
                      "user_agent": self.options.net.user_agent, "tools": self.tools}
            case.put_record(CAPTURE_KIND, cid, record, action="capture", actor=collector,
                            inputs={"url": post.url, "page_url": page.url, "input": url},
                            details={"source": source, "run": self.run_id, "captured_at": captured_at,
                                     "proxy_used": bool(self.options.net.proxy), "tools": self.tools,
                                     "files_sha256": {"wacz": wacz_sha, "screenshot": shot_sha or None,
                                                      "media": stored},
                                     "fetched": [{"url": g.url, "status": g.status, "sha256": g.sha256}
                                                 for g in page_exchanges] +
                                                [{"url": d["url"], "status": d.get("status"),
                                                  "sha256": d.get("sha256")} for d in media_docs]})
        self.done.add(post.url)
        self.emit(CaptureOutcome(url, "captured", post.url, cid, source, post.date, title, tuple(outcomes),
                                 wacz_sha, shot_sha, notes=notes))


def _single_post(url: str) -> str | None:
    """"CHANNEL/ID" when a Telegram URL names one post (t.me/CHANNEL/ID or t.me/s/CHANNEL/ID), else None."""
    path = [p for p in urlsplit(url).path.split("/") if p]
    if path[:1] == ["s"]:
        path = path[1:]
    return f"/{path[0]}/{path[1]}" if len(path) >= 2 and path[1].isdigit() else None


def _iso_time(value: Any) -> str:
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _job_key(urls: list[str], options: CaptureOptions, collector: str) -> str:
    return canonical_sha256({"urls": urls, "since": str(options.since or ""), "until": str(options.until or ""),
                             "collector": collector, "video": options.video})


def capture(case: Case, urls: Iterable[str], options: CaptureOptions,
            on_outcome: Callable[[CaptureOutcome], None] | None = None,
            on_connect: Callable[[str], None] | None = None,
            on_note: Callable[[str], None] | None = None, browser: Browser | None = None) -> CaptureSummary:
    """Capture every URL into the case (see the module docstring); never raises for one bad URL.

    `on_connect(host)` is called before the first connection to each host (the proxy when one is set);
    `on_outcome` after each capture; `on_note` for run-wide notes (no browser). A `browser` passed in is
    used (and left open) instead of launching one.
    """
    urls = list(dict.fromkeys(urls))
    collector = options.collector or default_actor()
    summary = CaptureSummary()
    notes = on_note or (lambda _: None)

    def note(text: str) -> None:
        summary.notes.append(text)
        notes(text)

    key = _job_key(urls, options, collector)
    run_id, resumed = "", False
    for rid, data in case.records(RUN_KIND).items():
        if data.get("job") == key and data.get("status") == "running":
            run_id, resumed = rid, True
    if not run_id:
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]
    done = {d["url"] for d in case.records(CAPTURE_KIND).values() if d.get("run") == run_id}
    run_doc = {"job": key, "urls": urls, "since": str(options.since or ""), "until": str(options.until or ""),
               "collector": collector, "proxy": bool(options.net.proxy), "user_agent": options.net.user_agent,
               "rate_per_s": options.net.rate, "max_bytes": options.net.max_bytes, "status": "running"}
    if not resumed:
        case.put_record(RUN_KIND, run_id, run_doc, action="capture:start", actor=collector,
                        inputs={"urls": urls}, details={k: v for k, v in run_doc.items() if k != "urls"})
    summary.run_id, summary.resumed = run_id, resumed
    started = time.monotonic()
    # responses wait in the case's own tmp/ (never outside the case); a killed run's folder goes at the next open
    with tempfile.TemporaryDirectory(prefix=f"{os.getpid()}-capture-", dir=case.root / "tmp") as tmp:
        fetcher = Fetcher(options.net, Path(tmp), on_connect=on_connect)
        try:
            with maybe_browser(options.browser and browser is None, options.net.proxy, note) as launched:
                run = _Run(case, options, fetcher, launched or (browser if options.browser else None), Path(tmp),
                           run_id, done, summary,
                           on_outcome or (lambda _: None))
                for url in urls:
                    run.capture_input(url)
                    for old in Path(tmp).glob("*.body"):   # bodies of finished inputs are in the case now
                        old.unlink(missing_ok=True)
                    fetcher.log.clear()
        finally:
            fetcher.close()
        summary.hosts, summary.requests, summary.bytes = sorted(fetcher.hosts), fetcher.requests, fetcher.bytes
    summary.seconds = time.monotonic() - started
    counts = {s: summary.count(s) for s in ("captured", "done-before", "failed")}
    case.put_record(RUN_KIND, run_id, run_doc | {"status": "finished", "counts": counts}, action="capture:finish",
                    actor=collector, details={"counts": counts, "hosts": summary.hosts,
                                              "requests": summary.requests})
    return summary


@dataclass(frozen=True)
class PostInfo:
    """Where a captured item was posted, from its latest capture: the post or page URL, its date (ISO 8601 or
    ''), its text, when it was captured; and the earliest post date among all its captures with that post's
    URL (a photo is at least as old as its first posting)."""

    url: str
    date: str
    text: str
    captured_at: str
    capture_id: str
    first_date: str = ""
    first_url: str = ""


_POSTS: dict[tuple[str, str], dict[str, PostInfo]] = {}


def item_posts(case: Case) -> dict[str, PostInfo]:
    """Each captured item's posting, by SHA-256 (read only; one pass over the capture records, kept until the
    case's custody log moves on)."""
    key = (str(case.root), case.head())
    if key in _POSTS:
        return _POSTS[key]
    found: dict[str, PostInfo] = {}
    for cid, data in sorted(case.records(CAPTURE_KIND).items(), key=lambda kv: str(kv[1].get("captured_at"))):
        url, day = str(data.get("url", "")), str(data.get("post_date") or "")
        for sha in data.get("items") or []:
            old = found.get(str(sha))
            first, first_url = (old.first_date, old.first_url) if old else ("", "")
            if day and (not first or day < first):
                first, first_url = day, url
            found[str(sha)] = PostInfo(url, day, str(data.get("text") or ""), str(data.get("captured_at", "")), cid,
                                       first, first_url)
    _POSTS.clear()
    _POSTS[key] = found
    return found
