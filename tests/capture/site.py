"""A local web site for capture tests (127.0.0.1 only): a Telegram-shaped channel, a VK wall, a plain page,
media, misbehaving URLs, and a forward proxy that logs what passes through it.

Pages are written here, shaped like Telegram's public web preview (t.me/s/NAME) and a VK wall. Photos and
the video come from ../shared/data where present, else are generated (always distinct bytes).
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


def jpeg(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    """A distinct JPEG: smooth colour fields plus a seeded pattern (never two alike)."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([(xx * (seed % 7 + 1)) % 256, (yy * (seed % 5 + 2)) % 256, (xx + yy + seed * 40) % 256], -1)
    img = (base + rng.integers(0, 40, (h, w, 3))).clip(0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def mp4(frames: int = 12) -> bytes:
    """A short MP4: the shared Hamilton clip where present, else one generated with OpenCV."""
    clip = SHARED / "video" / "hamilton" / "short_hamilton_clip.mp4"
    if clip.is_file():
        return clip.read_bytes()
    import tempfile

    import cv2

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 6, (160, 120))
        for i in range(frames):
            frame = np.full((120, 160, 3), (i * 20) % 256, np.uint8)
            frame[20 + i:60 + i, 30:90] = (0, 0, 255)
            writer.write(frame)
        writer.release()
        return path.read_bytes()


def shared_photo(n: int) -> bytes | None:
    """The n-th real face photo of ../shared/data/faces, if present (a real JPEG from the web)."""
    folder = SHARED / "faces" / "images"
    if not folder.is_dir():
        return None
    photos = sorted(folder.glob("A*/*.jpg"))
    return photos[n].read_bytes() if n < len(photos) else None


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    kind: str = "plain"        # plain, stall, drip, short, endless


def _tg_post(channel: str, pid: int, date: str, text: str, photos: list[str], video: str | None = None,
             album: bool = False) -> str:
    media = ""
    if album:
        media = '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap"><div class="tgme_widget_message_grouped">' + \
            "".join(f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap" href="/{channel}/{pid + i}?single" '
                    f"style=\"width:100px;background-image:url('{p}')\"></a>" for i, p in enumerate(photos)) + "</div></div>"
    else:
        media = "".join(f'<a class="tgme_widget_message_photo_wrap" href="/{channel}/{pid}" '
                        f"style=\"width:320px;background-image:url('{p}')\"></a>" for p in photos)
    if video:
        media += (f'<a class="tgme_widget_message_video_player" href="/{channel}/{pid}"><div class="tgme_widget_message_video_wrap">'
                  f'<video src="{video}" class="tgme_widget_message_video js-message_video" width="100%"></video></div></a>')
    return (f'<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message js-widget_message" '
            f'data-post="{channel}/{pid}"><div class="tgme_widget_message_bubble">{media}'
            f'<div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div>'
            f'<div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="/{channel}/{pid}">'
            f'<time datetime="{date}" class="time">12:00</time></a></div></div></div></div>')


CHANNEL = "kids_camp"
# post id -> (date, text, photo names, video name, album)
POSTS = {
    1: ("2024-01-05T09:00:00+00:00", "Первый день в лагере", ["p1.jpg"], None, False),
    2: ("2024-01-20T10:00:00+00:00", "Экскурсия", ["p2.jpg", "p3.jpg", "p4.jpg"], None, True),
    5: ("2024-02-02T11:00:00+00:00", "Концерт<br/>дети поют", [], "v1.mp4", False),
    6: ("2024-02-15T12:00:00+00:00", "Новые дети приехали", ["p5.jpg"], None, False),
    7: ("2024-03-01T08:30:00+00:00", "Весна", ["p6.jpg", "p7.jpg"], None, True),
    9: ("2024-03-10T15:00:00+00:00", "Repost of the first day", ["p1.jpg"], None, False),
}
PAGES = [[1, 2], [5, 6], [7, 9]]     # oldest page first; the channel URL shows the last


