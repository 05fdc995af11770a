from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import NOW, WEB, WILSON, assert_valid
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from toolkit.errors import TEIError
from toolkit.model import Block, Span
from toolkit.sources import convert
from toolkit.tei import (
    E,
    canonical,
    check_nesting,
    from_tei,
    parse_bytes,
    read_block,
    serialize,
    to_tei,
    write_block,
)

BASE = convert(b"A title\n\nSome text.", "base.txt", now=NOW)
TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=40)
TAGS = ["persName", "placeName", "orgName", "supplied", "hi", "pb"]


@st.composite
def blocks_with_spans(draw, index: int, kind: str = "p"):
    text = draw(TEXT)
    kept: list[Span] = []
    for _ in range(draw(st.integers(0, 6))):
        tag = draw(st.sampled_from(TAGS))
        start = draw(st.integers(0, len(text)))
        end = start if tag == "pb" else draw(st.integers(start, len(text)))
        attrs = (("ref", "auth:x"),) if tag.endswith("Name") and draw(st.booleans()) else ()
        span = Span(index, start, end, tag, attrs)
        try:
            check_nesting([*kept, span])
        except ValueError:
            continue
        kept.append(span)
    return Block(kind, text), canonical(kept)


@st.composite
def documents(draw):
    """A body as the toolkit writes one: [head] p+ [closer]."""
    kinds = ["p"] * draw(st.integers(1, 3))
    if draw(st.booleans()):
        kinds.insert(0, "head")
    if draw(st.booleans()):
        kinds.append("closer")
    pairs = [draw(blocks_with_spans(i, kind)) for i, kind in enumerate(kinds)]
    return replace(
        BASE,
        blocks=tuple(b for b, _ in pairs),
        spans=tuple(s for _, spans in pairs for s in spans),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_round_trip(doc):
    assert from_tei(to_tei(doc)) == doc
    again = parse_bytes(serialize(to_tei(doc))).getroot()
    assert from_tei(again) == doc


def test_round_trip_seeds():
    for path in (WILSON, WEB):
        doc = convert(path.read_bytes(), path.name, now=NOW)
        assert from_tei(parse_bytes(serialize(to_tei(doc))).getroot()) == doc


def test_seeds_are_valid_tei_all(tei_all):
    for path in (WILSON, WEB):
        assert_valid(tei_all, serialize(to_tei(convert(path.read_bytes(), path.name, now=NOW))))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXT.filter(lambda t: t.strip() and "[" not in t), min_size=1, max_size=5))
def test_generated_plain_documents_are_valid_tei_all(tei_all, paras):
    doc = convert("\n\n".join(paras).encode(), "gen.txt", format="plain", now=NOW)
    assert_valid(tei_all, serialize(to_tei(doc)))


def test_nesting_rules():
    el = E("p")
    spans = [
        Span(0, 0, 12, "persName"),  # outer: listed first
        Span(0, 0, 12, "supplied"),
        Span(0, 12, 12, "pb"),  # empty at the end of persName: outside it
        Span(0, 13, 16, "hi"),
    ]
    write_block(el, "Jiang Jieshi are", spans)
    xml = etree.tostring(el, encoding="unicode")
    assert xml.endswith(
        "<persName><supplied>Jiang Jieshi</supplied></persName><pb/> <hi>are</hi></p>"
    )
    assert read_block(el) == ("Jiang Jieshi are", canonical(spans))


def test_crossing_spans_are_refused():
    with pytest.raises(ValueError, match="cross"):
        check_nesting([Span(0, 0, 5, "hi"), Span(0, 3, 8, "persName")])


def test_serialization_is_reproducible():
    """Two processes with different hash seeds (set and dict order, object ids) and time zones
    write the same bytes; the moment given is the one written."""
    import os
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path; from toolkit.sources import convert; "
        "from toolkit.tei import serialize, to_tei; p = Path(sys.argv[1]); "
        "sys.stdout.buffer.write(serialize(to_tei(convert(p.read_bytes(), p.name, now=sys.argv[2]))))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script, str(WILSON), now],
            env={**os.environ, "PYTHONHASHSEED": seed, "TZ": tz},
            capture_output=True,
            check=True,
        ).stdout
        for seed, tz, now in [
            ("1", "UTC", NOW),
            ("2", "Asia/Tokyo", NOW),
            ("3", "UTC", "2001-01-01T00:00:00Z"),
        ]
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0] == serialize(to_tei(convert(WILSON.read_bytes(), WILSON.name, now=NOW)))
    assert outputs[2] != outputs[0]
    assert outputs[2].replace(b"2001-01-01T00:00:00Z", NOW.encode()) == outputs[0]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<TEI><unclosed></TEI>", "E201"),
        (
            b'<!DOCTYPE TEI [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<TEI xmlns="http://www.tei-c.org/ns/1.0">&x;</TEI>',
            "E203",
        ),
    ],
)
def test_unsafe_or_malformed_xml(data, code):
    with pytest.raises(TEIError) as err:
        parse_bytes(data, "bad.xml")
    assert err.value.code == code
    assert "root:" not in str(err.value)  # the entity was never expanded
