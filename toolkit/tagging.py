"""Tag persons, places and organizations in TEI files: entity mentions -> name elements.

Everything an editor wrote survives, byte for byte: the file is scanned once
(:mod:`toolkit.xmlpatch`), each text container of the body is read as text + the elements in it,
new name tags are computed as standoff spans and then written as *edits* of the original text
(tags inserted, machine tags removed or re-pointed, header entries appended). Outside what it
adds or alters, the file stays byte-identical: indentation, attribute order and quoting,
comments, processing instructions, CDATA, character references, declaration and encoding.

Rules:
- ``@ref`` is ``auth:ID`` for an authority entry (the ``auth`` prefix is declared in the header),
  ``#cand-...`` for an unreviewed candidate listed in the document's ``standOff``.
- ``@resp``: ``#toolkit-authority`` (authority matcher), ``#toolkit-ner`` (statistical model),
  ``#toolkit-coref`` (a short name resolved within the document, "Mao" after "Mao Zedong").
- ``xml:id`` of a machine tag: ``n-<key>``, the key derived from its text and occurrence number
  (:mod:`toolkit.decisions`), so ids are stable across runs; a tag that stays keeps its id.
- Tags by people (no ``@resp`` or another ``@resp``) are kept; a machine tag that would overlap
  one is not made. A machine tag that would cross other markup is dropped with a warning.
- Editors' decisions persist (:mod:`toolkit.decisions`): a removed machine tag is never made
  again; a retyped, re-pointed or re-bounded one becomes the editor's (``@resp`` = the editor).
- Elements of other namespaces (MathML, SVG, egXML) inside a block are left untouched and their
  content is not tagged; a ``teiCorpus`` is tagged ``TEI`` by ``TEI``.
- Registers (a TEI whose body holds only entity lists: the authority file, ``index.xml``) and
  ``*.conflicts.xml`` files are skipped: tagging a corpus folder touches documents only.
- A document whose ``revisionDesc/@status`` is ``reviewed`` goes back to ``draft`` when the run
  adds, removes or changes a tag.
- Blocks longer than :data:`MAX_CHARS` go through the model in pieces (cut at a line break or a
  space), offsets mapped back; spaCy's own limit is 1,000,000 characters.
- No ``@cert``: the greedy NER gives no calibrated confidence, and the toolkit does not invent one.
- A run that would change nothing writes nothing (idempotent: byte-identical files).
"""

from __future__ import annotations

import hashlib
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from . import __version__
from . import decisions as dec
from .authority import (
    LIST_OF,
    NAME_OF,
    TYPE_OF_NAME,
    Authority,
    Entry,
    candidate_id,
    entry_element,
)
from .errors import ToolkitError
from .model import Span
from .names import RESP_GAZETTEER, gazetteer_version
from .tei import (
    NS,
    XML_ID,
    E,
    T,
    attr_key,
    check_nesting,
    fragment,
    iter_blocks,
    parse_bytes,
    require_tei,
)
from .xmlpatch import BlockMap, Patch, Scan, block_map, insertion_point, scan, start_tag, verify
from .xmlpatch import Element as ScannedElement

if TYPE_CHECKING:
    from spacy.language import Language

    from .entities import Mention, ModelInfo

RESP_NER = "toolkit-ner"
RESP_AUTHORITY = "toolkit-authority"
RESP_COREF = "toolkit-coref"
MACHINE_RESP = frozenset("#" + r for r in (RESP_NER, RESP_AUTHORITY, RESP_COREF))
NAME_TAGS = frozenset({"persName", "placeName", "orgName", "rs", "name"})
MAX_CHARS = 100_000
_MACHINE_ATTRS = frozenset({"ref", "resp", "xml:id"})
_REGISTER_CHILDREN = frozenset({"listPerson", "listPlace", "listOrg", "head", "listBibl"})


