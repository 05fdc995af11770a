"""The review queue and its decisions: candidate entities -> authority entries.

A corpus folder holds ``tei/*.xml`` and ``authority.xml``. The queue (:func:`review_queue`) is
made of candidate *entities*, not strings: every name element whose ``@ref`` is ``#cand-...``
(an unreviewed candidate of the document's ``standOff``; the same id in every document for the
same normalized name) or ``auth:ID`` of an unreviewed entry of the authority file, grouped by
that reference, most frequent first, with its forms, counts, documents, contexts, identifiers
(gazetteer links) and suggestions (bracketed aliases, short forms of other entities).

Decisions (each one a function, each one undoable):

- :func:`accept` ``CAND [--as ENTRY]``: the candidate becomes a reviewed authority entry (id from
  its name: ``cand-person-stalin`` -> ``stalin``), or its forms become variants of ``ENTRY``;
- :func:`reject` ``CAND``: its forms go into the authority's ``list type="rejected"`` (never
  tagged again, :attr:`toolkit.authority.Authority.rejected`) and its tags are unwrapped;
- :func:`merge` ``CAND CAND...``: one unreviewed authority entry (the first id) with every form;
- :func:`rename` ``CAND NAME``: the entity's main name (an unreviewed authority entry is made for
  a document candidate);
- :func:`undo`: the last decision is reverted (files restored from the journal
  ``CORPUS/.review/NNNN.json``, refused when a file changed since).

Every decision writes the authority file (a ``change`` naming the reviewer, who gets a
``respStmt``) and re-points every mention in the TEI files with minimal byte edits: only the
``@ref`` and ``@resp`` values of the name's start tag change (``@resp`` becomes the reviewer),
the element name when the type changes, the tags alone when a rejected name is unwrapped; a
``respStmt`` for the reviewer and one ``change`` are inserted into each touched file. Nothing
else of a file moves, so hand edits and formatting survive.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from .authority import LIST_OF, NAME_OF, TYPE_OF_NAME, Authority, Entry, entry_element
from .authority import parse_authority as _parse_authority
from .errors import ToolkitError
from .files import atomic_write
from .names import candidate_id, find_aliases, fold, normalize
from .tei import NS, XML_ID, E, iter_blocks, parse_bytes, read_block, serialize

JOURNAL = ".review"
EDITOR_ID = re.compile(r"^[A-Za-z_][\w.-]*$")
CONTEXT = 70
PAGE_DOCUMENTS = 20  # documents listed per candidate on the review page ("and N more")


class ReviewError(ToolkitError):
    """A review command cannot be carried out."""


# --- the queue -------------------------------------


@dataclass(frozen=True)
class Occurrence:
    document: str  # path relative to the corpus folder
    element: str  # xml:id of the name element
    surface: str
    type: str
    context: str


@dataclass(frozen=True)
class Candidate:
    """One candidate entity of the corpus and everything the reviewer needs to decide."""

    id: str  # without "#" / "auth:"
    ref: str  # as written in @ref
    type: str
    main: str
    forms: tuple[tuple[str, int], ...]
    count: int
    documents: tuple[str, ...]  # in corpus order; the first ``max_documents`` of review_queue
    contexts: tuple[str, ...]
    idnos: tuple[tuple[str, str], ...] = ()
    source: str = "model"  # model, gazetteer, authority (an unreviewed authority entry)
    roles: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    document_count: int = 0  # every document naming it (``documents`` may list fewer)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["forms"] = [{"form": f, "count": c} for f, c in self.forms]
        out["idnos"] = [{"type": t, "value": v} for t, v in self.idnos]
        return out

    def commands(self, corpus: str = "corpus") -> list[str]:
        opt = "" if corpus == "corpus" else f" --corpus {corpus}"
        return [
            f"toolkit review accept {self.id}{opt}",
            f"toolkit review reject {self.id}{opt}",
            f"toolkit review rename {self.id} 'NEW NAME'{opt}",
        ]


@dataclass
class _Tally:
    """What the queue shows of one entity, kept as the files are read (memory per entity, not
    per mention: a corpus of 100,000 documents costs what its entities cost)."""

    types: Counter[str] = field(default_factory=Counter)
    forms: Counter[str] = field(default_factory=Counter)
    count: int = 0
    documents: list[str] = field(default_factory=list)  # the first ``max_documents``
    document_count: int = 0
    contexts: list[str] = field(default_factory=list)  # the first 3 different ones
    last: str = ""  # the document of the latest mention (files are read one after another)

    def add(self, occ: Occurrence, max_documents: int | None) -> None:
        self.types[occ.type] += 1
        self.forms[" ".join(occ.surface.split())] += 1
        self.count += 1
        if not self.document_count or self.last != occ.document:  # files are read one by one
            self.document_count += 1
            self.last = occ.document
            if max_documents is None or len(self.documents) < max_documents:
                self.documents.append(occ.document)
        if len(self.contexts) < 3 and occ.context not in self.contexts:
            self.contexts.append(occ.context)


@dataclass
class _Scan:
    # entity -> mentions, for the entities asked for (a decision's), not for the whole queue
    occurrences: dict[str, list[Occurrence]] = field(default_factory=dict)
    tallies: dict[str, _Tally] = field(default_factory=dict)  # entity -> what the queue shows
    standoff: dict[str, Entry] = field(default_factory=dict)
    aliases: dict[tuple[str, str], None] = field(default_factory=dict)  # (ref, ref) pairs


def tei_files(corpus: Path) -> Iterator[Path]:
    """The ``*.xml`` files below ``CORPUS/tei``, sorted as paths, streamed (sorted on disk by
    :class:`toolkit.engine.SortedNames`, so 100,000 files cost no memory)."""
    from .engine import SortedNames

    listing = SortedNames()
    try:
        listing.add_tree("tei", corpus / "tei", ".xml")
        yield from listing.paths("tei", corpus / "tei")
    finally:
        listing.db.close()


def load_authority(corpus: Path) -> tuple[bytes, Authority]:
    path = corpus / "authority.xml"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReviewError(
            "E305", f"cannot read the authority file ({exc.strerror})", str(path)
        ) from None
    return data, _parse_authority(data, str(path), strict=False)


def _scan(
    corpus: Path,
    authority: Authority,
    *,
    only: set[str] | None = None,
    max_documents: int | None = None,
) -> _Scan:
    """Read every TEI file once: standOff candidates, a tally per entity, aliases, and the
    occurrences of the entities in ``only`` (none when ``only`` is None)."""
    unreviewed = {e.id for e in authority.entries if not e.reviewed}
    scan = _Scan()
    for path in tei_files(corpus):
        rel = path.relative_to(corpus).as_posix()
        try:
            root = parse_bytes(path.read_bytes(), str(path)).getroot()
        except (OSError, ToolkitError):
            continue  # validate reports broken files; the queue is built from the rest
        for kind, lst in LIST_OF.items():
            for el in root.iterfind(f"tei:standOff/tei:{lst}/tei:{kind}", NS):
                ident = el.get(XML_ID, "")
                names = [" ".join("".join(n.itertext()).split()) for n in el]
                names = [n for n, c in zip(names, el, strict=True) if c.tag.endswith("Name")]
                idnos = tuple(
                    (i.get("type", ""), (i.text or "").strip()) for i in el.findall("tei:idno", NS)
                )
                if ident and names and ident not in scan.standoff:
                    scan.standoff[ident] = Entry(
                        ident, kind, names[0], tuple(names[1:]), idnos, False, el.get("resp")
                    )
        body = root.find("tei:text/tei:body", NS)
        if body is None:
            continue
        for b, block in enumerate(iter_blocks(body)):
            text, spans = read_block(block, b)
            named = []
            for span in spans:
                if span.tag not in TYPE_OF_NAME:
                    continue
                ref = (span.get("ref") or "").strip()
                key = _entity_key(ref, unreviewed)
                named.append((span.start, span.end, ref))
                if key is None:
                    continue
                left = text[max(0, span.start - CONTEXT) : span.start]
                right = text[span.end : span.end + CONTEXT]
                surface = text[span.start : span.end]
                context = " ".join(f"{left}[{surface}]{right}".split())
                occ = Occurrence(
                    rel, span.get("xml:id") or "", surface, TYPE_OF_NAME[span.tag], context
                )
                scan.tallies.setdefault(key, _Tally()).add(occ, max_documents)
                if only is not None and key in only:
                    scan.occurrences.setdefault(key, []).append(occ)
            refs = {(s, e): r for s, e, r in named}
            for alias in find_aliases(text, list(refs), b):
                first = refs[(alias.start, alias.start + len(alias.name))]
                second = next(
                    (
                        r
                        for (s, e), r in refs.items()
                        if text[s:e] == alias.alias and s > alias.start
                    ),
                    None,
                )
                if second and first != second:
                    scan.aliases[(first, second)] = None
    return scan


def _entity_key(ref: str, unreviewed: set[str]) -> str | None:
    if ref.startswith("#cand-"):
        return ref[1:]
    if ref.startswith("auth:") and ref[5:] in unreviewed:
        return ref[5:]
    return None


def review_queue(corpus: Path, *, max_documents: int | None = None) -> list[Candidate]:
    """The candidate entities of a corpus, most frequent first (then by id).

    Each candidate lists every document naming it, or the first ``max_documents`` of them
    (``document_count`` has them all). Memory grows with the number of entities (and of the
    documents listed), not with the number of mentions.
    """
    _, authority = load_authority(corpus)
    scan = _scan(corpus, authority, max_documents=max_documents)
    entries = authority.by_id()
    out = []
    mains: dict[str, str] = {}
    for key, tally in scan.tallies.items():
        entry = entries.get(key) or scan.standoff.get(key)
        forms = tally.forms
        kind = tally.types.most_common(1)[0][0]
        main = entry.main if entry else max(forms, key=lambda f: (len(f.split()), forms[f]))
        mains[key] = main
        source = (
            "authority"
            if key in entries
            else "gazetteer"
            if entry is not None and entry.resp == "#toolkit-gazetteer"
            else "model"
        )
        roles = tuple(sorted({normalize(f).role for f in forms} - {""}))
        out.append(
            Candidate(
                key,
                "auth:" + key if key in entries else "#" + key,
                kind,
                main,
                tuple(sorted(forms.items(), key=lambda p: (-p[1], p[0]))),
                tally.count,
                tuple(tally.documents),
                tuple(tally.contexts),
                entry.idnos if entry else (),
                source,
                roles,
                document_count=tally.document_count,
            )
        )
    suggestions = _suggestions(out, authority, scan)
    out = [
        Candidate(**{**c.__dict__, "suggestions": tuple(suggestions.get(c.id, []))}) for c in out
    ]
    return sorted(out, key=lambda c: (-c.count, c.id))


def _person_parts(name: str) -> tuple[list[str], str]:
    words = normalize(name).name.replace(".", ". ").split()
    words = [w for w in words if w.strip(".")]
    if not words:
        return [], ""
    return [w.strip(".") for w in words[:-1]], fold(words[-1])


def _compatible(short: str, full: str) -> bool:
    """Same surname; given names or initials agree letter by letter where both have them."""
    a_given, a_last = _person_parts(short)
    b_given, b_last = _person_parts(full)
    if not a_last or a_last != b_last:
        return False
    return all(x[:1].casefold() == y[:1].casefold() for x, y in zip(a_given, b_given, strict=False))


def _fullness(name: str) -> tuple[int, int]:
    given, _ = _person_parts(name)
    return (sum(len(g) > 1 for g in given), len(given))


def _suggestions(queue: list[Candidate], authority: Authority, scan: _Scan) -> dict[str, list[str]]:
    """Aliases in brackets and short forms, as commands; never applied without the reviewer."""
    out: dict[str, list[str]] = {}
    ids = {c.id for c in queue}
    for first, second in scan.aliases:
        a = first[1:] if first.startswith("#") else first[5:]
        b = second[1:] if second.startswith("#") else second[5:]
        for one, other in ((a, b), (b, a)):
            if one not in ids:
                continue
            cmd = (
                f"toolkit review merge {one} {other}"
                if other in ids
                else f"toolkit review accept {one} --as {other}"
            )
            note = f"written next to {other} in brackets: {cmd}"
            if note not in out.get(one, []):
                out.setdefault(one, []).append(note)
    # Short forms and initials across documents: "Molotov", "V. M. Molotov" and "Vyacheslav
    # Molotov" share a surname and agree on initials, so the shorter ones are proposed as
    # variants of the fullest (never merged without the reviewer).
    # Indexed by surname (a short form must share it) and by word (a one-word name is a word
    # of the longer one), so the cost grows with the queue, not with its square.
    people = [(c.id, c.main) for c in queue if c.type == "person"]
    people += [(e.id, e.main) for e in authority.entries if e.reviewed and e.type == "person"]
    main_of = {e.id: e.main for e in authority.entries} | {c.id: c.main for c in queue}
    by_surname: dict[str, list[tuple[str, str]]] = {}
    for ident, main in people:
        by_surname.setdefault(_person_parts(main)[1], []).append((ident, main))
    by_word: dict[tuple[str, str], list[str]] = {}
    for o in queue:
        if o.type != "person":
            for word in dict.fromkeys(normalize(o.main).key.split()):
                by_word.setdefault((o.type, word), []).append(o.id)
    for c in queue:
        if c.type == "person":
            last = _person_parts(c.main)[1]
            same = by_surname.get(last, []) if last else []
            owners = [i for i, main in same if i != c.id and _compatible(c.main, main)]
            mains = {i: main_of.get(i, i) for i in owners}
            fuller = [i for i in owners if _fullness(mains[i]) > _fullness(c.main)]
            if fuller:
                owner = max(fuller, key=lambda i: (_fullness(mains[i]), i))
                if not all(_compatible(mains[i], mains[owner]) for i in fuller):
                    continue
                cmd = (
                    f"toolkit review merge {owner} {c.id}"
                    if owner in ids
                    else f"toolkit review accept {c.id} --as {owner}"
                )
                out.setdefault(c.id, []).append(f"short form of {owner}: {cmd}")
            continue
        # organizations and places: a one-word name that is a word of exactly one longer one
        key = normalize(c.main).key
        if " " in key:
            continue
        owners_set = {i for i in by_word.get((c.type, key), []) if i != c.id}
        if len(owners_set) == 1:
            (owner,) = owners_set
            out.setdefault(c.id, []).append(
                f"short form of {owner}: toolkit review merge {owner} {c.id}"
            )
    return out


# --- decisions -------------------------------------


@dataclass(frozen=True)
class Decision:
    summary: str
    files: tuple[str, ...]
    mentions: int


@dataclass(frozen=True)
class _Repoint:
    ref: str | None  # None: unwrap the element
    tag: str | None = None  # new element name (type change), or None


def accept(
    corpus: Path, cand: str, *, editor: str, now: str, as_entry: str | None = None
) -> Decision:
    """Make a candidate an authority entry (or variants of ``as_entry``); re-point mentions."""
    key = _key(cand)
    data, authority = load_authority(corpus)
    scan = _scan(corpus, authority, only={key})
    occ, entry = _find(key, authority, scan)
    forms = _forms(occ, entry)
    root = parse_bytes(data).getroot()
    entries = authority.by_id()
    if as_entry:
        target = entries.get(as_entry)
        if target is None or not target.reviewed:
            raise ReviewError(
                "E601",
                f"{as_entry!r} is not a reviewed entry of the authority file; give an entry id "
                "(see authority.xml) or accept without --as",
                str(corpus / "authority.xml"),
            )
        ident, kind = target.id, target.type
        el = _entry_el(root, ident)
        known = {fold(n) for n in target.names}
        for form in forms:
            if fold(form) not in known:
                el.insert(_after_names(el), E(NAME_OF[kind], form, type="variant"))
                known.add(fold(form))
        summary = f"accepted {key} as a variant of {ident}"
    else:
        kind = entry.type if entry else occ[0].type
        ident = re.sub(r"^cand-(person|place|org)-", "", key)
        if ident in entries and ident != key:
            raise ReviewError(
                "E605",
                f"the authority file already has an entry {ident!r}; accept as a variant of it "
                f"(toolkit review accept {key} --as {ident}) or rename the candidate first",
                str(corpus / "authority.xml"),
            )
        main = entry.main if entry else forms[0]
        new = Entry(
            ident,
            kind,
            main,
            tuple(f for f in forms if f != main),
            entry.idnos if entry else (),
        )
        _remove_entry(root, key)
        _reviewed_list(root, kind).append(entry_element(new))
        summary = f"accepted {key} as {ident}"
    return _commit(
        corpus,
        data,
        root,
        key,
        occ,
        _Repoint("auth:" + ident, NAME_OF[kind]),
        editor=editor,
        now=now,
        summary=summary,
    )


def reject(corpus: Path, cand: str, *, editor: str, now: str) -> Decision:
    """Record the candidate's forms as not names (never tagged again); unwrap its tags."""
    key = _key(cand)
    data, authority = load_authority(corpus)
    scan = _scan(corpus, authority, only={key})
    occ, _ = _find(key, authority, scan)
    root = parse_bytes(data).getroot()
    body = root.find("tei:text/tei:body", NS)
    lst = body.find("tei:list[@type='rejected']", NS)
    if lst is None:
        lst = E("list", E("head", "Strings that are not names (toolkit review reject)"))
        lst.set("type", "rejected")
        body.append(lst)
    have = {" ".join("".join(i.itertext()).split()) for i in lst.findall("tei:item", NS)}
    for form in dict.fromkeys(" ".join(o.surface.split()) for o in occ):
        if form not in have:
            lst.append(E("item", form, resp="#" + editor))
    _remove_entry(root, key)
    return _commit(
        corpus,
        data,
        root,
        key,
        occ,
        _Repoint(None),
        editor=editor,
        now=now,
        summary=f"rejected {key}",
    )


