"""Capture profiles: every layout of issue 9 read from invented fixtures in real layouts."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from conftest import DATA, EPOCH, NOW, WEB, WILSON, assert_valid
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from toolkit.cli import main
from toolkit.errors import SourceError
from toolkit.profiles import corpus_furniture, load_profile, load_profiles, parse_profile
from toolkit.sources import FORMATS, convert, detect_format, explain, furniture_of
from toolkit.tei import from_tei, serialize, to_tei
from toolkit.validate import validate_bytes

CAPTURES = DATA / "captures"
NS = {"t": "http://www.tei-c.org/ns/1.0"}
BIBL = "t:teiHeader/t:fileDesc/t:sourceDesc/t:bibl[@type='source']/"

# file, profile, {XPath: expected text}, first body words, last body words, furniture lines
LAYOUTS = [
    (
        "wilson-record-sections.txt",
        "wilson",
        {
            BIBL + "t:date[@type='document']/@when": "1957-03-14",
            BIBL + "t:editor[@role='translator']": "Olga Verinskaya",
            BIBL + "t:idno[@type='URI']": "https://digitalarchive.wilsoncenter.org/document/900001",
            BIBL + "t:note[@type='section'][@n='Credits']": "This document was translated with "
            "support from the Invented Foundation for Archival Study.",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "AVPRF",
            ".//t:msItem/t:locus/@from": "3",
            ".//t:profileDesc/t:abstract/t:p": "The chargé and the minister review the grain "
            "deliveries promised for the spring and a delayed visit of a trade delegation.",
            ".//t:textClass/t:keywords/t:term[1]": "Albania--Foreign relations--Soviet Union",
            ".//t:textClass/t:keywords/t:term[3]": "Kelmendi, Arben",
            ".//t:msItem/t:textLang/@mainLang": "ru",
            BIBL + "t:note[@type='contents'][2]": "Translation - English",
        },
        "From the diary of P. Voronin",
        "Chargé d'Affaires of the USSR in Albania P. Voronin",
        [],
    ),
    (
        "wilson-record-flattened.txt",
        "wilson",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Record of a Conversation in the "
            "Ministry of Foreign Trade",
            BIBL + "t:date[@type='document']/@when": "1962-09-02",
            BIBL + "t:editor[@role='translator']": "Mira Halsey",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "RGANI",
            ".//t:profileDesc/t:abstract/t:p": "The trade ministers discuss the delivery of "
            "cotton and machine parts.",
            BIBL + "t:note[@type='contents']": "Translation - English",
        },
        "Record of a conversation with the deputy minister",
        "Counsellor of the Embassy I. Dorokhin",
        [],
    ),
    (
        "wilson-web-old.txt",
        "wilson-web-old",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Telegram from the Soviet Ambassador in "
            "Conakry to the Ministry of Foreign Affairs",
            BIBL + "t:date[@type='document']/@when": "1960-06-21",
            BIBL + "t:editor[@role='translator']": "Lena Marsh",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "AVPRF",
            ".//t:msIdentifier/t:idno/t:idno[@type='fond']": "0573",
        },
        "TELEGRAM",
        "Ambassador N. Sedykh",
        ["Search in", "Digital Archive International History Declassified", "get citation"],
    ),
    (
        "wilson-web-new.txt",
        "wilson-web",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Letter from the Mongolian Embassy in "
            "Hanoi on Rice Deliveries",
            BIBL + "t:date[@type='document']/@when": "1971-10-03",
            BIBL + "t:author": "Embassy of the Mongolian People's Republic in Hanoi",
            BIBL + "t:editor[@role='translator']": "Sarnai Dorj",
            BIBL + "t:idno[@type='record']": "900003",
            BIBL + "t:availability/t:p": "The History and Public Policy Program Digital Archive "
            "aims to disseminate invented fixtures for testing only; reuse them freely.",
            "t:teiHeader/t:fileDesc/t:sourceDesc/t:bibl[@type='published']": "Published in "
            "Invented Documents on Asian Trade, vol. 2 (Ulaanbaatar, 2009), pp. 112-113.",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "AVPRF",
            ".//t:profileDesc/t:abstract/t:p": "The embassy describes the arrival of a rice "
            "shipment and a request of the port authorities.",
            BIBL + "t:note[@n='Original Uploaded Date']": "2019-04-03",
        },
        "The embassy reports that the second shipment",
        "Third Secretary D. Batbayar",
        ["Skip to content", "Document Information"],
    ),
    (
        "wilson-web-new-lines.txt",
        "wilson-web",
        {
            BIBL + "t:date[@type='document']/@when": "1956-05-09",
            BIBL + "t:author": "Chinese Ministry of Foreign Trade",
            BIBL + "t:editor[@role='translator']": "Wen Lihua",
            BIBL + "t:idno[@type='record']": "900004",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "PRC FMA",
            ".//t:profileDesc/t:abstract/t:p": "A note on the talks of a Polish trade delegation "
            "in Beijing.",
        },
        "The Polish delegation arrived in Beijing",
        "Department of Foreign Trade",
        ["Skip to content", "Document Information"],
    ),
    (
        "web-news-portal.txt",
        "web",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Harbor Workers Remember the Winter "
            "Strike of 1958",
            BIBL + "t:author": "Invented Daily Staff",
            BIBL + "t:publisher": "Harbor Evening News",
            BIBL + "t:editor[@role='editor']": "Lin Qiao",
            BIBL + "t:date[@type='updated']/@when": "2021-03-15",
            BIBL + "t:availability/t:p": "Copyright © 2021 Invented Daily. All rights reserved.",
        },
        "Old dockers gathered on Monday",
        "until the end of April.",
        [
            "Share: Facebook | Twitter | WeChat | Email",
            "[Prev] [Next]",
            "Museum opens new hall for port history",
            "Contact Us",
            "(Editor: Lin Qiao)",
        ],
    ),
    (
        "web-print-edition.txt",
        "web",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "A Bridge for the Valley",
            BIBL + "t:author": "Marta Koval",
            BIBL + "t:publisher": "The Evening Courier",
            BIBL + "t:date[@type='document']/@when": "1962-11-02",
        },
        "The council met on Thursday",
        "The mayor closed the meeting without a vote.",
        ["© 1962 The Evening Courier"],
    ),
    (
        "frus-telegram.txt",
        "frus",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Telegram From the Embassy in "
            "Ruritania to the Department of State",
            BIBL + "t:idno[@type='document']": "214",
            BIBL + "t:date[@type='document']/@when": "1958-05-14",
            ".//t:profileDesc/t:creation/t:placeName": "Strelsau",
            BIBL + "t:series/t:title": "Foreign Relations of the United States, 1958–1960, "
            "Volume XCIX, Invented Region",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "NARA",
        },
        "1402. Department's 988.",
        "Hollis",
        ["Office of the Historian", "‹ Previous | Next ›"],
    ),
    (
        "frus-footnotes.txt",
        "frus",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Memorandum of Conversation",
            BIBL + "t:idno[@type='document']": "215",
            BIBL + "t:date[@type='document']/@when": "1961-06-02",
            ".//t:profileDesc/t:creation/t:placeName": "Washington",
            BIBL + "t:note[@n='Footnotes']": "2. See Document 213.",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "NARA",
        },
        "SUBJECT Fishing Rights",
        "he would ask for instructions.",
        ["Office of the Historian"],
    ),
]
LAYOUTS.append(
    (
        "frus-editorial-note.txt",
        "frus",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Editorial Note",
            BIBL + "t:idno[@type='document']": "217",
            ".//t:msIdentifier/t:repository/t:choice/t:abbr": "NARA",
        },
        "On May 20, 1958,",
        "see Document 221.",
        ["Office of the Historian", "Footnotes"],
    )
)
LAYOUTS.append(
    (
        "wiki-article.txt",
        "wiki",
        {
            "t:teiHeader/t:fileDesc/t:titleStmt/t:title": "Veldmark harbor strike",
            BIBL + "t:idno[@type='URI']": "https://wiki.example.org/w/index.php?title="
            "Veldmark_harbor_strike&oldid=1234",
            BIBL + "t:date[@type='updated']/@when": "2021-05-04",
            ".//t:textClass/t:keywords/t:term[2]": "Invented ports",
            BIBL + "t:note[@n='References']": "1. ^ Invented Labour Review, vol. 4 (1959), "
            "p. 12. 2. ^ Veldmark Port Records, box 7.",
        },
        "The Veldmark harbor strike was",
        "promised to repair the cranes.",
        ["Jump to navigation", "From Wikiexample, the free encyclopedia", "[edit]", "Privacy"],
    )
)
IDS = [layout[0].removesuffix(".txt") for layout in LAYOUTS]


def _convert(name: str, **kw):
    path = CAPTURES / name
    warnings: list[str] = []
    doc = convert(path.read_bytes(), name, now=NOW, warnings=warnings, **kw)
    return doc, warnings


def _xpath(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    assert found, f"nothing at {path}"
    first = found[0]
    return first if isinstance(first, str) else "".join(first.itertext())


@pytest.mark.parametrize(
    ("name", "profile", "fields", "first", "last", "furniture"), LAYOUTS, ids=IDS
)
def test_layout(name, profile, fields, first, last, furniture):
    doc, warnings = _convert(name)
    assert doc.header.source.format == profile
    assert not [w for w in warnings if "E125" in w]
    root = to_tei(doc)
    for path, expected in fields.items():
        assert _xpath(root, path) == expected, path
    assert doc.blocks[0].text.startswith(first)
    assert doc.blocks[-1].text.endswith(last)
    body = doc.text()
    for line in furniture:
        assert line not in body
    note = root.find(".//" + BIBL + "t:note[@type='captureFormat']", NS)
    assert note.text == profile and note.get("n")
    assert from_tei(root) == doc
    data = serialize(root)
    assert validate_bytes(data, name) == []


@pytest.mark.slow
def test_every_layout_is_valid_tei_all(tei_all):
    for name in [layout[0] for layout in LAYOUTS]:
        assert_valid(tei_all, serialize(to_tei(_convert(name)[0])))


def _tei_words(doc) -> set[str]:
    """Words of every text node, of every element's whole text, and of attribute values."""
    root = to_tei(doc)
    texts = list(root.itertext()) + ["".join(el.itertext()) for el in root.iter()]
    texts += [v for el in root.iter() for v in el.attrib.values()]
    return {w for t in texts for w in re.findall(r"\w+", t)}


