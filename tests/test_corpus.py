"""The committed corpus is what the pipeline makes of corpus/sources today."""

from __future__ import annotations

import calendar
import time

from click.testing import CliRunner
from conftest import ROOT

from toolkit.cli import main
from toolkit.tei import NS, parse_bytes

TEI_DIR = ROOT / "corpus" / "tei"


def _epoch_of(path) -> str:
    root = parse_bytes(path.read_bytes()).getroot()
    when = root.find(".//tei:revisionDesc/tei:change", NS).get("when")
    return str(calendar.timegm(time.strptime(when, "%Y-%m-%dT%H:%M:%SZ")))


def test_committed_tei_is_fresh(tmp_path):
    committed = sorted(TEI_DIR.glob("*.xml"))
    sources = sorted((ROOT / "corpus" / "sources").glob("*.txt"))
    assert [p.stem for p in committed] == [p.stem for p in sources]
    for path in committed:
        src = ROOT / "corpus" / "sources" / f"{path.stem}.txt"
        result = CliRunner().invoke(
            main,
            ["convert", str(src), "-o", str(tmp_path)],
            env={"SOURCE_DATE_EPOCH": _epoch_of(path)},
        )
        assert result.exit_code == 0, result.output
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), (
            f"{path} is stale: run `make run` and commit corpus/"
        )
