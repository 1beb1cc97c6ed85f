"""What every command shares: finding the case, printing tables or JSON, progress bars, exit codes."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from osint.errors import OsintError

if TYPE_CHECKING:
    from osint.case import Case

# Characters that must never reach a terminal raw from data: C0/C1 controls (ESC starts escape sequences that
# rewrite the screen), bidi overrides (reorder what is shown), and lone surrogates (bytes of a file name that
# are not UTF-8, which would crash the write).
_WIDE = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_WIDE}]")
_UNSAFE_IN_JSON = re.compile(f"[{_WIDE}]")  # json.dumps already escapes C0 controls inside strings


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a non-UTF-8 file name (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: object, *, keep_newlines: bool = False) -> str:
    """`text` safe to print on a terminal: every control, bidi or undecodable character is shown as an escape
    (\\x1b, \\u202e); newlines too unless `keep_newlines`. Every line printed by osint passes through it."""
    text = str(text)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escaped, line) for line in text.split("\n"))
    return _UNSAFE.sub(_escaped, text)


class SafeConsole(Console):
    """A rich Console that escapes control characters in every string it prints (our own markup never holds
    any but newlines), so a file name, note or zip entry name cannot drive the terminal."""

    def print(self, *objects: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().print(*(printable(o, keep_newlines=True) if isinstance(o, str) else o for o in objects), **kwargs)


out = SafeConsole(soft_wrap=True)
err = SafeConsole(stderr=True, soft_wrap=True)

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2

CaseOption = typer.Option(None, "--case", "-C", envvar="OSINT_CASE",
                          help="Case folder. Default: the current folder or the nearest one above it holding a case.")
JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON on stdout instead of a table.")


def open_case(path: Path | None) -> Case:
    """Open the case at `path` (or find it above the current folder), or exit with one clear line."""
    from osint.case import Case  # imported lazily so `osint --help` stays instant

    try:
        return Case.open(path) if path else Case.find()
    except OsintError as exc:
        fail(str(exc))


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print `error: message` on stderr and exit."""
    err.print(f"[bold red]error:[/] {escape(printable(message))}", highlight=False)
    raise typer.Exit(code)


def regular_input(path: Path | None) -> Path | None:
    """Callback for an option or argument naming a file to read: anything but a regular file (a named pipe
    would wait forever, a device never end) is refused with one line before it is opened."""
    if path is not None:
        from osint.media import check_regular

        try:
            check_regular(path)
        except OSError as exc:
            fail(f"{path}: {exc.strerror or exc}")
    return path


def file_error(path: str, reason: str) -> None:
    """The one line printed for an input that failed: the file, then why (names are never read as markup)."""
    err.print(f"[red]error:[/] {escape(printable(path))}: {escape(printable(reason))}", highlight=False)


def fmr_text(fmr: float | None, bound: bool = False) -> str:
    """A false-match rate for people: a percentage, scientific notation when tiny, "<" when it is only an
    upper bound (no impostor in calibration scored that close)."""
    if fmr is None:
        return "not measured"
    return ("<" if bound else "") + (f"{fmr:.2%}" if fmr >= 0.0001 else f"{fmr:.1e}")


def emit_json(data: Any) -> None:
    """Write JSON to stdout (no colour, no wrapping), for scripts."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)  # C0 controls come out escaped
    sys.stdout.write(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading ' (OWASP);
    numbers are written as they are."""
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS):
        return "'" + value
    return value


def write_csv(stream: TextIO, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    """CSV (RFC 4180 line ends, so a CR inside a cell is quoted) with a header, every text cell neutralised
    by `csv_cell`: the one way osint writes CSV."""
    writer = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    writer.writerow({c: csv_cell(c) for c in columns})
    for row in rows:
        writer.writerow({k: csv_cell(v) for k, v in row.items()})


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=None if title is None else Text(printable(title)), show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:  # cells are data: never read as markup, control characters escaped
        t.add_row(*(Text("" if v is None else printable(v)) for v in r))
    out.print(t)


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Any]:
    """A progress bar on stderr (shown only on a terminal); yields a function advance(n=1, note="")."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn(), TextColumn("{task.fields[note]}"), console=err, transient=True,
                   disable=not err.is_terminal)
    with bar:
        task = bar.add_task(description, total=total, note="")

        def advance(n: int = 1, note: str = "") -> None:
            bar.update(task, advance=n, note=printable(note[-40:]))

        yield advance


WorkersOption = typer.Option(None, "--workers", "-w", min=1,
                             help="Local worker processes (default: all cores; 1 computes in this process).")
ClusterOption = typer.Option(None, "--cluster", envvar="OSINT_CLUSTER",
                             help="Address of a Dask scheduler (tcp://host:8786). Workers there read the "
                                  "originals by path, so they need the case folder on shared storage at the "
                                  "same absolute path (or set OSINT_SHIP_BYTES=1 to send the bytes instead). "
                                  "The collected media leave this machine.")


def make_executor(workers: int | None, cluster: str | None):  # -> osint.pipeline.Executor
    """The executor a batch command runs on: a Dask cluster if given, else a local pool or in-process.

    A cluster that cannot be reached or is unfit (no workers, other osint version) is one error line.
    $OSINT_SHIP_BYTES=1 makes the coordinator send each original's bytes instead of its shared path.
    """
    if cluster:
        import os

        from osint.cluster import DaskExecutor

        ship = os.environ.get("OSINT_SHIP_BYTES") == "1"
        err.print(f"note: the collected media leave this machine: the Dask cluster at {escape(cluster)} reads "
                  f"them {'as bytes sent from here' if ship else 'from shared storage'} (--cluster / OSINT_CLUSTER)",
                  highlight=False)
        try:
            executor = DaskExecutor(cluster, ship_bytes=ship)
            executor.check()
        except OsintError as exc:
            fail(str(exc))
        return executor
    from osint.pipeline import executor_for

    return executor_for(workers)
