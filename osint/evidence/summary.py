"""The readable summary for prosecutors: one self-contained HTML page (no scripts, no network), in the bag."""

from __future__ import annotations

import json
from collections import defaultdict
from html import escape
from typing import Any

from osint.evidence.custody import read_bundle_custody

_CSS = """body{font-family:sans-serif;max-width:70em;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.25em .5em;
vertical-align:top;text-align:left}code,pre{font-size:.85em;word-break:break-all;white-space:pre-wrap}
.note{background:#fff6d6;padding:.5em 1em;border-left:4px solid #d9a400}"""


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _code(value: Any, limit: int = 4000) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} more characters in data/results.json)"
    return f"<pre>{escape(text)}</pre>"


def who_did_what(entries: list[Any]) -> dict[str, dict[str, int]]:
    """actor -> action -> count, from the custody entries the bundle carries whole."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for e in entries:
        table[e.actor][e.action] += 1
    return {a: dict(sorted(acts.items())) for a, acts in sorted(table.items())}


def summary_html(doc: dict[str, Any], info: dict[str, str], custody: bytes, payload: dict[str, str]) -> bytes:
    """The summary page: what is in the bundle, where it came from, what analysis said, who did what."""
    chain = read_bundle_custody(custody)
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evidence bundle: "
             f"{escape(info['Case-Name'])}</title><style>{_CSS}</style></head><body>",
             f"<h1>Evidence bundle: {escape(info['Selection'])}</h1>",
             "<p class='note'>Analysis results in this bundle are <b>leads for human review, never verdicts</b>. "
             "Each score states the model, version and threshold it was produced with.</p>",
             _table(["", ""], [[escape(k), escape(v)] for k, v in info.items()])]
    parts.append("<h2>Items</h2>")
    rows = []
    for it in doc["items"]:
        acq = "<br>".join(escape(f"{a['acquired_at']} by {a['collector']} from {a['source_url'] or '(no URL)'} "
                                 f"({a['original_path']})") for a in it["acquisitions"])
        rows.append([f"<a href='{escape(it['file'])}'><code>{escape(it['sha256'])}</code></a><br>"
                     f"MD5 <code>{escape(it['md5'])}</code><br>SHA-1 <code>{escape(it['sha1'])}</code>",
                     escape(f"{it['role']} {it['media_type']}/{it['format']}, {it['size']} bytes"
                            + (f", {it['width']}x{it['height']}" if it["width"] else "")), acq])
    parts.append(_table(["SHA-256 (file)", "what", "acquired (UTC, collector, source, original path)"], rows))
    parts.append("<h2>Analysis results</h2>")
    parts.append(_table(["item", "stage", "version", "result"],
                        [[f"<code>{escape(r['sha256'][:16])}</code>", escape(r["stage"]), escape(r["version"]),
                          _code(r["error"] and f"error: {r['error']}" or r["data"])
                          + (" <i>(parts about other items or persons withheld)</i>" if r["redacted"] else "")]
                         for r in doc["results"]]) if doc["results"] else "<p>No stored analysis.</p>")
    if doc["analysis"]:
        parts.append("<h3>Analysis runs (models, versions, thresholds as logged)</h3>")
        parts.append(_table(["custody entry", "actor", "action", "details"],
                            [[str(a["first_entry"]), escape(a["actor"]), escape(a["action"]), _code(a["details"])]
                             for a in doc["analysis"]]))
    if doc["records"]:
        parts.append("<h3>Records</h3>")
        parts.append(_table(["kind", "key", "data"], [[escape(r["kind"]), escape(r["key"]), _code(r["data"])]
                                                      for r in doc["records"]]))
    parts.append("<h2>Who did what</h2>")
    parts.append(_table(["actor", "actions"],
                        [[escape(actor), escape(", ".join(f"{a} x{n}" for a, n in acts.items()))]
                         for actor, acts in who_did_what(list(chain.entries)).items()]))
    parts.append(f"<h2>Chain of custody</h2><p>{chain.total} entries from case creation to head "
                 f"<code>{escape(chain.head)}</code>; {len(chain.entries)} concern these items and are given "
                 f"whole in <code>custody/custody.jsonl</code>, the other {chain.total - len(chain.entries)} are "
                 "withheld (about other material) and appear only as hash anchors that keep the chain "
                 "linked.</p>")
    parts.append(_table(["seq", "time (UTC)", "actor", "action", "tool"],
                        [[str(e.seq), escape(e.time), escape(e.actor), escape(e.action), escape(e.tool)]
                         for e in chain.entries]))
    parts.append(_HOW_TO_VERIFY)
    files = [[f"<code>{h}</code>", escape(p)] for p, h in sorted(payload.items())]
    parts.append(f"<h2>Payload files</h2>{_table(['SHA-256', 'file'], files)}")
    parts.append("</body></html>\n")
    return "".join(parts).encode("utf-8")


_HOW_TO_VERIFY = """<h2>How to verify this bundle without osint</h2><ol>
<li>In the bundle folder: <code>sha256sum -c manifest-sha256.txt</code> and <code>sha256sum -c
tagmanifest-sha256.txt</code> (every file re-hashed; any file under data/ not listed there was added), or
<code>bagit.py --validate .</code>.</li>
<li>Signature: <code>openssl pkeyutl -verify -pubin -inkey signer.pem -rawin -in tagmanifest-sha256.txt
-sigfile tagmanifest-sha256.txt.sig</code>. Compare the fingerprint in signer.json, obtained from the signer
over another channel: <code>openssl pkey -pubin -in signer.pem -outform DER | tail -c 32 | sha256sum</code>.
The tag manifest covers bag-info.txt, this page, the custody log and the payload manifest.</li>
<li>Custody: each line of custody/custody.jsonl is an entry; for a whole entry, the SHA-256 of the line is its
hash; for a withheld one, the hash is given. Each entry's <code>prev</code> must equal the previous entry's
hash (the first: 64 zeros), <code>seq</code> counts 1, 2, 3 ... and the last hash must equal Custody-Head
in bag-info.txt.</li>
<li>With osint: <code>osint evidence verify BUNDLE --pubkey signer-you-trust.pub</code>.</li></ol>"""
