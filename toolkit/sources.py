"""Source text -> :class:`~toolkit.model.Document`, driven by a capture profile.

A capture profile (:mod:`toolkit.profiles`, TOML files under ``toolkit/data/profiles``) says
how a layout is recognized and read: labels and headings that start header fields, line
patterns, page furniture, the expected front lines, where the body starts and ends. One reader
runs every profile (:func:`explain` shows where it put each line). Generic finders then work
in any layout: the document date (never an upload date), translator phrases, archival
references wherever they stand (:func:`toolkit.citations.find_citation`), URLs, record ids.
Every decision is written into the header
(``editorialDecl``), so a reader of the TEI knows what was changed and where; every word of the
source reaches the TEI (body, header, or a furniture list in ``editorialDecl``).

Paragraphs: when the text has blank lines between paragraphs, they split there; when it has
none (a capture with single line breaks), every line is a paragraph, except that a line that does
not end a sentence is joined to the next when the next starts in lower case or the line is long
(50+ characters, a wrapped line); a word hyphenated at a line end ("extraordi-" / "nary") is
rejoined and listed in ``editorialDecl``.

Only :func:`read_source` touches the file system.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from itertools import accumulate, pairwise
from pathlib import Path

from .citations import find_citation
from .decoding import Decoded, decode
from .errors import SourceError, ToolkitError
from .model import (
    Block,
    Change,
    Damage,
    Document,
    Header,
    Language,
    Responsibility,
    SourceFile,
    Span,
)
from .profiles import (
    Choice,
    Furniture,
    LinePattern,
    Profile,
    choose,
    corpus_furniture,
    load_profile,
    load_profiles,
    packaged_profiles,
    reiterable,
)
from .provenance import TOOLKIT
from .tei import canonical, ncname

FORMATS = ("auto", *sorted(packaged_profiles()))

LANGUAGE_CODES = {
    "albanian": "sq",
    "arabic": "ar",
    "bulgarian": "bg",
    "chinese": "zh",
    "czech": "cs",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hungarian": "hu",
    "italian": "it",
    "japanese": "ja",
    "korean": "ko",
    "mongolian": "mn",
    "polish": "pl",
    "romanian": "ro",
    "russian": "ru",
    "serbian": "sr",
    "spanish": "es",
    "ukrainian": "uk",
    "vietnamese": "vi",
}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_DATE_MDY = re.compile(r"\b([A-Z][a-z]+)\.? (\d{1,2}),? (\d{4})\b")
_DATE_DMY = re.compile(r"\b(\d{1,2}) ([A-Z][a-z]+)\.? (\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_URL = re.compile(r"<?(https?://[^\s<>]+?)>?(?=[\s.,;]*$|\s)")
_TRANSLATOR = re.compile(
    r"\bTranslat(?:ed|ion)(?:\s+(?:from|into)\s+\w+)?(?:\s+for\s+[^.]+?)?\s+by\s+"
    r"([^.]+(?:\.[A-Z]\.?)*[^.]*)\."
)
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_QUOTED_TITLE = re.compile(r'\s*["“]([^"”]+?),?["”]')
_DAMAGE = re.compile(r"[^\s|]*(?:\?(?=[^\W\d_]|\?)|\ufffd)[^\s|]*")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,200})\]")
_ENDS_SENTENCE = re.compile(r"[.!?:;\"'”’)\]…»]\s*$")
_HYPHEN_END = re.compile(r"[^\W\d_]-$")
_ENGLISH_WORDS = frozenset(
    ["the", "of", "and", "to", "in", "a", "is", "that", "was", "for", "with", "as", "on", "by"]
)
_REFERENCE_LINE = re.compile(
    r"^\s*(?:Source|Archive|Archival reference|Archival source|Reference|Shelfmark|Provenance)"
    r"\s*:\s*(?P<ref>\S.*)$",
    re.I | re.M,
)
_GAP = {
    "...": "omitted",
    "…": "omitted",
    ". . .": "omitted",
    "illegible": "illegible",
    "unclear": "unclear",
    "illegible word": "illegible",
    "illegible words": "illegible",
    "text missing": "lost",
}
_ED_NOTE_END = re.compile(r"(?:—|–|-{1,2})\s*(?:ed|Ed|ED)\.?\s*$")
_EXPLANATION = re.compile(
    r"\b(?:is|was|are|were|refers? to|means|meant|has been|had been|probably|presumably|"
    r"apparently|possibly|likely)\b"
)
EDITOR_ID = "source-editor"
_RECORD_ID = re.compile(
    r"\b(?:Record ID|Record No\.?|Document ID|Identifier)\s*:\s*([A-Za-z0-9][A-Za-z0-9._/-]*)", re.I
)


@dataclass
class Unit:
    """A paragraph (blank-line mode) or a line (line mode) of the source, with its role."""

    first: int  # 1-based source line numbers
    last: int
    lines: list[str]
    role: str = ""

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass
class _Draft:
    """What the reader gathers before the Document is frozen."""

    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    header: dict[str, object] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    furniture: dict[str, list[int]] = field(default_factory=dict)
    corpus_lines: dict[str, int] = field(default_factory=dict)
    responsibilities: list[Responsibility] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    """What :func:`explain` reports: the choice and where every source line went."""

    profile: str
    version: str
    score: float
    scores: tuple[tuple[str, float], ...]
    fallback: bool
    rows: tuple[tuple[int, int, str, str], ...]  # first line, last line, role, text

    def format(self) -> str:
        head = [
            f"profile: {self.profile} {self.version} (score {self.score:g}"
            + ("; no profile reached its threshold: plain fallback" if self.fallback else "")
            + ")",
            "scores: " + ", ".join(f"{n} {s:g}" for n, s in self.scores),
        ]
        rows = []
        for first, last, role, text in self.rows:
            where = f"{first}" if first == last else f"{first}-{last}"
            short = text if len(text) <= 70 else text[:67] + "..."
            rows.append(f"{where:>9}  {role:<28} {short}")
        return "\n".join(head + rows)


def read_source(path: str | Path, root: str | Path | None = None) -> bytes:
    """The bytes of a source file, with a coded error for what cannot be read.

    A file whose real path leaves ``root`` (default: the folder it is named in), e.g. a symlink
    in ``sources/`` to ``/etc/passwd``, is refused with ``E141`` and never read. A FIFO or
    device is refused too (reading one could hang).
    """
    import stat

    from .files import check_inside, fs_error

    p = Path(path)
    if p.is_dir():
        raise SourceError(
            "E101", "is a directory; give the files inside it, e.g. DIR/*.txt", str(p)
        )
    if p.is_symlink() or p.exists():
        check_inside(p, root)
    try:
        if not stat.S_ISREG(p.stat().st_mode):
            raise SourceError("E101", "is not a regular file (a FIFO or device?)", str(p))
        return p.read_bytes()
    except FileNotFoundError:
        raise SourceError("E101", "no such file; check the path", str(p)) from None
    except OSError as exc:
        raise SourceError("E101", fs_error(exc, p, "read the file").message, str(p)) from None


def furniture_of(paths: Iterable[str | Path] | Callable[[], Iterable[str | Path]]) -> Furniture:
    """Corpus furniture (:func:`toolkit.profiles.corpus_furniture`) of the source files given.

    ``paths`` is a collection, or a function giving a fresh iterable of the paths on each call
    (a large corpus is read twice; see :func:`toolkit.profiles.corpus_furniture`). A file that
    cannot be read or decoded is skipped here (its conversion reports it).
    """
    listing = reiterable(paths)

    def texts() -> Iterator[str]:
        for path in listing():
            try:
                yield decode(read_source(path), str(path)).text
            except ToolkitError:  # SourceError, or a link out of the corpus (files.E141)
                continue

    return corpus_furniture(texts)


def select_profile(
    text: str,
    format: str = "auto",
    *,
    profile: Profile | None = None,
    profiles: Mapping[str, Profile] | None = None,
    name: str = "",
) -> Choice:
    """The profile to read ``text`` with: the one given, the one named, or the best scoring.

    ``format`` is ``auto``, a profile name, or the path of a profile file ending in ``.toml``
    (so a caller that passes only a format string, like the batch engine, can use a user's
    profile).
    """
    known = dict(profiles) if profiles is not None else load_profiles()
    if profile is None and format.endswith(".toml") and format not in known:
        profile = load_profile(format)
    if profile is not None:
        return Choice(profile, ((profile.name, profile.score(text)),))
    if format == "auto":
        return choose(text, known)
    if format not in known:
        raise SourceError(
            "E107",
            f"unknown format {format!r}; use auto or a profile: {', '.join(sorted(known))} "
            "(`toolkit profiles` lists them)",
            name,
        )
    chosen = known[format]
    return Choice(chosen, ((chosen.name, chosen.score(text)),))


def convert(
    data: bytes,
    name: str,
    *,
    format: str = "auto",
    encoding: str | None = None,
    now: str,
    doc_id: str | None = None,
    warnings: list[str] | None = None,
    profile: Profile | None = None,
    profiles: Mapping[str, Profile] | None = None,
    furniture: Furniture | None = None,
) -> Document:
    """Convert a source's bytes into a Document; ``now`` is the conversion time (ISO).

    ``format`` is ``auto`` (score every profile, take the best, fall back to ``plain``), a
    profile name or a profile file (``*.toml``); ``profile`` forces a profile object;
    ``profiles`` replaces the packaged set (e.g. :func:`toolkit.profiles.load_profiles` of a
    corpus); ``furniture`` holds corpus-level furniture lines
    (:func:`toolkit.profiles.corpus_furniture`), removed from the body and listed in
    ``editorialDecl``. What the reader could not do is appended to ``warnings`` and noted in
    the header; the conversion itself goes on.
    """
    decoded = decode(data, name, encoding)
    choice = select_profile(decoded.text, format, profile=profile, profiles=profiles, name=name)
    draft = _read(decoded.text, name, choice, furniture)
    if warnings is not None:
        warnings.extend(draft.warnings)
    if not draft.blocks:
        raise SourceError(
            "E108",
            f"no body text found in this {choice.profile.name} capture; check the file or "
            "force --format plain",
            name,
        )
    return _freeze(draft, decoded, data, name, choice.profile, now, doc_id)


def explain(
    data: bytes,
    name: str,
    *,
    format: str = "auto",
    encoding: str | None = None,
    profile: Profile | None = None,
    profiles: Mapping[str, Profile] | None = None,
    furniture: Furniture | None = None,
) -> Explanation:
    """Which profile reads ``data``, with what score, and where each source line goes."""
    decoded = decode(data, name, encoding)
    choice = select_profile(decoded.text, format, profile=profile, profiles=profiles, name=name)
    draft = _read(decoded.text, name, choice, furniture)
    p = choice.profile
    return Explanation(
        profile=p.name,
        version=p.version,
        score=p.score(decoded.text),
        scores=choice.scores,
        fallback=choice.fallback,
        rows=tuple((u.first, u.last, u.role, u.text) for u in draft.units),
    )


def detect_format(text: str, profiles: Mapping[str, Profile] | None = None) -> str:
    """The name of the profile ``--format auto`` would choose for ``text``."""
    return choose(text, profiles if profiles is not None else load_profiles()).profile.name


# --- reading -------------------------------------------------------------------------------------


def _label_res(p: Profile) -> tuple[re.Pattern[str] | None, dict[str, int]]:
    if not p.labels:
        return None, {}
    alternatives = sorted((lb.text for lb in p.labels), key=len, reverse=True)
    body = "|".join(re.escape(t) for t in alternatives)
    index = {lb.text: i for i, lb in enumerate(p.labels)}
    return re.compile(rf"^(?P<label>{body})\s*(?::\s*(?P<value>.*))?$", re.S), index


def _match_label(
    label_re: re.Pattern[str] | None, index: dict[str, int], p: Profile, text: str
) -> tuple[int, str] | None:
    if label_re is None:
        return None
    m = label_re.match(text)
    if not m:
        return None
    i = index[m.group("label")]
    value = (m.group("value") or "").strip()
    has_colon = m.group("value") is not None
    if not has_colon and not p.labels[i].heading:
        return None
    if p.labels[i].heading and not has_colon and text.strip() != m.group("label"):
        return None
    return i, value


def _split_inline(text: str, p: Profile) -> list[str]:
    """A line flattened by a PDF export holding several ``Label:`` s is cut before each."""
    labels = [re.escape(lb.text) for lb in p.labels if not lb.heading]
    if not labels:
        return [text]
    labels.sort(key=len, reverse=True)
    cut = re.compile(r"(?<!\S)(?:" + "|".join(labels) + r"):\s")
    starts = [m.start() for m in cut.finditer(text)]
    if len(starts) < 2:
        return [text]
    bounds = [0, *starts, len(text)]
    pieces = (text[a:b].strip() for a, b in pairwise(bounds))
    return [piece for piece in pieces if piece]


def _inline(m: re.Match[str], removed: dict[str, int]) -> str:
    removed[m.group(0)] = removed.get(m.group(0), 0) + 1
    return ""


def _units(  # type: ignore[no-untyped-def]
    text: str, p: Profile, structural, removed: dict[str, int]
) -> tuple[list[Unit], bool]:
    """Blank-line paragraphs (structural lines split out) or, without blank lines, lines."""
    raw = text.split("\n")
    if p.furniture_inline is not None:
        raw = [p.furniture_inline.sub(lambda m: _inline(m, removed), ln) for ln in raw]
    stripped = [ln.strip() for ln in raw]
    last = max((i for i, ln in enumerate(stripped) if ln), default=0)
    gaps = sum(1 for i in range(1, last) if not stripped[i] and stripped[i - 1])
    blank_mode = gaps >= 2
    units: list[Unit] = []
    current: Unit | None = None
    for number, line in enumerate(stripped, 1):
        pieces = _split_inline(line, p) if p.split_inline_labels and line else [line]
        for piece in pieces:
            if not piece:
                current = None
                continue
            if not blank_mode or structural(piece):
                units.append(Unit(number, number, [piece]))
                current = None
            elif current is None:
                current = Unit(number, number, [piece])
                units.append(current)
            else:
                current.lines.append(piece)
                current.last = number
        if len(pieces) > 1:
            current = None
    return units, blank_mode


def _read(text: str, name: str, choice: Choice, furniture: Furniture | None) -> _Draft:
    p = choice.profile
    draft = _Draft()
    label_re, label_index = _label_res(p)
    corpus = furniture.lines if furniture is not None else {}

    def pattern_for(line: str, region: str) -> tuple[int, re.Match[str]] | None:
        for i, lp in enumerate(p.lines):
            ok = (
                lp.where == "anywhere"
                or lp.where == region
                or (lp.where == "outside" and region in ("front", "back"))
            )
            if ok:
                m = lp.pattern.fullmatch(line)
                if m:
                    return i, m
        return None

    def structural(line: str) -> bool:
        return bool(
            p.is_furniture(line)
            or line in corpus
            or _match_label(label_re, label_index, p, line)
            or pattern_for(line, "anywhere") is not None
            or any(lp.pattern.fullmatch(line) for lp in p.lines)
            or any(r.fullmatch(line) for r in p.start_after)
            or any(r.match(line) for r in p.end_before)
        )

    inline: dict[str, int] = {}
    units, blank_mode = _units(text, p, structural, inline)
    if inline:
        draft.decisions.append(
            "Page debris inside lines removed: "
            + "; ".join(f"{k!r} ({n} time(s))" for k, n in sorted(inline.items()))
            + "."
        )
    draft.units = units
    explicit_start = bool(p.start_after or p.start_after_label)
    region = "front"
    slots = list(p.front)
    section: tuple[int, list[Unit]] | None = None
    body: list[Unit] = []
    ended = False

    def close() -> None:
        nonlocal section
        if section is not None:
            label = p.labels[section[0]]
            if label.field in ("keywords", "contents", "source"):
                values = [line for u in section[1] for line in u.lines]
            else:
                values = [u.text for u in section[1]]
            _apply(draft, label.field, values, label.text)
            section = None

    def furnish(unit: Unit, why: str) -> None:
        unit.role = why
        draft.furniture.setdefault(unit.text, []).append(unit.first)

    for unit in units:
        line = unit.text
        if region == "body" and any(r.match(line) for r in p.end_before):
            region = "back"
            ended = True
        if p.is_furniture(line):
            furnish(unit, "furniture")
            if region == "front" and any(r.fullmatch(line) for r in p.start_after):
                unit.role = "furniture (body starts after)"
                region = "body"
            continue
        if region == "front" and any(r.fullmatch(line) for r in p.start_after):
            furnish(unit, "furniture (body starts after)")
            close()
            region = "body"
            continue
        if region in ("front", "back"):
            found = _match_label(label_re, label_index, p, line)
            if found:
                close()
                i, value = found
                label = p.labels[i]
                if label.field == "furniture":
                    furnish(unit, f"furniture (label {label.text})")
                    section = (i, [])
                    continue
                unit.role = f"label {label.text} -> {label.field}"
                section = (i, [])
                if value and p.start_after_label == label.text and p.contents_item:
                    item = p.contents_item.match(value)
                    rest = value
                    while item and item.end() > 0:  # flattened: the items, then the body
                        section[1].append(Unit(unit.first, unit.first, [item.group(0).strip()]))
                        rest = rest[item.end() :].strip()
                        item = p.contents_item.match(rest)
                    if rest != value:
                        if rest:
                            close()
                            region = "body"
                            unit.role += " + body"
                            body.append(Unit(unit.first, unit.last, [rest], "body"))
                        continue
                if value:
                    section[1].append(Unit(unit.first, unit.last, [value]))
                continue
        hit = pattern_for(line, region)
        if hit is not None and not _filled(draft, p.lines[hit[0]], hit[1]):
            _apply_pattern(draft, p, hit[0], hit[1], unit)
            continue
        if region in ("front", "back") and section is not None:
            i, items = section
            label = p.labels[i]
            if p.start_after_label == label.text and region == "front":
                item = p.contents_item.match(line) if p.contents_item else None
                rest = line
                while item and item.group(0).strip():
                    items.append(Unit(unit.first, unit.first, [item.group(0).strip()]))
                    rest = rest[item.end() :].strip()
                    item = p.contents_item.match(rest) if p.contents_item else None
                if rest != line:
                    unit.role = f"{label.text} -> {label.field}"
                    if not rest:
                        continue
                    close()
                    region = "body"
                    rest_unit = Unit(unit.first, unit.last, [rest], "body")
                    unit.role += " + body"
                    body.append(rest_unit)
                    continue
                close()
                region = "body"
            elif label.field == "furniture":
                furnish(unit, f"furniture (under {label.text})")
                continue
            else:
                items.append(unit)
                unit.role = f"{label.text} -> {label.field}"
                if label.max_units and len(items) >= label.max_units:
                    close()
                continue
        if line in corpus and not (len(line) <= 60 and _parse_date(line)):
            # labels, patterns and sections of the profile come first; a date is never furniture
            unit.role = "corpus furniture"
            draft.corpus_lines[line] = corpus[line]
            continue
        if region == "front":
            slot = _front_slot(unit, slots, p, draft)
            if slot is not None:
                unit.role = f"front -> {slot}"
                continue
            if explicit_start:
                draft.notes.append(("front matter", line))
                unit.role = "front -> note"
                continue
            close()
            region = "body"
        if region == "back":
            draft.notes.append(("back matter", line))
            unit.role = "back -> note"
            continue
        if not body and draft.title and _fold(line) == _fold(draft.title) and not p.first_as_title:
            furnish(unit, "furniture (repeated title)")
            continue
        unit.role = "body"
        body.append(unit)
    close()
    if explicit_start and region == "front":
        raise SourceError(
            "E108",
            f"the {p.name} profile found no start of the body (e.g. after "
            f"{p.start_after_label or p.start_after[0].pattern!r}); force --format plain to keep "
            "everything as text",
            name,
        )
    if ended and p.trailing and len(body) > 1 and _is_summary(body[-1].text):
        last = body.pop()
        last.role = f"body end -> {p.trailing}"
        _apply(draft, p.trailing, [last.text], "after the body")
    _finish_header(draft, p, name, body)
    _record_furniture(draft, p, choice)
    _body_blocks(body, draft, blank_mode, p)
    _brackets(draft)
    return draft


def _is_summary(text: str) -> bool:
    """A trailing summary is a sentence of six or more words (a signature is not)."""
    return len(text.split()) >= 6 and bool(_ENDS_SENTENCE.search(text))


def _front_slot(unit: Unit, slots: list[str], p: Profile, draft: _Draft) -> str | None:
    """Give a front line to the first expected slot it fits; slots before it are skipped."""
    text = unit.text
    h = draft.header
    if p.bold_title and _BOLD.search(text) and not draft.title:
        bold = _BOLD.search(text)
        assert bold is not None
        draft.title = re.sub(r"\s+", " ", bold.group(1)).strip()
        rest = (text[: bold.start()] + " " + text[bold.end() :]).strip()
        if rest and _parse_date(rest) and "date" not in h:
            h["date"], h["date_text"] = _parse_date(rest), rest
        elif rest:
            draft.notes.append(("front matter", rest))
        if "title" in slots:
            del slots[: slots.index("title") + 1]
        return "title"
    for k, slot in enumerate(slots):
        ok = {
            "date": bool(_parse_date(text)) and len(text) <= 60 and "date" not in h,
            "title": len(text) <= 300 and not draft.title,
            "citation": text[:1] in "\"“„'",
            "abstract": text[:1] not in "\"“„'",
            "note": True,
        }[slot]
        if ok:
            del slots[: k + 1]
            if slot == "title":
                draft.title = text.strip("* ").strip()
            else:
                _apply(draft, slot, [text], "front matter")
            return slot
    return None


_REPEATABLE = frozenset({"note", "translator", "editor", "keywords", "furniture", "rights"})


def _filled(draft: _Draft, lp: LinePattern, m: re.Match[str]) -> bool:
    """A line pattern applies once: when all the fields it fills are known, the line is text."""
    fields = [lp.field] if lp.field else [k for k, v in m.groupdict().items() if v]
    known = {k for k in draft.header if k not in ("date_text",)}
    if draft.title:
        known.add("title")
    return all(f in known and f not in _REPEATABLE for f in fields)


def _apply_pattern(draft: _Draft, p: Profile, i: int, m: re.Match[str], unit: Unit) -> None:
    lp = p.lines[i]
    groups = {k: v for k, v in m.groupdict().items() if v}
    if lp.field:
        _apply(draft, lp.field, [unit.text], lp.label or lp.field)
        unit.role = f"line -> {lp.field}"
    else:
        for key, value in groups.items():
            _apply(draft, key, [value.strip()], lp.label or key)
        unit.role = "line -> " + ", ".join(groups)
        # the words around the groups (e.g. "Updated:", "By:") are kept with the line
        if any(ch.isalpha() for ch in _without(unit.text, m)):
            draft.notes.append((lp.label or "line", unit.text))


def _without(text: str, m: re.Match[str]) -> str:
    out, pos = [], 0
    spans = sorted(m.span(g) for g in m.groupdict() if m.group(g))
    for start, end in spans:
        out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


_SPLIT_NAMES = re.compile(r",\s*|\s+and\s+|\s*;\s*")


def _apply(draft: _Draft, fld: str, values: list[str], label: str) -> None:
    """Put a field's text into the header; what has no structured place becomes a note."""
    h = draft.header
    text = " ".join(v for v in values if v).strip()
    if not text and fld not in ("contents",):
        return
    if fld == "title":
        if not draft.title:
            draft.title = text.strip("* ").strip()
        else:
            draft.notes.append((label, text))
    elif fld == "date":
        iso = _parse_date(text)
        if iso and "date" not in h:
            h["date"], h["date_text"] = iso, text
        else:
            draft.notes.append((label, text))
    elif fld == "updated":
        iso = _parse_date(text)
        if iso and "updated" not in h:
            h["updated"] = iso
        if not iso or iso != text:
            draft.notes.append((label, text))
    elif fld in ("author", "publisher", "series", "place", "number", "record_id", "url"):
        if fld not in h:
            h[fld] = text
        else:
            draft.notes.append((label, text))
    elif fld in ("translator", "editor"):
        key = "translators" if fld == "translator" else "editors"
        names = [n.strip() for n in _SPLIT_NAMES.split(text) if n.strip()]
        h[key] = tuple(dict.fromkeys([*h.get(key, ()), *names]))  # type: ignore[misc]
    elif fld == "citation":
        if "citation" not in h:
            h["citation"] = text
            _read_citation_sentence(text, draft)
        else:
            draft.notes.append((label, text))
    elif fld == "source":
        _read_source_section(values, draft, label)
    elif fld == "archive":
        draft.notes.append((label, text))
        _reference(text, draft, warn=True)
    elif fld == "reprint":
        if "reprint" not in h:
            h["reprint"] = text
        else:
            draft.notes.append((label, text))
    elif fld in ("abstract", "rights"):
        h[fld] = (str(h[fld]) + " " + text).strip() if fld in h else text
    elif fld == "original_language":
        name = text.split()[0] if text else ""
        code = LANGUAGE_CODES.get(name.casefold())
        if code and "original_language" not in h:
            h["original_language"], h["original_language_name"] = code, name
            if text != name:
                draft.notes.append((label, text))
        else:
            draft.notes.append((label, text))
    elif fld == "contents":
        h["contents"] = tuple([*h.get("contents", ()), *values])  # type: ignore[misc]
    elif fld == "keywords":
        terms = [t.strip() for v in values for t in re.split(r"\s*[;|\n]\s*", v) if t.strip()]
        h["keywords"] = tuple(dict.fromkeys([*h.get("keywords", ()), *terms]))  # type: ignore[misc]
    else:  # note, and fields a profile routes to a note
        draft.notes.append((label, text))


