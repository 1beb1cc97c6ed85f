"""Reading captured HTML: a web page's title, text, date and media; Telegram and VK posts; the next page.

Pure functions of (html, url): no network. Telegram is read from the channel's public web preview
(t.me/s/CHANNEL, no account), VK from a public wall's HTML. Sources are recognised by their markup as well as
their host, so a mirror or a saved copy reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

BACKGROUND = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", re.IGNORECASE)
BLOCKS = ["p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "blockquote", "header",
          "footer", "pre", "figcaption", "dd", "dt", "title"]
MEDIA_EXT = re.compile(r"\.(jpe?g|png|gif|webp|heic|heif|avif|tiff?|mp4|m4v|mov|webm|mkv|avi|3gp)(\?|$)", re.IGNORECASE)


@dataclass(frozen=True)
class MediaRef:
    """A photo or video a page shows: its absolute URL and what the markup says it is."""

    url: str
    kind: str = "photo"    # "photo" or "video" (the markup's claim; the bytes decide)


@dataclass(frozen=True)
class Post:
    """One post (or a whole plain page): its own URL, date (ISO 8601 or ''), text and media."""

    url: str
    date: str
    text: str
    media: tuple[MediaRef, ...]
    selector: str = ""     # CSS selector of the post's element on its listing page (for its screenshot)
    title: str = ""


@dataclass(frozen=True)
class Listing:
    """A page of posts (a Telegram channel page, a VK wall page) and the URL of the older page, if any."""

    posts: tuple[Post, ...]
    older: str | None = None
    title: str = ""
    source: str = "web"
    extra: dict[str, Any] = field(default_factory=dict)


def _soup(html: str) -> Any:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def _text(node: Any) -> str:
    if node is None:
        return ""
    for br in node.find_all("br"):
        br.replace_with("\n")
    for block in node.find_all(BLOCKS):   # a line break after each block; inline links and emphasis stay inline
        block.append("\n")
    return "\n".join(s for line in node.get_text("").splitlines() if (s := " ".join(line.split())))


def _iso(value: str) -> str:
    """An ISO 8601 date-time in UTC from an HTML attribute, or '' when it is none."""
    value = (value or "").strip()
    if not value:
        return ""
    try:
        if value.isdigit():
            when = datetime.fromtimestamp(int(value), timezone.utc)
        else:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        return ""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def detect(html: str, url: str) -> str:
    """Which reader fits: "telegram", "vk" or "web" (markup first, then host)."""
    host = (urlsplit(url).hostname or "").lower()
    if "tgme_widget_message" in html or "tgme_channel_info" in html:
        return "telegram"
    if "wall_post_text" in html or 'class="_post' in html or host.endswith("vk.com"):
        return "vk"
    return "web"


def _unique(refs: list[MediaRef]) -> tuple[MediaRef, ...]:
    seen: dict[str, MediaRef] = {}
    for ref in refs:
        if ref.url.startswith(("http://", "https://")) and ref.url not in seen:
            seen[ref.url] = ref
    return tuple(seen.values())


def _largest_srcset(srcset: str) -> str:
    best, best_w = "", -1.0
    for part in srcset.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        width = 0.0
        if len(bits) > 1 and bits[1][:-1].replace(".", "", 1).isdigit():
            width = float(bits[1][:-1])
        if width > best_w:
            best, best_w = bits[0], width
    return best


def page_media(soup: Any, base: str) -> tuple[MediaRef, ...]:
    """Every photo and video a plain page shows: <img> (largest srcset), <picture>, <video>/<source>,
    og:image/og:video, CSS background images, and links straight to media files."""
    refs: list[MediaRef] = []
    for meta in soup.find_all("meta"):
        prop = (meta.get("property") or meta.get("name") or "").lower()
        if prop in ("og:image", "og:image:url", "twitter:image") and meta.get("content"):
            refs.append(MediaRef(urljoin(base, meta["content"]), "photo"))
        elif prop in ("og:video", "og:video:url", "og:video:secure_url") and meta.get("content"):
            refs.append(MediaRef(urljoin(base, meta["content"]), "video"))
    for img in soup.find_all("img"):
        src = _largest_srcset(img.get("srcset", "")) or img.get("src") or img.get("data-src") or ""
        if src:
            refs.append(MediaRef(urljoin(base, src), "photo"))
    for source in soup.find_all("source"):
        src = source.get("src") or _largest_srcset(source.get("srcset", ""))
        parent = source.parent.name if source.parent else ""
        if src:
            refs.append(MediaRef(urljoin(base, src), "video" if parent in ("video", "audio") else "photo"))
    for video in soup.find_all("video"):
        if video.get("src"):
            refs.append(MediaRef(urljoin(base, video["src"]), "video"))
        if video.get("poster"):
            refs.append(MediaRef(urljoin(base, video["poster"]), "photo"))
    for node in soup.find_all(style=BACKGROUND):
        for url in BACKGROUND.findall(node["style"]):
            refs.append(MediaRef(urljoin(base, url), "photo"))
    for a in soup.find_all("a", href=MEDIA_EXT):
        kind = "video" if re.search(r"\.(mp4|m4v|mov|webm|mkv|avi|3gp)(\?|$)", a["href"], re.IGNORECASE) else "photo"
        refs.append(MediaRef(urljoin(base, a["href"]), kind))
    return _unique(refs)


def page_date(soup: Any) -> str:
    """The page's publication date from its metadata, a <time datetime>, or JSON-LD; '' if none."""
    for meta in soup.find_all("meta"):
        prop = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if prop in ("article:published_time", "datepublished", "date", "dc.date", "og:published_time",
                    "pubdate", "publish-date") and (iso := _iso(meta.get("content", ""))):
            return iso
    for script in soup.find_all("script", type="application/ld+json"):
        m = re.search(r'"datePublished"\s*:\s*"([^"]+)"', script.get_text())
        if m and (iso := _iso(m.group(1))):
            return iso
    for t in soup.find_all("time"):
        if iso := _iso(t.get("datetime", "")):
            return iso
    return ""


