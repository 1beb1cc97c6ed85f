"""The offline map: projection, layers, boundaries from the installed package, nothing external."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from osint.geolocate import MapLayers, MapPoint, layers_from_results, map_html, map_svg, shadow_band
from osint.geolocate.mapping import boundary_lines


def test_boundaries_come_from_the_installed_package():
    countries = boundary_lines("countries", "c")
    assert len(countries) > 300
    # some border line passes through the Ukraine/Poland area
    assert any(w < 24.5 and e > 23.5 and s < 51 and n > 50 for w, s, e, n, _ in countries)


def test_svg_draws_every_layer_where_it_belongs():
    band = shadow_band(datetime(2024, 5, 14, 7, 20, tzinfo=timezone.utc), shadow_ratio=1.2)
    layers = MapLayers(points=(MapPoint(50.45, 30.52, 2000, "exif-gps", "kyiv photo"),
                               MapPoint(49.84, 24.03, 500, "landmark", "lviv site")),
                       bands=(("sun", band.geometry),),
                       areas=(("camp", {"type": "Polygon",
                                        "coordinates": [[[30, 50], [31, 50], [31, 51], [30, 50]]]}),))
    svg = map_svg(layers, width=800)
    w, s, e, n = map(float, re.search(r'data-bounds="([^"]+)"', svg)[1].split(","))
    assert w < 24.03 < 30.52 < e and s < 49.84 < 50.45 < n
    assert svg.count("<circle") == 1 and "lviv site" in svg and "kyiv photo" in svg
    assert 'class="countries"' in svg and 'class="gshhs"' in svg and "<title>camp</title>" in svg
    page = map_html(layers)
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page and "@import" not in page


def test_world_view_when_nothing_is_located():
    layers = layers_from_results([{"source": "x.jpg", "answers": [], "notes": []}])
    svg = map_svg(layers)
    assert 'data-bounds="-180.0000,-70.0000,180.0000,80.0000"' in svg