def _read_citation_sentence(citation: str, draft: _Draft) -> None:
    h = draft.header
    url = _URL.search(citation)
    if url and "url" not in h:
        h["url"] = url.group(1)
    title = _QUOTED_TITLE.match(citation)
    if title:
        h["surrogate_title"] = title.group(1).strip()
    translator = _TRANSLATOR.search(citation)
    if translator:
        _apply(draft, "translator", [translator.group(1)], "translator")
    _reference(citation, draft, warn=True)


def _read_source_section(values: list[str], draft: _Draft, label: str) -> None:
    """A ``Source`` section or note: the reference, a published reprint, the translator."""
    h = draft.header
    whole = " ".join(values).strip()
    if (
        len(values) == 1
        and len(whole.split()) <= 6
        and not re.search(r"\d", whole)
        and not _TRANSLATOR.search(whole)
        and (find_citation(whole) is None or not find_citation(whole).repository)  # type: ignore[union-attr]
    ):
        # "Source: Harbor Evening News" on a news page names the publisher, not an archive
        _apply(draft, "publisher", [whole], label)
        return
    if "citation" not in h:
        h["citation"] = whole
    else:
        draft.notes.append((label, whole))
    for value in values:
        translator = _TRANSLATOR.search(value)
        if translator:
            _apply(draft, "translator", [translator.group(1)], "translator")
        found = find_citation(value)
        if found is not None and found.repository and "archival" not in draft.header:
            draft.header["archival"] = found
        elif (
            (
                not translator
                and re.search(r"\b(?:1[5-9]|20)\d\d\b", value)
                and (found is None or not found.repository)
            )
            and "reprint" not in h
            and re.search(r"\b(?:in|In|pp?\.|vol\.|Vol\.)\s", value)
        ):
            h["reprint"] = value
    if "archival" not in h:
        _reference(whole, draft, warn=True)


