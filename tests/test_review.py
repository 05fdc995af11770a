"""toolkit review: the queue and every decision, on a corpus tagged by a rule pipeline."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner
from conftest import NOW, ROOT

from toolkit.authority import parse_authority
from toolkit.cli import main
from toolkit.entities import ModelInfo, authority_patterns, find_mentions
from toolkit.errors import ToolkitError
from toolkit.review import accept, merge, reject, rename, review_page, review_queue, undo
from toolkit.sources import convert
from toolkit.tagging import tag_files
from toolkit.tei import serialize, to_tei
from toolkit.validate import validate_bytes

INFO = ModelInfo("en_blank_rules", "0.0", spacy.__version__, "blank")
DOCS = {
    "a.txt": "Letter\n\nMarshal Stalin received Filippov [Stalin] in Moscow. Stalin spoke "
    "of Top Secret matters with Terebin (Andrei Orlov).",
    "b.txt": "Memo\n\nStalin and Andrei Orlov met in Moscow. Stalin left.",
}
PATTERNS = [
    {"label": "PERSON", "pattern": [{"ORTH": "Marshal"}, {"ORTH": "Stalin"}]},
    {"label": "PERSON", "pattern": "Stalin"},
    {"label": "GPE", "pattern": "Filippov"},
    {"label": "GPE", "pattern": "Moscow"},
    {"label": "PERSON", "pattern": "Terebin"},
    {"label": "PERSON", "pattern": "Andrei Orlov"},
    {"label": "ORG", "pattern": "Top Secret matters"},
]


def pipeline(authority):
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.add_pipe(
        "authority_matcher",
        config={"patterns": authority_patterns(authority), "rejected": sorted(authority.rejected)},
    )
    return nlp


def tag_corpus(corpus: Path) -> None:
    path = corpus / "authority.xml"
    authority = parse_authority(path.read_bytes(), str(path))
    files = sorted((corpus / "tei").glob("*.xml"))
    for result in tag_files(
        files, pipeline(authority), INFO, authority, now=NOW, authority_sha256="0" * 64
    ):
        assert result.error is None
        if result.data is not None:
            result.path.write_bytes(result.data)


@pytest.fixture
def corpus(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "tei").mkdir(parents=True)
    shutil.copy(ROOT / "corpus" / "authority.xml", corpus / "authority.xml")
    for name, text in DOCS.items():
        doc = convert(text.encode(), name, format="plain", now=NOW)
        (corpus / "tei" / name.replace(".txt", ".xml")).write_bytes(serialize(to_tei(doc)))
    tag_corpus(corpus)
    return corpus


def snapshot(corpus: Path) -> dict[str, bytes]:
    return {
        p.relative_to(corpus).as_posix(): p.read_bytes()
        for p in sorted(corpus.rglob("*"))
        if p.is_file() and ".review" not in p.parts
    }


def valid(corpus: Path) -> None:
    for path in sorted((corpus / "tei").glob("*.xml")):
        problems = validate_bytes(
            path.read_bytes(), str(path), authority=str(corpus / "authority.xml")
        )
        assert [p for p in problems if p.severity == "error"] == [], path


def test_the_queue_of_many_documents_lists_a_few_and_counts_all(corpus):
    """The build's review page lists the first documents of an entity and counts the rest; the
    queue keeps a tally per entity, not the mentions themselves."""
    from toolkit.authority import parse_authority as parse
    from toolkit.review import _scan

    a = (corpus / "tei" / "a.xml").read_bytes()
    for i in range(30):
        (corpus / "tei" / f"copy-{i:02d}.xml").write_bytes(a)
    full = {c.id: c for c in review_queue(corpus)}
    short = {c.id: c for c in review_queue(corpus, max_documents=3)}
    stalin, few = full["cand-person-stalin"], short["cand-person-stalin"]
    assert stalin.document_count == few.document_count == 32 == len(stalin.documents)
    assert few.documents == stalin.documents[:3] and few.count == stalin.count == 5 + 3 * 30
    assert few.forms == stalin.forms and few.contexts == stalin.contexts
    page = review_page(list(short.values()))
    assert "95 mention(s) in 32 document(s)" in page and " and 29 more</p>" in page
    authority = parse((corpus / "authority.xml").read_bytes())
    assert _scan(corpus, authority).occurrences == {}
    only = _scan(corpus, authority, only={"cand-person-stalin"}).occurrences
    assert list(only) == ["cand-person-stalin"] and len(only["cand-person-stalin"]) == 95


def test_the_queue_lists_entities_most_frequent_first(corpus):
    queue = review_queue(corpus)
    assert [c.id for c in queue][:2] == ["cand-person-stalin", "cand-person-andrei-orlov"]
    stalin = queue[0]
    assert stalin.count == 5 and stalin.documents == ("tei/a.xml", "tei/b.xml")
    assert dict(stalin.forms) == {"Stalin": 5}  # "Marshal" is cut from the tag ...
    assert len(stalin.contexts) == 3 and "[Stalin]" in stalin.contexts[0]
    filippov = next(c for c in queue if c.id == "cand-person-filippov")
    assert any("merge cand-person-filippov cand-person-stalin" in s for s in filippov.suggestions)
    assert not any(c.id.startswith("cand-org-top") for c in queue)  # filtered furniture
    moscow = next(c for c in queue if c.id == "cand-place-moscow")
    assert moscow.source == "gazetteer" and ("GeoNames", "524901") in moscow.idnos


def test_accept_repoints_every_mention_with_minimal_diffs(corpus):
    before = snapshot(corpus)
    decision = accept(corpus, "cand-person-stalin", editor="jdoe", now=NOW)
    assert decision.mentions == 5
    assert decision.files == ("authority.xml", "tei/a.xml", "tei/b.xml")
    after = snapshot(corpus)
    for name in ("tei/a.xml", "tei/b.xml"):
        old = before[name].decode().splitlines()
        new = after[name].decode().splitlines()
        changed = [
            line
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        added = [c for c in changed if c.startswith("+")]
        assert any('<respStmt xml:id="jdoe">' in c for c in added)
        assert any('<change when="' in c and 'who="#jdoe"' in c for c in added)
        text_lines = [c for c in changed if "<p>" in c]
        for line in text_lines:  # the paragraph differs only in @ref and @resp values
            stripped = (
                line[1:]
                .replace(
                    'ref="auth:stalin" resp="#jdoe"',
                    'ref="#cand-person-stalin" resp="#toolkit-ner"',
                )
                .replace('resp="#toolkit-coref"', 'resp="#toolkit-ner"')
            )
            assert stripped.replace('resp="#toolkit-coref"', 'resp="#toolkit-ner"') in {
                o[1:].replace('resp="#toolkit-coref"', 'resp="#toolkit-ner"')
                for o in changed
                if o.startswith("-")
            }
    entry = parse_authority(after["authority.xml"]).by_id()["stalin"]
    assert entry.reviewed and entry.main == "Stalin"
    assert b'who="#jdoe"' in after["authority.xml"]
    assert not any(c.id == "cand-person-stalin" for c in review_queue(corpus))
    valid(corpus)


def test_accept_as_an_existing_entry_adds_variants(corpus):
    accept(corpus, "cand-person-andrei-orlov", editor="jdoe", as_entry="petrov-apollon", now=NOW)
    entry = parse_authority((corpus / "authority.xml").read_bytes()).by_id()["petrov-apollon"]
    assert "Andrei Orlov" in entry.variants
    assert b'ref="auth:petrov-apollon" resp="#jdoe"' in (corpus / "tei" / "b.xml").read_bytes()
    valid(corpus)


def test_reject_unwraps_and_is_never_tagged_again(corpus):
    reject(corpus, "cand-person-filippov", editor="jdoe", now=NOW)
    data = (corpus / "tei" / "a.xml").read_bytes()
    assert not re.search(rb"<(persName|placeName)[^>]*>Filippov<", data)
    assert b"received Filippov <supplied>" in data
    authority = parse_authority((corpus / "authority.xml").read_bytes())
    assert authority.rejected == frozenset({"Filippov"})
    tag_corpus(corpus)  # a new run: the rejected string stays untagged
    assert not re.search(
        rb"<(persName|placeName)[^>]*>Filippov<", (corpus / "tei" / "a.xml").read_bytes()
    )
    valid(corpus)


def test_merge_then_accept_joins_candidates_across_documents(corpus):
    merge(corpus, ["cand-person-terebin", "cand-person-andrei-orlov"], editor="jdoe", now=NOW)
    queue = {c.id: c for c in review_queue(corpus)}
    joined = queue["cand-person-terebin"]
    assert joined.source == "authority" and joined.count == 3
    assert "cand-person-andrei-orlov" not in queue
    accept(corpus, "cand-person-terebin", editor="jdoe", now=NOW)
    entry = parse_authority((corpus / "authority.xml").read_bytes()).by_id()["terebin"]
    assert entry.names == ("Terebin", "Andrei Orlov")
    assert (corpus / "tei" / "b.xml").read_bytes().count(b'ref="auth:terebin"') == 1
    valid(corpus)


def test_rename_gives_a_main_name(corpus):
    rename(corpus, "cand-person-stalin", "Joseph Stalin", editor="jdoe", now=NOW)
    entry = parse_authority((corpus / "authority.xml").read_bytes()).by_id()["cand-person-stalin"]
    assert entry.main == "Joseph Stalin" and not entry.reviewed
    accept(corpus, "cand-person-stalin", editor="jdoe", now=NOW)
    entry = parse_authority((corpus / "authority.xml").read_bytes()).by_id()["stalin"]
    assert entry.names == ("Joseph Stalin", "Stalin")
    valid(corpus)


def test_undo_restores_every_file_byte_for_byte(corpus):
    before = snapshot(corpus)
    accept(corpus, "cand-person-stalin", editor="jdoe", now=NOW)
    reject(corpus, "cand-person-filippov", editor="jdoe", now=NOW)
    undo(corpus)
    undo(corpus)
    assert snapshot(corpus) == before
    with pytest.raises(ToolkitError) as err:
        undo(corpus)
    assert err.value.code == "E602"


def test_undo_refuses_when_a_file_changed_since(corpus):
    accept(corpus, "cand-person-stalin", editor="jdoe", now=NOW)
    path = corpus / "tei" / "b.xml"
    path.write_bytes(path.read_bytes().replace(b"Memo", b"Memorandum"))
    with pytest.raises(ToolkitError) as err:
        undo(corpus)
    assert err.value.code == "E603"


def test_errors_are_coded(corpus):
    for call, code in (
        (lambda: accept(corpus, "cand-person-nobody", editor="jdoe", now=NOW), "E601"),
        (lambda: accept(corpus, "cand-person-stalin", editor="j doe", now=NOW), "E604"),
        (lambda: merge(corpus, ["cand-person-stalin"], editor="jdoe", now=NOW), "E605"),
        (
            lambda: accept(corpus, "cand-person-stalin", as_entry="nope", editor="jdoe", now=NOW),
            "E601",
        ),
    ):
        with pytest.raises(ToolkitError) as err:
            call()
        assert err.value.code == code


def test_cli_review_list_json_accept_and_undo(corpus):
    runner = CliRunner()
    result = runner.invoke(main, ["review", str(corpus), "--format", "json"])
    assert result.exit_code == 0, result.output
    queue = json.loads(result.output)
    assert queue[0]["id"] == "cand-person-stalin" and queue[0]["count"] == 5
    result = runner.invoke(
        main,
        ["review", "accept", "cand-person-stalin", "--corpus", str(corpus), "--editor", "jdoe"],
        env={"SOURCE_DATE_EPOCH": "1700000000"},
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("accepted cand-person-stalin as stalin: 5 mention(s)")
    result = runner.invoke(main, ["review", "undo", "--corpus", str(corpus)])
    assert result.output == "undid: accepted cand-person-stalin as stalin: 3 file(s) restored\n"
    result = runner.invoke(
        main, ["review", "accept", "cand-person-stalin", "--corpus", str(corpus)]
    )
    assert result.exit_code == 2 and "E604" in result.output
    (corpus / "toolkit.toml").write_text('editor = "ann"\n', encoding="utf-8")
    result = runner.invoke(
        main, ["review", "reject", "cand-person-filippov", "--corpus", str(corpus)]
    )
    assert result.exit_code == 0, result.output
    assert b'who="#ann"' in (corpus / "authority.xml").read_bytes()


def test_review_page_has_contexts_and_commands(corpus):
    page = review_page(review_queue(corpus))
    assert page.startswith("<!DOCTYPE html>")
    assert "<code>toolkit review accept cand-person-stalin</code>" in page
    assert "<mark>Stalin</mark>" in page
    assert "toolkit review merge cand-person-filippov cand-person-stalin" in page


def test_rejected_strings_are_dropped_by_the_matcher():
    from conftest import ROOT as root

    data = (root / "corpus" / "authority.xml").read_bytes()
    data = data.replace(b"</body>", b'<list type="rejected"><item>Top Secret</item></list></body>')
    authority = parse_authority(data)
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "PERSON", "pattern": "Top Secret"}])
    nlp.add_pipe(
        "authority_matcher", config={"patterns": [], "rejected": sorted(authority.rejected)}
    )
    [(found, _)] = list(find_mentions(nlp, [("Top Secret. Stalin", None)]))
    assert found == []


def test_confirm_marks_documents_reviewed_and_is_undoable(corpus):
    from toolkit.reviewed import is_reviewed
    from toolkit.tei import parse_bytes

    path = corpus / "tei" / "a.xml"
    before = path.read_bytes()
    result = CliRunner().invoke(
        main,
        ["review", "confirm", str(path), "--corpus", str(corpus), "--editor", "jdoe"],
        env={"SOURCE_DATE_EPOCH": "1700000000"},
    )
    assert result.exit_code == 0, result.output
    assert is_reviewed(parse_bytes(path.read_bytes()).getroot())
    assert b'who="#jdoe"' in path.read_bytes()
    undo(corpus)
    assert path.read_bytes() == before


def test_tei_files_are_streamed_in_path_order(tmp_path):
    from toolkit.review import tei_files

    tei = tmp_path / "tei"
    for rel in ["a.xml", "a/b.xml", "B.xml", "a-b.xml", "z/y/x.xml", "c.txt", "a.xml.bak-1"]:
        (tei / rel).parent.mkdir(parents=True, exist_ok=True)
        (tei / rel).write_text("x")
    found = tei_files(tmp_path)
    assert not isinstance(found, list)  # a generator: names never all in memory as objects
    assert list(found) == sorted(p for p in tei.rglob("*.xml") if p.is_file())
    assert list(tei_files(tmp_path / "nothing")) == []
