"""The one way capture goes online: checked URLs, bounded responses, a rate limit, every exchange in a WARC.

Every request (the page, its media, and whatever the browser asks for) passes through `Fetcher.fetch`:
the URL must be http(s) and, unless private addresses are allowed, must not name or resolve to a
loopback, private, link-local or reserved address (checked again at every redirect). Without a proxy the
name is resolved once, every address is checked, and the socket connects to one of those checked addresses
(the host name stays for the Host header, TLS SNI and the certificate check), so a DNS answer that changes
after the check (rebinding) is never connected to. A response is streamed to a file and cut off past the
size limit or the overall time limit, so a 5 GB body or a page that never finishes costs at most the limit.
Request and response are written to the capture's WARC exactly as exchanged (the body de-chunked, never
decoded).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from osint.errors import OsintError

CHUNK = 1 << 16
HEAD = 64
Address = tuple[socket.AddressFamily, tuple[Any, ...]]   # (family, socket address), as getaddrinfo gives them


class CaptureError(OsintError):
    """One URL could not be captured (refused, unreachable, too big, too slow, not what it claimed)."""


class RefusedURL(CaptureError):
    """A URL the capture will not fetch: not http(s), or a private address without --allow-private."""


@dataclass(frozen=True)
class NetOptions:
    """How capture goes online. `rate` is requests per second per host (0: no limit)."""

    proxy: str | None = None
    user_agent: str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"
    rate: float = 2.0
    allow_private: bool = False
    max_bytes: int = 1 << 30           # one response; media larger than 1 GiB is cut off and refused
    connect_timeout: float = 15.0
    read_timeout: float = 30.0         # silence between two reads
    total_timeout: float = 300.0       # a whole response, however slowly it trickles
    max_redirects: int = 10


@dataclass(frozen=True)
class Fetched:
    """One HTTP response as received: final URL, status, headers, and the body kept in a file."""

    url: str
    requested: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: Path
    size: int
    sha256: str
    head: bytes
    fetched_at: str
    seconds: float
    redirects: tuple[str, ...] = field(default_factory=tuple)
    request_headers: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    http_version: str = "HTTP/1.1"
    via: str = ""          # "" for our own HTTP exchange; the tool's name when another tool fetched the file

    def header(self, name: str) -> str:
        """The first value of a header (case-insensitive), or ''."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def read(self) -> bytes:
        return self.body.read_bytes()

    def text(self) -> str:
        """The body decoded as text (charset from the headers, else UTF-8, bad bytes replaced)."""
        charset = "utf-8"
        for part in self.header("content-type").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        raw = _decoded(self.read(), self.header("content-encoding"))
        try:
            return raw.decode(charset, "replace")
        except LookupError:
            return raw.decode("utf-8", "replace")


def _decoded(raw: bytes, encoding: str) -> bytes:
    """Undo a Content-Encoding the server applied although we asked for identity (gzip, deflate)."""
    import zlib

    enc = encoding.strip().lower()
    try:
        if enc in ("gzip", "x-gzip"):
            return zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        if enc == "deflate":
            return zlib.decompress(raw)
    except zlib.error:
        return raw
    return raw


def check_url(url: str, *, allow_private: bool = False, proxied: bool = False) -> str:
    """Return `url` if capture may fetch it, else raise RefusedURL saying why.

    Without a proxy the host name is resolved here and every address it resolves to is checked; through a
    proxy the proxy resolves names (no DNS leaves this machine), so only literal addresses and local names
    are checked. With `allow_private` nothing is resolved (there is nothing to refuse).
    """
    _checked(url, allow_private=allow_private, resolve=not (proxied or allow_private))
    return url


def resolve_checked(url: str, *, allow_private: bool = False) -> tuple[Address, ...]:
    """The addresses a direct connection to `url` may use: its host resolved once, every answer checked as
    `check_url` checks it (RefusedURL if any is refused). The Fetcher connects only to these."""
    return _checked(url, allow_private=allow_private, resolve=True)


