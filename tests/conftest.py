"""Fixtures shared by every test package: the real data set (skipped when absent) and fresh cases."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

SHARED = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the checkout; tests that need it skip cleanly where it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Refuse every attempt to open a network connection or resolve a name; return the attempts made."""
    attempts: list[object] = []

    def refuse(self: object, address: object, *a: object, **k: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    def refuse_lookup(host: object, *a: object, **k: object) -> None:
        attempts.append(host)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse_lookup)
    monkeypatch.setattr(socket, "create_connection", refuse_lookup)
    return attempts


@pytest.fixture
def case(tmp_path: Path):
    """A fresh, empty case in a temporary folder."""
    from osint.case import Case

    c = Case.create(tmp_path / "case", actor="tester")
    yield c
    c.close()


def make_photo(path: Path, seed: int = 0, size: tuple[int, int] = (320, 240), quality: int = 90) -> Path:
    """Write a random-but-structured JPEG (smooth gradients plus blocks), different for each seed."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    h, w = size[1], size[0]
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([(x * rng.uniform(0.2, 1.0) + y * rng.uniform(0.2, 1.0)) % 256 for _ in range(3)], -1)
    for _ in range(6):
        x0, y0 = rng.integers(0, w - 20), rng.integers(0, h - 20)
        base[y0:y0 + rng.integers(10, h // 2), x0:x0 + rng.integers(10, w // 2)] = rng.integers(0, 255, 3)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(base.astype(np.uint8)).save(path, quality=quality)
    return path


def db_count(db: Path, sql: str) -> int:
    """One number from a case database opened read-only (0 while it does not exist yet): for tests that
    watch a running subprocess."""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def cli_on(root: Path) -> Callable[..., Any]:
    """`osint ARGS -C root` through Typer's CliRunner, asserting its exit code (0 unless `code=` says otherwise)."""
    from typer.testing import CliRunner

    from osint.cli import app

    runner = CliRunner()

    def osint(*args: str, code: int = 0) -> Any:
        result = runner.invoke(app, [*args, "-C", str(root)])
        assert result.exit_code == code, result.output
        return result

    return osint
