"""The reviewed marker: which TEI documents an editor has confirmed (training data for ``train``).

A document is *reviewed* when its ``teiHeader/revisionDesc/@status`` is ``reviewed``. The
marker is document-level: the editor confirms every name tag of the body, and also that every
name without a tag is rightly untagged, so the whole document can teach the model. Any later
``tag`` run that adds, removes or changes a tag sets the status back to ``draft``.

:func:`mark_reviewed` sets the marker with minimal byte edits (everything outside the edited
tags stays byte-identical, comments and formatting included):

- ``status="reviewed"`` set on (or inserted into) the ``revisionDesc`` start tag, or a new
  ``revisionDesc`` at the end of the ``teiHeader`` when there is none;
- a new last ``<change status="reviewed" who="#ID" when="NOW">Reviewed by ID.</change>``;
- a ``<respStmt xml:id="ID"><resp>review of the name tags</resp><name type="person">ID</name>
  </respStmt>`` at the end of ``titleStmt`` when no element of the document has that ``xml:id``.

Marking a document whose last change already is this editor's review changes nothing.
"""

from __future__ import annotations

import re

from lxml import etree

from .errors import ToolkitError
from .tei import NS, XML_ID, parse_bytes, require_tei

REVIEWED = "reviewed"
_EDITOR = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_WHEN = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$")
# Markup whose content is not markup: masked before searching for tags.
_OPAQUE = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", re.S
)


def is_reviewed(root: etree._Element) -> bool:
    """True when the TEI document's ``revisionDesc/@status`` is ``reviewed``."""
    revision = root.find("tei:teiHeader/tei:revisionDesc", NS)
    return revision is not None and revision.get("status") == REVIEWED


def mark_reviewed(data: bytes, editor: str, now: str, path: str = "<bytes>") -> bytes:
    """``data`` with the reviewed marker set by ``editor`` at ``now`` (see the module docstring).

    Raises :class:`ToolkitError` E620 for an editor id that is not an xml:id-like token, E621
    for a timestamp that is not ISO 8601, and the parser's codes for malformed or non-TEI input.
    """
    if not _EDITOR.match(editor):
        raise ToolkitError(
            "E620",
            f"the editor id {editor!r} is not an xml:id-like token; "
            "use letters, digits, '_', '-', '.', starting with a letter (e.g. jdoe)",
            path,
        )
    if not _WHEN.match(now):
        raise ToolkitError("E621", f"{now!r} is not an ISO 8601 date or date-time", path)
    tree = parse_bytes(data, path)
    root = require_tei(tree, path)
    header = root.find("tei:teiHeader", NS)
    if header is None or header.find("tei:fileDesc/tei:titleStmt", NS) is None:
        raise ToolkitError("E202", "no teiHeader/fileDesc/titleStmt: not a TEI document", path)
    revision = header.find("tei:revisionDesc", NS)
    if revision is not None and revision.get("status") == REVIEWED:
        changes = revision.findall("tei:change", NS)
        last = changes[-1] if changes else None
        if last is not None and (last.get("status"), last.get("who")) == (REVIEWED, f"#{editor}"):
            return data
    encoding = tree.docinfo.encoding or "UTF-8"
    text = data.decode(encoding)
    declared = any(el.get(XML_ID) == editor for el in root.iter(etree.Element))
    edited = _edit(text, editor, now, declared, path)
    out = edited.encode(encoding)
    check = parse_bytes(out, path).getroot()
    if not is_reviewed(check):  # pragma: no cover - the edit is checked, never trusted
        raise ToolkitError("E622", "the reviewed marker could not be set in this file", path)
    return out


