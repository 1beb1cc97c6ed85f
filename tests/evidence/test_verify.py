"""Verify catches each way of tampering and names what failed; intact bundles verify, with or without osint."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.evidence import create_key, unlock, verify_bundle
from tests.evidence.conftest import PASSPHRASE, export

runner = CliRunner()


@pytest.fixture
def bundle(world, tmp_path) -> Path:
    export(world, tmp_path / "bundle")
    return tmp_path / "bundle"


def _reseal(folder: Path, signer=None) -> None:  # type: ignore[no-untyped-def]
    """What a forger would do: recompute the manifests (and re-sign with their own key if given)."""
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        lines = (folder / manifest).read_text().splitlines()
        names = [line.split("  ", 1)[1] for line in lines]
        (folder / manifest).write_text("".join(
            f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names))
    if signer is not None:
        (folder / "signer.pem").write_bytes(signer.info.public_pem())
        doc = json.loads((folder / "signer.json").read_text())
        doc["fingerprint"] = signer.info.fingerprint
        (folder / "signer.json").write_text(json.dumps(doc))
        _reseal(folder)
        tagmanifest = (folder / "tagmanifest-sha256.txt").read_bytes()
        (folder / "tagmanifest-sha256.txt.sig").write_bytes(signer.sign(tagmanifest))


def _failures(folder: Path, world) -> list[str]:  # type: ignore[no-untyped-def]
    report = verify_bundle(folder, pubkey=world.lead.info.public_key)
    assert not report.ok and report.verdict().startswith("INVALID")
    return [str(f) for f in report.failures]


def _custody_lines(bundle: Path) -> list[bytes]:
    return (bundle / "custody" / "custody.jsonl").read_bytes().splitlines(keepends=True)


def test_intact_bundle_verifies(world, bundle):
    report = verify_bundle(bundle, pubkey=world.lead.info.public_key)
    assert report.ok, report.failures
    assert report.signer_trusted is True and report.files_hashed >= 10
    untrusted = verify_bundle(bundle)
    assert untrusted.ok and untrusted.signer_trusted is None and "NOT authenticated" in untrusted.verdict()
    assert verify_bundle(bundle, trusted=[world.lead.info.fingerprint[:39]]).signer_trusted is True  # 32 hex


def test_byte_flipped_in_original(world, bundle):
    path = bundle / "data" / "originals" / f"{world.ua0412[0]}.jpg"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert any(f.startswith(f"payload: data/originals/{world.ua0412[0]}.jpg: file changed")
               for f in _failures(bundle, world))


def test_derived_file_changed(world, bundle):
    (bundle / "data" / "derived" / f"{world.crop}.jpg").write_bytes(b"another face")
    assert any(f.startswith("payload: data/derived/") and "file changed" in f for f in _failures(bundle, world))


def test_file_added(world, bundle):
    (bundle / "data" / "originals" / "extra.jpg").write_bytes(b"planted")
    (bundle / "notes.txt").write_text("planted")
    failures = _failures(bundle, world)
    assert "payload: data/originals/extra.jpg: file added: not listed in manifest-sha256.txt" in failures
    assert "tag file: notes.txt: file added: not listed in tagmanifest-sha256.txt" in failures


def test_file_removed(world, bundle):
    (bundle / "data" / "originals" / f"{world.ua0412[1]}.jpg").unlink()
    assert any(f.startswith(f"payload: data/originals/{world.ua0412[1]}.jpg: file removed")
               for f in _failures(bundle, world))


def test_bag_info_edited(world, bundle):
    info = bundle / "bag-info.txt"
    info.write_text(info.read_text().replace("Exported-By: lead-maria", "Exported-By: someone-else"))
    assert any(f.startswith("tag file: bag-info.txt: file changed") for f in _failures(bundle, world))


def test_custody_entry_edited_even_when_manifests_are_recomputed(world, bundle):
    lines = _custody_lines(bundle)
    i = next(n for n, line in enumerate(lines) if b'"action":"add"' in line)
    lines[i] = lines[i].replace(b'"actor":"volunteer-anna"', b'"actor":"volunteer-ivan"')
    (bundle / "custody" / "custody.jsonl").write_bytes(b"".join(lines))
    plain = _failures(bundle, world)
    assert any(f.startswith("tag file: custody/custody.jsonl: file changed") for f in plain)
    assert any(f.startswith(f"custody: custody entry {i + 2}: does not link") for f in plain)
    _reseal(bundle)
    forged = _failures(bundle, world)
    assert any(f.startswith("signature: tagmanifest-sha256.txt.sig") for f in forged)
    assert any(f.startswith("custody: ") for f in forged)


def test_custody_entry_removed(world, bundle):
    lines = _custody_lines(bundle)
    del lines[2]
    (bundle / "custody" / "custody.jsonl").write_bytes(b"".join(lines))
    failures = _failures(bundle, world)
    assert any(f.startswith("custody: custody entry 4: found where entry 3 should be") for f in failures)


def test_custody_entries_reordered(world, bundle):
    lines = _custody_lines(bundle)
    lines[2], lines[3] = lines[3], lines[2]
    (bundle / "custody" / "custody.jsonl").write_bytes(b"".join(lines))
    failures = _failures(bundle, world)
    assert any(f.startswith("custody: custody entry 4: found where entry 3 should be") for f in failures)


def test_signature_from_another_key(world, bundle):
    mallory = unlock(create_key("Mallory", PASSPHRASE), PASSPHRASE)
    sig = bundle / "tagmanifest-sha256.txt.sig"
    sig.write_bytes(mallory.sign((bundle / "tagmanifest-sha256.txt").read_bytes()))
    assert any(f.startswith("signature: tagmanifest-sha256.txt.sig: not a valid signature")
               for f in _failures(bundle, world))
    _reseal(bundle, signer=mallory)              # a complete forgery under Mallory's own key
    assert any(f.startswith("signer: signer.pem: bundle was signed by key") for f in _failures(bundle, world))
    alone = verify_bundle(bundle)                # without a trusted key, integrity only: the verdict says so,
    assert alone.ok and alone.signer_trusted is None  # and shows the forger's fingerprint (the name is a claim)
    assert mallory.info.fingerprint in alone.verdict() and "NOT authenticated" in alone.verdict()


def test_result_edited_and_resigned_breaks_custody_cross_check(world, bundle):
    mallory = unlock(create_key("Mallory", PASSPHRASE), PASSPHRASE)
    path = bundle / "data" / "results.json"
    doc = json.loads(path.read_text())
    hit = next(r for r in doc["results"] if r["stage"] == "faces")
    hit["data"]["faces"][0]["box"] = [0, 0, 1, 1]
    path.write_text(json.dumps(doc))
    _reseal(bundle, signer=mallory)
    failures = [str(f) for f in verify_bundle(bundle).failures]
    assert any(f.startswith("custody: result faces of") and "no custody entry logged" in f for f in failures)


def test_truncated_zip(world, tmp_path):
    export(world, tmp_path / "b.zip")
    data = (tmp_path / "b.zip").read_bytes()
    (tmp_path / "t.zip").write_bytes(data[: len(data) * 2 // 3])
    report = verify_bundle(tmp_path / "t.zip")
    assert not report.ok and "damaged or truncated zip" in str(report.failures[0])


def test_cli_verdict_and_exit_codes(world, bundle, tmp_path):
    (tmp_path / "lead.pub").write_bytes(world.lead.info.public_pem())
    export(world, tmp_path / "b.zip")
    ok = runner.invoke(app, ["evidence", "verify", str(tmp_path / "b.zip"), "--pubkey", str(tmp_path / "lead.pub")])
    assert ok.exit_code == 0 and ok.stdout.startswith("VALID:"), ok.output
    assert "volunteer-oleh" in ok.stdout
    shutil.copy(bundle / "summary.html", bundle / "data" / "planted.html")
    bad = runner.invoke(app, ["evidence", "verify", str(bundle), "--pubkey", str(tmp_path / "lead.pub")])
    assert bad.exit_code == 1 and bad.stdout.startswith("INVALID: ")
    assert "payload: data/planted.html: file added" in bad.stdout


@pytest.mark.parametrize("name, content", [("signer.json", "[]"), ("data/results.json", "[1, 2]")])
def test_wrongly_shaped_json_is_invalid_not_a_crash(world, bundle, name, content):
    (bundle / name).write_text(content)
    _reseal(bundle)
    report = verify_bundle(bundle)
    assert not report.ok and report.failures


def test_markup_in_a_bundle_name_is_printed_as_is(world, bundle, tmp_path):
    odd = tmp_path / "evidence [/x] [bold]b"
    shutil.copytree(bundle, odd)
    (odd / "extra.txt").write_text("added")
    res = runner.invoke(app, ["evidence", "verify", str(odd)])
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_a_short_fingerprint_prefix_is_not_trusted(world, bundle):
    fp = world.lead.info.fingerprint.replace(" ", "")
    assert verify_bundle(bundle, trusted=[fp[:32]]).ok
    assert not verify_bundle(bundle, trusted=[fp[:16]]).ok


def test_one_non_entry_line_breaks_only_itself(world, bundle):
    lines = _custody_lines(bundle)
    lines[1] = b"[1, 2]\n"
    (bundle / "custody" / "custody.jsonl").write_bytes(b"".join(lines))
    _reseal(bundle)
    custody = [f for f in verify_bundle(bundle).failures if f.what == "custody"]
    assert custody[0].where == "custody entry 2"
    assert not any("link" in f.reason or "should be" in f.reason for f in custody), custody  # no cascade
