"""Capture from the local test site (no browser here; see test_browser.py): what is stored, archived, logged."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest

from tests.capture.conftest import fast
from tests.capture.site import CHANNEL, Site


def _captures(case) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {d["url"]: d for d in case.records("capture").values()}


def _validate(path) -> None:  # type: ignore[no-untyped-def]
    """py-wacz's own validator, every check its `wacz validate` runs on a current WACZ."""
    import contextlib
    import io

    from wacz.validate import Validation

    with contextlib.redirect_stdout(io.StringIO()) as said:
        v = Validation(str(path))
        assert v.version == "1.1.1"
        assert v.check_required_contents() == 0
        results = [v.frictionless_validate(), v.check_file_paths(), v.check_file_hashes(),
                   v.check_data_package_hash_and_sig()]
    assert all(results), said.getvalue()


def test_telegram_channel_pages_albums_video(case, site: Site):
    from osint.capture import capture, check_wacz, wacz_responses

    start = len(site.requests)
    summary = capture(case, [site.url(f"/s/{CHANNEL}")], fast())
    caps = _captures(case)
    assert sorted(caps) == sorted(site.url(f"/{CHANNEL}/{n}") for n in (1, 2, 5, 6, 7, 9))
    assert summary.count("captured") == 6 and summary.failed == 0
    pages = [p for p, _ in site.requests[start:] if p.startswith(f"/s/{CHANNEL}")]
    assert pages == [f"/s/{CHANNEL}", f"/s/{CHANNEL}?before=7", f"/s/{CHANNEL}?before=5"]
    album = caps[site.url(f"/{CHANNEL}/2")]
    assert album["post_date"] == "2024-01-20T10:00:00Z" and album["text"] == "Экскурсия"
    assert len(album["items"]) == 3 and album["source"] == "telegram" and album["title"] == "Kids camp"
    concert = caps[site.url(f"/{CHANNEL}/5")]
    assert concert["text"] == "Концерт\nдети поют"
    video = case.item(concert["items"][0])
    assert video.media_type == "video" and video.sha256 == hashlib.sha256(site.media["v1.mp4"]).hexdigest()
    # the repost (post 9) of post 1's photo: one item, two acquisitions, each naming its post and capture
    first, repost = caps[site.url(f"/{CHANNEL}/1")], caps[site.url(f"/{CHANNEL}/9")]
    assert first["items"] == repost["items"]
    acqs = case.acquisitions(first["items"][0])
    assert sorted(a.source_url for a in acqs) == sorted([first["url"], repost["url"]])
    assert all(a.original_path.startswith(site.url("/media/p1.jpg#capture=")) for a in acqs)
    assert all(a.collector == "volunteer-17" and "HTTP 200 image/jpeg" in a.note for a in acqs)
    assert {m["status"] for m in first["media"]} == {200}
    assert ("Last-Modified", "Tue, 02 Jan 2024 10:00:00 GMT") in [tuple(h) for h in first["media"][0]["headers"]]
    # the web archive of a post: the channel page and the post's media, as served, byte for byte
    wacz = case.derived_path(album["wacz"]["sha256"], ".wacz")
    assert check_wacz(wacz) == []
    _validate(wacz)
    replay = wacz_responses(wacz)
    for name in ("p2.jpg", "p3.jpg", "p4.jpg"):
        assert replay[site.url(f"/media/{name}")] == (200, site.media[name])
    assert b"tgme_widget_message" in replay[site.url(f"/s/{CHANNEL}?before=5")][1]
    # custody: one `capture` entry per capture, naming what was fetched and every stored file's SHA-256
    entries = [e for e in case.custody() if e.action == "capture"]
    assert len(entries) == 6
    logged = next(e for e in entries if e.inputs["url"] == album["url"])
    assert logged.details["files_sha256"]["media"] == album["items"]
    assert logged.details["files_sha256"]["wacz"] == album["wacz"]["sha256"]
    assert logged.details["tools"]["warcio"] and logged.details["tools"]["wacz"]
    assert logged.details["proxy_used"] is False
    assert {f["url"] for f in logged.details["fetched"]} >= {site.url(f"/media/{n}") for n in ("p2.jpg", "p3.jpg")}
    assert case.verify().ok


def test_since_until_pick_posts(case, site: Site):
    from osint.capture import capture

    capture(case, [site.url(f"/s/{CHANNEL}")], fast(since=date(2024, 2, 1), until=date(2024, 2, 29)))
    assert sorted(_captures(case)) == [site.url(f"/{CHANNEL}/5"), site.url(f"/{CHANNEL}/6")]


