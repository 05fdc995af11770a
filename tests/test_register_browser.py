"""The register, map and timeline in headless Chromium: typing filters, links, no console errors.

Skipped where Chromium (Debian: ``apt-get install chromium``) or websocket-client is missing.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from cdp import CHROMIUM, Browser
from click.testing import CliRunner
from conftest import EPOCH, ROOT

from toolkit.cli import main
from toolkit.index import anchor

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: chromium)"),
]
pytest.importorskip("websocket")

CORPUS = ROOT / "corpus"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "index"
    result = CliRunner().invoke(
        main,
        [
            "index",
            str(CORPUS / "tei"),
            "-o",
            str(out),
            "--authority",
            str(CORPUS / "authority.xml"),
        ],
        env={"SOURCE_DATE_EPOCH": EPOCH},
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    yield b
    b.close()


def test_typing_in_the_search_box_filters_entries(index_dir, browser):
    browser.errors.clear()
    browser.open(index_dir / "index.html")
    entities = json.loads((index_dir / "index.json").read_text())["entities"]
    total = len(entities)
    assert browser.eval("document.querySelectorAll('.entry').length") == total
    assert browser.eval("document.getElementById('count').textContent") == (
        f"{total} of {total} entries shown"
    )
    # reach the search box with the keyboard alone
    for _ in range(15):
        if browser.eval("document.activeElement.id") == "q":
            break
        browser.key("Tab", 9)
    assert browser.eval("document.activeElement.id") == "q"
    browser.type("jiang")
    browser.frames()
    expected = sorted(
        anchor(e["id"])
        for e in entities
        if any("jiang" in n.lower() for n in [e["main_name"], *(v["name"] for v in e["variants"])])
    )
    shown = browser.eval(
        "Array.from(document.querySelectorAll('.entry')).filter(e => !e.hidden)"
        ".map(e => e.id.slice(2)).sort()"
    )
    assert shown == expected and "chiang-kai-shek" in shown
    assert browser.eval("document.getElementById('count').textContent") == (
        f"{len(expected)} of {total} entries shown"
    )
    # diacritics and case are folded; a type filter hides a whole section
    browser.eval("document.getElementById('q').value = ''")
    browser.eval("document.getElementById('q').dispatchEvent(new Event('input', {bubbles: true}))")
    browser.eval("document.querySelector('input[name=type][value=place]').click()")
    browser.frames()
    assert browser.eval("document.querySelector('section[data-type=place]').hidden") is True
    places = sum(e["type"] == "place" for e in entities)
    assert browser.eval("document.getElementById('count').textContent") == (
        f"{total - places} of {total} entries shown"
    )
    assert browser.eval("document.querySelector('label[for=q]').textContent") == "Search names"
    assert browser.eval("document.querySelectorAll('h1').length") == 1
    assert browser.errors == []


def test_map_draws_places_linked_to_the_register(index_dir, browser):
    browser.errors.clear()
    browser.open(index_dir / "map.html")
    with sqlite3.connect(index_dir / "index.sqlite") as db:
        placed = {r[0] for r in db.execute("SELECT id FROM entities WHERE latitude IS NOT NULL")}
    assert placed, "the seed corpus's places should have coordinates"
    links = browser.eval(
        "Array.from(document.querySelector('svg').querySelectorAll('a'))"
        ".map(a => [a.getAttribute('href'), "
        "a.querySelector('circle').getBoundingClientRect().width])"
    )
    assert sorted(h for h, _ in links) == sorted(f"index.html#e-{anchor(p)}" for p in placed)
    assert all(w > 0 for _, w in links)  # rendered, with a size
    register = (index_dir / "index.html").read_text()
    for href, _ in links:
        assert f'id="{href.split("#")[1]}"' in register
    detail = browser.eval(
        "Array.from(document.querySelectorAll('.map svg')[1].querySelectorAll('a'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert 3 <= len(detail) < len(links) and f"index.html#e-{anchor('china')}" in detail
    assert browser.errors == []


def test_timeline_selects_a_period_with_its_documents_and_entities(index_dir, browser):
    browser.errors.clear()
    browser.open(index_dir / "timeline.html")
    periods = browser.eval("Array.from(document.querySelectorAll('section.period')).map(s => s.id)")
    assert periods == ["y1945", "y2022"]
    browser.eval(
        "const s = document.getElementById('period'); s.value = 'y1945';"
        "s.dispatchEvent(new Event('change'))"
    )
    visible = browser.eval(
        "Array.from(document.querySelectorAll('section.period')).filter(s => !s.hidden)"
        ".map(s => s.id)"
    )
    assert visible == ["y1945"]
    docs = browser.eval(
        "Array.from(document.querySelectorAll('#y1945 li a[href^=\"docs/\"]'))"
        ".map(a => a.getAttribute('href'))"
    )
    assert docs == ["docs/wilson-122807-petrov-mao-1945-09-06.html"]
    names = browser.eval(
        "Array.from(document.querySelectorAll('#y1945 a[href^=\"index.html#e-\"]'))"
        ".map(a => a.textContent)"
    )
    assert names[0] == "Guomindang" and "Mao Zedong" in names and "Xi Jinping" not in names
    # a bar of the chart is a keyboard-reachable link that selects its period
    browser.eval("document.querySelector('.chart a[href=\"#y2022\"]').focus()")
    browser.key("Enter", 13)
    browser.frames()
    assert browser.eval("document.getElementById('period').value") == "y2022"
    browser.open(index_dir / "docs" / "wilson-122807-petrov-mao-1945-09-06.html")
    ids = browser.eval(
        "Array.from(document.querySelectorAll('a.persName')).filter(a => a.textContent === "
        "'Jiang Jieshi').map(a => a.id)"
    )
    assert (
        len(ids) == 1
        and ids[0] in (CORPUS / "tei" / "wilson-122807-petrov-mao-1945-09-06.xml").read_text()
    )
    assert browser.errors == []
