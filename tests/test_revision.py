"""Issue 10, case 2: a corrected source keeps every annotation of the old TEI."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import EPOCH
from editing import corpus, machine_tags, rule_model

from toolkit.cli import main
from toolkit.tei import NS, parse_bytes

SOURCE = """Letter on the talks

Mao Zedong wrote to Stalin from Yan'an about the talks. The Gestapo file was marked Top Secret.

Zhang Wei met the GMD delegation in Chongqng; Comrade Li took notes.

The last paragraph will be cut, with its hand-made emphasis on this phrase.
"""


def build(folder: Path) -> str:
    args = ["build", str(folder), "--model", str(rule_model(folder.parent))]
    result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": EPOCH})
    assert result.exit_code in (0, 1), result.output + repr(result.exception)
    assert "Traceback" not in result.output
    return result.output


def test_a_revised_source_keeps_hand_edits(tmp_path):
    folder = corpus(tmp_path / "corpus")
    (folder / "sources").mkdir()
    source = folder / "sources" / "letter.txt"
    source.write_text(SOURCE, "utf-8")
    build(folder)
    tei = folder / "tei" / "letter.xml"
    old = tei.read_text("utf-8")
    assert ("persName", "Gestapo") in machine_tags(old)
    # the editor works on the TEI with a text editor
    text = re.sub(r"<persName [^>]*>(Gestapo)</persName>", r"\1", old)
    text = text.replace("Comrade Li", "<persName>Comrade Li</persName>")
    text = text.replace(
        "about the talks.", 'about the talks.<note type="editorial">See the reply.</note>'
    )
    text = text.replace("this phrase", '<hi rend="underline">this phrase</hi>')
    text = text.replace("took notes", '<hi rend="italic">took notes</hi>')
    text = re.sub(r"<p>(<persName [^>]*>Zhang)", r'<p n="2">\1', text)
    assert '<p n="2">' in text
    tei.write_text(text, "utf-8")
    build(folder)  # nothing changed in the source: the edits stay, Gestapo stays untagged
    edited = tei.read_text("utf-8")
    assert ("persName", "Gestapo") not in machine_tags(edited)
    assert "<persName>Comrade Li</persName>" in edited
    # the source is corrected: a typo, a new paragraph, a paragraph cut
    revised = SOURCE.replace("Chongqng", "Chongqing").replace(
        "\nThe last paragraph will be cut, with its hand-made emphasis on this phrase.\n",
        "\nA paragraph the capture had missed, naming Stalin again.\n",
    )
    source.write_text(revised, "utf-8")
    out = build(folder)
    after = tei.read_text("utf-8")
    assert "<persName>Comrade Li</persName>" in after
    assert 'about the talks.<note type="editorial">See the reply.</note>' in after
    assert '<hi rend="italic">took notes</hi>' in after
    assert re.search(r'<p n="2"><persName [^>]*>Zhang', after)
    assert "Chongqing" in after and "Chongqng" not in after
    assert ("persName", "Gestapo") not in machine_tags(after)  # the decision survived
    assert "naming <persName" in after  # the new paragraph is tagged
    # the cut emphasis is a conflict: listed, kept, and the old TEI is backed up
    assert "'this phrase' not carried over: its text changed beyond recognition" in out
    conflicts = (folder / "tei" / "letter.conflicts.xml").read_text("utf-8")
    assert '<hi rend="underline">this phrase</hi>' in conflicts
    sha8 = hashlib.sha256(edited.encode()).hexdigest()[:8]
    assert (folder / "tei" / f"letter.xml.bak-{sha8}").read_text("utf-8") == edited
    root = parse_bytes(after.encode()).getroot()
    last = root.findall("tei:teiHeader/tei:revisionDesc/tei:change", NS)
    old_sha = hashlib.sha256(SOURCE.encode()).hexdigest()
    new_sha = hashlib.sha256(revised.encode()).hexdigest()
    assert any(f"SHA-256 {old_sha} -> {new_sha}" in (c.text or "") for c in last)
    assert "validation: 0 error(s)" in out
    # a rebuild changes nothing and does not list the conflict again
    again = build(folder)
    assert tei.read_text("utf-8") == after
    assert "not carried over" not in again
