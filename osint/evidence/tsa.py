"""Trusted time (RFC 3161): a timestamp authority's signed token saying the bundle's signature existed then.

The token's message imprint is SHA-256 of the 64-byte Ed25519 signature, so it pins the signature, which
pins the tag manifest, which pins every file. Without a token a bundle's time is only the signer's claim.
Verification checks the imprint, that the TSA's certificate in the token signed the token (RSA PKCS#1 v1.5
or ECDSA over the signed attributes, whose message digest must match the token content), and reports the
TSA's name and certificate fingerprint: whether to trust that authority is the recipient's decision.
"""

from __future__ import annotations

import hashlib
import secrets
import urllib.error
import urllib.request
from typing import Any

from osint.errors import OsintError

HASHES = {"sha256", "sha384", "sha512"}


def request_timestamp(url: str, signature: bytes, timeout: float = 30) -> bytes:
    """Ask the TSA at `url` for a token over SHA-256(signature); returns the token (CMS ContentInfo DER)."""
    from asn1crypto import tsp

    nonce = secrets.randbits(63)
    req = tsp.TimeStampReq({"version": 1, "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                                                              "hashed_message": hashlib.sha256(signature).digest()},
                            "nonce": nonce, "cert_req": True})
    http = urllib.request.Request(url, data=req.dump(), headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(http, timeout=timeout) as resp:  # noqa: S310 (the user named this URL)
            body = resp.read(1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OsintError(f"timestamp authority {url} failed: {exc}") from None
    try:
        answer = tsp.TimeStampResp.load(body)
        status = answer["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise OsintError(f"timestamp authority {url} refused: {status} "
                             f"{answer['status']['status_string'].native or ''}".strip())
        token = answer["time_stamp_token"].dump()
        problems: list[Any] = []
        check_timestamp(token, signature, problems)
        tst = _tst_info(token)
    except (ValueError, TypeError, KeyError) as exc:
        raise OsintError(f"timestamp authority {url} sent an unreadable answer: {exc}") from None
    if problems:
        raise OsintError(f"timestamp authority {url} sent a bad token: {problems[0]}")
    if tst["nonce"].native != nonce:
        raise OsintError(f"timestamp authority {url} answered another request (nonce differs)")
    return token


def _tst_info(token: bytes) -> Any:
    from asn1crypto import cms

    encap = cms.ContentInfo.load(token)["content"]["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise ValueError("token does not hold a TSTInfo")
    return encap["content"].parsed


def check_timestamp(token: bytes, signature: bytes, failures: list[Any]) -> str:
    """Check a token over `signature`; append Failure(s) to `failures`; return 'TIME by TSA (cert sha256)'."""
    from asn1crypto import cms
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    from osint.evidence.verify import Failure

    where = "tagmanifest-sha256.txt.tsr"
    try:
        signed = cms.ContentInfo.load(token)["content"]
        tst = _tst_info(token)
        tst_der = signed["encap_content_info"]["content"].contents
        imprint = tst["message_imprint"]
        algo = imprint["hash_algorithm"]["algorithm"].native
        if algo not in HASHES or imprint["hashed_message"].native != hashlib.new(algo, signature).digest():
            failures.append(Failure("timestamp", where, "the token is not over this bundle's signature"))
        info = signed["signer_infos"][0]
        sid = info["sid"].chosen
        cert = next(c.chosen for c in signed["certificates"]
                    if c.name == "certificate" and c.chosen.issuer == sid["issuer"]
                    and c.chosen.serial_number == sid["serial_number"].native)
        digest_algo = info["digest_algorithm"]["algorithm"].native
        attrs = {a["type"].native: a["values"][0].native for a in info["signed_attrs"]}
        if attrs.get("message_digest") != hashlib.new(digest_algo, tst_der).digest():
            failures.append(Failure("timestamp", where, "the token's content does not match what the TSA signed"))
        signed_bytes = b"\x31" + info["signed_attrs"].dump()[1:]   # [0] IMPLICIT -> SET OF, as signed
        key = x509.load_der_x509_certificate(cert.dump()).public_key()
        chosen: hashes.HashAlgorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
                                        "sha512": hashes.SHA512()}[digest_algo]
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(info["signature"].native, signed_bytes, padding.PKCS1v15(), chosen)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(info["signature"].native, signed_bytes, ec.ECDSA(chosen))
        else:
            failures.append(Failure("timestamp", where, "unsupported TSA key type"))
    except InvalidSignature:
        failures.append(Failure("timestamp", where, "the TSA's signature on the token is not valid"))
        return ""
    except (ValueError, TypeError, KeyError, StopIteration, IndexError) as exc:
        failures.append(Failure("timestamp", where, f"unreadable timestamp token ({exc or type(exc).__name__})"))
        return ""
    fp = hashlib.sha256(cert.dump()).hexdigest()
    when = tst["gen_time"].native.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{when} by TSA {cert.subject.human_friendly} (certificate SHA-256 {fp})"
