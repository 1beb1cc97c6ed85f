"""Keys and evidence bundles: `keys init/ls/export-public`, `evidence export`, `evidence verify`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, JsonOption, emit_json, err, fail,
                                   open_case, out, printable, progress, regular_input, table)

keys_app = typer.Typer(help="Signing keys (Ed25519) that belong to you, not to a case: kept in $OSINT_HOME/keys "
                            "(default ~/.config/osint/keys), private half encrypted with your passphrase.",
                       no_args_is_help=True)
evidence_app = typer.Typer(help="Signed, self-verifying evidence bundles (BagIt) for prosecutors.",
                           no_args_is_help=True)

PASSPHRASE_ENV = "OSINT_KEY_PASSPHRASE"


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(evidence_app, name="evidence")


def _passphrase(confirm: bool) -> str:
    """$OSINT_KEY_PASSPHRASE (for automation), else asked on the terminal without echo."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value is not None:
        return value
    return str(typer.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm, err=True))


@keys_app.command("init")
def keys_init(
    name: str = typer.Option(..., "--name", help="Your name and organisation, as a recipient should read it "
                                                 "(e.g. \"Evidence lead, NGO X\")."),
    role: str = typer.Option("evidence-lead", "--role", help="evidence-lead (may sign bundles) or volunteer "
                                                             "(may not)."),
    as_json: bool = JsonOption,
) -> None:
    """Make your Ed25519 key pair; the private key is encrypted with a passphrase and stored with mode 0600.

    The passphrase is asked twice, or read from $OSINT_KEY_PASSPHRASE. Give recipients your public key
    (`osint keys export-public`) and read them its fingerprint over another channel.
    """
    from osint.evidence import KeyProblem, create_key

    try:
        info = create_key(name, _passphrase(confirm=True), role=role)
    except KeyProblem as exc:
        fail(str(exc))
    if as_json:
        emit_json({"name": info.name, "role": info.role, "fingerprint": info.fingerprint, "path": str(info.path)})
    else:
        out.print(f"Created key for [bold]{info.name}[/] ({info.role})\nfingerprint {info.fingerprint}\n"
                  f"stored in {info.path} (mode 0600, encrypted)", highlight=False)


@keys_app.command("ls")
def keys_ls(as_json: bool = JsonOption) -> None:
    """List your keys: holder, role, fingerprint (SHA-256 of the raw public key), file."""
    from osint.evidence import KeyProblem, keys_dir, list_keys

    problems: list[str] = []
    try:
        keys = list_keys(problems=problems)
    except KeyProblem as exc:
        fail(str(exc))
    for problem in problems:
        err.print(f"[yellow]warning:[/] {escape(printable(problem))}", highlight=False)
    if as_json:
        emit_json([{"name": k.name, "role": k.role, "fingerprint": k.fingerprint, "created_at": k.created_at,
                    "path": str(k.path)} for k in keys])
        return
    table(f"keys in {keys_dir()}", ["name", "role", "fingerprint", "created (UTC)"],
          [(k.name, k.role, k.fingerprint, k.created_at) for k in keys])


@keys_app.command("export-public")
def keys_export_public(
    key: Optional[str] = typer.Option(None, "--key", help="Holder name or fingerprint (default: your only key)."),
    out_file: Optional[Path] = typer.Option(None, "--out", help="Write here instead of stdout."),
) -> None:
    """Print your public key as PEM (what recipients pass to `evidence verify --pubkey` or openssl)."""
    from osint.evidence import KeyProblem, find_key

    try:
        info = find_key(key)
    except KeyProblem as exc:
        fail(str(exc))
    pem = info.public_pem()
    if out_file:
        out_file.write_bytes(pem)
        err.print(f"wrote {out_file}: {info.name}, fingerprint {info.fingerprint}", highlight=False)
    else:
        sys.stdout.write(pem.decode("ascii"))