def _reference(text: str, draft: _Draft, warn: bool) -> None:
    """Parse an archival reference into the header; what cannot be read stays verbatim."""
    if "archival" in draft.header:
        return
    found = find_citation(text)
    if found is not None and found.repository:
        draft.header["archival"] = found
        return
    if not warn or "unreadable_reference" in draft.header:
        return
    draft.header["unreadable_reference"] = True
    why = (
        f"the reference {found.raw!r} names no archive"
        if found
        else f"no archival reference could be read in {text.strip()[:120]!r}"
    )
    draft.decisions.append(f"Archival reference not structured: {why}; it is kept verbatim.")
    draft.warnings.append(
        f"[E502] {why}; kept verbatim in the header (see `toolkit cite` for the shapes it reads)"
    )


def _finish_header(draft: _Draft, p: Profile, name: str, body: list[Unit]) -> None:
    """Generic finders over what the profile put into the header, and fallbacks."""
    h = draft.header
    if p.publisher and "publisher" not in h:
        h["publisher"] = p.publisher
    texts = [str(h.get("citation", ""))] + [t for _, t in draft.notes]
    for text in texts:
        if "url" not in h and _URL.search(text):
            h["url"] = _URL.search(text).group(1)  # type: ignore[union-attr]
        if not h.get("translators") and _TRANSLATOR.search(text):
            _apply(draft, "translator", [_TRANSLATOR.search(text).group(1)], "translator")  # type: ignore[union-attr]
    if "date" not in h and h.get("citation"):
        iso = _parse_date(str(h["citation"]))
        if iso:
            m = _DATE_MDY.search(str(h["citation"])) or _DATE_DMY.search(str(h["citation"]))
            h["date"], h["date_text"] = iso, m.group(0) if m else iso
    if "archival" not in h and "unreadable_reference" not in h:
        for text in [t for label, t in draft.notes if label not in ("front matter",)]:
            found = find_citation(text)
            if found is not None and found.repository:
                h["archival"] = found
                break
    if "archival" not in h and "citation" not in h:
        # a labelled reference line anywhere, also in the body ("Source: RGASPI, f. 17, ...")
        full = "\n".join(u.text for u in draft.units)
        m = _REFERENCE_LINE.search(full)
        if m:
            h["citation"] = m.group("ref").strip()
            _reference(m.group("ref"), draft, warn=True)
    if "record_id" not in h:
        for label, text in draft.notes:
            m = _RECORD_ID.search(f"{label}: {text}")
            if m:
                h["record_id"] = m.group(1)
                break
    if not draft.title and h.get("surrogate_title"):
        draft.title = str(h["surrogate_title"])
    if p.first_as_title and body:
        first = body[0].text
        draft.title = first if len(first) <= 200 else Path(name).stem
    if not draft.title:
        draft.title = Path(name).stem
        draft.decisions.append(
            f"No title was found in the capture; the file name {Path(name).stem!r} stands for it."
        )


