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

The names (:data:`LOOSE`) go further: in the untyped schema they may have any attribute, and
the quick proof notes each name whose attributes are not a machine tag's three (``@ref``,
``@resp``, ``xml:id``, all read); :func:`values_hold` checks that name's attributes against
what the packaged schema allows it. libxml2 follows two states for every optional attribute
present, so a machine tag's three cost it eight; a quarter of its remaining time went there.

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

from .tei import TEI_NS, XML_ID, XML_NS

RNG = "{http://relaxng.org/ns/structure/1.0}"
XSD = "http://www.w3.org/2001/XMLSchema-datatypes"

# Narrower than the datatypes as libxml2 checks them (tests/test_untyped.py holds each to
# libxml2 on generated values): ASCII names; URIs with no percent escape, query or port.
_NAME = r"[A-Za-z_][A-Za-z0-9._-]*"
_CHARS = "-A-Za-z0-9._~!$&()*+,;=@"  # unreserved and sub-delimiters, and @ ('-' first: literal)
_FRAGMENT = rf"(?:#[{_CHARS}:/?]*)?"
_URI = (
    rf"(?:#[{_CHARS}:/?]*"  # a fragment: #id
    r"|[A-Za-z][A-Za-z0-9+.-]*:"  # a scheme or prefix, then
    rf"(?://[A-Za-z0-9.-]*(?:/[{_CHARS}:/]*)?"  # //host/path
    rf"|(?:[{_CHARS}:][{_CHARS}:/]*)?){_FRAGMENT}"  # or a path not starting /
    rf"|[{_CHARS}]+(?:/[{_CHARS}:/]*)?{_FRAGMENT})"  # a relative path
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
# the elements whose attributes the quick proof looks at, one by one (the names)
LOOSE = frozenset({"persName", "placeName", "orgName"})
# where toolkit.validate's quick proof reads an attribute's values: on every element (None),
# or on the elements of these names. (A proposal's @target and @ana are not read: reading them
# with XPath costs more than libxml2's checks of them.)
READ: dict[str, frozenset[str] | None] = {"xml:id": None, "resp": None, "ref": NAMES}


def untyped(
    grammar: etree._Element,
) -> tuple[etree._Element, dict[str, frozenset[str]], dict[str, dict[str, object]]] | None:
    """A copy of ``grammar`` with the read attributes' datatypes made ``<text/>`` and the names'
    attributes made any attributes; for each such read attribute the kinds (``ncname``,
    ``uri``, ``uris``) its values must be checked as, and for each loose name the attributes
    it may have (:func:`_loosen`); ``None`` when the grammar's shape is not one this can
    follow."""
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
    loose = _loosen(grammar, defines, relaxed)
    return grammar, {name: frozenset(kinds) for name, kinds in relaxed.items()}, loose


ANY = "any"  # an attribute value that may be anything (or is checked as read, see READ)
LANGUAGE = re.compile(r"[a-z]{2,3}(?:-(?:[A-Z]{2}|[0-9]{3}|[A-Z][a-z]{3}))?")  # en, zh-Hans
MACHINE_TAG = ["ref", "resp", XML_ID]  # a machine tag's attributes, as the toolkit writes them
_ANY_ATTRIBUTES = "toolkit.untyped.anyAttributes"


def _loosen(
    grammar: etree._Element, defines: dict[str, etree._Element], relaxed: dict[str, set[str]]
) -> dict[str, dict[str, object]]:
    """Make the attributes of the names (:data:`LOOSE`) any attributes in the untyped schema,
    and say which each may have with what values: the quick proof looks at every name, and
    libxml2 follows two states for each optional attribute present (a machine tag's ``@ref``,
    ``@resp`` and ``xml:id``: eight). Only a name whose attributes are all optional, each a
    value list, a language, text, or read and checked as :data:`READ` says, for which a
    machine tag's attributes are all read, and whose every pattern allows the same, is made
    loose; the others keep their attributes."""
    if _ANY_ATTRIBUTES in defines:
        return {}
    patterns: dict[str, list[tuple[etree._Element, list[etree._Element], dict[str, object]]]]
    patterns = defaultdict(list)
    for element in grammar.iter(RNG + "element"):
        name = element.get("name")
        if name not in LOOSE:
            continue
        attribute_only = []
        allowed: dict[str, object] | None = {}
        for child in element.iterchildren(RNG + "*"):
            leaves = _optional_attributes(child, defines, set())
            if leaves is None:
                if _has_attributes(child, defines):
                    allowed = None  # an attribute mixed with content: not followed
                continue
            attribute_only.append(child)
            for leaf in leaves:
                key, value = _clark(leaf), _values(leaf, defines)
                if allowed is None or value is None or key is None or key in allowed:
                    allowed = None
                    break
                allowed[key] = value
        patterns[name].append((element, attribute_only, allowed))  # type: ignore[arg-type]
    loose: dict[str, dict[str, object]] = {}
    for name, found in patterns.items():
        tables = [allowed for _, _, allowed in found]
        first = tables[0]
        if first is None or any(table != first for table in tables):
            continue
        if not all(first.get(key) == ANY for key in MACHINE_TAG):
            continue
        if not all(attr in relaxed for attr in ("ref", "resp", "xml:id")):
            continue
        for element, attribute_only, _ in found:
            at = list(element).index(attribute_only[0]) if attribute_only else 0
            for child in attribute_only:
                element.remove(child)
            # through a define: libxml2 checks that faster than the same pattern written here
            element.insert(at, etree.Element(RNG + "ref", name=_ANY_ATTRIBUTES))
        loose[name] = first
    if loose:
        anything = etree.SubElement(grammar, RNG + "define", name=_ANY_ATTRIBUTES)
        attribute = etree.SubElement(
            etree.SubElement(anything, RNG + "zeroOrMore"), RNG + "attribute"
        )
        etree.SubElement(attribute, RNG + "anyName")
        etree.SubElement(attribute, RNG + "text")
    return loose


def _optional_attributes(
    node: etree._Element, defines: dict[str, etree._Element], seen: set[str]
) -> list[etree._Element] | None:
    """The attributes ``node`` consists of, each optional on its own (``optional`` holding one
    ``attribute``, through refs and groups), or ``None`` when it holds anything else."""
    local = node.tag[len(RNG) :]
    children = list(node.iterchildren(RNG + "*"))
    if local == "optional":
        if len(children) == 1 and children[0].tag == RNG + "attribute":
            return children
        return None
    if local == "ref":
        name = node.get("name")
        if name in seen or name not in defines:
            return None
        children = list(defines[name].iterchildren(RNG + "*"))
        seen = seen | {name}
    elif local != "group":
        return None
    leaves: list[etree._Element] = []
    for child in children:
        found = _optional_attributes(child, defines, seen)
        if found is None:
            return None
        leaves += found
    return leaves


def _has_attributes(
    node: etree._Element, defines: dict[str, etree._Element], seen: frozenset[str] = frozenset()
) -> bool:
    """Whether ``node`` gives the element it is in an attribute (not entering elements)."""
    local = node.tag[len(RNG) :]
    if local == "attribute":
        return True
    if local == "element":
        return False
    if local == "ref":
        name = node.get("name")
        if name in seen:
            return False
        if name not in defines:
            return True  # not followed: assume the worst
        return any(
            _has_attributes(child, defines, seen | {name})
            for child in defines[name].iterchildren(RNG + "*")
        )
    return any(_has_attributes(child, defines, seen) for child in node.iterchildren(RNG + "*"))


def _clark(attribute: etree._Element) -> str | None:
    """An attribute pattern's name as lxml spells it (``{ns}local``), or ``None``."""
    name = attribute.get("name", "")
    prefix, colon, local = name.rpartition(":")
    if not colon:
        return name
    namespace = XML_NS if prefix == "xml" else attribute.nsmap.get(prefix)
    return f"{{{namespace}}}{local}" if namespace else None


def _values(attribute: etree._Element, defines: dict[str, etree._Element]) -> object | None:
    """What an attribute pattern allows, as Python checks it: :data:`ANY` (text), a set of
    values, :data:`LANGUAGE`; ``None`` for anything else."""
    only = _only(attribute, defines)
    if only is None:
        return None
    if only.tag == RNG + "text":
        return ANY
    if only.tag == RNG + "choice":
        values = list(only.iterchildren(RNG + "*"))
        if values and all(
            v.tag == RNG + "value" and v.get("type") in (None, "token") and not len(v)
            for v in values
        ):
            return frozenset(v.text or "" for v in values)
        return None
    return LANGUAGE if _datatype(only) == "language" else None


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
    only = _only(attribute, defines)
    if only is None:
        return None
    if only.tag == RNG + "list":
        repeated = _only(only, defines)
        if repeated is not None and repeated.tag == RNG + "oneOrMore":
            data = _only(repeated, defines)
            if data is not None and _datatype(data) == "anyURI":
                return "uris"
        return None
    return {"NCName": "ncname", "anyURI": "uri"}.get(_datatype(only) or "")


def _only(node: etree._Element, defines: dict[str, etree._Element]) -> etree._Element | None:
    """The one pattern ``node`` holds, through refs (``None`` if it holds none or several)."""
    seen: set[str] = set()
    while True:
        content = list(node.iterchildren(RNG + "*"))
        if len(content) != 1:
            return None
        (node,) = content
        if node.tag != RNG + "ref":
            return node
        name = node.get("name")
        if name in seen or name not in defines:
            return None
        seen.add(name)
        node = defines[name]


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
    relaxed: dict[str, frozenset[str]],
    loose: dict[str, dict[str, object]],
    read: dict[str, Iterable[str]],
    odd: Iterable[etree._Element],
) -> bool:
    """Whether every value the untyped schema leaves unchecked matches its narrower grammar:
    the values ``read`` by the quick proof (``xml:id``, ``resp``, ``ref``: one match per kind
    and attribute), and the attributes of the names that are not a machine tag's three
    (``odd``), each allowed on its name with its value."""
    for name, kinds in relaxed.items():
        found = list(read[name])
        if not found:
            continue
        joined = "\x00".join(found)
        if not all(KINDS[kind].fullmatch(joined) for kind in kinds):
            return False
    for el in odd:
        allowed = loose.get(etree.QName(el).localname)
        if allowed is None:
            continue
        keys = el.keys()
        if len(keys) > len(allowed):  # some key is not allowed (and a get per key is linear)
            return False
        for key in keys:
            check = allowed.get(key)
            if check is None:
                return False
            if check == ANY:
                continue
            value = el.get(key)
            if isinstance(check, frozenset):
                if value not in check:
                    return False
            elif check.fullmatch(value) is None:  # type: ignore[attr-defined]
                return False
    return True
