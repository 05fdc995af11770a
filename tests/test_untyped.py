"""The untyped schema (toolkit.untyped): what it leaves unchecked, that the narrower grammars
imply the datatypes as libxml2 checks them, and that validation through it decides every
document as the packaged schema does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from test_validate import AUTHORITY, CORPUS, TAGGED_BODY, base_document

from toolkit.tei import parse_bytes
from toolkit.untyped import ANY, LANGUAGE, NCNAMES, RNG, URI, URIS, XSD, untyped, values_hold
from toolkit.validate import (
    Problem,
    _authority_file_problems,
    _authority_problems,
    _clean,
    _errors,
    _exact_rules,
    _packaged,
    _passing_attributes,
    _untyped_valid,
    relaxng,
    validate_bytes,
)

PATH = str(CORPUS / "tei" / "min.xml")
XML = "{http://www.w3.org/XML/1998/namespace}"


def _datatype(body: str) -> etree.RelaxNG:
    return etree.RelaxNG(
        etree.fromstring(
            f'<element name="x" xmlns="http://relaxng.org/ns/structure/1.0" '
            f'datatypeLibrary="{XSD}"><attribute name="v">{body}</attribute></element>'
        )
    )


LIBXML2 = {
    "ncname": _datatype('<data type="NCName"/>'),
    "uri": _datatype('<data type="anyURI"/>'),
    "uris": _datatype('<list><oneOrMore><data type="anyURI"/></oneOrMore></list>'),
    "language": _datatype('<data type="language"/>'),
}


def _accepts(kind: str, value: str) -> bool:
    el = etree.Element("x")
    el.set("v", value)
    return LIBXML2[kind].validate(etree.ElementTree(el))


def test_the_packaged_schema_is_untyped_where_python_reads_the_values():
    grammar = etree.fromstring(_packaged("toolkit.rng"))
    copy, relaxed, loose = untyped(grammar)
    assert relaxed == {
        "xml:id": {"ncname"},
        "resp": {"uris"},
        "ref": {"uris"},
    }

    def typed(tree: etree._Element) -> list[str]:
        return sorted(
            f"{a.getparent().get('name', '')}/@{a.get('name')}"
            for a in tree.iter(RNG + "attribute")
            if a.find(RNG + "data") is not None or a.find(RNG + "ref") is not None
        )

    # the rest keeps its datatypes: @who, the proposals' and ptr/@target are read by no quick
    # proof, so their values are still checked by the schema
    assert set(typed(copy)) < set(typed(grammar))
    assert {"/@who", "/@target"} <= {item[item.index("/") :] for item in typed(copy)}
    assert grammar.find(f"{RNG}define[@name='pointers']/{RNG}list") is not None
    assert copy.find(f"{RNG}define[@name='pointers']/{RNG}list") is not None
    # the names may have any attribute in the untyped schema; Python checks which
    assert sorted(loose) == ["orgName", "persName", "placeName"]
    xml_ns = "{http://www.w3.org/XML/1998/namespace}"
    assert loose["persName"] == {
        "type": {"main", "variant"},
        f"{xml_ns}lang": LANGUAGE,
        "rend": ANY,
        "cert": {"high", "medium", "low", "unknown"},
        "n": ANY,
        "ref": ANY,
        "resp": ANY,
        f"{xml_ns}id": ANY,
    }
    assert loose["placeName"] == loose["orgName"] == loose["persName"]


_ALPHABET = "aZ09._~!$&()*+,;=:@/?#%-' []{}|\\^`\"<>éHans"
_STARTS = ["", "#", "auth:", "https://", "https://a.b/", "a:", "1a:", "//", "a://x:", ":", "a.b"]
_STARTS += ["en", "zh-", "und-", "es-4"]
_PIECE = st.tuples(st.sampled_from(_STARTS), st.text(_ALPHABET, max_size=6)).map("".join)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECE, min_size=1, max_size=2).map(" ".join))
def test_the_narrower_grammars_imply_the_datatypes(value):
    """What the untyped route lets through, libxml2 accepts: a value matching the narrower
    grammar of a kind is valid for that datatype (the converse need not hold)."""
    for kind, grammar in (
        ("ncname", NCNAMES),
        ("uri", URI),
        ("uris", URIS),
        ("language", LANGUAGE),
    ):
        if grammar.fullmatch(value):
            assert _accepts(kind, value), (kind, value)


def test_the_narrower_grammars_take_the_usual_values():
    for value in ["n-df75b8c77f", "toolkit-ner", "_a.b"]:
        assert NCNAMES.fullmatch(value) and _accepts("ncname", value)
    usual = [
        "#n-df75b8c77f",
        "auth:mao-zedong",
        "geonames:2988507",
        "https://www.wikidata.org/wiki/Q5",
        "other.xml#n1",
        "#",
    ]
    for value in usual:
        assert URI.fullmatch(value) and URIS.fullmatch(value) and _accepts("uri", value)
    assert URIS.fullmatch("#toolkit-ner #toolkit-authority")
    # NUL joins many names into one match: a name with NUL or a space is no name
    assert NCNAMES.fullmatch("a\x00b") and not NCNAMES.fullmatch("a b")


def _grammar(body: str, extra: str = "", ns: str = "http://www.tei-c.org/ns/1.0") -> etree._Element:
    return etree.fromstring(
        f'<grammar xmlns="http://relaxng.org/ns/structure/1.0" ns="{ns}" datatypeLibrary="{XSD}">'
        f"<start>{body}</start>{extra}</grammar>"
    )


NAMED = (
    '<element name="TEI"><element name="persName"><attribute name="ref">'
    '<data type="anyURI"/></attribute><attribute name="xml:id"><data type="NCName"/></attribute>'
    "<text/></element>{more}</element>"
)


def test_a_schema_of_another_shape_is_not_untyped():
    """Only what the derivation can follow is untyped: a ref on an element that is not a name,
    a name class, another namespace, a combined or included define."""
    assert untyped(_grammar(NAMED.format(more="")))[1] == {"ref": {"uri"}, "xml:id": {"ncname"}}
    # the same pattern, shared by an element whose @ref the quick proof does not read
    shared = NAMED.replace('<element name="persName">', '<element name="persName"><ref name="a"/>')
    shared = shared.replace('<attribute name="ref"><data type="anyURI"/></attribute>', "")
    extra = '<define name="a"><attribute name="ref"><data type="anyURI"/></attribute></define>'
    more = '<element name="ptr"><ref name="a"/><empty/></element>'
    assert untyped(_grammar(shared.format(more=""), extra))[1] == {
        "ref": {"uri"},
        "xml:id": {"ncname"},
    }
    assert untyped(_grammar(shared.format(more=more), extra))[1] == {"xml:id": {"ncname"}}
    # a datatype with a parameter, or of another library, stays
    pattern = '<element name="TEI"><attribute name="xml:id"><data type="NCName"><param name="pattern">a.*</param></data></attribute></element>'
    assert untyped(_grammar(pattern))[1] == {}
    other = '<element name="TEI"><attribute name="xml:id"><data type="NCName" datatypeLibrary="urn:x"/></attribute></element>'
    assert untyped(_grammar(other))[1] == {}
    for odd in (
        "<element><anyName/><empty/></element>",
        '<element name="TEI"><ref name="a"/></element>',  # an undefined define
        '<element name="TEI" ns="urn:x"><empty/></element>',
    ):
        assert untyped(_grammar(odd)) is None, odd
    assert untyped(_grammar(NAMED.format(more=""), ns="urn:x")) is None
    combined = _grammar(
        '<element name="TEI"><ref name="a"/></element>',
        '<define name="a" combine="choice"><empty/></define>',
    )
    assert untyped(combined) is None
    included = _grammar(
        "<ref name='a'/>",
        '<include href="x.rng"/><define name="a"><element name="TEI"><empty/></element></define>',
    )
    assert untyped(included) is None


def test_only_names_of_one_simple_shape_are_loose():
    """A name is loose (any attribute in the untyped schema, checked in Python) only when its
    attributes are all optional, each a value list, a language, text or read, and every
    pattern of that name allows the same."""
    rare = (
        '<optional><attribute name="type"><choice><value>a</value></choice></attribute></optional>'
    )
    usual = "".join(
        f'<optional><attribute name="{n}"><data type="NCName"/></attribute></optional>'
        for n in ("ref", "resp", "xml:id")
    )
    usual = usual.replace('"ref"><data type="NCName"/>', '"ref"><data type="anyURI"/>')
    usual = usual.replace('"resp"><data type="NCName"/>', '"resp"><data type="anyURI"/>')

    def loose(*names: str) -> dict:
        return untyped(_grammar(f'<element name="TEI">{"".join(names)}</element>'))[2]

    name = f'<element name="persName">{rare}{usual}<text/></element>'
    assert loose(name) == {"persName": {"type": {"a"}, "ref": ANY, "resp": ANY, f"{XML}id": ANY}}
    required = name.replace(rare, '<attribute name="type"><text/></attribute>')
    tokens = name.replace("<choice><value>a</value></choice>", '<data type="token"/>')
    grouped = name.replace(
        rare, f"<optional><group>{rare}{rare.replace('type', 'n')}</group></optional>"
    )
    other = f'<element name="persName">{usual}<text/></element>'
    for odd in (required, tokens, grouped, name + other, name.replace("persName", "rs")):
        assert loose(odd) == {}, odd


def test_values_hold_only_when_every_value_matches():
    _, relaxed, loose = untyped(etree.fromstring(_packaged("toolkit.rng")))

    def hold(ids=(), resps=(), refs=(), odd=()) -> bool:  # type: ignore[no-untyped-def]
        read = {"xml:id": list(ids), "resp": set(resps), "ref": set(refs)}
        return values_hold(relaxed, loose, read, [etree.fromstring(x) for x in odd])

    assert hold(["n1"], {"#toolkit-ner"}, {"auth:x", "#n1"})
    assert hold()
    assert not hold([""])  # an empty id is no NCName
    assert not hold(["n1", "né"])
    assert not hold(["n1"], {"#a  #b"})
    assert not hold(["n1"], refs={"auth:x", "auth:a%20b"})
    tei = 'xmlns="http://www.tei-c.org/ns/1.0"'
    assert hold(odd=[f'<persName {tei} type="main" xml:lang="zh-Hans" cert="low" n="1"/>'])
    assert hold(odd=[f'<rs {tei} type="anything" foo="1"/>'])  # not loose: the schema checks
    for attributes in ('type="other"', 'xml:lang="EN"', 'cert="certain"', 'foo="1"'):
        assert not hold(odd=[f"<placeName {tei} {attributes}/>"]), attributes
    assert not hold(odd=[f'<orgName {tei} xmlns:x="urn:x" x:n="1"/>'])
    many = " ".join(f'a{i}="1"' for i in range(20))
    assert not hold(odd=[f"<persName {tei} {many}/>"])


def _packaged_route(data: bytes, path: str, authority: str | None) -> list[Problem]:
    """validate_bytes as it was before the untyped route: the packaged schema and the exact
    rules on every document."""
    tree = parse_bytes(data, path)
    problems = [
        Problem(path, e.line, max(e.column, 1), "error", "RNG", _clean(e.message))
        for e in _errors(relaxng(), tree)
    ]
    problems += _exact_rules(tree, path)
    problems += _authority_problems(tree, path, authority)
    problems += _authority_file_problems(data, tree, path)
    return sorted(problems, key=lambda p: (p.line, p.column, p.code))


# values the narrow grammars take (drawn five times as often), values the datatypes take
# but the narrow grammars do not, and values the datatypes refuse
_ID = ["n3", "n4", "cand-person-x"] * 5 + ["né", "n·1", " n5", "1n", "n:1", "", "a b"]
_URI_UNUSUAL = ["auth:a%20b", "https://h:80/x", "auth:é", "#", "a:b c"]
_URI_BAD = ["#a#b", "%zz", "http://[", "::"]
_URI = ["#toolkit-ner", "auth:mao-zedong", "#cand-person-x", "auth:zhou-enlai"] * 5
_URI += _URI_UNUSUAL + _URI_BAD
_RESP = ["#toolkit-ner", "#toolkit-authority"] * 5 + ["#toolkit-ner #toolkit-authority", "#"]
_TYPE = ["persName", "placeName", "orgName"] * 5 + ["né", "a b", "1x", "a:b"]


def _maybe(values: list[str]):  # type: ignore[no-untyped-def]
    return st.one_of(st.none(), st.sampled_from(values))


def _attributes(pairs) -> str:  # type: ignore[no-untyped-def]
    return "".join(f' {key}="{value}"' for key, value in pairs if value is not None)


# attributes a name may have besides a machine tag's three, good and bad
_EXTRA = [
    ("type", "main"),
    ("type", "variant"),
    ("type", "other"),
    ("xml:lang", "en"),
    ("xml:lang", "zh-Hans"),
    ("xml:lang", "EN"),
    ("xml:lang", "1"),
    ("cert", "low"),
    ("cert", " low"),
    ("cert", "sure"),
    ("n", "3"),
    ("rend", "bold"),
    ("foo", "1"),
    ("x:n", "1"),
]
_UNIQUE = "(unique)"  # an id made unique in the document: the rules pass, often
_NAME = st.tuples(
    st.sampled_from(["persName", "placeName", "orgName", "rs"]),
    st.one_of(st.none(), st.sampled_from(_URI[:8] * 3 + _URI)),
    st.one_of(st.none(), st.sampled_from(_RESP)),
    st.one_of(st.none(), st.sampled_from([_UNIQUE] * 20 + _ID)),
    st.one_of(st.just([]), st.lists(st.sampled_from(_EXTRA), max_size=2, unique_by=lambda a: a[0])),
    st.booleans(),  # the extra attributes first
)
_SPAN = st.tuples(
    _maybe(_TYPE), _maybe(_RESP), _maybe(_URI), _maybe(_URI), _maybe(_TYPE), _maybe(_ID)
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_NAME, max_size=6), st.lists(_SPAN, max_size=4), _maybe(_RESP))
def test_the_untyped_route_decides_as_the_packaged_schema(names, spans, root_resp):
    parts = []
    for n, (tag, ref, resp, i, extra, first) in enumerate(names):
        usual = [("ref", ref), ("resp", resp), ("xml:id", f"u{n}" if i == _UNIQUE else i)]
        attributes = _attributes(extra + usual if first else usual + extra)
        space = ' xmlns:x="urn:x"' if any(key == "x:n" for key, _ in extra) else ""
        parts.append(f"<{tag}{space}{attributes}>N</{tag}>")
    xml = base_document().replace(TAGGED_BODY, "<p>" + " and ".join(parts) + "</p>")
    if spans:
        group = "".join(
            f"<span{_attributes([('type', t), ('n', 'k'), ('resp', r), ('target', g), ('ana', a), ('subtype', s), ('xml:id', i)])}>N</span>"
            for t, r, g, a, s, i in spans
        )
        xml = xml.replace(
            "</standOff>", f'<spanGrp type="toolkit-proposals">{group}</spanGrp></standOff>'
        )
    if root_resp is not None:
        xml = xml.replace("<TEI ", f'<TEI resp="{root_resp}" ', 1)
    data = xml.replace("><", ">\n<").encode()
    assert validate_bytes(data, PATH, authority=AUTHORITY) == _packaged_route(data, PATH, AUTHORITY)


def test_the_usual_document_takes_the_untyped_route_and_near_misses_do_not():
    """Else the agreement above would prove little: a clean tagged document is proved valid
    through the untyped schema; one with a value outside the narrower grammars goes to the
    packaged schema, valid or not."""

    def untyped_valid(xml: str) -> bool:
        tree = parse_bytes(xml.encode())
        quick = _passing_attributes(tree.getroot())
        assert quick is not None
        return _untyped_valid(tree, quick)

    good = base_document()
    assert untyped_valid(good)
    valid_but_unusual = [
        good.replace("<persName ", '<persName xml:lang="EN-1" ', 1),  # a language, not usual
        good.replace('xml:id="n2"', 'xml:id="né"'),
        good.replace("cand-person-x", "cand-pérson-x"),  # an id, and a ref to it
        good.replace("#toolkit-ner", "#toolkit·ner").replace('"toolkit-ner"', '"toolkit·ner"'),
    ]
    names = good.replace("<persName ", '<persName xml:lang="zh-Hans" type="variant" ', 1)
    assert untyped_valid(names)  # a name's other attributes are checked in Python
    refused = [
        good.replace("<persName ", '<persName type="other" ', 1),
        good.replace("<persName ", '<persName xml:lang="1x" ', 1),
        good.replace("<persName ", '<persName cert="sure" ', 1),
        good.replace("<persName ", '<persName foo="1" ', 1),
        good.replace("<persName ", '<persName xmlns:x="urn:x" x:type="main" ', 1),
        good.replace('xml:id="n2"', 'xml:id="2n"'),
        good.replace("cand-person-x", "cand:person-x"),  # no NCName
        good.replace('ref="auth:mao-zedong"', 'ref="auth:%zz"'),
    ]
    for xml in valid_but_unusual:
        assert not untyped_valid(xml)
        assert validate_bytes(xml.encode(), PATH, authority=AUTHORITY) == []
    for xml in refused:
        assert not untyped_valid(xml)
        found = validate_bytes(xml.encode(), PATH, authority=AUTHORITY)
        assert "RNG" in {p.code for p in found}
        assert found == _packaged_route(xml.encode(), PATH, AUTHORITY)
