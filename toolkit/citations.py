"""Archival references: string <-> :class:`~toolkit.model.Citation` (pure functions).

``find_citation`` finds a reference inside a longer citation sentence; ``parse_citation`` reads a
string that should be one; ``format_citation`` writes the canonical form, which parses back to
the same structure. Repositories come from the packaged registry ``data/archives.json``; an
unknown repository keeps its abbreviation and nothing else is guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from .errors import CitationError
from .model import Citation, Level, Range

UNITS = (
    "fond",
    "opis",
    "delo",
    "papka",
    "item",
    "record_group",
    "series",
    "entry",
    "box",
    "folder",
    "file",
)
RANGE_UNITS = ("folio", "page")

# Markers, longest first within a unit; matched case-insensitively at a word start.
_MARKERS: tuple[tuple[str, str], ...] = (
    ("record_group", r"record\s+group|RG"),
    ("item", r"poriadkovyi\s+nomer|por\.?|пор\."),
    ("papka", r"papka|pap\.?|пап\.?"),
    ("fond", r"fonds?|ф(?:онд)?\.?|f\.?"),
    ("opis", r"opis'?|op\.?|оп(?:ись)?\.?"),
    ("delo", r"delo|d\.?|д(?:ело)?\.?"),
    ("folio", r"listy|list|ll\.?|l\.?|лл\.?|л(?:ист[ыa]?)?\.?|folios?|fols?\.?|ff\.?"),
    ("page", r"pages?|pp\.?|p\.?|стр\.?|с\."),
    ("series", r"series|ser\."),
    ("entry", r"entry|E(?=\s*\d)"),
    ("box", r"box"),
    ("folder", r"folder"),
    ("file", r"file|piece"),
)
_LEVEL_VALUE = r"(?:[A-Za-zА-Яа-я]{1,3}-?)?\d+(?:[A-Za-zА-Яа-я](?![A-Za-zА-Яа-я]))?"
_LEAF = r"\d+\s*(?:об\.?|ob\.?|v\b|r\b)?"
_DASH = r"\s*[-–—]\s*"
_MARKER_RE = re.compile(
    r"(?<![\w])(?:"
    + "|".join(f"(?P<{unit}>{pattern})" for unit, pattern in _MARKERS)
    + r")(?=[\s\d.])\s*",
    re.IGNORECASE,
)
_LEVEL_VALUE_RE = re.compile(_LEVEL_VALUE + r"(?![\w/])")
_RANGE_RE = re.compile(rf"(?P<from>{_LEAF})(?:{_DASH}(?P<to>{_LEAF}))?")
_SEPARATOR_RE = re.compile(r"[\s,.;:]*")
_VERSO_RE = re.compile(r"\s*(?:об\.?|ob\.?|v)$", re.IGNORECASE)
_RECTO_RE = re.compile(r"\s*r$", re.IGNORECASE)
_TNA_RE = re.compile(r"(?P<series>[A-Z]{1,4}\s?\d+)\s*/\s*(?P<file>\d+[A-Za-z]?)")
_FMA_RE = re.compile(
    r"(?P<file>\d{3}-\d{5}-\d{2})(?:\s*[,(]\s*(?:pp?\.\s*)?(?P<range>[\d–—-]+)\)?)?"
)
_NARA_FILE_RE = re.compile(r"\d{3}\.\d+(?:/[\w-]+)?")
_UNKNOWN_REPO_RE = re.compile(
    r"([A-ZА-Я][A-Za-zА-Яа-я]*(?: [A-ZА-Я][A-Za-zА-Яа-я]*){0,2})[\s:,.]*$"
)


@dataclass(frozen=True)
class Archive:
    key: str
    name: str
    transliterated: str | None
    country: str
    country_code: str
    settlement: str
    aliases: tuple[str, ...]


@cache
def archives() -> dict[str, Archive]:
    """The packaged registry, keyed by canonical abbreviation."""
    raw = json.loads(files("toolkit.data").joinpath("archives.json").read_text("utf-8"))
    return {
        key: Archive(key=key, **{**v, "aliases": tuple(v["aliases"])}) for key, v in raw.items()
    }


def archive(abbreviation: str | None) -> Archive | None:
    """The registry entry for an abbreviation as cited (any alias), or None."""
    if not abbreviation:
        return None
    wanted = _fold(abbreviation)
    for entry in archives().values():
        if any(_fold(alias) == wanted for alias in entry.aliases):
            return entry
    return None


def _fold(name: str) -> str:
    return re.sub(r"[\s.:,]", "", name).casefold()


@cache
def _repository_re() -> re.Pattern[str]:
    aliases = sorted(
        {a for entry in archives().values() for a in entry.aliases}, key=len, reverse=True
    )
    # Tolerate spacing inside abbreviations ("AVP RF", "AVPRF") but keep them whole words.
    parts = [r"\s?".join(re.escape(ch) for ch in a.replace(" ", "")) for a in aliases]
    return re.compile(r"(?<![\w])(" + "|".join(parts) + r")(?![\w])")


def find_citation(text: str) -> Citation | None:
    """The first archival reference inside ``text``, ``raw`` being its exact substring."""
    found = _parse_at(text)
    return found[0] if found else None


def parse_citation(text: str) -> Citation:
    """Parse a reference; a published work with no archive becomes a bibliographic one.

    Raises :class:`CitationError` (E501) when nothing in ``text`` reads as a reference.
    """
    found = _parse_at(text)
    if found:
        return found[0]
    page = _page_range(text)
    if page is not None:
        return Citation(raw=text.strip(), repository=None, range=page)
    raise CitationError(
        "E501",
        f"no archival reference found in {text.strip()!r}: expected an archive abbreviation "
        "(e.g. AVPRF, RGASPI, NARA) or unit markers such as 'fond 1, opis 2, delo 3, listy 4-5'",
    )


def _parse_at(text: str) -> tuple[Citation, int] | None:
    repo_match = _repository_re().search(text)
    if repo_match:
        key = archive(repo_match.group(1))
        start, pos = repo_match.start(), repo_match.end()
        levels, rng, end = _read_levels(text, pos, key.key if key else None)
        if levels or rng:
            raw = text[start:end].rstrip(" ,;:")
            return Citation(
                raw=raw,
                repository=key.key if key else repo_match.group(1),
                levels=tuple(levels),
                range=rng,
            ), end
    first = _MARKER_RE.search(text)
    while first:
        levels, rng, end = _read_levels(text, first.start(), None)
        if len(levels) >= 2 or (levels and rng):
            before = _UNKNOWN_REPO_RE.search(text[: first.start()])
            repo = before.group(1) if before and _looks_like_abbreviation(before.group(1)) else None
            start = before.start(1) if repo and before else first.start()
            raw = text[start:end].rstrip(" ,;:")
            return Citation(raw=raw, repository=repo, levels=tuple(levels), range=rng), end
        first = _MARKER_RE.search(text, first.end())
    return None


_LOWER = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p",
    "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch",
    "ш": "sh", "щ": "shch", "ы": "y", "э": "e", "ю": "iu", "я": "ia",
}  # fmt: skip
_CYRILLIC = {**_LOWER, **{k.upper(): v.capitalize() for k, v in _LOWER.items()}}


def _latin(value: str) -> str:
    """Cyrillic letters in a unit value (fond "Р-9401", opis "23а") in Latin transliteration."""
    return "".join(_CYRILLIC.get(ch, ch) for ch in value)


def _looks_like_abbreviation(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return 2 <= len(letters) <= 12 and sum(c.isupper() for c in letters) >= 2


def _read_levels(text: str, pos: int, key: str | None) -> tuple[list[Level], Range | None, int]:
    levels: list[Level] = []
    rng: Range | None = None
    end = pos
    while True:
        sep = _SEPARATOR_RE.match(text, end)
        at = sep.end() if sep else end
        special = _special_form(text, at, key, levels)
        if special:
            new_levels, new_range, new_end = special
            levels += new_levels
            rng = new_range or rng
            end = new_end
            continue
        marker = _MARKER_RE.match(text, at)
        if not marker or rng is not None:
            break
        unit = marker.lastgroup or ""
        if unit in RANGE_UNITS:
            value = _RANGE_RE.match(text, marker.end())
            if not value:
                break
            rng = Range(unit, _leaf(value.group("from")), _leaf(value.group("to")))
            end = value.end()
            if text[end : end + 1] == "." and _VERSO_RE.search(text[value.start() : end + 1]):
                end += 1
        else:
            value = _LEVEL_VALUE_RE.match(text, marker.end())
            if not value or any(lv.unit == unit for lv in levels):
                break
            levels.append(Level(unit, _latin(value.group(0))))
            end = value.end()
    return levels, rng, end


def _special_form(
    text: str, at: int, key: str | None, levels: list[Level]
) -> tuple[list[Level], Range | None, int] | None:
    """Shapes without unit markers: TNA piece references, PRC FMA file numbers, NARA files."""
    if key == "TNA" and not levels:
        m = _TNA_RE.match(text, at)
        if m:
            return (
                [Level("series", m.group("series")), Level("file", m.group("file"))],
                None,
                m.end(),
            )
    if key == "PRC FMA" and not levels:
        m = _FMA_RE.match(text, at)
        if m:
            rng = _page_range(m.group("range")) if m.group("range") else None
            return [Level("file", m.group("file"))], rng, m.end()
    if key == "NARA" and levels and levels[-1].unit in ("record_group", "series", "entry"):
        m = _NARA_FILE_RE.match(text, at)
        if m:
            return [Level("file", m.group(0))], None, m.end()
        if levels[-1].unit == "record_group":
            # A named series: words up to the next comma, e.g. "Central Decimal File 1945-49".
            m = re.compile(
                r"([A-Z][A-Za-z]+(?: [A-Za-z]+)*(?: \d{4}(?:[-–]\d{2,4})?)?)(?=,|$)"
            ).match(text, at)
            if m and not _MARKER_RE.match(text, at):
                return [Level("series", m.group(1))], None, m.end()
    return None


def _page_range(text: str | None) -> Range | None:
    if not text:
        return None
    marker = re.search(r"(?<![\w])(?:pp?\.|pages?)\s*", text, re.IGNORECASE)
    m = _RANGE_RE.search(text, marker.end() if marker else 0)
    if not m or (marker is None and not re.fullmatch(r"[\d\s–—-]+", text.strip())):
        return None
    return Range("page", _leaf(m.group("from")), _leaf(m.group("to")))


def _leaf(value: str | None) -> str | None:
    """Normalize a folio: verso marks (об., ob., v) become ``v``; recto ``r`` is dropped."""
    if value is None:
        return None
    value = value.strip()
    if _VERSO_RE.search(value):
        return _VERSO_RE.sub("", value) + "v"
    return _RECTO_RE.sub("", value)


_LABELS = {
    "fond": "fond",
    "opis": "opis",
    "delo": "delo",
    "papka": "papka",
    "item": "por.",
    "record_group": "RG",
    "series": "series",
    "entry": "entry",
    "box": "box",
    "folder": "folder",
    "file": "file",
}


def format_citation(citation: Citation) -> str:
    """The canonical string, e.g. ``AVPRF, fond 0100, opis 33, delo 13, listy 220-240``.

    Archives with a shape of their own are written in it: ``TNA, FO 371/46212``,
    ``PRC FMA 105-00011-02, pp. 12-15``, NARA's named series and decimal files bare.
    """
    repo, levels, r = citation.repository, list(citation.levels), citation.range
    units = [lv.unit for lv in levels]
    if repo == "TNA" and units == ["series", "file"]:
        return f"TNA, {levels[0].value}/{levels[1].value}" + _range_text(r)
    if repo == "PRC FMA" and units == ["file"]:
        return f"PRC FMA {levels[0].value}" + _range_text(r)
    parts = [repo] if repo else []
    for lv in levels:
        bare = repo == "NARA" and (
            (lv.unit == "series" and not re.fullmatch(r"\d+", lv.value))
            or (lv.unit == "file" and _NARA_FILE_RE.fullmatch(lv.value) is not None)
        )
        parts.append(lv.value if bare else f"{_LABELS[lv.unit]} {lv.value}")
    text = ", ".join(parts)
    return text + _range_text(r) if text else _range_text(r).lstrip(", ")


def _range_text(r: Range | None) -> str:
    if r is None:
        return ""
    if r.unit == "folio":
        leaf = "list" if r.end is None else "listy"
    else:
        leaf = "p." if r.end is None else "pp."
    return f", {leaf} {r.start}" + (f"-{r.end}" if r.end else "")


def citation_json(citation: Citation) -> dict[str, object]:
    """The ``toolkit cite --json`` object."""
    entry = archive(citation.repository)
    rng = citation.range
    return {
        "repository": citation.repository,
        "repository_name": entry.name if entry else None,
        "country": entry.country if entry else None,
        "settlement": entry.settlement if entry else None,
        "levels": [{"unit": lv.unit, "value": lv.value} for lv in citation.levels],
        "range": {"unit": rng.unit, "from": rng.start, "to": rng.end} if rng else None,
        "raw": citation.raw,
    }
