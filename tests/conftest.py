from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
SOURCES = ROOT / "corpus" / "sources"
WILSON = SOURCES / "wilson-122807-petrov-mao-1945-09-06.txt"
WEB = SOURCES / "academy-chongqing-negotiation-2022-07-13.txt"
EPOCH = "1700000000"
NOW = "2023-11-14T22:13:20Z"


@pytest.fixture(scope="session")
def tei_all() -> etree.RelaxNG:
    """The official tei_all schema shipped in the package, compiled once per process (~20 s)."""
    from toolkit.validate import external_relaxng

    return external_relaxng()


def assert_valid(schema: etree.RelaxNG, tree: etree._Element | bytes) -> None:
    if isinstance(tree, bytes):
        tree = etree.fromstring(tree)
    doc = tree.getroottree() if isinstance(tree, etree._Element) else tree
    ok = schema.validate(doc)
    assert ok, "\n".join(f"{e.line}: {e.message}" for e in schema.error_log)


def words(text: str) -> list[str]:
    """The words of a text, for 'nothing is lost' checks (brackets and whitespace aside)."""
    return re.findall(r"\w+", text.replace("[", "").replace("]", ""))


# Property tests are derandomized: CI must give the same verdict on every run. A developer who
# wants fresh examples runs `pytest --hypothesis-profile=explore`.
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile("ci")
