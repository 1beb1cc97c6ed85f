"""Capture connects only to the address it checked: a DNS answer that changes after the check (rebinding) is never
connected to, and HTTPS still presents and verifies the host name. Names are answered by a fake resolver; the one
"public" address is routed to the local test site by a fake connect, so nothing leaves 127.0.0.1."""

from __future__ import annotations

import socket
import ssl
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from osint.capture.net import Fetcher, NetOptions
from tests.capture.site import Site

PUBLIC = "93.184.216.34"        # a global address: passes the check; its connections are routed to the test site


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[list[str]]]) -> list[str]:
    """Answer getaddrinfo for the names in `answers`: the n-th lookup of a name gets its n-th list of addresses
    (the last one again after that); any other name does not resolve. Returns the names looked up, in order."""
    lookups: list[str] = []

    def getaddrinfo(host: object, port: object, *args: object, **kw: object) -> list[tuple]:
        name = str(host)
        if name not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        n = sum(1 for done in lookups if done == name)
        lookups.append(name)
        ips = answers[name][min(n, len(answers[name]) - 1)]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (ip, int(str(port)))) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def fake_routes(monkeypatch: pytest.MonkeyPatch, routes: dict[tuple[str, int], tuple[str, int]]) -> list[object]:
    """Record every socket connect; one to an address in `routes` goes to its local stand-in, one to 127.0.0.1
    goes through, any other fails. Returns the addresses asked for, in order."""
    real = socket.socket.connect
    asked: list[object] = []

    def connect(self: socket.socket, address: Any) -> None:
        asked.append(address)
        target = routes.get(address) if isinstance(address, tuple) else None
        if target is None and not (isinstance(address, tuple) and address[0] == "127.0.0.1"):
            raise OSError(f"test: no route to {address}")
        real(self, target or address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return asked


def fetcher(tmp_path: Path, **kw: Any) -> Fetcher:
    """A Fetcher with no rate limit and short timeouts (no proxy: the pinned, direct path)."""
    options = {"rate": 0.0, "read_timeout": 2.0, "total_timeout": 3.0, "connect_timeout": 2.0} | kw
    return Fetcher(NetOptions(**options), tmp_path)


def test_rebinding_answer_is_never_connected(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from osint.capture.net import RefusedURL

    port = site.server.server_address[1]
    lookups = fake_dns(monkeypatch, {"rebind.test": [[PUBLIC], [PUBLIC], ["127.0.0.1"]]})
    asked = fake_routes(monkeypatch, {(PUBLIC, 80): ("127.0.0.1", port)})
    f = fetcher(tmp_path)
    got = f.fetch("http://rebind.test/moved")            # a redirect on the same host: each hop checked and pinned
    assert got.status == 200 and b"pupils" in got.read().lower()
    assert got.redirects == ("http://rebind.test/moved",)
    assert lookups == ["rebind.test", "rebind.test"]       # one lookup per hop; the connection never looks up
    assert asked == [(PUBLIC, 80)]                          # the checked address, one connection kept alive
    assert [h["Host"] for _, h in site.requests[-2:]] == ["rebind.test", "rebind.test"]
    assert site.peers[-1] == site.peers[-2]
    served = len(site.requests)
    with pytest.raises(RefusedURL, match="127.0.0.1"):     # the name now answers loopback: refused, not connected
        f.fetch("http://rebind.test/news/pupils.html")
    assert asked == [(PUBLIC, 80)] and len(site.requests) == served
    f.close()


def test_changed_answer_after_the_check_is_not_used(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """With the old double lookup the connection would take the second answer (the local site); pinned, it
    goes to the checked public address, which has no route here, and fails naming nothing local."""
    from osint.capture.net import CaptureError

    port = site.server.server_address[1]
    fake_dns(monkeypatch, {"rebind.test": [[PUBLIC], ["127.0.0.1"]]})
    asked = fake_routes(monkeypatch, {})
    served = len(site.requests)
    with pytest.raises(CaptureError, match="cannot connect") as exc:
        fetcher(tmp_path).fetch(f"http://rebind.test:{port}/news/pupils.html")
    assert "rebind.test" in str(exc.value)
    assert asked == [(PUBLIC, port)] and len(site.requests) == served


def test_allow_private_connects_to_the_checked_answer(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    port = site.server.server_address[1]
    lookups = fake_dns(monkeypatch, {"camp.internal": [["127.0.0.1"], ["10.9.8.7"]]})
    asked = fake_routes(monkeypatch, {})
    got = fetcher(tmp_path, allow_private=True).fetch(f"http://camp.internal:{port}/news/pupils.html")
    assert got.status == 200 and site.requests[-1][1]["Host"] == f"camp.internal:{port}"
    assert lookups == ["camp.internal"] and asked == [("127.0.0.1", port)]


def test_every_answer_is_checked_and_unchecked_requests_cannot_connect(site: Site, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    from osint.capture.net import RefusedURL, resolve_checked

    fake_dns(monkeypatch, {"mixed.test": [[PUBLIC, "10.1.2.3"]], "plain.test": [[PUBLIC, "8.8.4.4"]]})
    with pytest.raises(RefusedURL, match="at 10.1.2.3"):
        resolve_checked("https://mixed.test/")
    assert [a[1] for a in resolve_checked("https://plain.test:8443/")] == [(PUBLIC, 8443), ("8.8.4.4", 8443)]
    f = fetcher(tmp_path, allow_private=True)
    served = len(site.requests)
    with pytest.raises(RefusedURL, match="not checked"):   # the session on its own, past the Fetcher's check
        f.session.get(site.url("/news/pupils.html"))
    assert len(site.requests) == served


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (DNS name only, no IP address) and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_presents_and_verifies_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from osint.capture.net import CaptureError

    cert, key = self_signed(tmp_path, "pinned.test")
    names: list[str | None] = []
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            hosts.append(self.headers.get("Host", ""))
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"tls ok")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        lookups = fake_dns(monkeypatch, {"pinned.test": [["127.0.0.1"], ["10.9.8.7"]]})
        f = fetcher(tmp_path, allow_private=True)
        f.session.verify = str(cert)                     # trust this one certificate, checked as any other
        got = f.fetch(f"https://pinned.test:{port}/")
        assert got.status == 200 and got.read() == b"tls ok"
        assert names == ["pinned.test"] and hosts == [f"pinned.test:{port}"] and lookups == ["pinned.test"]
        with pytest.raises(CaptureError, match="cannot connect"):   # the same server by address: the name is checked
            f.fetch(f"https://127.0.0.1:{port}/")
        assert len(hosts) == 1
        f.close()
    finally:
        server.shutdown()
        server.server_close()
