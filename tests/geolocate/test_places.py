"""Offline place names, user areas, geodesic distance, and that nothing goes online unless asked."""

from __future__ import annotations

import json

import pytest

from osint.geolocate import Areas, distance_m, place_names


def test_place_names_offline():
    kyiv, arezzo = place_names([(50.45, 30.52), (43.4674483, 11.8851267)])
    assert (kyiv.country_code, kyiv.country) == ("UA", "Ukraine") and kyiv.town_distance_m < 5000
    assert arezzo.country == "Italy" and arezzo.admin1 == "Tuscany" and arezzo.town == "Arezzo"
    assert 1000 < arezzo.town_distance_m < 5000


def test_geodesic_distance():
    assert distance_m((50.4501, 30.5234), (49.8397, 24.0297)) == pytest.approx(468_000, rel=0.01)  # Kyiv-Lviv


def test_areas_tag_points_inside(tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "camp A"},
         "geometry": {"type": "Polygon", "coordinates": [[[34.2, 44.5], [34.4, 44.5], [34.4, 44.6], [34.2, 44.6],
                                                          [34.2, 44.5]]]}}]}
    (tmp_path / "a.geojson").write_text(json.dumps(doc))
    areas = Areas.load(tmp_path / "a.geojson")
    assert areas.tag(44.55, 34.29) == ["camp A"]
    assert areas.tag(44.7, 34.29) == []
    (tmp_path / "bad.geojson").write_text("{nope")
    from osint.errors import OsintError

    with pytest.raises(OsintError, match="bad.geojson"):
        Areas.load(tmp_path / "bad.geojson")


def test_no_socket_without_online_and_online_says_what_it_sends(tmp_path, no_network):
    from typer.testing import CliRunner

    from osint.cli import app
    from tests.geolocate.conftest import gps_photo

    photo = gps_photo(tmp_path / "p.jpg")
    runner = CliRunner()
    res = runner.invoke(app, ["geolocate", str(photo), "--json", "--shadow", "1.2"])
    assert res.exit_code == 0, res.output
    assert no_network == []
    data = json.loads(res.stdout)
    assert data[0]["answers"][0]["place"]["country"] == "Ukraine"
    res = runner.invoke(app, ["geolocate", str(photo), "--online"])
    assert "sending:" in res.stderr and "50.450000,30.520139" in res.stderr
    assert no_network, "--online should have tried to reach the geocoder"
