"""Document <-> TEI P5: the namespace map, the one safe parser, the serializer.

Inline markup is standoff inside the library (:class:`~toolkit.model.Span`) and nested elements
only here. ``write_block`` nests spans into a container element; ``read_block`` reads them back.
Nesting rule: spans sorted by (start, empty-first, longer-first), ties in list order (earlier =
outer); an empty element (``pb``) at the edge of another element goes outside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from lxml import etree

from .citations import archive
from .errors import TEIError
from .model import (
    Application,
    Block,
    Change,
    Citation,
    Damage,
    Document,
    Header,
    Language,
    Level,
    Range,
    Responsibility,
    SourceFile,
    Span,
)

TEI_NS = "http://www.tei-c.org/ns/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"
NSMAP = {None: TEI_NS}
NS = {"tei": TEI_NS}
T = f"{{{TEI_NS}}}"
XML_ID = f"{{{XML_NS}}}id"
XML_LANG = f"{{{XML_NS}}}lang"

# Top-level text containers of a body; everything inside one is a span.
BLOCK_TAGS = frozenset(
    {"p", "head", "ab", "closer", "opener", "l", "item", "label", "trailer", "byline", "dateline"}
)
# Elements whose children are elements only: the serializer indents these and nothing else.
STRUCTURAL = frozenset(
    [
        "TEI",
        "teiHeader",
        "fileDesc",
        "titleStmt",
        "respStmt",
        "publicationStmt",
        "sourceDesc",
        "msDesc",
        "msIdentifier",
        "msContents",
        "msItem",
        "bibl",
        "encodingDesc",
        "appInfo",
        "application",
        "editorialDecl",
        "profileDesc",
        "abstract",
        "creation",
        "langUsage",
        "revisionDesc",
        "listPrefixDef",
        "text",
        "body",
        "div",
        "standOff",
        "listPerson",
        "person",
        "listPlace",
        "place",
        "listOrg",
        "org",
        "note",
        "spanGrp",
    ]
)
_COMMENT = "!--"
# An element of another namespace (MathML, SVG, egXML) inside a block: an atom holding its XML.
FOREIGN = "!foreign"


class _NoFetch(etree.Resolver):
    """Answers every request for an external resource (DTD, entity, XInclude) with nothing."""

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        return self.resolve_string("", context)


def parser() -> etree.XMLParser:
    """The one safe parser: no entity expansion, no external resource, no network.

    DOCTYPE policy (the same in every command, since every command parses through here): an
    external DTD (``SYSTEM``/``PUBLIC``, local path, FIFO or URL) is never opened, not even
    looked at: a resolver answers every request with an empty document, so reading never hangs
    and never fails because of it. An internal subset that declares entities, and any entity
    reference other than the five predefined ones, are refused (``E203``): an entity is never
    expanded, so its text would otherwise be lost silently.

    ``huge_tree`` lifts libxml2's 10 MB text-node and 256-level depth limits, so that whatever
    the toolkit writes it can read back; the entity amplification guard stays on and no entity
    is ever expanded. Duplicate ``xml:id`` s are left to the validators (``collect_ids=False``),
    which report them as problems with both places, instead of failing the parse.
    """
    p = etree.XMLParser(
        collect_ids=False,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=True,
        remove_blank_text=False,
    )
    p.resolvers.add(_NoFetch())
    return p


def parse_bytes(data: bytes, path: str = "<bytes>") -> etree._ElementTree:
    """Parse XML safely; malformed XML and declared or referenced entities raise ``TEIError``."""
    try:
        root = etree.fromstring(data, parser())
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else None
        raise TEIError(
            "E201", f"malformed XML: {exc.msg}; fix the markup there", path, line
        ) from None
    except ValueError as exc:  # e.g. a str with an encoding declaration, or a NUL byte
        raise TEIError("E201", f"malformed XML: {exc}; fix the file", path) from None
    tree = root.getroottree()
    dtd = tree.docinfo.internalDTD
    if dtd is None:  # no DOCTYPE: an entity reference other than the five is malformed XML
        return tree
    if any(True for _ in dtd.iterentities()):
        raise TEIError(
            "E203",
            "the DOCTYPE declares entities, which the toolkit never expands; "
            "replace entity references with characters and remove the DOCTYPE",
            path,
        )
    for entity in root.iter(etree.Entity):  # referenced, to be declared by an unread DTD
        raise TEIError(
            "E203",
            f"the entity reference {entity.text} is not expanded (its DTD is never read); "
            "replace it with the character it stands for",
            path,
            entity.sourceline,
        )
    return tree


def require_tei(tree: etree._ElementTree, path: str) -> etree._Element:
    root = tree.getroot()
    if root.tag != T + "TEI":
        raise TEIError(
            "E202",
            f"the root element is {etree.QName(root).localname!r} in namespace "
            f"{etree.QName(root).namespace or 'none'}; expected TEI in {TEI_NS}",
            path,
        )
    if root.find("tei:text/tei:body", NS) is None:
        raise TEIError("E202", "no text/body element: this is not a TEI document", path)
    return root


def serialize(tree: etree._ElementTree | etree._Element) -> bytes:
    """UTF-8 with an XML declaration; structural elements indented, mixed content untouched."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    _indent(root, 0)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def _indent(el: etree._Element, level: int) -> None:
    if etree.QName(el).localname not in STRUCTURAL or len(el) == 0:
        return
    if (el.text and el.text.strip()) or any(c.tail and c.tail.strip() for c in el):
        return  # mixed content: its white space is text
    pad = "\n" + "  " * (level + 1)
    el.text = pad
    for child in el:
        child.tail = pad
        if isinstance(child.tag, str):
            _indent(child, level + 1)
    el[-1].tail = "\n" + "  " * level


