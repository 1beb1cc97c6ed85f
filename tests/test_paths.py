"""Paths from the command line: a named pipe or a device is refused before it is opened (no hang, no
traceback) by every command that takes paths, and `add` of a folder never follows a link out of it."""

from __future__ import annotations

import builtins
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osint.case import Case
from osint.ingest import add_paths
from tests.conftest import make_photo

OSINT = [sys.executable, "-c", "from osint.cli import run; run()"]


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """A case, a good photo, a named pipe (nobody ever writes to it) and a folder of references holding one."""
    Case.create(tmp_path / "case", actor="t").close()
    fifo = tmp_path / "in" / "fifo.jpg"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    refs = tmp_path / "refs" / "UA-1"
    refs.mkdir(parents=True)
    os.mkfifo(refs / "ref.jpg")
    return {"case": tmp_path / "case", "fifo": fifo, "photo": make_photo(tmp_path / "ok.jpg", seed=1),
            "refs": refs.parent, "bundle": tmp_path / "case"}


def _commands(p: dict[str, Path], bad: str) -> dict[str, list[str]]:
    c = ["-C", str(p["case"])]
    return {
        "add": ["add", bad, *c],
        "add folder": ["add", str(Path(bad).parent), *c] if bad == str(p["fifo"]) else ["add", bad, *c],
        "hash": ["hash", bad],
        "geolocate": ["geolocate", bad],
        "geolocate --areas": ["geolocate", "--areas", bad, str(p["photo"])],
        "refs add": ["refs", "add", "UA-9", bad, *c],
        "similar": ["similar", bad, *c],
        "match --refs FILE": ["match", "--refs", bad, str(p["photo"])],
        "match --refs DIR FILE": ["match", "--refs", str(p["refs"]), bad],
        "landmarks add": ["landmarks", "add", bad, "--lat", "50", "--lon", "30", "--label", "x", *c],
        "landmarks add --csv": ["landmarks", "add", "--csv", bad, *c],
        "map --from": ["map", "--from", bad, "-o", str(p["case"].parent / "m.html")],
        "evidence verify": ["evidence", "verify", bad],
        "evidence verify --pubkey": ["evidence", "verify", str(p["bundle"]), "--pubkey", bad],
        "review import": ["review", "import", bad, *c],
    }


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_every_command_refuses_pipes_and_devices_without_hanging(place: dict[str, Path], kind: str) -> None:
    bad = str(place["fifo"]) if kind == "fifo" else "/dev/zero"   # a pipe blocks; /dev/zero never ends
    procs = {name: subprocess.Popen(OSINT + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env={**os.environ, "COLUMNS": "200"})
             for name, args in _commands(place, bad).items()}
    hung, crashed, silent = [], [], []
    deadline = time.monotonic() + 120   # all of them together: a refusal takes a second or two
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            hung.append(name)
            continue
        if "Traceback" in err or "Traceback" in out:
            crashed.append(name)
        elif proc.returncode == 0 or not any(w in err + out for w in ("not a regular file", "not a folder",
                                                                      "no such bundle")):
            silent.append((name, proc.returncode, (err + out)[-300:]))
    assert (hung, crashed, silent) == ([], [], [])


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    outside = make_photo(tmp_path / "outside" / "secret.jpg", seed=7)
    inside = tmp_path / "in"
    make_photo(inside / "a.jpg", seed=1)
    make_photo(inside / "sub" / "b.jpg", seed=2)
    (inside / "x.jpg").symlink_to(Path("..") / "outside" / "secret.jpg")
    (inside / "passwd.jpg").symlink_to("/etc/passwd")
    (inside / "same.jpg").symlink_to(Path("sub") / "b.jpg")       # stays inside: followed
    return inside, outside


def test_add_of_a_folder_does_not_follow_links_out_of_it(case: Case, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    inside, outside = _tree(tmp_path)
    opened: list[str] = []

    def spy(real):  # type: ignore[no-untyped-def]
        def opener(path, *a, **k):  # type: ignore[no-untyped-def]
            if isinstance(path, (str, os.PathLike)):
                opened.append(os.path.realpath(path))
            return real(path, *a, **k)
        return opener

    monkeypatch.setattr(os, "open", spy(os.open))
    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    summary = add_paths(case, [inside], collector="t")
    monkeypatch.undo()
    by_name = {Path(o.path).name: o for o in summary.outcomes}
    assert by_name["x.jpg"].status == "failed" and "outside the folder" in str(by_name["x.jpg"].error)
    assert by_name["passwd.jpg"].status == "failed" and "outside the folder" in str(by_name["passwd.jpg"].error)
    assert {by_name["same.jpg"].status, by_name["b.jpg"].status} == {"added", "new-source"}
    assert by_name["a.jpg"].status == "added" and opened
    assert str(outside.resolve()) not in opened and "/etc/passwd" not in opened
    assert {Path(a.original_path).name for a in case.acquisitions()} == {"a.jpg", "b.jpg", "same.jpg"}
