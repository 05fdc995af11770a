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

Mao Zedong wrote to Stalin from Yan'an about the talks. The Gestapo file was marked Harvest Moon.

Zhang Wei met the GMD delegation in Chongqng; Wen Bo took notes.

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
    text = text.replace("Wen Bo", "<persName>Wen Bo</persName>")
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
    assert "<persName>Wen Bo</persName>" in edited
    # the source is corrected: a typo, a new paragraph, a paragraph cut
    revised = SOURCE.replace("Chongqng", "Chongqing").replace(
        "\nThe last paragraph will be cut, with its hand-made emphasis on this phrase.\n",
        "\nA paragraph the capture had missed, naming Stalin again.\n",
    )
    source.write_text(revised, "utf-8")
    out = build(folder)
    after = tei.read_text("utf-8")
    assert "<persName>Wen Bo</persName>" in after
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


# --- the library path: convert, tag, edit, revise, tag again -------------------------------------

NOW = "2023-11-14T22:13:20Z"


def _tagger():  # type: ignore[no-untyped-def]
    import spacy
    from editing import AUTHORITY, PATTERNS

    from toolkit.authority import parse_authority
    from toolkit.entities import ModelInfo, authority_patterns
    from toolkit.tagging import tag_document

    authority = parse_authority(AUTHORITY.encode(), "authority.xml")
    nlp = spacy.blank("en")
    nlp.add_pipe("entity_ruler").add_patterns(PATTERNS)
    nlp.add_pipe("authority_matcher", config={"patterns": authority_patterns(authority)})
    info = ModelInfo("en_rules", "0", spacy.__version__, "rules")

    def tag(data: bytes) -> bytes:
        result = tag_document(
            data, Path("x.xml"), nlp, info, authority, now=NOW, authority_sha256="0" * 64
        )
        assert result.error is None, result.error
        return result.data if result.data is not None else data

    return tag


def _convert(text: str):  # type: ignore[no-untyped-def]
    from toolkit.sources import convert

    return convert(text.encode(), "x.txt", format="plain", now=NOW)


def test_rejections_and_corrected_names_follow_the_revised_text():
    from toolkit.revision import carry_over
    from toolkit.tei import serialize, to_tei

    tag = _tagger()
    first = "Memo\n\nThe file was marked Harvest Moon by Chiang Kaishek.\n"
    data = tag(serialize(to_tei(_convert(first))))
    text = data.decode()
    text = re.sub(r"<persName [^>]*>(Harvest Moon)</persName>", r"\1", text)  # rejected
    text = text.replace("Chiang Kaishek", '<persName ref="auth:chiang">Chiang Kaishek</persName>')
    data = tag(text.encode())
    assert 'type="rejected"' in data.decode()
    # the capture is corrected: the name's typo, and a missed paragraph before it
    revised = (
        "Memo\n\nAnother Harvest Moon stamp came first.\n\n"
        "The file was marked Harvest Moon by Chiang Kai-shek.\n"
    )
    merged, conflicts = carry_over(data, _convert(revised), now=NOW)
    assert conflicts == []
    assert '<persName ref="auth:chiang">Chiang Kai-shek</persName>' in merged.decode()
    after = tag(merged).decode()
    tagged = [t for _, t in machine_tags(after)]
    assert tagged.count("Harvest Moon") == 1  # the new one; the rejected one stays untagged
    assert "Another <persName" in after and "marked Harvest Moon by" in after
    assert "rebounded" not in after and after.count('type="rejected"') == 1
    assert tag(after.encode()).decode() == after  # and it is stable
