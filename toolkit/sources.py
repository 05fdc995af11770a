"""Source text -> :class:`~toolkit.model.Document`, one reader per capture shape.

Shapes: ``wilson`` (Wilson Center Digital Archive record: date, bold title, labelled blocks
Citation / Summary / Original Language / Contents, then the text), ``web`` (a web article with
menu, breadcrumb, byline and footer debris) and ``plain`` (any text: paragraphs at blank lines).
``detect_format`` picks one; every decision a reader takes is written into the header
(``editorialDecl``), so a reader of the TEI knows what was changed and where.

Only :func:`read_source` touches the file system.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from pathlib import Path

from .citations import find_citation
from .decoding import Decoded, decode
from .errors import SourceError
from .model import Block, Change, Damage, Document, Header, Language, SourceFile, Span
from .provenance import TOOLKIT
from .tei import canonical, ncname

FORMATS = ("auto", "wilson", "web", "plain")

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
_DATE_MDY = re.compile(r"\b([A-Z][a-z]+)\.? (\d{1,2}), (\d{4})\b")
_DATE_DMY = re.compile(r"\b(\d{1,2}) ([A-Z][a-z]+)\.? (\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_WILSON_LABELS = (
    "Citation",
    "Summary",
    "Original Language",
    "Contents",
    "Credits",
    "Original Archive",
    "Source",
    "Rights",
    "Associated People & Organizations",
    "Associated Places",
    "Subjects Discussed",
    "Language",
    "Document Information",
    "Authors",
    "Collection",
)
_LABEL_RE = re.compile(r"^(" + "|".join(re.escape(x) for x in _WILSON_LABELS) + r"):\s*(.*)$", re.S)
_CONTENTS_ITEM = re.compile(r"^(Translation|Transcript|Original Scan|Original|Scan)\b.{0,40}$")
_URL = re.compile(r"<?(https?://[^\s<>]+?)>?(?=[\s.,;]*$|\s)")
_TRANSLATOR = re.compile(r"\bTranslated (?:from \w+ )?by ([^.]+(?:\.[A-Z]\.?)*[^.]*)\.")
_MENU_LINE = re.compile(r"^[^|]*(\|[^|]*){3,}$")
_BREADCRUMB = re.compile(r"^(?:Home|Homepage|Start|Main)\s*(?:>|»|/)\s*(.+)$")
_BYLINE = re.compile(
    r"^(?:Updated|Published|Date)\s*:\s*(?P<date>\d{4}-\d{2}-\d{2})(?:[ T][\d:]+)?"
    r"(?:\s*\|\s*(?:By|Source|Author)\s*:\s*(?P<by>.+))?$"
)
_FOOTER = re.compile(
    r"^(?:contact us|about us|privacy policy|terms of use|terms and conditions|sitemap|site map|"
    r"copyright\b.*|©.*|all rights reserved\.?|share|print|back to top|top)$",
    re.I,
)
_DEBRIS_LINE = re.compile("|".join(p.pattern for p in (_MENU_LINE, _BREADCRUMB, _BYLINE)))
_DAMAGE = re.compile(r"[^\s|]*(?:\?(?=[^\W\d_]|\?)|\ufffd)[^\s|]*")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,200})\]")
_ENDS_SENTENCE = re.compile(r"[.!?:;\"'”’)\]…»]\s*$")
_ENGLISH_WORDS = frozenset(
    ["the", "of", "and", "to", "in", "a", "is", "that", "was", "for", "with", "as", "on", "by"]
)


@dataclass
class _Para:
    line: int  # 1-based source line of the paragraph's first line
    text: str


@dataclass
class _Draft:
    """What a reader gathers before the Document is frozen."""

    title: str = ""
    blocks: list[Block] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    header: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


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


def convert(
    data: bytes,
    name: str,
    *,
    format: str = "auto",
    encoding: str | None = None,
    now: str,
    doc_id: str | None = None,
    warnings: list[str] | None = None,
) -> Document:
    """Convert a source's bytes into a Document; ``now`` is the conversion time (ISO).

    What the reader could not do (an archival reference it could not read) is appended to
    ``warnings`` and noted in the header; the conversion itself goes on.
    """
    decoded = decode(data, name, encoding)
    text = decoded.text
    shape = detect_format(text) if format == "auto" else format
    if shape not in FORMATS[1:]:
        raise SourceError(
            "E107", f"unknown format {format!r}; use one of {', '.join(FORMATS)}", name
        )
    draft = {"wilson": _read_wilson, "web": _read_web, "plain": _read_plain}[shape](text, name)
    if shape != "wilson":
        _labelled_reference(text, draft)
    if warnings is not None:
        warnings.extend(draft.warnings)
    if not draft.blocks:
        raise SourceError(
            "E108",
            f"no body text found in this {shape} capture; check the file or force --format plain",
            name,
        )
    _supply_brackets(draft)
    draft.decisions.append(
        "Line breaks inside paragraphs became spaces; the characters of the text are otherwise "
        "unchanged."
    )
    return _freeze(draft, decoded, data, name, shape, now, doc_id)


def detect_format(text: str) -> str:
    """``wilson``, ``web`` or ``plain``, from the capture's tell-tale lines."""
    head = text[:5000]
    if re.search(r"^Citation:\s*$", head, re.M) and (
        "Wilson Center Digital Archive" in head or "digitalarchive.wilsoncenter.org" in head
    ):
        return "wilson"
    lines = [ln.strip() for ln in head.splitlines()[:30]]
    clues = sum(
        (
            any(_MENU_LINE.match(ln) for ln in lines),
            any(_BREADCRUMB.match(ln) for ln in lines),
            any(_BYLINE.match(ln) for ln in lines),
        )
    )
    return "web" if clues >= 2 else "plain"


