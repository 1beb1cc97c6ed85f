"""A small case with two children's material, analysis from volunteers, and an evidence-lead key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import make_photo

PASSPHRASE = "correct horse battery staple"


@dataclass
class World:
    case: object
    ua0412: list[str]          # items of the child exported (found photo, reference photo)
    other: list[str]           # items of another child (must never leak)
    other_paths: list[str]
    other_urls: list[str]
    crop: str                  # derived crop of the exported child's face
    lead: object               # unlocked evidence-lead Signer
    home: Path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OSINT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("OSINT_KEY_PASSPHRASE", PASSPHRASE)
    return tmp_path / "home"


@pytest.fixture
def world(case, tmp_path: Path, home: Path) -> World:
    """Case: photo A (UA-0412 matched), reference R of UA-0412, photos B, C of child UA-0500."""
    from osint.evidence import create_key, unlock
    from osint.ingest import add_paths

    a = make_photo(tmp_path / "in" / "channel1" / "a.jpg", seed=1)
    ref = make_photo(tmp_path / "in" / "family" / "ua0412_2019.jpg", seed=2)
    b = make_photo(tmp_path / "in" / "secret-channel" / "b.jpg", seed=3)
    c = make_photo(tmp_path / "in" / "secret-channel" / "c.jpg", seed=4)
    add_paths(case, [a], collector="volunteer-anna", source_url="https://t.me/channel1/17")
    add_paths(case, [ref], collector="volunteer-anna", source_url="", role="reference")
    add_paths(case, [b, c], collector="volunteer-oleh", source_url="https://vk.com/secret-wall/99")
    shas = {Path(acq.original_path).name: acq.sha256 for acq in case.acquisitions()}
    sa, sr, sb, sc = (shas[n] for n in ("a.jpg", "ua0412_2019.jpg", "b.jpg", "c.jpg"))
    case.put_record("person", "UA-0412", {"name": "Denys K.", "born": 2007, "references": [sr]},
                    action="refs:add", actor="lead-maria")
    case.put_record("person", "UA-0500", {"name": "Other child", "references": []}, action="refs:add",
                    actor="lead-maria")
    crop = case.put_derived(b"face crop bytes of A", ".jpg")
    case.put_results("faces", "yunet-1", [(sa, {"faces": [{"box": [10, 10, 40, 40], "crop": crop}]}, None),
                                          (sb, {"faces": []}, None)], actor="volunteer-anna",
                     details={"detector": "yunet", "min_face_px": 12})
    case.put_results("match", "sface-1", [(sa, {"faces": [{"person": "UA-0412", "distance": 0.31, "fmr": 0.001},
                                                          {"person": "UA-0500", "distance": 0.62}]}, None),
                                          (sc, {"faces": [{"person": "UA-0500", "distance": 0.2}]}, None)],
                     actor="volunteer-oleh", details={"model": "sface", "threshold": 0.363})
    case.put_results("phash", "1", [(sa, {"phash": "ffee", "similar": [sb]}, None)], actor="volunteer-anna")
    for n, (item, verdict) in enumerate([(sa, "confirmed"), (sb, "rejected")]):
        case.put_record("decision", f"c{n}:lead-maria", {"person": "UA-0412", "item": item, "decision": verdict,
                                                        "reviewer": "lead-maria"}, action="review", actor="lead-maria",
                        inputs={"item": item, "person": "UA-0412"})
    case.put_record("dupe_group", "g1", {"members": [sb, sc]}, action="dupes", actor="volunteer-oleh")
    info = create_key("Evidence lead, NGO X", PASSPHRASE)
    return World(case, [sa, sr], [sb, sc], [str(b), str(c)], ["https://vk.com/secret-wall/99"], crop,
                 unlock(info, PASSPHRASE), home)


def export(world: World, out: Path, **selection):  # type: ignore[no-untyped-def]
    """Export `selection` (default: person UA-0412) from the world's case to `out`."""
    from osint.evidence import export_bundle, select_items

    sel = select_items(world.case, **(selection or {"person": "UA-0412"}))
    return export_bundle(world.case, sel, out, world.lead, actor="lead-maria")
