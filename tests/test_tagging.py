"""Tagging: unit tests on spacy.blank("en") + rule components; no statistical model needed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import spacy
from conftest import NOW, assert_valid
from lxml import etree

from toolkit.authority import add_candidates, parse_authority
from toolkit.entities import ModelInfo, authority_patterns, clean
from toolkit.errors import AuthorityError
from toolkit.sources import convert
from toolkit.tagging import tag_files
from toolkit.tei import NS, from_tei, parse_bytes, serialize, to_tei

AUTHORITY = b"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>
<title>A</title></titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p>
</sourceDesc></fileDesc></teiHeader><text><body>
<listPerson><person xml:id="mao-zedong"><persName type="main">Mao Zedong</persName>
<persName>Mao Tse-tung</persName></person>
<person xml:id="chiang"><persName type="main">Chiang Kai-shek</persName>
<persName>Jiang Jieshi</persName></person></listPerson>
<listPlace><place xml:id="rehe"><placeName type="main">Rehe</placeName></place></listPlace>
<listOrg><org xml:id="gmd"><orgName type="main">Guomindang</orgName><orgName>GMD</orgName>
<orgName>Kuomintang</orgName></org></listOrg></body></text></TEI>"""
INFO = ModelInfo("en_blank_rules", "0.0", spacy.__version__, "blank")


@pytest.fixture
def authority():
    return parse_authority(AUTHORITY, "authority.xml")