def merge(corpus: Path, cands: list[str], *, editor: str, now: str) -> Decision:
    """Join candidates into one unreviewed authority entry with the first one's id."""
    keys = list(dict.fromkeys(_key(c) for c in cands))
    if len(keys) < 2:
        raise ReviewError("E605", "merge needs at least two different candidates")
    data, authority = load_authority(corpus)
    scan = _scan(corpus, authority, only=set(keys))
    found = [_find(k, authority, scan) for k in keys]
    first_occ, first_entry = found[0]
    kind = first_entry.type if first_entry else first_occ[0].type
    main = first_entry.main if first_entry else _forms(first_occ, None)[0]
    forms: list[str] = []
    idnos: list[tuple[str, str]] = []
    for occ, entry in found:
        forms += _forms(occ, entry)
        idnos += list(entry.idnos) if entry else []
    root = parse_bytes(data).getroot()
    for k in keys:
        _remove_entry(root, k)
    new = Entry(
        keys[0],
        kind,
        main,
        tuple(f for f in dict.fromkeys(forms) if f != main),
        tuple(dict.fromkeys(idnos)),
        reviewed=False,
    )
    _candidate_list(root, kind).append(entry_element(new))
    all_occ = [o for occ, _ in found for o in occ]
    return _commit(
        corpus,
        data,
        root,
        keys,
        all_occ,
        _Repoint("auth:" + keys[0], NAME_OF[kind]),
        editor=editor,
        now=now,
        summary=f"merged {', '.join(keys)} into {keys[0]}",
    )


