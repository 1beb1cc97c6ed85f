"""A throw-away RFC 3161 timestamp authority on 127.0.0.1 with a self-made ECDSA certificate (tests only)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer


def _authority():  # type: ignore[no-untyped-def]
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.DER)


def _respond(request: bytes, key, cert_der: bytes, serial: int) -> bytes:  # type: ignore[no-untyped-def]
    from asn1crypto import cms, tsp, x509 as ax509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    req = tsp.TimeStampReq.load(request)
    tst = tsp.TSTInfo({"version": 1, "policy": "1.3.6.1.4.1.99999.1", "message_imprint": req["message_imprint"],
                       "serial_number": serial, "gen_time": datetime.now(timezone.utc),
                       "nonce": req["nonce"].native})
    tst_der = tst.dump()
    attrs = cms.CMSAttributes([cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                               cms.CMSAttribute({"type": "message_digest",
                                                 "values": [hashlib.sha256(tst_der).digest()]})])
    cert = ax509.Certificate.load(cert_der)
    signer = cms.SignerInfo({
        "version": "v1", "digest_algorithm": {"algorithm": "sha256"}, "signed_attrs": attrs,
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {"issuer": cert.issuer,
                                                                  "serial_number": cert.serial_number}}),
        "signature_algorithm": {"algorithm": "sha256_ecdsa"},
        "signature": key.sign(attrs.dump(), ec.ECDSA(hashes.SHA256()))})
    signed = cms.SignedData({"version": "v3", "digest_algorithms": [{"algorithm": "sha256"}],
                             "encap_content_info": {"content_type": "tst_info", "content": tst},
                             "certificates": [cert], "signer_infos": [signer]})
    token = cms.ContentInfo({"content_type": "signed_data", "content": signed})
    return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token}).dump()


@contextmanager
def local_tsa() -> Iterator[str]:
    """Serve a TSA on 127.0.0.1 for the duration of the block; yields its URL."""
    key, cert_der = _authority()
    served = iter(range(1, 1 << 30))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = _respond(body, key, cert_der, next(served))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/tsa"
    finally:
        server.shutdown()
        server.server_close()