def test_vk_wall(case, site: Site):
    from osint.capture import capture

    start = len(site.requests)
    capture(case, [site.url("/vk/club77")], fast())
    caps = _captures(case)
    assert sorted(caps) == [site.url("/wall-77_10"), site.url("/wall-77_11"), site.url("/wall-77_9")]
    assert [p for p, _ in site.requests[start:] if p.startswith("/vk/")] == ["/vk/club77", "/vk/club77?offset=2"]
    old_post = caps[site.url("/wall-77_9")]["items"]
    assert len(old_post) == 1 and set(old_post) < set(caps[site.url("/wall-77_10")]["items"])   # a repost
    party = caps[site.url("/wall-77_10")]
    assert party["source"] == "vk" and party["post_date"] == "2024-01-05T10:00:00Z"
    assert party["text"] == "Дети на празднике" and len(party["items"]) == 2
    assert case.item(caps[site.url("/wall-77_11")]["items"][0]).media_type == "video"


def test_plain_page_and_direct_media(case, site: Site):
    from osint.capture import capture, wacz_responses

    summary = capture(case, [site.url("/news/pupils.html"), site.url("/media/w1.jpg")], fast())
    caps = _captures(case)
    page = caps[site.url("/news/pupils.html")]
    assert page["title"] == "Orphanage No. 3 news" and page["post_date"] == "2024-04-02T07:00:00Z"
    assert "Twelve children from Kherson region" in page["text"]
    want = {hashlib.sha256(site.media[n]).hexdigest() for n in ("w1.jpg", "w3.jpg", "v1.mp4")}
    assert set(page["items"]) == want                          # og:image, the largest srcset, the video
    skipped = [m for m in page["media"] if m["outcome"] == "skipped"]
    assert [m["url"] for m in skipped] == [site.url("/static/logo.svg")]     # an SVG icon is not media
    direct = caps[site.url("/media/w1.jpg")]
    assert direct["source"] == "media" and direct["items"] == [hashlib.sha256(site.media["w1.jpg"]).hexdigest()]
    assert len(case.items()) == 3                              # w1 twice: one item, two acquisitions
    assert len(case.acquisitions(direct["items"][0])) == 2
    replay = wacz_responses(case.derived_path(page["wacz"]["sha256"], ".wacz"))
    assert replay[site.url("/news/pupils.html")][1] == site.routes["/news/pupils.html"].body
    assert replay[site.url("/media/v1.mp4")][1] == site.media["v1.mp4"]
    assert summary.failed == 0


def test_lying_content_type_the_bytes_decide(case, site: Site):
    from osint.capture import capture

    summary = capture(case, [site.url("/photo-as-html"), site.url("/fake.jpg")], fast())
    ok, bad = summary.outcomes
    assert ok.status == "captured" and ok.source == "media"
    assert bad.status == "failed" and "not a photo or video" in bad.error
    assert len(case.items()) == 1


def test_recapture_new_acquisition_never_new_copy(case, site: Site):
    from osint.capture import capture

    capture(case, [site.url("/news/pupils.html")], fast())
    items, acqs = len(case.items()), len(case.acquisitions())
    again = capture(case, [site.url("/news/pupils.html")], fast())
    assert not again.resumed and again.count("captured") == 1
    assert len(case.items()) == items and len(case.acquisitions()) == 2 * acqs
    assert len(case.records("capture")) == 2
    files = sorted(p.name for p in (case.root / "objects").rglob("*") if p.is_file())
    assert len(files) == items


def test_refused_before_connecting(case, site: Site, monkeypatch: pytest.MonkeyPatch):
    from osint.capture import capture
    from osint.capture.net import RefusedURL, check_url

    for url, why in [("file:///etc/passwd", "file://"), ("ftp://example.org/x", "'ftp'"),
                     ("http://localhost:8080/", "local name"), (site.url("/news/pupils.html"), "127.0.0.1"),
                     ("http://[::1]/", "::1"), ("http://169.254.169.254/latest/", "169.254.169.254")]:
        with pytest.raises(RefusedURL, match="refused") as exc:
            check_url(url)
        assert why in str(exc.value)
    before = len(site.requests)
    summary = capture(case, [site.url("/news/pupils.html"), "file:///etc/passwd"], fast(allow_private=False))
    assert [o.status for o in summary.outcomes] == ["failed", "failed"]
    assert len(site.requests) == before and case.items() == []


def test_unsupported_sources_fail_clearly():
    from osint.capture import CaptureError, classify

    for url in ("https://www.instagram.com/p/abc/", "https://x.com/someone/status/1", "https://www.tiktok.com/@a"):
        with pytest.raises(CaptureError, match="unsupported source .*Supported: web pages"):
            classify(url)
    assert classify("https://t.me/kids_camp/120") == ("telegram", "https://t.me/s/kids_camp?before=121")
    assert classify("https://vk.com/wall-1_2")[0] == "vk"


def test_custody_names_no_proxy_address(case, site: Site):
    from tests.capture.site import Proxy

    from osint.capture import capture

    proxy = Proxy()
    try:
        capture(case, [site.url("/media/w2.jpg")], fast(proxy=proxy.url))
    finally:
        proxy.close()
    assert proxy.seen == [site.url("/media/w2.jpg")]
    raw = json.dumps([e.__dict__ for e in case.custody()], default=str)
    assert proxy.url.split("//")[1] not in raw
    assert next(e for e in case.custody() if e.action == "capture").details["proxy_used"] is True