def rename(corpus: Path, cand: str, name: str, *, editor: str, now: str) -> Decision:
    """Give an entity a new main name (the old one stays a variant)."""
    key = _key(cand)
    name = " ".join(name.split())
    if not name:
        raise ReviewError("E605", "the new name is empty")
    data, authority = load_authority(corpus)
    entries = authority.by_id()
    root = parse_bytes(data).getroot()
    if key in entries:
        entry = entries[key]
        el = _entry_el(root, key)
        for n in el.findall(f"tei:{NAME_OF[entry.type]}", NS):
            if n.get("type") == "main":
                n.set("type", "variant")
            if " ".join("".join(n.itertext()).split()) == name:
                el.remove(n)
        el.insert(0, E(NAME_OF[entry.type], name, type="main"))
        return _commit(
            corpus,
            data,
            root,
            key,
            [],
            None,
            editor=editor,
            now=now,
            summary=f"renamed {key} to {name!r}",
        )
    scan = _scan(corpus, authority, only={key})
    occ, entry = _find(key, authority, scan)
    kind = entry.type if entry else occ[0].type
    forms = _forms(occ, entry)
    new = Entry(
        key,
        kind,
        name,
        tuple(f for f in forms if f != name),
        entry.idnos if entry else (),
        reviewed=False,
    )
    _candidate_list(root, kind).append(entry_element(new))
    return _commit(
        corpus,
        data,
        root,
        key,
        occ,
        _Repoint("auth:" + key, NAME_OF[kind]),
        editor=editor,
        now=now,
        summary=f"renamed {key} to {name!r}",
    )