def telegram_page(before: int | None) -> str:
    index = len(PAGES) - 1
    if before is not None:
        index = max(i for i, page in enumerate(PAGES) if page[-1] < before)
    ids = PAGES[index]
    posts = "".join(_tg_post(CHANNEL, pid, d, t, [f"/media/{p}" for p in ph], v and f"/media/{v}", album)
                    for pid, (d, t, ph, v, album) in POSTS.items() if pid in ids)
    prev = f'<link rel="prev" href="/s/{CHANNEL}?before={ids[0]}">' if index > 0 else ""
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Kids camp – Telegram</title>{prev}'
            '<link rel="stylesheet" href="/static/tg.css"></head><body>'
            '<div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span>Kids camp</span></div></div>'
            f'<section class="tgme_channel_history js-message_history">{posts}</section></body></html>')


VK_POSTS = {
    "-77_11": ("1707130800", "Видео с концерта", [], "/media/v1.mp4"),
    "-77_10": ("1704448800", "Дети на празднике", ["/media/k1.jpg", "/media/k2.jpg"], None),
    "-77_9": ("1703001600", "Старый пост", ["/media/k1.jpg"], None),
}


def vk_wall(offset: int = 0) -> str:
    """The wall, newest first, two posts a page; "show more" leads to ?offset=."""
    posts = ""
    chosen = list(VK_POSTS.items())[offset:offset + 2]
    more = f'<a class="show_more" href="/vk/club77?offset={offset + 2}">Show more</a>' \
        if offset + 2 < len(VK_POSTS) else ""
    for pid, (ts, text, photos, video) in chosen:
        thumbs = "".join(f'<a class="page_post_thumb_wrap image_cover" style="background-image: url({p});"></a>'
                         for p in photos)
        vid = f'<video src="{video}"></video>' if video else ""
        posts += (f'<div id="post{pid}" class="_post post" data-post-id="{pid}"><div class="wall_text">'
                  f'<div class="wall_post_text">{text}</div>{thumbs}{vid}</div><div class="post_date">'
                  f'<a class="post_link" href="/wall{pid}"><span class="rel_date" time="{ts}">date</span></a></div></div>')
    return f'<html><head><title>Club 77 | VK</title></head><body><div id="page_wall_posts">{posts}</div>{more}</body></html>'


PLAIN = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Orphanage No. 3 news</title>
<meta property="article:published_time" content="2024-04-02T07:00:00Z">
<meta property="og:image" content="/media/w1.jpg"><link rel="stylesheet" href="/static/site.css"></head>
<body><h1>New pupils arrived</h1><p>Twelve children from Kherson region joined us this week.</p>
<img src="/media/w2.jpg" srcset="/media/w2.jpg 320w, /media/w3.jpg 640w" alt="pupils">
<video controls><source src="/media/v1.mp4" type="video/mp4"></video>
<img src="/static/logo.svg" alt="logo"></body></html>"""


def big_channel_page(before: int | None, posts: int, per_page: int, photos: int) -> str:
    """A page of the benchmark channel "big": `posts` posts, `per_page` a page, post k showing photos
    k % photos .. (1 to 3 of them, as an album when several)."""
    top = posts if before is None else min(before - 1, posts)
    ids = list(range(max(1, top - per_page + 1), top + 1))
    html = "".join(_tg_post("big", pid, f"2024-01-{1 + pid % 28:02d}T00:00:00+00:00",
                            f"post {pid}", [f"/media/big{(pid + j) % photos}.jpg" for j in range(1 + pid % 3)],
                            None, pid % 3 > 0) for pid in ids)
    prev = f'<link rel="prev" href="/s/big?before={ids[0]}">' if ids and ids[0] > 1 else ""
    return (f'<html><head><title>big</title>{prev}<link rel="stylesheet" href="/static/tg.css"></head><body>'
            f'<div class="tgme_channel_info"></div>{html}</body></html>')


WATCH = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Концерт в лагере</title>
<meta property="og:title" content="Концерт в лагере"></head><body><h1>Концерт в лагере</h1>
<video controls width="320"><source src="/media/v1.mp4" type="video/mp4"></video></body></html>"""


