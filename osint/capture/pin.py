"""Connections pinned to checked addresses: how the Fetcher goes online without a proxy.

`net.resolve_checked` resolves a URL's host once and checks every address; the Fetcher puts the result in
its `PinnedAdapter`'s pin just before sending, and the adapter's urllib3 connections open their sockets to
those addresses only (no second lookup, so a DNS answer that changes after the check, rebinding, is never
connected to). The connection keeps the host name, so the Host header, TLS SNI and the certificate check
are the name's, exactly as before.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from osint.capture.net import Address, RefusedURL


@dataclass
class Pin:
    """The request under way and its checked addresses; ('', ()) between requests, when nothing may connect."""

    url: str = ""
    addresses: tuple[Address, ...] = ()


def connect_pinned(conn: HTTPConnection, addresses: tuple[Address, ...]) -> socket.socket:
    """A TCP socket to the first of `addresses` that accepts, in the resolver's order, with urllib3's timeout
    and socket options; no name is resolved here. Fails as urllib3 does, so requests reports it as before."""
    if not addresses:
        raise NewConnectionError(conn, f"no checked address to connect {conn.host} to")
    failure: OSError = OSError("no address")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            if conn.timeout is None or isinstance(conn.timeout, (int, float)):
                sock.settimeout(conn.timeout)
            if conn.source_address:
                sock.bind(conn.source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
    if isinstance(failure, TimeoutError):
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})")
    raise NewConnectionError(conn, f"Failed to establish a new connection: {failure}")


class PinnedHTTP(HTTPConnection):
    """An HTTP connection whose socket goes to the checked addresses of the request under way, never to a
    second DNS answer; `host` stays the name, for the Host header (and, over HTTPS, SNI and the certificate)."""

    def __init__(self, *args: Any, pin: Pin | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.pin = pin

    def _new_conn(self) -> socket.socket:
        return connect_pinned(self, self.pin.addresses if self.pin else ())


class PinnedHTTPS(PinnedHTTP, HTTPSConnection):
    """The HTTPS one: urllib3 wraps the pinned socket in TLS with the host name as SNI and checks the
    certificate against that name."""


class PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = PinnedHTTP


class PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = PinnedHTTPS


class PinnedAdapter(HTTPAdapter):
    """requests' adapter for direct connections: a request connects only to the addresses checked for it
    (`pin`, set by the Fetcher just before sending), so a changed DNS answer cannot redirect it. Keep-alive
    pools stay per scheme, host and port: a reused connection goes to an address checked for that host."""

    def __init__(self) -> None:
        self.pin = Pin()
        super().__init__()

    @contextmanager
    def pinned(self, url: str, addresses: tuple[Address, ...]) -> Iterator[None]:
        """Let the request for `url` (as prepared) connect to `addresses` while the block runs; nothing after."""
        self.pin.url, self.pin.addresses = url, addresses
        try:
            yield
        finally:
            self.pin.url, self.pin.addresses = "", ()

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = {"http": PinnedHTTPPool, "https": PinnedHTTPSPool}

    def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                        cert: Any = None) -> HTTPConnectionPool:
        if not self.pin.addresses or request.url != self.pin.url:
            raise RefusedURL(f"refused: {request.url} was not checked before connecting")
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        pool.conn_kw["pin"] = self.pin
        return pool