def _threshold(choice: Choice, name: str) -> float:
    return dict(choice.thresholds).get(name, 3.0)


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    for n in numbers:
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = out[-1].split("-")[0] + f"-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def _record_furniture(draft: _Draft, p: Profile, choice: Choice) -> None:
    lead = f"Read with the capture profile {p.name} {p.version}"
    if choice.fallback:
        best = next(((n, s) for n, s in choice.scores if s > 0), None)
        lead += (
            " (no profile matched the capture well enough"
            + (f"; best {best[0]} scored {best[1]:g}" if best else "")
            + ")"
        )
        partial = best is not None and best[1] * 2 >= _threshold(choice, best[0])
        if best is not None and partial:
            draft.warnings.append(
                f"[E125] no capture profile matched well (best: {best[0]} scored {best[1]:g}, "
                "below its threshold); converted as plain text. Give --format NAME or "
                "--profile FILE; see `toolkit convert --explain`"
            )
    moved = [u for u in draft.units if u.role and u.role != "body" and "furniture" not in u.role]
    if moved:
        parts = list(
            dict.fromkeys(
                u.role.removeprefix("label ").replace(" -> ", " as ").replace(" + body", "")
                if u.role.startswith("label ")
                else u.role.split(" -> ")[-1]
                for u in moved
                if u.role.startswith(("label ", "front ", "line ", "body end"))
            )
        )
        lines = _ranges(sorted({n for u in moved for n in range(u.first, u.last + 1)}))
        lead += (
            f". The page's front and back matter (source lines {lines}) is encoded in the "
            f"header, not the body: {', '.join(parts)}."
        )
    else:
        lead += "."
    draft.decisions.append(lead)
    if draft.furniture:
        listed = "; ".join(
            f"{line!r} (line {', '.join(map(str, nums))})"
            for line, nums in sorted(draft.furniture.items(), key=lambda kv: kv[1][0])
        )
        draft.decisions.append(f"Page furniture removed (not part of the document): {listed}.")
    if draft.corpus_lines:
        listed = "; ".join(
            f"{line!r} (in {n} sources)" for line, n in sorted(draft.corpus_lines.items())
        )
        draft.decisions.append(
            f"Lines recurring verbatim across the corpus removed as furniture: {listed}."
        )