@evidence_app.command("export")
def evidence_export(
    out_path: Path = typer.Option(..., "--out", "-o", help="Bundle to write: NAME.zip for a zip, else a new folder."),
    key: Optional[str] = typer.Option(None, "--key", help="Signing key: holder name or fingerprint (must be an "
                                                          "evidence-lead key). Default: your only key."),
    items: list[str] = typer.Option([], "--items", help="SHA-256 prefixes of items (repeat, or comma-separated)."),
    person: Optional[str] = typer.Option(None, "--person", help="A person id (e.g. UA-0412): every item whose "
                                                                "results or records name this person."),
    group: Optional[str] = typer.Option(None, "--group",
                                         help="An item (SHA-256 prefix) and all its near duplicates, as `osint dupes` groups them (run `osint hash` first)."),
    everything: bool = typer.Option(False, "--all", help="Every item in the case."),
    fmt: str = typer.Option("bag", "--format", help="'bag' (default) or 'vics': also write data/vics.json in the "
                                                    "Project VIC VICS 2.0 layout for victim-ID tools."),
    tsa: Optional[str] = typer.Option(None, "--tsa", help="URL of an RFC 3161 timestamp authority; the only "
                                                          "option that contacts the network. Without it the "
                                                          "bundle's time is the signer's claim."),
    actor: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who exports (custody log)."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Export chosen items as a signed BagIt bundle: originals, derived files, results, custody, summary.

    The case's originals are copied, never moved. Material about other items or persons is withheld.
    The signature covers the tag manifest and so every file. The export is logged in the custody log.
    """
    from osint.errors import OsintError
    from osint.evidence import export_bundle, find_key, select_items, unlock

    if fmt not in ("bag", "vics"):
        fail(f"--format must be 'bag' or 'vics', not {fmt!r}")
    case = open_case(case_dir)
    prefixes = [p for arg in items for p in arg.split(",") if p.strip()]
    try:
        selection = select_items(case, prefixes=prefixes, person=person, group=group, everything=everything)
        signer = unlock(find_key(key), _passphrase(confirm=False))
        with progress("exporting", None):
            result = export_bundle(case, selection, out_path, signer, actor=actor, vics=fmt == "vics",
                                   tsa_url=tsa)
    except OsintError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {out_path}: {exc}")
    if as_json:
        emit_json({k: (str(v) if isinstance(v, Path) else v) for k, v in result.__dict__.items()})
        return
    out.print(f"Wrote {result.path}: {result.items} item(s), {result.derived} derived file(s), "
              f"{result.payload_bytes} payload bytes; {result.redacted_results} result(s) had parts about other "
              f"material withheld, {result.withheld_entries} custody entries given as anchors only.\n"
              f"Signed by {result.signer}, fingerprint {result.fingerprint}; tag manifest "
              f"{result.tagmanifest_sha256}; logged as custody entry {result.custody_seq}.", highlight=False)


@evidence_app.command("verify")
def evidence_verify(
    bundle: Path = typer.Argument(..., help="Bundle folder or .zip (read in place; nothing is extracted)."),
    pubkey: Optional[Path] = typer.Option(None, "--pubkey", callback=regular_input, help="PEM public key of the signer you trust "
                                                                 "(from `osint keys export-public`)."),
    trust: list[str] = typer.Option([], "--trust", help="A trusted signer fingerprint (32+ hex digits; the whole one is best) instead "
                                                        "of --pubkey; repeatable."),
    max_size: int = typer.Option(64 << 30, "--max-size", help="Refuse bundles that decompress past this many "
                                                              "bytes (zip-bomb guard)."),
    as_json: bool = JsonOption,
) -> None:
    """Verify a bundle: re-hash every file, check manifests, signature, signer and custody chain.

    Prints one verdict line (VALID or INVALID), then one line per failure naming what failed. Without
    --pubkey or --trust the signature proves only integrity, not who signed; the verdict says so.
    Exit code 0 when valid, 1 when not. Works without any case.
    """
    from osint.evidence import KeyProblem, load_public, verify_bundle

    key = None
    if pubkey:
        try:
            key = load_public(pubkey.read_bytes())
        except (OSError, KeyProblem) as exc:
            fail(f"{pubkey}: {exc}")
    with progress("re-hashing", None):
        report = verify_bundle(bundle, pubkey=key, trusted=trust, max_bytes=max_size)
    if as_json:
        emit_json({"ok": report.ok, "verdict": report.verdict(),
                   **{k: v for k, v in report.__dict__.items() if k != "failures"},
                   "failures": [f.__dict__ for f in report.failures]})
    else:
        colour = "green" if report.ok else "bold red"
        verdict = report.verdict()
        word, rest = verdict.split(":", 1)
        out.print(f"[{colour}]{word}[/]:{escape(printable(rest))}", highlight=False)
        for failure in report.failures:  # names from the bundle: one line each, whatever they hold
            out.print(f"  {printable(failure)}", highlight=False, markup=False)
        if report.ok and report.actors:
            out.print("who did what: " + printable("; ".join(f"{a}: " + ", ".join(f"{act} x{n}" for act, n in acts.items())
                                                              for a, acts in report.actors.items())), highlight=False)
    raise typer.Exit(EXIT_OK if report.ok else EXIT_SOME_FAILED)
