"""Signing keys: Ed25519 key pairs that belong to a person (not a case), private half encrypted at rest.

A key file is JSON in $OSINT_HOME/keys/ (default ~/.config/osint/keys/; both folders 0700), mode 0600 (a
folder or key file another user could write or read is refused, as ssh refuses one): the holder's name and
role, the public key, and the 32-byte private key sealed with ChaCha20-Poly1305 under a key derived from the
passphrase by scrypt (N=2^15, r=8, p=1: about 0.1 s and 32 MiB per try, so guessing is slow; PKCS#8's
default PBKDF2 with 2048 rounds is not). The holder's name, role and public key are the AEAD's associated
data, so editing them in the file makes the key unusable. The fingerprint is SHA-256 of the 32 raw
public-key bytes, shown in groups of 4 hex digits; it is what a recipient compares over a second channel
(phone, letter) to trust a signer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from osint.case import utcnow
from osint.errors import OsintError

KEY_FORMAT = "osint-signing-key/1"
SCRYPT = {"n": 1 << 15, "r": 8, "p": 1}
EVIDENCE_LEAD = "evidence-lead"
ROLES = (EVIDENCE_LEAD, "volunteer")


class KeyProblem(OsintError):
    """A key is missing, ambiguous, unreadable, or the passphrase is wrong."""


SCRYPT_MAX_N, SCRYPT_MAX_R, SCRYPT_MAX_P = 1 << 20, 32, 16   # a key file asking for more is refused (memory)


def osint_home() -> Path:
    """Per-person settings folder: $OSINT_HOME, else ~/.config/osint."""
    return Path(os.environ.get("OSINT_HOME") or Path.home() / ".config" / "osint")


def keys_dir() -> Path:
    return osint_home() / "keys"


def check_private(path: Path, secret: bool = False) -> None:
    """Refuse, as ssh does, a folder or key file that another local user could replace or read: it must be
    ours and not writable (for a key file: not even readable) by group or others. One line says how to fix."""
    try:
        st = path.stat()
    except OSError as exc:
        raise KeyProblem(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise KeyProblem(f"{path} belongs to another user (uid {st.st_uid}, you are {os.getuid()}): another user "
                         f"could have put keys there; refused (fix: chown {os.getuid()} '{path}')")
    mode = st.st_mode & 0o777
    loose = mode & (0o077 if secret else 0o022)
    if loose:
        tight = 0o600 if secret else 0o700
        what = "readable or writable" if secret else "writable"
        raise KeyProblem(f"{path} is {what} by other users (mode {mode:04o}); refused, as ssh does "
                         f"(fix: chmod {tight:o} '{path}')")


def _private_folder(folder: Path) -> None:
    """Create `folder` (and $OSINT_HOME above it when it is the keys folder) with mode 0700 whatever the umask;
    check both when they already exist."""
    home = osint_home()
    for path in ([home] if folder.parent == home else []) + [folder]:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            path.mkdir(mode=0o700)
            os.chmod(path, 0o700)  # mkdir's mode is masked by the umask (harmless here, but be exact)
        except FileExistsError:
            pass
        check_private(path)


def fingerprint(public_raw: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, as 16 groups of 4 hex digits."""
    digest = hashlib.sha256(public_raw).hexdigest()
    return " ".join(digest[i:i + 4] for i in range(0, 64, 4))


def normalise_fingerprint(text: str) -> str:
    """Fingerprint or prefix as plain lower-case hex (spaces and colons dropped)."""
    return re.sub(r"[\s:]", "", text).lower()


