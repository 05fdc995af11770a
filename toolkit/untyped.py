"""The packaged RELAX NG without the datatype checks that Python makes anyway.

libxml2 spends about half of its RELAX NG time on datatype checks of attribute values (NCName,
anyURI, lists of anyURI): it looks each type up by name again and checks every value on every
state it follows, and a tagged document has thousands of such values (an ``xml:id``, a
``@ref`` and a ``@resp`` on every name, a proposal's ``@target`` and ``@ana``). Most of them
are values that :func:`toolkit.validate._passing_attributes` already reads to prove the rules
pass.

So a document that passes is checked against the *untyped* schema, the packaged one with those
datatypes made ``<text/>``, and the values read are checked in Python, all of an attribute in
one match of a regular expression, against a grammar narrower than the datatype's (ASCII
NCNames; URIs of the shapes ``#id``, ``prefix:rest``, ``scheme://host/path``, a relative path,
each with an optional fragment). The untyped schema accepts a superset of the packaged one, and
every value it leaves unchecked passes the datatype whenever its narrower grammar matches, so
a document valid against the untyped schema whose values all match is valid against the
packaged one. Anything else (a value outside the narrower grammars, an invalid document) is
checked against the packaged schema, which alone reports problems: the output is the same by
construction.

Which attributes are untyped is derived from the schema, not written down: an attribute pattern
is untyped when its datatype is NCName, anyURI or the ``pointers`` list and every element it
can belong to is one whose values are read (:data:`READ`): ``xml:id`` and ``@resp`` are read
on every element, ``@ref`` on the name elements.
A schema of another shape (elements outside the TEI namespace, a name class, an include, a
``combine``) is not untyped at all.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from lxml import etree

RNG = "{http://relaxng.org/ns/structure/1.0}"
XSD = "http://www.w3.org/2001/XMLSchema-datatypes"
TEI_NS = "http://www.tei-c.org/ns/1.0"

# Narrower than the datatypes as libxml2 checks them (tests/test_untyped.py holds each to
# libxml2 on generated values): ASCII names; URIs with no percent escape, query or port.
_NAME = r"[A-Za-z_][A-Za-z0-9._-]*"
_PCHAR = r"[A-Za-z0-9._~!$&()*+,;=:@-]"
_FRAGMENT = r"(?:#[A-Za-z0-9._~!$&()*+,;=:@/?-]*)?"
_URI = (
    r"(?:#[A-Za-z0-9._~!$&()*+,;=:@/?-]*"  # a fragment: #id
    r"|[A-Za-z][A-Za-z0-9+.-]*:"  # a scheme or prefix, then
    r"(?://[A-Za-z0-9.-]*(?:/[A-Za-z0-9._~!$&()*+,;=:@/-]*)?"  # //host/path
    rf"|(?:{_PCHAR}[A-Za-z0-9._~!$&()*+,;=:@/-]*)?){_FRAGMENT}"  # or a path not starting /
    rf"|[A-Za-z0-9._~!$&()*+,;=@-]+(?:/[A-Za-z0-9._~!$&()*+,;=:@/-]*)?{_FRAGMENT})"  # relative
)
URI = re.compile(_URI)
URIS = re.compile(rf"{_URI}(?: {_URI})*")
# many values joined by NUL (which no XML value holds) are checked in one match
KINDS = {
    "ncname": re.compile(rf"{_NAME}(?:\x00{_NAME})*"),
    "uri": re.compile(rf"{_URI}(?:\x00{_URI})*"),
    "uris": re.compile(rf"{URIS.pattern}(?:\x00{URIS.pattern})*"),
}
NCNAMES = KINDS["ncname"]

NAMES = frozenset({"persName", "placeName", "orgName", "rs"})
# where toolkit.validate's quick proof reads an attribute's values: on every element (None),
# or on the elements of these names. (A proposal's @target and @ana are not read: reading them
# with XPath costs more than libxml2's checks of them.)
READ: dict[str, frozenset[str] | None] = {"xml:id": None, "resp": None, "ref": NAMES}


def untyped(grammar: etree._Element) -> tuple[etree._Element, dict[str, frozenset[str]]] | None:
    """A copy of ``grammar`` with the read attributes' datatypes made ``<text/>``, and for each
    such attribute the kinds (``ncname``, ``uri``, ``uris``) its values must be checked as;
    ``None`` when the grammar's shape is not one this can follow."""
    grammar = etree.fromstring(etree.tostring(grammar))
    owners = _shape(grammar)
    if owners is None:
        return None
    defines = {d.get("name"): d for d in grammar.iter(RNG + "define")}
    relaxed: dict[str, set[str]] = defaultdict(set)
    for attribute, elements in owners.items():
        name = attribute.get("name")
        kind = _kind(attribute, defines)
        if kind is None or name not in READ or None in elements:
            continue
        where = READ[name]
        if where is not None and not elements <= where:
            continue
        for child in list(attribute):
            attribute.remove(child)
        etree.SubElement(attribute, RNG + "text")
        relaxed[name].add(kind)
    return grammar, {name: frozenset(kinds) for name, kinds in relaxed.items()}


