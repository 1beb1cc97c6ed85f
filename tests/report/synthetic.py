"""Report data built without a case: generated face-sized JPEGs and as many candidates as a test asks for."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from osint.report import (Candidate, CustodySummary, Decision, DupGroup, Link, Located, Member, Person, ReportData,
                          candidate_id)


def jpeg(seed: int, size: tuple[int, int] = (160, 160), quality: int = 88) -> bytes:
    """A smooth, photo-like JPEG (gradients and blobs), different for each seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w] / max(w, h)
    img = np.zeros((h, w, 3))
    for c in range(3):
        img[..., c] = 128 + 90 * np.sin(rng.uniform(2, 9) * x + rng.uniform(2, 9) * y + rng.uniform(0, 6))
    for _ in range(4):
        cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.3)
        img[(x - cx) ** 2 + (y - cy) ** 2 < r * r] = rng.integers(0, 255, 3)
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def report_data(n: int, *, persons: int = 3, per_context: int = 5, distinct: int = 64,
                hostile_name: str = "photo.jpg") -> ReportData:
    """`n` candidates over `persons` persons, `per_context` faces per context photo; crops reuse `distinct`
    generated JPEGs under distinct keys (each is embedded, so the file size is that of distinct images)."""
    crops = [jpeg(i) for i in range(distinct)]
    contexts = [jpeg(1000 + i, (640, 480), 85) for i in range(max(1, distinct // 4))]
    images: dict[str, bytes] = {}
    people = []
    for p in range(persons):
        images[f"ref{p}"] = crops[p % distinct]
        people.append(Person(f"p{p}", f"Person {p}", (f"ref{p}",)))
    cands = []
    for i in range(n):
        item = f"{i // per_context:064x}"
        person = f"p{i % persons}"
        images[f"crop{i}"] = crops[i % distinct]
        images[f"ctx{i // per_context}"] = contexts[(i // per_context) % len(contexts)]
        video = i % 7 == 0
        cands.append(Candidate(candidate_id(person, item, i % per_context, 12.5 if video else None), person, item,
                               i % per_context, 0.30 + (i % 97) / 400, 0.55, 10 ** -(2 + i % 4), "fused",
                               "video" if video else "image", 12.5 if video else None, 300 if video else None,
                               f"ref{i % persons}", f"crop{i}", f"ctx{i // per_context}", hostile_name,
                               "https://t.me/example/1", "distance meaning (test)", 1, 2, i % 11 == 0,
                               (10, 10, 60, 60), i % 13 == 0,
                               **({"post_url": "https://t.me/example/1", "post_date": "2024-01-20T10:00:00Z",
                                   "post_text": "Экскурсия <b>not markup</b>"} if i == 0 else {})))
    images["thumbA"], images["thumbB"] = crops[0], crops[1]
    first = cands[0].item
    group = DupGroup((Member(first, "original.jpg", "image", "thumbA"),
                      Member("b" * 64, "mirrored.jpg", "image", "thumbB")),
                     (Link(first, "b" * 64, "pdq", 12, 60, "mirror"),))
    located = (Located("a" * 64, "original.jpg", 50.4501, 30.5234, 50.0, "exif-gps", "near Kyiv", "thumbA"),)
    custody = CustodySummary(3, "f" * 64, True, (), "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z",
                             {"init": 1, "add": 2}, {"tester": 3},
                             ({"seq": "1", "time": "t", "actor": "tester", "action": "init", "what": ""},))
    decision = Decision(cands[0].id, "unsure", "earlier reviewer", "needs a second look", "2026-01-02T00:00:00Z")
    cands.sort(key=lambda c: (c.person, c.distance))
    return ReportData("case-id-1", "test case", tuple(people), tuple(cands),
                      (decision,), (group,), located, custody, None, ("a note",), images)