def public_pem(public_raw: bytes) -> bytes:
    """The public key as standard SubjectPublicKeyInfo PEM (what `openssl pkeyutl -pubin` reads)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(data: bytes) -> bytes:
    """Raw 32-byte Ed25519 public key from PEM (as `keys export-public` writes it); raises KeyProblem."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise KeyProblem(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyProblem("the public key is not an Ed25519 key")
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify_signature(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by the key `public_raw`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class KeyInfo:
    """A stored key pair's public facts; the private key stays encrypted in `path`."""

    name: str
    role: str
    created_at: str
    public_key: bytes
    path: Path

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def public_pem(self) -> bytes:
        return public_pem(self.public_key)


@dataclass(frozen=True)
class Signer:
    """An unlocked key: signs with its private key; carries the holder's name and role."""

    info: KeyInfo
    _private: object

    def sign(self, message: bytes) -> bytes:
        """Detached Ed25519 signature (64 bytes) over `message`."""
        return self._private.sign(message)  # type: ignore[attr-defined]


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "key"


def _sealing_key(passphrase: str, kdf: dict) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
    if not (2 <= n <= SCRYPT_MAX_N and n & (n - 1) == 0 and 1 <= r <= SCRYPT_MAX_R and 1 <= p <= SCRYPT_MAX_P):
        raise ValueError(f"scrypt parameters n={n}, r={r}, p={p} are out of range (n a power of 2 up to 2^20, "
                         f"r up to {SCRYPT_MAX_R}, p up to {SCRYPT_MAX_P}): refused, they could exhaust memory")
    return Scrypt(salt=base64.b64decode(kdf["salt"]), length=32, n=int(kdf["n"]), r=int(kdf["r"]),
                  p=int(kdf["p"])).derive(passphrase.encode("utf-8"))


def _bound(name: str, role: str, public_raw: bytes) -> bytes:
    """What the sealed private key is bound to (AEAD associated data)."""
    return json.dumps([KEY_FORMAT, name, role, base64.b64encode(public_raw).decode()]).encode("utf-8")


def create_key(name: str, passphrase: str, role: str = EVIDENCE_LEAD, folder: Path | None = None) -> KeyInfo:
    """Make a new Ed25519 key pair for `name`, seal its private half with `passphrase`, save it (0600)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    if not name.strip():
        raise KeyProblem("a key needs the holder's name (--name)")
    if role not in ROLES:
        raise KeyProblem(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not passphrase:
        raise KeyProblem("an empty passphrase would leave the private key unprotected")
    if any(k.name == name for k in list_keys(folder)):
        raise KeyProblem(f"a key named {name!r} already exists")
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption())
    kdf = {"name": "scrypt", "salt": base64.b64encode(os.urandom(16)).decode(), **SCRYPT}
    nonce = os.urandom(12)
    sealed = ChaCha20Poly1305(_sealing_key(passphrase, kdf)).encrypt(nonce, secret, _bound(name, role, raw))
    folder = folder or keys_dir()
    _private_folder(folder)
    path = folder / f"{_slug(name)}-{hashlib.sha256(raw).hexdigest()[:8]}.key"
    doc = {"format": KEY_FORMAT, "name": name, "role": role, "created_at": utcnow(),
           "public_key": base64.b64encode(raw).decode(), "kdf": kdf, "cipher": "chacha20-poly1305",
           "nonce": base64.b64encode(nonce).decode(), "sealed_private_key": base64.b64encode(sealed).decode()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)
        fh.write("\n")
    os.chmod(path, 0o600)
    return _info(path, doc)


def _info(path: Path, doc: dict) -> KeyInfo:
    return KeyInfo(name=doc["name"], role=doc["role"], created_at=doc["created_at"],
                   public_key=base64.b64decode(doc["public_key"]), path=path)


def _read(path: Path) -> dict:
    check_private(path, secret=True)
    try:
        doc = json.loads(path.read_bytes()[:1 << 20])
        if not isinstance(doc, dict) or doc.get("format") != KEY_FORMAT:
            raise ValueError(f"format is {doc.get('format') if isinstance(doc, dict) else None!r}, expected {KEY_FORMAT}")
        _info(path, doc)
        return doc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyProblem(f"{path}: not a readable osint key: {exc}") from None


def list_keys(folder: Path | None = None, problems: list[str] | None = None) -> list[KeyInfo]:
    """The keys stored in `folder` (default: $OSINT_HOME/keys), sorted by name, after checking that the folder
    (and $OSINT_HOME) are ours and private. A key file that cannot be used is left out and described in
    `problems` (when given): one bad file blocks only itself."""
    folder = folder or keys_dir()
    if not folder.is_dir():
        return []
    for path in ([osint_home()] if folder.parent == osint_home() else []) + [folder]:
        check_private(path)
    keys = []
    for path in sorted(folder.glob("*.key")):
        try:
            keys.append(_info(path, _read(path)))
        except KeyProblem as exc:
            if problems is not None:
                problems.append(str(exc))
    return sorted(keys, key=lambda k: (k.name, k.path))


def find_key(which: str | None, folder: Path | None = None) -> KeyInfo:
    """The key named `which` (holder name, fingerprint prefix, or a key file path); the only key if None."""
    if which and Path(which).is_file():
        path = Path(which)
        return _info(path, _read(path))
    problems: list[str] = []
    keys = list_keys(folder, problems)
    unusable = f"; {len(problems)} key file(s) unusable: {problems[0]}" if problems else ""
    if not keys:
        raise KeyProblem(f"no usable keys in {folder or keys_dir()} (run `osint keys init --name ...`){unusable}")
    if which is None:
        if len(keys) > 1:
            raise KeyProblem("several keys exist; name one with --key (holder name or fingerprint)")
        return keys[0]
    hexpart = normalise_fingerprint(which)
    hits = [k for k in keys if k.name == which]
    if not hits and len(hexpart) >= 4 and re.fullmatch(r"[0-9a-f]+", hexpart):
        hits = [k for k in keys if normalise_fingerprint(k.fingerprint).startswith(hexpart)]
    if not hits:
        raise KeyProblem(f"no key named or fingerprinted {which!r} (see `osint keys ls`){unusable}")
    if len(hits) > 1:
        raise KeyProblem(f"{which!r} matches several keys; give the fingerprint")
    return hits[0]


def unlock(info: KeyInfo, passphrase: str) -> Signer:
    """Open the sealed private key with `passphrase`; a wrong passphrase raises one clear KeyProblem."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    doc = _read(info.path)
    try:
        box = ChaCha20Poly1305(_sealing_key(passphrase, doc["kdf"]))
        secret = box.decrypt(base64.b64decode(doc["nonce"]), base64.b64decode(doc["sealed_private_key"]),
                             _bound(doc["name"], doc["role"], base64.b64decode(doc["public_key"])))
    except InvalidTag:
        raise KeyProblem(f"wrong passphrase for key {info.name!r} ({info.path}), or the key file was "
                         "edited") from None
    except (KeyError, ValueError, TypeError, OverflowError, MemoryError) as exc:
        raise KeyProblem(f"{info.path}: damaged key file ({exc})") from None
    private = Ed25519PrivateKey.from_private_bytes(secret)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if raw != info.public_key:
        raise KeyProblem(f"{info.path}: the private key does not belong to the public key recorded with it")
    return Signer(info, private)
