"""Structural checks of a raw EXIF (TIFF) block, so hostile or damaged metadata is reported, not absorbed.

exifread tolerates a lot silently (it skips loops and clamps impossible counts); for evidence we want to
know that a file's metadata was malformed, because that is itself a sign of editing or of a hostile file.
"""

from __future__ import annotations

import struct

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_POINTERS = {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interop"}
MAX_IFDS = 64
MAX_ENTRIES = 1000


def exif_anomalies(block: bytes) -> list[str]:
    """Problems in a TIFF-structured EXIF block (with or without the `Exif\\0\\0` prefix); empty if sound."""
    if block.startswith(b"Exif\x00\x00"):
        block = block[6:]
    if len(block) < 8 or block[:4] not in (b"II*\x00", b"MM\x00*"):
        return ["EXIF block has no valid TIFF header"]
    end = "<" if block[:2] == b"II" else ">"
    problems: list[str] = []
    todo = [(struct.unpack(end + "I", block[4:8])[0], "IFD0")]
    seen: set[int] = set()
    while todo and len(seen) < MAX_IFDS:
        offset, name = todo.pop()
        if offset in seen:
            problems.append(f"{name} IFD points back to an IFD already read (loop)")
            continue
        if offset + 2 > len(block):
            problems.append(f"{name} IFD offset {offset} is past the end of the EXIF block")
            continue
        seen.add(offset)
        count = struct.unpack(end + "H", block[offset:offset + 2])[0]
        if count > MAX_ENTRIES or offset + 2 + 12 * count > len(block):
            problems.append(f"{name} IFD declares {count} entries, more than the block can hold")
            count = min(count, max(0, (len(block) - offset - 2) // 12))
        for i in range(count):
            pos = offset + 2 + 12 * i
            tag, typ, n, value = struct.unpack(end + "HHII", block[pos:pos + 12])
            size = _TYPE_SIZES.get(typ)
            if size is None:
                problems.append(f"{name} tag 0x{tag:04x} has unknown type {typ}")
                continue
            if size * n > 4 and value + size * n > len(block):
                problems.append(f"{name} tag 0x{tag:04x} data ({n} values) runs past the end of the block")
            if tag in _POINTERS:
                todo.append((value, _POINTERS[tag]))
        nxt_pos = offset + 2 + 12 * count
        if nxt_pos + 4 <= len(block):
            nxt = struct.unpack(end + "I", block[nxt_pos:nxt_pos + 4])[0]
            if nxt:
                todo.append((nxt, f"{name}+next"))
    if len(seen) >= MAX_IFDS:
        problems.append(f"more than {MAX_IFDS} IFDs: refused to read further")
    return list(dict.fromkeys(problems))
