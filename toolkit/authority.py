"""The authority file: one TEI entry per real-world entity, with every name it goes by.

Layout (``corpus/authority.xml``): a TEI document whose body holds ``listPerson``,
``listPlace`` and ``listOrg``. Each ``person`` / ``place`` / ``org`` has an ``xml:id``, one name
with ``type="main"`` and any number of other names (variants, transliterations, abbreviations),
optionally ``idno`` s. Lists with ``type="candidates"`` hold unreviewed entries proposed by the
tagger (``toolkit tag --update-authority``) until an editor reviews them. A ``list`` with
``type="rejected"`` holds strings an editor rejected (``toolkit review reject``): they are never
tagged again (:attr:`Authority.rejected`).

Checks (:func:`authority_problems`, raised by :func:`parse_authority` unless ``strict=False``),
over reviewed entries (candidate lists are proposals and may overlap):

- E330 a name shared by two entries (matching would pick one silently);
- E331 a name shared by entries of two types (a person would become a place);
- E332 an ``xml:id`` that is not an XML name (spaces, a leading digit, a colon);
- E333 a one-word name that is a common word ("the", "The", "and"; an acronym in capitals such
  as "US" is not one): it would tag every occurrence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from .errors import AuthorityError, TEIError
from .tei import NS, XML_ID, E, T, parse_bytes, serialize

TYPES = ("person", "place", "org")
LIST_OF = {"person": "listPerson", "place": "listPlace", "org": "listOrg"}
NAME_OF = {"person": "persName", "place": "placeName", "org": "orgName"}
TYPE_OF_NAME = {v: k for k, v in NAME_OF.items()}


@dataclass(frozen=True)
class Entry:
    id: str
    type: str
    main: str
    variants: tuple[str, ...] = ()
    idnos: tuple[tuple[str, str], ...] = ()
    reviewed: bool = True
    resp: str | None = None  # who proposed it (e.g. "#toolkit-gazetteer"), written as @resp
    line: int = field(default=0, compare=False)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.main, *self.variants)


@dataclass(frozen=True)
class Authority:
    entries: tuple[Entry, ...]
    path: str = "<authority>"
    rejected: frozenset[str] = frozenset()  # strings that are never names (review reject)

    def by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}


def parse_authority(data: bytes, path: str = "<authority>", *, strict: bool = True) -> Authority:
    """Read an authority file; duplicate ids, unknown entry types, nameless entries raise, and
    with ``strict`` (the default) the first of :func:`authority_problems` too."""
    try:
        root = parse_bytes(data, path).getroot()
    except TEIError as exc:
        raise AuthorityError("E304", exc.message, path, exc.line) from None
    body = root.find("tei:text/tei:body", NS)
    if root.tag != T + "TEI" or body is None:
        raise AuthorityError("E304", "not a TEI document with a text/body", path)
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for lst in body.iter(*(T + name for name in LIST_OF.values())):
        kind = next(k for k, v in LIST_OF.items() if T + v == lst.tag)
        reviewed = lst.get("type") != "candidates"
        for el in lst:
            if not isinstance(el.tag, str) or el.tag == T + "head":
                continue
            local = etree.QName(el).localname
            if local != kind:
                raise AuthorityError(
                    "E302",
                    f"<{local}> inside <{lst.tag[len(T) :]}> (line {el.sourceline}): an entry "
                    f"there must be <{kind}>; the types are {', '.join(TYPES)}",
                    path,
                    el.sourceline,
                )
            entries.append(_entry(el, kind, reviewed, path))
            ident = entries[-1].id
            if ident in seen:
                raise AuthorityError(
                    "E301",
                    f"duplicate xml:id {ident!r} (lines {seen[ident]} and {el.sourceline}); "
                    "give each entity one entry and merge the names into it",
                    path,
                    el.sourceline,
                )
            seen[ident] = el.sourceline
    rejected = frozenset(
        " ".join("".join(item.itertext()).split())
        for item in body.iterfind("tei:list[@type='rejected']/tei:item", NS)
        if "".join(item.itertext()).strip()
    )
    authority = Authority(tuple(entries), path, rejected)
    if strict:
        problems = authority_problems(authority)
        if problems:
            raise problems[0]
    return authority


# One-word names that would tag every occurrence of a common word (E333).
COMMON_WORDS = frozenset(
    """a an the and or but of in on at to for from by with as is it its this that these those
    he she we they i you his her our their my your him them us me be was were are has have had
    not no yes all any some one two new old north south east west mr mrs ms dr sir
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()  # noqa: SIM905
)
_NCNAME = re.compile(r"^[^\W\d][\w.-]*$")


