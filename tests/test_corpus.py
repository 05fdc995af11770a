"""The committed corpus is what `toolkit build` makes of corpus/sources today."""

from __future__ import annotations

import calendar
import shutil
import time

from click.testing import CliRunner
from conftest import ROOT

from toolkit.cli import main
from toolkit.tei import NS, parse_bytes

CORPUS = ROOT / "corpus"


def _epoch_of(path) -> str:
    root = parse_bytes(path.read_bytes()).getroot()
    when = root.find(".//tei:revisionDesc/tei:change", NS).get("when")
    return str(calendar.timegm(time.strptime(when, "%Y-%m-%dT%H:%M:%SZ")))


# Generated but not committed (.gitignore): the SQLite index is rebuilt by `make run`.
NOT_COMMITTED = {"index/index.sqlite"}


def _outputs(corpus):
    """The corpus files; ``.toolkit/`` is the build's bookkeeping (lock, state), not output."""
    return (
        p.relative_to(corpus)
        for p in corpus.rglob("*")
        if p.is_file()
        and p.relative_to(corpus).parts[0] != ".toolkit"
        and p.relative_to(corpus).as_posix() not in NOT_COMMITTED
    )


def test_committed_corpus_is_fresh(tmp_path):
    committed = sorted((CORPUS / "tei").glob("*.xml"))
    assert [p.stem for p in committed] == [
        p.stem for p in sorted((CORPUS / "sources").glob("*.txt"))
    ]
    fresh = tmp_path / "corpus"
    fresh.mkdir()
    shutil.copytree(CORPUS / "sources", fresh / "sources")
    shutil.copy(CORPUS / "authority.xml", fresh / "authority.xml")
    result = CliRunner().invoke(
        main, ["build", str(fresh)], env={"SOURCE_DATE_EPOCH": _epoch_of(committed[0])}
    )
    assert result.exit_code == 0, result.output
    for name in ("prov.json", "prov.ttl"):  # `make run` exports the provenance too
        out = fresh / "index" / name
        exported = CliRunner().invoke(
            main,
            ["prov", str(fresh), "-o", str(out)],
            env={"SOURCE_DATE_EPOCH": _epoch_of(committed[0])},
        )
        assert exported.exit_code == 0, exported.output
    expected = sorted(_outputs(CORPUS))
    produced = sorted(_outputs(fresh))
    assert produced == expected
    for rel in produced:
        assert (fresh / rel).read_bytes() == (CORPUS / rel).read_bytes(), (
            f"corpus/{rel} is stale: run `make run` and commit corpus/"
        )
