from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import NOW, assert_valid
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from toolkit.citations import (
    archives,
    citation_json,
    find_citation,
    format_citation,
    parse_citation,
)
from toolkit.cli import main
from toolkit.errors import CitationError
from toolkit.model import Citation, Level, Range
from toolkit.sources import convert
from toolkit.tei import citation_to_tei, serialize, to_tei


def L(*pairs):
    return tuple(Level(u, v) for u, v in pairs)


RUS = L(("fond", "0100"), ("opis", "33"), ("delo", "13"), ("papka", "244"))
# (text, repository, levels, range)
SHAPES = [
    (
        "AVPRF: fond 0100, opis 33, delo 13, papka 244, listy 220-240",
        "AVPRF",
        RUS,
        Range("folio", "220", "240"),
    ),
    ("AVPRF, fond 0100, opis 33, delo 13, papka 244, list 5", "AVPRF", RUS, Range("folio", "5")),
    (
        "AVPRF fond 0100 opis 33 delo 13 papka 244 listy 220-240",
        "AVPRF",
        RUS,
        Range("folio", "220", "240"),
    ),
    (
        "avprf: Fond 0100, Opis 33, Delo 13, Papka 244, Listy 220–240",
        None,
        RUS,
        Range("folio", "220", "240"),
    ),
    (
        "AVP RF, f. 0100, op. 42, por. 7, pap. 301, ll. 5-9",
        "AVPRF",
        L(("fond", "0100"), ("opis", "42"), ("item", "7"), ("papka", "301")),
        Range("folio", "5", "9"),
    ),
    (
        "AVP RF, f. 0100, op. 42, por. 7, pap.301, ll. 5-9",
        "AVPRF",
        L(("fond", "0100"), ("opis", "42"), ("item", "7"), ("papka", "301")),
        Range("folio", "5", "9"),
    ),
    (
        "f. 0100, op. 42, por. 7, pap. 301, ll. 5-9",
        None,
        L(("fond", "0100"), ("opis", "42"), ("item", "7"), ("papka", "301")),
        Range("folio", "5", "9"),
    ),
    (
        "AVP RF f.0100 op.42 d.7 l.5",
        "AVPRF",
        L(("fond", "0100"), ("opis", "42"), ("delo", "7")),
        Range("folio", "5"),
    ),
    (
        "AVP SSSR, f. 06, op. 9, pap. 18, d. 229, l. 4",
        "AVP SSSR",
        L(("fond", "06"), ("opis", "9"), ("papka", "18"), ("delo", "229")),
        Range("folio", "4"),
    ),
    (
        "APRF, f. 45, op. 1, d. 329, ll. 54-72",
        "APRF",
        L(("fond", "45"), ("opis", "1"), ("delo", "329")),
        Range("folio", "54", "72"),
    ),
    (
        "AP RF, f. 3, op. 65, d. 9, l. 1",
        "APRF",
        L(("fond", "3"), ("opis", "65"), ("delo", "9")),
        Range("folio", "1"),
    ),
    (
        "RGASPI, F. 3, Op. 1, D. 77, L. 14",
        "RGASPI",
        L(("fond", "3"), ("opis", "1"), ("delo", "77")),
        Range("folio", "14"),
    ),
    (
        "RGASPI f. 17, op. 162, d. 38, ll. 1-3",
        "RGASPI",
        L(("fond", "17"), ("opis", "162"), ("delo", "38")),
        Range("folio", "1", "3"),
    ),
    (
        "RGASPI, fond 558, opis 11, delo 99, listy 10-12",
        "RGASPI",
        L(("fond", "558"), ("opis", "11"), ("delo", "99")),
        Range("folio", "10", "12"),
    ),
    (
        "RGASPI. F. 17. Op. 3. D. 1045. L. 4.",
        "RGASPI",
        L(("fond", "17"), ("opis", "3"), ("delo", "1045")),
        Range("folio", "4"),
    ),
    (
        "RGASPI, f. 17, op. 3, d. 1045, l. 4r",
        "RGASPI",
        L(("fond", "17"), ("opis", "3"), ("delo", "1045")),
        Range("folio", "4"),
    ),
    (
        "РГАСПИ. Ф. 558. Оп. 11. Д. 99. Л. 10–12",
        "RGASPI",
        L(("fond", "558"), ("opis", "11"), ("delo", "99")),
        Range("folio", "10", "12"),
    ),
    (
        "ГАРФ. Ф. Р-9401. Оп. 2. Д. 64. Л. 7 об.",
        "GARF",
        L(("fond", "R-9401"), ("opis", "2"), ("delo", "64")),
        Range("folio", "7v"),
    ),
    (
        "GARF, f. R-9401, op. 2, d. 64, l. 7ob.",
        "GARF",
        L(("fond", "R-9401"), ("opis", "2"), ("delo", "64")),
        Range("folio", "7v"),
    ),
    (
        "GARF, f. R-9401, op. 2, d. 64, l. 7 ob.",
        "GARF",
        L(("fond", "R-9401"), ("opis", "2"), ("delo", "64")),
        Range("folio", "7v"),
    ),
    (
        "GARF, fond R-5446, opis 1, delo 12, list 3 ob.",
        "GARF",
        L(("fond", "R-5446"), ("opis", "1"), ("delo", "12")),
        Range("folio", "3v"),
    ),
    (
        "ф. 558, оп. 11, д. 99, л. 10",
        None,
        L(("fond", "558"), ("opis", "11"), ("delo", "99")),
        Range("folio", "10"),
    ),
    (
        "RGANI, f. 5, op. 23a, d. 1, list 5",
        "RGANI",
        L(("fond", "5"), ("opis", "23a"), ("delo", "1")),
        Range("folio", "5"),
    ),
    (
        "РГАНИ. Ф. 5. Оп. 23а. Д. 1. Л. 5",
        "RGANI",
        L(("fond", "5"), ("opis", "23a"), ("delo", "1")),
        Range("folio", "5"),
    ),
    (
        "RGANI f. 89 op. 46 d. 1 l. 2",
        "RGANI",
        L(("fond", "89"), ("opis", "46"), ("delo", "1")),
        Range("folio", "2"),
    ),
    (
        "AVPRF, fond 07, opis 23а, papka 18, delo 235, listy 1-3",
        "AVPRF",
        L(("fond", "07"), ("opis", "23a"), ("papka", "18"), ("delo", "235")),
        Range("folio", "1", "3"),
    ),
    (
        "TsAMO, f. 3, op. 11556, d. 12, l. 15",
        "TsAMO",
        L(("fond", "3"), ("opis", "11556"), ("delo", "12")),
        Range("folio", "15"),
    ),
    (
        "ЦАМО РФ. Ф. 3. Оп. 11556. Д. 12. Л. 15",
        "TsAMO",
        L(("fond", "3"), ("opis", "11556"), ("delo", "12")),
        Range("folio", "15"),
    ),
    (
        "RGVA, f. 4, op. 14, d. 1737, ll. 10-12ob.",
        "RGVA",
        L(("fond", "4"), ("opis", "14"), ("delo", "1737")),
        Range("folio", "10", "12v"),
    ),
    (
        "RGAE, f. 4372, op. 92, d. 1, l. 33",
        "RGAE",
        L(("fond", "4372"), ("opis", "92"), ("delo", "1")),
        Range("folio", "33"),
    ),
    ("RGAKFD, f. 1, op. 2, d. 3", "RGAKFD", L(("fond", "1"), ("opis", "2"), ("delo", "3")), None),
    ("d. 12, l. 3", None, L(("delo", "12")), Range("folio", "3")),
    (
        "PRC FMA 105-00011-02, 12-15",
        "PRC FMA",
        L(("file", "105-00011-02")),
        Range("page", "12", "15"),
    ),
    (
        "PRC FMA 109-00998-01, 1-10",
        "PRC FMA",
        L(("file", "109-00998-01")),
        Range("page", "1", "10"),
    ),
    ("PRC FMA 109-00998-01", "PRC FMA", L(("file", "109-00998-01")), None),
    (
        "National Archives, RG 59, Central Decimal File 1945-49, 893.00/9-1245",
        "NARA",
        L(
            ("record_group", "59"),
            ("series", "Central Decimal File 1945-49"),
            ("file", "893.00/9-1245"),
        ),
        None,
    ),
    (
        "NARA, RG 84, Box 12, Folder 3",
        "NARA",
        L(("record_group", "84"), ("box", "12"), ("folder", "3")),
        None,
    ),
    (
        "NARA, RG 59, Entry 1234, Box 5",
        "NARA",
        L(("record_group", "59"), ("entry", "1234"), ("box", "5")),
        None,
    ),
    (
        "NARA, RG 263, Entry ZZ-16, Box 12",
        "NARA",
        L(("record_group", "263"), ("entry", "ZZ-16"), ("box", "12")),
        None,
    ),
    ("TNA, FO 371/46212", "TNA", L(("series", "FO 371"), ("file", "46212")), None),
    ("TNA FO 371/46212", "TNA", L(("series", "FO 371"), ("file", "46212")), None),
    ("The National Archives, CAB 128/1", "TNA", L(("series", "CAB 128"), ("file", "1")), None),
    ("XYZA: f. 1, op. 2, d. 3", "XYZA", L(("fond", "1"), ("opis", "2"), ("delo", "3")), None),
    (
        "Sovetsko-kitaiskie otnosheniia, vol. 4 (Moscow, 2000), pp. 123-125",
        None,
        (),
        Range("page", "123", "125"),
    ),
]


