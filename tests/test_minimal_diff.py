"""Issue 10, case 3: `tag` changes only what it adds. Hand-written TEI in varied styles; the
output with the inserted tags unwrapped and the added header entries removed equals the input
byte for byte."""

from __future__ import annotations

import re
from pathlib import Path

import spacy
from click.testing import CliRunner
from conftest import EPOCH
from editing import AUTHORITY, corpus, tag_args
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.authority import parse_authority
from toolkit.cli import main
from toolkit.entities import ModelInfo, authority_patterns
from toolkit.tagging import tag_document
from toolkit.tei import from_tei, parse_bytes

NOW = "2023-11-14T22:13:20Z"
INFO = ModelInfo("en_rules", "0.0", spacy.__version__, "rules")
AUTH = parse_authority(AUTHORITY.encode(), "authority.xml")


def _nlp() -> spacy.language.Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(
        [{"label": "PERSON", "pattern": "Zhang Wei"}, {"label": "ORG", "pattern": "Politburo"}]
    )
    nlp.add_pipe("authority_matcher", config={"patterns": authority_patterns(AUTH)})
    return nlp


NLP = _nlp()

_NAME_TAG = (
    r'<(persName|placeName|orgName) ref="[^"]*" resp="#toolkit-[a-z]+" xml:id="n-[0-9a-f-]+">'
)


def strip_added(output: str) -> str:
    """Undo what tagging adds: name tags (with CDATA splits), header entries, standOff."""
    text = re.sub(r"\]\]>(" + _NAME_TAG + r")<!\[CDATA\[", r"\1", output)
    text = re.sub(r"\]\]>(</(?:persName|placeName|orgName)>)<!\[CDATA\[", r"\1", text)
    for _ in range(2):
        text = re.sub(_NAME_TAG + r"(.*?)</\1>", r"\2", text, flags=re.S)
    text = re.sub(
        r'(?:\r?\n[ \t]*)?<respStmt xml:id="toolkit-[a-z]+">.*?</respStmt>', "", text, flags=re.S
    )
    text = re.sub(
        r'(?:\r?\n[ \t]*)?<application ident="(?:spaCy|en_\w+)".*?</application>',
        "",
        text,
        flags=re.S,
    )
    text = re.sub(
        r'(?:\r?\n[ \t]*)?<change [^>]*who="#toolkit #toolkit-ner[^"]*">.*?</change>', "", text
    )
    text = re.sub(r"(?:\r?\n[ \t]*)?<standOff>.*?</standOff>", "", text, flags=re.S)
    # containers the toolkit had to create, now empty
    text = re.sub(
        r"(?:\r?\n[ \t]*)?<encodingDesc>\s*<appInfo>\s*</appInfo>\s*</encodingDesc>", "", text
    )
    return re.sub(r"(?:\r?\n[ \t]*)?<revisionDesc>\s*</revisionDesc>", "", text)


SENTENCES = [
    "Mao Zedong wrote to Stalin.",
    "The GMD left Yan'an &amp; the hills.",
    "Zhang Wei met the Politburo&#x2014;twice.",
    "Caf&#233; talk <hi rend='italic'>in Yan'an</hi> with Stalin.",
    "<supplied>Chiang Kai-shek</supplied> and <hi>Mao</hi> Zedong.",
    "<![CDATA[Stalin & Mao Zedong <in> Yan'an]]> said so.",
    "Plain words<!-- a comment --> and Stalin<?editor check?>.",
    "A <pb n='3'/>page break before Stalin.",
    "<hi> <hi></hi></hi><hi></hi><supplied>Zhang Wei<hi></hi><?pi x?>, and</supplied> Stalin.",
    "<q>Mao<lb/> Zedong<pb/>Yan'an<pb/></q><lb/> and <hi><hi></hi>GMD</hi>.",
    '<note type="editorial">Mao Zedong</note> then GMD.',
    '<m:math xmlns:m="http://www.w3.org/1998/Math/MathML"><m:mi>Stalin</m:mi></m:math> Stalin.',
]


