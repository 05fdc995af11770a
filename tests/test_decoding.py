"""toolkit.decoding on damaged and odd bytes (issue 16 items 1, 2, 9): the evidence decides."""

from __future__ import annotations

import pytest
from conftest import NOW

from toolkit.decoding import decode
from toolkit.errors import SourceError
from toolkit.sources import convert
from toolkit.tei import from_tei, parse_bytes, serialize, to_tei

PROSE = (
    "The committee met — in the “small hall” — on Tuesday.\n\n"
    "Ilse Brandt objected; Karel Novotný agreed.\n"
)
RUSSIAN = "Протокол заседания комиссии.\n\nПрисутствовали товарищ Петров и товарищ Сидорова.\n"


def code_of(data: bytes, **kw) -> str:
    with pytest.raises(SourceError) as info:
        decode(data, "x.txt", **kw)
    return info.value.code


def test_almost_utf8_is_damaged_utf8_with_the_byte_offset():
    data = PROSE.encode()
    cut = data.index(b"small")
    damaged = data[:cut] + b"\xa0" + data[cut:]
    with pytest.raises(SourceError) as info:
        decode(damaged, "x.txt")
    assert info.value.code == "E105"
    assert f"offset {cut}" in info.value.message and "0xa0" in info.value.message
    assert "utf-8:replace" in info.value.message


def test_forcing_replacement_keeps_every_other_character_and_says_so():
    data = PROSE.encode()
    cut = data.index(b"small")
    decoded = decode(data[:cut] + b"\xa0" + data[cut:], "x.txt", encoding="utf-8:replace")
    assert decoded.text == PROSE[: PROSE.index("small")] + "\ufffd" + PROSE[PROSE.index("small") :]
    assert decoded.encoding == "utf-8"
    assert "1 undecodable byte(s)" in decoded.evidence


def test_a_real_legacy_file_is_decoded_and_the_evidence_recorded():
    decoded = decode(RUSSIAN.encode("cp1251"), "x.txt")
    assert decoded.text == RUSSIAN
    assert decoded.encoding == "cp1251"
    assert "charset-normalizer" in decoded.evidence and 0.5 < decoded.confidence <= 1
    doc = convert(RUSSIAN.encode("cp1251"), "x.txt", format="plain", now=NOW)
    tei = serialize(to_tei(doc))
    assert b'<note type="encodingEvidence">not UTF-8' in tei
    assert from_tei(parse_bytes(tei).getroot()).header.source == doc.header.source


def test_one_stray_byte_in_ascii_is_not_guessed():
    assert code_of(b"Plain ascii text with one \xe9 byte.\n") == "E105"


def test_strict_utf8_records_no_evidence():
    decoded = decode(PROSE.encode(), "x.txt")
    assert (decoded.encoding, decoded.evidence, decoded.confidence) == ("utf-8", "", 1.0)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(codec):
    decoded = decode(PROSE.encode(codec), "x.txt")
    assert (decoded.text, decoded.encoding) == (PROSE, codec)


@pytest.mark.parametrize(("char", "name"), [("\v", "vertical tab"), ("\f", "form feed")])
def test_vertical_tab_and_form_feed_become_line_breaks(char, name):
    decoded = decode(f"First page{char}Second page\n".encode(), "x.txt")
    assert decoded.text == "First page\nSecond page\n", name


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("a" * 70_000 + "\nstray \x01 here\n", 2, 7),
        ("forty\ufffe barges\n", 1, 6),
        ("forty\uffff barges\n", 1, 6),
    ],
    ids=["control-after-64k", "U+FFFE", "U+FFFF"],
)
def test_characters_xml_cannot_carry_are_refused_with_their_place(text, line, column):
    with pytest.raises(SourceError) as info:
        decode(text.encode(), "x.txt")
    assert info.value.code == "E140"
    assert f"line {line}, column {column}" in info.value.message
    replaced = decode(text.encode(), "x.txt", encoding="utf-8:replace")
    assert "\ufffd" in replaced.text and len(replaced.text) == len(text)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "E102"),
        (b"  \n\t\n", "E102"),
        (bytes(range(256)) * 40, "E103"),
        (b"\x00\x01\x02\x03binary\x00\x00" * 100, "E103"),
    ],
    ids=["empty", "white-space", "all-bytes", "nul-bytes"],
)
def test_refusals(data, code):
    assert code_of(data) == code


def test_unknown_forced_encoding():
    assert code_of(b"text", encoding="klingon") == "E106"