# --- body ----------------------------------------------------------------------------------------


def _join_lines(lines: list[str], fixes: list[str], first: int) -> str:
    """Lines of one paragraph joined by spaces; a word hyphenated at a line end is rejoined."""
    out = lines[0]
    for k, nxt in enumerate(lines[1:], 1):
        if _HYPHEN_END.search(out) and nxt[:1].islower():
            word_a = re.search(r"\S+$", out).group(0)  # type: ignore[union-attr]
            word_b = re.match(r"\S+", nxt).group(0)  # type: ignore[union-attr]
            fixes.append(f"{word_a}/{word_b} (line {first + k - 1})")
            out = out[:-1] + nxt
        elif _HYPHEN_END.search(out) and nxt[:1].isupper():
            out = out + nxt
        else:
            out = out + " " + nxt
    return out


def _paragraphs(body: list[Unit], blank_mode: bool) -> list[Unit]:
    """In line mode, lines that do not end a sentence are joined with the next line."""
    if blank_mode:
        return body
    out: list[Unit] = []
    for unit in body:
        if out:
            prev = out[-1]
            tail = prev.lines[-1]
            joins = not _ENDS_SENTENCE.search(tail) and (
                unit.text[:1].islower() or _HYPHEN_END.search(tail) or len(tail) >= 50
            )
            if joins and prev.last + 1 == unit.first:
                prev.lines.extend(unit.lines)
                prev.last = unit.last
                continue
        out.append(Unit(unit.first, unit.last, list(unit.lines), unit.role))
    return out


