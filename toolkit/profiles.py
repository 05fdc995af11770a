"""Capture profiles: how a layout of source text is recognized and read, as data (TOML).

A profile is a small TOML file (see ``toolkit/data/profiles/*.toml`` and the README section
"Capture profiles"): a name and version, scored ``marker`` patterns that recognize the layout,
``label`` s and headings that start header fields, ``line`` patterns whose named groups fill
header fields, ``furniture`` lines (literal and regex) that are page debris, the expected
unlabelled front lines, and where the body starts and ends. :mod:`toolkit.sources` runs every
profile with the same reader; adding a layout means adding a file.

Packaged profiles are read with :mod:`importlib.resources`; a corpus may add its own in
``CORPUS/profiles/*.toml`` (a corpus profile with the name of a packaged one replaces it).
Corpus-level furniture (lines recurring verbatim in many sources) is found by
:func:`corpus_furniture`.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from .errors import SourceError

T = TypeVar("T")

# Header fields a label, heading, line pattern or front slot may fill (README: "Capture profiles").
FIELDS = frozenset(
    {
        "title",
        "date",
        "upload_date",
        "updated",
        "author",
        "translator",
        "editor",
        "publisher",
        "series",
        "place",
        "number",
        "record_id",
        "url",
        "citation",
        "source",
        "archive",
        "reprint",
        "abstract",
        "original_language",
        "contents",
        "keywords",
        "rights",
        "note",
        "furniture",
    }
)
FRONT_SLOTS = frozenset({"date", "title", "citation", "abstract", "note"})
WHERE = frozenset({"front", "back", "outside", "anywhere"})
SCORE_WINDOW = 20_000
_NAME = re.compile(r"[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Marker:
    """A regular expression whose presence anywhere in the text adds ``weight`` to the score."""

    pattern: re.Pattern[str]
    weight: float


@dataclass(frozen=True)
class Label:
    """A label (``Citation:`` with its value after the colon or below) or a heading alone on its
    line (``Source``); its following units fill ``field`` until the next label or ``max_units``."""

    text: str
    field: str
    heading: bool = False
    max_units: int = 0  # 0: until the next label, the body or the end


@dataclass(frozen=True)
class LinePattern:
    """A whole line matching ``pattern`` fills header fields: each named group its field, or the
    whole line ``field``. ``where``: front, back, outside (front and back) or anywhere."""

    pattern: re.Pattern[str]
    field: str | None = None
    label: str | None = None
    where: str = "outside"


@dataclass(frozen=True)
class Profile:
    name: str
    version: str
    description: str
    markers: tuple[Marker, ...] = ()
    threshold: float = 3.0
    labels: tuple[Label, ...] = ()
    lines: tuple[LinePattern, ...] = ()
    furniture_lines: frozenset[str] = frozenset()
    furniture_patterns: tuple[re.Pattern[str], ...] = ()
    furniture_inline: re.Pattern[str] | None = None  # debris inside lines, e.g. "[edit]"
    front: tuple[str, ...] = ()
    publisher: str | None = None
    split_inline_labels: bool = False
    bold_title: bool = False
    start_after_label: str | None = None
    contents_item: re.Pattern[str] | None = None
    start_after: tuple[re.Pattern[str], ...] = ()
    end_before: tuple[re.Pattern[str], ...] = ()
    trailing: str | None = None
    signature_min_words: int = 2
    first_as_title: bool = False
    origin: str = "package"

    def score(self, text: str) -> float:
        """The sum of the weights of the markers found in ``text``.

        Markers are page chrome, so only the first and last 20,000 characters are searched.
        """
        if len(text) > 2 * SCORE_WINDOW:
            text = text[:SCORE_WINDOW] + "\n" + text[-SCORE_WINDOW:]
        return sum(m.weight for m in self.markers if m.pattern.search(text))

    def is_furniture(self, line: str) -> bool:
        return line in self.furniture_lines or any(
            p.fullmatch(line) for p in self.furniture_patterns
        )


@dataclass(frozen=True)
class Furniture:
    """Lines that recur verbatim across sources: ``lines`` maps each to its number of sources."""

    lines: Mapping[str, int] = field(default_factory=dict)
    sources: int = 0

    def __contains__(self, line: object) -> bool:
        return line in self.lines


# --- loading -----------------------------------------------------------------------------------


def _regex(value: Any, where: str, source: str) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise SourceError("E121", f"{where} must be a string (a regular expression)", source)
    try:
        return re.compile(value)
    except re.error as exc:
        raise SourceError(
            "E121", f"{where} is not a valid regular expression ({exc}): {value!r}", source
        ) from None


def _field(value: Any, where: str, source: str) -> str:
    if value not in FIELDS:
        raise SourceError(
            "E122",
            f"{where}: unknown header field {value!r}; use one of {', '.join(sorted(FIELDS))}",
            source,
        )
    return str(value)


def parse_profile(text: str, source: str = "<profile>", origin: str = "user") -> Profile:
    """A :class:`Profile` from TOML text; a coded :class:`SourceError` says what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError("E120", f"not valid TOML ({exc})", source) from None
    try:
        return _build(data, source, origin)
    except (TypeError, ValueError, AttributeError) as exc:
        raise SourceError("E123", f"malformed profile: {exc}", source) from None


