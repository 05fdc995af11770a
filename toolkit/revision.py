"""Source revisions: a corrected capture gets a new conversion that keeps every annotation.

When a source changes (its SHA-256 differs from the one recorded in its TEI), the new conversion
receives every annotation of the old TEI: human and machine name tags, other elements an editor
added (``hi``, ``date``, ``rs`` ...), hand-edited attributes (also on the converter's own
elements and on the blocks), comments, elements of other namespaces and hand-written ``note`` s
(whose text is not in the source and travels with the note), and the ``standOff`` (candidates,
the tagger's proposals and the editors' decisions, re-keyed to the new text). The converter's
own markup (``supplied``, ``pb``, ``signed``, and any element the new conversion makes) follows
the new conversion; attributes an editor added to one are kept where the new conversion makes
the same element, and listed as a conflict where it does not.

Re-anchoring: the old and new block texts are compared (blocks first, then characters within
the blocks that differ, :class:`difflib.SequenceMatcher`), and every annotation's offsets map
through the result. An annotation whose text is unchanged moves as it is; one whose text
changed a little (a corrected typo: similarity at least :data:`SIMILAR`) takes the new text; one
whose text was deleted, changed beyond recognition, now spans two blocks or would cross the
new markup is a *conflict*: listed (file, text, reason) and kept in ``X.conflicts.xml`` next to
the document (each item holds the old element as it was). The previous TEI is kept as
``X.xml.bak-<first 8 hex of its SHA-256>`` until the user removes it, and the header records the
revision (a ``change`` naming the old and the new source SHA-256).

The header is the new conversion's (the source's metadata may have changed), with the old
document's ``respStmt`` s, ``appInfo`` entries and ``change`` s kept before the new ones. Text
an editor typed into the TEI outside any element is not an annotation and follows the source.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from pathlib import Path

from lxml import etree

from . import decisions as dec
from .errors import ToolkitError
from .files import atomic_write
from .model import Change, Document, Span
from .tei import (
    NS,
    XML_ID,
    E,
    T,
    check_nesting,
    from_tei,
    parse_bytes,
    require_tei,
    serialize,
    to_tei,
)

SIMILAR = 0.75
EXAMPLES = "http://www.tei-c.org/ns/Examples"
# Markup the converter makes: it follows the new conversion (with hand-added attributes kept
# where the new conversion makes the same element, a conflict where it does not).
CONVERTER_TAGS = frozenset({"supplied", "pb", "signed"})
_PAYLOAD = frozenset({"note"})  # elements whose text an editor wrote (not in the source)


@dataclass(frozen=True)
class Conflict:
    """An annotation that could not be carried over a source revision."""

    file: str
    text: str
    reason: str
    xml: str

    def __str__(self) -> str:
        return f"{self.file}: [E213] {self.text!r} not carried over: {self.reason}"


@dataclass
class _Carried:
    block: int
    start: int
    end: int
    span: Span
    order: int


class _Diff:
    """Offsets of the old body text -> offsets of the new one (both blocks joined by \\n\\n)."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        self.old_starts = _starts(old)
        self.new_starts = _starts(new)
        self.new_text = "\n\n".join(new)
        ops: list[tuple[str, int, int, int, int]] = []
        blocks = SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, j1, j2 in blocks.get_opcodes():
            a0, a1 = self._range(self.old_starts, old, i1, i2)
            b0, b1 = self._range(self.new_starts, new, j1, j2)
            if tag == "equal":
                ops.append(("equal", a0, a1, b0, b1))
            elif tag in ("delete", "insert"):
                ops.append((tag, a0, a1, b0, b1))
            else:
                a, b = "\n\n".join(old[i1:i2]), "\n\n".join(new[j1:j2])
                chars = SequenceMatcher(None, a, b, autojunk=False)
                for t, x1, x2, y1, y2 in chars.get_opcodes():
                    ops.append((t, a0 + x1, a0 + x2, b0 + y1, b0 + y2))
        self.ops = ops
        self.op_starts = [op[1] for op in ops]

    @staticmethod
    def _range(starts: list[int], texts: list[str], i1: int, i2: int) -> tuple[int, int]:
        begin = starts[i1] if i1 < len(texts) else (starts[-1] + len(texts[-1]) + 2 if texts else 0)
        end = starts[i2 - 1] + len(texts[i2 - 1]) if i2 > i1 else begin
        return begin, end

    def map(self, p: int, side: str) -> tuple[int, bool]:
        """The new offset of old offset ``p`` and whether it is exact. Inside a changed stretch,
        ``side`` says which edge to take: ``start`` (its beginning) or ``end``."""
        k = bisect_right(self.op_starts, p) - 1
        candidates = [op for op in self.ops[max(k - 1, 0) : k + 2] if op[1] <= p <= op[2]]
        for tag, i1, _, j1, _ in candidates:
            if tag == "equal":
                return j1 + p - i1, True
        if not candidates:
            return (0 if side == "start" else len(self.new_text)), False
        _, _, _, j1, j2 = candidates[0]
        return (j1 if side == "start" else j2), False

    def locate(self, p: int) -> tuple[int, int]:
        """New global offset -> (block, offset in block)."""
        b = bisect_right(self.new_starts, p) - 1
        return max(b, 0), p - self.new_starts[max(b, 0)]