@dataclass
class TagResult:
    """What tagging one file did; ``data`` is the new file, None when nothing changed."""

    path: Path
    data: bytes | None = None
    counts: Counter[str] = field(default_factory=Counter)
    candidates: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: ToolkitError | None = None
    decisions: list[dec.Decision] = field(default_factory=list)
    skipped: str | None = None  # why the file is not a document to tag (a register ...)


@dataclass
class _Existing:
    index: int  # scanner element index
    start: int
    end: int
    tag: str
    attrs: dict[str, str]
    machine: bool


@dataclass
class _Block:
    unit: int
    bm: BlockMap
    spans: list[_Existing]

    @property
    def text(self) -> str:
        return self.bm.text


@dataclass
class _Prepared:
    path: Path
    data: bytes
    root: etree._Element
    scan: Scan
    elements: list[etree._Element]
    units: list[etree._Element]
    blocks: list[_Block]
    positions: dict[etree._Element, int]


@dataclass(frozen=True)
class _New:
    block: int
    start: int
    end: int
    type: str
    ref: str
    resp: str


@dataclass(frozen=True)
class Options:
    """Per-run settings: ``editor`` names who made hand edits; ``reset`` forgets decisions."""

    editor: str = dec.DEFAULT_EDITOR
    reset: bool = False


def tag_files(
    paths: Iterable[Path],
    nlp: Language,
    info: ModelInfo,
    authority: Authority,
    *,
    now: str,
    authority_sha256: str,
    n_process: int = 1,
    batch_size: int = 256,
    editor: str | None = None,
    reset: bool = False,
) -> Iterator[TagResult]:
    """Tag files in order through one ``nlp.pipe`` stream over all their blocks.

    Files are read lazily as the model asks for more text and finished as soon as their last
    block is done, so only the files in flight (about ``batch_size * n_process`` blocks) are
    held in memory, and a process pool (``n_process``) is started once.
    """
    from .entities import find_mentions

    options = Options(editor or dec.DEFAULT_EDITOR, reset)
    pending: deque[list] = deque()  # [prepared or result, mentions per block, pieces left]

    def texts() -> Iterator[tuple[str, tuple[int, int, int]]]:
        for number, path in enumerate(paths):
            item = _prepare(path)
            blocks = item.blocks if isinstance(item, _Prepared) else []
            pieces = [list(_pieces(b.text)) for b in blocks]
            pending.append([item, [[] for _ in blocks], sum(len(p) for p in pieces)])
            for j, block_pieces in enumerate(pieces):
                for offset, text in block_pieces:
                    yield text, (number, j, offset)

    def finish_first() -> TagResult:
        item, mentions, _ = pending.popleft()
        return _finish(item, mentions, authority, info, now, authority_sha256, options)

    first = 0  # the file number of pending[0]
    for mentions, (number, j, offset) in find_mentions(
        nlp, texts(), batch_size=batch_size, n_process=n_process
    ):
        while first < number:  # outputs come in input order: earlier files are complete
            yield finish_first()
            first += 1
        entry = pending[0]
        entry[1][j].extend(_shift(m, offset) for m in mentions)
        entry[2] -= 1
        if entry[2] == 0:
            yield finish_first()
            first += 1
    while pending:
        yield finish_first()


def tag_document(
    data: bytes,
    path: Path,
    nlp: Language,
    info: ModelInfo,
    authority: Authority,
    *,
    now: str,
    authority_sha256: str,
    editor: str | None = None,
    reset: bool = False,
) -> TagResult:
    """Tag one document given as bytes (the per-document stage of the engine)."""
    from .entities import find_mentions

    item = _prepare(path, data)
    if isinstance(item, TagResult):
        return item
    mentions: list[list[Mention]] = [[] for _ in item.blocks]
    stream = (
        (text, (j, offset)) for j, b in enumerate(item.blocks) for offset, text in _pieces(b.text)
    )
    for found, (j, offset) in find_mentions(nlp, stream):
        mentions[j].extend(_shift(m, offset) for m in found)
    options = Options(editor or dec.DEFAULT_EDITOR, reset)
    return _finish(item, mentions, authority, info, now, authority_sha256, options)


