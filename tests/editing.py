"""Helpers for the editorial tests: a rule pipeline saved to disk, so the CLI runs it."""

from __future__ import annotations

import re
from pathlib import Path

import spacy

AUTHORITY = """<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt>
<title>Authority</title></titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p>
</sourceDesc></fileDesc></teiHeader><text><body>
<listPerson><person xml:id="mao-zedong"><persName type="main">Mao Zedong</persName></person>
<person xml:id="stalin"><persName type="main">Stalin</persName></person>
<person xml:id="chiang"><persName type="main">Chiang Kai-shek</persName></person></listPerson>
<listPlace><place xml:id="yanan"><placeName type="main">Yan'an</placeName></place></listPlace>
<listOrg><org xml:id="gmd"><orgName type="main">Guomindang</orgName><orgName>GMD</orgName></org>
</listOrg></body></text></TEI>
"""

# The rule "model": what a small statistical model gets right and wrong.
PATTERNS = [
    {"label": "PERSON", "pattern": "Gestapo"},
    {"label": "PERSON", "pattern": "Harvest Moon"},
    {"label": "PERSON", "pattern": "Zhang Wei"},
    {"label": "ORG", "pattern": "Politburo"},
]


def rule_model(folder: Path) -> Path:
    """A real spaCy pipeline (blank English + an entity ruler named ``ner``) on disk."""
    path = folder / "rule-model"
    if not path.exists():
        nlp = spacy.blank("en")
        ruler = nlp.add_pipe("entity_ruler", name="ner")
        ruler.add_patterns(PATTERNS)
        nlp.to_disk(path)
    return path


def corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "authority.xml").write_text(AUTHORITY, encoding="utf-8")
    rule_model(folder.parent)
    return folder


def tag_args(folder: Path, *paths: Path | str) -> list[str]:
    return [
        "tag",
        *map(str, paths),
        "--authority",
        str(folder / "authority.xml"),
        "--model",
        str(rule_model(folder.parent)),
    ]


MACHINE = re.compile(
    r'<(persName|placeName|orgName) [^>]*resp="#toolkit-(?:ner|authority|coref)"[^>]*>(.*?)</\1>'
)


def machine_tags(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in MACHINE.finditer(text)]