class Site:
    """The test web site on 127.0.0.1 (a thread); `requests` logs (path, headers) of every request.
    `big` > 0 adds the benchmark channel /s/big of that many posts over `big_photos` photos."""

    def __init__(self, big: int = 0, big_photos: int = 100) -> None:
        self.big = big
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.peers: list[int] = []                  # the client's port of each request, in the same order
        self.routes: dict[str, Response] = {}
        media = {f"p{i}.jpg": shared_photo(i) or jpeg(i) for i in range(1, 8)}
        media |= {f"k{i}.jpg": jpeg(100 + i) for i in (1, 2)} | {f"w{i}.jpg": jpeg(200 + i) for i in (1, 2, 3)}
        media["v1.mp4"] = mp4()
        if big:
            media |= {f"big{i}.jpg": shared_photo(10 + i) or jpeg(1000 + i) for i in range(big_photos)}
        self.media = media
        for name, data in media.items():
            ctype = "video/mp4" if name.endswith(".mp4") else "image/jpeg"
            self.routes[f"/media/{name}"] = Response(body=data, headers={"Content-Type": ctype,
                                                                         "Last-Modified": "Tue, 02 Jan 2024 10:00:00 GMT"})
        html = {"Content-Type": "text/html; charset=utf-8"}
        self.routes |= {
            "/news/pupils.html": Response(body=PLAIN.encode(), headers=html),
            "/watch/concert": Response(body=WATCH.encode(), headers=html),
            "/static/tg.css": Response(body=b".tgme_widget_message{border:1px solid #ccc;margin:8px;padding:8px;max-width:500px}"
                                            b".tgme_widget_message_photo_wrap{display:block;height:160px;background-size:cover}",
                                       headers={"Content-Type": "text/css"}),
            "/static/site.css": Response(body=b"body{font-family:sans-serif}", headers={"Content-Type": "text/css"}),
            "/static/logo.svg": Response(body=b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
                                         headers={"Content-Type": "image/svg+xml"}),
            "/missing": Response(404, b"not found", {"Content-Type": "text/plain"}),
            "/broken": Response(500, b"oops", {"Content-Type": "text/plain"}),
            "/loop/a": Response(302, b"", {"Location": "/loop/b"}),
            "/loop/b": Response(302, b"", {"Location": "/loop/a"}),
            "/moved": Response(301, b"", {"Location": "/news/pupils.html"}),
            "/stall": Response(kind="stall"),
            "/drip.html": Response(headers=html, kind="drip"),
            "/short.jpg": Response(body=media["w1.jpg"][:1000], headers={"Content-Type": "image/jpeg",
                                                                         "Content-Length": "50000"}, kind="short"),
            "/huge.bin": Response(headers={"Content-Type": "application/octet-stream",
                                           "Content-Length": str(5 << 30)}, kind="short"),
            "/endless.mp4": Response(headers={"Content-Type": "video/mp4"}, kind="endless"),
            "/photo-as-html": Response(body=media["w1.jpg"], headers={"Content-Type": "text/html"}),
            "/html-as-photo.jpg": Response(body=PLAIN.encode(), headers={"Content-Type": "image/jpeg"}),
            "/fake.jpg": Response(body=b"<html>not a photo</html>" * 20, headers={"Content-Type": "image/jpeg"}),
        }
        self.stop = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                site.requests.append((self.path, dict(self.headers.items())))
                site.peers.append(self.client_address[1])
                path = urlsplit(self.path).path
                query = urlsplit(self.path).query
                if path == f"/s/{CHANNEL}" or path.startswith(f"/s/{CHANNEL}/"):
                    before = int(query.split("before=")[1]) if "before=" in query else None
                    if path.startswith(f"/s/{CHANNEL}/"):            # t.me/s/NAME/ID: the page around post ID
                        before = int(path.rsplit("/", 1)[1]) + 1
                    resp = Response(body=telegram_page(before).encode(),
                                    headers={"Content-Type": "text/html; charset=utf-8"})
                elif path == "/vk/club77":
                    offset = int(query.split("offset=")[1]) if "offset=" in query else 0
                    resp = Response(body=vk_wall(offset).encode(), headers={"Content-Type": "text/html; charset=utf-8"})
                elif path == "/s/big" and site.big:
                    before = int(query.split("before=")[1]) if "before=" in query else None
                    resp = Response(body=big_channel_page(before, site.big, 20, len(
                        [m for m in site.media if m.startswith("big")])).encode(),
                        headers={"Content-Type": "text/html; charset=utf-8"})
                else:
                    resp = site.routes.get(path, Response(404, b"no such page", {"Content-Type": "text/plain"}))
                self.serve(resp)

            def serve(self, resp: Response) -> None:
                if resp.kind == "stall":
                    site.stop.wait(30)
                    return
                self.send_response(resp.status)
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if resp.kind == "plain":
                    self.send_header("Content-Length", str(len(resp.body)))
                    self.end_headers()
                    self.wfile.write(resp.body)
                    return
                if resp.kind == "short":
                    self.end_headers()
                    self.wfile.write(resp.body)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b"<p>still loading</p>\n" if resp.kind == "drip" else b"\0" * 65536
                end = time.monotonic() + 30
                try:
                    while not site.stop.is_set() and time.monotonic() < end:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if resp.kind == "drip":
                            time.sleep(0.2)
                except OSError:
                    pass
                self.close_connection = True

        return Handler


