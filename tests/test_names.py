"""Candidate identity (toolkit/names.py): normalization, short forms, types, aliases, gazetteer.

Pure functions over hand-made mentions: no statistical model needed."""

from __future__ import annotations

import pytest

from toolkit.authority import parse_authority
from toolkit.entities import Mention
from toolkit.gazetteer import load_gazetteer
from toolkit.model import Span
from toolkit.names import candidate_id, find_aliases, fold, normalize, resolve_document

AUTHORITY = b"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>
<title>A</title></titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p>
</sourceDesc></fileDesc></teiHeader><text><body>
<listPerson><person xml:id="mao-zedong"><persName type="main">Mao Zedong</persName>
<persName>Mao Tse-tung</persName><persName>Chairman Mao</persName></person></listPerson>
<listPlace><place xml:id="springfield-corpus"><placeName type="main">Springfield</placeName>
</place></listPlace></body></text></TEI>"""


@pytest.fixture
def authority():
    return parse_authority(AUTHORITY, "<authority>")


@pytest.mark.parametrize(
    ("surface", "key", "name", "role"),
    [
        ("Marshal Stalin", "stalin", "Stalin", "Marshal"),
        ("Generalissimo Chiang", "chiang", "Chiang", "Generalissimo"),
        ("Chairman Mao", "mao", "Mao", "Chairman"),
        ("Comrade Filippov", "filippov", "Filippov", "Comrade"),
        ("Com. Terebin", "terebin", "Terebin", "Com"),
        ("cde. Gromyko", "gromyko", "Gromyko", "cde"),
        ("Mr. Lewis", "lewis", "Lewis", "Mr"),
        ("Mrs. Hartley", "hartley", "Hartley", "Mrs"),
        ("General Marshall", "marshall", "Marshall", "General"),
        ("Ambassador Stuart", "stuart", "Stuart", "Ambassador"),
        ("President Truman", "truman", "Truman", "President"),
        ("Premier Zhou", "zhou", "Zhou", "Premier"),
        ("Foreign Minister Molotov", "molotov", "Molotov", "Foreign Minister"),
        ("Stalin's", "stalin", "Stalin", ""),
        ("Woolf’s", "woolf", "Woolf", ""),
        ("MAO ZEDONG", "mao zedong", "Mao Zedong", ""),
        ("MAO TSE-TUNG", "mao tse-tung", "Mao Tse-Tung", ""),
        ("C. S. Lewis", "cs lewis", "C. S. Lewis", ""),
        ("U.S.S.R.", "ussr", "U.S.S.R.", ""),
        ("Lüshun", "lushun", "Lüshun", ""),
        ("Marshal", "marshal", "Marshal", ""),  # a title alone stays what it is
    ],
)
def test_normalize(surface, key, name, role):
    n = normalize(surface)
    assert (n.key, n.name, n.role) == (key, name, role)


def test_candidate_ids_are_shared_by_normalized_forms():
    ids = {candidate_id("person", s) for s in ("Marshal Stalin", "STALIN", "Stalin's", "Stalin")}
    assert ids == {"cand-person-stalin"}
    assert candidate_id("person", "C.S. Lewis") == candidate_id("person", "C. S. Lewis")
    assert fold("C.S. Lewis") == fold("C. S. Lewis") == "cs lewis"


def m(text: str, surface: str, kind: str, nth: int = 0, entry: str | None = None) -> Mention:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return Mention(start, start + len(surface), kind, entry, "authority" if entry else "ner")


def tags(texts, resolution):
    return [(texts[r.block][r.start : r.end], r.type, r.ref, r.resp) for r in resolution.mentions]


def test_short_forms_link_to_the_full_candidate_name(authority):
    text = "Mr. C. S. Lewis met Virginia Woolf. Lewis liked Woolf's essays."
    mentions = [
        m(text, "C. S. Lewis", "person"),
        m(text, "Virginia Woolf", "person"),
        m(text, "Lewis", "person", 1),
        m(text, "Woolf", "person", 1),
    ]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    refs = {t[0]: t[2] for t in tags([text], res)}
    assert refs == {
        "C. S. Lewis": "#cand-person-cs-lewis",
        "Virginia Woolf": "#cand-person-virginia-woolf",
        "Lewis": "#cand-person-cs-lewis",
        "Woolf": "#cand-person-virginia-woolf",
    }
    assert res.entries["cand-person-cs-lewis"].variants == ("Lewis",)


def test_a_title_makes_one_candidate_and_is_cut_from_the_tag(authority):
    text = "Marshal Stalin spoke. Stalin agreed."
    mentions = [m(text, "Marshal Stalin", "person"), m(text, "Stalin", "person", 1)]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    assert tags([text], res) == [
        ("Stalin", "person", "#cand-person-stalin", "toolkit-ner"),
        ("Stalin", "person", "#cand-person-stalin", "toolkit-ner"),
    ]
    assert res.mentions[0].start == len("Marshal ")


def test_one_entity_one_type_by_majority_with_losers_recorded(authority):
    text = "Andrei Terebin came. Terebin left. Terebin wrote."
    mentions = [
        m(text, "Andrei Terebin", "person"),
        m(text, "Terebin", "org", 1),
        m(text, "Terebin", "person", 2),
    ]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    assert {r.type for r in res.mentions} == {"person"}
    assert {r.ref for r in res.mentions} == {"#cand-person-andrei-terebin"}
    [choice] = res.type_choices
    assert choice.chosen == "person" and dict(choice.labels) == {"org": 1, "person": 2}


def test_a_tie_goes_to_the_label_seen_first(authority):
    text = "Kuznetsov wrote. Kuznetsov replied."
    mentions = [m(text, "Kuznetsov", "place"), m(text, "Kuznetsov", "person", 1)]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    assert {r.type for r in res.mentions} == {"place"}
    assert res.type_choices[0].reason == "first seen"


def test_the_authority_type_wins_and_matching_ignores_case_and_titles(authority):
    text = "MAO ZEDONG ARRIVED. Chairman Mao spoke; Mao left."
    mentions = [m(text, "MAO ZEDONG", "org"), m(text, "Mao", "place", 1)]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    found = tags([text], res)
    assert found[0][:3] == ("MAO ZEDONG", "person", "auth:mao-zedong")
    assert all(t[1:3] == ("person", "auth:mao-zedong") for t in found)


def test_a_fragment_across_supplied_is_split_and_widened(authority):
    # "MAO ZEDONG [MAO TSE-TUNG]": the converter keeps the brackets as <supplied>; the model
    # reads "MAO ZEDONG MAO". Neither "MAO" nor "ZEDONG" may be tagged alone.
    text = "MAO ZEDONG MAO TSE-TUNG"
    supplied = [Span(0, 11, 23, "supplied")]
    res = resolve_document(
        [text],
        [[Mention(0, 14, "person", None, "ner")]],
        authority,
        markup=[supplied],
        use_gazetteer=False,
    )
    assert [t[:3] for t in tags([text], res)] == [
        ("MAO ZEDONG", "person", "auth:mao-zedong"),
        ("MAO TSE-TUNG", "person", "auth:mao-zedong"),
    ]


def test_aliases_in_brackets_are_not_merged(authority):
    text = "Filippov [Stalin] wrote to Terebin (Andrei Orlov)."
    mentions = [
        m(text, "Filippov", "person"),
        m(text, "Stalin", "person"),
        m(text, "Terebin", "person"),
        m(text, "Andrei Orlov", "person"),
    ]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    assert len({r.ref for r in res.mentions}) == 4
    spans = [(r.start, r.end) for r in res.mentions]
    aliases = [(a.name, a.alias) for a in find_aliases(text, spans)]
    assert aliases == [("Filippov", "Stalin"), ("Terebin", "Andrei Orlov")]


def test_a_model_entity_running_into_a_bracket_is_cut(authority):
    text = "Invited: cde. Gromyko (Ministry of Foreign Affairs)."
    start = text.index("Gromyko")
    mentions = [Mention(start, text.index(")"), "org", None, "ner")]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    assert [t[:2] for t in tags([text], res)] == [
        ("Gromyko", "person"),
        ("Ministry of Foreign Affairs", "org"),
    ]


def test_a_person_title_announces_a_name_the_model_missed(authority):
    text = "Present: Com. Molotov, Com. Beria. Molotov spoke."
    res = resolve_document([text], [[]], authority, use_gazetteer=False)
    assert [t[:3] for t in tags([text], res)] == [
        ("Molotov", "person", "#cand-person-molotov"),
        ("Beria", "person", "#cand-person-beria"),
        ("Molotov", "person", "#cand-person-molotov"),
    ]


def test_initials_before_a_person_are_part_of_the_name(authority):
    text = "Processed by L. Jensen in 1998."
    res = resolve_document([text], [[m(text, "Jensen", "person")]], authority, use_gazetteer=False)
    assert tags([text], res)[0][0] == "L. Jensen"


def test_further_occurrences_are_tagged_as_coref(authority):
    text = "Gao Gang arrived. Later Gao Gang left."
    res = resolve_document(
        [text], [[m(text, "Gao Gang", "person")]], authority, use_gazetteer=False
    )
    assert [(t[0], t[3]) for t in tags([text], res)] == [
        ("Gao Gang", "toolkit-ner"),
        ("Gao Gang", "toolkit-coref"),
    ]


# --- gazetteer precedence ------------------------------------------------------------------------


def test_gazetteer_links_a_place_with_identifiers_and_resp(authority):
    text = "They met in Peking and later in Moscow."
    mentions = [m(text, "Peking", "place"), m(text, "Moscow", "place")]
    res = resolve_document([text], [mentions], authority)
    assert [t[2] for t in tags([text], res)] == ["#cand-place-beijing", "#cand-place-moscow"]
    beijing = res.entries["cand-place-beijing"]
    assert beijing.main == "Beijing" and beijing.variants == ("Peking",)
    assert beijing.idnos == (("GeoNames", "1816670"), ("Wikidata", "Q956"))
    assert beijing.resp == "#toolkit-gazetteer"


def test_a_country_is_a_place_whatever_the_model_said(authority):
    text = "Albania and Yugoslavia protested."
    mentions = [m(text, "Albania", "org"), m(text, "Yugoslavia", "person")]
    res = resolve_document([text], [mentions], authority)
    assert [t[1:3] for t in tags([text], res)] == [
        ("place", "#cand-place-albania"),
        ("place", "#cand-place-yugoslavia"),
    ]
    assert res.entries["cand-place-yugoslavia"].idnos == (("Wikidata", "Q36704"),)


def test_a_persons_name_that_is_an_old_city_name_stays_a_person(authority):
    # GeoNames lists "Stalin" for Donetsk and "Molotov" for Perm as alternate names.
    text = "Stalin and Molotov agreed."
    mentions = [m(text, "Stalin", "person"), m(text, "Molotov", "person")]
    res = resolve_document([text], [mentions], authority)
    assert [t[1:3] for t in tags([text], res)] == [
        ("person", "#cand-person-stalin"),
        ("person", "#cand-person-molotov"),
    ]


def test_the_corpus_authority_beats_a_gazetteer_place_of_the_same_name(authority):
    # Springfield is a GeoNames city (over 100,000 people) and a corpus entry.
    assert load_gazetteer().lookup("springfield") is not None
    text = "The meeting in Springfield."
    res = resolve_document([text], [[m(text, "Springfield", "place")]], authority)
    assert tags([text], res)[0][2] == "auth:springfield-corpus"


def test_corpus_gazetteer_additions_beat_the_package(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "gazetteer").mkdir(parents=True)
    (corpus / "gazetteer" / "local.tsv").write_text(
        "key\tkind\tname\tnames\tcountry\tgeonames\twikidata\n"
        "springfield-il\tcity\tSpringfield (Illinois)\tSpringfield\tUS\t4250542\t\n",
        encoding="utf-8",
    )
    (corpus / "authority.xml").write_bytes(AUTHORITY.replace(b"Springfield", b"Shelbyville"))
    authority = parse_authority(
        (corpus / "authority.xml").read_bytes(), str(corpus / "authority.xml")
    )
    text = "The meeting in Springfield."
    res = resolve_document([text], [[m(text, "Springfield", "place")]], authority)
    [entry] = res.entries.values()
    assert entry.main == "Springfield (Illinois)"
    assert entry.idnos == (("GeoNames", "4250542"),)
    assert "local.tsv" in load_gazetteer(str(corpus)).version


def test_a_bracketed_alias_of_a_person_votes_for_person(authority):
    text = "Filippov [Stalin] wrote. Comrade Filippov, the plan. Filippov agreed."
    mentions = [
        m(text, "Filippov", "place"),
        m(text, "Stalin", "person"),
        m(text, "Filippov", "place", 1),
        m(text, "Filippov", "place", 2),
    ]
    res = resolve_document([text], [mentions], authority, use_gazetteer=False)
    kinds = {(r.ref, r.type) for r in res.mentions}
    assert kinds == {("#cand-person-filippov", "person"), ("#cand-person-stalin", "person")}


def test_initials_widen_an_authority_match_too(authority):
    text = "Signed: M. Mao Zedong"
    mention = m(text, "Mao Zedong", "person", entry="mao-zedong")
    res = resolve_document([text], [[mention]], authority, use_gazetteer=False)
    assert tags([text], res)[0][:3] == ("M. Mao Zedong", "person", "auth:mao-zedong")