def _paragraphs(text: str, alone: re.Pattern[str] | None = None) -> list[_Para]:
    """Blank-line separated paragraphs; a line matching ``alone`` is a paragraph of its own."""
    paras: list[_Para] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), 1):
        if alone is not None and alone.match(line.strip()):
            if current:
                paras.append(_Para(start, " ".join(current)))
                current = []
            paras.append(_Para(number, line.strip()))
        elif line.strip():
            if not current:
                start = number
            current.append(line.strip())
        elif current:
            paras.append(_Para(start, " ".join(current)))
            current = []
    if current:
        paras.append(_Para(start, " ".join(current)))
    return paras


def _lines(paras: list[_Para]) -> str:
    return ", ".join(str(p.line) for p in paras)


# --- Wilson Center Digital Archive ---------------------------------------------------------------


def _read_wilson(text: str, name: str) -> _Draft:
    paras = _paragraphs(text)
    draft = _Draft()
    sections: dict[str, list[_Para]] = {}
    label: str | None = None
    body_start: int | None = None
    front: list[_Para] = []
    for i, para in enumerate(paras):
        m = _LABEL_RE.match(para.text)
        if m:
            label = m.group(1)
            sections[label] = [_Para(para.line, m.group(2))] if m.group(2) else []
            continue
        if label is None:
            front.append(para)
        elif label == "Contents":
            if _CONTENTS_ITEM.match(para.text):
                sections[label].append(para)
            else:
                body_start = i
                break
        else:
            sections[label].append(para)
    if body_start is None:
        raise SourceError(
            "E108",
            "a Wilson Center record needs its text after a 'Contents:' block "
            "(e.g. 'Translation - English'); force --format plain to keep everything as text",
            name,
        )
    h = draft.header
    for para in front:
        if para.text.startswith("**") or (not draft.title and not _parse_date(para.text)):
            draft.title = para.text.strip("* ").strip()
        elif _parse_date(para.text) and "date" not in h:
            h["date"], h["date_text"] = _parse_date(para.text), para.text
    citation = " ".join(p.text for p in sections.get("Citation", []))
    if citation:
        h["citation"] = citation
        _read_wilson_citation(citation, draft)
    if sections.get("Summary"):
        h["abstract"] = " ".join(p.text for p in sections["Summary"])
    if sections.get("Original Language"):
        original = sections["Original Language"][0].text.strip()
        code = LANGUAGE_CODES.get(original.casefold())
        if code:
            h["original_language"] = code
            h["original_language_name"] = original
    h["contents"] = tuple(p.text for p in sections.get("Contents", []))
    h["publisher"] = "Wilson Center Digital Archive"
    moved = paras[:body_start]
    draft.decisions.append(
        "The record's front matter (date, title, "
        + ", ".join(sections)
        + f"; source lines {moved[0].line}-{moved[-1].line}) is encoded in the header, "
        "not the body."
    )
    body = paras[body_start:]
    _body_blocks(body, draft, head_like=draft.title)
    return draft