def _build(data: dict[str, Any], source: str, origin: str) -> Profile:
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SourceError(
            "E123",
            "a profile needs name = \"...\" (lower-case letters, digits and '-', e.g. "
            '"my-archive")',
            source,
        )
    version = str(data.get("version", ""))
    if not version:
        raise SourceError("E123", 'a profile needs version = "..." (e.g. "1")', source)
    markers = tuple(
        Marker(_regex(m["pattern"], f"marker {i + 1}", source), float(m.get("weight", 1)))
        for i, m in enumerate(data.get("marker", []))
    )
    labels = tuple(
        Label(
            text=str(lb["text"]),
            field=_field(lb.get("field", "note"), f"label {lb['text']!r}", source),
            heading=bool(lb.get("heading", False)),
            max_units=int(lb.get("max_units", 0)),
        )
        for lb in data.get("label", [])
    )
    lines: list[LinePattern] = []
    for i, ln in enumerate(data.get("line", [])):
        pattern = _regex(ln["pattern"], f"line {i + 1}", source)
        for group in pattern.groupindex:
            _field(group, f"line {i + 1} group", source)
        where = ln.get("where", "outside")
        if where not in WHERE:
            raise SourceError(
                "E123", f"line {i + 1}: where must be one of {', '.join(sorted(WHERE))}", source
            )
        if not pattern.groupindex and "field" not in ln:
            raise SourceError("E123", f'line {i + 1}: give named groups or field = "..."', source)
        fld = _field(ln["field"], f"line {i + 1}", source) if "field" in ln else None
        lines.append(LinePattern(pattern, fld, ln.get("label"), where))
    furniture = data.get("furniture", {})
    front = tuple(str(s) for s in data.get("front", []))
    for slot in front:
        if slot not in FRONT_SLOTS:
            raise SourceError(
                "E122",
                f"front slot {slot!r} unknown; use one of {', '.join(sorted(FRONT_SLOTS))}",
                source,
            )
    body = data.get("body", {})
    trailing = body.get("trailing")
    return Profile(
        name=name,
        version=version,
        description=str(data.get("description", "")),
        markers=markers,
        threshold=float(data.get("threshold", 3)),
        labels=labels,
        lines=tuple(lines),
        furniture_lines=frozenset(str(x) for x in furniture.get("lines", [])),
        furniture_inline=(
            _regex("|".join(f"(?:{x})" for x in furniture["inline"]), "furniture.inline", source)
            if furniture.get("inline")
            else None
        ),
        furniture_patterns=tuple(
            _regex(p, "furniture pattern", source) for p in furniture.get("patterns", [])
        ),
        front=front,
        publisher=data.get("publisher"),
        split_inline_labels=bool(data.get("split_inline_labels", False)),
        bold_title=bool(data.get("bold_title", False)),
        start_after_label=body.get("start_after_label"),
        contents_item=(
            _regex(body["contents_item"], "body.contents_item", source)
            if "contents_item" in body
            else None
        ),
        start_after=tuple(
            _regex(p, "body.start_after", source) for p in body.get("start_after", [])
        ),
        end_before=tuple(_regex(p, "body.end_before", source) for p in body.get("end_before", [])),
        trailing=_field(trailing, "body.trailing", source) if trailing else None,
        signature_min_words=int(body.get("signature_min_words", 2)),
        first_as_title=bool(body.get("first_as_title", False)),
        origin=origin,
    )


