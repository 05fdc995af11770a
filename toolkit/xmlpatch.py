"""Minimal-diff edits of an XML file: change only what is added or altered, byte for byte.

The toolkit computes what to change on the parsed tree (lxml), then applies it to the original
text as edits, so everything else (indentation, attribute order and quoting, comments, processing
instructions, CDATA sections, character references, the XML declaration and the encoding) stays
exactly as the author wrote it.

:func:`scan` is a small linear scanner over the decoded file. It records, for every element in
document order (the order of ``root.iter(etree.Element)``), the source range of its start and
end tag and the ranges of its attribute values, and, for the text between, pieces that map
characters of the parsed text (entity and character references and ``\\r\\n`` decoded) back to
source positions. A :class:`Patch` collects edits against source positions and applies them
once, in order. :class:`BlockMap` maps character offsets of a block's text (as ``tei.read_block``
reads it) to insertion points, following the nesting rule of ``tei.write_block``.
"""

from __future__ import annotations

import codecs
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from lxml import etree

from .errors import TEIError

_NAME = r"[^\s/>=\"'<]+"
_ATTR = re.compile(r"(\s+)(" + _NAME + r")(\s*=\s*)(?:\"([^\"]*)\"|'([^']*)')")
_PREDEFINED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_DECL_ENCODING = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


@dataclass
class Element:
    """Source ranges of one element: start tag ``[start, start_end)``, end tag ``[end, end_end)``
    (equal to the start tag for an empty-element tag ``<x/>``)."""

    start: int
    start_end: int
    end: int = -1
    end_end: int = -1
    qname: str = ""
    attrs: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # name -> (a, b, quote)
    attrs_end: int = 0  # where a new attribute goes (after the last one)
    first_event: int = 0
    last_event: int = 0

    @property
    def empty(self) -> bool:
        return self.start == self.end


@dataclass(frozen=True)
class Piece:
    """Text of the parsed document: ``text`` at source ``[src, src_end)``; ``inner`` is where
    characters map one to one (the content of a CDATA section, or ``src`` itself); ``kind`` is
    ``text``, ``cdata`` or ``ref`` (one character from several source characters)."""

    src: int
    src_end: int
    inner: int
    text: str
    kind: str


@dataclass(frozen=True)
class Event:
    """A tag, comment or PI in document order: ``kind`` is start, end, comment or pi."""

    kind: str
    src: int
    src_end: int
    element: int = -1


@dataclass
class Scan:
    text: str
    elements: list[Element]
    items: list[Piece | Event]  # document order, from the root's start tag to its end tag
    encoding: str
    bom: bytes

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding, errors="xmlcharrefreplace")


def decode(data: bytes) -> tuple[str, str, bytes]:
    """The file's text, its encoding and its BOM (kept as they are)."""
    for bom, enc in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(enc), enc, bom
    if data[:4] == b"<\x00?\x00":
        return data.decode("utf-16-le"), "utf-16-le", b""
    if data[:4] == b"\x00<\x00?":
        return data.decode("utf-16-be"), "utf-16-be", b""
    m = _DECL_ENCODING.match(data)
    enc = m.group(1).decode("ascii").lower() if m else "utf-8"
    if enc in ("utf-16", "utf16"):
        enc = "utf-16-le"
    try:
        return data.decode(enc), enc, b""
    except (LookupError, UnicodeDecodeError):
        raise TEIError("E210", f"the file is not readable as its declared encoding {enc}") from None


_TOKEN = re.compile(
    r"(?P<text>[^<&\r]+)"
    r"|(?P<cr>\r\n?)"
    r"|(?P<ref>&(?:#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z_][\w.-]*);)"
    r"|(?P<comment><!--.*?-->)"
    r"|(?P<cdata><!\[CDATA\[.*?\]\]>)"
    r"|(?P<pi><\?.*?\?>)"
    r"|(?P<doctype><!)"
    r"|(?P<end></[^>]*>)"
    r"|(?P<start><(?P<name>[^\s/>=\"'<!?]+)(?:\s+[^\s/>=\"'<]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*"
    r"\s*(?P<slash>/?)>)",
    re.S,
)