@pytest.mark.parametrize(
    "name",
    [layout[0] for layout in LAYOUTS]
    + ["../../../corpus/sources/" + WILSON.name, "../../../corpus/sources/" + WEB.name],
    ids=[*IDS, "seed-wilson", "seed-web"],
)
def test_nothing_is_lost_front_matter_included(name):
    """Every word of the source, front and back matter included, is somewhere in the TEI."""
    path = CAPTURES / name
    doc = convert(path.read_bytes(), path.name, now=NOW)
    # brackets separate words here: "N[ikolai]" is "N" + "ikolai", "Strike[edit]" two words
    missing = set(re.findall(r"\w+", path.read_text(encoding="utf-8"))) - _tei_words(doc)
    assert not missing


def test_wilson_sections_of_issue_16_are_kept_and_described():
    doc, _ = _convert("wilson-record-sections.txt")
    h = doc.header
    assert ("Original Archive", "Archive of Foreign Policy of the Russian Federation (AVPRF)") in (
        h.notes
    )
    assert "Voronin, Pavel" in h.keywords
    decl = " ".join(h.decisions)
    assert "Original Archive as archive, Subjects Discussed as keywords, Credits as note" in decl


def test_editorial_brackets_are_classified():
    doc, _ = _convert("wilson-record-sections.txt")
    got = [
        (s.tag, doc.blocks[s.block].text[s.start : s.end], dict(s.attrs))
        for s in doc.spans
        if s.tag in ("supplied", "note", "sic", "gap")
    ]
    assert got == [
        ("supplied", "rben", {}),
        ("supplied", "Odesa", {}),
        ("sic", "recieved", {}),
        (
            "note",
            "The delegation was headed by the deputy minister of trade—ed.",
            {"type": "editorial", "resp": "#source-editor"},
        ),
        ("gap", "", {"reason": "omitted"}),
        ("gap", "", {"reason": "illegible"}),
        (
            "note",
            "Kelmendi was at that time also a candidate member of the Politburo",
            {"type": "editorial", "resp": "#source-editor"},
        ),
    ]
    assert "to Moscow and to inform" in doc.text()
    assert any(r.id == "source-editor" for r in doc.header.responsibilities)
    assert any("[sic] as sic" in d for d in doc.header.decisions)