def undo(corpus: Path) -> Decision:
    """Revert the last decision: restore every file it wrote, if none changed since."""
    folder = corpus / JOURNAL
    journals = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not journals:
        raise ReviewError("E602", "no review decision to undo", str(folder))
    last = journals[-1]
    record = json.loads(last.read_text("utf-8"))
    changed = [f["path"] for f in record["files"] if _sha(corpus / f["path"]) != f["after"]]
    if changed:
        raise ReviewError(
            "E603",
            f"cannot undo {record['summary']!r}: {', '.join(changed)} changed since; "
            "restore them by hand or from version control",
            str(last),
        )
    for f in record["files"]:
        atomic_write(corpus / f["path"], zlib.decompress(base64.b64decode(f["before"])))
    last.unlink()
    return Decision(f"undid: {record['summary']}", tuple(f["path"] for f in record["files"]), 0)


def confirm(corpus: Path, files: list[Path], *, editor: str, now: str) -> Decision:
    """Mark documents reviewed (``revisionDesc/@status="reviewed"`` and a change by the editor,
    :func:`toolkit.reviewed.mark_reviewed`: minimal byte edits); undoable like the others."""
    from .reviewed import mark_reviewed

    check_editor(editor)
    writes: dict[Path, tuple[bytes, bytes]] = {}
    for path in files:
        try:
            before = path.read_bytes()
        except OSError as exc:
            raise ReviewError("E205", f"cannot read the file ({exc.strerror})", str(path)) from None
        after = mark_reviewed(before, editor, now, str(path))
        if after != before:
            writes[path] = (before, after)
    summary = f"confirmed {len(files)} document(s) as reviewed"
    if writes:
        _journal(corpus, summary, editor, now, writes)
        for path, (_, after) in writes.items():
            atomic_write(path, after)
    return Decision(summary, tuple(_rel(p, corpus) for p in writes), 0)


