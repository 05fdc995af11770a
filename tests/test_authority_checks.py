"""Authority file checks (issue 16 item 7) and rejected strings."""

from __future__ import annotations

import pytest

from toolkit.authority import authority_problems, parse_authority
from toolkit.errors import AuthorityError


def authority(body: str) -> bytes:
    return f"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>
<title>A</title></titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p>
</sourceDesc></fileDesc></teiHeader><text><body>{body}</body></text></TEI>""".encode()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (
            '<listPerson><person xml:id="a"><persName>Mao Zedong</persName></person>'
            '<person xml:id="b"><persName>Mao Zedong</persName></person></listPerson>',
            "E330",
        ),
        (
            '<listPerson><person xml:id="a"><persName>Georgia</persName></person></listPerson>'
            '<listPlace><place xml:id="b"><placeName>Georgia</placeName></place></listPlace>',
            "E331",
        ),
        (
            '<listPerson><person xml:id="mao zedong"><persName>Mao</persName></person>'
            "</listPerson>",
            "E332",
        ),
        (
            '<listOrg><org xml:id="x"><orgName>the</orgName></org></listOrg>',
            "E333",
        ),
        (
            '<listOrg><org xml:id="x"><orgName type="main">Party</orgName>'
            "<orgName>The</orgName></org></listOrg>",
            "E333",
        ),
    ],
)
def test_each_problem_is_a_coded_error(body, code):
    data = authority(body)
    with pytest.raises(AuthorityError) as err:
        parse_authority(data, "authority.xml")
    assert err.value.code == code
    lenient = parse_authority(data, "authority.xml", strict=False)
    assert [p.code for p in authority_problems(lenient)] == [code]


def test_acronyms_in_capitals_and_candidate_lists_are_fine():
    data = authority(
        '<listPlace><place xml:id="usa"><placeName>US</placeName></place></listPlace>'
        '<listPerson type="candidates"><person xml:id="cand-person-stalin"><persName>Stalin'
        '</persName></person></listPerson><listOrg type="candidates"><org xml:id="cand-org-stalin">'
        "<orgName>Stalin</orgName></org></listOrg>"
    )
    assert authority_problems(parse_authority(data)) == []


def test_rejected_strings_are_read():
    data = authority(
        '<listPerson><person xml:id="a"><persName>Mao</persName></person></listPerson>'
        '<list type="rejected"><item>Top  Secret</item><item>Original Uploaded Date</item></list>'
    )
    assert parse_authority(data).rejected == frozenset({"Top Secret", "Original Uploaded Date"})


def test_the_corpus_authority_passes_the_checks():
    from conftest import ROOT

    path = ROOT / "corpus" / "authority.xml"
    assert authority_problems(parse_authority(path.read_bytes(), str(path))) == []


def test_build_reports_a_broken_authority(tmp_path):
    from click.testing import CliRunner
    from conftest import WEB

    from toolkit.cli import main

    corpus = tmp_path / "corpus"
    (corpus / "sources").mkdir(parents=True)
    (corpus / "sources" / WEB.name).write_bytes(WEB.read_bytes())
    (corpus / "authority.xml").write_bytes(
        authority(
            '<listPerson><person xml:id="a"><persName>Mao Zedong</persName></person>'
            '<person xml:id="b"><persName>Mao Zedong</persName></person></listPerson>'
        )
    )
    result = CliRunner().invoke(main, ["build", str(corpus)])
    assert result.exit_code != 0
    assert "[E330]" in result.output
