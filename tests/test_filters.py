"""Furniture filters (toolkit/data/filters/furniture.toml): each rule on its own."""

from __future__ import annotations

import pytest

from toolkit.entities import clean, restore_case
from toolkit.errors import ToolkitError
from toolkit.filters import filter_span, is_furniture, load_rules


@pytest.mark.parametrize(
    ("surface", "rule"),
    [
        ("Top Secret", "classification"),
        ("Secret", "classification"),
        ("STRICTLY CONFIDENTIAL", "classification"),
        ("Copy 4", "classification"),
        ("Copy No. 2", "classification"),
        ("No.109", "document-number"),
        ("No. 110", "document-number"),
        ("№ 12", "document-number"),
        ("HAPP@wilsoncenter.org", "email-url"),
        ("https://digitalarchive.example.org/document/1", "email-url"),
        ("www.example.org", "email-url"),
        ("16.XII.1947", "date-numeric"),
        ("12/03/1950", "date-numeric"),
        ("1945-09-06", "date-numeric"),
        ("XII", "roman-numeral"),
        ("Vol", "citation-abbreviation"),
        ("p.", "citation-abbreviation"),
        ("ll.", "citation-abbreviation"),
        ("ibid.", "citation-abbreviation"),
        ("1945", "digits"),
        ("220-240", "digits"),
        ("Original Uploaded Date", "capture-label"),
        ("Subjects Discussed", "capture-label"),
        ("Box", "capture-label"),
        ("P.S.", "capture-label"),
    ],
)
def test_drop_rules(surface, rule):
    assert is_furniture(surface) == rule


@pytest.mark.parametrize(
    "surface",
    ["Stalin", "Secretariat", "Copenhagen", "Volgograd", "Pope Pius XII", "Novak", "Xi'an"],
)
def test_names_are_not_furniture(surface):
    assert is_furniture(surface) is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Top Secret Stalin", "Stalin"),
        ("Copy 4 Molotov", "Molotov"),
        ("No.109 Molotov", "Molotov"),
        ("Molotov No. 110", "Molotov"),
        ("16.XII.1947 Moscow", "Moscow"),
        ("Vol. 3 Westad", "Westad"),
        ("Moscow 1947", "Moscow"),
        ("P.S. J. R. R. Tolkien", "J. R. R. Tolkien"),
    ],
)
def test_trim_rules_keep_the_name_glued_to_furniture(text, kept):
    start, end = filter_span(text, 0, len(text))
    assert text[start:end] == kept


def test_clean_applies_the_filters_and_footnote_numbers():
    text = "Top Secret. The envoy Patrick Hurley.1 arrived."
    assert clean(text, 0, len("Top Secret")) is None
    start = text.index("Patrick")
    s, e = clean(text, start, text.index(" arrived"))
    assert text[s:e] == "Patrick Hurley"


def test_a_corpus_adds_its_own_rules(tmp_path):
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "furniture.toml").write_text(
        '[[rule]]\nname = "stamp"\naction = "drop"\npattern = "received\\\\s+stamp"\n',
        encoding="utf-8",
    )
    rules = load_rules(str(tmp_path))
    assert is_furniture("Received Stamp", rules) == "stamp"
    assert is_furniture("Received Stamp") is None  # the packaged rules alone


def test_a_malformed_rule_is_a_coded_error(tmp_path):
    (tmp_path / "filters").mkdir()
    (tmp_path / "filters" / "furniture.toml").write_text(
        '[[rule]]\nname = "bad"\naction = "drop"\npattern = "(unclosed"\n', encoding="utf-8"
    )
    with pytest.raises(ToolkitError) as err:
        load_rules(str(tmp_path))
    assert err.value.code == "E340"


def test_capitals_are_restored_character_for_character():
    text = "MR PANIKKAR BELIEVES THAT NEW DELHI WILL ACT. TASS REPORTS FROM PEKING."
    out = restore_case(
        text,
        frozenset({"Delhi", "Peking", "TASS"}),
        frozenset({"believes", "that", "will", "act", "reports", "new"}),
    )
    assert len(out) == len(text)
    # words of up to three letters stay as they are ("MR", "NEW", "ACT"): acronyms are short
    assert out == "MR Panikkar believes that NEW Delhi will ACT. TASS reports from Peking."
    assert restore_case("Stalin met Mao.") == "Stalin met Mao."  # ordinary text unchanged
