from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import NOW, ROOT
from hypothesis import HealthCheck, given, settings
from lxml import etree
from test_tei import documents

from toolkit.cli import main
from toolkit.sources import convert
from toolkit.tei import serialize, to_tei
from toolkit.validate import relaxng, validate_bytes

CORPUS = ROOT / "corpus"
AUTHORITY = str(CORPUS / "authority.xml")

# A minimal tagged document: one machine tag (declared), one local candidate, one authority ref.
TAGGED_BODY = (
    '<p><persName ref="auth:mao-zedong" resp="#toolkit-authority" xml:id="n1">Mao Zedong</persName>'
    ' met <persName ref="#cand-person-x" resp="#toolkit-ner" xml:id="n2">X</persName>.</p>'
)
HEADER_ADDITIONS = {
    "</titleStmt>": (
        '<respStmt xml:id="toolkit-ner"><resp>ner</resp><name type="software">spaCy</name></respStmt>'
        '<respStmt xml:id="toolkit-authority"><resp>auth</resp><name type="software">t</name></respStmt>'
        "</titleStmt>"
    ),
    "</appInfo>": (
        '<application ident="spaCy" version="3.8"><label>spaCy</label></application></appInfo>'
    ),
    "</revisionDesc>": '<change when="2024-01-01T00:00:00Z" who="#toolkit">Tagged 2 names.</change></revisionDesc>',
    "</text>": (
        '</text><standOff><listPerson type="candidates"><person xml:id="cand-person-x">'
        '<persName type="main">X</persName></person></listPerson></standOff>'
    ),
}


def base_document() -> str:
    doc = convert(b"Title\n\nBODY", "min.txt", format="plain", now=NOW)
    xml = serialize(to_tei(doc)).decode()
    xml = xml.replace("<p>BODY</p>", TAGGED_BODY)
    for old, new in HEADER_ADDITIONS.items():
        xml = xml.replace(old, new, 1)
    return xml


def check(xml: str) -> list:
    return validate_bytes(xml.encode(), str(CORPUS / "tei" / "min.xml"), authority=AUTHORITY)


def test_the_minimal_document_is_clean():
    assert check(base_document()) == []


