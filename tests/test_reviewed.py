"""The reviewed marker: is_reviewed / mark_reviewed (minimal byte edits, valid TEI)."""

from __future__ import annotations

import difflib

import pytest
from conftest import NOW, ROOT, assert_valid
from lxml import etree

from toolkit.errors import ToolkitError
from toolkit.reviewed import is_reviewed, mark_reviewed
from toolkit.tei import XML_ID
from toolkit.validate import validate_bytes

TAGGED = ROOT / "corpus" / "tei" / "wilson-122807-petrov-mao-1945-09-06.xml"
AUTHORITY = str(ROOT / "corpus" / "authority.xml")


def _root(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _diff(a: bytes, b: bytes) -> list[str]:
    lines = difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), n=0)
    return [line for line in lines if line[:1] in "+-" and line[:3] not in ("+++", "---")]


def test_a_converted_document_is_not_reviewed_until_marked():
    data = TAGGED.read_bytes()
    assert not is_reviewed(_root(data))
    out = mark_reviewed(data, "jdoe", NOW)
    assert is_reviewed(_root(out))
    root = _root(out)
    ns = {"tei": "http://www.tei-c.org/ns/1.0"}
    last = root.findall("tei:teiHeader/tei:revisionDesc/tei:change", ns)[-1]
    assert last.attrib == {"status": "reviewed", "when": NOW, "who": "#jdoe"}
    assert last.text == "Reviewed by jdoe."
    resp = root.findall("tei:teiHeader/tei:fileDesc/tei:titleStmt/tei:respStmt", ns)[-1]
    assert resp.get(XML_ID) == "jdoe" and resp.find("tei:name", ns).text == "jdoe"


def test_the_edit_is_minimal():
    data = TAGGED.read_bytes()
    out = mark_reviewed(data, "jdoe", NOW)
    changed = _diff(data, out)
    assert sorted(changed) == sorted(
        [
            '+        <respStmt xml:id="jdoe">',
            "+          <resp>review of the name tags</resp>",
            '+          <name type="person">jdoe</name>',
            "+        </respStmt>",
            "-    <revisionDesc>",
            '+    <revisionDesc status="reviewed">',
            f'+      <change status="reviewed" when="{NOW}" who="#jdoe">Reviewed by jdoe.</change>',
        ]
    )


def test_marked_documents_stay_valid(tei_all):
    out = mark_reviewed(TAGGED.read_bytes(), "jdoe", NOW)
    assert validate_bytes(out, "x.xml", authority=AUTHORITY) == []
    assert_valid(tei_all, out)


def test_marking_twice_by_the_same_editor_changes_nothing():
    once = mark_reviewed(TAGGED.read_bytes(), "jdoe", NOW)
    assert mark_reviewed(once, "jdoe", NOW) == once
    twice = mark_reviewed(once, "asmith", NOW)
    assert twice != once and is_reviewed(_root(twice))
    assert twice.count(b'status="reviewed"') == 3  # revisionDesc + two changes


DRAFT = b"""<?xml version='1.0' encoding='UTF-8'?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title>\
<respStmt xml:id="jdoe"><resp>editing</resp><name type="person">J. Doe</name></respStmt>\
</titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p></sourceDesc>\
</fileDesc><!-- <revisionDesc> in a comment --><revisionDesc status='draft'>\
<change when="2020-01-01">Made.</change></revisionDesc></teiHeader><text><body><p>Moscow</p>\
</body></text></TEI>
"""


def test_a_draft_status_becomes_reviewed_and_a_declared_editor_is_reused():
    out = mark_reviewed(DRAFT, "jdoe", NOW)
    assert is_reviewed(_root(out))
    assert b'<revisionDesc status="reviewed">' in out
    assert out.count(b"<respStmt") == 1
    assert b"<!-- <revisionDesc> in a comment -->" in out
    assert validate_bytes(out, "x.xml") == []


def test_a_header_without_revision_desc_gets_one():
    data = DRAFT.replace(
        b"<revisionDesc status='draft'><change when=\"2020-01-01\">Made.</change></revisionDesc>",
        b"",
    )
    out = mark_reviewed(data, "jdoe", NOW)
    assert is_reviewed(_root(out))
    assert validate_bytes(out, "x.xml") == []


@pytest.mark.parametrize(
    ("editor", "now", "code"),
    [("j doe", NOW, "E620"), ("1x", NOW, "E620"), ("jdoe", "yesterday", "E621")],
)
def test_bad_arguments_are_coded_errors(editor, now, code):
    with pytest.raises(ToolkitError) as info:
        mark_reviewed(DRAFT, editor, now)
    assert info.value.code == code


def test_malformed_input_is_a_coded_error():
    with pytest.raises(ToolkitError) as info:
        mark_reviewed(b"<TEI><teiHeader>", "jdoe", NOW)
    assert info.value.code == "E201"