def _rel(path: Path, corpus: Path) -> str:
    try:
        return path.resolve().relative_to(corpus.resolve()).as_posix()
    except ValueError:
        return str(path)


# --- helpers -------------------------------------


def _key(cand: str) -> str:
    cand = cand.strip()
    for prefix in ("#", "auth:"):
        if cand.startswith(prefix):
            cand = cand[len(prefix) :]
    return cand


def _find(key: str, authority: Authority, scan: _Scan) -> tuple[list[Occurrence], Entry | None]:
    occ = scan.occurrences.get(key, [])
    entry = authority.by_id().get(key) or scan.standoff.get(key)
    if entry is not None and entry.reviewed and key in authority.by_id():
        raise ReviewError(
            "E601", f"{key!r} is already a reviewed entry of the authority file", authority.path
        )
    if not occ and entry is None:
        raise ReviewError(
            "E601",
            f"no candidate {key!r} in the corpus; `toolkit review` lists them",
            authority.path,
        )
    return occ, entry


def _forms(occ: list[Occurrence], entry: Entry | None) -> list[str]:
    """Forms to keep as names: the entry's, then the mentions' (possessives trimmed), fullest
    first."""
    seen = [*(entry.names if entry else ())]
    counts = Counter(re.sub(r"(?:['’]s|['’])$", "", " ".join(o.surface.split())) for o in occ)
    seen += sorted(counts, key=lambda f: (-len(f.split()), -counts[f], f))
    return list(dict.fromkeys(f for f in seen if f))