def _read_wilson_citation(citation: str, draft: _Draft) -> None:
    h = draft.header
    url = _URL.search(citation)
    if url:
        h["url"] = url.group(1)
    title = re.match(r'\s*"([^"]+)"', citation)
    if title:
        h["surrogate_title"] = title.group(1)
    translator = _TRANSLATOR.search(citation)
    if translator:
        h["translators"] = tuple(
            t.strip() for t in re.split(r",\s*|\s+and\s+", translator.group(1)) if t.strip()
        )
    _record_reference(citation, draft)


_REFERENCE_LINE = re.compile(
    r"^\s*(?:Source|Archive|Archival reference|Archival source|Reference|Shelfmark|Provenance)"
    r"\s*:\s*(?P<ref>\S.*)$",
    re.I | re.M,
)


def _labelled_reference(text: str, draft: _Draft) -> None:
    """Plain and web captures: an archival reference on a labelled line ("Source: ...")."""
    m = _REFERENCE_LINE.search(text)
    if m:
        draft.header.setdefault("citation", m.group("ref").strip())
        _record_reference(m.group("ref"), draft)


def _record_reference(citation: str, draft: _Draft) -> None:
    """Parse the reference into the header; what cannot be read stays verbatim, with a warning."""
    found = find_citation(citation)
    if found is not None and found.repository:
        draft.header["archival"] = found
        return
    why = (
        f"the reference {found.raw!r} names no archive"
        if found
        else f"no archival reference could be read in {citation.strip()[:120]!r}"
    )
    draft.decisions.append(f"Archival reference not structured: {why}; it is kept verbatim.")
    draft.warnings.append(
        f"[E502] {why}; kept verbatim in the header (see `toolkit cite` for the shapes it reads)"
    )


def _body_blocks(paras: list[_Para], draft: _Draft, head_like: str = "") -> None:
    """Paragraphs -> blocks: rejoin page-split paragraphs, find the heading and the signature."""
    joined: list[tuple[_Para, list[int]]] = []
    rejoined: list[str] = []
    for para in paras:
        if joined and not _ENDS_SENTENCE.search(joined[-1][0].text) and para.text[:1].islower():
            prev, breaks = joined[-1]
            breaks.append(len(prev.text) + 1)
            rejoined.append(f"{prev.line}/{para.line}")
            joined[-1] = (_Para(prev.line, prev.text + " " + para.text), breaks)
        else:
            joined.append((para, []))
    if rejoined:
        draft.decisions.append(
            f"{len(rejoined)} paragraph(s) split mid-sentence by a page break of the original were "
            f"rejoined (source lines {', '.join(rejoined)}); each break is marked with an empty pb."
        )
    for i, (para, breaks) in enumerate(joined):
        kind = "p"
        if i == 0 and head_like and _fold(para.text).startswith(_fold(head_like)[:60]):
            kind = "head"
        elif i == len(joined) - 1 and len(joined) > 2 and _is_signature(para.text):
            kind = "closer"
            draft.decisions.append(
                f"The last line (source line {para.line}) is a signature: closer/signed."
            )
        index = len(draft.blocks)
        draft.blocks.append(Block(kind, para.text))
        if kind == "closer":
            draft.spans.append(Span(index, 0, len(para.text), "signed"))
        draft.spans.extend(Span(index, b, b, "pb") for b in breaks)


def _is_signature(text: str) -> bool:
    words = text.split()
    return 1 < len(words) <= 12 and not _ENDS_SENTENCE.search(text) and text[:1].isupper()


def _fold(text: str) -> str:
    return re.sub(r"\W+", " ", text).casefold().strip()


# --- web article ----------------------------------------------------------------------------------