def _shape(grammar: etree._Element) -> dict[etree._Element, set[str | None]] | None:
    """For each attribute pattern the names of the elements it can belong to."""
    if grammar.tag != RNG + "grammar" or grammar.get("ns") != TEI_NS:
        return None
    for el in grammar.iter(RNG + "*"):
        local = el.tag[len(RNG) :]
        if el is not grammar and (local in {"include", "externalRef", "parentRef", "grammar"}):
            return None
        if el is not grammar and el.get("ns") is not None:
            return None  # the names below are then in another namespace
        if local in {"define", "start"} and el.get("combine"):
            return None
        if local in {"element", "attribute"} and el.get("name") is None:
            return None
    defines: dict[str, etree._Element] = {}
    for d in grammar.iter(RNG + "define"):
        if d.get("name") in defines:
            return None
        defines[d.get("name")] = d
    owners: dict[etree._Element, set[str | None]] = defaultdict(set)
    walked_elements: set[etree._Element] = set()
    walked_defines: set[tuple[str, str | None]] = set()
    pending: list[tuple[etree._Element, str | None]] = [
        (s, None) for s in grammar.iterchildren(RNG + "start")
    ]
    while pending:
        node, owner = pending.pop()
        for child in node.iterchildren(RNG + "*"):
            local = child.tag[len(RNG) :]
            if local == "element":
                if child not in walked_elements:
                    walked_elements.add(child)
                    pending.append((child, child.get("name")))
            elif local == "attribute":
                owners[child].add(owner)
            elif local == "ref":
                target = child.get("name")
                if target not in defines:
                    return None
                if (target, owner) not in walked_defines:
                    walked_defines.add((target, owner))
                    pending.append((defines[target], owner))
            else:
                pending.append((child, owner))
    return owners


def _kind(attribute: etree._Element, defines: dict[str, etree._Element]) -> str | None:
    """``ncname``, ``uri`` or ``uris`` when the attribute's value is exactly that datatype."""
    content = list(attribute.iterchildren(RNG + "*"))
    if len(content) != 1:
        return None
    (only,) = content
    if only.tag == RNG + "ref" and only.get("name") in defines:
        body = list(defines[only.get("name")].iterchildren(RNG + "*"))
        if len(body) == 1 and body[0].tag == RNG + "list":
            inner = list(body[0].iterchildren(RNG + "*"))
            if len(inner) == 1 and inner[0].tag == RNG + "oneOrMore":
                data = list(inner[0].iterchildren(RNG + "*"))
                if len(data) == 1 and _datatype(data[0]) == "anyURI":
                    return "uris"
        return None
    return {"NCName": "ncname", "anyURI": "uri"}.get(_datatype(only) or "")


def _datatype(node: etree._Element) -> str | None:
    """The XML Schema datatype a bare ``<data>`` names (no parameter, no except)."""
    if node.tag != RNG + "data" or len(node):
        return None
    library = None
    for el in node.iterancestors():
        library = el.get("datatypeLibrary")
        if library is not None:
            break
    library = node.get("datatypeLibrary", library)
    return node.get("type") if library == XSD else None


def values_hold(
    relaxed: dict[str, frozenset[str]], ids: list[str], resps: Iterable[str], refs: Iterable[str]
) -> bool:
    """Whether every value the untyped schema leaves unchecked matches its narrower grammar:
    the ``xml:id`` values (``ids``), the ``@resp`` values and the names' ``@ref`` values, as
    the quick proof read them. One match per kind and attribute."""
    values = {"xml:id": ids, "resp": resps, "ref": refs}
    for name, kinds in relaxed.items():
        found = list(values[name])
        if not found:
            continue
        joined = "\x00".join(found)
        if not all(KINDS[kind].fullmatch(joined) for kind in kinds):
            return False
    return True