def _entry_el(root: etree._Element, ident: str) -> etree._Element:
    for el in root.iter(*(f"{{{NS['tei']}}}{k}" for k in LIST_OF)):
        if el.get(XML_ID) == ident:
            return el
    raise ReviewError("E601", f"no entry {ident!r} in the authority file")


def _after_names(el: etree._Element) -> int:
    return sum(1 for c in el if isinstance(c.tag, str) and c.tag.endswith("Name"))


def _remove_entry(root: etree._Element, ident: str) -> None:
    for el in list(root.iter(*(f"{{{NS['tei']}}}{k}" for k in LIST_OF))):
        parent = el.getparent()
        if el.get(XML_ID) == ident and parent.get("type") == "candidates":
            parent.remove(el)
            if not any(c.tag != f"{{{NS['tei']}}}head" for c in parent if isinstance(c.tag, str)):
                parent.getparent().remove(parent)


def _body(root: etree._Element) -> etree._Element:
    return root.find("tei:text/tei:body", NS)


def _reviewed_list(root: etree._Element, kind: str) -> etree._Element:
    body = _body(root)
    for lst in body.findall(f"tei:{LIST_OF[kind]}", NS):
        if lst.get("type") is None:
            return lst
    lst = E(LIST_OF[kind])
    first_candidates = body.find("*[@type='candidates']")
    if first_candidates is not None:
        first_candidates.addprevious(lst)
    else:
        body.append(lst)
    return lst


def _candidate_list(root: etree._Element, kind: str) -> etree._Element:
    body = _body(root)
    lst = body.find(f"tei:{LIST_OF[kind]}[@type='candidates']", NS)
    if lst is None:
        lst = E(LIST_OF[kind], E("head", "Unreviewed candidates"), type="candidates")
        body.append(lst)
    return lst


def _declare_editor(root: etree._Element, editor: str) -> None:
    title_stmt = root.find("tei:teiHeader/tei:fileDesc/tei:titleStmt", NS)
    if not any(r.get(XML_ID) == editor for r in title_stmt.iterfind("tei:respStmt", NS)):
        title_stmt.append(
            E("respStmt", E("resp", "review of names"), E("name", editor), xml_id=editor)
        )


def _add_change(root: etree._Element, now: str, editor: str, text: str) -> None:
    header = root.find("tei:teiHeader", NS)
    revision = header.find("tei:revisionDesc", NS)
    if revision is None:
        revision = E("revisionDesc")
        header.append(revision)
    revision.append(E("change", text, when=now, who="#" + editor))


def check_editor(editor: str | None) -> str:
    if not editor or not EDITOR_ID.match(editor):
        raise ReviewError(
            "E604",
            f"editor id {editor!r} is missing or not an XML name; pass --editor ID (e.g. jdoe) "
            'or set editor = "ID" in CORPUS/toolkit.toml',
        )
    return editor


