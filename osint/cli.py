"""The `osint` command line: a thin Typer app over the library (parsing, progress, tables and JSON)."""

from __future__ import annotations

import typer

from osint import __version__
from osint.commands import capture, case, evidence, faces, geo, hashing, known, report
from osint.errors import OsintError

app = typer.Typer(
    name="osint",
    help="Find missing children in collected photos and videos, and hand findings to prosecutors under a "
         "chain of custody. Everything runs offline; results are leads for human review, never verdicts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"osint {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """Typical session: osint init CASE; cd CASE; osint add FILES --source-url URL; osint ls; osint log verify."""


case.register(app)
hashing.register(app)
known.register(app)
geo.register(app)
evidence.register(app)
faces.register(app)
report.register(app)
capture.register(app)



def run() -> None:
    """Console entry point: any toolkit error that escapes a command (a cluster lost mid-run, a case damaged
    underneath us) becomes one `error:` line and exit code 2, never a traceback."""
    from osint.commands.common import fail

    try:
        app()
    except OsintError as exc:
        try:
            fail(str(exc))
        except typer.Exit as stop:
            raise SystemExit(stop.exit_code) from None


if __name__ == "__main__":
    run()
