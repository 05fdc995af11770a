"""Issue 10 case 4 (foreign markup, teiCorpus) and issue 16 items 9 and 15 (sizes)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EPOCH
from editing import corpus, machine_tags, tag_args
from test_minimal_diff import AUTH, INFO, NLP, NOW

from toolkit.cli import main
from toolkit.tagging import tag_document
from toolkit.tei import from_tei, parse_bytes, serialize, to_tei

HEADER = (
    "<teiHeader><fileDesc><titleStmt><title>T</title></titleStmt><publicationStmt><p>x</p>"
    "</publicationStmt><sourceDesc><p>x</p></sourceDesc></fileDesc></teiHeader>"
)


def tei(body: str, root: str = '<TEI xmlns="http://www.tei-c.org/ns/1.0">') -> str:
    return f"{root}{HEADER}<text><body>{body}</body></text></TEI>\n"


def tag(data: str | bytes):  # type: ignore[no-untyped-def]
    raw = data.encode() if isinstance(data, str) else data
    return tag_document(raw, Path("x.xml"), NLP, INFO, AUTH, now=NOW, authority_sha256="0" * 64)


MATH = '<math xmlns="http://www.w3.org/1998/Math/MathML"><mi>Stalin</mi><mo>=</mo></math>'
SVG = '<svg xmlns="http://www.w3.org/2000/svg"><text>Mao Zedong</text></svg>'
EGXML = '<egXML xmlns="http://www.tei-c.org/ns/Examples"><p>Stalin in <name>GMD</name></p></egXML>'


@pytest.mark.parametrize("foreign", [MATH, SVG, EGXML])
def test_foreign_markup_is_kept_and_not_tagged(foreign):
    source = tei(f"<p>Stalin wrote {foreign} to Mao Zedong.</p>")
    result = tag(source)
    assert result.error is None
    out = result.data.decode()
    assert foreign in out  # untouched, byte for byte
    assert [t for _, t in machine_tags(out)] == ["Stalin", "Mao Zedong"]
    doc = from_tei(parse_bytes(result.data).getroot())  # the index reads it as well
    assert doc.blocks[0].text == "Stalin wrote  to Mao Zedong."
    again = from_tei(to_tei(doc))
    assert again.blocks == doc.blocks and again.spans == doc.spans


def test_a_tei_corpus_is_tagged_document_by_document():
    one = tei("<p>Stalin.</p>", '<TEI xml:id="a">')
    two = tei("<p>Mao Zedong met Stalin.</p>", '<TEI xml:id="b">')
    source = (
        '<teiCorpus xmlns="http://www.tei-c.org/ns/1.0">' + HEADER + one + two + "</teiCorpus>\n"
    )
    result = tag(source)
    assert result.error is None, result.error
    root = parse_bytes(result.data).getroot()
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    for unit, count in zip(root.findall("t:TEI", ns), (1, 2), strict=True):
        assert len(unit.findall(".//t:body//t:persName", ns)) == count
        assert len(unit.findall("t:teiHeader/t:revisionDesc/t:change", ns)) == 1
        assert unit.find("t:standOff/t:spanGrp", ns) is not None
    assert tag(result.data).data is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ('<p xmlns="http://www.tei-c.org/ns/1.0">Stalin.</p>', "E202"),  # a fragment
        ("<html><body><p>Stalin.</p></body></html>", "E202"),
        ('<TEI xmlns="http://www.tei-c.org/ns/1.0"><text><p>x</p></text></TEI>', "E202"),
    ],
)
def test_fragments_and_other_roots_keep_a_clear_error(tmp_path, data, code):
    folder = corpus(tmp_path / "c")
    path = folder / "bad.xml"
    path.write_text(data)
    result = CliRunner().invoke(main, tag_args(folder, path), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 1
    assert f"[{code}]" in result.output
    assert "Traceback" not in result.output


def test_a_paragraph_over_spacys_limit_is_tagged_in_pieces():
    """Issue 16 item 9: 1,000,000+ characters in one block (an OCR dump with single newlines)."""
    line = "Words of the report go on here and Stalin is named.\n"
    text = line * (1_050_000 // len(line))
    assert len(text) > 1_000_000
    result = tag(tei(f"<p>{text}Mao Zedong ends it.</p>"))
    assert result.error is None, result.error
    assert result.counts["persName"] == text.count("Stalin") + 1


def test_two_hundred_thousand_attributes_do_not_hang_tag():
    """Issue 16 item 15: attributes are scanned once, linearly."""
    attrs = " ".join(f'n{i}="v"' for i in range(200_000))
    start = time.perf_counter()
    result = tag(tei(f'<p xmlns:x="urn:x" {attrs.replace("n", "x:n")}>Stalin.</p>'))
    assert time.perf_counter() - start < 20
    assert result.error is None and result.counts["persName"] == 1


def test_write_block_is_linear_in_children():
    """Issue 16 item 15: `_append_text` no longer asks lxml for len(el) (O(children))."""
    from toolkit.model import Block, Document, Span

    doc = from_tei(parse_bytes(tei("<p>x</p>").encode()).getroot())

    def build(n: int) -> float:
        text = "ab " * n
        spans = tuple(Span(0, 3 * i, 3 * i + 2, "supplied") for i in range(n))
        big = Document(doc.id, doc.header, (Block("p", text),), spans)
        start = time.perf_counter()
        serialize(to_tei(big))
        return time.perf_counter() - start

    small, large = build(20_000), build(80_000)
    assert large < small * 8  # quadratic would be 16x


def test_empty_header_containers_are_opened():
    source = tei("<p>Stalin.</p>").replace(
        "</fileDesc></teiHeader>", "</fileDesc><encodingDesc><appInfo/></encodingDesc></teiHeader>"
    )
    result = tag(source)
    assert result.error is None, result.error
    out = result.data.decode()
    assert '<appInfo><application ident="spaCy"' in out
    assert out.count("<appInfo>") == 1 and "<appInfo/>" not in out