def _commit(
    corpus: Path,
    authority_data: bytes,
    root: etree._Element,
    keys: str | list[str],
    occ: list[Occurrence],
    action: _Repoint | None,
    *,
    editor: str,
    now: str,
    summary: str,
) -> Decision:
    check_editor(editor)
    keys = [keys] if isinstance(keys, str) else keys
    authority_path = corpus / "authority.xml"
    _declare_editor(root, editor)
    _add_change(root, now, editor, f"Review: {summary} ({len(occ)} mentions).")
    new_authority = serialize(root)
    try:  # refuse a decision that would break the authority file (E330-E333)
        _parse_authority(new_authority, str(authority_path))
    except ToolkitError as exc:
        raise ReviewError(
            "E605",
            f"this decision would break the authority file: {exc.message}. Accept the candidate "
            "as a variant of that entry (--as ID) or merge first",
            str(authority_path),
        ) from None
    writes: dict[Path, tuple[bytes, bytes]] = {authority_path: (authority_data, new_authority)}
    count = 0
    if action is not None:
        refs = {f"#{k}" for k in keys} | {f"auth:{k}" for k in keys}
        for doc in dict.fromkeys(o.document for o in occ):
            path = corpus / doc
            before = path.read_bytes()
            after, n = repoint(before, refs, action, editor)
            for k in keys:  # the document's own candidate entry is stale now
                after = remove_standoff_entry(after, k)
            if n:
                after = _declare_in_tei(after, editor, now, f"Review: {summary} ({n} mentions).")
                writes[path] = (before, after)
                count += n
    _journal(corpus, summary, editor, now, writes)
    for path, (_, after) in writes.items():
        atomic_write(path, after)
    files = tuple(p.relative_to(corpus).as_posix() for p in writes)
    return Decision(summary, files, count)


def _journal(
    corpus: Path, summary: str, editor: str, now: str, writes: dict[Path, tuple[bytes, bytes]]
) -> None:
    folder = corpus / JOURNAL
    folder.mkdir(exist_ok=True)
    number = len(list(folder.glob("*.json"))) + 1
    while (folder / f"{number:04d}.json").exists():
        number += 1
    record = {
        "summary": summary,
        "editor": editor,
        "when": now,
        "files": [
            {
                "path": _rel(p, corpus),
                "before": base64.b64encode(zlib.compress(before, 9)).decode(),
                "after": hashlib.sha256(after).hexdigest(),
            }
            for p, (before, after) in writes.items()
        ],
    }
    atomic_write(folder / f"{number:04d}.json", json.dumps(record, indent=1).encode())


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


# --- minimal byte edits -------------------------------------