class Proxy:
    """A plain HTTP forward proxy on 127.0.0.1 that logs every URL it forwards and marks it with Via."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                proxy.seen.append(self.path)
                parts = urlsplit(self.path)
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
                headers["Via"] = "1.1 test-proxy"
                conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serving() -> Iterator[Site]:
    site = Site()
    try:
        yield site
    finally:
        site.close()


class SocksProxy:
    """A minimal SOCKS5 proxy (no authentication, CONNECT only) on 127.0.0.1 that logs each target it
    connects to, as a local Tor client would be used."""

    def __init__(self) -> None:
        import socketserver

        self.targets: list[tuple[str, int]] = []
        self.ports: set[int] = set()               # local ports of the connections it opened to targets
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                import select
                import socket
                import struct

                conn = self.request
                conn.settimeout(10)
                _, n = conn.recv(2)
                conn.recv(n)
                conn.sendall(b"\x05\x00")
                _, cmd, _, atyp = conn.recv(4)
                if atyp == 3:
                    host = conn.recv(conn.recv(1)[0]).decode()
                elif atyp == 1:
                    host = socket.inet_ntoa(conn.recv(4))
                else:
                    conn.sendall(b"\x05\x08\x00\x01" + bytes(6))
                    return
                (port,) = struct.unpack("!H", conn.recv(2))
                proxy.targets.append((host, port))
                if cmd != 1 or host not in ("127.0.0.1", "localhost"):      # never anywhere but this machine
                    conn.sendall(b"\x05\x02\x00\x01" + bytes(6))
                    return
                upstream = socket.create_connection((host, port), timeout=10)
                proxy.ports.add(upstream.getsockname()[1])
                conn.sendall(b"\x05\x00\x00\x01" + bytes(6))
                try:
                    while True:
                        ready, _, _ = select.select([conn, upstream], [], [], 10)
                        if not ready:
                            return
                        for src in ready:
                            data = src.recv(65536)
                            if not data:
                                return
                            (upstream if src is conn else conn).sendall(data)
                finally:
                    upstream.close()

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"socks5://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
