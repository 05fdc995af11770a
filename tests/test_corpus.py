"""The committed corpus is what the pipeline makes of corpus/sources today."""

from __future__ import annotations

import calendar
import time

from click.testing import CliRunner
from conftest import ROOT

from toolkit.cli import main
from toolkit.tei import NS, parse_bytes

TEI_DIR = ROOT / "corpus" / "tei"
AUTHORITY = ROOT / "corpus" / "authority.xml"


def _epochs_of(path) -> list[str]:
    """The moments of the file's recorded runs (conversion, tagging)."""
    root = parse_bytes(path.read_bytes()).getroot()
    return [
        str(calendar.timegm(time.strptime(c.get("when"), "%Y-%m-%dT%H:%M:%SZ")))
        for c in root.iterfind(".//tei:revisionDesc/tei:change", NS)
    ]


def test_committed_tei_is_fresh(tmp_path):
    committed = sorted(TEI_DIR.glob("*.xml"))
    sources = sorted((ROOT / "corpus" / "sources").glob("*.txt"))
    assert [p.stem for p in committed] == [p.stem for p in sources]
    for path in committed:
        src = ROOT / "corpus" / "sources" / f"{path.stem}.txt"
        epochs = _epochs_of(path)
        steps = [["convert", str(src), "-o", str(tmp_path)]]
        steps.append(["tag", str(tmp_path / path.name), "--authority", str(AUTHORITY)])
        for step, epoch in zip(steps, epochs, strict=True):
            result = CliRunner().invoke(main, step, env={"SOURCE_DATE_EPOCH": epoch})
            assert result.exit_code == 0, result.output
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), (
            f"{path} is stale: run `make run` and commit corpus/"
        )