MS_DESC = (
    "<msDesc><msIdentifier><repository>R</repository>{idno}</msIdentifier>"
    '<msContents><msItem><locus from="{a}" to="{b}">x</locus><bibl type="archival">x</bibl></msItem></msContents></msDesc>'
)
RULES = {
    "TK-REF-LOCAL": ('ref="#cand-person-x"', 'ref="#cand-person-y"'),
    "TK-REF-PREFIX": ('ref="auth:mao-zedong"', 'ref="viaf:123"'),
    "TK-REF-SINGLE": ('ref="#cand-person-x"', 'ref="#cand-person-x #cand-person-x"'),
    "TK-REF-AUTHORITY": ('ref="auth:mao-zedong"', 'ref="auth:nobody"'),
    "TK-RESP-DECLARED": ('resp="#toolkit-ner"', 'resp="#somebody"'),
    "TK-ID-UNIQUE": ('xml:id="n2"', 'xml:id="n1"'),
    "TK-NAME-EMPTY": (">X</persName>.", "></persName>."),
    "TK-SHA256": ('type="SHA-256">', 'type="SHA-256">abc'),
    "TK-MSID": (
        '<bibl type="source">',
        MS_DESC.format(idno="", a="1", b="2") + '<bibl type="source">',
    ),
    "TK-RANGE-ORDER": (
        '<bibl type="source">',
        MS_DESC.format(
            idno='<idno type="shelfmark"><idno type="fond">1</idno></idno>', a="9", b="2"
        )
        + '<bibl type="source">',
    ),
    "TK-DATE-ISO": ('<change when="2024-01-01T00:00:00Z"', '<change when="2024-1-1"'),
    "TK-CHANGE-CONVERT": (">Converted from", ">Made from"),
    "TK-CHANGE-TAG": (">Tagged 2 names.", ">2 names."),
    "TK-APP-DECLARED": ('ident="spaCy"', 'ident="other"'),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_passes_and_fails(rule):
    good, bad = RULES[rule]
    xml = base_document()
    assert good in xml, f"fixture for {rule} is stale"
    passing = xml
    if rule in ("TK-MSID", "TK-RANGE-ORDER"):  # the passing variant has a proper msDesc
        passing = xml.replace(
            good,
            MS_DESC.format(
                idno='<idno type="shelfmark"><idno type="fond">1</idno></idno>', a="2", b="9"
            )
            + good,
            1,
        )
    assert [p.code for p in check(passing) if p.code == rule] == []
    failing = xml.replace(good, bad, 1)
    assert rule in [p.code for p in check(failing)], check(failing)


def test_the_committed_corpus_is_clean():
    result = CliRunner().invoke(main, ["validate", str(CORPUS)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(" error(s), 0 warning(s)\n")
    assert " 0 error(s)" in result.output


def test_cli_messages_and_exit_codes(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(base_document().replace('xml:id="n2"', 'xml:id="n1"'))
    result = CliRunner().invoke(main, ["validate", str(bad), "--authority", AUTHORITY])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "1 file(s) checked: 2 error(s), 0 warning(s)"
    assert all(
        line.startswith(f"{bad}:") and ': error [TK-ID-UNIQUE] xml:id="n1" is used 2 times' in line
        for line in lines[:-1]
    )
    as_json = CliRunner().invoke(
        main, ["validate", str(bad), "--format", "json", "--authority", AUTHORITY]
    )
    problems = json.loads(as_json.output)
    assert {p["code"] for p in problems} == {"TK-ID-UNIQUE"}
    assert set(problems[0]) == {"path", "line", "column", "severity", "code", "message"}
    assert CliRunner().invoke(main, ["validate", str(tmp_path / "missing.xml")]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", str(bad), "--format", "yaml"]).exit_code == 2


def test_malformed_xml_is_a_problem_with_a_position(tmp_path):
    bad = tmp_path / "broken.xml"
    bad.write_text('<TEI xmlns="http://www.tei-c.org/ns/1.0">\n  <teiHeader>\n</TEI>\n')
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines()[0].startswith(f"{bad}:3:")
    assert "error [E201] malformed XML: Opening and ending tag mismatch" in result.output


def test_external_entities_are_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    evil = tmp_path / "evil.xml"
    evil.write_text(
        f'<!DOCTYPE TEI [<!ENTITY x SYSTEM "file://{secret}">]>\n'
        '<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader/><text><body><p>&x;</p></body></text></TEI>'
    )
    result = CliRunner().invoke(main, ["validate", str(evil), "--format", "json"])
    assert result.exit_code == 1
    assert "TOP-SECRET" not in result.output
    assert json.loads(result.output)[0]["code"] == "E203"


@pytest.mark.skipif(shutil.which("jing") is None, reason="jing is not installed")
def test_tei_all_with_jing(tmp_path):
    bad = tmp_path / "bad.xml"
    bad.write_text(base_document().replace("<p><persName", "<p><wrongElement/><persName"))
    result = CliRunner().invoke(
        main,
        ["validate", str(bad), "--tei-all", "--authority", AUTHORITY],
    )
    assert result.exit_code == 1
    assert "error [TEI-ALL]" in result.output and "wrongElement" in result.output


def test_tei_all_with_lxml(monkeypatch, tei_all, tmp_path):
    import toolkit.validate as v

    monkeypatch.setattr(v.shutil, "which", lambda name: None)
    monkeypatch.setattr(v, "external_relaxng", lambda path: tei_all)
    good = tmp_path / "good.xml"
    good.write_text(base_document())
    problems = v.tei_all_problems([good], "tei_all.rng")
    assert problems == []
    good.write_text(base_document().replace("<p><persName", "<p><wrongElement/><persName"))
    assert [p.code for p in v.tei_all_problems([good], "tei_all.rng")][:1] == ["TEI-ALL"]


def test_subset_claim_on_the_corpus(tei_all):
    """Every corpus file valid against toolkit.rng is valid against tei_all."""
    for path in sorted(CORPUS.rglob("*.xml")):
        tree = etree.parse(str(path))
        if relaxng().validate(tree):
            assert tei_all.validate(tree), f"{path}: {tei_all.error_log}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_subset_claim_on_generated_documents(tei_all, doc):
    tree = etree.fromstring(serialize(to_tei(doc))).getroottree()
    assert relaxng().validate(tree), relaxng().error_log  # what the toolkit writes is valid
    assert tei_all.validate(tree), tei_all.error_log  # and so is it against tei_all


def _lxml_schematron(xml: str) -> list[tuple[str, int, str]]:
    """What lxml's ISO Schematron says about ``xml`` with the packaged toolkit.sch."""
    from toolkit.tei import parse_bytes
    from toolkit.validate import _schematron_problems

    tree = parse_bytes(xml.encode())
    return sorted((p.code, p.line, p.message) for p in _schematron_problems(tree, "x", None))


def _native(xml: str) -> list[tuple[str, int, str]]:
    from toolkit.tei import parse_bytes
    from toolkit.validate import project_rules

    tree = parse_bytes(xml.encode())
    return sorted((p.code, p.line, p.message) for p in project_rules(tree, "x"))


@pytest.mark.parametrize("rule", sorted(set(RULES) - {"TK-REF-AUTHORITY"}))  # not in the .sch
def test_native_rules_agree_with_lxml_schematron(rule):
    """The packaged rules run natively (linear); they must say exactly what toolkit.sch says."""
    good, bad = RULES[rule]
    # one line per element, so that lines tell the elements apart
    failing = base_document().replace(good, bad, 1).replace("><", ">\n<")
    native = _native(failing)
    assert rule in {code for code, _, _ in native}
    assert native == _lxml_schematron(failing)


def test_native_rules_agree_on_the_corpus_and_edge_cases():
    for path in sorted((CORPUS / "tei").glob("*.xml")):
        xml = path.read_text()
        assert _native(xml) == _lxml_schematron(xml), path
    edge = (
        base_document()
        .replace('ref="#cand-person-x"', 'ref="#cand-person-x #n1"')
        .replace('ref="auth:mao-zedong"', 'ref="mao-zedong"')
        .replace('when="2024-01-01T00:00:00Z"', 'when=" 2024"')
        .replace("Mao Zedong</persName>", " \t</persName>")
        .replace('resp="#toolkit-ner"', 'resp="#toolkit-ner "')
        .replace(">Converted from", ">\n\t Converted  from")
        .replace(">Tagged 2 names.", "> Tag ged 2 names.")
        .replace("><", ">\n<")
    )
    assert len(_native(edge)) >= 5
    assert _native(edge) == _lxml_schematron(edge)


def test_validate_reports_authority_file_problems(tmp_path):
    """An authority file is checked for names shared by two entries (E330); an index is not."""
    authority = (ROOT / "corpus" / "authority.xml").read_text()
    shared = authority.replace(
        '<persName type="variant">Mao Tsetung</persName>',
        '<persName type="variant">Zhou Enlai</persName>',
    )
    assert shared != authority
    (tmp_path / "authority.xml").write_text(shared)
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "authority.xml")])
    assert result.exit_code == 1, result.output
    assert "[E330]" in result.output and "'Zhou Enlai'" in result.output
    clean = CliRunner().invoke(main, ["validate", str(ROOT / "corpus" / "index" / "index.xml")])
    assert clean.exit_code == 0, clean.output


def test_an_authority_file_that_grows_is_read_again_in_the_same_process(tmp_path):
    """A Dask worker outlives builds and `toolkit review` adds entries between them: an id
    added to the authority file must be found by the next check in the same process."""
    authority = tmp_path / "authority.xml"
    authority.write_bytes((CORPUS / "authority.xml").read_bytes())
    xml = base_document().replace('ref="auth:mao-zedong"', 'ref="auth:added-later"')

    def codes() -> list[str]:
        path = str(tmp_path / "tei" / "min.xml")
        return [p.code for p in validate_bytes(xml.encode(), path, authority=str(authority))]

    assert codes() == ["TK-REF-AUTHORITY"]
    text = authority.read_text()
    entry = '<person xml:id="added-later"><persName type="main">Added Later</persName></person>'
    authority.write_text(text.replace("</listPerson>", entry + "</listPerson>", 1))
    assert codes() == []


@pytest.mark.parametrize("method", ["fork", "forkserver"])
def test_validating_in_processes_gives_the_same_output_in_the_same_order(
    tmp_path, monkeypatch, method
):
    import toolkit.validate

    monkeypatch.setattr(toolkit.validate, "_start_method", lambda: method)
    monkeypatch.setattr(toolkit.validate, "PARALLEL_FROM", 4)
    monkeypatch.setattr(toolkit.validate, "VALIDATE_CHUNK", 2)
    tei = tmp_path / "tei"
    tei.mkdir()
    good = base_document()
    for n in range(7):  # every other file breaks a different rule
        xml = good if n % 2 else good.replace('when="2024-01-01T00:00:00Z"', f'when="day {n}"')
        (tei / f"doc{n}.xml").write_text(xml)
    (tei / "broken.xml").write_text("<TEI>")
    runs = [
        CliRunner().invoke(main, ["validate", str(tei), "--authority", AUTHORITY, "--jobs", jobs])
        for jobs in ("1", "2")
    ]
    assert runs[0].exit_code == runs[1].exit_code == 1
    assert runs[0].output == runs[1].output
    assert runs[0].output.count("[TK-DATE-ISO]") == 4
    assert "8 file(s) checked" in runs[0].output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_workers_are_forked_only_from_a_process_without_other_threads():
    import subprocess
    import threading

    from toolkit.validate import _start_method

    alone = subprocess.run(
        [sys.executable, "-c", "from toolkit.validate import _start_method as m; print(m())"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert alone.stdout.strip() == "fork"
    release = threading.Event()
    waiting = threading.Thread(target=release.wait, daemon=True)
    waiting.start()
    try:
        assert _start_method() == "forkserver"  # a fork would copy the locks threads hold
    finally:
        release.set()
        waiting.join()


def test_the_record_of_proposals_and_decisions_keeps_its_keys():
    """The standOff record (toolkit.decisions) as the tagger writes it is valid; a span that
    lost its key (@n) or @resp, or mixes a proposal's @target with a decision's @subtype, is
    not: the tagger could no longer match it to a tag."""
    from toolkit.decisions import (
        DECISIONS,
        PROPOSALS,
        Decision,
        Proposal,
        decision_element,
        group,
        proposal_element,
    )

    proposal = Proposal("n1", "persName", "auth:mao-zedong", "#toolkit-authority", "k1", "Mao")
    decision = Decision("rejected", "persName", "k2", "toolkit-ner", "X")
    record = etree.tostring(
        group(PROPOSALS, [proposal_element(proposal)]), encoding="unicode"
    ) + etree.tostring(group(DECISIONS, [decision_element(decision)]), encoding="unicode")
    record = record.replace(' xmlns="http://www.tei-c.org/ns/1.0"', "")
    xml = base_document().replace("</standOff>", record + "</standOff>")
    assert check(xml) == []
    proposal_span = etree.tostring(proposal_element(proposal), encoding="unicode").split(">")[0]
    proposal_span = proposal_span.replace(' xmlns="http://www.tei-c.org/ns/1.0"', "")
    assert proposal_span in xml
    for broken in (
        proposal_span.replace(' n="k1"', ""),
        proposal_span.replace(' resp="#toolkit-authority"', ""),
        proposal_span.replace(' target="#n1"', ""),
        proposal_span + ' subtype="persName"',
    ):
        problems = check(xml.replace(proposal_span, broken))
        assert [p.code for p in problems] == ["RNG"], (broken, problems)
        assert "span" in problems[0].message


def test_a_folder_expands_to_its_files_sorted_with_links_and_fifos_checked(tmp_path):
    """Folders are walked without a system call per plain file; links, FIFOs and linked
    folders still get their checks, and the order is that of the paths."""
    import os

    from toolkit.errors import ToolkitError
    from toolkit.files import expand

    corpus = tmp_path / "corpus"
    (corpus / "b" / "c").mkdir(parents=True)
    (corpus / "a-b").mkdir()
    outside = tmp_path / "outside.xml"
    outside.write_text("<x/>")
    for name in ("z.xml", "b/c/y.xml", "b/x.xml", "a-b/w.xml", "note.txt", "UPPER.XML"):
        (corpus / name).write_text("<x/>")
    (corpus / "in-link.xml").symlink_to(corpus / "z.xml")
    (corpus / "out-link.xml").symlink_to(outside)
    (corpus / "dir-link.xml").symlink_to(corpus / "b", target_is_directory=True)
    (corpus / "linked").symlink_to(tmp_path, target_is_directory=True)  # never entered
    os.mkfifo(corpus / "pipe.xml")
    refused: list[ToolkitError] = []
    found = list(expand([corpus], refused=refused))
    assert [p.relative_to(corpus).as_posix() for p in found] == [
        "a-b/w.xml",
        "b/c/y.xml",
        "b/x.xml",
        "in-link.xml",
        "z.xml",
    ]
    assert found == sorted(found)
    assert sorted((Path(e.path).name, e.code) for e in refused) == [
        ("out-link.xml", "E141"),
        ("pipe.xml", "E914"),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [("1e3", "9"), ("9", "1e3"), ("\u00a09", "2"), ("\u0669", "2"), ("1e", "0"), ("2r", "1v")],
)
def test_native_range_rule_reads_numbers_as_libxml2_does(start, end):
    """number() in libxml2 takes exponents ("1e3", even "1e"), ASCII digits and XML
    whitespace only: the native rule must agree with lxml's Schematron on each."""
    document = base_document().replace(
        '<bibl type="source">',
        MS_DESC.format(
            idno='<idno type="shelfmark"><idno type="fond">1</idno></idno>', a=start, b=end
        )
        + '<bibl type="source">',
        1,
    )
    assert _native(document) == _lxml_schematron(document)


def _validate_in_a_daemon(folder: str, results) -> None:  # type: ignore[no-untyped-def]
    import toolkit.validate

    toolkit.validate.PARALLEL_FROM = 2
    found = toolkit.validate.validate_files(sorted(Path(folder).glob("*.xml")), jobs=2)
    results.put([(path.name, [p.code for p in problems]) for path, problems in found])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks a daemon")
def test_a_daemon_process_checks_its_files_itself(tmp_path):
    """A daemonic process may not start worker processes: it checks the files itself."""
    import multiprocessing

    for n in range(3):
        xml = base_document() if n else base_document().replace("2024-01-01T00", "day 1")
        (tmp_path / f"doc{n}.xml").write_text(xml)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    daemon = context.Process(target=_validate_in_a_daemon, args=(str(tmp_path), results))
    daemon.daemon = True
    daemon.start()
    found = results.get(timeout=60)
    daemon.join(timeout=60)
    assert daemon.exitcode == 0
    assert [name for name, _ in found] == ["doc0.xml", "doc1.xml", "doc2.xml"]
    assert "TK-DATE-ISO" in found[0][1]


# values that pass (drawn six times as often) and values that break a rule
_GOOD = {
    "ref": ["#cand-person-x", "auth:mao-zedong", "auth:zhou-enlai", "#toolkit-ner"],
    "resp": ["#toolkit-ner", "#toolkit-authority"],
    "xml:id": [f"n{i}" for i in range(3, 20)],
    "when": ["2024", "2024-01", "2024-01-02T03:04:05Z"],
    "text": ["Name", "<hi>A</hi> B"],
}
_BAD = {
    "ref": ["#gone", "auth:nobody", "viaf:1", "auth:", "#n3 #n4", " #n3", "#n3\t", "", ":x"],
    "resp": ["#toolkit-coref", "#someone", "#n3", "xtoolkit-ner", "#toolkit-ner ", "", "#"],
    "xml:id": ["n3", "n4", "toolkit-ner", "cand-person-x"],
    "when": ["2024-1-1", " 2024", "x"],
    "text": ["", " \t", "<hi> </hi>"],
}
_NAMES = ["persName", "placeName", "orgName", "rs", "x:persName"]


def _draw(field: str, absent: bool = True):  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    values = st.sampled_from(_GOOD[field] * 6 + _BAD[field])
    return st.one_of(st.none(), values) if absent else values


def _names():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    name = st.tuples(
        st.sampled_from(["persName"] * 4 + _NAMES),
        *(_draw(field) for field in ("ref", "resp", "xml:id", "when")),
        _draw("text", absent=False),
    )
    return st.tuples(st.lists(name, max_size=8), _draw("resp"), st.booleans())


@settings(max_examples=300, deadline=None)
@given(_names())
def test_the_quick_proof_and_the_exact_rules_agree(names):
    """``project_rules`` proves a passing document with XPath over its attribute values and
    leaves everything else to the exact rules; the two must agree on every document, and so
    must the two ways of checking auth: references."""
    from toolkit.tei import parse_bytes
    from toolkit.validate import _authority_problems, _exact_rules, _passing_attributes, _rules

    body, root_resp, untagged = names
    parts = []
    for tag, ref, resp, xml_id, when, text in body:
        attrs = "".join(
            f' {key}="{value}"'
            for key, value in (("ref", ref), ("resp", resp), ("xml:id", xml_id), ("when", when))
            if value is not None
        )
        space = ' xmlns:x="urn:example"' if tag.startswith("x:") else ""
        parts.append(f"<{tag}{space}{attrs}>{text}</{tag}>")
    xml = base_document().replace(TAGGED_BODY, "<p>" + " and ".join(parts) + "</p>")
    if root_resp is not None:
        xml = xml.replace("<TEI ", f'<TEI resp="{root_resp}" ', 1)
    if untagged:  # no record of a tagging run: machine tags below the root must be reported
        xml = xml.replace(">Tagged 2 names.", ">2 names.")
    tree = parse_bytes(xml.replace("><", ">\n<").encode())
    path = str(CORPUS / "tei" / "min.xml")
    quick = _passing_attributes(tree.getroot())
    assert _rules(tree, path, quick) == _exact_rules(tree, path)
    refs = None if quick is None or quick.foreign else quick.refs
    for authority in (AUTHORITY, None):
        exact = _authority_problems(tree, path, authority)
        assert _authority_problems(tree, path, authority, refs) == exact


def test_the_quick_proof_declines_each_near_miss():
    """The usual case takes the quick way (else the agreement above would prove little), and
    a document that passes but for one rare detail is handed to the exact rules."""
    from toolkit.tei import parse_bytes
    from toolkit.validate import _exact_rules, _passing_attributes

    def tree(xml: str):  # type: ignore[no-untyped-def]
        return parse_bytes(xml.replace("><", ">\n<").encode())

    good = base_document()
    quick = _passing_attributes(tree(good).getroot())
    assert quick is not None
    assert (quick.machine, quick.refs, quick.foreign) == (
        True,
        {"auth:mao-zedong", "#cand-person-x"},
        False,
    )
    near_misses = [
        ("TK-NAME-EMPTY", good.replace(">X</persName>", "><hi> </hi></persName>")),
        (
            "TK-RESP-DECLARED",  # one pointer, but with a space inside
            good.replace('xml:id="toolkit-ner"', 'xml:id="toolkit ner"').replace(
                'resp="#toolkit-ner"', 'resp="#toolkit ner"'
            ),
        ),
        # an element of this document, but not a respStmt or application
        ("TK-RESP-DECLARED", good.replace('resp="#toolkit-ner"', 'resp="#cand-person-x"')),
        ("TK-REF-LOCAL", good.replace('ref="#cand-person-x"', 'ref="#cand-person-x "')),
        ("TK-ID-UNIQUE", good.replace('xml:id="n2"', 'xml:id="cand-person-x"')),
    ]
    path = str(CORPUS / "tei" / "min.xml")
    for code, xml in near_misses:
        assert _passing_attributes(tree(xml).getroot()) is None, code
        assert code in {p.code for p in _exact_rules(tree(xml), path)}, code
    # a name outside the TEI namespace is checked against the authority file all the same
    foreign = good.replace(" met ", ' met <persName xmlns="urn:x" ref="auth:nobody">Y</persName> ')
    quick = _passing_attributes(tree(foreign).getroot())
    assert quick is not None and quick.foreign
    assert [p.code for p in check(foreign) if p.code != "RNG"] == ["TK-REF-AUTHORITY"]