_START = re.compile(rb"<(persName|placeName|orgName|name|rs)(\s[^<>]*?)?(/?)>")
_ATTR = re.compile(rb"""(\s)([\w:.-]+)(\s*=\s*)("[^"]*"|'[^']*')""")
_SKIP = re.compile(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>", re.S)


def repoint(data: bytes, refs: set[str], action: _Repoint, editor: str) -> tuple[bytes, int]:
    """Rewrite the name elements whose ``@ref`` is in ``refs``: new ``@ref`` and ``@resp``
    values (and element name), or the tags removed (``action.ref is None``). Only those bytes
    change. Returns the new bytes and the number of elements changed."""
    skipped = [m.span() for m in _SKIP.finditer(data)]
    edits: list[tuple[int, int, bytes]] = []
    count = 0
    for m in _START.finditer(data):
        if m.group(3) or any(a <= m.start() < z for a, z in skipped):
            continue
        attrs = {a.group(2): a for a in _ATTR.finditer(m.group(2) or b"")}
        ref = attrs.get(b"ref")
        if ref is None or ref.group(4)[1:-1].decode() not in refs:
            continue
        tag = m.group(1)
        end = _end_tag(data, m.end(), tag)
        if end is None:
            continue
        count += 1
        if action.ref is None:
            edits.append((m.start(), m.end(), b""))
            edits.append((end[0], end[1], b""))
            continue
        inner = bytearray(m.group(2))
        changes = [(ref.start(4), ref.end(4), f'"{action.ref}"'.encode())]
        resp = attrs.get(b"resp")
        if resp is not None:
            changes.append((resp.start(4), resp.end(4), f'"#{editor}"'.encode()))
        for s, e, value in sorted(changes, reverse=True):
            inner[s:e] = value
        if resp is None:
            inner += f' resp="#{editor}"'.encode()
        new_tag = action.tag.encode() if action.tag else tag
        edits.append((m.start(), m.end(), b"<" + new_tag + bytes(inner) + b">"))
        if new_tag != tag:
            edits.append((end[0], end[1], b"</" + new_tag + b">"))
    out = bytearray(data)
    for s, e, value in sorted(edits, reverse=True):
        out[s:e] = value
    return bytes(out), count


def remove_standoff_entry(data: bytes, ident: str) -> bytes:
    """``data`` without the ``standOff`` entry ``ident`` (its bytes and its line)."""
    at = data.find(b"<standOff")
    if at < 0:
        return data
    pattern = re.compile(
        rb"\n?[ \t]*<(person|place|org)\s+xml:id=\"" + re.escape(ident.encode()) + rb"\"[^>]*>"
        rb".*?</\1>",
        re.S,
    )
    m = pattern.search(data, at)
    return data[: m.start()] + data[m.end() :] if m else data


def _end_tag(data: bytes, pos: int, tag: str | bytes) -> tuple[int, int] | None:
    tag = tag if isinstance(tag, bytes) else tag.encode()
    pattern = re.compile(rb"<(/?)" + re.escape(tag) + rb"(?:\s[^<>]*?)?(/?)>")
    depth = 1
    for m in pattern.finditer(data, pos):
        if m.group(2):
            continue
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.span()
    return None


def _declare_in_tei(data: bytes, editor: str, now: str, text: str) -> bytes:
    """Insert the reviewer's respStmt (once) and one change, as bytes before the closing tags."""
    if not re.search(rb'xml:id="' + re.escape(editor.encode()) + rb'"', data):
        data = _insert_before(
            data,
            b"</titleStmt>",
            f'<respStmt xml:id="{editor}"><resp>review of names</resp>'
            f"<name>{html.escape(editor)}</name></respStmt>".encode(),
        )
    change = f'<change when="{now}" who="#{editor}">{html.escape(text, quote=False)}</change>'
    if b"</revisionDesc>" in data:
        return _insert_before(data, b"</revisionDesc>", change.encode())
    return _insert_before(data, b"</teiHeader>", f"<revisionDesc>{change}</revisionDesc>".encode())


def _insert_before(data: bytes, closing: bytes, element: bytes) -> bytes:
    at = data.find(closing)
    if at < 0:
        return data
    line_start = data.rfind(b"\n", 0, at) + 1
    indent = data[line_start:at]
    if indent.strip():  # the closing tag is not on a line of its own
        return data[:at] + element + data[at:]
    return data[:at] + b"  " + element + b"\n" + indent + data[at:]


# --- the review page -------------------------------------


def review_page(queue: list[Candidate], *, corpus: str = "corpus", title: str = "Review") -> str:
    """``index/review.html``: the queue with contexts and the exact commands for each entity."""
    esc = html.escape
    rows = []
    for c in queue:
        forms = ", ".join(f"{esc(f)} ({n})" for f, n in c.forms)
        ids = " ".join(f"{esc(t)} {esc(v)}" for t, v in c.idnos)
        contexts = "".join(
            "<li>" + esc(ctx).replace("[", "<mark>", 1).replace("]", "</mark>", 1) + "</li>"
            for ctx in c.contexts
        )
        commands = "".join(f"<li><code>{esc(cmd)}</code></li>" for cmd in c.commands(corpus))
        hints = "".join(f"<li>{esc(s)}</li>" for s in c.suggestions)
        rows.append(
            f'<section id="{esc(c.id)}"><h2>{esc(c.main)} <small>{esc(c.type)}, '
            f"{c.count} mention(s) in {c.document_count} document(s), {esc(c.source)}"
            f"</small></h2><p>Forms: {forms}"
            + (f"; roles: {esc(', '.join(c.roles))}" if c.roles else "")
            + (f"; identifiers: {ids}" if ids else "")
            + f"</p><p>Documents: {esc(', '.join(c.documents))}"
            + (
                f" and {c.document_count - len(c.documents)} more"
                if c.document_count > len(c.documents)
                else ""
            )
            + "</p>"
            + f'<ul class="contexts">{contexts}</ul>'
            + (f'<ul class="hints">{hints}</ul>' if hints else "")
            + f'<ul class="commands">{commands}</ul></section>'
        )
    body = "\n".join(rows) or "<p>Nothing to review: every name points to a reviewed entry.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title>"
        '<link rel="stylesheet" href="register.css"></head><body>'
        f"<h1>{esc(title)}: {len(queue)} candidate entities</h1>"
        "<p>Most frequent first. Each decision updates authority.xml and every mention in tei/; "
        "<code>toolkit review undo</code> reverts the last one.</p>\n"
        f"{body}\n</body></html>\n"
    )


def candidate_of(kind: str, name: str) -> str:
    """The candidate id a name gets (for scripts): see :func:`toolkit.names.candidate_id`."""
    return candidate_id(kind, name)