@pytest.mark.parametrize(
    ("text", "repository", "levels", "rng"), SHAPES, ids=[s[0][:40] for s in SHAPES]
)
def test_shapes_parse_and_format_back(text, repository, levels, rng):
    c = parse_citation(text)
    assert (c.repository, c.levels, c.range) == (repository, levels, rng)
    again = parse_citation(format_citation(c))
    assert (again.repository, again.levels, again.range) == (repository, levels, rng)


def test_every_registry_alias_is_read_in_a_reference():
    """Each alias of each packaged archive, cited before a fond/opis/delo reference, parses to
    that archive and those levels (an alias the parser cannot reach fails here)."""
    from toolkit.citations import archives

    for entry in archives().values():
        for alias in (entry.key, *entry.aliases):
            c = parse_citation(f"{alias}, fond 12, opis 3, delo 45, listy 6-7")
            assert c.repository == entry.key, (alias, c)
            assert [(lv.unit, lv.value) for lv in c.levels] == [
                ("fond", "12"),
                ("opis", "3"),
                ("delo", "45"),
            ], (alias, c)


def test_reference_inside_a_citation_sentence():
    sentence = (
        '"Record of Conversation between Soviet Ambassador in China Apollon Petrov and Mao Zedong", '
        "September 6, 1945, Wilson Center Digital Archive, AVPRF: fond 0100, opis 33, delo 13, "
        "papka 244, listy 220-240. Translated by Sergey Radchenko."
    )
    c = find_citation(sentence)
    assert c.raw == "AVPRF: fond 0100, opis 33, delo 13, papka 244, listy 220-240"
    assert c.levels == RUS


