from __future__ import annotations

import pytest
from conftest import NOW, WEB, WILSON, words
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.decoding import decode
from toolkit.errors import SourceError
from toolkit.model import Level, Range
from toolkit.sources import convert, detect_format, find_damage
from toolkit.tei import from_tei, to_tei


@pytest.fixture(scope="module")
def wilson():
    return convert(WILSON.read_bytes(), WILSON.name, now=NOW)


@pytest.fixture(scope="module")
def web():
    return convert(WEB.read_bytes(), WEB.name, now=NOW)


def test_formats_are_detected():
    assert detect_format(WILSON.read_text()) == "wilson"
    assert detect_format(WEB.read_text()) == "web"
    assert detect_format("Just a title\n\nA paragraph of text.") == "plain"


def test_wilson_header(wilson):
    h = wilson.header
    assert h.title == (
        "Record of Conversation between Soviet Ambassador in China Apollon Petrov "
        "and Mao Zedong, Zhou Enlai and Wang Ruofei"
    )
    assert h.date == "1945-09-06"
    assert h.translators == ("Sergey Radchenko",)
    assert h.publisher == "Wilson Center Digital Archive"
    assert h.url == "https://digitalarchive.wilsoncenter.org/document/122807"
    assert h.citation.startswith('"Record of Conversation between Soviet Ambassador')
    assert h.citation.endswith("<https://digitalarchive.wilsoncenter.org/document/122807>")
    assert h.abstract == (
        "Mao discusses the progress of talks with Chiang Kai-shek "
        "and the Chinese Nationalist Party."
    )
    assert h.original_language == "ru"
    assert h.language == "en"
    assert [lang.ident for lang in h.languages] == ["en", "ru"]
    assert h.source.sha256 == "34eccd7113499590b9c6f87dbe3e515a45f53b70315dc62fc3888cc408fd7e20"
    assert h.source.format == "wilson"
    c = h.archival
    assert c.repository == "AVPRF"
    assert c.levels == (
        Level("fond", "0100"),
        Level("opis", "33"),
        Level("delo", "13"),
        Level("papka", "244"),
    )
    assert c.range == Range("folio", "220", "240")


def test_wilson_tei_header_elements(wilson):
    root = to_tei(wilson)
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    ident = root.find(".//t:msDesc/t:msIdentifier", ns)
    assert ident.findtext("t:country", namespaces=ns) == "Russia"
    assert ident.findtext("t:settlement", namespaces=ns) == "Moscow"
    assert ident.findtext("t:repository/t:choice/t:abbr", namespaces=ns) == "AVPRF"
    assert ident.findtext("t:repository/t:choice/t:expan", namespaces=ns) == (
        "Archive of Foreign Policy of the Russian Federation"
    )
    assert [(i.get("type"), i.text) for i in ident.findall("t:idno/t:idno", ns)] == [
        ("fond", "0100"),
        ("opis", "33"),
        ("delo", "13"),
        ("papka", "244"),
    ]
    locus = root.find(".//t:msItem/t:locus", ns)
    assert (locus.get("from"), locus.get("to")) == ("220", "240")
    assert root.find(".//t:msItem/t:textLang", ns).get("mainLang") == "ru"
    assert root.find(".//t:profileDesc/t:creation/t:date", ns).get("when") == "1945-09-06"
    assert root.find(".//t:appInfo/t:application", ns).get("ident") == "toolkit"
    assert root.find(".//t:revisionDesc/t:change", ns).get("when") == NOW


