"""Export: a BagIt bag the stock validator accepts, originals untouched, deterministic, nothing leaked."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import bagit
import pytest
from typer.testing import CliRunner

from osint.cli import app
from osint.errors import CaseError, OsintError
from tests.conftest import make_photo
from osint.evidence import create_key, export_bundle, select_items, unlock, verify_bundle
from tests.evidence.conftest import PASSPHRASE, export

runner = CliRunner()


def _all_bytes(folder: Path, only: str = "") -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
                    and p.relative_to(folder).as_posix().startswith(only))


def test_bag_layout_validates_with_stock_bagit(world, tmp_path):
    result = export(world, tmp_path / "bundle")
    bag = bagit.Bag(str(tmp_path / "bundle"))
    bag.validate()                                   # raises on any problem
    sa, sr = world.ua0412
    for sha in (sa, sr):
        copied = tmp_path / "bundle" / "data" / "originals" / f"{sha}.jpg"
        assert copied.read_bytes() == world.case.object_path(sha).read_bytes()
    assert (tmp_path / "bundle" / "data" / "derived" / f"{world.crop}.jpg").read_bytes() == b"face crop bytes of A"
    info = bag.info
    assert info["Item-Count"] == "2" and info["Case-Id"] == world.case.id
    assert info["Exported-By"] == "lead-maria" and "signer's claim" in info["Time-Source"]
    assert info["Signer-Fingerprint"] == world.lead.info.fingerprint
    doc = json.loads((tmp_path / "bundle" / "data" / "results.json").read_text())
    stages = {(r["sha256"], r["stage"]) for r in doc["results"]}
    assert {(sa, "faces"), (sa, "match"), (sa, "phash")} <= stages
    assert {a["action"] for a in doc["analysis"]} >= {"analyse:match", "analyse:faces"}
    assert any(a["details"].get("threshold") == 0.363 for a in doc["analysis"])
    records = {(r["kind"], r["key"]) for r in doc["records"]}
    assert {("person", "UA-0412"), ("decision", "c0:lead-maria")} <= records
    assert not records & {("person", "UA-0500"), ("decision", "c1:lead-maria")}   # rejected: another child
    assert result.items == 2 and result.derived == 1


def test_zip_bag_validates_after_extraction(world, tmp_path):
    export(world, tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in zf.infolist())
        names = zf.namelist()
        assert names == sorted(names) and all(n.startswith("b/") for n in names)
        zf.extractall(tmp_path / "x")
    bagit.Bag(str(tmp_path / "x" / "b")).validate()


def test_originals_untouched(world, tmp_path):
    before = {s: (os.stat(world.case.object_path(s)), world.case.object_path(s).read_bytes())
              for s in world.ua0412}
    export(world, tmp_path / "b.zip")
    for sha, (st, data) in before.items():
        path = world.case.object_path(sha)
        now = os.stat(path)
        assert (now.st_mode, now.st_mtime_ns, now.st_ino) == (st.st_mode, st.st_mtime_ns, st.st_ino)
        assert path.read_bytes() == data


def test_deterministic_manifests(world, tmp_path):
    export(world, tmp_path / "one")
    export(world, tmp_path / "two")
    export(world, tmp_path / "three.zip")
    m1 = (tmp_path / "one" / "manifest-sha256.txt").read_bytes()
    assert m1 == (tmp_path / "two" / "manifest-sha256.txt").read_bytes()
    with zipfile.ZipFile(tmp_path / "three.zip") as zf:
        assert zf.read("three/manifest-sha256.txt") == m1


def test_no_leak_of_other_children(world, tmp_path):
    result = export(world, tmp_path / "bundle")
    assert result.redacted_results >= 1
    everything = _all_bytes(tmp_path / "bundle")
    for secret in [*world.other_paths, *world.other_urls, "UA-0500", "secret-channel"]:
        assert secret.encode() not in everything, secret
    shown = _all_bytes(tmp_path / "bundle", "data/") + (tmp_path / "bundle" / "summary.html").read_bytes()
    for sha in world.other:
        assert sha.encode() not in shown
    assert not any(world.other[0] in p.name for p in (tmp_path / "bundle").rglob("*"))
    # the withheld custody entries still link: the bundle verifies end to end
    assert verify_bundle(tmp_path / "bundle", pubkey=world.lead.info.public_key).ok


def test_export_logged_in_custody(world, tmp_path):
    result = export(world, tmp_path / "bundle")
    entry = world.case.custody()[-1]
    assert entry.action == "export" and entry.actor == "lead-maria"
    tm = hashlib.sha256((tmp_path / "bundle" / "tagmanifest-sha256.txt").read_bytes()).hexdigest()
    assert entry.outputs["tagmanifest_sha256"] == tm == result.tagmanifest_sha256
    assert sorted(entry.inputs["items"]) == sorted(world.ua0412)
    assert world.case.verify().ok


def test_who_did_what(world, tmp_path):
    export(world, tmp_path / "bundle")
    report = verify_bundle(tmp_path / "bundle")
    assert report.actors["volunteer-anna"]["add"] == 2
    assert "analyse:match" in report.actors["volunteer-oleh"]
    assert "refs:add" in report.actors["lead-maria"]
    html = (tmp_path / "bundle" / "summary.html").read_text()
    assert "volunteer-oleh" in html and "leads for human review" in html
    assert "<script" not in html and "src=" not in html and "href='http" not in html   # offline, inert


def test_group_is_an_item_and_its_reposts(case, tmp_path):
    from PIL import Image

    from osint.hashing import hash_case
    from osint.ingest import add_paths

    original = make_photo(tmp_path / "in" / "original.jpg", seed=11, size=(640, 480))
    Image.open(original).resize((320, 240)).save(tmp_path / "in" / "repost.jpg", quality=60)
    make_photo(tmp_path / "in" / "unrelated.jpg", seed=12, size=(640, 480))
    add_paths(case, [tmp_path / "in"], collector="v")
    shas = {Path(a.original_path).name: a.sha256 for a in case.acquisitions()}
    with pytest.raises(CaseError, match="osint hash"):
        select_items(case, group=shas["repost.jpg"][:8])
    hash_case(case)
    chosen = select_items(case, group=shas["repost.jpg"][:8])
    assert {i.sha256 for i in chosen.items} == {shas["original.jpg"], shas["repost.jpg"]}
    assert [i.sha256 for i in select_items(case, group=shas["unrelated.jpg"]).items] == [shas["unrelated.jpg"]]


def test_selection_ways(world):
    assert [i.sha256 for i in select_items(world.case, prefixes=[world.other[0][:8]]).items] == [world.other[0]]
    assert len(select_items(world.case, everything=True).items) == 4
    with pytest.raises(CaseError, match="exactly one"):
        select_items(world.case)
    with pytest.raises(CaseError, match="UA-9999.*UA-0412"):
        select_items(world.case, person="UA-9999")
    with pytest.raises(CaseError, match="no item starts with"):
        select_items(world.case, group="abcdef12")


def test_volunteer_key_cannot_sign(world, tmp_path):
    vol = unlock(create_key("Volunteer", PASSPHRASE, role="volunteer"), PASSPHRASE)
    with pytest.raises(OsintError, match="only an evidence-lead key"):
        export_bundle(world.case, select_items(world.case, everything=True), tmp_path / "b.zip", vol)
    assert not (tmp_path / "b.zip").exists()


def test_vics_layout(world, tmp_path):
    res = runner.invoke(app, ["evidence", "export", "-C", str(world.case.root), "--person", "UA-0412",
                              "--format", "vics", "--out", str(tmp_path / "b"), "--json"])
    assert res.exit_code == 0, res.output
    vics = json.loads((tmp_path / "b" / "data" / "vics.json").read_text())
    assert vics["@odata.context"].endswith("2.0.xml/US/$metadata#Cases")
    case_doc = vics["value"][0]
    assert case_doc["CaseID"] == world.case.id
    media = {m["SHA1"]: m for m in case_doc["Media"]}
    for sha in world.ua0412:
        data = world.case.object_path(sha).read_bytes()
        m = media[hashlib.sha1(data).hexdigest().upper()]
        assert m["MD5"] == hashlib.md5(data).hexdigest().upper() and m["MediaSize"] == len(data)
        assert (tmp_path / "b" / m["RelativeFilePath"]).read_bytes() == data
    found = media[hashlib.sha1(world.case.object_path(world.ua0412[0]).read_bytes()).hexdigest().upper()]
    assert "UA-0412" in found["Tags"] and "candidate for human review" in found["Comments"]
    assert "decision c0:lead-maria: person UA-0412, decision confirmed, reviewer lead-maria" in found["Comments"]
    assert verify_bundle(tmp_path / "b").ok


def test_cli_items_and_group(world, tmp_path):
    items = f"{world.ua0412[0][:10]},{world.ua0412[1][:10]}"
    res = runner.invoke(app, ["evidence", "export", "-C", str(world.case.root), "--items", items,
                              "--out", str(tmp_path / "i.zip"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["items"] == 2
    from osint.hashing import hash_case

    hash_case(world.case)
    res = runner.invoke(app, ["evidence", "export", "-C", str(world.case.root), "--group", world.other[0][:10],
                              "--out", str(tmp_path / "g"), "--json"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in (tmp_path / "g" / "data" / "originals").iterdir()}
    assert names == {f"{world.other[0]}.jpg"}  # b.jpg has no repost in this case
    res = runner.invoke(app, ["evidence", "verify", str(tmp_path / "g"), "--json",
                              "--trust", world.lead.info.fingerprint])
    assert res.exit_code == 0 and json.loads(res.stdout)["signer_trusted"] is True
