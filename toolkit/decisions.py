"""What the tagger proposed and what editors decided, recorded inside each TEI document.

Design (one document, no side files): the document's ``standOff`` holds two span groups.

``<spanGrp type="toolkit-proposals">``
    one ``<span>`` per machine tag now in the text: ``@target`` points to the tag's ``xml:id``,
    ``@type`` is the element proposed (``persName`` ...), ``@ana`` the proposed ``@ref``,
    ``@resp`` the component, ``@n`` the tag's *key* and the content its text. The tagger
    rewrites this list on every run that changes tags; editors never need to touch it.

``<spanGrp type="toolkit-decisions">``
    one ``<span>`` per editorial decision the tagger noticed: ``@type`` is ``rejected`` (the
    machine tag was removed: unwrapped or deleted), ``retyped`` (its element name changed),
    ``repointed`` (its ``@ref`` changed), ``rebounded`` (its extent changed) or ``amended``
    (attributes added, e.g. ``@cert``), or ``accepted`` (a person set their own ``@resp`` and
    changed nothing else); ``@subtype`` the element first proposed, ``@n`` the
    key, ``@resp`` the editor, the content the text.

A *key* identifies a mention by its text and the how-manieth occurrence of that text in the
document (``key("Top Secret", 2)``): it survives re-tagging, new tags elsewhere, paragraphs
added by hand before it, and it is re-anchored by source revisions (``toolkit.revision``).
Machine tags get ``xml:id="n-<key>"``, so ids are stable across runs (issue 16, item 6).

Before each run the tagger compares the text with the proposals: a proposal whose element is
gone is a rejection (that key is never tagged again); a tag whose name, ``@ref``, extent or
attributes a person changed becomes the editor's (its ``@resp`` is set to the editor) and is
never overwritten. ``toolkit tag --reset`` forgets both groups and every machine tag.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import ToolkitError
from .tei import NS, E

PROPOSALS = "toolkit-proposals"
DECISIONS = "toolkit-decisions"
DEFAULT_EDITOR = "editor"
KINDS = ("rejected", "retyped", "repointed", "rebounded", "amended", "accepted")


def key(surface: str, occurrence: int) -> str:
    """The stable key of the ``occurrence``-th (0-based) occurrence of ``surface``."""
    digest = hashlib.sha1(f"{surface}\x00{occurrence}".encode()).hexdigest()
    return digest[:10]


class Occurrences:
    """Occurrence numbers of strings in one text (each string's positions found once)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._cache: dict[str, list[int]] = {}

    def number(self, surface: str, start: int) -> int:
        found = self._cache.get(surface)
        if found is None:
            found = []
            i = self.text.find(surface)
            while i >= 0:
                found.append(i)
                i = self.text.find(surface, i + 1)
            self._cache[surface] = found
        return bisect_left(found, start)


@dataclass(frozen=True)
class Proposal:
    target: str  # the xml:id of the machine tag
    type: str
    ref: str
    resp: str
    key: str
    text: str


@dataclass(frozen=True)
class Decision:
    kind: str
    type: str
    key: str
    editor: str
    text: str


@dataclass(frozen=True)
class Record:
    proposals: tuple[Proposal, ...] = ()
    decisions: tuple[Decision, ...] = ()

    @property
    def rejected(self) -> frozenset[str]:
        return frozenset(d.key for d in self.decisions if d.kind == "rejected")


def read(unit: etree._Element) -> Record:
    """The record of one TEI element (its ``standOff`` children)."""
    proposals = tuple(
        Proposal(
            (s.get("target") or "").removeprefix("#"),
            s.get("type", ""),
            s.get("ana", ""),
            s.get("resp", ""),
            s.get("n", ""),
            "".join(s.itertext()),
        )
        for s in unit.iterfind(f"tei:standOff/tei:spanGrp[@type='{PROPOSALS}']/tei:span", NS)
    )
    decisions = tuple(
        Decision(
            s.get("type", ""),
            s.get("subtype", ""),
            s.get("n", ""),
            (s.get("resp") or "").removeprefix("#"),
            "".join(s.itertext()),
        )
        for s in unit.iterfind(f"tei:standOff/tei:spanGrp[@type='{DECISIONS}']/tei:span", NS)
    )
    return Record(proposals, decisions)


def proposal_element(p: Proposal) -> etree._Element:
    return E("span", p.text, target="#" + p.target, type=p.type, ana=p.ref, resp=p.resp, n=p.key)


def decision_element(d: Decision) -> etree._Element:
    return E("span", d.text, type=d.kind, subtype=d.type, n=d.key, resp="#" + d.editor)


def group(kind: str, spans: Iterable[etree._Element]) -> etree._Element:
    head = {
        PROPOSALS: "Tags proposed by the toolkit and still in the text (do not edit)",
        DECISIONS: "Editorial decisions on proposed tags, honoured by every later run",
    }[kind]
    return E("spanGrp", E("desc", head), *spans, type=kind)


def editor_resp(editor: str) -> etree._Element:
    """The ``respStmt`` naming an editor."""
    name = editor if editor != DEFAULT_EDITOR else "an unnamed editor (toolkit tag --editor ID)"
    return E(
        "respStmt",
        E("resp", "editorial decisions on name tags"),
        E("persName", name),
        xml_id=editor,
    )


_EDITOR_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def check_editor(editor: str | None) -> None:
    """Raise E212 for an editor id that is not an xml:id-like token."""
    if editor is not None and not _EDITOR_ID.match(editor):
        raise ToolkitError(
            "E212",
            f"the editor id {editor!r} is not an xml:id-like token; use letters, digits, "
            "'_', '-', '.', starting with a letter (e.g. jdoe)",
        )


def configured_editor(paths: Iterable[Path]) -> str | None:
    """``editor`` from the first ``toolkit.toml`` found beside or above the given paths."""
    seen: set[Path] = set()
    for path in paths:
        folder = path.resolve() if path.is_dir() else path.resolve().parent
        for candidate in [folder, *folder.parents][:4]:
            config = candidate / "toolkit.toml"
            if config in seen:
                continue
            seen.add(config)
            if config.is_file():
                try:
                    value = tomllib.loads(config.read_text("utf-8")).get("editor")
                except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                    continue
                if isinstance(value, str) and value:
                    return value
    return None