def E(tag: str, *children: etree._Element | str | None, **attrs: str | None) -> etree._Element:
    """Build a TEI element: ``xml_id``/``xml_lang`` become ``xml:id``/``xml:lang``."""
    el = etree.Element(T + tag, nsmap=NSMAP)
    for key, value in attrs.items():
        if value is not None:
            el.set(_attr_name(key.replace("xml_", "xml:").replace("_", "-")), value)
    for child in children:
        if child is None:
            continue
        if isinstance(child, str):
            _append_text(el, child)
        else:
            el.append(child)
    return el


def _attr_name(name: str) -> str:
    if name.startswith("xml:"):
        return f"{{{XML_NS}}}{name[4:]}"
    return name


def attr_key(name: str) -> str:
    """lxml's attribute name as the model writes it (``xml:id`` for the XML namespace)."""
    if name.startswith(f"{{{XML_NS}}}"):
        return "xml:" + name.split("}", 1)[1]
    return name


_attr_key = attr_key


def _append_text(el: etree._Element, text: str, last: etree._Element | None = None) -> None:
    """Append text after ``el``'s last child (``last``, when the caller tracks it: ``len(el)`` is
    linear in lxml, so a loop must not ask for it)."""
    if not text:
        return
    if last is None and len(el):
        last = el[-1]
    if last is not None:
        last.tail = (last.tail or "") + text
    else:
        el.text = (el.text or "") + text


def fragment(el: etree._Element, parent: etree._Element) -> str:
    """``el`` serialized for insertion under ``parent`` of an existing file (indented from
    column 0; the TEI namespace declaration dropped where ``parent`` has it as default)."""
    _indent(el, 0)
    xml = etree.tostring(el, encoding="unicode")
    if parent.prefix is None and parent.nsmap.get(None) == TEI_NS:
        xml = xml.replace(f' xmlns="{TEI_NS}"', "", 1)
    return xml


def documents(root: etree._Element) -> list[etree._Element]:
    """The TEI documents of a file: the root, or each ``TEI`` inside a ``teiCorpus``."""
    if root.tag == T + "teiCorpus":
        return list(root.iter(T + "TEI"))
    return [root]


# --- blocks and spans -------------------------------------------------------------------------