@st.composite
def tei_files(draw: st.DrawFn) -> str:
    indent = draw(st.sampled_from(["  ", "    ", "\t", ""]))
    nl = draw(st.sampled_from(["\n", "\r\n"])) if indent else ""
    q = draw(st.sampled_from(['"', "'"]))
    attrs = [f"xml:id={q}d1{q}", f"xml:lang={q}en{q}"]
    if draw(st.booleans()):
        attrs.reverse()
    paragraphs = draw(
        st.lists(
            st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3), min_size=1, max_size=4
        )
    )
    decl = draw(
        st.sampled_from(['<?xml version="1.0" encoding="UTF-8"?>', "<?xml version='1.0'?>", ""])
    )
    comment = draw(
        st.sampled_from(["", "<!-- hand-made file -->", "<?xml-model href='tei_all.rng'?>"])
    )

    def line(level: int, content: str) -> str:
        return nl + indent * level + content

    body = "".join(
        line(3, f"<p n={q}{i}{q}>" + " ".join(p) + "</p>") for i, p in enumerate(paragraphs)
    )
    header = (
        line(1, "<teiHeader>")
        + line(2, "<fileDesc>")
        + line(3, f"<titleStmt><title type={q}main{q}>A letter</title></titleStmt>")
        + line(3, "<publicationStmt><p>Unpublished.</p></publicationStmt>")
        + line(3, "<sourceDesc><p>Typed by hand.</p></sourceDesc>")
        + line(2, "</fileDesc>")
        + line(2, "<encodingDesc>")
        + line(3, "<appInfo>")
        + line(
            4,
            f"<application ident={q}editor{q} version={q}1{q}><label>An editor</label></application>",
        )
        + line(3, "</appInfo>")
        + line(2, "</encodingDesc>")
        + line(2, "<revisionDesc>")
        + line(3, f"<change when={q}2020-01-01{q}>Typed.</change>")
        + line(2, "</revisionDesc>")
        + line(1, "</teiHeader>")
    )
    return (
        decl
        + (nl or "\n")
        + comment
        + (nl or "\n")
        + f'<TEI xmlns="http://www.tei-c.org/ns/1.0" {" ".join(attrs)}>'
        + header
        + line(1, "<text>")
        + line(2, "<body>")
        + body
        + line(2, "</body>")
        + line(1, "</text>")
        + nl
        + "</TEI>"
        + nl
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tei_files())
def test_tag_changes_only_what_it_adds(source: str) -> None:
    data = source.encode("utf-8")
    before = from_tei(parse_bytes(data).getroot())
    result = tag_document(data, Path("x.xml"), NLP, INFO, AUTH, now=NOW, authority_sha256="0" * 64)
    assert result.error is None, result.error
    assert result.data is not None  # every sentence holds a name
    out = result.data.decode("utf-8")
    assert strip_added(out) == source
    after = from_tei(parse_bytes(result.data).getroot())
    assert [b.text for b in after.blocks] == [b.text for b in before.blocks]
    again = tag_document(
        result.data, Path("x.xml"), NLP, INFO, AUTH, now=NOW, authority_sha256="0" * 64
    )
    assert again.data is None


def test_cli_tag_keeps_a_hand_written_file(tmp_path):
    """Tabs, comments, single quotes, character references, CDATA, a PI, Latin-1: unchanged."""
    folder = corpus(tmp_path / "c")
    source = (
        "<?xml version='1.0' encoding='ISO-8859-1'?>\n"
        "<!-- kept -->\n"
        "<TEI xmlns='http://www.tei-c.org/ns/1.0'>\n"
        "\t<teiHeader><fileDesc><titleStmt><title>T</title></titleStmt>"
        "<publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p></sourceDesc>"
        "</fileDesc></teiHeader>\n"
        "\t<text>\n\t\t<body>\n"
        "\t\t\t<p rend='x'   n=\"1\">Caf\xe9 &#x2014; Mao Zedong met\n\t\t\t\tStalin"
        "<?pi here?> in <![CDATA[Yan'an & GMD]]>.</p>\n"
        "\t\t</body>\n\t</text>\n</TEI>\n"
    )
    path = folder / "hand.xml"
    path.write_bytes(source.encode("latin-1"))
    result = CliRunner().invoke(main, tag_args(folder, path), env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == 0, result.output
    out = path.read_bytes()
    assert out.startswith(b"<?xml version='1.0' encoding='ISO-8859-1'?>\n<!-- kept -->\n")
    assert b"Caf\xe9 &#x2014; <persName" in out
    assert b"<![CDATA[Yan'an]]></placeName><![CDATA[ & ]]><orgName" in out
    assert strip_added(out.decode("latin-1")) == source
    assert "\n\t<standOff>\n\t\t<spanGrp" in out.decode("latin-1")  # its indentation style