def _read_web(text: str, name: str) -> _Draft:
    draft = _Draft()
    h = draft.header
    removed: list[str] = []
    body: list[_Para] = []
    paras = _paragraphs(text, _DEBRIS_LINE)
    byline_seen = False
    for para in paras:
        line = para.text
        crumb = _BREADCRUMB.match(line)
        byline = _BYLINE.match(line)
        if _MENU_LINE.match(line) and not body:
            removed.append(f"line {para.line} (menu)")
        elif crumb and not body:
            h["series"] = line
            removed.append(f"line {para.line} (breadcrumb)")
        elif byline and not body:
            h["updated"] = byline.group("date")
            if byline.group("by"):
                h["author"] = byline.group("by").strip()
            byline_seen = True
            removed.append(f"line {para.line} (byline)")
        elif not body and not draft.title and not byline_seen:
            draft.title = line
            removed.append(f"line {para.line} (title)")
        elif not body and draft.title and _fold(line) == _fold(draft.title):
            removed.append(f"line {para.line} (repeated title)")
        else:
            body.append(para)
    while body and _FOOTER.match(body[-1].text):
        removed.append(f"line {body[-1].line} (footer {body[-1].text!r})")
        body.pop()
    if not draft.title:
        draft.title = Path(name).stem
    draft.decisions.append(
        "Web page debris removed from the body (title, date and byline kept in the header): "
        + "; ".join(sorted(removed, key=lambda r: int(r.split()[1])))
        + "."
    )
    _body_blocks(body, draft)
    return draft


# --- plain text -----------------------------------------------------------------------------------


def _read_plain(text: str, name: str) -> _Draft:
    draft = _Draft()
    paras = _paragraphs(text)
    first = paras[0].text if paras else ""
    if first and len(first) <= 200:
        draft.title = first
    else:
        draft.title = Path(name).stem
    draft.decisions.append("Paragraphs are the source's blank-line separated blocks.")
    for i, para in enumerate(paras):
        kind = "head" if i == 0 and len(paras) > 1 and _looks_like_title(para.text) else "p"
        draft.blocks.append(Block(kind, para.text))
    return draft


def _looks_like_title(text: str) -> bool:
    return (len(text) <= 120 and not _ENDS_SENTENCE.search(text.rstrip("."))) or len(
        text.split()
    ) <= 8


# --- shared ---------------------------------------------------------------------------------------


def _supply_brackets(draft: _Draft) -> None:
    """``[word]`` -> ``supplied``: the brackets are dropped, the offsets of later spans moved."""
    count = 0
    grouped: list[list[Span]] = [[] for _ in draft.blocks]
    for span in draft.spans:
        grouped[span.block].append(span)
    for index, block in enumerate(draft.blocks):
        if "[" not in block.text:
            continue
        pieces: list[str] = []
        supplied: list[Span] = []
        cuts: list[int] = []  # source offsets of the removed bracket characters, ascending
        pos = 0
        for m in _BRACKET.finditer(block.text):
            pieces += [block.text[pos : m.start()], m.group(1)]
            start = m.start() - len(cuts)
            supplied.append(Span(index, start, start + len(m.group(1)), "supplied"))
            cuts += [m.start(), m.end() - 1]
            pos = m.end()
        if not supplied:
            continue
        pieces.append(block.text[pos:])

        def moved(offset: int, cuts: list[int] = cuts) -> int:
            return offset - bisect_left(cuts, offset)  # cuts strictly before the offset

        draft.blocks[index] = replace(block, text="".join(pieces))
        grouped[index] = [
            replace(s, start=moved(s.start), end=moved(s.end)) for s in grouped[index]
        ] + supplied
        count += len(supplied)
    draft.spans = [span for spans in grouped for span in spans]
    if count:
        draft.decisions.append(
            f"Square brackets of the editor or translator ({count} place(s)) are encoded as "
            "supplied; the bracket characters themselves are not kept."
        )


def find_damage(text: str) -> tuple[Damage, ...]:
    """Tokens where the capture replaced characters by ``?`` or U+FFFD."""
    found: list[Damage] = []
    for number, line in enumerate(text.split("\n"), 1):
        for m in _DAMAGE.finditer(line):
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
    shape: str,
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
    header = Header(
        title=draft.title,
        source=SourceFile(
            name=Path(name).name,
            sha256=hashlib.sha256(data).hexdigest(),
            encoding=encoding,
            format=shape,
            damage=damage,
            encoding_evidence=decoded.evidence,
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
        applications=(TOOLKIT,),
        changes=(
            Change(
                when=now,
                who="#toolkit",
                text=f"Converted from {Path(name).name} ({shape} capture, {encoding}) by "
                f"toolkit {TOOLKIT.version}.",
            ),
        ),
    )
    spans = canonical(draft.spans)
    return Document(
        id=doc_id or ncname(stem), header=header, blocks=tuple(draft.blocks), spans=tuple(spans)
    )