def canonical(spans: Iterable[Span]) -> list[Span]:
    """Spans in nesting order (stable: ties keep their given order)."""
    return sorted(spans, key=lambda s: (s.block, s.start, s.start != s.end, -s.end))


def check_nesting(spans: Sequence[Span]) -> None:
    """Raise ValueError when two spans of a block cross (neither contains the other)."""
    stack: list[Span] = []
    for span in canonical(spans):
        while stack and not _contains(stack[-1], span):
            top = stack.pop()
            if span.block == top.block and top.start < span.start < top.end < span.end:
                raise ValueError(f"spans cross: {top} and {span}")
        if span.start != span.end:
            stack.append(span)


def _contains(outer: Span, inner: Span) -> bool:
    if outer.block != inner.block or outer.start == outer.end:
        return False
    if not (outer.start <= inner.start and inner.end <= outer.end):
        return False
    return not (inner.start == inner.end == outer.end)


def write_block(el: etree._Element, text: str, spans: Sequence[Span]) -> None:
    """Replace ``el``'s content with ``text`` and ``spans`` (offsets into ``text``) nested."""
    for child in list(el):
        el.remove(child)
    el.text = None
    # (element, its span, its last child so far): text goes after the last child
    stack: list[list] = [[el, None, None]]
    pos = 0

    def close() -> None:
        nonlocal pos
        node, open_span, last = stack.pop()
        _add(node, last, text[pos : open_span.end])
        pos = open_span.end

    for span in canonical(spans):
        while stack[-1][1] is not None and not _contains(stack[-1][1], span):
            close()
        if span.start < pos:
            raise ValueError(f"span {span} crosses an element boundary")
        top = stack[-1]
        _add(top[0], top[2], text[pos : span.start])
        pos = span.start
        if span.tag == _COMMENT:
            child: etree._Element = etree.Comment(span.get("text") or "")
            top[0].append(child)
        elif span.tag == FOREIGN:
            child = etree.fromstring(span.get("xml") or "", parser())
            child.tail = None
            top[0].append(child)
        else:
            child = etree.SubElement(top[0], T + span.tag)
            for key, value in span.attrs:
                child.set(_attr_name(key), value)
        top[2] = child
        if span.start != span.end:
            stack.append([child, span, None])
    while len(stack) > 1:
        close()
    _add(el, stack[0][2], text[pos:])


def _add(el: etree._Element, last: etree._Element | None, text: str) -> None:
    """Text after ``last`` (``el``'s last child), or as ``el.text`` when it has none."""
    if not text:
        return
    if last is not None:
        last.tail = (last.tail or "") + text
    else:
        el.text = (el.text or "") + text


def read_block(el: etree._Element, block: int = 0) -> tuple[str, list[Span]]:
    """``el``'s text and its descendants as spans (canonical order)."""
    parts: list[str] = []
    found: list[list] = []
    length = 0

    def walk(node: etree._Element) -> None:
        nonlocal length
        if node.text:
            parts.append(node.text)
            length += len(node.text)
        for child in node:
            if isinstance(child.tag, str) and child.tag.startswith(T):
                attrs = tuple((_attr_key(k), v) for k, v in child.attrib.items())
                record = [block, length, None, child.tag[len(T) :], attrs]
                found.append(record)
                walk(child)
                record[2] = length
            elif isinstance(child, etree._Comment):
                found.append([block, length, length, _COMMENT, (("text", child.text or ""),)])
            elif isinstance(child.tag, str):  # another namespace: kept whole, never tagged
                xml = etree.tostring(child, encoding="unicode", with_tail=False)
                found.append([block, length, length, FOREIGN, (("xml", xml),)])
            if child.tail:
                parts.append(child.tail)
                length += len(child.tail)

    walk(el)
    return "".join(parts), canonical(Span(b, s, e, t, a) for b, s, e, t, a in found)