def _pieces(text: str, limit: int = MAX_CHARS) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of at most ``limit`` characters, cut at a line break or a space."""
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = max(window.rfind("\n"), window.rfind(". "), window.rfind(" "))
        cut = start + (cut + 1 if cut > limit // 2 else limit)
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


def _shift(m: Mention, offset: int) -> Mention:
    if not offset:
        return m
    from dataclasses import replace

    return replace(m, start=m.start + offset, end=m.end + offset)


def _finish(
    item: _Prepared | TagResult,
    mentions: list[list[Mention]],
    authority: Authority,
    info: ModelInfo,
    now: str,
    sha: str,
    options: Options,
) -> TagResult:
    if isinstance(item, TagResult):
        return item
    try:
        return apply_mentions(
            item, mentions, authority, info, now=now, authority_sha256=sha, options=options
        )
    except ToolkitError as exc:
        exc.path = str(item.path)
        return TagResult(item.path, error=exc)
    except (ValueError, KeyError, IndexError, TypeError, AssertionError) as exc:
        # a markup shape the minimal-diff writer does not handle: the file is left as it is
        err = ToolkitError(
            "E211",
            f"the file could not be tagged without rewriting it ({type(exc).__name__}: {exc}); "
            "it is left unchanged; please report it with the file",
            str(item.path),
        )
        return TagResult(item.path, error=err)


def is_register(root: etree._Element) -> bool:
    """A TEI whose body holds only entity lists (the authority file, an index): not a document."""
    if root.tag != T + "TEI":
        return False
    found = False
    for text in root.iterchildren(T + "text"):
        for body in text.iterchildren(T + "body"):
            # the first body, as find() gives; a document is told at its first paragraph
            for child in body.iterchildren("*"):
                if etree.QName(child).localname not in _REGISTER_CHILDREN:
                    return False
                found = True
            return found
    return False


def _prepare(path: Path, data: bytes | None = None) -> _Prepared | TagResult:
    if path.name.endswith(".conflicts.xml"):
        return TagResult(path, skipped="a conflicts file of a source revision, not a document")
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            err = ToolkitError("E205", f"cannot read the file ({exc.strerror})", str(path))
            return TagResult(path, error=err)
    try:
        tree = parse_bytes(data, str(path))
        root = tree.getroot()
        if root.tag == T + "teiCorpus":
            units = list(root.iter(T + "TEI"))
            if not units:
                raise ToolkitError("E202", "a teiCorpus without TEI documents", str(path))
            for unit in units:
                if unit.find("tei:text/tei:body", NS) is None:
                    raise ToolkitError("E202", "a TEI inside the teiCorpus has no text/body")
        else:
            require_tei(tree, str(path))
            if is_register(root):
                return TagResult(path, skipped="an entity register (authority or index file)")
            units = [root]
        scanned = scan(data)
        verify(scanned, root)
        elements = list(root.iter(etree.Element))
        index = {el: i for i, el in enumerate(elements)}

        def opaque(i: int) -> bool:
            return not elements[i].tag.startswith(T)

        blocks = []
        for u, unit in enumerate(units):
            body = unit.find("tei:text/tei:body", NS)
            for el in iter_blocks(body):
                bm = block_map(scanned, index[el], opaque)
                spans = []
                for i, (start, end) in bm.spans.items():
                    node = elements[i]
                    if opaque(i) or start == end:
                        continue
                    tag = node.tag[len(T) :]
                    attrs = {attr_key(k): v for k, v in node.attrib.items()}
                    resp = attrs.get("resp")
                    machine = (
                        tag in NAME_TAGS and resp is not None and set(resp.split()) <= MACHINE_RESP
                    )
                    spans.append(_Existing(i, start, end, tag, attrs, machine))
                blocks.append(_Block(u, bm, spans))
    except ToolkitError as exc:
        exc.path = str(path)
        return TagResult(path, error=exc)
    return _Prepared(path, data, root, scanned, elements, units, blocks, index)


def apply_mentions(
    prepared: _Prepared,
    mentions: Sequence[Sequence[Mention]],
    authority: Authority,
    info: ModelInfo,
    *,
    now: str,
    authority_sha256: str,
    options: Options = Options(),
) -> TagResult:
    """Turn the mentions of each block into edits of the file; return the new bytes (or None)."""
    result = TagResult(prepared.path)
    patch = Patch(prepared.scan)
    entries = authority.by_id()
    used_ids = {el.get(XML_ID) for el in prepared.elements if el.get(XML_ID)}
    for u, unit in enumerate(prepared.units):
        numbers = [i for i, b in enumerate(prepared.blocks) if b.unit == u]
        blocks = [prepared.blocks[i] for i in numbers]
        unit_mentions = [mentions[i] for i in numbers]
        before = len(patch.edits)
        counts, found = _tag_unit(
            prepared,
            unit,
            blocks,
            unit_mentions,
            entries,
            patch,
            used_ids,
            result,
            options,
            authority,  # names helper
        )
        result.counts.update(counts)
        result.decisions.extend(found)
        if len(patch.edits) > before:
            _update_header(
                prepared,
                unit,
                patch,
                info,
                authority.path,
                authority_sha256,
                gazetteer=counts["gazetteer"] > 0,  # names helper
            )
            _add_change(prepared, unit, patch, now, info, counts, found)
    if not patch:
        return result
    data = patch.apply()
    try:
        parse_bytes(data, str(prepared.path))
    except ToolkitError:  # pragma: no cover - an edit is checked, never trusted
        raise ToolkitError(
            "E211", "the tagged file would not be well-formed; the file is left unchanged"
        ) from None
    result.data = data
    return result


def _tag_unit(
    prepared: _Prepared,
    unit: etree._Element,
    blocks: list[_Block],
    mentions: Sequence[Sequence[Mention]],
    entries: dict[str, Entry],
    patch: Patch,
    used_ids: set[str | None],
    result: TagResult,
    options: Options,
    authority: Authority | None = None,
) -> tuple[Counter[str], list[dec.Decision]]:
    texts = [b.text for b in blocks]
    counts: Counter[str] = Counter()
    bases, total = [], 0
    for text in texts:
        bases.append(total)
        total += len(text) + 2
    occurrences = dec.Occurrences("\n\n".join(texts))

    def key_of(b: int, start: int, end: int) -> str:
        surface = texts[b][start:end]
        return dec.key(surface, occurrences.number(surface, bases[b] + start))

    record = dec.Record() if options.reset else dec.read(unit)
    editor = options.editor
    by_id = {s.attrs.get("xml:id"): (b, s) for b, block in enumerate(blocks) for s in block.spans}
    found: list[dec.Decision] = []
    elements = prepared.scan.elements
    for p in record.proposals:
        hit = by_id.get(p.target)
        if hit is None:
            found.append(dec.Decision("rejected", p.type, p.key, editor, p.text))
            continue
        b, span = hit
        kind = None
        if span.tag != p.type:
            kind = "retyped"
        elif span.attrs.get("ref", "") != p.ref:
            kind = "repointed"
        elif texts[b][span.start : span.end] != p.text:
            kind = "rebounded"
        elif set(span.attrs) - _MACHINE_ATTRS:
            kind = "amended"  # a person added attributes (@cert, @type ...): the tag is theirs
        if not span.machine:  # a person took the tag over (set their own @resp or none)
            who = (span.attrs.get("resp") or "").removeprefix("#").split(" ")[0] or editor
            found.append(dec.Decision(kind or "accepted", p.type, p.key, who, p.text))
        elif kind:
            found.append(dec.Decision(kind, p.type, p.key, editor, p.text))
            span.machine = False
            patch.set_attr(elements[span.index], "resp", "#" + editor)
    known = {(d.kind, d.key) for d in record.decisions}
    found = [d for d in found if (d.kind, d.key) not in known]
    rejected = record.rejected | {d.key for d in found if d.kind == "rejected"}

    kept = [[_span(b, s) for s in block.spans if not s.machine] for b, block in enumerate(blocks)]
    # names helper (issue 11): identity, one type per entity, short forms, gazetteer links are
    # decided in toolkit/names.py; this call site only maps its result onto _New.
    from .names import resolve_document

    authority = authority or Authority(tuple(entries.values()))
    resolution = resolve_document(texts, mentions, authority, markup=kept)
    new = [_New(m.block, m.start, m.end, m.type, m.ref, m.resp) for m in resolution.mentions]
    desired: list[tuple[_New, str, str]] = []  # (mention, ref, key)
    candidates: dict[str, Entry] = {}
    for item in sorted(new, key=lambda n: (n.block, n.start)):
        surface = texts[item.block][item.start : item.end]
        k = key_of(item.block, item.start, item.end)
        if k in rejected:
            counts["rejected"] += 1
            continue
        reason = _conflict(item, kept[item.block])
        if reason:
            if reason != "human":
                result.warnings.append(
                    f"{prepared.path}: block {_block_number(prepared, blocks, item.block)}: "
                    f"{surface!r} not tagged: {reason}"
                )
                counts["dropped"] += 1
            continue
        ref = item.ref
        if ref.startswith("#") and ref[1:] in resolution.entries:  # names helper
            candidates.setdefault(ref[1:], resolution.entries[ref[1:]])
        if not ref:
            cid = candidate_id(item.type, surface)
            candidates.setdefault(cid, Entry(cid, item.type, surface, reviewed=False))
            ref = "#" + cid
        desired.append((item, ref, k))
        counts[NAME_OF[item.type]] += 1

    # candidates a person's tag still points to stay listed (a retyped machine tag keeps its ref)
    for b, block in enumerate(blocks):
        for s in block.spans:
            ref = s.attrs.get("ref", "")
            if not s.machine and ref.startswith("#cand-") and s.tag in TYPE_OF_NAME:
                cid = ref[1:]
                surface = texts[b][s.start : s.end]
                candidates.setdefault(cid, Entry(cid, TYPE_OF_NAME[s.tag], surface, reviewed=False))
    machine = {
        (b, s.start, s.end): s for b, block in enumerate(blocks) for s in block.spans if s.machine
    }
    proposals: list[dec.Proposal] = []
    inserts: list[tuple[int, _New, str, str]] = []
    changed = 0
    for item, ref, k in desired:
        tag = NAME_OF[item.type]
        resp = "#" + item.resp
        old = machine.pop((item.block, item.start, item.end), None)
        if old is not None:
            el = elements[old.index]
            ident = old.attrs.get("xml:id")
            if old.tag != tag:
                patch.rename(el, _qname(prepared, old.index, tag))
            if old.attrs.get("ref") != ref:
                patch.set_attr(el, "ref", ref)
            if old.attrs.get("resp") != resp:
                patch.set_attr(el, "resp", resp)
            if ident is None:
                ident = _new_id(k, used_ids)
                patch.set_attr(el, "xml:id", ident)
            changed += (old.tag, old.attrs.get("ref"), old.attrs.get("resp")) != (tag, ref, resp)
        else:
            ident = _new_id(k, used_ids)
            inserts.append((item.block, item, ref, ident))
            changed += 1
        surface = texts[item.block][item.start : item.end]
        proposals.append(dec.Proposal(ident, tag, ref, resp, k, surface))
    removed = {s.index for s in machine.values()}
    for s in machine.values():
        patch.unwrap(elements[s.index])
        changed += 1
    for b, item, ref, ident in inserts:
        _insert(prepared, blocks[b], item, ref, ident, removed, patch)
    counts["changed"] += changed
    merged = {**{e.id: e for e in result.candidates}, **candidates}
    result.candidates = sorted(merged.values(), key=lambda e: e.id)
    counts["candidates"] += len(candidates)
    counts["gazetteer"] += sum(e.resp == "#" + RESP_GAZETTEER for e in candidates.values())
    _write_standoff(prepared, unit, candidates.values(), proposals, found, record, options, patch)
    if changed:
        _set_draft(prepared, unit, patch)
    if found and not any(el.get(XML_ID) == editor for el in prepared.elements):
        title_stmt = unit.find("tei:teiHeader/tei:fileDesc/tei:titleStmt", NS)
        if title_stmt is not None:
            resp = fragment(dec.editor_resp(editor), title_stmt)
            patch.append_child(_el(prepared, title_stmt), resp)
    return counts, found


def _block_number(prepared: _Prepared, blocks: list[_Block], b: int) -> int:
    return prepared.blocks.index(blocks[b]) + 1


def _span(b: int, s: _Existing) -> Span:
    return Span(b, s.start, s.end, s.tag, tuple(s.attrs.items()))


def _new_id(k: str, used: set[str | None]) -> str:
    ident = f"n-{k}"
    n = 1
    while ident in used:
        n += 1
        ident = f"n-{k}-{n}"
    used.add(ident)
    return ident


def _el(prepared: _Prepared, node: etree._Element) -> ScannedElement:
    """The scanner record of an lxml element."""
    return prepared.scan.elements[prepared.positions[node]]


def _qname(prepared: _Prepared, index: int, local: str) -> str:
    prefix = prepared.elements[index].prefix
    return f"{prefix}:{local}" if prefix else local


def _insert(
    prepared: _Prepared,
    block: _Block,
    item: _New,
    ref: str,
    ident: str,
    removed: set[int],
    patch: Patch,
) -> None:
    qname = _qname(prepared, block.bm.element, NAME_OF[item.type])
    attrs = (("ref", ref), ("resp", "#" + item.resp), ("xml:id", ident))
    bm, start, end = block.bm, item.start, item.end
    open_at, open_cdata = insertion_point(bm, start, start, end, True, removed)
    close_at, close_cdata = insertion_point(bm, end, start, end, False, removed)
    opening = start_tag(qname, attrs)
    closing = f"</{qname}>"
    if open_cdata:
        opening = "]]>" + opening + "<![CDATA["
    if close_cdata:
        closing = "]]>" + closing + "<![CDATA["
    patch.insert(open_at, opening, order=1)
    patch.insert(close_at, closing, order=0)


def _write_standoff(
    prepared: _Prepared,
    unit: etree._Element,
    candidates: Iterable[Entry],
    proposals: list[dec.Proposal],
    found: list[dec.Decision],
    record: dec.Record,
    options: Options,
    patch: Patch,
) -> None:
    """Candidate lists, the proposals and the decisions in the unit's ``standOff``."""
    stand_offs = unit.findall("tei:standOff", NS)
    remove: list[etree._Element] = []
    replace: list[tuple[etree._Element, etree._Element]] = []
    add: list[etree._Element] = []

    def sync(old: etree._Element | None, new: etree._Element | None) -> None:
        if old is None and new is not None:
            add.append(new)
        elif old is not None and new is None:
            remove.append(old)
        elif old is not None and new is not None and not _same(old, new):
            replace.append((old, new))

    by_type: dict[str, list[Entry]] = {}
    for entry in sorted(candidates, key=lambda e: e.id):
        by_type.setdefault(entry.type, []).append(entry)
    for kind in ("person", "place", "org"):
        old = next(
            (
                lst
                for so in stand_offs
                for lst in so.findall(f"tei:{LIST_OF[kind]}[@type='candidates']", NS)
                if lst.get("resp") == "#" + RESP_NER
            ),
            None,
        )
        new = None
        if kind in by_type:
            new = E(
                LIST_OF[kind],
                E("head", "Unreviewed candidates proposed by the statistical model"),
                type="candidates",
                resp="#" + RESP_NER,
            )
            new.extend(entry_element(e) for e in by_type[kind])
        sync(old, new)
    groups = {
        kind: next(
            (g for so in stand_offs for g in so.findall(f"tei:spanGrp[@type='{kind}']", NS)), None
        )
        for kind in (dec.PROPOSALS, dec.DECISIONS)
    }
    sync(
        groups[dec.PROPOSALS],
        dec.group(dec.PROPOSALS, map(dec.proposal_element, proposals)) if proposals else None,
    )
    decisions_group = groups[dec.DECISIONS]
    if options.reset and decisions_group is not None:
        remove.append(decisions_group)
        decisions_group = None
    if found and decisions_group is not None:
        for d in found:
            patch.append_child(
                _el(prepared, decisions_group),
                fragment(dec.decision_element(d), decisions_group),
            )
    elif found:
        add.append(dec.group(dec.DECISIONS, map(dec.decision_element, found)))
    if not (remove or replace or add):
        return
    if not stand_offs:
        text = unit.find("tei:text", NS)
        patch.insert_after(_el(prepared, text), fragment(E("standOff", *add), text))
        return
    target = stand_offs[0]
    children = [c for c in target if isinstance(c.tag, str)]
    if all(c in remove for c in children) and not add and not replace and not found:
        patch.remove(_el(prepared, target))
        remove = [r for r in remove if r.getparent() is not target]
    for el in remove:
        patch.remove(_el(prepared, el))
    for old, new in replace:
        patch.replace_element(_el(prepared, old), fragment(new, old.getparent()))
    for new in add:
        patch.append_child(_el(prepared, target), fragment(new, target))