def _body_blocks(body: list[Unit], draft: _Draft, blank_mode: bool, p: Profile) -> None:
    """Units -> blocks: paragraphs, page-split paragraphs rejoined, heading and signature."""
    fixes: list[str] = []
    paras = [(u.first, _join_lines(u.lines, fixes, u.first)) for u in _paragraphs(body, blank_mode)]
    if fixes:
        draft.decisions.append(
            f"{len(fixes)} word(s) hyphenated at a line end were rejoined without the hyphen: "
            + "; ".join(fixes)
            + "."
        )
    joined: list[tuple[int, str, list[int]]] = []
    rejoined: list[str] = []
    for line, text in paras:
        if (
            blank_mode
            and joined
            and not _ENDS_SENTENCE.search(joined[-1][1])
            and text[:1].islower()
        ):
            prev_line, prev, breaks = joined[-1]
            breaks.append(len(prev) + 1)
            rejoined.append(f"{prev_line}/{line}")
            joined[-1] = (prev_line, prev + " " + text, breaks)
        else:
            joined.append((line, text, []))
    if rejoined:
        draft.decisions.append(
            f"{len(rejoined)} paragraph(s) split mid-sentence by a page break of the original were "
            f"rejoined (source lines {', '.join(rejoined)}); each break is marked with an empty pb."
        )
    head_like = draft.title
    for i, (line, text, breaks) in enumerate(joined):
        kind = "p"
        if i == 0 and p.first_as_title:
            if len(joined) > 1 and _looks_like_title(text):
                kind = "head"
        elif (
            i == 0
            and len(joined) > 1  # a body of a heading alone is not valid TEI: keep it a p
            and head_like
            and _fold(text).startswith(_fold(head_like)[:60])
        ):
            kind = "head"
        elif (
            i == len(joined) - 1 and len(joined) > 2 and _is_signature(text, p.signature_min_words)
        ):
            kind = "closer"
            draft.decisions.append(
                f"The last line (source line {line}) is a signature: closer/signed."
            )
        index = len(draft.blocks)
        draft.blocks.append(Block(kind, text))
        if kind == "closer":
            draft.spans.append(Span(index, 0, len(text), "signed"))
        draft.spans.extend(Span(index, b, b, "pb") for b in breaks)
    if blank_mode:
        draft.decisions.append("Paragraphs are the source's blank-line separated blocks.")
    else:
        draft.decisions.append(
            "The capture has no blank lines: every line is a paragraph, except that a line not "
            "ending a sentence was joined to the next when that one starts in lower case or the "
            "line is 50 or more characters long (a wrapped line)."
        )
    draft.decisions.append(
        "Line breaks inside paragraphs became spaces (after a hyphen, nothing); the characters "
        "of the text are otherwise unchanged."
    )