def iter_blocks(body: etree._Element) -> Iterator[etree._Element]:
    """The top-level text containers of a body, in document order, at any depth (TEI elements
    only; nothing inside a block or inside an element of another namespace)."""
    stack = [iter(body)]
    while stack:
        for el in stack[-1]:
            if not isinstance(el.tag, str) or not el.tag.startswith(T):
                continue
            if el.tag[len(T) :] in BLOCK_TAGS:
                yield el
            else:
                stack.append(iter(el))
            break
        else:
            stack.pop()


# --- Document -> TEI ----------------------------------------------------------------------------


def to_tei(doc: Document) -> etree._Element:
    """The TEI tree of ``doc``."""
    h = doc.header
    root = E("TEI", xml_id=doc.id, xml_lang=h.language)
    root.append(
        E("teiHeader", _file_desc(h), _encoding_desc(h), _profile_desc(h), _revision_desc(h))
    )
    body = E("body")
    for block, spans in zip(doc.blocks, doc.spans_by_block(), strict=True):
        el = etree.SubElement(body, T + block.kind)
        for key, value in block.attrs:
            el.set(_attr_name(key), value)
        write_block(el, block.text, spans)
    root.append(E("text", body))
    return root


def _file_desc(h: Header) -> etree._Element:
    title_stmt = E("titleStmt", E("title", h.title))
    for translator in h.translators:
        title_stmt.append(
            E("respStmt", E("resp", "translation"), E("persName", translator), xml_id=None)
        )
    for r in h.responsibilities:
        name = E("name", r.name, type="software") if r.software else E("persName", r.name)
        title_stmt.append(E("respStmt", E("resp", r.resp), name, xml_id=r.id))
    publication = E(
        "publicationStmt",
        E(
            "p",
            "Working file of a toolkit corpus, generated from a plain-text capture; not published.",
        ),
    )
    source_desc = E("sourceDesc")
    if h.archival is not None and h.archival.repository:
        source_desc.append(_ms_desc(h.archival, h.original_language, h.languages))
    source_desc.append(_bibl(h))
    if h.reprint:
        source_desc.append(E("bibl", h.reprint, type="published"))
    return E("fileDesc", title_stmt, publication, source_desc)


def citation_ms_identifier(c: Citation) -> etree._Element:
    """``msIdentifier`` for a reference: place, repository, typed ``idno`` s in citation order."""
    entry = archive(c.repository)
    ident = E("msIdentifier")
    if c.repository is None:
        pass  # nothing is guessed: the shelfmark stands alone
    elif entry:
        ident.append(E("country", entry.country, key=entry.country_code))
        ident.append(E("settlement", entry.settlement))
        ident.append(E("repository", E("choice", E("expan", entry.name), E("abbr", entry.key))))
    else:
        ident.append(E("repository", E("abbr", c.repository)))
    shelfmark = E("idno", type="shelfmark")
    for level in c.levels:
        shelfmark.append(E("idno", level.value, type=level.unit))
    if len(shelfmark):
        ident.append(shelfmark)
    return ident


def citation_range(r: Range) -> etree._Element:
    """The leaves of an archival item: ``locus from to`` (``type="page"`` for pages)."""
    text = r.start + ("-" + r.end if r.end else "")
    return E("locus", text, type=None if r.unit == "folio" else r.unit, **_from_to(r))


def _from_to(r: Range) -> dict[str, str | None]:
    return {"from": r.start, "to": r.end or r.start}


def citation_to_tei(c: Citation) -> etree._Element:
    """An archival reference as ``msDesc``; a published work (no archive) as ``bibl``."""
    if c.repository is None and not c.levels:
        bibl = E("bibl", c.raw, type="published")
        if c.range is not None:  # the pages are in the verbatim text; the range holds the data
            bibl.append(E("citedRange", unit=c.range.unit, **_from_to(c.range)))
        return bibl
    return _ms_desc(c, None, ())


def _ms_desc(c: Citation, original: str | None, languages: Sequence[Language]) -> etree._Element:
    item = E("msItem")
    if c.range is not None:
        item.append(citation_range(c.range))
    if original:
        name = next((lang.name for lang in languages if lang.ident == original), original)
        item.append(E("textLang", name, mainLang=original))
    item.append(E("bibl", c.raw, type="archival"))  # the reference exactly as cited
    return E("msDesc", citation_ms_identifier(c), E("msContents", item))