def _starts(texts: list[str]) -> list[int]:
    out, total = [], 0
    for t in texts:
        out.append(total)
        total += len(t) + 2
    return out


def carry_over(
    old_tei: bytes, new_doc: Document, *, now: str, name: str = "<tei>"
) -> tuple[bytes, list[Conflict]]:
    """The new conversion ``new_doc`` with the annotations of ``old_tei``; and the conflicts."""
    old_root = require_tei(parse_bytes(old_tei, name), name)
    old = from_tei(old_root)
    old_groups = old.spans_by_block()
    # Notes and their content are set aside: their text is not in the source.
    bases: list[str] = []
    payloads: list[list[tuple[int, Span, list[Span]]]] = []  # (base offset, note, inner spans)
    outside: list[list[tuple[int, int, Span, int]]] = []  # (base start, base end, span, order)
    order = 0
    for block, spans in zip(old.blocks, old_groups, strict=True):
        notes = _outermost([s for s in spans if s.tag in _PAYLOAD and s.end > s.start])
        cuts = [(s.start, s.end) for s in notes]

        def base(p: int, cuts: list[tuple[int, int]] = cuts) -> int:
            return p - sum(min(e, p) - s for s, e in cuts if s < p)

        text = block.text
        pieces, last = [], 0
        for s, e in cuts:
            pieces.append(text[last:s])
            last = e
        pieces.append(text[last:])
        bases.append("".join(pieces))
        block_payload, block_out = [], []
        for span in spans:
            order += 1
            note = next((n for n in notes if n.start <= span.start and span.end <= n.end), None)
            if span in notes:
                inner = [
                    s
                    for s in spans
                    if s is not span and span.start <= s.start and s.end <= span.end
                ]
                block_payload.append((base(span.start), span, inner))
            elif note is None:
                block_out.append((base(span.start), base(span.end), span, order))
        payloads.append(block_payload)
        outside.append(block_out)
    diff = _Diff(bases, [b.text for b in new_doc.blocks])
    old_starts = _starts(bases)
    new_spans = list(new_doc.spans)
    structure = CONVERTER_TAGS | {s.tag for s in new_spans}
    new_by_key = {(s.block, s.start, s.end, s.tag): i for i, s in enumerate(new_spans)}
    carried: list[_Carried] = []
    conflicts: list[Conflict] = []
    old_surface = [b.text for b in old.blocks]

    def conflict(span: Span, reason: str) -> None:
        surface = old_surface[span.block][span.start : span.end]
        conflicts.append(Conflict(name, surface, reason, _xml(span, surface)))

    for b, block_out in enumerate(outside):
        for s0, e0, span, n in block_out:
            placed = _place(diff, old_starts[b] + s0, old_starts[b] + e0, bases[b][s0:e0])
            if isinstance(placed, str):
                conflict(span, placed)
                continue
            nb, ns, ne = placed
            existing = new_by_key.get((nb, ns, ne, span.tag))
            if existing is not None:  # the converter made it again: keep hand-edited attributes
                if span.attrs and new_spans[existing].attrs != span.attrs:
                    new_spans[existing] = replace(new_spans[existing], attrs=span.attrs)
                continue
            if span.tag in structure:  # the converter's own markup follows the new conversion
                if span.attrs:
                    conflict(span, f"the new conversion has no <{span.tag}> here")
                continue
            carried.append(_Carried(nb, ns, ne, span, n))
    blocks = list(new_doc.blocks)
    # Block attributes an editor added (xml:id, n, rend ...) go to the block the text went to.
    for b, block in enumerate(old.blocks):
        if not block.attrs or not bases[b]:
            continue
        p, exact = diff.map(old_starts[b], "start")
        nb, _ = diff.locate(p)
        if exact and nb < len(blocks):
            have = dict(blocks[nb].attrs)
            extra = tuple((k, v) for k, v in block.attrs if k not in have)
            if extra:
                blocks[nb] = replace(blocks[nb], attrs=(*blocks[nb].attrs, *extra))
    spans = [
        *new_spans,
        *(replace(c.span, block=c.block, start=c.start, end=c.end) for c in carried),
    ]
    spans = _keep_nesting(spans, len(new_spans), old_surface, conflict, carried)
    # Notes: their text goes back in at the mapped place.
    inserts: dict[int, list[tuple[int, Span, list[Span]]]] = {}
    for b, block_payload in enumerate(payloads):
        for at, note, inner in block_payload:
            p, _ = diff.map(old_starts[b] + at, "start")
            nb, q = diff.locate(p)
            inserts.setdefault(nb, []).append((q, note, inner))
    texts = [bl.text for bl in blocks]
    for nb, items in inserts.items():
        for q, note, inner in sorted(items, key=lambda x: -x[0]):
            content = old_surface[note.block][note.start : note.end]
            texts[nb] = texts[nb][:q] + content + texts[nb][q:]
            spans = [_shift(s, nb, q, len(content)) for s in spans]
            delta = q - note.start
            spans.append(replace(note, block=nb, start=q, end=q + len(content)))
            spans.extend(
                replace(s, block=nb, start=s.start + delta, end=s.end + delta) for s in inner
            )
    blocks = [replace(bl, text=t) for bl, t in zip(blocks, texts, strict=True)]
    header = _header(old, new_doc, now, len(conflicts))
    merged = Document(new_doc.id, header, tuple(blocks), tuple(_ordered(spans)))
    root = to_tei(merged)
    rekey = _rejections(old_surface, bases, payloads, old_starts, diff, merged)
    _copy_stand_off(old_root, root, merged, rekey)
    status = old_root.find("tei:teiHeader/tei:revisionDesc", NS)
    if status is not None and status.get("status"):
        root.find("tei:teiHeader/tei:revisionDesc", NS).set("status", "draft")
    return serialize(root), conflicts