def test_unparseable_reference():
    with pytest.raises(CitationError) as err:
        parse_citation("a letter from my aunt")
    assert err.value.code == "E501"


RUSSIAN = sorted(k for k in archives() if k not in ("TNA", "PRC FMA", "NARA"))
value = st.from_regex(r"(R-)?[0-9]{1,5}", fullmatch=True)


@st.composite
def russian_references(draw):
    units = [u for u in ("fond", "opis", "delo", "papka", "item") if draw(st.booleans())]
    if len(units) < 2:
        units = ["fond", "delo"]
    levels = tuple(
        Level(
            u, draw(value) if u == "fond" else draw(st.from_regex(r"[0-9]{1,4}a?", fullmatch=True))
        )
        for u in units
    )
    rng = None
    if draw(st.booleans()):
        start = str(draw(st.integers(1, 999))) + draw(st.sampled_from(["", "v"]))
        end = draw(st.one_of(st.none(), st.integers(1, 999).map(str)))
        rng = Range(draw(st.sampled_from(["folio", "page"])), start, end)
    return Citation(raw="", repository=draw(st.sampled_from(RUSSIAN)), levels=levels, range=rng)


@settings(max_examples=200, deadline=None)
@given(russian_references())
def test_format_then_parse_gives_the_same_structure(c):
    again = parse_citation(format_citation(c))
    assert (again.repository, again.levels, again.range) == (c.repository, c.levels, c.range)