def test_hyphenation_is_repaired_and_recorded():
    doc, _ = _convert("web-print-edition.txt")
    assert "an extraordinary plan" in doc.text()
    assert "the railway bridge" in doc.text()
    assert any("extraordi-/nary (line 5)" in d for d in doc.header.decisions)


def test_single_line_breaks_make_paragraphs():
    doc, _ = _convert("wilson-web-new-lines.txt")
    assert [b.kind for b in doc.blocks] == ["p", "p", "p", "p", "closer"]


NEW_LINES = (CAPTURES / "wilson-web-new-lines.txt").read_text()
BODY_AT = NEW_LINES.index("The Polish delegation") + 5


@pytest.mark.parametrize("cut", range(BODY_AT, len(NEW_LINES), 29))
def test_a_capture_cut_off_anywhere_still_converts(cut):
    """Layout 4 cut off at any character once the body has begun: still recognized and read."""
    doc = convert(NEW_LINES[:cut].encode(), "cut.txt", now=NOW)
    assert doc.header.source.format == "wilson-web"
    assert doc.header.date == "1956-05-09"
    assert "The Polish delegation".startswith(doc.blocks[0].text[:20])
    assert "Record ID" not in doc.text() and "Skip to content" not in doc.text()
    assert validate_bytes(serialize(to_tei(doc)), "cut.xml") == []