def _is_signature(text: str, min_words: int = 2) -> bool:
    words = text.split()
    return min_words <= len(words) <= 12 and not _ENDS_SENTENCE.search(text) and text[:1].isupper()


def _looks_like_title(text: str) -> bool:
    return (len(text) <= 120 and not _ENDS_SENTENCE.search(text.rstrip("."))) or len(
        text.split()
    ) <= 8


def _fold(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()


# --- editorial brackets --------------------------------------------------------------------------


def _classify(inner: str) -> tuple[str, str]:
    """``(kind, detail)`` of a bracket's content: sic, gap (reason), note or supplied."""
    folded = inner.strip().casefold()
    if folded in ("sic", "sic!"):
        return "sic", ""
    if re.fullmatch(r"\d{1,3}|[a-z]|\d{1,3}[a-z]?", folded):
        return "keep", ""  # a footnote reference mark ([1], [a]): left as it stands
    if folded in _GAP:
        return "gap", _GAP[folded]
    if _ED_NOTE_END.search(inner):
        return "note", ""
    words = inner.split()
    if len(words) >= 4 and (_EXPLANATION.search(inner) or inner.rstrip().endswith(".")):
        return "note", ""
    return "supplied", ""


def _brackets(draft: _Draft) -> None:
    """Editorial brackets -> supplied, editorial note, sic or gap; bracket characters dropped."""
    counts = {"supplied": 0, "note": 0, "sic": 0, "gap": 0, "keep": 0}
    reasons: dict[str, int] = {}
    grouped: list[list[Span]] = [[] for _ in draft.blocks]
    for span in draft.spans:
        grouped[span.block].append(span)
    for index, block in enumerate(draft.blocks):
        if "[" not in block.text:
            continue
        text = block.text
        pieces: list[str] = []
        new: list[Span] = []
        cuts: list[tuple[int, int]] = []  # removed source intervals, ascending
        pos = 0
        out_len = 0
        for m in _BRACKET.finditer(text):
            kind, reason = _classify(m.group(1))
            if kind == "keep":
                counts["keep"] += 1
                continue
            before = text[pos : m.start()]
            if kind == "sic":
                word = re.search(r"(\S+)(\s*)$", before)
                if not word:
                    kind = "note"
                else:
                    keep = before[: word.end(1)]
                    pieces.append(keep)
                    out_len += len(keep)
                    new.append(Span(index, out_len - len(word.group(1)), out_len, "sic"))
                    cuts.append((pos + len(keep), m.end()))
                    pos = m.end()
                    counts["sic"] += 1
                    continue
            start = m.start()
            if kind == "gap" and before.endswith(" ") and text[m.end() : m.end() + 1] in " ,.;":
                before, start = before[:-1], start - 1  # "Moscow [...] and" -> "Moscow<gap/> and"
            pieces.append(before)
            out_len += len(before)
            if kind == "gap":
                new.append(Span(index, out_len, out_len, "gap", (("reason", reason),)))
                cuts.append((start, m.end()))
                reasons[reason] = reasons.get(reason, 0) + 1
            else:
                inner = m.group(1)
                pieces.append(inner)
                attrs = (("type", "editorial"), ("resp", "#" + EDITOR_ID)) if kind == "note" else ()
                new.append(Span(index, out_len, out_len + len(inner), kind, attrs))
                out_len += len(inner)
                cuts += [(m.start(), m.start() + 1), (m.end() - 1, m.end())]
            counts[kind] += 1
            pos = m.end()
        if not new:
            continue
        pieces.append(text[pos:])
        ends = [e for _, e in cuts]
        removed = list(accumulate(e - s for s, e in cuts))

        def moved(offset: int, ends: list[int] = ends, removed: list[int] = removed) -> int:
            k = bisect_right(ends, offset)
            return offset - (removed[k - 1] if k else 0)

        draft.blocks[index] = Block(block.kind, "".join(pieces), block.attrs)
        grouped[index] = [
            replace(s, start=moved(s.start), end=moved(s.end)) for s in grouped[index]
        ] + new
    draft.spans = [span for spans in grouped for span in spans]
    said = []
    if counts["supplied"]:
        said.append(f"{counts['supplied']} as supplied (text the editor or translator added)")
    if counts["note"]:
        said.append(
            f'{counts["note"]} as editorial notes (note type="editorial", resp="#{EDITOR_ID}": '
            'a bracket ending in "—ed." or an explanatory sentence)'
        )
        draft.responsibilities.append(
            Responsibility(EDITOR_ID, "editorial notes in the source", "the source's editor")
        )
    if counts["sic"]:
        said.append(f"{counts['sic']} [sic] as sic around the word before it")
    if counts["gap"]:
        why = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        said.append(
            f"{counts['gap']} as gap with the reason ({why}; from [...], [illegible], [unclear])"
        )
    if counts["keep"]:
        draft.decisions.append(
            f"{counts['keep']} footnote reference mark(s) such as [1] are kept as they stand."
        )
    if said:
        dropped = "The bracket characters [ ] themselves are not kept in the text"
        if counts["sic"] or counts["gap"]:
            dropped += " (nor the bracketed sic, ..., illegible or unclear, now elements)"
        draft.decisions.append(
            "Square brackets of the editor or translator are encoded: "
            + "; ".join(said)
            + f". {dropped}."
        )


# --- shared --------------------------------------------------------------------------------------


def find_damage(text: str) -> tuple[Damage, ...]:
    """Tokens where the capture replaced characters by ``?`` or U+FFFD."""
    found: list[Damage] = []
    if "?" not in text and "\ufffd" not in text:
        return ()
    for number, line in enumerate(text.split("\n"), 1):
        if "?" not in line and "\ufffd" not in line:
            continue
        for m in _DAMAGE.finditer(line):
            if "://" in m.group(0) or m.group(0).startswith("www."):
                continue  # a URL's query string, not lost characters
            found.append(Damage(number, m.start() + 1, m.group(0)))
    return tuple(found)


def _parse_date(text: str) -> str | None:
    text = text.strip()
    m = _DATE_MDY.search(text)
    if m and m.group(1).casefold() in _MONTHS:
        return f"{int(m.group(3)):04d}-{_MONTHS[m.group(1).casefold()]:02d}-{int(m.group(2)):02d}"
    m = _DATE_DMY.search(text)
    if m and m.group(2).casefold() in _MONTHS:
        return f"{int(m.group(3)):04d}-{_MONTHS[m.group(2).casefold()]:02d}-{int(m.group(1)):02d}"
    m = _ISO_DATE.search(text)
    return m.group(0) if m else None


def _language(draft: _Draft, text: str) -> str:
    contents = " ".join(draft.header.get("contents", ()))  # type: ignore[arg-type]
    m = re.search(r"(?:Translation|Transcript)\s*-\s*(\w+)", contents)
    if m and m.group(1).casefold() in LANGUAGE_CODES:
        return LANGUAGE_CODES[m.group(1).casefold()]
    words = re.findall(r"[A-Za-z]+", text[:20000].casefold())
    if words and sum(w in _ENGLISH_WORDS for w in words) / len(words) > 0.08:
        return "en"
    return "und"


def _freeze(
    draft: _Draft,
    decoded: Decoded,
    data: bytes,
    name: str,
    profile: Profile,
    now: str,
    doc_id: str | None,
) -> Document:
    h = draft.header
    body_text = "\n".join(b.text for b in draft.blocks)
    language = _language(draft, body_text)
    languages: list[Language] = []
    names = {v: k.capitalize() for k, v in LANGUAGE_CODES.items()}
    original = h.get("original_language")
    if language != "und":
        usage = f" (translated from {h['original_language_name']})" if original else ""
        languages.append(Language(language, names.get(language, language) + usage))
    if original and original != language:
        languages.append(Language(str(original), f"{h['original_language_name']} (original)"))
    damage = find_damage(decoded.text)
    if damage:
        draft.decisions.append(
            f"The capture lost characters ({len(damage)} damaged token(s), listed in sourceDesc); "
            "the lost letters are not guessed."
        )
    encoding = decoded.encoding + (" with BOM" if decoded.bom else "")
    stem = Path(name).stem
    shape = profile.name
    header = Header(
        title=draft.title,
        source=SourceFile(
            name=Path(name).name,
            sha256=hashlib.sha256(data).hexdigest(),
            encoding=encoding,
            format=shape,
            damage=damage,
            encoding_evidence=decoded.evidence,
            format_version=profile.version,
        ),
        language=language,
        languages=tuple(languages),
        date=h.get("date"),  # type: ignore[arg-type]
        date_text=h.get("date_text"),  # type: ignore[arg-type]
        surrogate_title=h.get("surrogate_title") or draft.title,  # type: ignore[arg-type]
        publisher=h.get("publisher"),  # type: ignore[arg-type]
        author=h.get("author"),  # type: ignore[arg-type]
        updated=h.get("updated"),  # type: ignore[arg-type]
        url=h.get("url"),  # type: ignore[arg-type]
        citation=h.get("citation"),  # type: ignore[arg-type]
        archival=h.get("archival"),  # type: ignore[arg-type]
        original_language=original,  # type: ignore[arg-type]
        translators=h.get("translators", ()),  # type: ignore[arg-type]
        abstract=h.get("abstract"),  # type: ignore[arg-type]
        series=h.get("series"),  # type: ignore[arg-type]
        contents=h.get("contents", ()),  # type: ignore[arg-type]
        decisions=tuple(draft.decisions),
        responsibilities=tuple(draft.responsibilities),
        applications=(TOOLKIT,),
        changes=(
            Change(
                when=now,
                who="#toolkit",
                text=f"Converted from {Path(name).name} ({shape} capture, {encoding}) by "
                f"toolkit {TOOLKIT.version}.",
            ),
        ),
        editors=h.get("editors", ()),  # type: ignore[arg-type]
        place=h.get("place"),  # type: ignore[arg-type]
        number=h.get("number"),  # type: ignore[arg-type]
        record_id=h.get("record_id"),  # type: ignore[arg-type]
        reprint=h.get("reprint"),  # type: ignore[arg-type]
        rights=h.get("rights"),  # type: ignore[arg-type]
        keywords=h.get("keywords", ()),  # type: ignore[arg-type]
        notes=tuple(draft.notes),
    )
    spans = canonical(draft.spans)
    return Document(
        id=doc_id or ncname(stem), header=header, blocks=tuple(draft.blocks), spans=tuple(spans)
    )