def _set_draft(prepared: _Prepared, unit: etree._Element, patch: Patch) -> None:
    """A reviewed document whose tags changed is a draft again (the reviewed marker)."""
    revision = unit.find("tei:teiHeader/tei:revisionDesc", NS)
    if revision is not None and revision.get("status") == "reviewed":
        patch.set_attr(_el(prepared, revision), "status", "draft")


def _conflict(item: _New, kept: Sequence[Span]) -> str | None:
    """Why a new tag cannot go in: ``human`` (overlaps a person's name tag) or a crossing."""
    overlapping = [s for s in kept if s.start < item.end and item.start < s.end]
    if not overlapping:
        return None
    if any(span.tag in NAME_TAGS for span in overlapping):
        return "human"
    probe = Span(item.block, item.start, item.end, "x")
    try:
        check_nesting([*kept, probe])
    except ValueError:
        crossing = next(
            s.tag
            for s in kept
            if s.start < item.end and item.start < s.end and not _nests(s, probe)
        )
        return f"it would cross the <{crossing}> element there"
    return None


def _nests(a: Span, b: Span) -> bool:
    return (a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)


def _update_header(
    prepared: _Prepared,
    unit: etree._Element,
    patch: Patch,
    info: ModelInfo,
    authority_path: str,
    sha: str,
    gazetteer: bool = False,
) -> None:
    """Declare the tagging software: ``respStmt`` s and ``appInfo`` entries, added or updated."""
    header = unit.find("tei:teiHeader", NS)
    title_stmt = header.find("tei:fileDesc/tei:titleStmt", NS)
    statements = {
        RESP_NER: (
            "named-entity recognition (statistical model)",
            f"spaCy {info.spacy_version}, pipeline {info.name} {info.version} (tok2vec, ner)"
            + _trained(info),  # issue 12: a model written by `toolkit train`
        ),
        RESP_AUTHORITY: (
            "name matching and identification against the authority file",
            f"toolkit {__version__} authority matcher, {Path(authority_path).name} (SHA-256 {sha})",
        ),
        RESP_COREF: (
            # names helper: the rules of toolkit/names.py that tag without the model
            "resolution of names within the document (short forms, repeated forms, names "
            "after a person's title, gazetteer places after a preposition)",
            f"toolkit {__version__} document rules (toolkit.names)",
        ),
    }
    if gazetteer:  # names helper: a standOff entry links a place to the gazetteer
        statements[RESP_GAZETTEER] = ("place identification", gazetteer_version(authority_path))
    if title_stmt is not None:
        for ident, (resp, name) in statements.items():
            old = next(
                (r for r in title_stmt.iterfind("tei:respStmt", NS) if r.get(XML_ID) == ident),
                None,
            )
            new = E("respStmt", E("resp", resp), E("name", name, type="software"), xml_id=ident)
            if old is None:
                patch.append_child(_el(prepared, title_stmt), fragment(new, title_stmt))
            elif not _same(old, new):
                patch.replace_element(_el(prepared, old), fragment(new, title_stmt))
    model_label = f"spaCy pipeline {info.package}"
    if _trained(info):  # issue 12: a trained model is named by what it is, not by its path
        model_label = f"spaCy pipeline {info.name}{_trained(info)}"
    apps = [
        E("application", E("label", label), ident=ident, version=version)
        for ident, version, label in (
            ("spaCy", info.spacy_version, "spaCy natural language processing library"),
            (info.name, info.version, model_label),
        )
    ]
    app_info = header.find("tei:encodingDesc/tei:appInfo", NS)
    if app_info is None:
        encoding_desc = header.find("tei:encodingDesc", NS)
        if encoding_desc is not None:
            patch.append_child(
                _el(prepared, encoding_desc), fragment(E("appInfo", *apps), encoding_desc)
            )
            return
        file_desc = header.find("tei:fileDesc", NS)
        new = E("encodingDesc", E("appInfo", *apps))
        patch.insert_after(_el(prepared, file_desc), fragment(new, header))
        return
    for new in apps:
        old = app_info.find(f"tei:application[@ident='{new.get('ident')}']", NS)
        if old is None:
            patch.append_child(_el(prepared, app_info), fragment(new, app_info))
        elif not _same(old, new):
            patch.replace_element(_el(prepared, old), fragment(new, app_info))