def _bibl(h: Header) -> etree._Element:
    bibl = E("bibl", type="source")
    bibl.append(E("title", h.surrogate_title or h.title))
    if h.author:
        bibl.append(E("author", h.author))
    for translator in h.translators:
        bibl.append(E("editor", translator, role="translator"))
    for editor in h.editors:
        bibl.append(E("editor", editor, role="editor"))
    if h.publisher:
        bibl.append(E("publisher", h.publisher))
    if h.date:
        bibl.append(E("date", h.date_text or h.date, when=h.date, type="document"))
    if h.updated:
        bibl.append(E("date", h.updated, when=h.updated, type="updated"))
    if h.series:
        bibl.append(E("series", E("title", h.series, type="breadcrumb")))
    if h.url:
        bibl.append(E("idno", h.url, type="URI"))
    if h.record_id:
        bibl.append(E("idno", h.record_id, type="record"))
    if h.number:
        bibl.append(E("idno", h.number, type="document"))
    if h.citation:
        bibl.append(E("note", h.citation, type="citation"))
    for item in h.contents:
        bibl.append(E("note", item, type="contents"))
    for label, text in h.notes:
        bibl.append(E("note", text, type="section", n=label))
    if h.rights:
        bibl.append(E("availability", E("p", h.rights)))
    s = h.source
    bibl.append(E("idno", s.name, type="filename"))
    bibl.append(E("idno", s.sha256, type="SHA-256"))
    bibl.append(E("note", s.encoding, type="encoding"))
    if s.encoding_evidence:
        bibl.append(E("note", s.encoding_evidence, type="encodingEvidence"))
    bibl.append(E("note", s.format, type="captureFormat", n=s.format_version))
    if s.damage:
        items = [E("item", d.text, n=f"{d.line}:{d.column}") for d in s.damage]
        bibl.append(
            E(
                "note",
                "The capture lost characters before it reached the toolkit (shown as ? or U+FFFD); "
                "they are not restored. Damaged tokens, by source line:column:",
                E("list", *items),
                type="damage",
            )
        )
    return bibl


def _encoding_desc(h: Header) -> etree._Element:
    apps = E("appInfo")
    for app in h.applications:
        apps.append(
            E(
                "application",
                E("label", app.label),
                ident=app.ident,
                version=app.version,
                xml_id=app.ident,
            )
        )
    decl = E("editorialDecl", *(E("p", d) for d in h.decisions or ("No normalization.",)))
    prefix = E(
        "listPrefixDef",
        E(
            "prefixDef",
            E("p", "auth:ID points to the entry ID of the corpus authority file."),
            ident="auth",
            matchPattern="([A-Za-z0-9_.-]+)",
            replacementPattern="../authority.xml#$1",
        ),
    )
    return E("encodingDesc", apps, decl, prefix)


def _profile_desc(h: Header) -> etree._Element:
    profile = E("profileDesc")
    if h.abstract:
        profile.append(E("abstract", E("p", h.abstract)))
    if h.date or h.place:
        creation = E("creation")
        if h.date:
            creation.append(E("date", h.date_text or h.date, when=h.date))
        if h.place:
            creation.append(E("placeName", h.place))
        profile.append(creation)
    if h.languages:
        profile.append(
            E("langUsage", *(E("language", lang.name, ident=lang.ident) for lang in h.languages))
        )
    if h.keywords:
        profile.append(E("textClass", E("keywords", *(E("term", k) for k in h.keywords))))
    return profile


def _revision_desc(h: Header) -> etree._Element:
    return E("revisionDesc", *(E("change", c.text, when=c.when, who=c.who) for c in h.changes))


# --- TEI -> Document ----------------------------------------------------------------------------


