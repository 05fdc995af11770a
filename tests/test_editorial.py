"""Issue 10: an editor's work is never lost. Each test edits files as an editor would (plain
text operations), runs the CLI, and checks the result."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EPOCH, assert_valid
from editing import corpus, machine_tags, tag_args

from toolkit.cli import main
from toolkit.tei import NS, parse_bytes

TEXT = (
    "Mao Zedong wrote to Stalin from Yan'an. The Gestapo file was marked Harvest Moon.\n\n"
    "Zhang Wei met the GMD delegation; the Politburo agreed."
)


def run(args: list[str], code: int = 0) -> str:
    result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code == code, result.output + str(result.exception)
    return result.output


@pytest.fixture
def doc(tmp_path: Path) -> tuple[Path, Path]:
    folder = corpus(tmp_path / "corpus")
    source = tmp_path / "report.txt"
    source.write_text("Report\n\n" + TEXT, encoding="utf-8")
    run(["convert", str(source), "-o", str(folder / "tei")])
    path = folder / "tei" / "report.xml"
    run(tag_args(folder, path))
    return folder, path


def test_first_run_tags_and_records_its_proposals(doc):
    _, path = doc
    text = path.read_text("utf-8")
    assert ("orgName", "Gestapo") not in machine_tags(text)  # the model calls it a person
    assert ("persName", "Gestapo") in machine_tags(text)
    root = parse_bytes(path.read_bytes()).getroot()
    proposals = root.findall("tei:standOff/tei:spanGrp[@type='toolkit-proposals']/tei:span", NS)
    assert len(proposals) == len(machine_tags(text)) == 8


def test_unwrapped_tag_is_never_made_again(doc):
    """Case 1: an editor unwraps a wrong machine tag; the next run leaves it unwrapped."""
    folder, path = doc
    text = path.read_text("utf-8")
    text = re.sub(r"<persName [^>]*>(Gestapo)</persName>", r"\1", text)
    text = re.sub(r"<persName [^>]*>(Harvest Moon)</persName>", r"\1", text)
    path.write_text(text, "utf-8")
    run([*tag_args(folder, path), "--editor", "jdoe"])
    after = path.read_text("utf-8")
    assert "The Gestapo file was marked Harvest Moon." in after
    assert ("persName", "Gestapo") not in machine_tags(after)
    assert '<span type="rejected" subtype="persName" n="' in after
    assert '<respStmt xml:id="jdoe">' in after
    assert "Recorded editorial decisions: 2 rejected." in after
    assert "0 error(s)" in run(
        ["validate", str(path), "--authority", str(folder / "authority.xml")]
    )
    # a third run (and a build after it) changes nothing
    run(tag_args(folder, path))
    assert path.read_text("utf-8") == after
    # the decision is honoured after a hand-added paragraph before it, too
    moved = after.replace("<head>Report</head>", "<head>Report</head>\n      <p>Added.</p>")
    path.write_text(moved, "utf-8")
    run(tag_args(folder, path))
    assert path.read_text("utf-8") == moved


def test_retyped_and_repointed_tags_become_the_editors(doc, tei_all):
    folder, path = doc
    text = path.read_text("utf-8")
    text = re.sub(
        r'<persName (ref="[^"]*" resp="[^"]*" xml:id="[^"]*")>Gestapo</persName>',
        r"<orgName \1>Gestapo</orgName>",
        text,
    )
    text = text.replace('ref="auth:stalin"', 'ref="auth:mao-zedong"')  # a wrong fix, but theirs
    path.write_text(text, "utf-8")
    (folder / "toolkit.toml").write_text('editor = "jdoe"\n', "utf-8")
    run(tag_args(folder, path))
    after = path.read_text("utf-8")
    assert re.search(
        r'<orgName ref="#cand-person-gestapo" resp="#jdoe" [^>]+>Gestapo</orgName>', after
    )
    assert re.search(r'<persName ref="auth:mao-zedong" resp="#jdoe" [^>]*>Stalin</persName>', after)
    assert 'type="retyped" subtype="persName"' in after
    assert 'type="repointed" subtype="persName"' in after
    assert "0 error(s)" in run(
        ["validate", str(path), "--authority", str(folder / "authority.xml")]
    )
    assert_valid(tei_all, after.encode())
    run(tag_args(folder, path))
    assert path.read_text("utf-8") == after


def test_reset_is_a_fresh_start(doc):
    folder, path = doc
    text = re.sub(r"<persName [^>]*>(Gestapo)</persName>", r"\1", path.read_text("utf-8"))
    path.write_text(text, "utf-8")
    run(tag_args(folder, path))
    assert ("persName", "Gestapo") not in machine_tags(path.read_text("utf-8"))
    run([*tag_args(folder, path), "--reset"])
    after = path.read_text("utf-8")
    assert ("persName", "Gestapo") in machine_tags(after)
    assert "toolkit-decisions" not in after


def test_ids_are_stable_when_the_authority_changes(doc):
    """Issue 16 item 6: an id never moves to another name."""
    folder, path = doc
    ids = dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r'xml:id="(n-[^"]+)">([^<]+)<', path.read_text("utf-8"))
    )
    authority = folder / "authority.xml"
    authority.write_text(
        authority.read_text("utf-8").replace(
            "</listPerson>",
            '<person xml:id="zhang-wei"><persName type="main">Zhang Wei</persName></person>'
            "</listPerson>",
        ),
        "utf-8",
    )
    run(tag_args(folder, path))
    after = path.read_text("utf-8")
    assert 'ref="auth:zhang-wei"' in after
    for surface, ident in ids.items():
        assert f'xml:id="{ident}">{surface}<' in after


def test_reviewed_document_goes_back_to_draft(doc):
    folder, path = doc
    text = path.read_text("utf-8").replace("<revisionDesc>", '<revisionDesc status="reviewed">')
    path.write_text(text, "utf-8")
    run(tag_args(folder, path))
    assert path.read_text("utf-8") == text  # nothing changed: still reviewed
    authority = folder / "authority.xml"
    authority.write_text(
        authority.read_text("utf-8").replace(
            "</listOrg>",
            '<org xml:id="politburo"><orgName type="main">Politburo</orgName></org></listOrg>',
        ),
        "utf-8",
    )
    run(tag_args(folder, path))
    assert '<revisionDesc status="draft">' in path.read_text("utf-8")


def test_tagging_a_corpus_folder_touches_documents_only(doc):
    """Issue 16 item 17: authority.xml and index/ are not rewritten; a second run writes nothing."""
    folder, _ = doc
    (folder / "index").mkdir()
    index = folder / "index" / "index.xml"
    index.write_bytes((folder / "authority.xml").read_bytes())
    before = {p: p.read_bytes() for p in folder.rglob("*.xml")}
    out = run(tag_args(folder, folder))
    assert "skipped, an entity register" in out
    assert {p: p.read_bytes() for p in folder.rglob("*.xml")} == before


def test_a_tag_given_attributes_by_hand_is_the_editors(doc):
    folder, path = doc
    text = path.read_text("utf-8")
    text = re.sub(
        r'<persName (ref="auth:stalin") resp="#toolkit-authority"',
        r'<persName \1 cert="high" resp="#toolkit-authority"',
        text,
    )
    path.write_text(text, "utf-8")
    run([*tag_args(folder, path), "--editor", "jdoe"])
    after = path.read_text("utf-8")
    assert re.search(r'<persName ref="auth:stalin" cert="high" resp="#jdoe" [^>]*>Stalin<', after)
    assert 'type="amended"' in after
