"""Crop-robust links from local features: crops, captions, rescales and screenshots link; other pictures do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skimage.data
from PIL import Image, ImageDraw, ImageFont

from osint.hashing.local import LocalFeatures, LocalSet, local_features, match_pair


def _picture(name: str) -> Image.Image:
    rgb = getattr(skimage.data, name)()
    rgb = np.stack([rgb] * 3, -1) if rgb.ndim == 2 else rgb[..., :3]
    return Image.fromarray(rgb.astype(np.uint8))


def _save(im: Image.Image, path: Path, quality: int = 85) -> Path:
    im.convert("RGB").save(path, quality=quality)
    return path


def _crop_caption_half(im: Image.Image, share: float) -> tuple[Image.Image, tuple[float, float, float, float]]:
    w, h = im.size
    left, top = int(w * share * 0.3), int(h * share * 0.7)
    right, bottom = left + int(w * (1 - share)), top + int(h * (1 - share))
    out = im.crop((left, top, right, bottom))
    ImageDraw.Draw(out).text((10, out.height * 0.75), "ДІТИ ЕВАКУЙОВАНІ", font=ImageFont.load_default(size=30),
                             fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0))
    out = out.resize((out.width // 2, out.height // 2), Image.Resampling.BICUBIC)
    return out, (left / w, top / h, right / w, bottom / h)


NAMES = ("astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry")


def test_a_cropped_captioned_halved_jpeg50_copy_links_and_says_where(tmp_path: Path) -> None:
    original = _picture("astronaut")
    copy, box = _crop_caption_half(original, 0.3)
    a = local_features(_save(original, tmp_path / "a.jpg"))
    b = local_features(_save(copy, tmp_path / "b.jpg", quality=50))
    link = match_pair(a, b, "a", "b")
    assert link is not None
    assert link.inliers >= 40 and link.agreement > 0.9
    assert link.box_a == pytest.approx(box, abs=0.03)           # the part of a that b shows: the crop box
    assert link.box_b == pytest.approx((0, 0, 1, 1), abs=0.03)
    assert link.scale == pytest.approx(0.5, rel=0.05)
    assert abs(link.rotation) < 1
    assert "inliers" in link.describe()


def _caption_bar(im: Image.Image) -> Image.Image:
    """The picture with a black band across its lower fifth carrying a white caption (a channel's repost style)."""
    out = im.convert("RGB")
    w, h = out.size
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, h * 4 // 5, w, h), fill=(0, 0, 0))
    font = ImageFont.load_default(size=h // 18)
    draw.text((w // 40, h * 41 // 50), "ДІТИ ЕВАКУЙОВАНІ", font=font, fill=(255, 255, 255))
    draw.text((w // 40, h * 9 // 10), "children evacuated / 2026", font=font, fill=(255, 255, 255))
    return out


def test_two_pictures_sharing_a_caption_bar_do_not_link_but_a_captioned_crop_finds_its_original(tmp_path: Path) -> None:
    """The bar's letters match letter for letter at one transform; the pictures' tiles must still agree."""
    square = {name: _picture(name).resize((512, 512), Image.Resampling.BICUBIC)
              for name in ("astronaut", "coffee", "chelsea")}
    barred = {name: local_features(_save(_caption_bar(im), tmp_path / f"{name}_bar.jpg", 50)) for name, im in square.items()}
    for x in barred:
        for y in barred:
            if x != y:
                assert match_pair(barred[x], barred[y]) is None, (x, y)
    crop = _caption_bar(square["astronaut"].crop((20, 31, 481, 492)))             # 10% off, a bar on the rest
    copy = _save(crop.resize((230, 230), Image.Resampling.BICUBIC), tmp_path / "copy.jpg", 50)
    originals = {"astronaut": local_features(_save(square["astronaut"], tmp_path / "a.jpg")),
                 **{f"{name} bar": f for name, f in barred.items() if name != "astronaut"}}
    found = LocalSet(originals).similar(local_features(copy), "copy")
    assert [lk.a for lk in found] == ["astronaut"]
    link = found[0]
    assert link.inliers >= 20 and link.agreement >= 0.92 and not link.mirror
    assert link.box_a == pytest.approx((20 / 512, 31 / 512, 481 / 512, 492 / 512), abs=0.02)   # the crop box
    assert link.box_b == pytest.approx((0, 0, 1, 1), abs=0.02)
    assert link.scale == pytest.approx(0.5, rel=0.05) and abs(link.rotation) < 1


def test_a_screenshot_and_a_rotated_copy_link(tmp_path: Path) -> None:
    original = _picture("coffee")
    screen = Image.new("RGB", (540, 1170), (18, 18, 18))
    shown = original.resize((540, round(original.height * 540 / original.width)))
    screen.paste(shown, (0, 300))
    a = local_features(_save(original, tmp_path / "a.jpg"))
    link = match_pair(a, local_features(_save(screen, tmp_path / "s.jpg")))
    assert link is not None and link.box_a == pytest.approx((0, 0, 1, 1), abs=0.03)
    assert link.box_b[1] == pytest.approx(300 / 1170, abs=0.02)    # where the picture sits on the screen
    turned = match_pair(a, local_features(_save(original.rotate(-90, expand=True), tmp_path / "r.jpg")))
    assert turned is not None and abs(turned.rotation) == pytest.approx(90, abs=2)


def test_distinct_pictures_never_link_and_a_set_finds_exactly_the_planted_copies(tmp_path: Path) -> None:
    feats = {}
    for name in NAMES:
        im = _picture(name)
        feats[name] = local_features(_save(im, tmp_path / f"{name}.jpg"))
        feats[f"{name} crop"] = local_features(_save(_crop_caption_half(im, 0.2)[0], tmp_path / f"{name}_c.jpg", 60))
    for x in NAMES:
        for y in NAMES:
            if x != y:
                assert match_pair(feats[x], feats[f"{y} crop"]) is None, (x, y)
    found = LocalSet(feats).links()
    assert sorted(tuple(sorted((lk.a, lk.b))) for lk in found) == sorted((n, f"{n} crop") for n in NAMES)


def test_a_mirrored_crop_links_says_mirror_and_where_in_the_unmirrored_pictures(tmp_path: Path) -> None:
    original = _picture("astronaut")
    copy, box = _crop_caption_half(original, 0.3)
    a = local_features(_save(original, tmp_path / "a.jpg"))
    b = local_features(_save(copy.transpose(Image.Transpose.FLIP_LEFT_RIGHT), tmp_path / "m.jpg", quality=60))
    assert match_pair(a, b) is None                              # SIFT alone does not see a mirror image
    link = match_pair(a, b.mirror(), "a", "m")
    assert link is not None and link.mirror and "mirror" in link.describe()
    assert link.inliers >= 40 and link.agreement > 0.92 and link.residual < 0.6
    assert link.box_a == pytest.approx(box, abs=0.03)
    assert link.box_b == pytest.approx((0, 0, 1, 1), abs=0.03)
    assert link.scale == pytest.approx(0.5, rel=0.05)
    found = LocalSet({"a": a, "cat": local_features(_save(_picture("chelsea"), tmp_path / "c.jpg"))}).similar(b)
    assert [(lk.a, lk.mirror) for lk in found] == [("a", True)]
    twice = b.mirror().mirror()
    assert twice.features.keypoints == pytest.approx(b.features.keypoints, abs=1e-3)
    assert np.array_equal(twice.features.descriptors, b.features.descriptors) and np.array_equal(twice.grey, b.grey)


def test_features_round_trip_and_refuse_another_version() -> None:
    f = local_features(np.asarray(_picture("chelsea")))
    again = LocalFeatures.from_bytes(f.to_bytes())
    assert np.array_equal(again.features.descriptors, f.features.descriptors) and again.size == f.size
    assert np.array_equal(again.grey, f.grey) and f.grey.shape == (f.size[1], f.size[0])


def test_two_photos_of_one_building_from_nearly_one_spot_do_not_link(shared_data: Path) -> None:
    folder = shared_data / "landmarks" / "images" / "sacre_coeur"
    a = local_features(folder / "hloc_71295362_4051449754.jpg")
    b = local_features(folder / "hloc_17295357_9106075285.jpg")
    assert match_pair(a, b) is None


def test_burst_shots_and_nearby_viewpoints_do_not_link_even_cropped(shared_data: Path, tmp_path: Path) -> None:
    """The pairs that linked wrongly at the thumbnail check: a transform fits the scene's plane, the pixels
    (parallax, motion) do not agree tile by tile."""
    landmarks = shared_data / "landmarks" / "images"
    pairs = [(landmarks / "distractors" / "lightglue_DSC_0410.jpg", landmarks / "distractors" / "lightglue_DSC_0411.jpg"),
             (landmarks / "sacre_coeur" / "hloc_71295362_4051449754.jpg",
              landmarks / "sacre_coeur" / "hloc_93341989_396310999.jpg")]
    feats = {p: local_features(p) for pair in pairs for p in pair}
    for first, second in pairs:
        for x, y in ((first, second), (second, first)):
            assert match_pair(feats[y], feats[x]) is None, (x.name, y.name)
            im = Image.open(x).convert("RGB")
            w, h = im.size
            for share, left, top in ((0.1, 0.0, 1.0), (0.3, 1.0, 0.0)):
                dx, dy = int(w * share * left), int(h * share * top)
                crop = _save(im.crop((dx, dy, dx + int(w * (1 - share)), dy + int(h * (1 - share)))), tmp_path / "c.jpg")
                assert match_pair(feats[y], local_features(crop)) is None, (x.name, y.name, share)
                assert match_pair(feats[x], local_features(crop)) is not None, (x.name, share)   # its own: linked


def test_dupes_groups_a_crop_no_hash_links_and_says_why(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from osint.cli import app

    runner = CliRunner()
    original = _picture("astronaut")
    files = [_save(original, tmp_path / "astronaut.jpg"), _save(_picture("chelsea"), tmp_path / "cat.jpg"),
             _save(_crop_caption_half(original, 0.3)[0], tmp_path / "crop.jpg", 50)]
    folder = tmp_path / "case"
    assert runner.invoke(app, ["init", str(folder)]).exit_code == 0
    assert runner.invoke(app, ["add", "-C", str(folder), *map(str, files)]).exit_code == 0
    plain = json.loads(runner.invoke(app, ["dupes", "-C", str(folder), "--json", "--no-crops", "-w", "1"]).stdout)
    assert plain["groups"] == []                       # no hash links a 30% crop
    result = runner.invoke(app, ["dupes", "-C", str(folder), "--json", "-w", "1"])
    assert result.exit_code == 0, result.output
    groups = json.loads(result.stdout)["groups"]
    assert len(groups) == 1 and groups[0]["size"] == 2
    link = groups[0]["local_links"][0]
    assert link["inliers"] >= 20 and link["agreement"] > 0.9 and "inliers" in link["why"]
    again = runner.invoke(app, ["dupes", "-C", str(folder), "--json", "-w", "1"])   # features kept: same answer
    assert json.loads(again.stdout)["groups"] == groups
    other_crop = _save(_crop_caption_half(original, 0.2)[0], tmp_path / "query.jpg", 60)
    found = json.loads(runner.invoke(app, ["similar", str(other_crop), "-C", str(folder), "--json", "-w", "1"]).stdout)
    assert found["matches"] == []                      # no hash links a 20% crop either
    local = {Path(m["paths"][0]).name for m in found["local_matches"]}
    assert local == {"astronaut.jpg", "crop.jpg"}       # the original and the other crop: both show its part
