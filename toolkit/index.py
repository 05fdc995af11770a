"""The corpus entity index: tagged TEI files -> TEI lists, JSON, CSV, HTML register.

Documents are read one at a time (``from_tei``) and their mentions streamed into a temporary
SQLite table, so memory stays bounded however large the corpus; the outputs are then written
from ordered queries. Entities merge across documents through ``@ref``: ``auth:ID`` is the
authority entry ID, ``#cand-...`` an unreviewed candidate (described in the document's
``standOff``). A name without ``@ref`` (tagged by hand) is indexed under its type and form,
marked unreviewed.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any, BinaryIO

from lxml import etree

from . import __version__
from .authority import LIST_OF, NAME_OF, TYPE_OF_NAME, Authority, candidate_id
from .errors import ToolkitError
from .files import atomic_open, atomic_write
from .model import Document, Span
from .tei import (
    NS,
    TEI_NS,
    XML_ID,
    XML_LANG,
    E,
    T,
    _indent,
    from_tei,
    parse_bytes,
    require_tei,
    write_block,
)

CSV_COLUMNS = ("entity_id", "type", "main_name", "surface", "document", "element_id", "context")
CONTEXT = 80
TYPE_LABEL = {"person": "Persons", "place": "Places", "org": "Organizations"}


@dataclass
class IndexReport:
    documents: int = 0
    mentions: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    errors: list[ToolkitError] = field(default_factory=list)


@dataclass(frozen=True)
class _Entity:
    id: str
    type: str
    main: str
    reviewed: bool
    idnos: tuple[tuple[str, str], ...] = ()


def context_of(text: str, start: int, end: int, width: int = CONTEXT) -> tuple[str, str, str]:
    """Left context, keyword, right context: about ``width`` characters each side, whole words."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    if start - width > 0 and " " in left:
        left = "…" + left.split(" ", 1)[1]
    if end + width < len(text) and " " in right:
        right = right.rsplit(" ", 1)[0] + "…"
    return left, text[start:end], right