def read_page(html: str, url: str) -> Post:
    """A plain web page as one post: title, visible text, date and every photo and video on it."""
    soup = _soup(html)
    title = _text(soup.title) if soup.title else ""
    media = page_media(soup, url)
    for junk in soup.find_all(["script", "style", "noscript", "template"]):
        junk.decompose()
    body = soup.body or soup
    return Post(url=url, date=page_date(soup), text=_text(body), media=media, selector="", title=title)


def telegram_channel_url(url: str) -> str:
    """The public web preview of a Telegram channel or post URL: t.me/CHANNEL[/ID] -> t.me/s/CHANNEL[?before]."""
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    if path and path[0] == "s":
        path = path[1:]
        if len(path) < 2:
            return url
    if not path:
        return url
    query = parts.query
    if len(path) > 1 and path[1].isdigit():
        query = urlencode({"before": int(path[1]) + 1})
    return urlunsplit((parts.scheme, parts.netloc, f"/s/{path[0]}", query, ""))


def read_telegram(html: str, url: str) -> Listing:
    """A page of a Telegram channel's web preview: each message with its link, date, text, photos (albums
    included) and videos, oldest first, and the URL of the page before it (?before=)."""
    soup = _soup(html)
    posts = []
    for msg in soup.select("div.tgme_widget_message[data-post]"):
        data_post = msg["data-post"]
        link = msg.select_one("a.tgme_widget_message_date")
        post_url = urljoin(url, link["href"]) if link and link.get("href") else \
            urljoin(url, f"/{data_post}")
        when = msg.select_one("a.tgme_widget_message_date time[datetime]") or msg.select_one("time[datetime]")
        refs: list[MediaRef] = []
        for wrap in msg.select("a.tgme_widget_message_photo_wrap, div.tgme_widget_message_photo_wrap"):
            for found in BACKGROUND.findall(wrap.get("style", "")):
                refs.append(MediaRef(urljoin(url, found), "photo"))
        for video in msg.select("video"):
            if video.get("src"):
                refs.append(MediaRef(urljoin(url, video["src"]), "video"))
        text_node = msg.select_one("div.tgme_widget_message_text")
        posts.append(Post(url=post_url, date=_iso(when["datetime"]) if when else "", text=_text(text_node),
                          media=_unique(refs), selector=f'div.tgme_widget_message[data-post="{data_post}"]'))
    older = None
    prev = soup.find("link", rel="prev")
    if prev and prev.get("href"):
        older = urljoin(url, prev["href"])
    else:
        more = soup.select_one("a.tme_messages_more[data-before]")
        if more is not None:
            older = _with_query(url, before=more["data-before"])
    title = _text(soup.select_one("div.tgme_channel_info_header_title")) or (_text(soup.title) if soup.title else "")
    return Listing(tuple(posts), older, title, "telegram")


def read_vk(html: str, url: str) -> Listing:
    """A page of a public VK wall: each post with its link (wall-OWNER_ID), date, text and media; the next
    (older) page from the wall's "show more" link or ?offset=."""
    soup = _soup(html)
    posts = []
    for node in soup.select("div._post[data-post-id], div.post[data-post-id]"):
        pid = node["data-post-id"]
        link = node.select_one("a.post_link[href]")
        post_url = urljoin(url, link["href"]) if link else urljoin(url, f"/wall{pid}")
        date_node = node.select_one("[time]") or node.select_one("time[datetime]")
        date = _iso(date_node.get("time") or date_node.get("datetime", "")) if date_node else ""
        refs: list[MediaRef] = []
        for thumb in node.select("a.page_post_thumb_wrap, div.page_post_thumb_wrap, a.MediaGrid__interactive"):
            for found in BACKGROUND.findall(thumb.get("style", "")):
                refs.append(MediaRef(urljoin(url, found), "photo"))
            img = thumb.find("img")
            if img is not None and img.get("src"):
                refs.append(MediaRef(urljoin(url, img["src"]), "photo"))
        for video in node.select("video"):
            src = video.get("src") or (video.find("source") or {}).get("src")  # type: ignore[union-attr]
            if src:
                refs.append(MediaRef(urljoin(url, src), "video"))
        posts.append(Post(url=post_url, date=date, text=_text(node.select_one("div.wall_post_text")),
                          media=_unique(refs), selector=f'div[data-post-id="{pid}"]'))
    more = soup.select_one("a.show_more[href], a#wall_more_link[href]")
    older = urljoin(url, more["href"]) if more else None
    title = _text(soup.title) if soup.title else ""
    return Listing(tuple(posts), older, title, "vk")


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))