def _edit(text: str, editor: str, now: str, declared: bool, path: str) -> str:
    masked = _OPAQUE.sub(lambda m: " " * len(m.group()), text)
    header = re.search(r"<((?:[\w.-]+:)?)teiHeader\b", masked)
    header_end = re.search(r"</((?:[\w.-]+:)?)teiHeader\s*>", masked)
    if header is None or header_end is None:
        raise ToolkitError("E622", "no teiHeader start and end tag found", path)
    prefix = header.group(1)
    change = (
        f'<{prefix}change status="{REVIEWED}" when="{now}" who="#{editor}">'
        f"Reviewed by {editor}.</{prefix}change>"
    )
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied right to left
    region = slice(header.end(), header_end.start())
    start = _find(masked, rf"<{re.escape(prefix)}revisionDesc(?=[\s/>])[^>]*>", region)
    if start is None:
        close_ws, step = _closing_ws(masked, header_end.start())
        child = _first_child_ws(masked, header.end(), close_ws + step)
        inner = child + step
        block = (
            f'<{prefix}revisionDesc status="{REVIEWED}">{inner}{change}{child}'
            f"</{prefix}revisionDesc>"
        )
        pos = header_end.start() - len(close_ws)
        edits.append((pos, pos, child + block))
    else:
        tag = masked[start.start() : start.end()]
        new_tag = _set_status(text[start.start() : start.end()], prefix)
        if tag.endswith("/>"):
            close_ws, step = _closing_ws(masked, start.start())
            new_tag = new_tag[:-2].rstrip() + ">"
            inner = close_ws + step
            edits.append(
                (
                    start.start(),
                    start.end(),
                    f"{new_tag}{inner}{change}{close_ws}</{prefix}revisionDesc>",
                )
            )
        else:
            end = _find(
                masked, rf"</{re.escape(prefix)}revisionDesc\s*>", slice(start.end(), len(masked))
            )
            if end is None:
                raise ToolkitError("E622", "revisionDesc has no end tag", path)
            close_ws, step = _closing_ws(masked, end.start())
            child = _first_child_ws(masked, start.end(), close_ws + step)
            pos = end.start() - len(close_ws)
            edits.append((pos, pos, child + change))
            edits.append((start.start(), start.end(), new_tag))
    if not declared:
        title = _find(masked, rf"</{re.escape(prefix)}titleStmt\s*>", region)
        title_start = _find(masked, rf"<{re.escape(prefix)}titleStmt(?=[\s>])[^>]*>", region)
        if title is None or title_start is None:
            raise ToolkitError("E622", "no titleStmt start and end tag found", path)
        close_ws, step = _closing_ws(masked, title.start())
        child = _first_child_ws(masked, title_start.end(), close_ws + step)
        inner = child + step
        resp = (
            f'<{prefix}respStmt xml:id="{editor}">{inner}<{prefix}resp>review of the name tags'
            f'</{prefix}resp>{inner}<{prefix}name type="person">{editor}</{prefix}name>{child}'
            f"</{prefix}respStmt>"
        )
        pos = title.start() - len(close_ws)
        edits.append((pos, pos, child + resp))
    for s, e, new in sorted(edits, key=lambda x: x[0], reverse=True):
        text = text[:s] + new + text[e:]
    return text


def _find(masked: str, pattern: str, region: slice) -> re.Match[str] | None:
    return re.compile(pattern).search(masked, region.start, region.stop)


def _set_status(tag: str, prefix: str) -> str:
    """A start tag with ``status="reviewed"`` (replacing any status value)."""
    pattern = re.compile(r"(\sstatus\s*=\s*)([\"'])[^\"']*\2")
    if pattern.search(tag):
        return pattern.sub(lambda m: f'{m.group(1)}"{REVIEWED}"', tag, count=1)
    name = f"<{prefix}revisionDesc"
    return f'{name} status="{REVIEWED}"' + tag[len(name) :]


def _closing_ws(masked: str, pos: int) -> tuple[str, str]:
    """The line break + indentation before ``pos`` ("" if none) and one indentation step."""
    m = re.search(r"\n[ \t]*$", masked[max(0, pos - 200) : pos])
    if m is None:
        return "", ""
    ws = m.group()
    step = "\t" if "\t" in ws else "  "
    return ws, step


def _first_child_ws(masked: str, after: int, default: str) -> str:
    """The white space before an element's first child (its children's indentation)."""
    m = re.compile(r"(\n[ \t]*)<").match(masked, after)
    return m.group(1) if m else default
