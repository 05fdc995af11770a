"""toolkit/evaluation.py: IOB and reviewed-TEI gold, exact-span scores, linking by cluster."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from conftest import DATA, ROOT

from toolkit.cli import main
from toolkit.errors import ToolkitError
from toolkit.evaluation import (
    GoldDocument,
    GoldMention,
    Score,
    linking,
    read_iob,
    read_tei_gold,
    score,
    score_documents,
)

IOB = """Stalin B-PER
met O
Mao B-PER
Zedong I-PER
in O
Moscow B-LOC
. O

The O
Gestapo B-ORG
came O
on O
Monday B-DATE
"""


def test_read_iob_rebuilds_text_and_offsets():
    first, second = read_iob(IOB)
    assert first.text == "Stalin met Mao Zedong in Moscow ."
    spans = {first.text[s:e]: t for s, e, t in first.entities}
    assert spans == {"Stalin": "person", "Mao Zedong": "person", "Moscow": "place"}
    assert [second.text[s:e] for s, e in second.ignored] == ["Monday"]


def test_score_counts_exact_spans_per_type_and_ignores_other_gold_types():
    first, second = read_iob(IOB)
    predictions = [
        [(0, 6, "person"), (11, 14, "person"), (25, 31, "place")],  # "Mao" is too short
        [(4, 11, "person"), (20, 26, "org")],  # wrong type; a DATE span is not counted
    ]
    result = score([first, second], predictions)
    assert result["person"] == Score(1, 2, 1)
    assert result["place"] == Score(1, 0, 0)
    assert result["org"] == Score(0, 0, 1)
    assert result["all"] == Score(2, 2, 2)
    assert result["all"].precision == 0.5 and result["all"].recall == 0.5
    assert result["all"].f1 == 0.5
    assert Score(0, 0, 0).f1 == 0.0


GOLD_TEI = b"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>
<title>g</title></titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p>
</sourceDesc></fileDesc><revisionDesc status="reviewed"><change when="2026-12-01">x</change>
</revisionDesc></teiHeader><text><body><p><persName key="stalin">Stalin</persName> met
<persName key="mao">Mao</persName> in <placeName key="moscow">Moscow</placeName>; <hi>1</hi></p>
</body></text></TEI>"""


def test_read_tei_gold_keeps_text_and_markup_and_strips_the_names():
    doc = read_tei_gold(GOLD_TEI, "g.xml")
    assert doc.texts == ("Stalin met\nMao in Moscow; 1",)
    assert [(m.type, m.entity) for m in doc.mentions] == [
        ("person", "stalin"),
        ("person", "mao"),
        ("place", "moscow"),
    ]
    assert b"persName" not in doc.plain and b"<hi>1</hi>" in doc.plain


def test_gold_must_be_reviewed():
    with pytest.raises(ToolkitError) as err:
        read_tei_gold(GOLD_TEI.replace(b' status="reviewed"', b""), "g.xml")
    assert err.value.code == "E606"


def doc(*mentions):
    return GoldDocument(
        "d", ("",), tuple(GoldMention(0, s, e, "person", k) for s, e, k in mentions), b""
    )


def test_linking_counts_candidates_by_cluster():
    gold = [doc((0, 1, "stalin"), (2, 3, "stalin"), (4, 5, "stalin"), (6, 7, "mao"), (8, 9, "x"))]
    predicted = [
        [
            (0, 0, 1, "person", "#cand-a"),
            (0, 2, 3, "person", "#cand-a"),
            (0, 4, 5, "person", "#cand-b"),  # a split entity: the smaller cluster is wrong
            (0, 6, 7, "person", "auth:mao"),
        ]
    ]
    result = linking(gold, predicted)
    assert (result.correct, result.found, result.total) == (3, 4, 5)
    assert result.accuracy == 0.75 and result.end_to_end == 0.6
    merged = [[(0, 0, 1, "person", "#c"), (0, 2, 3, "person", "#c"), (0, 6, 7, "person", "#c")]]
    assert linking(gold, merged).correct == 2  # one cluster for two entities


def test_score_documents_by_block_offsets():
    gold = [doc((0, 1, "a"), (2, 3, "b"))]
    result = score_documents(gold, [[(0, 0, 1, "person", ""), (0, 2, 4, "person", "")]])
    assert result["all"] == Score(1, 1, 1)


@pytest.mark.slow
def test_the_toolkit_on_the_hand_annotated_gold_set():
    """A regression floor on tests/data/gold/tei (bench/bench_names.py prints the figures)."""
    result = CliRunner().invoke(
        main,
        [
            "evaluate",
            str(DATA / "gold" / "tei"),
            "--authority",
            str(ROOT / "corpus" / "authority.xml"),
        ],
    )
    assert result.exit_code == 0, result.output
    rows = {tuple(line.split()[:2]): line.split() for line in result.output.splitlines()[2:]}
    assert result.output.startswith("10 gold document(s), 344 mentions")
    assert float(rows[("toolkit", "all")][4]) >= 0.87  # F1; 0.902 when written
    assert float(rows[("raw", "all")][4]) < float(rows[("toolkit", "all")][4])
    assert float(rows[("toolkit", "linking")][2]) >= 0.90  # 0.924 when written


def test_evaluate_without_gold_scores_the_packaged_sample():
    """The `toolkit evaluate` help example works with only the installed package."""
    from click.testing import CliRunner

    from toolkit.cli import main

    result = CliRunner().invoke(
        main, ["evaluate", "--authority", str(ROOT / "corpus" / "authority.xml")]
    )
    assert result.exit_code == 0, result.output
    assert "sample.iob" in result.output
    rows = [line.split() for line in result.output.splitlines()]
    assert any(r[:2] == ["toolkit", "all"] for r in rows)