def from_tei(root: etree._Element) -> Document:
    """Read a toolkit TEI tree back; the inverse of :func:`to_tei`."""
    body = root.find("tei:text/tei:body", NS)
    blocks: list[Block] = []
    spans: list[Span] = []
    for i, el in enumerate(iter_blocks(body) if body is not None else ()):
        text, block_spans = read_block(el, i)
        attrs = tuple((_attr_key(k), v) for k, v in el.attrib.items())
        blocks.append(Block(etree.QName(el).localname, text, attrs))
        spans.extend(block_spans)
    return Document(
        id=root.get(XML_ID, ""), header=read_header(root), blocks=tuple(blocks), spans=tuple(spans)
    )


def _t(root: etree._Element, path: str) -> str | None:
    el = root.find(path, NS)
    if el is None:
        return None
    return "".join(el.itertext())


def read_header(root: etree._Element) -> Header:
    h = root.find("tei:teiHeader", NS)
    if h is None:
        raise TEIError("E202", "no teiHeader: this is not a TEI document")
    fd = "tei:fileDesc/"
    bibl = h.find(fd + "tei:sourceDesc/tei:bibl[@type='source']", NS)
    b = bibl if bibl is not None else etree.Element(T + "bibl")
    statements = list(h.iterfind(fd + "tei:titleStmt/tei:respStmt", NS))
    translators = tuple(
        "".join(name.itertext())
        for r in statements
        if r.get(XML_ID) is None and r.findtext("tei:resp", namespaces=NS) == "translation"
        for name in _resp_names(r)[:1]
    )
    responsibilities = tuple(
        Responsibility(
            id=r.get(XML_ID),
            resp=r.findtext("tei:resp", default="", namespaces=NS),
            name="".join(names[0].itertext()) if names else "",
            software=bool(names) and etree.QName(names[0]).localname == "name",
        )
        for r in statements
        if r.get(XML_ID) is not None
        for names in [_resp_names(r)]
    )
    damage = tuple(
        _damage(it) for it in b.iterfind("tei:note[@type='damage']/tei:list/tei:item", NS)
    )
    source = SourceFile(
        name=b.findtext("tei:idno[@type='filename']", default="", namespaces=NS),
        sha256=b.findtext("tei:idno[@type='SHA-256']", default="", namespaces=NS),
        encoding=b.findtext("tei:note[@type='encoding']", default="", namespaces=NS),
        encoding_evidence=b.findtext(
            "tei:note[@type='encodingEvidence']", default="", namespaces=NS
        ),
        format=b.findtext("tei:note[@type='captureFormat']", default="", namespaces=NS),
        damage=damage,
        format_version=b.xpath("string(tei:note[@type='captureFormat']/@n)", namespaces=NS) or None,
    )
    doc_date = b.find("tei:date[@type='document']", NS)
    updated = b.find("tei:date[@type='updated']", NS)
    text_lang = h.find(fd + "tei:sourceDesc/tei:msDesc/tei:msContents/tei:msItem/tei:textLang", NS)
    decisions = tuple(
        "".join(p.itertext()) for p in h.iterfind("tei:encodingDesc/tei:editorialDecl/tei:p", NS)
    )
    return Header(
        title=_t(h, fd + "tei:titleStmt/tei:title") or "",
        source=source,
        language=root.get(XML_LANG, "und"),
        languages=tuple(
            Language(el.get("ident", ""), "".join(el.itertext()))
            for el in h.iterfind("tei:profileDesc/tei:langUsage/tei:language", NS)
        ),
        date=doc_date.get("when") if doc_date is not None else None,
        date_text=doc_date.text if doc_date is not None else None,
        surrogate_title=b.findtext("tei:title", namespaces=NS),
        publisher=b.findtext("tei:publisher", namespaces=NS),
        author=b.findtext("tei:author", namespaces=NS),
        updated=updated.get("when") if updated is not None else None,
        url=b.findtext("tei:idno[@type='URI']", namespaces=NS),
        citation=b.findtext("tei:note[@type='citation']", namespaces=NS),
        archival=_read_citation(h.find(fd + "tei:sourceDesc/tei:msDesc", NS)),
        original_language=text_lang.get("mainLang") if text_lang is not None else None,
        translators=translators,
        abstract=_t(h, "tei:profileDesc/tei:abstract/tei:p"),
        series=b.findtext("tei:series/tei:title", namespaces=NS),
        contents=tuple(n.text or "" for n in b.iterfind("tei:note[@type='contents']", NS)),
        editors=tuple(e.text or "" for e in b.iterfind("tei:editor[@role='editor']", NS)),
        place=h.findtext("tei:profileDesc/tei:creation/tei:placeName", namespaces=NS),
        number=b.findtext("tei:idno[@type='document']", namespaces=NS),
        record_id=b.findtext("tei:idno[@type='record']", namespaces=NS),
        reprint=h.findtext(fd + "tei:sourceDesc/tei:bibl[@type='published']", namespaces=NS),
        rights=_t(b, "tei:availability/tei:p"),
        keywords=tuple(
            t.text or ""
            for t in h.iterfind("tei:profileDesc/tei:textClass/tei:keywords/tei:term", NS)
        ),
        notes=tuple(
            (n.get("n", ""), "".join(n.itertext()))
            for n in b.iterfind("tei:note[@type='section']", NS)
        ),
        decisions=() if decisions == ("No normalization.",) else decisions,
        responsibilities=responsibilities,
        applications=tuple(
            Application(a.get("ident", ""), a.get("version", ""), a.findtext("tei:label", "", NS))
            for a in h.iterfind("tei:encodingDesc/tei:appInfo/tei:application", NS)
        ),
        changes=tuple(
            Change(c.get("when", ""), c.get("who", ""), "".join(c.itertext()))
            for c in h.iterfind("tei:revisionDesc/tei:change", NS)
        ),
    )