def test_cli_json():
    result = CliRunner().invoke(
        main, ["cite", "AVPRF: fond 0100, opis 33, delo 13, papka 244, listy 220-240", "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "repository": "AVPRF",
        "repository_name": "Archive of Foreign Policy of the Russian Federation",
        "country": "Russia",
        "settlement": "Moscow",
        "levels": [
            {"unit": "fond", "value": "0100"},
            {"unit": "opis", "value": "33"},
            {"unit": "delo", "value": "13"},
            {"unit": "papka", "value": "244"},
        ],
        "range": {"unit": "folio", "from": "220", "to": "240"},
        "raw": "AVPRF: fond 0100, opis 33, delo 13, papka 244, listy 220-240",
    }
    single = json.loads(CliRunner().invoke(main, ["cite", "TNA, FO 371/46212", "--json"]).output)
    assert single["range"] is None
    leaf = json.loads(
        CliRunner().invoke(main, ["cite", "GARF, f. 1, op. 2, d. 3, l. 7ob.", "--json"]).output
    )
    assert leaf["range"] == {"unit": "folio", "from": "7v", "to": None}


def test_cli_text_and_errors():
    ok = CliRunner().invoke(main, ["cite", "RGASPI, f. 17, op. 3, d. 1045, l. 4"])
    assert ok.output == (
        "archival: RGASPI, fond 17, opis 3, delo 1045, list 4 "
        "(Russian State Archive of Socio-Political History, Moscow, Russia)\n"
    )
    bad = CliRunner().invoke(main, ["cite", "a letter from my aunt"])
    assert bad.exit_code == 1
    assert bad.stderr.startswith(
        "error: [E501] no archival reference found in 'a letter from my aunt'"
    )
    assert CliRunner().invoke(main, ["cite", "x", "--json", "--tei"]).exit_code == 2


@pytest.mark.parametrize("shape", SHAPES, ids=[s[0][:40] for s in SHAPES])
def test_every_tei_output_is_valid(shape, tei_all):
    result = CliRunner().invoke(main, ["cite", shape[0], "--tei"])
    assert result.exit_code == 0, result.output
    fragment = etree.fromstring(result.output.encode())
    doc = to_tei(convert(b"Title\n\nText.", "x.txt", now=NOW))
    source_desc = doc.find(".//{http://www.tei-c.org/ns/1.0}sourceDesc")
    source_desc.insert(0, fragment)
    if fragment.tag.endswith("bibl"):
        source_desc.append(source_desc[0])  # a bibl goes after the source's own bibl
    assert_valid(tei_all, serialize(doc))


def test_conversion_keeps_an_unreadable_reference_and_warns():
    warnings: list[str] = []
    doc = convert(
        b"Title\n\nSource: a box in my attic\n\nText.", "x.txt", now=NOW, warnings=warnings
    )
    assert doc.header.archival is None
    assert doc.header.citation == "a box in my attic"
    assert warnings == [
        "[E502] no archival reference could be read in 'a box in my attic'; kept verbatim in the "
        "header (see `toolkit cite` for the shapes it reads)"
    ]
    doc = convert(
        b"Title\n\nSource: RGASPI, f. 17, op. 3, d. 1045, l. 4\n\nText.", "y.txt", now=NOW
    )
    assert doc.header.archival.repository == "RGASPI"
    assert citation_json(doc.header.archival)["levels"][0] == {"unit": "fond", "value": "17"}
    assert citation_to_tei(doc.header.archival).tag.endswith("msDesc")


@pytest.mark.parametrize(
    "shape", [s for s in SHAPES if s[1]], ids=[s[0][:40] for s in SHAPES if s[1]]
)
def test_citations_survive_the_tei_round_trip(shape):
    from dataclasses import replace

    from toolkit.tei import from_tei

    doc = convert(b"Title\n\nText.", "x.txt", now=NOW)
    c = parse_citation(shape[0])
    doc = replace(doc, header=replace(doc.header, archival=c))
    assert from_tei(to_tei(doc)).header.archival == c