def load_profile(path: str | Path) -> Profile:
    """A user's profile file (``toolkit convert --profile FILE``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError("E124", f"cannot read the profile ({exc.strerror})", str(p)) from None
    except UnicodeDecodeError:
        raise SourceError("E120", "a profile must be UTF-8 TOML", str(p)) from None
    return parse_profile(text, str(p), origin=str(p))


def packaged_profiles() -> dict[str, Profile]:
    """The profiles shipped in ``toolkit/data/profiles``, by name (read once per process)."""
    return dict(_packaged())


@cache
def _packaged() -> tuple[tuple[str, Profile], ...]:
    found: dict[str, Profile] = {}
    folder = files("toolkit.data").joinpath("profiles")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(entry.read_text(encoding="utf-8"), entry.name, "package")
            found[profile.name] = profile
    return tuple(found.items())


def load_profiles(corpus: str | Path | None = None) -> dict[str, Profile]:
    """Packaged profiles plus ``CORPUS/profiles/*.toml``; a corpus profile wins on a name clash."""
    found = packaged_profiles()
    if corpus is not None:
        folder = Path(corpus) / "profiles"
        if folder.is_dir():
            for path in sorted(folder.glob("*.toml")):
                profile = load_profile(path)
                found[profile.name] = profile
    return found


# --- recognition -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """The outcome of recognition: the profile used and every profile's score, best first."""

    profile: Profile
    scores: tuple[tuple[str, float], ...]
    fallback: bool = False
    thresholds: tuple[tuple[str, float], ...] = ()


def choose(text: str, profiles: Mapping[str, Profile]) -> Choice:
    """The best-scoring profile whose score reaches its threshold, else ``plain`` (fallback).

    Ties are broken by name, so the choice is reproducible.
    """
    scores = sorted(
        ((p.score(text), name) for name, p in profiles.items()), key=lambda s: (-s[0], s[1])
    )
    ranked = tuple((name, score) for score, name in scores)
    thresholds = tuple((name, profiles[name].threshold) for _, name in scores)
    for score, name in scores:
        if score > 0 and score >= profiles[name].threshold:
            return Choice(profiles[name], ranked, thresholds=thresholds)
    plain = profiles.get("plain") or packaged_profiles()["plain"]
    return Choice(plain, ranked, fallback=True, thresholds=thresholds)


# --- corpus-level furniture ----------------------------------------------------------------------

MIN_SOURCES = 3
MIN_SHARE = 0.5
MIN_CHARS = 4
BLOCK = 2000  # sources counted at once by corpus_furniture


def reiterable(items: Iterable[T] | Callable[[], Iterable[T]]) -> Callable[[], Iterable[T]]:
    """A function giving the items anew on each call: ``items`` itself if it is one, else a
    collection (a one-shot iterator is read into a list first)."""
    if callable(items):
        return items
    kept = items if iter(items) is not items else list(items)
    return lambda: kept


def _lines_of(text: str) -> set[str]:
    """The distinct trimmed lines of ``text`` that could be furniture (4+ chars, a letter)."""
    return {
        s
        for s in (ln.strip() for ln in text.split("\n"))
        if len(s) >= MIN_CHARS and any(c.isalpha() for c in s)
    }


def corpus_furniture(
    texts: Iterable[str] | Callable[[], Iterable[str]],
    *,
    min_sources: int = MIN_SOURCES,
    min_share: float = MIN_SHARE,
    block: int = BLOCK,
) -> Furniture:
    """Lines recurring verbatim (after trimming) in many sources: page furniture of a corpus.

    A line is furniture when it stands in at least ``min_sources`` sources (default 3) AND in at
    least ``min_share`` of them (default half), and has at least 4 characters of which one is a
    letter. Each source counts once, so a line repeated only inside one document is never
    furniture. With fewer than ``min_sources`` sources nothing is furniture.

    Memory does not grow with the corpus. Up to ``block`` sources are counted exactly in one
    pass. A larger corpus is read twice: the first pass counts one block of ``block`` sources at
    a time and keeps, from each block, only the lines standing in at least ``min_share`` of that
    block's sources. That is a superset of the answer (a line below the share in every block is
    below it in the whole corpus), and it is small. The second pass counts those candidates
    exactly. ``texts`` is therefore a re-iterable collection, or a function returning a new
    iterable of the same texts on each call (a one-shot iterator is read into a list first).
    """
    again = reiterable(texts)
    counts: Counter[str] = Counter()
    candidates: set[str] = set()
    total = seen = 0
    for text in again():
        if seen == block:  # close the full block (only when another text follows it)
            candidates.update(line for line, n in counts.items() if n >= min_share * seen)
            counts, seen = Counter(), 0
        total += 1
        seen += 1
        counts.update(_lines_of(text))
    if total > block:  # several blocks: count the candidates exactly in a second pass
        candidates.update(line for line, n in counts.items() if n >= min_share * seen)
        counts = Counter()
        for text in again():
            counts.update(_lines_of(text) & candidates)
    need = max(min_sources, min_share * total)
    lines = {line: n for line, n in sorted(counts.items()) if n >= need}
    return Furniture(lines, total)
