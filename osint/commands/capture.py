"""`osint capture`: pages, direct media, Telegram channels and VK walls into the case, archived as WACZ."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from osint.commands.common import (EXIT_OK, EXIT_SOME_FAILED, CaseOption, JsonOption, emit_json, err, fail,
                                   open_case, out, table)


def register(app: typer.Typer) -> None:
    app.command("capture")(capture_cmd)


def _day(value: Optional[str], flag: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"{flag} {value!r} is not a date (YYYY-MM-DD)")
    return None


def _urls(urls: list[str], from_file: Optional[Path]) -> list[str]:
    found = list(urls)
    if from_file:
        try:
            text = from_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {from_file}: {exc}")
        found += [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not found:
        fail("no URL given (pass URLs or --from-file FILE)")
    return found


def capture_cmd(
    urls: Optional[list[str]] = typer.Argument(None, help="Pages, direct photo/video URLs, t.me channels or posts, "
                                                          "VK walls or posts."),
    from_file: Optional[Path] = typer.Option(None, "--from-file", "-f", help="A file of URLs, one a line (# comments)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List what would be fetched and from where; connect to "
                                                          "nothing."),
    proxy: Optional[str] = typer.Option(None, "--proxy", envvar="OSINT_PROXY",
                                        help="Send everything (the browser too) through this proxy: "
                                             "http://host:port or socks5://127.0.0.1:9050 (a local Tor client). "
                                             "The custody log records that a proxy was used, not its address."),
    rate: float = typer.Option(2.0, "--rate", min=0.0, help="Requests per second to any one host (0: no limit)."),
    user_agent: Optional[str] = typer.Option(None, "--user-agent", help="User-Agent sent (default: a common "
                                                                        "desktop Chrome)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only posts dated on or after this day (YYYY-MM-DD)."),
    until: Optional[str] = typer.Option(None, "--until", help="Only posts dated on or before this day (YYYY-MM-DD)."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow loopback and private-network "
                                                                      "addresses (refused by default)."),
    max_size: int = typer.Option(1024, "--max-size", min=1, help="Largest response accepted, in MiB."),
    timeout: float = typer.Option(300.0, "--timeout", min=1.0, help="Seconds one response may take in all."),
    max_pages: int = typer.Option(100, "--max-pages", min=1, help="Channel or wall pages walked per URL."),
    video: bool = typer.Option(False, "--video", help="Fetch every URL as a video page with yt-dlp (YouTube, "
                                                     "Rutube, OK.ru and VK Video pages use it anyway)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="No screenshot and no rendering (faster)."),
    collector: Optional[str] = typer.Option(None, envvar="OSINT_ACTOR", help="Who collected it. Default: "
                                                                             "$OSINT_ACTOR or your user name."),
    case_dir: Optional[Path] = CaseOption,
    as_json: bool = JsonOption,
) -> None:
    """Capture web pages and posts into the case: media as collected items, the page as a WACZ web archive,
    a full-page screenshot, the page's text, title and post date, and one custody entry per capture.

    This is the one command that goes online. It prints where it will connect before it does; --proxy sends
    every request (the browser's too) through a proxy. Non-http(s) URLs, file:// and private addresses are
    refused. Run the same command again after an interruption: finished captures are kept, the rest are
    done. Run it again later: the pages are captured anew (new acquisitions, no new copies of unchanged media).
    Supported: web pages, direct photo/video URLs, public Telegram channels (t.me/s/NAME, paged with
    ?before=), public VK walls, video pages through yt-dlp. Exit code 1 if any URL or media failed.
    """
    from osint.capture import CaptureOptions, NetOptions, capture, plan
    from osint.case import default_actor

    todo = _urls(urls or [], from_file)
    net = NetOptions(proxy=proxy, rate=rate, allow_private=allow_private, max_bytes=max_size << 20,
                     total_timeout=timeout, read_timeout=min(30.0, timeout))
    if user_agent:
        net = replace(net, user_agent=user_agent)
    options = CaptureOptions(net=net, collector=collector or default_actor(), since=_day(since, "--since"),
                             until=_day(until, "--until"), browser=not no_browser, max_pages=max_pages,
                             video=video)
    planned = plan(todo, options)
    via = "through the proxy given with --proxy" if proxy else "directly from this machine (no --proxy)"
    if dry_run:
        if as_json:
            emit_json([p.__dict__ for p in planned])
        else:
            table(f"would fetch {sum(1 for p in planned if not p.refused)} URL(s) {via}",
                  ["url", "kind", "host", "fetch", "refused"],
                  [(p.url, p.kind, p.host, p.fetch if p.fetch != p.url else "", p.refused) for p in planned])
        raise typer.Exit(EXIT_SOME_FAILED if any(p.refused for p in planned) else EXIT_OK)
    hosts = sorted({p.host for p in planned if not p.refused})
    err.print(f"capture: connecting {via} to {', '.join(hosts) or 'nothing'} (and to the hosts those pages "
              "load media from, each named before its first request)", highlight=False, markup=False)
    case = open_case(case_dir)

    def on_connect(host: str) -> None:
        err.print(f"connecting to {host}" + (" via proxy" if proxy else ""), highlight=False, markup=False)

    def on_outcome(o) -> None:  # type: ignore[no-untyped-def]
        if o.status == "failed":
            err.print(f"[red]error:[/] {escape(o.url or o.input)}: {escape(o.error)}", highlight=False)
            return
        for m in o.media:
            if m.status == "failed":
                err.print(f"[red]error:[/] {escape(m.url)}: {escape(m.error or 'failed')}", highlight=False)
        if not as_json and o.status == "captured":
            stored = sum(1 for m in o.media if m.status in ("added", "new-source", "already"))
            shot = "screenshot" if o.screenshot_sha256 else "no screenshot"
            out.print(f"captured {o.url} ({o.source}{', ' + o.post_date if o.post_date else ''}): {stored} media, "
                      f"WACZ {o.wacz_sha256[:12]}, {shot}", highlight=False, markup=False)

    def on_note(text: str) -> None:
        err.print(f"note: {text}", highlight=False, markup=False)

    summary = capture(case, todo, options, on_outcome=on_outcome, on_connect=on_connect, on_note=on_note)
    media = [m for o in summary.outcomes for m in o.media]
    counts = {"captured": summary.count("captured"), "done_before": summary.count("done-before"),
              "failed_urls": summary.count("failed"),
              "media_added": sum(1 for m in media if m.status == "added"),
              "media_already_stored": sum(1 for m in media if m.status in ("new-source", "already")),
              "media_failed": sum(1 for m in media if m.status == "failed")}
    if as_json:
        emit_json({"run": summary.run_id, "resumed": summary.resumed, "summary": counts, "hosts": summary.hosts,
                   "requests": summary.requests, "bytes": summary.bytes, "seconds": round(summary.seconds, 3),
                   "browser_seconds": round(summary.browser_seconds, 3), "notes": summary.notes,
                   "captures": [_jsonable(o) for o in summary.outcomes]})
    else:
        out.print(f"{counts['captured']} captured ({counts['done_before']} done before this resumed run), "
                  f"{counts['media_added']} new media, {counts['media_already_stored']} already stored, "
                  f"{counts['failed_urls']} URL(s) and {counts['media_failed']} media failed; "
                  f"{summary.requests} requests to {len(summary.hosts)} host(s)", highlight=False)
    raise typer.Exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


def _jsonable(outcome: object) -> dict[str, object]:
    from dataclasses import asdict

    return asdict(outcome)  # type: ignore[call-overload, no-any-return]