def test_auto_picks_the_best_and_explains():
    data = (CAPTURES / "wilson-web-old.txt").read_bytes()
    e = explain(data, "x.txt")
    assert (e.profile, e.fallback) == ("wilson-web-old", False)
    assert e.scores[0] == ("wilson-web-old", 6.0)
    text = e.format()
    assert "profile: wilson-web-old 1 (score 6)" in text
    assert "furniture (body starts after) English HTML" in text
    assert "front -> citation" in text


def test_unknown_layout_falls_back_to_plain_with_a_warning():
    warnings: list[str] = []
    data = b"Some Notes\n\nSource: a notebook\n\nCitation: none\n\nThe text of the notes."
    doc = convert(data, "n.txt", now=NOW, warnings=warnings)
    assert doc.header.source.format == "plain"
    assert any(
        w.startswith("[E125] no capture profile matched well (best: wilson") for w in warnings
    )
    assert any("no profile matched the capture well enough" in d for d in doc.header.decisions)
    assert detect_format("Just a title\n\nA paragraph of text.") == "plain"


MY_PROFILE = """\
name = "ministry-bulletin"
version = "1"
description = "Bulletin of an invented ministry"
publisher = "Invented Ministry Bulletin"
front = ["title", "date"]

[[marker]]
pattern = '(?m)^MINISTRY BULLETIN$'
weight = 5

[furniture]
lines = ["MINISTRY BULLETIN"]
patterns = ['Page \\d+ of \\d+']

[[label]]
text = "Filed under"
field = "keywords"

[[line]]
pattern = 'Reference: (?P<source>.+)'

[body]
end_before = ['Filed under:']
"""
BULLETIN = b"""MINISTRY BULLETIN
Harvest Report of the Northern District
4 October 1958
Reference: RGAE, f. 7486, op. 7, d. 12, l. 3
The harvest in the northern district was finished two weeks early.
Page 1 of 2
The district asks for forty new threshers for the next season.
Filed under: agriculture; northern district
"""