def _trained(info: ModelInfo) -> str:
    """Issue 12: what a model written by `toolkit train` was trained on, for the header."""
    sha = getattr(info, "training_sha256", None)
    return f", fine-tuned by toolkit train on training data SHA-256 {sha}" if sha else ""


def _signature(el: etree._Element) -> list[tuple[object, ...]]:
    """An element's content with indentation (white-space-only text) ignored."""
    return [
        (e.tag, sorted(e.attrib.items()), (e.text or "").strip(), (e.tail or "").strip())
        for e in el.iter()
    ]


def _same(a: etree._Element, b: etree._Element) -> bool:
    return _signature(a)[1:] == _signature(b)[1:] and a.tag == b.tag and a.attrib == b.attrib


def _add_change(
    prepared: _Prepared,
    unit: etree._Element,
    patch: Patch,
    now: str,
    info: ModelInfo,
    counts: Counter[str],
    decisions: Sequence[dec.Decision],
) -> None:
    header = unit.find("tei:teiHeader", NS)
    names = sum(counts[t] for t in ("persName", "placeName", "orgName"))
    text = (
        f"Tagged {names} names (persName {counts['persName']}, placeName {counts['placeName']}, "
        f"orgName {counts['orgName']}; {counts['candidates']} unreviewed candidates"
        + (
            f"; {counts['dropped']} dropped where they would cross markup"
            if counts["dropped"]
            else ""
        )
        + (f"; {counts['rejected']} not made again (rejected)" if counts["rejected"] else "")
        + f") with spaCy {info.spacy_version} ({info.name} {info.version}) and the authority file."
    )
    if decisions:
        kinds = Counter(d.kind for d in decisions)
        text += (
            " Recorded editorial decisions: "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
            + "."
        )
    change = E(
        "change", text, when=now, who=f"#toolkit #{RESP_NER} #{RESP_AUTHORITY} #{RESP_COREF}"
    )
    revision = header.find("tei:revisionDesc", NS)
    if revision is None:
        patch.append_child(_el(prepared, header), fragment(E("revisionDesc", change), header))
    else:
        patch.append_child(_el(prepared, revision), fragment(change, revision))


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