def authority_problems(authority: Authority) -> list[AuthorityError]:
    """Names shared by entries or types, bad ids, common one-word names (reviewed entries)."""
    from .names import fold

    problems: list[AuthorityError] = []
    owners: dict[str, Entry] = {}
    for entry in authority.entries:
        if not _NCNAME.match(entry.id):
            problems.append(
                AuthorityError(
                    "E332",
                    f"xml:id {entry.id!r} (line {entry.line}) is not an XML name (no spaces, "
                    "colons or leading digits); use letters, digits, '-', '.', '_'",
                    authority.path,
                    entry.line,
                )
            )
        if not entry.reviewed:
            continue
        for name in entry.names:
            key = fold(name)
            # Matching is case-exact: "US" (capitals) is an acronym, "the" / "The" a word.
            if (key in COMMON_WORDS and not name.isupper()) or (len(key) < 2 and key.isalpha()):
                problems.append(
                    AuthorityError(
                        "E333",
                        f"entry {entry.id!r} has the name {name!r}, a common word: it would tag "
                        "every occurrence; remove it or write a longer form",
                        authority.path,
                        entry.line,
                    )
                )
            other = owners.setdefault(key, entry)
            if other.id == entry.id:
                continue
            code, why = (
                ("E330", "two entries share it; matching would pick one silently")
                if other.type == entry.type
                else ("E331", f"a {other.type} and a {entry.type} share it")
            )
            problems.append(
                AuthorityError(
                    code,
                    f"the name {name!r} belongs to {other.id!r} (line {other.line}) and "
                    f"{entry.id!r} (line {entry.line}): {why}; keep it in one entry "
                    "(or merge the entries)",
                    authority.path,
                    entry.line,
                )
            )
    return problems


def _entry(el: etree._Element, kind: str, reviewed: bool, path: str) -> Entry:
    ident = el.get(XML_ID)
    if not ident:
        raise AuthorityError(
            "E303", f"an entry without xml:id (line {el.sourceline}); add one", path, el.sourceline
        )
    names = [n for n in el.findall(f"tei:{NAME_OF[kind]}", NS) if "".join(n.itertext()).strip()]
    if not names:
        raise AuthorityError(
            "E303",
            f"entry {ident!r} has no {NAME_OF[kind]}; give it a main name",
            path,
            el.sourceline,
        )
    main = next((n for n in names if n.get("type") == "main"), names[0])
    text = [" ".join("".join(n.itertext()).split()) for n in names]
    main_text = " ".join("".join(main.itertext()).split())
    variants = tuple(dict.fromkeys(t for t in text if t != main_text))
    idnos = tuple((i.get("type", ""), (i.text or "").strip()) for i in el.findall("tei:idno", NS))
    return Entry(ident, kind, main_text, variants, idnos, reviewed, el.get("resp"), el.sourceline)


def candidate_id(kind: str, name: str) -> str:
    """A stable id for an unreviewed entry (``cand-person-zhang-qun``) from the normalized name
    (titles, possessive and case aside): see :func:`toolkit.names.candidate_id`."""
    from .names import candidate_id as normalized_id

    return normalized_id(kind, name)


def entry_element(entry: Entry, resp: str | None = None) -> etree._Element:
    """The TEI element of an entry (``person`` / ``place`` / ``org``)."""
    tag = NAME_OF[entry.type]
    el = E(entry.type, xml_id=entry.id, resp=resp or entry.resp)
    el.append(E(tag, entry.main, type="main"))
    for variant in entry.variants:
        el.append(E(tag, variant, type="variant"))
    for kind, value in entry.idnos:
        el.append(E("idno", value, type=kind))
    return el


def add_candidates(data: bytes, candidates: Iterable[Entry], path: str) -> tuple[bytes, int]:
    """The authority file with new candidate entries appended to its candidate lists."""
    authority = parse_authority(data, path)
    known = {e.id for e in authority.entries}
    root = parse_bytes(data, path).getroot()
    body = root.find("tei:text/tei:body", NS)
    added = 0
    for entry in sorted(candidates, key=lambda e: (TYPES.index(e.type), e.id)):
        if entry.id in known:
            continue
        known.add(entry.id)
        lst = body.find(f"tei:{LIST_OF[entry.type]}[@type='candidates']", NS)
        if lst is None:
            lst = E(LIST_OF[entry.type], E("head", "Unreviewed candidates"), type="candidates")
            body.append(lst)
        lst.append(entry_element(entry))
        added += 1
    return serialize(root), added