def _checked(url: str, *, allow_private: bool, resolve: bool) -> tuple[Address, ...]:
    """Check `url` and return its literal address or (with `resolve`) every address its name resolves to;
    () for a name left unresolved. Raises RefusedURL or, for a name that does not resolve, CaptureError."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        what = "file:// reads this machine's files" if parts.scheme.lower() == "file" else \
            f"scheme {parts.scheme or '(none)'!r}"
        raise RefusedURL(f"refused: only http:// and https:// URLs are captured ({what})")
    host = parts.hostname
    if not host:
        raise RefusedURL("refused: the URL has no host")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise RefusedURL("refused: the URL's port is not a number from 0 to 65535") from None
    literal = _literal(host)
    if literal is not None:
        addresses: list[Address] = [(socket.AF_INET, (host, port)) if literal.version == 4 else
                                    (socket.AF_INET6, (host, port, 0, 0))]
    else:
        if not allow_private and (host.lower() == "localhost" or
                                  host.lower().endswith((".localhost", ".local", ".internal"))):
            raise RefusedURL(f"refused: {host} is a local name (pass --allow-private to capture it)")
        if not resolve:
            return ()
        try:
            infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
        except OSError as exc:
            raise CaptureError(f"cannot resolve {host}: {exc.strerror or exc}") from None
        addresses = [(info[0], info[4]) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)]
        if not addresses:
            raise CaptureError(f"cannot resolve {host}: no IPv4 or IPv6 address")
    if not allow_private:
        for _, sockaddr in addresses:
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            real = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip
            if not real.is_global:
                raise RefusedURL(f"refused: {host} is {'' if str(real) == host else 'at '}{real}, a private, "
                                 "loopback or reserved address (pass --allow-private to capture it)")
    return tuple(dict.fromkeys(addresses))


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`host` as an IP address when it is one (no DNS), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class Fetcher:
    """Fetches URLs one at a time under `NetOptions`, keeping bodies in `workdir` and logging to `warc`."""

    def __init__(self, options: NetOptions, workdir: Path, on_connect: Callable[[str], None] | None = None):
        import requests

        from osint.capture.pin import PinnedAdapter

        self.options = options
        self.workdir = workdir
        self.log: list[Fetched] = []           # every exchange, redirects and failures with a status included
        self.on_connect = on_connect
        self.session = requests.Session()
        self.session.trust_env = False          # only --proxy decides where traffic goes
        self.adapter = PinnedAdapter()          # without a proxy: connect only to checked addresses
        if options.proxy:
            proxy = options.proxy.replace("socks5://", "socks5h://", 1)   # names resolved by the proxy
            self.session.proxies = {"http": proxy, "https": proxy}
        else:
            self.session.mount("http://", self.adapter)
            self.session.mount("https://", self.adapter)
        self.hosts: set[str] = set()
        self._last: dict[str, float] = {}
        self.requests = 0
        self.bytes = 0

    def close(self) -> None:
        self.session.close()

    def _wait_turn(self, host: str) -> None:
        if self.options.rate <= 0:
            return
        gap = 1.0 / self.options.rate
        last = self._last.get(host)
        if last is not None and (wait := last + gap - time.monotonic()) > 0:
            time.sleep(wait)
        self._last[host] = time.monotonic()

    def fetch(self, url: str, *, limit: int | None = None, headers: dict[str, str] | None = None,
              ok_only: bool = True) -> Fetched:
        """GET `url`, following up to max_redirects redirects (each checked and recorded).

        Raises CaptureError for a refused URL, a network failure, a redirect loop, a body past `limit`
        (default: the options' max_bytes), a response slower than the total timeout, a body shorter than
        its declared length, or (with `ok_only`) a status other than 2xx.
        """
        hops: list[str] = []
        current = url
        for _ in range(self.options.max_redirects + 1):
            got = self._fetch_one(current, limit or self.options.max_bytes, headers or {})
            location = got.header("location")
            if got.status in (301, 302, 303, 307, 308) and location:
                hops.append(current)
                nxt = urljoin(current, location)
                if nxt in hops:
                    raise CaptureError(f"redirect loop: {current} -> {nxt} (after {len(hops)} redirects)")
                current = nxt
                continue
            result = replace(got, requested=url, redirects=tuple(hops))
            if ok_only and not 200 <= got.status < 300:
                raise CaptureError(f"HTTP {got.status} {got.reason}".rstrip())
            return result
        raise CaptureError(f"more than {self.options.max_redirects} redirects (last: {current})")

    def _fetch_one(self, url: str, limit: int, extra: dict[str, str]) -> Fetched:
        import requests

        opts = self.options
        check_url(url, allow_private=opts.allow_private, proxied=True)    # the scheme, literal addresses, local names
        req_headers = {"User-Agent": opts.user_agent, "Accept": "*/*", "Accept-Encoding": "identity",
                       "Accept-Language": "uk,ru;q=0.8,en;q=0.6", **extra}
        try:
            request = self.session.prepare_request(requests.Request("GET", url, headers=req_headers))
        except requests.exceptions.RequestException as exc:
            raise CaptureError(f"cannot connect: {_reason(exc)}") from None
        # without a proxy: the host (as requests sends it) resolved once, every address checked, and pinned
        addresses = () if opts.proxy else resolve_checked(str(request.url), allow_private=opts.allow_private)
        host = urlsplit(url).netloc.lower()
        if host not in self.hosts:
            self.hosts.add(host)
            if self.on_connect:
                self.on_connect(host)
        self._wait_turn(host)
        started, when = time.monotonic(), now_iso()
        body = self.workdir / f"{uuid.uuid4().hex}.body"
        self.requests += 1
        try:
            with self.adapter.pinned(str(request.url), addresses):
                resp = self.session.send(request, stream=True, allow_redirects=False,
                                         timeout=(opts.connect_timeout, opts.read_timeout))
        except requests.exceptions.Timeout:
            raise CaptureError(f"timed out connecting or waiting for the first byte "
                               f"({opts.connect_timeout:g} s / {opts.read_timeout:g} s)") from None
        except requests.exceptions.RequestException as exc:
            raise CaptureError(f"cannot connect: {_reason(exc)}") from None
        try:
            declared = resp.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise CaptureError(f"response declares {int(declared):,} bytes, over the limit of {limit:,} "
                                   "(--max-size): not downloaded")
            digest, size, head = hashlib.sha256(), 0, b""
            with open(body, "wb") as fh:
                for chunk in _chunks(resp.raw, started, opts.total_timeout):
                    size += len(chunk)
                    if size > limit:
                        raise CaptureError(f"response is larger than the limit of {limit:,} bytes (--max-size): "
                                           "cut off, nothing kept")
                    if len(head) < HEAD:
                        head = (head + chunk)[:HEAD]
                    digest.update(chunk)
                    fh.write(chunk)
            if declared.isdigit() and size != int(declared) and not resp.headers.get("content-encoding"):
                raise CaptureError(f"truncated: the server declared {int(declared):,} bytes but sent {size:,}")
        except CaptureError:
            body.unlink(missing_ok=True)
            raise
        except Exception as exc:  # noqa: BLE001 - requests, urllib3 and socket errors while reading
            body.unlink(missing_ok=True)
            raise CaptureError(_read_failure(exc, opts)) from None
        finally:
            resp.close()
        self.bytes += size
        raw_headers = tuple((str(k), str(v)) for k, v in resp.raw.headers.items())
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(getattr(resp.raw, "version", 11), "HTTP/1.1")
        got = Fetched(url, url, resp.status_code, resp.reason or "", raw_headers, body, size, digest.hexdigest(),
                      head, when, time.monotonic() - started,
                      request_headers=tuple((str(k), str(v)) for k, v in resp.request.headers.items()),
                      http_version=version)
        self.log.append(got)
        return got


def _chunks(raw: Any, started: float, total: float) -> Any:
    """The body as it arrives, unmodified (no content decoding); CaptureError once `total` seconds pass."""
    read = getattr(raw, "read1", None)
    while True:
        if time.monotonic() - started > total:
            raise CaptureError(f"the response did not finish within {total:g} s (--timeout): cut off, nothing kept")
        chunk = read(CHUNK, decode_content=False) if read else raw.read(CHUNK, decode_content=False)
        if not chunk:
            return
        yield chunk


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "No route to host", "timed out",
                   "Temporary failure in name resolution", "SOCKS", "ProxyError", "Remote end closed"):
        if marker in text:
            return marker.lower() if marker[0].isupper() and marker != "SOCKS" else marker
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _read_failure(exc: BaseException, opts: NetOptions) -> str:
    text = str(exc)
    if "timed out" in text.lower() or "timeout" in type(exc).__name__.lower():
        return f"timed out: no data for {opts.read_timeout:g} s (--timeout)"
    m = re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected", text)
    if m:
        got, more = int(m.group(1)), int(m.group(2))
        return f"truncated: the server declared {got + more:,} bytes but closed the connection after {got:,}"
    if "incomplete" in text.lower() or "length" in text.lower():
        return f"truncated: the connection closed before the declared length ({text.splitlines()[0][:160]})"
    return f"failed while reading: {text.splitlines()[0][:200] if text else type(exc).__name__}"


def now_iso() -> str:
    """The current UTC time, ISO 8601 with microseconds."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