def scan(data: bytes) -> Scan:
    """Scan a well-formed document (parse it with lxml first: this scanner trusts the syntax)."""
    text, encoding, bom = decode(data)
    elements: list[Element] = []
    items: list[Piece | Event] = []
    stack: list[int] = []
    pos, n = 0, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            raise TEIError("E210", f"unreadable markup at character {pos}")
        kind = m.lastgroup
        end = m.end()
        if kind == "text":
            if stack:
                items.append(Piece(pos, end, pos, m.group(), "text"))
        elif kind == "start" or kind == "slash" or kind == "name":
            el = Element(start=pos, start_end=end, qname=m.group("name"))
            index = len(elements)
            elements.append(el)
            items.append(Event("start", pos, end, index))
            el.first_event = len(items) - 1
            if m.group("slash"):
                el.end, el.end_end = pos, end
                el.last_event = el.first_event
            else:
                stack.append(index)
        elif kind == "end":
            index = stack.pop()
            el = elements[index]
            el.end, el.end_end = pos, end
            items.append(Event("end", pos, end, index))
            el.last_event = len(items) - 1
        elif kind == "cr":
            if stack:
                items.append(Piece(pos, end, pos, "\n", "ref"))
        elif kind == "ref":
            items.append(Piece(pos, end, pos, _ref_value(m.group()[1:-1]), "ref"))
        elif kind == "cdata":
            _cdata_pieces(items, pos, end, pos + 9, text[pos + 9 : end - 3])
        elif kind in ("comment", "pi"):
            if stack:
                items.append(Event(kind, pos, end))
        else:  # a DOCTYPE
            end = _skip_doctype(text, pos)
        pos = end
    return Scan(text, elements, items, encoding, bom)


def _ref_value(name: str) -> str:
    if name.startswith("#x"):
        return chr(int(name[2:], 16))
    if name.startswith("#"):
        return chr(int(name[1:]))
    if name in _PREDEFINED:
        return _PREDEFINED[name]
    raise TEIError("E210", f"the entity reference &{name}; cannot be mapped")


def _cdata_pieces(items: list, start: int, end: int, inner: int, content: str) -> None:
    if "\r" not in content:
        items.append(Piece(start, end, inner, content, "cdata"))
        return
    # Line ends inside CDATA are normalized too: keep each \r or \r\n as its own piece.
    for part in re.finditer(r"\r\n?|[^\r]+", content):
        a, b = inner + part.start(), inner + part.end()
        if part.group().startswith("\r"):
            items.append(Piece(a, b, a, "\n", "ref"))
        else:
            items.append(Piece(a, b, a, part.group(), "cdata"))


def _skip_doctype(text: str, pos: int) -> int:
    depth, quote = 0, ""
    i = pos + 2
    while i < len(text):
        c = text[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == ">" and depth == 0:
            return i + 1
        i += 1
    return i


def parse_attributes(text: str, el: Element) -> None:
    """Fill ``el.attrs`` and ``el.attrs_end`` from its start tag (on demand: most elements are
    never edited, and a tag with 200,000 attributes is read once, linearly)."""
    if el.attrs or el.attrs_end:
        return
    i = el.start + 1 + len(el.qname)
    attrs_end = i
    while True:
        a = _ATTR.match(text, i)
        if a is None:
            break
        value_start = a.start(4) if a.group(4) is not None else a.start(5)
        value_end = a.end(4) if a.group(4) is not None else a.end(5)
        el.attrs[a.group(2)] = (value_start, value_end, text[value_start - 1])
        i = attrs_end = a.end()
    el.attrs_end = attrs_end


# --- escaping ---------------------------------------------------------------------------------


def escape_attr(value: str) -> str:
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\t", "&#9;")
        .replace("\r", "&#13;")
    )


def start_tag(qname: str, attrs: Sequence[tuple[str, str]]) -> str:
    return "<" + qname + "".join(f' {k}="{escape_attr(v)}"' for k, v in attrs) + ">"


# --- edits ----------------------------------------------------------------------------------------