def _resp_names(resp_stmt: etree._Element) -> list[etree._Element]:
    """The name elements of a ``respStmt`` (``persName``, ``name``, ``orgName``), in order.

    Comments, processing instructions and the ``resp`` element are skipped, so a hand-edited
    header (a comment inside, ``name`` where the toolkit writes ``persName``) reads the same.
    """
    return [
        c
        for c in resp_stmt
        if isinstance(c.tag, str) and etree.QName(c).localname in {"persName", "name", "orgName"}
    ]


_DAMAGE_N = re.compile(r"\s*(\d+)\s*:\s*(\d+)\s*")


def _damage(item: etree._Element) -> Damage:
    """A damage ``item``; an ``@n`` that is not ``LINE:COLUMN`` reads as 0:0 (position unknown)."""
    m = _DAMAGE_N.fullmatch(item.get("n") or "")
    line, column = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return Damage(line, column, "".join(item.itertext()))


def _read_citation(ms: etree._Element | None) -> Citation | None:
    if ms is None:
        return None
    ident = ms.find("tei:msIdentifier", NS)
    repo = ident.findtext("tei:repository//tei:abbr", namespaces=NS) if ident is not None else None
    levels = tuple(
        Level(i.get("type", ""), i.text or "")
        for i in ms.iterfind("tei:msIdentifier/tei:idno[@type='shelfmark']/tei:idno", NS)
    )
    rng = None
    locus = ms.find("tei:msContents/tei:msItem/tei:locus", NS)
    if locus is not None:
        rng = Range(locus.get("type", "folio"), locus.get("from", ""), _range_end(locus))
    raw = _t(ms, "tei:msContents/tei:msItem/tei:bibl[@type='archival']") or ""
    return Citation(raw=raw, repository=repo, levels=levels, range=rng)


def _range_end(el: etree._Element) -> str | None:
    to = el.get("to")
    return None if to == el.get("from") else to


_NCNAME_BAD = re.compile(r"[^A-Za-z0-9_.-]")


def ncname(text: str) -> str:
    """A valid ``xml:id`` made from ``text``."""
    name = _NCNAME_BAD.sub("-", text).strip("-") or "doc"
    return name if re.match(r"[A-Za-z_]", name) else "d-" + name