@pytest.fixture
def nlp(authority):
    """A real spaCy pipeline without a statistical model: a rule 'NER' plus the matcher."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Zhang Wei"},
            {"label": "PERSON", "pattern": "Rehe"},  # a model error the authority must fix
            {"label": "PERSON", "pattern": "Gestapo"},
            {"label": "ORG", "pattern": "the Democratic League"},
        ]
    )
    nlp.add_pipe("authority_matcher", config={"patterns": authority_patterns(authority)})
    return nlp


def tei_file(tmp_path: Path, body: str, name: str = "doc.txt") -> Path:
    doc = convert(f"Title\n\n{body}".encode(), name, format="plain", now=NOW)
    path = tmp_path / (Path(name).stem + ".xml")
    path.write_bytes(serialize(to_tei(doc)))
    return path


def run_tag(nlp, authority, paths):
    return list(tag_files(paths, nlp, INFO, authority, now=NOW, authority_sha256="0" * 64))


def names(path: Path) -> list[tuple[str, str, str | None, str | None]]:
    doc = from_tei(parse_bytes(path.read_bytes()).getroot())
    return [
        (doc.blocks[s.block].text[s.start : s.end], s.tag, s.get("ref"), s.get("resp"))
        for s in doc.spans
        if s.tag in ("persName", "placeName", "orgName")
    ]


def test_authority_types_and_refs_win(tmp_path, nlp, authority):
    path = tei_file(tmp_path, "Mao Zedong met the GMD in Rehe. Later Mao left.")
    [result] = run_tag(nlp, authority, [path])
    path.write_bytes(result.data)
    assert names(path) == [
        ("Mao Zedong", "persName", "auth:mao-zedong", "#toolkit-authority"),
        ("GMD", "orgName", "auth:gmd", "#toolkit-authority"),
        ("Rehe", "placeName", "auth:rehe", "#toolkit-authority"),
        ("Mao", "persName", "auth:mao-zedong", "#toolkit-coref"),
    ]


def test_bracketed_gloss_tags_both_names_with_one_ref(tmp_path, nlp, authority):
    path = tei_file(tmp_path, "The GMD and Chiang Kai-shek [Jiang Jieshi] agreed.")
    [result] = run_tag(nlp, authority, [path])
    xml = re.sub(r'xml:id="n-[0-9a-f]{10}"', 'xml:id="ID"', result.data.decode())
    assert (
        '<persName ref="auth:chiang" resp="#toolkit-authority" xml:id="ID">Chiang Kai-shek'
        '</persName> <supplied><persName ref="auth:chiang" resp="#toolkit-authority" '
        'xml:id="ID">Jiang Jieshi</persName></supplied>'
    ) in xml


def test_candidates_get_stable_ids_and_a_standoff_entry(tmp_path, nlp, authority, tei_all):
    path = tei_file(tmp_path, "Zhang Wei spoke of the Democratic League and the Gestapo.")
    [result] = run_tag(nlp, authority, [path])
    assert [e.id for e in result.candidates] == [
        "cand-org-democratic-league",
        "cand-person-gestapo",
        "cand-person-zhang-wei",
    ]
    root = etree.fromstring(result.data)
    lists = root.findall("tei:standOff/*[@type='candidates']", NS)
    assert [etree.QName(x).localname for x in lists] == ["listPerson", "listOrg"]
    assert_valid(tei_all, root)
    path.write_bytes(result.data)
    assert names(path)[0] == ("Zhang Wei", "persName", "#cand-person-zhang-wei", "#toolkit-ner")
    assert names(path)[1][0] == "Democratic League"  # "the" trimmed


def test_update_authority_appends_candidates(tmp_path, nlp, authority):
    path = tei_file(tmp_path, "Zhang Wei arrived.")
    [result] = run_tag(nlp, authority, [path])
    data, added = add_candidates(AUTHORITY, result.candidates, "authority.xml")
    assert added == 1
    again = parse_authority(data)
    entry = again.by_id()["cand-person-zhang-wei"]
    assert (entry.main, entry.reviewed) == ("Zhang Wei", False)
    assert add_candidates(data, result.candidates, "authority.xml")[1] == 0


def test_tagging_is_idempotent_and_keeps_the_text(tmp_path, nlp, authority):
    path = tei_file(tmp_path, "Mao Zedong and the GMD. Mao and Zhang Wei [sic] in Rehe.")
    before = from_tei(parse_bytes(path.read_bytes()).getroot())
    [first] = run_tag(nlp, authority, [path])
    path.write_bytes(first.data)
    after = from_tei(parse_bytes(path.read_bytes()).getroot())
    assert [b.text for b in after.blocks] == [b.text for b in before.blocks]
    [second] = run_tag(nlp, authority, [path])
    assert second.data is None  # nothing to change: the file is not rewritten
    assert second.counts["persName"] == first.counts["persName"] == 3


def test_human_tags_win_and_crossings_are_dropped_with_a_warning(tmp_path, nlp, authority):
    path = tmp_path / "hand.xml"
    base = tei_file(tmp_path, "x").read_bytes().decode()
    body = (
        '<p><persName ref="#someone">Mao Zedong</persName> met the <hi>GMD</hi> '
        "and Chiang <hi>Kai-shek spoke</hi>.</p>"
    )
    path.write_text(base.replace("<p>x</p>", body))
    [result] = run_tag(nlp, authority, [path])
    xml = result.data.decode()
    assert '<persName ref="#someone">Mao Zedong</persName>' in xml  # kept, not re-tagged
    assert '<hi><orgName ref="auth:gmd"' in xml  # nests inside an editor's element
    assert result.warnings == [
        f"{path}: block 2: 'Chiang Kai-shek' not tagged: it would cross the <hi> element there"
    ]
    assert result.counts["dropped"] == 1


def test_provenance_is_declared(tmp_path, nlp, authority):
    path = tei_file(tmp_path, "Mao Zedong.")
    [result] = run_tag(nlp, authority, [path])
    root = etree.fromstring(result.data)
    ids = [
        r.get("{http://www.w3.org/XML/1998/namespace}id")
        for r in root.iterfind(".//tei:respStmt", NS)
    ]
    assert ids[-3:] == ["toolkit-ner", "toolkit-authority", "toolkit-coref"]
    apps = [a.get("ident") for a in root.iterfind(".//tei:appInfo/tei:application", NS)]
    assert apps == ["toolkit", "spaCy", "en_blank_rules"]
    changes = root.findall(".//tei:revisionDesc/tei:change", NS)
    assert changes[-1].text.startswith("Tagged 1 names (persName 1, placeName 0, orgName 0;")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (AUTHORITY.replace(b'xml:id="rehe"', b'xml:id="gmd"'), "E301"),
        (
            AUTHORITY.replace(b"<place xml:id", b"<org xml:id").replace(b"</place>", b"</org>"),
            "E302",
        ),
        (AUTHORITY.replace(b'<persName type="main">Mao Zedong</persName>', b""), None),
        (b"<TEI><broken>", "E304"),
    ],
)
def test_bad_authority_files(data, code):
    if code is None:  # a person with only a variant name: the first name becomes the main one
        assert parse_authority(data).by_id()["mao-zedong"].main == "Mao Tse-tung"
        return
    with pytest.raises(AuthorityError) as err:
        parse_authority(data, "authority.xml")
    assert err.value.code == code


def test_bad_inputs_are_reported_and_the_rest_tagged(tmp_path, nlp, authority):
    good = tei_file(tmp_path, "Mao Zedong.")
    broken = tmp_path / "broken.xml"
    broken.write_text("<TEI><p>unclosed</TEI>")
    other = tmp_path / "other.xml"
    other.write_text("<html><body/></html>")
    results = run_tag(nlp, authority, [broken, good, other, tmp_path / "missing.xml"])
    assert [r.error.code if r.error else "ok" for r in results] == ["E201", "ok", "E202", "E205"]


@pytest.mark.parametrize(
    ("surface", "expected"),
    [("the Soviet Union's", "Soviet Union"), ("South", None), ("Chiang's", "Chiang"), ("12", None)],
)
def test_model_entities_are_cleaned(surface, expected):
    span = clean(surface, 0, len(surface))
    assert (surface[span[0] : span[1]] if span else None) == expected


def test_the_same_text_gets_the_same_mentions_whatever_came_before():
    """A telegram in capitals is read in restored case against the vocabulary as loaded: the
    documents processed before it (another partition, another worker) change nothing, and the
    stream leaves the vocabulary as it found it (memory zones), however long it is."""
    from toolkit.entities import ZONE_TEXTS, find_mentions, load_pipeline

    nlp, _ = load_pipeline(None, None)
    size = len(nlp.vocab.strings)
    telegram = "AMBASSADOR GALLMAN REPORTS THAT BRIGADIER KASSEM HAS TAKEN THE PALACE IN BAGHDAD."
    alone = list(find_mentions(nlp, [(telegram, 0)]))
    assert alone[0][0], "the model finds names in the restored telegram"
    others = [
        (f"Brigadier Kassem met Colonel Aref and the envoy Gallman, number {i}.", i)
        for i in range(ZONE_TEXTS + 5)  # more than one memory zone
    ]
    assert sum(len(found) for found, _ in find_mentions(nlp, others)) >= len(others)
    assert list(find_mentions(nlp, [(telegram, 0)])) == alone
    assert len(nlp.vocab.strings) == size