@dataclass
class Patch:
    """Edits against source positions of one :class:`Scan`, applied together.

    An edit replaces ``[pos, end)`` by ``text``; edits at one position apply in ``order``, then
    in the order they were added. Edits must not overlap (the callers never make them do so).
    """

    scan: Scan
    edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    _unit: str | None = None
    _into_empty: dict[int, tuple[Element, list[str]]] = field(default_factory=dict)

    def replace(self, pos: int, end: int, text: str, order: int = 1) -> None:
        self.edits.append((pos, order, len(self.edits), end, text))

    def insert(self, pos: int, text: str, order: int = 1) -> None:
        self.replace(pos, pos, text, order)

    def delete(self, pos: int, end: int) -> None:
        self.replace(pos, end, "", 1)

    def __bool__(self) -> bool:
        return bool(self.edits or self._into_empty)

    def _open_empty(self, parent: Element, children: list[str]) -> None:
        text = self.scan.text
        pad = self._indent_before(parent.start)
        child = pad + self.indent_unit() if pad is not None else None
        nl = "\r\n" if "\r\n" in text[: parent.start] else "\n"
        inner = "".join(
            ((nl + child) if child is not None else "") + _reindent(xml, child, nl)
            for xml in children
        )
        tag = text[parent.start : parent.start_end]
        self.replace(
            parent.start,
            parent.start_end,
            tag[:-2].rstrip()
            + ">"
            + inner
            + ((nl + pad) if pad is not None else "")
            + f"</{parent.qname}>",
        )

    def apply(self) -> bytes:
        for parent, children in self._into_empty.values():
            self._open_empty(parent, children)
        self._into_empty = {}
        text = self.scan.text
        out: list[str] = []
        last = 0
        for pos, _, _, end, new in sorted(self.edits, key=lambda e: (e[0], e[3] > e[0], e[1:])):
            if pos < last:
                raise ValueError(f"overlapping edits at {pos}")
            out.append(text[last:pos])
            out.append(new)
            last = max(last, end)
        out.append(text[last:])
        return self.scan.encode("".join(out))

    # -- element-level helpers

    def set_attr(self, el: Element, name: str, value: str | None) -> None:
        """Set (or with None remove) an attribute, keeping the others and their quoting."""
        text = self.scan.text
        parse_attributes(text, el)
        old = el.attrs.get(name)
        if old is not None:
            a, b, quote = old
            if value is None:
                # from the white space before the name to the closing quote
                begin = text.rfind(name, el.start, a)
                while begin > el.start and text[begin - 1].isspace():
                    begin -= 1
                self.delete(begin, b + 1)
                return
            escaped = escape_attr(value)
            if quote == "'":
                escaped = escaped.replace("&quot;", '"').replace("'", "&apos;")
            if text[a:b] != escaped:
                self.replace(a, b, escaped)
        elif value is not None:
            self.insert(el.attrs_end, f' {name}="{escape_attr(value)}"')

    def rename(self, el: Element, qname: str) -> None:
        self.replace(el.start + 1, el.start + 1 + len(el.qname), qname)
        if not el.empty:
            self.replace(el.end + 2, el.end + 2 + len(el.qname), qname)

    def unwrap(self, el: Element) -> None:
        """Remove the tags of ``el``, keeping its content."""
        self.delete(el.start, el.start_end)
        if not el.empty:
            self.delete(el.end, el.end_end)

    def remove(self, el: Element) -> None:
        """Remove ``el`` and the indentation before it (when it starts a line)."""
        text = self.scan.text
        begin = el.start
        while begin > 0 and text[begin - 1] in " \t":
            begin -= 1
        if begin > 0 and text[begin - 1] == "\n":
            begin -= 1
            if begin > 0 and text[begin - 1] == "\r":
                begin -= 1
        else:
            begin = el.start
        self.delete(begin, el.end_end)

    def _style(self, xml: str) -> str:
        """A fragment indented by two spaces a level, in the file's own indentation step."""
        unit = self.indent_unit()
        if unit == "  " or "\n" not in xml:
            return xml
        return re.sub(r"\n((?:  )+)", lambda m: "\n" + unit * (len(m.group(1)) // 2), xml)

    def replace_element(self, el: Element, xml: str) -> None:
        """Replace ``el`` (tags and content) by ``xml``, re-indented to ``el``'s column."""
        xml = self._style(xml)
        self.replace(el.start, el.end_end, _reindent(xml, self._indent_before(el.start)))

    def append_child(self, parent: Element, xml: str, unit: str | None = None) -> None:
        """Insert ``xml`` as the last child of ``parent``, in the indentation style around it."""
        text = self.scan.text
        xml = self._style(xml)
        if parent.empty:  # <x/>: opened when the patch is applied, with all its new children
            self._into_empty.setdefault(parent.start, (parent, []))[1].append(xml)
            return
        close_ws_start = parent.end
        while close_ws_start > parent.start_end and text[close_ws_start - 1] in " \t\r\n":
            close_ws_start -= 1
        close_ws = text[close_ws_start : parent.end]
        sibling = self._last_child_start(parent)
        if sibling is not None:
            child_pad = self._indent_before(sibling)
        elif "\n" in close_ws:
            child_pad = close_ws.rsplit("\n", 1)[1] + (unit or self.indent_unit())
        else:
            child_pad = None
        if child_pad is None:
            self.insert(close_ws_start, _reindent(xml, None))
            return
        nl = "\r\n" if "\r\n" in text[: parent.end] else "\n"
        self.insert(close_ws_start, nl + child_pad + _reindent(xml, child_pad, nl))

    def insert_after(self, el: Element, xml: str) -> None:
        """Insert ``xml`` as the next sibling of ``el``, indented as ``el``."""
        xml = self._style(xml)
        pad = self._indent_before(el.start)
        nl = "\r\n" if "\r\n" in self.scan.text[: el.start] else "\n"
        if pad is None:
            self.insert(el.end_end, _reindent(xml, None))
        else:
            self.insert(el.end_end, nl + pad + _reindent(xml, pad, nl))

    def _last_child_start(self, parent: Element) -> int | None:
        depth = 0
        last = None
        for item in self.scan.items[parent.first_event + 1 : parent.last_event]:
            if isinstance(item, Event):
                if item.kind == "start":
                    if depth == 0:
                        last = item.src
                    el = self.scan.elements[item.element]
                    if not el.empty:
                        depth += 1
                elif item.kind == "end":
                    depth -= 1
        return last

    def _indent_before(self, pos: int) -> str | None:
        """The white space from the line start to ``pos``, or None if ``pos`` does not start
        its line."""
        text = self.scan.text
        begin = pos
        while begin > 0 and text[begin - 1] in " \t":
            begin -= 1
        if begin == 0 or text[begin - 1] in "\r\n":
            return text[begin:pos]
        return None

    def indent_unit(self) -> str:
        """The file's indentation step: a tab, or the smallest run of leading spaces."""
        if self._unit is not None:
            return self._unit
        self._unit = self._find_unit()
        return self._unit

    def _find_unit(self) -> str:
        text = self.scan.text
        if re.search(r"\n\t+<", text):
            return "\t"
        sizes = [len(m.group(1)) for m in re.finditer(r"\n( +)<", text[:20000])]
        return " " * (min(sizes) if sizes else 2)


def _reindent(xml: str, pad: str | None, nl: str = "\n") -> str:
    """Shift every line after the first by ``pad`` (``xml`` is indented from column 0)."""
    if pad is None:  # a file without line structure: the fragment goes in on one line
        return re.sub(r"\n[ \t]*", "", xml)
    return xml.replace("\n", nl + pad)


# --- blocks: text offsets -> insertion points --------------------------------------------------


@dataclass
class BlockMap:
    """The text of one block element and where each offset of it sits in the source.

    ``spans`` are the elements inside the block: ``(element index, start, end)`` in text offsets;
    ``opaque`` elements (other namespaces) are atoms holding no text.
    """

    scan: Scan
    element: int
    text: str
    pieces: list[Piece]
    piece_starts: list[int]
    events: list[tuple[int, Event]]  # (text offset, event), in document order
    event_offsets: list[int]
    spans: dict[int, tuple[int, int]]


def block_map(scan: Scan, index: int, opaque: Callable[[int], bool]) -> BlockMap:
    """Read block element ``index``: text (as lxml reads it) and positions.

    ``opaque(i)`` says whether element ``i`` is skipped as a whole (foreign markup).
    """
    el = scan.elements[index]
    parts: list[str] = []
    pieces: list[Piece] = []
    starts: list[int] = []
    events: list[tuple[int, Event]] = []
    spans: dict[int, tuple[int, int]] = {}
    length = 0
    i = el.first_event + 1
    items = scan.items
    while i < el.last_event:
        item = items[i]
        if isinstance(item, Piece):
            pieces.append(item)
            starts.append(length)
            parts.append(item.text)
            length += len(item.text)
        elif item.kind == "start" and opaque(item.element):
            inner = scan.elements[item.element]
            events.append((length, Event("atom", inner.start, inner.end_end, item.element)))
            spans[item.element] = (length, length)
            i = inner.last_event
        elif item.kind == "start":
            events.append((length, item))
            spans[item.element] = (length, -1)
            if scan.elements[item.element].empty:
                spans[item.element] = (length, length)
        elif item.kind == "end":
            events.append((length, item))
            spans[item.element] = (spans[item.element][0], length)
        else:
            events.append((length, item))
        i += 1
    return BlockMap(
        scan, index, "".join(parts), pieces, starts, events, [o for o, _ in events], spans
    )


def insertion_point(
    bm: BlockMap,
    offset: int,
    start: int,
    end: int,
    opening: bool,
    removed: set[int],
) -> tuple[int, bool]:
    """Where the start (``opening``) or end tag of a new element over ``[start, end)`` goes.

    Returns a source position and whether it lies inside a CDATA section (the caller then
    closes and reopens the section around the tag). Existing elements over the same characters
    stay outside the new one; empty elements, comments and PIs at its edges stay outside it.
    ``removed`` elements are ignored (their tags are being deleted).
    """
    lo = bisect_left(bm.event_offsets, offset)
    hi = bisect_right(bm.event_offsets, offset)
    at = [ev for _, ev in bm.events[lo:hi] if ev.element not in removed]
    if at:
        spans = bm.spans
        if opening:
            # after every end of an element begun earlier and every start of one that holds
            # the new element; before the first start of a (non-empty) one it holds
            floor = 0
            for i, ev in enumerate(at):
                s, e = spans.get(ev.element, (offset, offset))
                if (ev.kind == "end" and s < offset) or (ev.kind == "start" and e >= end):
                    floor = i + 1
            for ev in at[floor:]:
                if ev.kind == "start":
                    s, e = spans[ev.element]
                    if s < e < end:
                        return ev.src, False
            return at[-1].src_end, False
        # before every start of an element that goes on and every end of one that holds the
        # new element; after the last end of a (non-empty) one it holds
        ceiling = len(at)
        for i, ev in enumerate(at):
            s, e = spans.get(ev.element, (offset, offset))
            if (ev.kind == "start" and e > offset) or (ev.kind == "end" and s <= start and s < e):
                ceiling = i
                break
        for ev in reversed(at[:ceiling]):
            if ev.kind == "end":
                s, e = spans[ev.element]
                if start < s < e:
                    return ev.src_end, False
        return at[0].src, False
    if bm.events[lo:hi]:  # only removed events here: their edge positions are still valid
        ev = bm.events[lo][1]
        return ev.src, False
    # inside or between text pieces
    k = bisect_right(bm.piece_starts, offset) - 1
    if k < 0:
        return _edge(bm, offset), False
    piece = bm.pieces[k]
    rel = offset - bm.piece_starts[k]
    if rel == 0:
        return piece.src, False
    if rel == len(piece.text):
        return piece.src_end, False
    if piece.kind == "cdata":
        return piece.inner + rel, True
    if piece.kind == "ref":
        raise ValueError("an offset inside a character reference")
    return piece.src + rel, False


def _edge(bm: BlockMap, offset: int) -> int:
    el = bm.scan.elements[bm.element]
    return el.start_end if offset == 0 else el.end


def element_indices(root: etree._Element) -> dict[etree._Element, int]:
    """lxml element -> scanner index (document order). Keep the dict alive while using it."""
    return {el: i for i, el in enumerate(root.iter(etree.Element))}


def verify(scan: Scan, root: etree._Element) -> None:
    """Raise when the scanner and lxml disagree (a file the scanner cannot map)."""
    count = sum(1 for _ in root.iter(etree.Element))
    if count != len(scan.elements):
        raise TEIError(
            "E210",
            f"the file's markup could not be mapped for a minimal edit ({count} elements parsed, "
            f"{len(scan.elements)} scanned); please report it with the file",
        )
