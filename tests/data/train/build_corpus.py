"""Build reviewed TEI documents from the hand-annotated records in ``records/``.

A record is a plain-text capture (first line the title, paragraphs at blank lines) in which the
editor marked every name: ``{{Andrei Gromyko|P}}`` (person), ``{{Lisbon|L}}`` (place),
``{{Foreign Office|O}}`` (organization). Building a document converts the text without the
marks (``toolkit convert``'s plain reader), writes the marked names as ``persName``,
``placeName`` and ``orgName`` (no ``@resp``: tags by a person) and, for a reviewed document,
sets the reviewed marker (``toolkit.reviewed.mark_reviewed``). Used by tests/test_train.py and
bench/bench_train.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.model import Span
from toolkit.reviewed import mark_reviewed
from toolkit.sources import convert
from toolkit.tei import NS, iter_blocks, read_block, serialize, to_tei, write_block

RECORDS = Path(__file__).resolve().parent / "records"
MARK = re.compile(r"\{\{([^{}|]+)\|([PLO])\}\}")
TAG = {"P": "persName", "L": "placeName", "O": "orgName"}
TYPE = {"P": "person", "L": "place", "O": "org"}
NOW = "2024-05-02T10:00:00Z"


def unmark(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Text without marks and the marked mentions as (start, end, P|L|O)."""
    out, mentions, pos = [], [], 0
    length = 0
    for m in MARK.finditer(text):
        out.append(text[pos : m.start()])
        length += m.start() - pos
        name = m.group(1)
        mentions.append((length, length + len(name), m.group(2)))
        out.append(name)
        length += len(name)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), mentions


def paragraphs(text: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """The record's paragraphs (blank-line separated, lines joined by spaces), unmarked."""
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return [unmark(p) for p in paras]


def build(record: Path, *, reviewed: bool = True, editor: str = "jdoe") -> bytes:
    """One TEI document from one record (see the module docstring)."""
    marked = record.read_text(encoding="utf-8")
    plain = MARK.sub(lambda m: m.group(1), marked)
    doc = convert(plain.encode("utf-8"), record.name, format="plain", now=NOW)
    tree = to_tei(doc).getroottree()
    gold = {text: mentions for text, mentions in paragraphs(marked)}
    body = tree.getroot().find("tei:text/tei:body", NS)
    for i, el in enumerate(iter_blocks(body)):
        text, spans = read_block(el, i)
        if text not in gold:
            raise ValueError(
                f"{record.name}: block {i} {text[:40]!r} is no paragraph of the record"
            )
        new = [Span(i, s, e, TAG[k]) for s, e, k in gold[text]]
        write_block(el, text, [*spans, *new])
    data = serialize(tree)
    return mark_reviewed(data, editor, NOW) if reviewed else data


def gold_mentions(record: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """Paragraph texts with their mentions as (start, end, toolkit type)."""
    return [
        (text, [(s, e, TYPE[k]) for s, e, k in mentions])
        for text, mentions in paragraphs(record.read_text(encoding="utf-8"))
    ]


def records() -> list[Path]:
    return sorted(RECORDS.glob("*.txt"))


def write_corpus(paths: list[Path], folder: Path, *, reviewed: bool = True) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for record in paths:
        target = folder / f"{record.stem}.xml"
        target.write_bytes(build(record, reviewed=reviewed))
        out.append(target)
    return out
