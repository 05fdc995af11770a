"""Tag persons, places and organizations in TEI files: entity mentions -> name elements.

Works on the parsed tree so that everything an editor wrote survives: each text container of the
body is read as text + spans, the toolkit's own earlier tags are set aside, new name spans are
added where they nest with the existing markup, and the container is written back. Header
additions (``respStmt`` per component, ``appInfo`` entries, one ``change`` per run) go into the
existing header.

Rules:
- ``@ref`` is ``auth:ID`` for an authority entry (the ``auth`` prefix is declared in the header),
  ``#cand-...`` for an unreviewed candidate listed in the document's ``standOff``.
- ``@resp``: ``#toolkit-authority`` (authority matcher), ``#toolkit-ner`` (statistical model),
  ``#toolkit-coref`` (a short name resolved within the document, "Mao" after "Mao Zedong").
- Tags by people (no ``@resp`` or another ``@resp``) are kept; a machine tag that would overlap
  one is not made. A machine tag that would cross other markup is dropped with a warning.
- No ``@cert``: the greedy NER gives no calibrated confidence, and the toolkit does not invent one.
- A run that would change nothing writes nothing (idempotent: byte-identical files).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from . import __version__
from .authority import LIST_OF, NAME_OF, Authority, Entry, candidate_id, entry_element
from .errors import ToolkitError
from .model import Span
from .tei import (
    NS,
    XML_ID,
    E,
    check_nesting,
    iter_blocks,
    parse_bytes,
    read_block,
    require_tei,
    serialize,
    write_block,
)

if TYPE_CHECKING:
    from spacy.language import Language

    from .entities import Mention, ModelInfo

RESP_NER = "toolkit-ner"
RESP_AUTHORITY = "toolkit-authority"
RESP_COREF = "toolkit-coref"
MACHINE_RESP = frozenset("#" + r for r in (RESP_NER, RESP_AUTHORITY, RESP_COREF))
NAME_TAGS = frozenset({"persName", "placeName", "orgName", "rs", "name"})
SOURCE_RESP = {"authority": RESP_AUTHORITY, "ner": RESP_NER, "coref": RESP_COREF}


@dataclass
class TagResult:
    """What tagging one file did; ``data`` is the new file, None when nothing changed."""

    path: Path
    data: bytes | None = None
    counts: Counter[str] = field(default_factory=Counter)
    candidates: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: ToolkitError | None = None


@dataclass
class _Prepared:
    path: Path
    tree: etree._ElementTree
    blocks: list[tuple[etree._Element, str, list[Span]]]
    before: list[tuple[object, ...]]


@dataclass(frozen=True)
class _New:
    block: int
    start: int
    end: int
    type: str
    ref: str
    resp: str


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
) -> Iterator[TagResult]:
    """Tag files in order through one ``nlp.pipe`` stream over all their blocks.

    Files are read lazily as the model asks for more text and written back as soon as their
    last block is done, so only the files in flight (about ``batch_size * n_process`` blocks)
    are held in memory, and a process pool (``n_process``) is started once.
    """
    from .entities import find_mentions

    pending: deque[list] = deque()  # [prepared or error result, mentions per block, blocks left]

    def texts() -> Iterator[tuple[str, tuple[int, int]]]:
        for number, path in enumerate(paths):
            item = _prepare(path)
            blocks = item.blocks if isinstance(item, _Prepared) else []
            pending.append([item, [[] for _ in blocks], len(blocks)])
            for j, (_, text, _) in enumerate(blocks):
                yield text, (number, j)

    def finish_first() -> TagResult:
        item, mentions, _ = pending.popleft()
        return _finish(item, mentions, authority, info, now, authority_sha256)

    first = 0  # the file number of pending[0]
    for mentions, (number, j) in find_mentions(
        nlp, texts(), batch_size=batch_size, n_process=n_process
    ):
        while first < number:  # outputs come in input order: earlier files are complete
            yield finish_first()
            first += 1
        entry = pending[0]
        entry[1][j] = mentions
        entry[2] -= 1
        if entry[2] == 0:
            yield finish_first()
            first += 1
    while pending:
        yield finish_first()


def _finish(
    item: _Prepared | TagResult,
    mentions: list[list[Mention]],
    authority: Authority,
    info: ModelInfo,
    now: str,
    sha: str,
) -> TagResult:
    if isinstance(item, TagResult):
        return item
    try:
        return apply_mentions(item, mentions, authority, info, now=now, authority_sha256=sha)
    except ToolkitError as exc:
        exc.path = str(item.path)
        return TagResult(item.path, error=exc)


def _prepare(path: Path) -> _Prepared | TagResult:
    try:
        data = path.read_bytes()
    except OSError as exc:
        err = ToolkitError("E205", f"cannot read the file ({exc.strerror})", str(path))
        return TagResult(path, error=err)
    try:
        tree = parse_bytes(data, str(path))
        require_tei(tree, str(path))
        body = tree.getroot().find("tei:text/tei:body", NS)
        blocks = []
        for i, el in enumerate(iter_blocks(body)):
            text, spans = read_block(el, i)
            blocks.append((el, text, spans))
    except ToolkitError as exc:
        exc.path = str(path)
        return TagResult(path, error=exc)
    return _Prepared(path, tree, blocks, _content(tree.getroot()))


def _content(root: etree._Element) -> list[tuple[object, ...]]:
    """Text and standOff, indentation aside: what tagging may change besides the header."""
    parts = [root.find("tei:text", NS), *root.findall("tei:standOff", NS)]
    return [row for p in parts if p is not None for row in _signature(p)]


def _is_machine(span: Span) -> bool:
    resp = span.get("resp")
    return span.tag in NAME_TAGS and resp is not None and set(resp.split()) <= MACHINE_RESP


def apply_mentions(
    prepared: _Prepared,
    mentions: Sequence[Sequence[Mention]],
    authority: Authority,
    info: ModelInfo,
    *,
    now: str,
    authority_sha256: str,
) -> TagResult:
    """Write the mentions of each block into the tree; return the new bytes (or None)."""
    result = TagResult(prepared.path)
    root = prepared.tree.getroot()
    kept = [[s for s in spans if not _is_machine(s)] for _, _, spans in prepared.blocks]
    texts = [text for _, text, _ in prepared.blocks]
    entries = authority.by_id()
    new = _resolve(texts, mentions, entries)
    new += _short_forms(texts, new, entries)
    candidates: dict[str, Entry] = {}
    used_ids = {v for el in root.iter() for k, v in el.attrib.items() if k == XML_ID}
    # Ids of the toolkit's earlier tags are free again: the same run numbers them the same way.
    used_ids -= {
        s.get("xml:id") for _, _, spans in prepared.blocks for s in spans if _is_machine(s)
    }
    counter = 0
    per_block: list[list[Span]] = [list(k) for k in kept]
    for item in sorted(new, key=lambda n: (n.block, n.start)):
        surface = texts[item.block][item.start : item.end]
        reason = _conflict(item, kept[item.block])
        if reason:
            if reason != "human":
                result.warnings.append(
                    f"{prepared.path}: block {item.block + 1}: {surface!r} not tagged: {reason}"
                )
                result.counts["dropped"] += 1
            continue
        ref = item.ref
        if not ref:
            cid = candidate_id(item.type, surface)
            candidates.setdefault(cid, Entry(cid, item.type, surface, reviewed=False))
            ref = "#" + cid
        counter += 1
        while f"n{counter}" in used_ids:
            counter += 1
        attrs = (("ref", ref), ("resp", "#" + item.resp), ("xml:id", f"n{counter}"))
        per_block[item.block].append(
            Span(item.block, item.start, item.end, NAME_OF[item.type], attrs)
        )
        result.counts[NAME_OF[item.type]] += 1
    for (el, text, _), spans in zip(prepared.blocks, per_block, strict=True):
        write_block(el, text, spans)
    _write_candidates(root, candidates.values())
    result.candidates = sorted(candidates.values(), key=lambda e: e.id)
    result.counts["candidates"] = len(candidates)
    header_changed = _update_header(root, info, authority.path, authority_sha256)
    if _content(root) == prepared.before and not header_changed:
        return result
    _add_change(root, now, info, result.counts)
    result.data = serialize(prepared.tree)
    return result


def _resolve(
    texts: Sequence[str], mentions: Sequence[Sequence[Mention]], entries: dict[str, Entry]
) -> list[_New]:
    out = []
    for b, block in enumerate(mentions):
        for m in block:
            entry = entries.get(m.entry) if m.entry else None
            kind = entry.type if entry else m.type
            ref = f"auth:{entry.id}" if entry else ""
            out.append(_New(b, m.start, m.end, kind, ref, SOURCE_RESP[m.source]))
    return out


_WORD = re.compile(r"[A-Z][\w'’-]{2,}")


def _short_forms(texts: Sequence[str], new: list[_New], entries: dict[str, Entry]) -> list[_New]:
    """Resolve short names within a document: "Mao" after "Mao Zedong", "Congress" after
    "National Congress". A word shared by two entities of the document is never a short form.
    Unresolved model mentions that equal a short form are resolved in ``new`` (in place); for
    persons, further occurrences of the short form are returned as new mentions."""
    owners: dict[str, set[str]] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    for n in sorted(new, key=lambda n: (n.block, n.start)):
        if not n.ref:
            continue
        entry_id = n.ref[5:]
        entry = entries[entry_id]
        for name in (texts[n.block][n.start : n.end], entry.main):
            words = _WORD.findall(name)
            if len(words) < 2:
                continue
            for word in words:
                owners.setdefault(word, set()).add(entry_id)
                first_seen.setdefault(word, (n.block, n.end))
    short = {w: next(iter(ids)) for w, ids in owners.items() if len(ids) == 1}
    resolved: list[_New] = []
    taken: dict[int, list[tuple[int, int]]] = {}
    for n in new:
        taken.setdefault(n.block, []).append((n.start, n.end))
    for i, n in enumerate(new):
        surface = texts[n.block][n.start : n.end]
        if n.ref or surface not in short or (n.block, n.start) < first_seen[surface]:
            continue
        entry = entries[short[surface]]
        new[i] = _New(n.block, n.start, n.end, entry.type, f"auth:{entry.id}", RESP_COREF)
    person_short = {w: e for w, e in short.items() if entries[e].type == "person"}
    if not person_short:
        return resolved
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, person_short)) + r")\b")
    for b, text in enumerate(texts):
        for m in pattern.finditer(text):
            word = m.group(1)
            if (b, m.start()) < first_seen[word]:
                continue
            if any(s < m.end() and m.start() < e for s, e in taken.get(b, [])):
                continue
            entry = entries[person_short[word]]
            resolved.append(_New(b, m.start(), m.end(), "person", f"auth:{entry.id}", RESP_COREF))
            taken.setdefault(b, []).append((m.start(), m.end()))
    return resolved


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


def _write_candidates(root: etree._Element, candidates: Iterable[Entry]) -> None:
    for old in root.findall("tei:standOff", NS):
        for lst in old.findall("*[@type='candidates']"):
            if lst.get("resp") == "#" + RESP_NER:
                old.remove(lst)
        if not len(old):
            root.remove(old)
    by_type: dict[str, list[Entry]] = {}
    for entry in sorted(candidates, key=lambda e: e.id):
        by_type.setdefault(entry.type, []).append(entry)
    if not by_type:
        return
    stand_off = root.find("tei:standOff", NS)
    if stand_off is None:
        stand_off = E("standOff")
        root.append(stand_off)
    for kind in ("person", "place", "org"):
        if kind in by_type:
            lst = E(
                LIST_OF[kind],
                E("head", "Unreviewed candidates proposed by the statistical model"),
                type="candidates",
                resp="#" + RESP_NER,
            )
            lst.extend(entry_element(e) for e in by_type[kind])
            stand_off.append(lst)


def _update_header(root: etree._Element, info: ModelInfo, authority_path: str, sha: str) -> bool:
    """Declare the tagging software; True when anything had to change."""
    header = root.find("tei:teiHeader", NS)
    title_stmt = header.find("tei:fileDesc/tei:titleStmt", NS)
    before = _signature(header)
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
            "resolution of short names within the document",
            f"toolkit {__version__} short-name rule",
        ),
    }
    for ident, (resp, name) in statements.items():
        old = next(
            (r for r in title_stmt.iterfind("tei:respStmt", NS) if r.get(XML_ID) == ident), None
        )
        new = E("respStmt", E("resp", resp), E("name", name, type="software"), xml_id=ident)
        if old is not None:
            if not _same(old, new):
                old.getparent().replace(old, new)
        else:
            title_stmt.append(new)
    app_info = header.find("tei:encodingDesc/tei:appInfo", NS)
    if app_info is None:
        encoding_desc = header.find("tei:encodingDesc", NS)
        if encoding_desc is None:
            encoding_desc = E("encodingDesc")
            header.find("tei:fileDesc", NS).addnext(encoding_desc)
        app_info = E("appInfo")
        encoding_desc.insert(0, app_info)
    model_label = f"spaCy pipeline {info.package}"
    if _trained(info):  # issue 12: a trained model is named by what it is, not by its path
        model_label = f"spaCy pipeline {info.name}{_trained(info)}"
    for ident, version, label in (
        ("spaCy", info.spacy_version, "spaCy natural language processing library"),
        (info.name, info.version, model_label),
    ):
        old = app_info.find(f"tei:application[@ident='{ident}']", NS)
        new = E("application", E("label", label), ident=ident, version=version)
        if old is not None:
            if not _same(old, new):
                old.getparent().replace(old, new)
        else:
            app_info.append(new)
    return _signature(header) != before


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


def _add_change(root: etree._Element, now: str, info: ModelInfo, counts: Counter[str]) -> None:
    header = root.find("tei:teiHeader", NS)
    revision = header.find("tei:revisionDesc", NS)
    if revision is None:
        revision = E("revisionDesc")
        header.append(revision)
    names = sum(counts[t] for t in ("persName", "placeName", "orgName"))
    text = (
        f"Tagged {names} names (persName {counts['persName']}, placeName {counts['placeName']}, "
        f"orgName {counts['orgName']}; {counts['candidates']} unreviewed candidates"
        + (
            f"; {counts['dropped']} dropped where they would cross markup"
            if counts["dropped"]
            else ""
        )
        + f") with spaCy {info.spacy_version} ({info.name} {info.version}) and the authority file."
    )
    revision.append(
        E("change", text, when=now, who=f"#toolkit #{RESP_NER} #{RESP_AUTHORITY} #{RESP_COREF}")
    )


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