def _outermost(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not any(o.start <= s.start and s.end <= o.end for o in out):
            out.append(s)
    return out


def _place(diff: _Diff, start: int, end: int, surface: str) -> tuple[int, int, int] | str:
    s, s_exact = diff.map(start, "start")
    if start == end:
        b, off = diff.locate(s)
        return b, off, off
    e, e_exact = diff.map(end, "end")
    new = diff.new_text[s:e] if e > s else ""
    if not new.strip():
        return "its text was deleted from the source"
    if not (s_exact and e_exact and new == surface):
        if "\n\n" in new:
            return "its text now spans two paragraphs"
        if SequenceMatcher(None, surface, new, autojunk=False).ratio() < SIMILAR:
            return f"its text changed beyond recognition (now {new[:60]!r})"
    sb, so = diff.locate(s)
    eb, eo = diff.locate(e)
    if sb != eb:
        return "its text now spans two paragraphs"
    return sb, so, eo


def _keep_nesting(spans, fixed, old_surface, conflict, carried):  # type: ignore[no-untyped-def]
    """Drop (as conflicts) carried spans that would cross the new markup or each other."""
    kept = list(spans[:fixed])
    for c, span in zip(carried, spans[fixed:], strict=True):
        try:
            check_nesting([s for s in kept if s.block == span.block] + [span])
        except ValueError:
            conflict(c.span, "it would cross the new markup there")
            continue
        kept.append(span)
    return kept


def _shift(s: Span, block: int, q: int, n: int) -> Span:
    if s.block != block:
        return s
    start = s.start + n if s.start >= q and not (s.start == s.end == q) else s.start
    end = s.end + n if s.end > q or (s.end == q and s.start >= q and s.start != s.end) else s.end
    if s.start == s.end == q:
        start = end = q + n
    return replace(s, start=start, end=end)


def _ordered(spans: list[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: (s.block, s.start))


def _header(old: Document, new: Document, now: str, conflicts: int):  # type: ignore[no-untyped-def]
    h, o = new.header, old.header
    ids = {r.id for r in h.responsibilities}
    apps = {a.ident for a in h.applications}
    change = Change(
        now,
        "#toolkit",
        f"Source revised: SHA-256 {o.source.sha256 or 'unknown'} -> {h.source.sha256}; "
        "annotations carried over from the previous TEI"
        + (f"; {conflicts} kept in the conflicts file" if conflicts else "")
        + ".",
    )
    return replace(
        h,
        responsibilities=(*h.responsibilities, *(r for r in o.responsibilities if r.id not in ids)),
        applications=(*h.applications, *(a for a in o.applications if a.ident not in apps)),
        changes=(*o.changes, *(c for c in h.changes if c not in o.changes), change),
    )


def _rejections(old_texts, bases, payloads, old_starts, diff, merged):  # type: ignore[no-untyped-def]
    """Old key -> new key for every occurrence of a string in the old text that maps exactly."""

    def fn(surface: str, old_key: str) -> str | None:
        joined = "\n\n".join(old_texts)
        starts = _starts(old_texts)
        k, i = 0, joined.find(surface)
        while i >= 0 and dec.key(surface, k) != old_key:
            k, i = k + 1, joined.find(surface, i + 1)
        if i < 0:
            return None
        b = bisect_right(starts, i) - 1
        local = i - starts[b]
        cuts = [(n.start, n.end) for _, n, _ in payloads[b]]
        if any(s <= local < e for s, e in cuts):
            return None
        base = local - sum(min(e, local) - s for s, e in cuts if s < local)
        p, exact = diff.map(old_starts[b] + base, "start")
        if not exact:
            return None
        nb, off = diff.locate(p)
        texts = [bl.text for bl in merged.blocks]
        new_start = _starts(texts)[nb] + off
        # notes re-inserted before this place in the block shift it
        new_start += sum(
            len(old_texts[n.block][n.start : n.end])
            for bb, items in enumerate(payloads)
            for at, n, _ in items
            if diff.locate(diff.map(old_starts[bb] + at, "start")[0]) < (nb, off + 1)
            and diff.locate(diff.map(old_starts[bb] + at, "start")[0])[0] == nb
        )
        occ = dec.Occurrences("\n\n".join(texts))
        if "\n\n".join(texts)[new_start : new_start + len(surface)] != surface:
            return None
        return dec.key(surface, occ.number(surface, new_start))

    return fn


def _copy_stand_off(old_root, root, doc, rekey) -> None:  # type: ignore[no-untyped-def]
    """The old standOff, with the proposals re-keyed to the new text (gone ones dropped)."""
    present = {s.get("xml:id"): s for s in doc.spans if s.get("xml:id")}
    texts = [b.text for b in doc.blocks]
    starts = _starts(texts)
    occ = dec.Occurrences("\n\n".join(texts))
    for stand_off in old_root.findall("tei:standOff", NS):
        copy = etree.fromstring(etree.tostring(stand_off))
        for span in copy.iterfind(f"tei:spanGrp[@type='{dec.PROPOSALS}']/tei:span", NS):
            target = present.get((span.get("target") or "").removeprefix("#"))
            if target is None:
                span.getparent().remove(span)
                continue
            surface = texts[target.block][target.start : target.end]
            span.text = surface
            span.set(
                "n", dec.key(surface, occ.number(surface, starts[target.block] + target.start))
            )
        for span in copy.iterfind(f"tei:spanGrp[@type='{dec.DECISIONS}']/tei:span", NS):
            new_key = rekey("".join(span.itertext()), span.get("n") or "")
            if new_key:
                span.set("n", new_key)
        for group in copy.iterfind(f"tei:spanGrp[@type='{dec.PROPOSALS}']", NS):
            if group.find("tei:span", NS) is None:
                copy.remove(group)
        if len(copy):
            root.append(copy)


def _xml(span: Span, surface: str) -> str:
    if span.tag.startswith("!"):
        return span.get("xml") or span.get("text") or ""
    el = E(span.tag, surface)
    for key, value in span.attrs:
        el.set(key.replace("xml:", f"{{{'http://www.w3.org/XML/1998/namespace'}}}"), value)
    return etree.tostring(el, encoding="unicode").replace(f' xmlns="{T[1:-1]}"', "")


# --- files ---------------------------------------------------------------------------------------


def backup_path(target: Path, old: bytes) -> Path:
    return target.with_name(f"{target.name}.bak-{hashlib.sha256(old).hexdigest()[:8]}")


def conflicts_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}.conflicts.xml")


def is_side_file(path: Path) -> bool:
    """A file the revision step writes next to a document (not a document itself)."""
    return path.name.endswith(".conflicts.xml") or ".xml.bak-" in path.name


def write_revised(target: Path, new_doc: Document, *, now: str) -> list[Conflict]:
    """Write ``new_doc`` to ``target``, carrying over the annotations of the TEI there (if any):
    see :func:`revise`."""
    try:
        old = target.read_bytes()
    except FileNotFoundError:
        atomic_write(target, serialize(to_tei(new_doc)))
        return []
    data, conflicts = revise(target, old, new_doc, now=now)
    atomic_write(target, data)
    return conflicts


def revise(
    target: Path, old: bytes, new_doc: Document, *, now: str
) -> tuple[bytes, list[Conflict]]:
    """The bytes to write over ``target`` (whose content is ``old``) for a new conversion.

    Keeps ``old`` as ``target.bak-<sha8>`` and writes the conflicts file first (both atomic), so
    a run killed before ``target`` is replaced redoes the same steps without doubling them.
    """
    backup = backup_path(target, old)
    try:
        data, conflicts = carry_over(old, new_doc, now=now, name=str(target))
    except ToolkitError as exc:  # an unreadable old TEI: keep it aside, write the new one
        if not backup.exists():
            atomic_write(backup, old)
        reason = f"the previous TEI could not be read ({exc.message}); it is kept as {backup.name}"
        return serialize(to_tei(new_doc)), [Conflict(str(target), "", reason, "")]
    if not backup.exists():
        atomic_write(backup, old)
    if conflicts:
        revision = f"{_sha(old)[:8]}-{new_doc.header.source.sha256[:8]}"
        path = conflicts_path(target)
        atomic_write(path, conflicts_file(path, conflicts, revision))
    return data, conflicts


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def conflicts_file(path: Path, conflicts: list[Conflict], revision: str) -> bytes:
    """The conflicts file with this revision's items (an earlier run's items of the same revision
    replaced, other revisions' items kept)."""
    items = []
    if path.exists():
        try:
            old = parse_bytes(path.read_bytes(), str(path)).getroot()
            items = [
                it
                for it in old.iterfind(".//tei:list[@type='conflicts']/tei:item", NS)
                if it.get("n") != revision
            ]
        except ToolkitError:
            items = []
    lst = E("list", type="conflicts")
    lst.extend(items)
    for c in conflicts:
        item = E("item", E("label", c.reason), " ", E("quote", c.text), n=revision)
        if c.xml:  # the old element as an example (TEI Examples namespace): no reader takes
            try:  # it for a live tag
                example = etree.fromstring(f'<egXML xmlns="{EXAMPLES}">{c.xml}</egXML>')
                item.append(example)
            except etree.XMLSyntaxError:
                item.append(E("q", c.xml, type="annotation"))
        lst.append(item)
    title = f"Annotations not carried over to {path.name.replace('.conflicts.xml', '.xml')}"
    root = E(
        "TEI",
        E(
            "teiHeader",
            E(
                "fileDesc",
                E("titleStmt", E("title", title)),
                E("publicationStmt", E("p", "Working file of a toolkit corpus; not published.")),
                E("sourceDesc", E("p", "Written by toolkit build when a source was revised.")),
            ),
        ),
        E("text", E("body", E("div", E("head", title), lst, type="conflicts"))),
    )
    root.set(XML_ID, "conflicts")
    return serialize(root)