def test_a_users_profile_is_data(tmp_path):
    path = tmp_path / "bulletin.toml"
    path.write_text(MY_PROFILE)
    profile = load_profile(path)
    doc = convert(BULLETIN, "b.txt", now=NOW, profile=profile)
    h = doc.header
    assert (h.title, h.date, h.publisher) == (
        "Harvest Report of the Northern District",
        "1958-10-04",
        "Invented Ministry Bulletin",
    )
    assert h.archival.repository == "RGAE"
    assert h.keywords == ("agriculture", "northern district")
    assert [b.text for b in doc.blocks] == [
        "The harvest in the northern district was finished two weeks early.",
        "The district asks for forty new threshers for the next season.",
    ]
    # a corpus profile is found by --format auto and wins over a packaged one of the same name
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bulletin.toml").write_text(MY_PROFILE)
    (tmp_path / "profiles" / "web.toml").write_text(MY_PROFILE.replace("ministry-bulletin", "web"))
    known = load_profiles(tmp_path)
    assert known["web"].origin.endswith("web.toml")
    assert convert(BULLETIN, "b.txt", now=NOW, profiles=known).header.source.format in (
        "ministry-bulletin",
        "web",
    )


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("name = ", "E120"),
        ('name = "x"\nversion = "1"\n[[marker]]\npattern = "("', "E121"),
        ('name = "x"\nversion = "1"\n[[label]]\ntext = "A"\nfield = "colour"', "E122"),
        ('version = "1"', "E123"),
        ('name = "Bad Name"\nversion = "1"', "E123"),
    ],
)
def test_bad_profiles_have_coded_errors(text, code):
    with pytest.raises(SourceError) as err:
        parse_profile(text, "p.toml")
    assert err.value.code == code


def test_corpus_furniture_needs_many_sources():
    menu = "Home | Archive | Search"
    texts = [
        f"{menu}\nTitle {i}\n\nText {i} of the document.\nRepeated line here\n" for i in range(4)
    ]
    texts.append("Title x\n\nRepeated line here\nRepeated line here\nRepeated line here\n")
    found = corpus_furniture(texts)
    assert found.lines == {menu: 4, "Repeated line here": 5}
    inside_one = corpus_furniture(["Same line again\nSame line again\nSame line again\n"] * 1)
    assert inside_one.lines == {}
    assert corpus_furniture(texts[:2]).lines == {}


_LINE = st.sampled_from(["Home | Archive", "Print this page", "Reading Room", "Text a", "Note b"])


@settings(max_examples=150)
@given(
    st.lists(st.lists(_LINE, max_size=5).map("\n".join), max_size=40),
    st.integers(min_value=1, max_value=12),
)
def test_corpus_furniture_in_blocks_equals_one_pass(texts, block):
    """Reading a large corpus in blocks (bounded memory, two passes) finds exactly the lines that
    counting everything at once finds, for any block size."""
    whole = corpus_furniture(texts, block=10**6)
    assert corpus_furniture(texts, block=block) == whole
    assert corpus_furniture(lambda: iter(texts), block=block) == whole
    assert corpus_furniture(iter(texts), block=block) == whole


def test_corpus_furniture_keeps_few_lines_in_memory():
    """Each block forgets the lines that are not candidates: one line per source never adds up."""
    texts = [f"Unique line number {i}\nShared Reading Room Notice" for i in range(5000)]
    found = corpus_furniture(lambda: iter(texts), block=100)
    assert found.lines == {"Shared Reading Room Notice": 5000}
    assert found.sources == 5000


def test_corpus_furniture_is_removed_and_listed():
    furniture = corpus_furniture(
        [f"Title {i}\n\nText {i}.\n\nInvented Archive Reading Room Rules apply" for i in range(5)]
    )
    data = b"A Title\n\nThe first paragraph.\n\nInvented Archive Reading Room Rules apply\n"
    doc = convert(data, "f.txt", now=NOW, furniture=furniture)
    assert "Reading Room" not in doc.text()
    assert any(
        "'Invented Archive Reading Room Rules apply' (in 5 sources)" in d
        for d in doc.header.decisions
    )