class _Store:
    """Mentions and documents in a temporary SQLite database (on disk, not in memory)."""

    def __init__(self, path: str = "") -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            CREATE TABLE doc (n INTEGER PRIMARY KEY, stem TEXT, title TEXT, rel TEXT);
            CREATE TABLE entity (id TEXT PRIMARY KEY, type TEXT, main TEXT, reviewed INT,
                                 idnos TEXT);
            CREATE TABLE mention (entity TEXT, doc INT, element TEXT, surface TEXT,
                                  left TEXT, right TEXT, seq INT);
            """
        )

    def add_entity(self, e: _Entity) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO entity VALUES (?, ?, ?, ?, ?)",
            (e.id, e.type, e.main, int(e.reviewed), json.dumps(e.idnos)),
        )


def build_index(
    paths: Iterable[Path], authority: Authority, outdir: Path, *, now: str
) -> IndexReport:
    """Read tagged TEI files and write ``index.xml/json/csv/html`` and ``docs/*.html``."""
    store = _Store()
    report = IndexReport()
    atomic_write(outdir / "register.css", _CSS.lstrip().encode())
    _add_documents(store, enumerate(paths), authority, outdir, report)
    store.db.execute("CREATE INDEX mention_entity ON mention (entity, doc, seq)")
    _write_outputs(store, outdir, report, now)
    return report


def _add_documents(
    store: _Store,
    numbered: Iterable[tuple[int, Path]],
    authority: Authority,
    outdir: Path,
    report: IndexReport,
) -> None:
    """Read documents (numbered in corpus order) into the store; write their reading views."""
    entries = authority.by_id()
    base = outdir.resolve()
    for n, path in numbered:
        try:
            root = parse_bytes(path.read_bytes(), str(path)).getroot()
            require_tei(root.getroottree(), str(path))
            doc = from_tei(root)
        except OSError as exc:
            report.errors.append(ToolkitError("E205", f"cannot read ({exc.strerror})", str(path)))
            continue
        except ToolkitError as exc:
            exc.path = str(path)
            report.errors.append(exc)
            continue
        local = _standoff_entries(root)
        rel = Path(os.path.relpath(path.resolve(), base)).as_posix()
        store.db.execute(
            "INSERT INTO doc VALUES (?, ?, ?, ?)", (n, path.stem, doc.header.title, rel)
        )
        report.documents += 1
        for seq, (span, text) in enumerate(_names(doc)):
            entity = _entity_of(span, text[span.start : span.end], entries, local)
            store.add_entity(entity)
            left, keyword, right = context_of(text, span.start, span.end)
            store.db.execute(
                "INSERT INTO mention VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entity.id, n, span.get("xml:id") or "", keyword, left, right, seq),
            )
            report.mentions += 1
        _write_reading_view(outdir, doc, path)


def index_part(
    numbered: Iterable[tuple[int, Path]], authority: Authority, outdir: Path, part: Path
) -> IndexReport:
    """One partition of a distributed index: the rows of some documents (numbered in corpus
    order) into the SQLite file ``part``, and their reading views; :func:`merge_index` then
    writes the index. ``merge_index`` over the parts of all documents writes exactly what
    :func:`build_index` writes."""
    part.unlink(missing_ok=True)  # a retried task starts again
    store = _Store(str(part))
    report = IndexReport()
    _add_documents(store, numbered, authority, outdir, report)
    store.db.commit()
    store.db.close()
    return report


def merge_index(parts: Iterable[Path], outdir: Path, *, now: str) -> IndexReport:
    """Write the index from :func:`index_part` files, merged in the order given (corpus order).

    Rows are copied database to database, so mentions never pass through Python all at once."""
    store = _Store()
    report = IndexReport()
    atomic_write(outdir / "register.css", _CSS.lstrip().encode())
    for part in parts:
        store.db.execute("ATTACH DATABASE ? AS part", (str(part),))
        store.db.execute("INSERT INTO doc SELECT * FROM part.doc ORDER BY n")
        store.db.execute("INSERT OR IGNORE INTO entity SELECT * FROM part.entity ORDER BY rowid")
        store.db.execute("INSERT INTO mention SELECT * FROM part.mention ORDER BY rowid")
        store.db.commit()
        store.db.execute("DETACH DATABASE part")
    report.documents = store.db.execute("SELECT count(*) FROM doc").fetchone()[0]
    report.mentions = store.db.execute("SELECT count(*) FROM mention").fetchone()[0]
    store.db.execute("CREATE INDEX mention_entity ON mention (entity, doc, seq)")
    _write_outputs(store, outdir, report, now)
    return report


def _names(doc: Document) -> Iterator[tuple[Span, str]]:
    for span in doc.spans:
        if span.tag in TYPE_OF_NAME and span.end > span.start:
            yield span, doc.blocks[span.block].text


def _standoff_entries(root: etree._Element) -> dict[str, _Entity]:
    found = {}
    for kind, lst in LIST_OF.items():
        for el in root.iterfind(f"tei:standOff/tei:{lst}/tei:{kind}", NS):
            name = el.find(f"tei:{NAME_OF[kind]}", NS)
            main = " ".join("".join(name.itertext()).split()) if name is not None else ""
            found[el.get(XML_ID, "")] = _Entity(el.get(XML_ID, ""), kind, main, reviewed=False)
    return found


def _entity_of(span: Span, surface: str, entries: dict, local: dict[str, _Entity]) -> _Entity:
    kind = TYPE_OF_NAME[span.tag]
    ref = (span.get("ref") or "").strip()
    if ref.startswith("auth:") and ref[5:] in entries:
        e = entries[ref[5:]]
        return _Entity(e.id, e.type, e.main, e.reviewed, e.idnos)
    if ref.startswith("#") and ref[1:] in local:
        return local[ref[1:]]
    if ref.startswith("#"):
        return _Entity(ref[1:], kind, surface, reviewed=False)
    # No @ref (or an unknown prefix): the form itself, unreviewed.
    return _Entity(candidate_id(kind, surface).replace("cand-", "unref-", 1), kind, surface, False)


# --- outputs --------------------------------------------------------------------------------


_TYPE_ORDER = "CASE type WHEN 'person' THEN 0 WHEN 'place' THEN 1 ELSE 2 END"
_XMLNS = {"xml": "http://www.w3.org/XML/1998/namespace"}  # xmlfile mis-prefixes it otherwise


def _entities(store: _Store) -> Iterator[dict]:
    """Entity summaries (variants and documents with counts), by type and name; no mentions."""
    rows = store.db.execute(
        "SELECT id, type, main, reviewed, idnos FROM entity "
        f"ORDER BY {_TYPE_ORDER}, lower(main), id"
    ).fetchall()  # entities are few next to mentions
    for ident, kind, main, reviewed, idnos in rows:
        variants = store.db.execute(
            "SELECT surface, count(*) FROM mention WHERE entity = ? GROUP BY surface "
            "ORDER BY surface",
            (ident,),
        ).fetchall()
        documents = store.db.execute(
            "SELECT d.stem, count(*) FROM mention m JOIN doc d ON d.n = m.doc "
            "WHERE m.entity = ? GROUP BY m.doc ORDER BY m.doc",
            (ident,),
        ).fetchall()
        yield {
            "id": ident,
            "type": kind,
            "main_name": main,
            "reviewed": bool(reviewed),
            "idnos": [{"type": t, "value": v} for t, v in json.loads(idnos)],
            "variants": [{"name": k, "count": v} for k, v in variants],
            "documents": [{"document": k, "mentions": v} for k, v in documents],
        }


def _mentions(store: _Store, ident: str) -> Iterator[dict]:
    """The mentions of one entity, streamed from the database in document order."""
    cursor = store.db.execute(
        "SELECT d.stem, d.rel, m.element, m.surface, m.left, m.right FROM mention m "
        "JOIN doc d ON d.n = m.doc WHERE m.entity = ? ORDER BY m.doc, m.seq",
        (ident,),
    )
    keys = ("document", "path", "element_id", "surface", "left", "right")
    for row in cursor:
        yield dict(zip(keys, row, strict=True))


def _write_outputs(store: _Store, outdir: Path, report: IndexReport, now: str) -> None:
    """Write the four index files in one pass, streaming entity by entity, mention by mention."""
    docs = [
        {"document": stem, "path": rel, "title": title}
        for stem, rel, title in store.db.execute("SELECT stem, rel, title FROM doc ORDER BY n")
    ]
    for kind, count in store.db.execute("SELECT type, count(*) FROM entity GROUP BY type"):
        report.entities[kind] = count
    report.candidates = store.db.execute(
        "SELECT count(*) FROM entity WHERE NOT reviewed"
    ).fetchone()[0]
    totals = (sum(report.entities.values()), report.mentions)
    with (
        atomic_open(outdir / "index.csv") as csv_fh,
        atomic_open(outdir / "index.json") as json_fh,
        atomic_open(outdir / "index.html") as html_fh,
        atomic_open(outdir / "index.xml") as xml_fh,
        etree.xmlfile(xml_fh, encoding="UTF-8") as xf,
    ):
        out = _Outputs(
            xf,
            html_fh,
            json_fh,
            csv.writer(
                io.TextIOWrapper(csv_fh, "utf-8", newline="", write_through=True),
                lineterminator="\n",
            ),
        )
        out.rows.writerow(CSV_COLUMNS)
        head = json.dumps({"generated": now, "toolkit": __version__, "documents": docs}, indent=1)
        json_fh.write(head[:-2].encode() + b',\n "entities": [')
        html_fh.write(_html_head(docs, totals, now).encode())
        xf.write_declaration()
        separator = b"\n  "
        attrs = {XML_ID: "corpus-index", XML_LANG: "en"}
        with xf.element(T + "TEI", attrs, nsmap={None: TEI_NS, **_XMLNS}):
            header = _tei_header(len(docs), now)
            _indent(header, 1)
            xf.write("\n  ", header, "\n  ")
            with xf.element(T + "text"):
                xf.write("\n    ")
                with xf.element(T + "body"):
                    for kind, group in groupby(_entities(store), key=lambda e: e["type"]):
                        html_fh.write(
                            f'<section><h2 id="{kind}">{TYPE_LABEL[kind]}</h2>\n'.encode()
                        )
                        xf.write("\n      ")
                        with xf.element(T + LIST_OF[kind], type="index"):
                            xf.write("\n        ", E("head", TYPE_LABEL[kind]))
                            for e in group:
                                json_fh.write(separator)
                                separator = b",\n  "
                                _write_entity(store, e, out)
                            xf.write("\n      ")
                        html_fh.write(b"</section>\n")
                    if not totals[0]:
                        xf.write("\n      ", E("p", "No names are tagged in the corpus."))
                    xf.write("\n    ")
                xf.write("\n  ")
            xf.write("\n")
        json_fh.write(b"\n ]\n}\n")
        html_fh.write(b"</body>\n</html>\n")


@dataclass
class _Outputs:
    xf: Any
    html: BinaryIO
    json: BinaryIO
    rows: Any


def _write_entity(store: _Store, e: dict, out: _Outputs) -> None:
    """One entity into all four outputs; its mentions are read once, as a stream."""
    pad = "\n" + "  " * 5
    out.json.write(json.dumps(e, ensure_ascii=False)[:-1].encode() + b', "mentions": [')
    out.html.write(_html_entry_head(e).encode())
    kind, name_tag = e["type"], NAME_OF[e["type"]]
    with out.xf.element(T + kind, {XML_ID: _ncname(e["id"])}, nsmap=_XMLNS):
        for el in _tei_entry_parts(e, name_tag):
            out.xf.write(pad, el)
        out.xf.write(pad)
        with out.xf.element(T + "note", type="mentions"):
            first = True
            for m in _mentions(store, e["id"]):
                if m["element_id"]:
                    out.xf.write(pad + "  ", E("ptr", target=f"{m['path']}#{m['element_id']}"))
                out.html.write(_html_row(m).encode())
                out.json.write(
                    (b"" if first else b", ") + json.dumps(m, ensure_ascii=False).encode()
                )
                first = False
                context = " ".join((m["left"] + m["surface"] + m["right"]).split())
                out.rows.writerow(
                    (
                        e["id"],
                        kind,
                        e["main_name"],
                        m["surface"],
                        m["document"],
                        m["element_id"],
                        context,
                    )
                )
            out.xf.write(pad)
        out.xf.write("\n" + "  " * 4)
    out.json.write(b"]}")
    out.html.write(b"</table></div>\n")


def _tei_entry_parts(e: dict, name_tag: str) -> Iterator[etree._Element]:
    yield E(name_tag, e["main_name"], type="main")
    for v in e["variants"]:
        if v["name"] != e["main_name"]:
            yield E(name_tag, v["name"], type="variant", n=str(v["count"]))
    for idno in e["idnos"]:
        yield E("idno", idno["value"], type=idno["type"])
    if not e["reviewed"]:
        yield E("note", "unreviewed candidate", type="status")
    total = sum(d["mentions"] for d in e["documents"])
    counts = ", ".join(f"{d['document']} ({d['mentions']})" for d in e["documents"])
    yield E("note", f"{total} mention(s) in {counts}", type="documents")


def _ncname(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", text)
    return name if re.match(r"[A-Za-z_]", name) else "e-" + name


def _tei_header(documents: int, now: str) -> etree._Element:
    app = E(
        "application",
        E("label", "TEI provenance toolkit"),
        ident="toolkit",
        version=__version__,
        xml_id="toolkit",
    )
    return E(
        "teiHeader",
        E(
            "fileDesc",
            E("titleStmt", E("title", "Corpus entity index")),
            E("publicationStmt", E("p", "Generated by the toolkit from the tagged corpus.")),
            E(
                "sourceDesc",
                E(
                    "p",
                    f"The {documents} tagged TEI document(s) of the corpus and its authority file.",
                ),
            ),
        ),
        E("encodingDesc", E("appInfo", app)),
        E(
            "revisionDesc",
            E("change", f"Index built from {documents} document(s).", when=now, who="#toolkit"),
        ),
    )


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.5 Georgia,serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1,h2,h3{font-family:system-ui,sans-serif}nav a{margin-right:1rem}
.entry{border-top:1px solid #ddd;padding:.5rem 0}.variants,.docs{color:#555;font-size:.9rem}
.candidate{background:#fff3cd;padding:0 .3rem;font-size:.8rem;border-radius:3px}
table.kwic{border-collapse:collapse;font-size:.9rem;width:100%}
.kwic td{padding:.1rem .4rem;vertical-align:top}.kwic .l{text-align:right;color:#555;width:45%}
.kwic .k a{font-weight:bold;white-space:nowrap}.kwic .r{color:#555;width:45%}
.persName{background:#e3f2fd}.placeName{background:#e8f5e9}.orgName{background:#fce4ec}
a.persName,a.placeName,a.orgName{color:inherit;text-decoration:none;border-bottom:1px dotted}
.supplied::before{content:"["}.supplied::after{content:"]"}.pb{color:#999}
:target{outline:2px solid #f90}
"""


def _page(title: str, body: str, css: str) -> str:
    """An HTML page linking the shared stylesheet at ``css`` (one file, not one copy a page)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{css}">\n</head>\n<body>\n'
        f"{body}\n</body>\n</html>\n"
    )


def _html_head(docs: list[dict], totals: tuple[int, int], now: str) -> str:
    page = _page("Corpus register", "@@BODY@@", "register.css").split("@@BODY@@")[0]
    nav = "".join(f'<a href="#{k}">{v}</a>' for k, v in TYPE_LABEL.items())
    return (
        page
        + "<h1>Register of persons, places and organizations</h1>\n"
        + f"<p>{len(docs)} document(s), {totals[0]} entities, {totals[1]} mentions; generated "
        + f"{html.escape(now)} by toolkit {__version__}.</p>\n<nav>{nav}</nav>\n"
    )


def _html_entry_head(e: dict) -> str:
    anchor = "e-" + _ncname(e["id"])
    flag = "" if e["reviewed"] else ' <span class="candidate">unreviewed candidate</span>'
    out = [f'<div class="entry" id="{anchor}"><h3>{html.escape(e["main_name"])}{flag}</h3>']
    variants = ", ".join(f"{html.escape(v['name'])} ({v['count']})" for v in e["variants"])
    out.append(f'<p class="variants">Forms: {variants}</p>')
    if e["idnos"]:
        ids = ", ".join(f"{html.escape(i['type'])} {html.escape(i['value'])}" for i in e["idnos"])
        out.append(f'<p class="variants">Identifiers: {ids}</p>')
    total = sum(d["mentions"] for d in e["documents"])
    counts = ", ".join(
        f'<a href="docs/{html.escape(d["document"])}.html">{html.escape(d["document"])}</a> '
        f"({d['mentions']})"
        for d in e["documents"]
    )
    out.append(f'<p class="docs">{total} mention(s) in {counts}</p>')
    out.append('<table class="kwic">\n')
    return "\n".join(out)


def _html_row(m: dict) -> str:
    href = f"docs/{html.escape(m['document'])}.html#{html.escape(m['element_id'])}"
    return (
        f'<tr><td class="l">{html.escape(m["left"])}</td>'
        f'<td class="k"><a href="{href}">{html.escape(m["surface"])}</a></td>'
        f'<td class="r">{html.escape(m["right"])}</td></tr>\n'
    )


def _write_reading_view(outdir: Path, doc: Document, path: Path) -> None:
    """``docs/<stem>.html``: the text with its names highlighted and linked to the register."""
    parts = [
        '<p><a href="../index.html">← Register</a></p>',
        f"<h1>{html.escape(doc.header.title)}</h1>",
        f'<p class="variants">Source: {html.escape(doc.header.source.name)} '
        f"(SHA-256 {html.escape(doc.header.source.sha256)}); TEI: {html.escape(path.name)}</p>",
    ]
    for block, spans in zip(doc.blocks, doc.spans_by_block(), strict=True):
        el = etree.Element(T + "p")
        write_block(el, block.text, spans)
        tag = {"head": "h2", "closer": "p"}.get(block.kind, "p")
        parts.append(f"<{tag}>{_inline_html(el)}</{tag}>")
    (outdir / "docs").mkdir(parents=True, exist_ok=True)
    atomic_write(
        outdir / "docs" / f"{path.stem}.html",
        _page(doc.header.title, "\n".join(parts), "../register.css").encode(),
    )


def _inline_html(el: etree._Element) -> str:
    out = [html.escape(el.text or "")]
    for child in el:
        if not isinstance(child.tag, str):
            out.append(html.escape(child.tail or ""))
            continue
        local = etree.QName(child).localname
        inner = _inline_html(child)
        if local in TYPE_OF_NAME:
            ident = child.get(XML_ID, "")
            ref = (child.get("ref") or "").strip()
            target = ref[5:] if ref.startswith("auth:") else ref.lstrip("#")
            if not target:
                target = candidate_id(TYPE_OF_NAME[local], "".join(child.itertext())).replace(
                    "cand-", "unref-", 1
                )
            out.append(
                f'<a class="{local}" id="{html.escape(ident)}" '
                f'href="../index.html#e-{html.escape(_ncname(target))}">{inner}</a>'
            )
        elif local == "pb":
            out.append('<span class="pb" title="page break">|</span>')
        else:
            out.append(f'<span class="{local}">{inner}</span>')
        out.append(html.escape(child.tail or ""))
    return "".join(out)
