"""Fuzzing (issue 16): bytes and TEI trees through convert, validate, tag and index.

No input may raise anything but a coded ``ToolkitError``; what ``convert`` writes can be read
back; ``tag`` keeps the text of every block. The tagger is the real small English model, run
in-process on tiny inputs so the whole file stays fast.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import NOW, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tei import documents

from toolkit.errors import ToolkitError
from toolkit.sources import convert
from toolkit.tei import NS, parse_bytes, serialize, to_tei
from toolkit.validate import validate_bytes

AUTHORITY = ROOT / "corpus" / "authority.xml"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text near what captures hold: letters, punctuation, brackets, controls, odd code points.
ALPHABET = st.sampled_from(
    [*"abc XYZ.,;:—“”[]?\n\n\t\r\x0b\x0c\x01\x00<>&\"'", "\ufffd", "\ufffe", "é", "Ж", "中"]
)


@FAST
@given(st.binary(max_size=600))
def test_convert_any_bytes(data):
    _convert_and_read_back(data)


@FAST
@given(
    st.lists(ALPHABET, max_size=300).map("".join), st.sampled_from(["utf-8", "utf-16-le", "cp1251"])
)
def test_convert_any_text(text, codec):
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    _convert_and_read_back(data)


def _convert_and_read_back(data: bytes) -> None:
    try:
        doc = convert(data, "fuzz.txt", now=NOW)
    except ToolkitError:
        return
    xml = serialize(to_tei(doc))
    problems = validate_bytes(xml, "fuzz.xml")
    assert not [p for p in problems if p.code.startswith("E")], problems


def mutate(data: bytes, cuts: list[tuple[int, bytes]]) -> bytes:
    for position, insert in cuts:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at:]
    return data


MUTATIONS = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.sampled_from(
            [
                b"<",
                b">",
                b"&",
                b"&x;",
                b"<hi>",
                b"</p>",
                b"<!DOCTYPE TEI SYSTEM 'x.dtd'>",
                b'<!ENTITY a "b">',
                b"\x00",
                b"\xff",
                b"]]>",
                b"<?pi x?>",
                b"<!-- c -->",
                b' xml:id="n1"',
                b'<persName ref="#nowhere">',
                b"\xef\xbf\xbe",
            ]
        ),
    ),
    max_size=3,
)


@FAST
@given(documents(), MUTATIONS)
def test_validate_any_tree(doc, cuts):
    data = mutate(serialize(to_tei(doc)), cuts)
    problems = validate_bytes(data, "fuzz.xml")
    assert all(p.severity in ("error", "warning") for p in problems)


@pytest.fixture(scope="module")
def tagger():
    from toolkit.engine import load_tagger

    return load_tagger(AUTHORITY, None)


def _body_texts(data: bytes) -> list[str]:
    root = parse_bytes(data).getroot()
    return ["".join(el.itertext()) for el in root.find("tei:text/tei:body", NS)]


@SLOW
@given(documents(), MUTATIONS)
def test_tag_keeps_the_text(tagger, doc, cuts):
    from toolkit.tagging import tag_files

    data = mutate(serialize(to_tei(doc)), cuts)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.xml"
        path.write_bytes(data)
        [result] = tag_files(
            [path],
            tagger.nlp,
            tagger.info,
            tagger.authority,
            now=NOW,
            authority_sha256=tagger.authority_sha256,
        )
    if result.error is not None:
        assert isinstance(result.error, ToolkitError)
        return
    if result.data is not None:
        assert _body_texts(result.data) == _body_texts(data)


@SLOW
@given(st.lists(st.tuples(documents(), MUTATIONS), min_size=1, max_size=3))
def test_index_any_trees(items):
    from toolkit.authority import parse_authority
    from toolkit.index import build_index

    authority = parse_authority(AUTHORITY.read_bytes(), str(AUTHORITY))
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, (doc, cuts) in enumerate(items):
            path = Path(folder) / "tei" / f"d{i}.xml"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(mutate(serialize(to_tei(doc)), cuts))
            paths.append(path)
        report = build_index(paths, authority, Path(folder) / "index", now=NOW)
        assert all(isinstance(e, ToolkitError) for e in report.errors)