def run(*args: str):
    return CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": EPOCH})


def test_cli_profiles_lists_them():
    result = run("profiles")
    assert result.exit_code == 0, result.output
    for name in ("wilson", "wilson-web-old", "wilson-web", "web", "frus", "plain"):
        assert any(line.split()[:1] == [name] for line in result.output.splitlines())


def test_cli_explain_and_profile(tmp_path):
    src = CAPTURES / "frus-telegram.txt"
    result = run("convert", "--explain", str(src))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == "profile: frus 1 (score 6)"
    assert not list(tmp_path.iterdir())
    (tmp_path / "p.toml").write_text(MY_PROFILE)
    (tmp_path / "b.txt").write_bytes(BULLETIN)
    out = tmp_path / "out"
    result = run(
        "convert", str(tmp_path / "b.txt"), "--profile", str(tmp_path / "p.toml"), "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "(ministry-bulletin," in result.output
    result = run("convert", str(src), "--format", "nosuch", "-o", str(out))
    assert result.exit_code == 1
    assert "[E107] unknown format 'nosuch'" in result.output


PIECES = [
    "Citation:",
    "Summary: a summary",
    "Contents:",
    "Translation - English",
    "Source",
    "Record ID",
    "900001",
    "Author(s):",
    "Document Information",
    "Skip to content",
    "English HTML",
    "get citation",
    "Home > News",
    "Updated: 2021-01-02 | By: Someone",
    "Footnotes",
    "1. Source: National Archives, RG 59, Central Files, 611.93/5-1458.",
    "214. Telegram From the Embassy",
    "Washington, May 1, 1958.",
    "**Bold Title**",
    "March 3, 1950",
    "Related",
    "[Prev] [Next]",
    "Copyright 2020",
    "A sentence of text [with] a bracket [sic] and [...] more.",
    "a line in lower case that goes on-",
    "",
    "Short",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=25), st.sampled_from(FORMATS))
def test_any_arrangement_converts_or_gives_a_coded_error(lines, fmt):
    data = "\n".join(lines).encode()
    try:
        doc = convert(data, "f.txt", format=fmt, now=NOW)
    except SourceError as exc:
        assert exc.code in ("E102", "E108")
        return
    assert from_tei(to_tei(doc)) == doc
    assert validate_bytes(serialize(to_tei(doc)), "f.xml") == []


def test_a_profile_file_can_be_given_as_format(tmp_path):
    path = tmp_path / "bulletin.toml"
    path.write_text(MY_PROFILE)
    doc = convert(BULLETIN, "b.txt", now=NOW, format=str(path))
    assert doc.header.source.format == "ministry-bulletin"
    with pytest.raises(SourceError) as err:
        convert(BULLETIN, "b.txt", now=NOW, format=str(tmp_path / "missing.toml"))
    assert err.value.code == "E124"


def test_cli_convert_removes_furniture_shared_by_the_given_sources(tmp_path):
    for i in range(3):
        (tmp_path / f"s{i}.txt").write_text(
            f"Title {i}\n\nParagraph {i} of the text.\n\nInvented Reading Room Notice\n"
        )
    out = tmp_path / "out"
    result = run("convert", *(str(tmp_path / f"s{i}.txt") for i in range(3)), "-o", str(out))
    assert result.exit_code == 0, result.output
    data = (out / "s0.xml").read_text()
    assert "Invented Reading Room Notice" not in data.split("<body>")[1]
    assert "'Invented Reading Room Notice' (in 3 sources)" in data
    result = run(
        "convert",
        *(str(tmp_path / f"s{i}.txt") for i in range(3)),
        "--no-furniture",
        "--force",
        "-o",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "Invented Reading Room Notice" in (out / "s0.xml").read_text().split("<body>")[1]


def test_cli_profiles_lists_corpus_profiles(tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bulletin.toml").write_text(MY_PROFILE)
    result = run("profiles", "--corpus", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "ministry-bulletin  1  [" in result.output
    (tmp_path / "profiles" / "broken.toml").write_text("name = ")
    result = run("profiles", "--corpus", str(tmp_path))
    assert result.exit_code == 2
    assert "[E120] not valid TOML" in result.output


def test_the_seed_flattened_onto_one_line_keeps_its_header():
    one = " ".join(WILSON.read_text().split())
    doc = convert(one.encode(), "one.txt", now=NOW)
    seed = convert(WILSON.read_bytes(), WILSON.name, now=NOW)
    for key in ("title", "date", "translators", "archival", "abstract", "original_language"):
        assert getattr(doc.header, key) == getattr(seed.header, key), key
    assert doc.header.contents == ("Translation - English",)
    assert doc.blocks[0].text.startswith("Record of conversation between Soviet Ambassador")
    assert doc.blocks[-1].text.endswith("Ambassador of the USSR in China Apollon Petrov")


@pytest.mark.parametrize(
    ("bracket", "tag"),
    [
        ("[heard]", "supplied"),
        ("N[ikolai]", "supplied"),
        ("[Sino-Albanian relations were established in 1949—ed.]", "note"),
        ("[Filippov is Stalin's pseudonym]", "note"),
        ("[The meeting took place in the Kremlin - Ed.]", "note"),
        ("[...]", "gap"),
        ("[illegible]", "gap"),
        ("[unclear]", "gap"),
    ],
)
def test_issue_bracket_examples(bracket, tag):
    data = f"Title\n\nHe said that he {bracket} the news on Monday.".encode()
    doc = convert(data, "b.txt", format="plain", now=NOW)
    spans = [s for s in doc.spans if s.tag in ("supplied", "note", "gap", "sic")]
    assert [s.tag for s in spans] == [tag]
    assert "[" not in doc.text() and "]" not in doc.text()


def test_footnote_marks_stay_and_inline_debris_is_listed():
    doc, _ = _convert("wiki-article.txt")
    assert doc.blocks[0].text.endswith("in February 1958.[1]")
    assert doc.blocks[2].text.endswith("by a third.[2]")
    assert doc.header.source.damage == ()
    assert any("'[edit]' (3 time(s))" in d for d in doc.header.decisions)


def test_furniture_of_source_files(tmp_path):
    for i in range(4):
        (tmp_path / f"s{i}.txt").write_text(
            f"Title {i}\n\nText {i}.\n\nShared Reading Room Notice\n"
        )
    (tmp_path / "empty.txt").write_bytes(b"")
    paths = [*sorted(tmp_path.glob("s*.txt")), tmp_path / "empty.txt", tmp_path / "missing.txt"]
    found = furniture_of(paths)
    assert (found.lines, found.sources) == ({"Shared Reading Room Notice": 4}, 4)


def test_a_newer_page_without_summary_keeps_its_signature():
    text = (CAPTURES / "wilson-web-new-lines.txt").read_text()
    text = text.replace("A note on the talks of a Polish trade delegation in Beijing.\n", "")
    doc = convert(text.encode(), "n.txt", now=NOW)
    assert doc.header.abstract is None
    assert doc.blocks[-1].kind == "closer"
    assert doc.blocks[-1].text == "Department of Foreign Trade"


def test_corpus_furniture_never_takes_a_profiles_labels():
    lines = (CAPTURES / "wilson-web-new-lines.txt").read_text().split("\n")
    texts = [  # four records of one layout: page chrome shared, the documents different
        "\n".join(f"{ln} {i}" if 1 <= k <= 8 else ln for k, ln in enumerate(lines))
        for i in range(4)
    ]
    furniture = corpus_furniture(texts)
    assert "Rights" in furniture and "Record ID" in furniture
    doc = convert(texts[0].encode(), "w.txt", now=NOW, furniture=furniture)
    assert doc.blocks[0].text.startswith("The Polish delegation")
    assert doc.header.rights.startswith("The History and Public Policy Program")
    assert doc.header.record_id == "900004"
