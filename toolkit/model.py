"""The data model: frozen dataclasses with standoff character offsets.

A :class:`Document` is a header, a sequence of text :class:`Block` s (the top-level text
containers of the TEI body: ``p``, ``head``, ``closer`` ...) and :class:`Span` s over the
blocks' text. Every inline element of the TEI body (``supplied``, ``pb``, ``persName``,
an editor's ``hi``) is a span: ``tei.to_tei`` nests them, ``tei.from_tei`` reads them back.

Order of spans matters only for ties: where two spans cover the same characters, the one
earlier in ``Document.spans`` is the outer element.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Attrs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Span:
    """An inline element over ``block``'s text ``[start, end)``; ``start == end`` for an empty one.

    ``attrs`` keep their document order; namespaced names use the ``xml:`` prefix.
    """

    block: int
    start: int
    end: int
    tag: str
    attrs: Attrs = ()

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.attrs:
            if key == name:
                return value
        return default


@dataclass(frozen=True)
class Block:
    """A text container of the body: ``kind`` is its TEI element name."""

    kind: str
    text: str
    attrs: Attrs = ()


@dataclass(frozen=True)
class Level:
    """One level of an archival reference: ``unit`` is canonical (fond, opis, delo, ...)."""

    unit: str
    value: str


@dataclass(frozen=True)
class Range:
    """The leaf range of a reference: folios (verso written ``7v``) or pages."""

    unit: str
    start: str
    end: str | None = None


@dataclass(frozen=True)
class Citation:
    """A parsed archival reference; ``raw`` is the string exactly as cited."""

    raw: str
    repository: str | None
    levels: tuple[Level, ...] = ()
    range: Range | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Damage:
    """A place where the capture lost characters (``?`` or U+FFFD), 1-based line and column."""

    line: int
    column: int
    text: str


@dataclass(frozen=True)
class SourceFile:
    """The file a document was converted from: the bytes' SHA-256 pins the provenance."""

    name: str
    sha256: str
    encoding: str
    format: str
    damage: tuple[Damage, ...] = ()
    # How the encoding was chosen when the bytes did not decode strictly (legacy detection with
    # its confidence, or forced); "" for a BOM, strict UTF-8 or UTF-16. See toolkit.decoding.
    encoding_evidence: str = ""
    format_version: str | None = None  # the capture profile's version (toolkit.profiles)


@dataclass(frozen=True)
class Responsibility:
    """A ``respStmt``: who or what (``software``) did ``resp``."""

    id: str
    resp: str
    name: str
    software: bool = False


@dataclass(frozen=True)
class Application:
    ident: str
    version: str
    label: str


@dataclass(frozen=True)
class Change:
    """A ``revisionDesc/change``: ``when`` is an ISO date-time, ``who`` a pointer."""

    when: str
    who: str
    text: str


@dataclass(frozen=True)
class Language:
    ident: str
    name: str


@dataclass(frozen=True)
class Header:
    """What the toolkit records in the ``teiHeader``; ``None`` / empty means not known."""

    title: str
    source: SourceFile
    language: str = "und"
    languages: tuple[Language, ...] = ()
    date: str | None = None
    date_text: str | None = None
    surrogate_title: str | None = None
    publisher: str | None = None
    author: str | None = None
    updated: str | None = None
    url: str | None = None
    citation: str | None = None
    archival: Citation | None = None
    original_language: str | None = None
    translators: tuple[str, ...] = ()
    abstract: str | None = None
    series: str | None = None
    contents: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    responsibilities: tuple[Responsibility, ...] = ()
    applications: tuple[Application, ...] = ()
    changes: tuple[Change, ...] = ()
    # filled by capture profiles (toolkit.profiles); each has its place in the teiHeader
    editors: tuple[str, ...] = ()
    place: str | None = None
    number: str | None = None
    record_id: str | None = None
    reprint: str | None = None
    rights: str | None = None
    keywords: tuple[str, ...] = ()
    notes: tuple[tuple[str, str], ...] = ()  # (label, text): sections with no structured place


@dataclass(frozen=True)
class Document:
    id: str
    header: Header
    blocks: tuple[Block, ...] = ()
    spans: tuple[Span, ...] = field(default=())

    def spans_by_block(self) -> list[list[Span]]:
        """The spans of each block, in one pass (order kept)."""
        grouped: list[list[Span]] = [[] for _ in self.blocks]
        for span in self.spans:
            grouped[span.block].append(span)
        return grouped

    def text(self) -> str:
        """The body text, blocks separated by blank lines."""
        return "\n\n".join(b.text for b in self.blocks)