def test_post_date_dates_an_item_without_exif(case, site: Site):
    from osint.capture import capture, item_posts
    from osint.facematch.ages import item_date, set_item_date

    capture(case, [site.url(f"/s/{CHANNEL}")], fast())
    caps = {d["url"]: d for d in case.records("capture").values()}
    photo = caps[site.url(f"/{CHANNEL}/1")]["items"][0]      # posted 2024-01-05, reposted 2024-03-10
    assert "DateTimeOriginal" not in str(case.item(photo).metadata)
    when = item_date(case, photo)
    assert when.date == "2024-01-05" and site.url(f"/{CHANNEL}/1") in when.source
    assert item_posts(case)[photo].url == site.url(f"/{CHANNEL}/1")     # the latest capture (the walk goes back)
    set_item_date(case, photo, "2023-12-31", what="date given")           # a person's date still wins
    assert item_date(case, photo).date == "2023-12-31"


def test_video_page_through_ytdlp(case, site: Site):
    pytest.importorskip("yt_dlp")
    from osint.capture import capture, check_wacz, classify, wacz_responses

    assert classify("https://rutube.ru/video/abc/")[0] == "video" and classify("https://vk.com/video-1_2")[0] == "video"
    summary = capture(case, [site.url("/watch/concert")], fast(video=True))
    assert summary.failed == 0, summary.outcomes
    (rec,) = case.records("capture").values()
    assert rec["source"] == "video" and rec["video"]["extractor"] in ("html5", "generic")
    assert rec["title"].startswith("Концерт в лагере")          # as yt-dlp reports it
    (sha,) = rec["items"]
    assert sha == hashlib.sha256(site.media["v1.mp4"]).hexdigest() and case.item(sha).media_type == "video"
    assert rec["media"][0]["via"].startswith("yt-dlp ")
    (acq,) = case.acquisitions(sha)
    assert "downloaded by yt-dlp" in acq.note and acq.source_url == site.url("/watch/concert")
    wacz = case.derived_path(rec["wacz"]["sha256"], ".wacz")
    assert check_wacz(wacz) == []
    assert wacz_responses(wacz)[site.url("/watch/concert")][1] == site.routes["/watch/concert"].body
    import zipfile

    from warcio.archiveiterator import ArchiveIterator

    with zipfile.ZipFile(wacz) as zf, zf.open(next(n for n in zf.namelist() if n.startswith("archive/"))) as fh:
        resources = [r.content_stream().read() for r in ArchiveIterator(fh) if r.rec_type == "resource"]
    assert resources == [site.media["v1.mp4"]]


def test_one_telegram_post_url_captures_that_post_alone(case, site: Site):
    from osint.capture import capture

    start = len(site.requests)
    summary = capture(case, [site.url(f"/s/{CHANNEL}/6"), site.url(f"/s/{CHANNEL}/3")], fast())
    assert [d["url"] for d in case.records("capture").values()] == [site.url(f"/{CHANNEL}/6")]
    assert summary.outcomes[1].status == "failed" and "/kids_camp/3 is not on the channel" in summary.outcomes[1].error
    assert [p for p, _ in site.requests[start:]] == [f"/s/{CHANNEL}/6", "/media/p5.jpg", f"/s/{CHANNEL}/3"]


def test_socks_proxy_carries_every_connection(case, site: Site):
    from tests.capture.site import SocksProxy

    from osint.capture import capture

    proxy = SocksProxy()
    start = len(site.requests)
    try:
        summary = capture(case, [site.url("/news/pupils.html")], fast(proxy=proxy.url))
    finally:
        proxy.close()
    assert summary.count("captured") == 1 and summary.failed == 0
    port = int(site.base.rsplit(":", 1)[1])
    assert proxy.targets and set(proxy.targets) == {("127.0.0.1", port)}
    assert len(site.peers) - start == 5                            # the page and its four media URLs
    assert set(site.peers[start:]) <= proxy.ports                   # every one on a connection the proxy opened


def test_post_text_keeps_inline_links_inline():
    from osint.capture import read_telegram

    html = ('<div class="tgme_widget_message" data-post="c/1"><div class="tgme_widget_message_text">Дети из '
            '<a href="https://x">Херсона</a> <b>приехали</b><br/>Second line</div>'
            '<a class="tgme_widget_message_date" href="https://t.me/c/1"><time datetime="2024-05-01T10:00:00+03:00">'
            '</time></a></div>')
    (post,) = read_telegram(html, "https://t.me/s/c").posts
    assert post.text == "Дети из Херсона приехали\nSecond line"
    assert post.date == "2024-05-01T07:00:00Z" and post.url == "https://t.me/c/1"
