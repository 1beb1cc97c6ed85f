"""`osint demo` end to end (one run shared by these tests): every stage, the report in a real browser, a
decision made in the page and imported, the CLI review commands, and the walkthrough notebook on its data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from osint.cli import app
from tests.report.browser import Page, chromium

runner = CliRunner()
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo") / "osint-demo"
    result = runner.invoke(app, ["demo", "--out", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    return {**json.loads(result.stdout), "folder": folder}


def test_demo_runs_every_stage_and_says_where_everything_is(demo: dict) -> None:
    from osint.case import Case
    from osint.evidence import verify_bundle

    steps = {s["name"]: s for s in demo["steps"]}
    assert list(steps) == ["ingest", "hash", "faces", "geolocate", "report", "evidence"]
    assert all(s["status"] == "ok" for s in steps.values()), steps
    assert "duplicate group" in steps["hash"]["detail"] and "candidate" in steps["faces"]["detail"]
    assert "exif-gps" in steps["geolocate"]["detail"] and "landmark" in steps["geolocate"]["detail"]
    for key in ("case", "inputs", "report", "bundle", "signing_key"):
        assert Path(demo[key]).exists(), key
    assert verify_bundle(demo["bundle"]).ok
    with Case.open(demo["case"]) as case:
        assert case.verify().ok
        assert {it.media_type for it in case.items()} == {"image", "video"}


def test_demo_refuses_a_folder_that_holds_one(demo: dict) -> None:
    again = runner.invoke(app, ["demo", "--out", str(demo["folder"])])
    assert again.exit_code == 2 and "already holds a demo case" in again.output


def test_demo_report_in_browser_and_decision_imported(demo: dict, tmp_path: Path) -> None:
    with chromium() as browser:
        view = Page(browser, Path(demo["report"]))
        page = view.page
        cards = page.locator(".card")
        assert cards.count() >= 3                                    # photos, reposts and the video frame
        for card in cards.all():
            card.scroll_into_view_if_needed()
        view.wait("[...document.querySelectorAll('.card img')].every(i => i.complete)")
        assert min(view.decoded(".card .crop img")) > 0 and min(view.decoded(".card .context img")) > 0
        text = page.inner_text("#cand-list")
        assert "Eileen Collins" in text and "false-match rate" in text and "video frame at 0:0" in text
        assert "1 of 1 reference photo of Eileen Collins" in text and "stands in for a missing child" in text
        assert page.locator("#map-view svg circle").count() >= 2         # EXIF positions drawn on the map
        assert page.locator(".group").count() >= 1
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(tmp_path / "demo-report.png"), full_page=True)
        page.fill("#reviewer", "Olena")
        page.locator("body").press("Escape")
        page.keyboard.press("c")
        with page.expect_download() as download:
            page.keyboard.press("e")
        exported = tmp_path / "decisions.json"
        exported.write_text(Path(download.value.path()).read_text())
        assert view.errors == [] and view.network() == []
    done = runner.invoke(app, ["review", "import", str(exported), "-C", demo["case"], "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["recorded"] == 1
    listed = json.loads(runner.invoke(app, ["review", "list", "-C", demo["case"], "--json"]).stdout)
    decided = [c for c in listed if c["decisions"]]
    assert len(decided) == 1 and decided[0]["decisions"][0]["reviewer"] == "Olena"


def test_report_of_the_demo_case_opens_no_network_socket(demo: dict, tmp_path: Path,
                                                        no_network: list[object]) -> None:
    made = runner.invoke(app, ["report", "-C", demo["case"], "--out", str(tmp_path / "r.html"), "--json"])
    assert made.exit_code == 0 and json.loads(made.stdout)["candidates"] >= 3
    one = runner.invoke(app, ["report", "-C", demo["case"], "--out", str(tmp_path / "p.html"), "--person",
                              "eileen-collins", "--json"])
    assert one.exit_code == 0 and 3 <= json.loads(one.stdout)["candidates"] < json.loads(made.stdout)["candidates"]
    nobody = runner.invoke(app, ["report", "-C", demo["case"], "--out", str(tmp_path / "n.html"), "--person", "x"])
    assert nobody.exit_code == 2 and "no reference person 'x'" in nobody.output
    assert no_network == []


def test_review_set_and_list_from_the_terminal(demo: dict) -> None:
    listed = json.loads(runner.invoke(app, ["review", "list", "-C", demo["case"], "--json"]).stdout)
    target = listed[-1]["id"]
    made = runner.invoke(app, ["review", "set", target[:8], "rejected", "-m", "different chin", "--reviewer", "Taras",
                               "-C", demo["case"]])
    assert made.exit_code == 0 and "rejected by Taras" in made.output
    bad = runner.invoke(app, ["review", "set", target, "probably", "-C", demo["case"]])
    assert bad.exit_code == 2 and "confirmed, rejected, unsure" in bad.output
    quiet = runner.invoke(app, ["review", "-C", demo["case"], "--no-interactive"])
    assert quiet.exit_code == 0 and target not in quiet.output      # decided ones are no longer listed
    asked = runner.invoke(app, ["review", "-C", demo["case"], "--interactive", "--reviewer", "Iryna"],
                          input="u\nneeds an older photo\nq\n")
    assert asked.exit_code == 0 and "recorded: unsure by Iryna" in asked.output


def test_walkthrough_notebook_runs_on_the_demo(demo: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("OSINT_DEMO", str(demo["folder"]))
    notebook = nbformat.read(NOTEBOOKS / "walkthrough.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    text = "\n".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "distance" in text and "VALID" in text and "candidates" in text