def test_wilson_body(wilson):
    kinds = [b.kind for b in wilson.blocks]
    assert kinds[0] == "head" and kinds[-1] == "closer" and set(kinds[1:-1]) == {"p"}
    texts = [b.text for b in wilson.blocks]
    assert not any(t.startswith(("Citation", "Summary", "Contents")) for t in texts)
    joined = [t for t in texts if '"political construction," in the course of which' in t]
    assert len(joined) == 1
    assert any("has not until now given any answer" in t for t in texts)
    supplied = [
        wilson.blocks[s.block].text[s.start : s.end] for s in wilson.spans if s.tag == "supplied"
    ]
    assert supplied == [
        "Jiang Jieshi",
        "Kuomintang",
        "representatives",
        "ikolai",
        "ikolai",
        "pollon",
    ]
    assert sum(s.tag == "pb" for s in wilson.spans) == 2
    signed = [s for s in wilson.spans if s.tag == "signed"]
    assert [wilson.blocks[s.block].text[s.start : s.end] for s in signed] == [
        "Ambassador of the USSR in China Apollon Petrov"
    ]


def test_web_header_and_body(web):
    h = web.header
    assert h.title == "The Chongqing Negotiation"
    assert h.updated == "2022-07-13"
    assert h.author == "The Academy of Contemporary China and World Studies"
    assert h.series == "Home > The Centenary of the CPC Special Edition"
    assert [d.text for d in h.source.damage][:3] == ["Fran?ais", "Espa?ol", "????"]
    assert all(d.line == 2 for d in h.source.damage)
    texts = [b.text for b in web.blocks]
    assert texts[0].startswith("After winning the war against the Japanese aggression")
    assert texts[-1].endswith("relations of the two parties.")
    assert not any("Contact Us" in t or "Home >" in t or "Updated:" in t for t in texts)


def _body_after(text: str, marker: str) -> str:
    return text.split(marker, 1)[1]


def test_nothing_is_lost_wilson(wilson):
    source = _body_after(WILSON.read_text(), "Translation - English")
    assert words(wilson.text()) == words(source)


def test_nothing_is_lost_web(web):
    lines = WEB.read_text().split("\n")
    body = "\n".join(lines[9:]).replace("Contact Us", "")
    assert words(web.text()) == words(body)


def test_damage_finder():
    assert [d.text for d in find_damage("Fran?ais | What? yes\nT\ufffdrk")] == [
        "Fran?ais",
        "T\ufffdrk",
    ]


paragraph = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=["L", "N", "P", "Zs"], exclude_characters="[]"
    ),
    min_size=1,
    max_size=80,
).filter(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.lists(paragraph, min_size=1, max_size=6))
def test_plain_text_loses_nothing(paras):
    source = "\n\n".join(paras)
    doc = convert(source.encode("utf-8"), "gen.txt", format="plain", now=NOW)
    assert words(doc.text()) == words(source)
    assert from_tei(to_tei(doc)) == doc


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Привет, мир. Это текст.".encode("cp1251"), "cp1251"),
        (
            "中华人民共和国外交部档案馆的文件，第一页。这是一个测试文本。".encode("gb18030"),
            "gb18030",
        ),
        ("\ufeffTitle\n\nCafé".encode(), "utf-8-sig"),
        ("Title\n\nCafé".encode("utf-16"), "utf-16"),
        ("Title\n\nCafé naïve résumé".encode("utf-16-le"), "utf-16-le"),
        (b"Title\n\nplain", "utf-8"),
    ],
)
def test_encodings_are_detected(data, encoding):
    decoded = decode(data)
    assert decoded.encoding == encoding
    assert decoded.text.endswith(("мир. Это текст.", "测试文本。", "Café", "résumé", "plain"))


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "E102"), (b"   \n\n", "E102"), (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "E103")],
)
def test_bad_bytes(data, code):
    with pytest.raises(SourceError) as err:
        decode(data, "x.txt")
    assert err.value.code == code


def test_forced_encoding_reports_the_bad_byte():
    with pytest.raises(SourceError) as err:
        decode("line one\nCafé".encode("latin-1"), "x.txt", encoding="utf-8")
    assert err.value.code == "E105"
    assert err.value.line == 2
    assert "byte 0xe9 at offset 12" in str(err.value)


def test_encoding_is_recorded():
    doc = convert("Заголовок\n\nТекст документа.".encode("cp1251"), "ru.txt", now=NOW)
    assert doc.header.source.encoding == "cp1251"
    assert doc.blocks[1].text == "Текст документа."
