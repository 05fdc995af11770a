"""toolkit build as a whole: incremental work, orphans, the corpus lock, an authority-less
corpus; toolkit convert's unique output names. The corpora are invented here (plain captures,
web pages and archive records in the layouts real sources use)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EPOCH, ROOT

from toolkit.authority import parse_authority
from toolkit.cli import main
from toolkit.validate import validate_bytes

PEOPLE = ["Anna Kowalczyk", "Tomas Berglund", "Li Wenhao", "Marta Oyelaran", "Pieter Vandersloot"]
PLACES = ["Vilnius", "Rotterdam", "Chengdu", "Lagos", "Montevideo"]
ORGS = ["Baltic Grain Company", "Harbour Workers Union", "Ministry of Railways"]


def capture(i: int) -> str:
    """An invented capture; the layout cycles through a plain note, a web page and a record."""
    p, q = PEOPLE[i % 5], PEOPLE[(i + 2) % 5]
    a, b = PLACES[i % 5], PLACES[(i + 3) % 5]
    org = ORGS[i % 3]
    body = (
        f"On the {i + 3}th of May {p} travelled from {a} to {b} to meet {q} of the {org}. "
        f"The talks lasted three days and ended with a short statement.\n\n"
        f"{q} wrote afterwards that the delegation from {a} had asked for more time, and that "
        f"{p} promised an answer within the month.\n"
    )
    if i % 3 == 0:
        return f"Note on the meeting in {b}, number {i}\n\n{body}"
    if i % 3 == 1:
        return (
            f"Home | About | Archive | Contact\nHome > Reports > {b}\n\n"
            f"Meeting in {b} ({i})\n\nUpdated:2021-03-{i % 28 + 1:02d} | By:Staff Writer\n\n"
            f"{body}\n\nContact Us | Privacy\n"
        )
    return (
        f"\n\nMay {i % 28 + 1}, 1951\n\n**Record of a meeting in {b}, no. {i}**\n\n"
        "Citation:\n\n"
        f'"Record of a meeting in {b}, no. {i}", May {i % 28 + 1}, 1951, Example Archive.\n\n'
        f"Summary:\n\n{p} meets {q}.\n\nOriginal Language:\n\nEnglish\n\n"
        f"Contents:\n\nTranscript - English\n\n{body}"
    )


def make_corpus(folder: Path, n: int) -> Path:
    (folder / "sources").mkdir(parents=True)
    for i in range(n):
        (folder / "sources" / f"doc-{i:03d}.txt").write_text(capture(i))
    return folder


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": EPOCH})


def snapshot(corpus: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(corpus)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(corpus.rglob("*"))
        if p.is_file() and ".toolkit" not in p.parts
    }


def run_python(code: str, *args: str, **kwargs):
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        **kwargs,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    corpus = make_corpus(tmp_path_factory.mktemp("built") / "corpus", 4)
    result = invoke("build", str(corpus))
    assert result.exit_code == 0, result.output
    return corpus


def test_sources_only_corpus_gets_a_valid_empty_authority_file(built):
    authority = built / "authority.xml"
    data = authority.read_bytes()
    assert parse_authority(data, str(authority)).entries == ()
    assert validate_bytes(data, str(authority)) == []
    assert len(list((built / "tei").glob("*.xml"))) == 4


def test_no_change_build_runs_no_ner_and_never_imports_spacy_or_dask(built):
    before = snapshot(built)
    # spaCy and Dask made unimportable: the build would fail if it loaded the pipeline.
    out = run_python(
        """
        import sys
        sys.modules["spacy"] = None
        sys.modules["dask"] = None
        sys.modules["distributed"] = None
        from toolkit.cli import main
        try:
            main(["build", sys.argv[1]])
        except SystemExit as exc:
            assert not exc.code, exc.code
        """,
        str(built),
    )
    assert out.returncode == 0, out.stderr
    assert "(0 converted, 4 unchanged, 0 through the model, 0 re-tagged, index unchanged)" in (
        out.stdout
    )
    assert snapshot(built) == before  # nothing written, not even rewritten identically


def test_changed_source_is_the_only_document_tagged_again(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 3)
    assert invoke("build", str(corpus)).exit_code == 0
    source = corpus / "sources" / "doc-001.txt"
    source.write_text(source.read_text() + "\nA last line mentions Vilnius again.\n")
    result = invoke("build", str(corpus))
    assert result.exit_code == 0, result.output
    assert "(1 converted, 2 unchanged, 1 through the model, 1 re-tagged)" in result.output
    index = json.loads((corpus / "index" / "index.json").read_text())
    assert [d["document"] for d in index["documents"]] == ["doc-000", "doc-001", "doc-002"]


def test_hand_edited_tei_is_tagged_again_not_reconverted(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 2)
    assert invoke("build", str(corpus)).exit_code == 0
    tei = corpus / "tei" / "doc-000.xml"
    tei.write_bytes(tei.read_bytes().replace(b"The talks lasted", b"The long talks lasted"))
    result = invoke("build", str(corpus))
    assert result.exit_code == 0, result.output
    assert "(0 converted, 2 unchanged, 1 through the model, 0 re-tagged)" in result.output
    assert b"The long talks lasted" in tei.read_bytes()


def test_orphans_are_reported_removed_from_the_index_and_hand_edits_kept(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 3)
    assert invoke("build", str(corpus)).exit_code == 0
    # doc-000: source deleted, TEI untouched. doc-001: source renamed, TEI edited by hand.
    (corpus / "sources" / "doc-000.txt").unlink()
    (corpus / "sources" / "doc-001.txt").rename(corpus / "sources" / "renamed.txt")
    edited = corpus / "tei" / "doc-001.xml"
    hand = edited.read_bytes().replace(b"short statement", b"short statement (sic)")
    edited.write_bytes(hand)
    # A TEI file written by hand, with no source record, is not an orphan.
    (corpus / "tei" / "by-hand.xml").write_bytes(
        (corpus / "tei" / "doc-002.xml")
        .read_bytes()
        .replace(b'<idno type="SHA-256">', b'<idno type="local">')
    )
    result = invoke("build", str(corpus))
    assert f"orphan: {corpus}/tei/doc-000.xml: its source is gone; removed from the index, " in (
        result.output
    )
    assert "deleted (no hand edits)" in result.output
    assert f"moved to {corpus}/orphans/doc-001.xml" in result.output
    assert not (corpus / "tei" / "doc-000.xml").exists()
    assert (corpus / "orphans" / "doc-001.xml").read_bytes() == hand
    assert sorted(p.name for p in (corpus / "tei").glob("*.xml")) == [
        "by-hand.xml",
        "doc-002.xml",
        "renamed.xml",
    ]
    index = json.loads((corpus / "index" / "index.json").read_text())
    assert [d["document"] for d in index["documents"]] == ["by-hand", "doc-002", "renamed"]
    assert not (corpus / "index" / "docs" / "doc-000.html").exists()
    again = invoke("build", str(corpus))
    assert "orphan:" not in again.output


# --- the lock -------------------------------------------------------------------------------

HOLD = """
import sys, time
from pathlib import Path
from toolkit.pipeline import corpus_lock
with corpus_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_lock(corpus: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(corpus), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline() == "locked\n"
    return proc


def test_second_build_exits_2_then_a_killed_holders_lock_is_cleared(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sources").mkdir(parents=True)
    holder = hold_lock(corpus, 60)
    try:
        result = invoke("build", str(corpus))
        assert result.exit_code == 2
        assert f"error: {corpus}/.toolkit/lock: [E350] another build holds the lock" in (
            result.output
        )
        assert f"pid {holder.pid} on " in result.output
        assert not (corpus / "authority.xml").exists()  # it waited for nothing, wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    result = invoke("build", str(corpus))
    assert result.exit_code == 0, result.output
    assert f"note: cleared a stale lock left by a killed run (pid {holder.pid} on " in (
        result.output
    )
    assert not (corpus / ".toolkit" / "lock").exists()


def test_second_build_waits_for_the_lock_with_wait(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sources").mkdir(parents=True)
    holder = hold_lock(corpus, 1.5)
    start = time.monotonic()
    result = invoke("build", str(corpus), "--wait", "60")
    holder.wait()
    holder.stdout.close()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - start >= 1.0
    assert "stale" not in result.output  # released normally: nothing to clear


def test_build_without_sources_folder_is_a_coded_error(tmp_path):
    result = invoke("build", str(tmp_path))
    assert result.exit_code == 2
    assert f"[E354] {tmp_path}/sources is not a folder" in result.output


# --- convert: unique output names, no silent overwrite ----------------------------------------


def test_convert_refuses_output_name_collisions_and_converts_the_rest(tmp_path):
    for rel in ("d1/report.txt", "d2/report.txt", "d1/report.md", "d1/other.txt"):
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_text(capture(len(rel)))
    out = tmp_path / "out"
    args = [str(tmp_path / r) for r in ("d1/report.txt", "d2/report.txt", "d1/report.md")]
    result = invoke("convert", *args, str(tmp_path / "d1/other.txt"), args[0], "-o", str(out))
    assert result.exit_code == 1
    assert result.output.count("[E351]") == 3
    assert (
        f"error: {args[0]}: [E351] {args[1]}, {args[2]} would also be written to "
        f"{out}/report.xml; rename one of them, or write them into different -o folders"
        in result.output
    )
    assert sorted(p.name for p in out.iterdir()) == ["other.xml"]
    assert "3 of 4 file(s) converted" not in result.output
    assert "1 of 4 file(s) converted; 3 failed" in result.output


def test_convert_does_not_overwrite_a_different_tei_without_force(tmp_path):
    source = tmp_path / "note.txt"
    source.write_text(capture(3))
    out = tmp_path / "out"
    assert invoke("convert", str(source), "-o", str(out)).exit_code == 0
    same = invoke("convert", str(source), "-o", str(out))
    assert same.exit_code == 0
    assert f"{source} -> {out}/note.xml: unchanged" in same.output
    target = out / "note.xml"
    edited = target.read_bytes().replace(b"short statement", b"brief statement")
    target.write_bytes(edited)
    result = invoke("convert", str(source), "-o", str(out))
    assert result.exit_code == 1
    assert f"[E352] {target} exists and differs from this conversion; pass --force" in (
        result.output
    )
    assert target.read_bytes() == edited
    forced = invoke("convert", str(source), "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert b"short statement" in target.read_bytes()


def test_tag_refuses_two_inputs_with_one_output_name(tmp_path):
    for folder in ("d1", "d2"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "note.txt").write_text(capture(3))
        assert (
            invoke(
                "convert", str(tmp_path / folder / "note.txt"), "-o", str(tmp_path / folder)
            ).exit_code
            == 0
        )
    (tmp_path / "d1" / "other.xml").write_bytes((tmp_path / "d1" / "note.xml").read_bytes())
    out = tmp_path / "out"
    first, second = tmp_path / "d1" / "note.xml", tmp_path / "d2" / "note.xml"
    result = invoke(
        "tag",
        str(first),
        str(second),
        str(tmp_path / "d1" / "other.xml"),
        "-o",
        str(out),
        "--authority",
        str(ROOT / "corpus" / "authority.xml"),
    )
    assert result.exit_code == 1
    assert f"error: {first}: [E351] {second} would also be written to {out}/note.xml" in (
        result.output
    )
    assert sorted(p.name for p in out.iterdir()) == ["other.xml"]
    assert "1 of 3 file(s) tagged; 2 failed" in result.output


def test_the_build_knows_the_default_models_without_importing_spacy():
    from toolkit import entities, pipeline

    assert pipeline.DEFAULT_MODELS == entities.DEFAULT_MODELS


def test_many_messages_are_counted_and_all_logged_in_corpus_order(tmp_path, monkeypatch):
    """A build keeps a bounded number of messages in memory (and prints them); every message
    goes to .toolkit/build.log in corpus order, and the console says how many more there are."""
    import toolkit.pipeline as pipeline

    monkeypatch.setattr(pipeline, "REPORT_LIMIT", 1)
    corpus = make_corpus(tmp_path / "corpus", 9)  # doc-002, -005, -008: a citation left verbatim
    result = invoke("build", str(corpus), "--partition", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("warning: ") == 1 and "doc-002.txt" in result.output
    log = corpus / ".toolkit" / "build.log"
    assert f"... and 2 warnings more: every message is in {log}" in result.output
    lines = log.read_text().splitlines()
    assert [line.split(": ")[1].rsplit("/", 1)[1] for line in lines] == [
        "doc-002.txt",
        "doc-005.txt",
        "doc-008.txt",
    ]
    assert all(line.startswith("warning: ") and "[E502]" in line for line in lines)
    again = invoke("build", str(corpus))
    assert again.exit_code == 0 and "warning: " not in again.output
    assert not log.exists()  # the log is the last build's
