"""The corpus entity index: tagged TEI files -> SQLite, TEI lists, JSON, CSV, HTML register.

Documents are read one at a time (``from_tei``) and their mentions streamed into
``index.sqlite`` (:mod:`toolkit.publish.sqlite`), so memory stays bounded however large the
corpus; every other output is then written from ordered queries over that database. Entities
merge across documents through ``@ref``: ``auth:ID`` is the authority entry ID, ``#cand-...`` an
unreviewed candidate (described in the document's ``standOff``). A name without ``@ref`` (tagged
by hand) is indexed under its type and form, marked unreviewed.

Names of files and ids, decided here:

- A document's id is its file stem; when two files given share a stem (``a/report.xml`` and
  ``b/report.xml``), each gets the stem plus 8 hex digits of its relative path's SHA-1, so each
  has its own reading view (``docs/<id>.html``).
- Links to files are percent-encoded (a ``#``, ``?`` or ``%`` in a file name stays part of the
  name), in ``index.xml`` pointers and in every HTML ``href``.
- An entity's ``xml:id`` in ``index.xml`` (and its anchor ``e-<id>`` in the register) is its id
  when that is a valid NCName; otherwise the id with each other character replaced by ``-`` plus
  8 hex digits of the id's SHA-1, so ``#a:b`` and ``#a-b`` stay two entries.
- A document's date (``documents.date``, the timeline) is its date, or for a web capture
  without one its last update.
- ``index.csv`` cells that a spreadsheet would read as a formula (starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return) get a leading ``'`` (the OWASP advice on CSV
  injection), and every cell is quoted.
- The register shows at most ``REGISTER_MENTIONS`` mentions in context and ``REGISTER_DOCUMENTS``
  documents per entry (the rest are counted and are all in ``index.csv``, ``index.json``,
  ``index.xml`` and ``index.sqlite``), so it stays quick to load on large corpora.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import html
import io
import json
import os
import re
import tomllib
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
from .publish import pages
from .publish.geo import authority_coordinates, gazetteer_coordinates
from .publish.sqlite import EntityRow, Store, datasette_metadata
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
TYPE_LABEL = pages.TYPE_LABEL
REGISTER_MENTIONS = 25
REGISTER_DOCUMENTS = 50
COOCCURRING = 8
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class IndexReport:
    documents: int = 0
    mentions: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    errors: list[ToolkitError] = field(default_factory=list)


_Entity = EntityRow


def context_of(text: str, start: int, end: int, width: int = CONTEXT) -> tuple[str, str, str]:
    """Left context, keyword, right context: about ``width`` characters each side, whole words."""
    left = text[max(0, start - width) : start]
    right = text[end : end + width]
    if start - width > 0 and " " in left:
        left = "…" + left.split(" ", 1)[1]
    if end + width < len(text) and " " in right:
        right = right.rsplit(" ", 1)[0] + "…"
    return left, text[start:end], right


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading ``=``, ``+``, ``-``, ``@``, tab or CR
    (a formula to Excel, LibreOffice and Google Sheets) is escaped with ``'`` (OWASP)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def anchor(ident: str) -> str:
    """An entity's ``xml:id`` in ``index.xml`` and its anchor in the register (injective)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", ident):
        return ident
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", ident)
    if not re.match(r"[A-Za-z_]", name):
        name = "e-" + name
    return f"{name}-{hashlib.sha1(ident.encode()).hexdigest()[:8]}"


def document_key(path: Path, base: Path) -> str:
    """A document's provisional id: its stem plus 8 hex digits of its path relative to ``base``
    (the index folder). :func:`_final_ids` drops the suffix where the stem is unique."""
    rel = os.path.relpath(path.resolve(), base)
    return f"{path.stem}-{hashlib.sha1(rel.encode()).hexdigest()[:8]}"


def publish_settings(outdir: Path) -> dict[str, str]:
    """The ``[publish]`` table of ``toolkit.toml`` in the folder holding ``outdir`` (the corpus
    folder): title, description, license, license_url, source, source_url, organization."""
    path = outdir.parent / "toolkit.toml"
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("publish", {})
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    return {k: str(v) for k, v in table.items() if isinstance(v, str | int | float)}


def build_index(
    paths: Iterable[Path], authority: Authority, outdir: Path, *, now: str
) -> IndexReport:
    """Read tagged TEI files and write ``index.sqlite``, ``metadata.json``,
    ``index.xml/json/csv/html``, ``map.html``, ``timeline.html`` and ``docs/*.html``."""
    report = IndexReport()
    store = Store(outdir / "index.sqlite")
    try:
        store.add_authority_places(_authority_places(authority))
        _add_documents(store, enumerate(paths), authority, outdir, report)
        _finish(store, outdir, report, now)
    except BaseException:
        store.abort()
        raise
    return report


def index_part(
    numbered: Iterable[tuple[int, Path]], authority: Authority, outdir: Path, part: Path
) -> IndexReport:
    """One partition of a distributed index: the rows of some documents (numbered in corpus
    order) into the SQLite file ``part``, and their reading views; :func:`merge_index` then
    writes the index. ``merge_index`` over the parts of all documents writes exactly what
    :func:`build_index` writes."""
    store = Store(part, part=True)  # a retried task starts again
    report = IndexReport()
    try:
        store.add_authority_places(_authority_places(authority))
        _add_documents(store, numbered, authority, outdir, report)
        store.close()
    except BaseException:
        store.abort()
        raise
    return report


def merge_index(parts: Iterable[Path], outdir: Path, *, now: str) -> IndexReport:
    """Write the index from :func:`index_part` files, merged in the order given (corpus order).

    Rows are copied database to database, so mentions never pass through Python all at once."""
    report = IndexReport()
    store = Store(outdir / "index.sqlite")
    try:
        for part in parts:
            store.merge_part(part)
        report.documents = store.db.execute("SELECT count(*) FROM documents").fetchone()[0]
        report.mentions = store.db.execute("SELECT count(*) FROM mentions").fetchone()[0]
        _finish(store, outdir, report, now)
    except BaseException:
        store.abort()
        raise
    return report


def _add_documents(
    store: Store,
    numbered: Iterable[tuple[int, Path]],
    authority: Authority,
    outdir: Path,
    report: IndexReport,
) -> None:
    """Read documents (numbered in corpus order) into the store; write their reading views."""
    entries = authority.by_id()
    base = outdir.resolve()
    for n, path in numbered:
        _index_document(store, report, path, document_key(path, base), n, base, entries, outdir)


def _finish(store: Store, outdir: Path, report: IndexReport, now: str) -> None:
    """Everything after the documents pass: ids, tables, coordinates, every output file."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name in pages.ASSETS:
        atomic_write(outdir / name, pages.asset(name))
    _final_ids(store, outdir)
    store.finish_load()
    store.set_coordinates(_coordinates(store))
    _write_outputs(store, outdir, report, now)
    atomic_write(outdir / "map.html", pages.map_page(store, anchor).encode())
    with atomic_open(outdir / "timeline.html") as out:
        for piece in pages.timeline_page(store, anchor):
            out.write(piece.encode())
    meta = datasette_metadata(
        title="Corpus entity index", now=now, version=__version__, settings=publish_settings(outdir)
    )
    atomic_write(
        outdir / "metadata.json", (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode()
    )
    store.commit()


def _final_ids(store: Store, outdir: Path) -> None:
    """A document whose stem no other document shares takes the stem as its id; its reading
    view is renamed to match. Streamed from the store (documents are never all in memory)."""

    def renames() -> Iterator[tuple[str, str]]:
        for key, stem in store.unique_stems():
            os.replace(outdir / "docs" / f"{key}.html", outdir / "docs" / f"{stem}.html")
            yield key, stem

    store.rename_documents(renames())


def _index_document(
    store: Store,
    report: IndexReport,
    path: Path,
    doc_id: str,
    n: int,
    base: Path,
    entries: dict,
    outdir: Path,
) -> None:
    try:
        root = parse_bytes(path.read_bytes(), str(path)).getroot()
        require_tei(root.getroottree(), str(path))
        doc = from_tei(root)
    except OSError as exc:
        report.errors.append(ToolkitError("E205", f"cannot read ({exc.strerror})", str(path)))
        return
    except ToolkitError as exc:
        exc.path = str(path)
        report.errors.append(exc)
        return
    local = _standoff_entries(root)
    h = doc.header
    date = h.date or h.updated or None  # a web article's own date is its last update
    year = int(date[:4]) if date and re.match(r"-?\d{4}", date) else None
    archival = h.archival
    store.add_document(
        {
            "id": doc_id,
            "position": n,
            "title": h.title,
            "date": date,
            "year": year,
            "language": h.language,
            "source_file": h.source.name,
            "source_sha256": h.source.sha256,
            "repository": archival.repository if archival else None,
            "shelfmark": ", ".join(f"{lv.unit} {lv.value}" for lv in archival.levels)
            if archival
            else None,
            "citation": archival.raw if archival else None,
            "url": h.url,
            "publisher": h.publisher,
            "tei_file": Path(os.path.relpath(path.resolve(), base)).as_posix(),
            "reading_view": f"docs/{doc_id}.html",
            "text": doc.text(),
        }
    )
    report.documents += 1
    rows = []
    for seq, (span, text) in enumerate(_names(doc)):
        entity = _entity_of(span, text[span.start : span.end], entries, local)
        store.add_entity(entity)
        left, keyword, right = context_of(text, span.start, span.end)
        rows.append(
            (entity.id, doc_id, span.get("xml:id") or "", span.block, seq, keyword, left, right)
        )
    store.add_mentions(rows)
    report.mentions += len(rows)
    _write_reading_view(outdir, doc, path, doc_id)


def _authority_places(authority: Authority) -> list[tuple[str, str, float | None, float | None]]:
    """(id, names as JSON, lat, long) of the authority's places; coordinates from its ``geo``."""
    geo = {}
    with contextlib.suppress(OSError):
        geo = authority_coordinates(Path(authority.path).read_bytes(), authority.path)
    return [
        (e.id, json.dumps(list(e.names), ensure_ascii=False), *geo.get(e.id, (None, None))[:2])
        for e in authority.entries
        if e.type == "place"
    ]


def _coordinates(store: Store) -> dict:
    """Coordinates of the index's places: the authority file first, then GeoNames."""
    known = {}
    missing = []
    for ident, main, names, lat, lon in store.places():
        if lat is not None:
            known[ident] = (lat, lon, "authority file")
        else:
            missing.append((ident, json.loads(names) if names else [main]))
    known.update(gazetteer_coordinates(missing))
    return known


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
            idnos = tuple(
                (i.get("type", ""), " ".join((i.text or "").split()))
                for i in el.iterfind("tei:idno", NS)
            )  # a gazetteer link's GeoNames / Wikidata ids
            found[el.get(XML_ID, "")] = _Entity(
                el.get(XML_ID, ""), kind, main, reviewed=False, idnos=idnos
            )
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


_XMLNS = {"xml": "http://www.w3.org/XML/1998/namespace"}  # xmlfile mis-prefixes it otherwise


def _write_outputs(store: Store, outdir: Path, report: IndexReport, now: str) -> None:
    """Write the four index files in one pass, streaming entity by entity, mention by mention."""
    documents = store.db.execute("SELECT count(*) FROM documents").fetchone()[0]
    for kind, count in store.db.execute("SELECT type, count(*) FROM entities GROUP BY type"):
        report.entities[kind] = count
    report.candidates = store.db.execute(
        "SELECT count(*) FROM entities WHERE status = 'candidate'"
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
                quoting=csv.QUOTE_ALL,
            ),
            store,
        )
        out.rows.writerow(CSV_COLUMNS)
        _write_json_head(store, json_fh, now)
        html_fh.write(_html_head(documents, totals, report, now).encode())
        xf.write_declaration()
        separator = b"\n  "
        attrs = {XML_ID: "corpus-index", XML_LANG: "en"}
        with xf.element(T + "TEI", attrs, nsmap={None: TEI_NS, **_XMLNS}):
            header = _tei_header(documents, now)
            _indent(header, 1)
            xf.write("\n  ", header, "\n  ")
            with xf.element(T + "text"):
                xf.write("\n    ")
                with xf.element(T + "body"):
                    for kind, group in groupby(store.entities(), key=lambda e: e[0]["type"]):
                        html_fh.write(
                            f'<section data-type="{kind}" aria-labelledby="{kind}">'
                            f'<h2 id="{kind}">{TYPE_LABEL[kind]} '
                            f'<span class="type-count">({report.entities[kind]})</span>'
                            "</h2>\n".encode()
                        )
                        xf.write("\n      ")
                        with xf.element(T + LIST_OF[kind], type="index"):
                            xf.write("\n        ", E("head", TYPE_LABEL[kind]))
                            for e, mentions, documents in group:
                                json_fh.write(separator)
                                separator = b",\n  "
                                _write_entity(e, mentions, documents, out)
                            xf.write("\n      ")
                        html_fh.write(b"</section>\n")
                    if not totals[0]:
                        xf.write("\n      ", E("p", "No names are tagged in the corpus."))
                    xf.write("\n    ")
                xf.write("\n  ")
            xf.write("\n")
        json_fh.write(b"\n ]\n}\n")
        html_fh.write(b"</main>\n</body>\n</html>\n")


def _write_json_head(store: Store, out: BinaryIO, now: str) -> None:
    """``{"generated", "toolkit", "documents": [...], "entities": [`` as ``json.dumps(indent=1)``
    writes it, the documents streamed from the store (no list of them in memory)."""
    head = json.dumps({"generated": now, "toolkit": __version__, "documents": []}, indent=1)
    out.write(head[: -len("]\n}")].encode())
    separator = b"\n"
    cursor = store.db.execute("SELECT id, tei_file, title FROM documents ORDER BY position")
    for ident, rel, title in cursor:
        doc = json.dumps({"document": ident, "path": rel, "title": title}, indent=1)
        out.write(separator + doc.replace("\n", "\n  ").encode().join((b"  ", b"")))
        separator = b",\n"
    out.write((b"" if separator == b"\n" else b"\n ") + b'],\n "entities": [')


@dataclass
class _Outputs:
    xf: Any
    html: BinaryIO
    json: BinaryIO
    rows: Any
    store: Store


def _write_entity(e: dict, total: int, documents: int, out: _Outputs) -> None:
    """One entity into all four outputs; the documents naming it and its mentions are read
    once each, as streams (an entity may be named in most of the corpus)."""
    pad = "\n" + "  " * 5
    summary = {k: v for k, v in e.items() if k != "coordinates"}
    out.json.write(json.dumps(summary, ensure_ascii=False)[:-1].encode() + b', "documents": [')
    kind, name_tag = e["type"], NAME_OF[e["type"]]
    shown_documents = []
    with out.xf.element(T + kind, {XML_ID: anchor(e["id"])}, nsmap=_XMLNS):
        for el in _tei_entry_parts(e, name_tag):
            out.xf.write(pad, el)
        out.xf.write(pad)
        with out.xf.element(T + "note", {"type": "documents"}, nsmap={None: TEI_NS}):
            out.xf.write(f"{total} mention(s) in ")
            for n, (document, mentions) in enumerate(out.store.documents_of(e["id"])):
                count = {"document": document, "mentions": mentions}
                out.json.write(
                    (b", " if n else b"") + json.dumps(count, ensure_ascii=False).encode()
                )
                out.xf.write(f"{', ' if n else ''}{document} ({mentions})")
                if n < REGISTER_DOCUMENTS:
                    shown_documents.append(count)
        if "coordinates" in e:
            out.json.write(b'], "coordinates": ' + json.dumps(e["coordinates"]).encode())
        else:
            out.json.write(b"]")
        out.json.write(b', "mentions": [')
        cooccurring = out.store.cooccurring(e["id"], COOCCURRING)
        out.html.write(_html_entry_head(e, total, documents, shown_documents, cooccurring).encode())
        out.xf.write(pad)
        with out.xf.element(T + "note", type="mentions"):
            first = True
            shown = 0
            for m in out.store.mentions(e["id"]):
                if m["element_id"]:
                    target = pages.quote(m["path"], safe="/") + "#" + m["element_id"]
                    out.xf.write(pad + "  ", E("ptr", target=target))
                if shown < REGISTER_MENTIONS:
                    out.html.write(_html_row(m).encode())
                    shown += 1
                out.json.write(
                    (b"" if first else b", ") + json.dumps(m, ensure_ascii=False).encode()
                )
                first = False
                context = " ".join((m["left"] + m["surface"] + m["right"]).split())
                row = (e["id"], kind, e["main_name"], m["surface"], m["document"])
                out.rows.writerow(tuple(map(csv_cell, (*row, m["element_id"], context))))
            out.xf.write(pad)
        out.xf.write("\n" + "  " * 4)
    out.json.write(b"]}")
    out.html.write(b"</table>\n")
    if total > shown:
        out.html.write(
            f'<p class="more">{total - shown} more mention(s): see index.csv, index.json or '
            "index.sqlite.</p>\n".encode()
        )
    out.html.write(b"</div>\n")


def _tei_entry_parts(e: dict, name_tag: str) -> Iterator[etree._Element]:
    """The entry's names, identifiers and status (its documents and mentions are streamed)."""
    yield E(name_tag, e["main_name"], type="main")
    for v in e["variants"]:
        if v["name"] != e["main_name"]:
            yield E(name_tag, v["name"], type="variant", n=str(v["count"]))
    for idno in e["idnos"]:
        yield E("idno", idno["value"], type=idno["type"])
    if not e["reviewed"]:
        yield E("note", "unreviewed candidate", type="status")


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


def _html_head(documents: int, totals: tuple[int, int], report: IndexReport, now: str) -> str:
    page = next(pages.page_stream("Corpus register", [], script=True))
    jump = "".join(
        f'<a href="#{k}">{v} ({report.entities.get(k, 0)})</a>' for k, v in TYPE_LABEL.items()
    )
    types = "".join(
        f'<label><input type="checkbox" name="type" value="{k}" checked> {v}</label>'
        for k, v in TYPE_LABEL.items()
    )
    candidates = report.candidates
    statuses = (
        '<label><input type="checkbox" name="status" value="reviewed" checked> reviewed '
        f"({totals[0] - candidates})</label>"
        '<label><input type="checkbox" name="status" value="candidate" checked> unreviewed '
        f"({candidates})</label>"
    )
    return (
        page
        + pages.nav("index.html")
        + "\n<header><h1>Register of persons, places and organizations</h1>\n"
        + f"<p>{documents} document(s), {totals[0]} entities, {totals[1]} mentions; generated "
        + f"{html.escape(now)} by toolkit {__version__}.</p>\n"
        + f'<nav aria-label="Types">{jump}</nav></header>\n'
        + '<div class="search" role="search"><form id="filter">'
        + '<label for="q">Search names</label> <input type="search" id="q" name="q" '
        + 'autocomplete="off" placeholder="e.g. Chiang, GMD, Beiping">'
        + f"<fieldset><legend>Types</legend>{types}</fieldset>"
        + f"<fieldset><legend>Status</legend>{statuses}</fieldset>"
        + f'<output id="count" class="count" aria-live="polite" for="q">{totals[0]} of '
        + f"{totals[0]} entries shown</output></form></div>\n<main>\n"
    )


def _html_entry_head(
    e: dict, total: int, documents: int, shown: list[dict], cooccurring: list
) -> str:
    names = " ".join(dict.fromkeys([e["main_name"], *(v["name"] for v in e["variants"])]))
    status = "reviewed" if e["reviewed"] else "candidate"
    flag = "" if e["reviewed"] else ' <span class="candidate">unreviewed candidate</span>'
    out = [
        f'<div class="entry" id="e-{anchor(e["id"])}" data-type="{e["type"]}" '
        f'data-status="{status}" data-names="{html.escape(names)}">'
        f"<h3>{html.escape(e['main_name'])}{flag}</h3>"
    ]
    variants = ", ".join(f"{html.escape(v['name'])} ({v['count']})" for v in e["variants"])
    out.append(f'<p class="variants">Forms: {variants}</p>')
    if e["idnos"]:
        ids = ", ".join(f"{html.escape(i['type'])} {html.escape(i['value'])}" for i in e["idnos"])
        out.append(f'<p class="variants">Identifiers: {ids}</p>')
    if "coordinates" in e:
        c = e["coordinates"]
        out.append(
            f'<p class="variants">Coordinates: {c["latitude"]:.3f}, {c["longitude"]:.3f} '
            '(<a href="map.html">map</a>)</p>'
        )
    counts = ", ".join(
        f'<a href="{pages.href("docs/" + d["document"] + ".html")}">'
        f"{html.escape(d['document'])}</a> ({d['mentions']})"
        for d in shown
    )
    more = f" and {documents - len(shown)} more" if documents > len(shown) else ""
    out.append(f'<p class="docs">{total} mention(s) in {documents} document(s): {counts}{more}</p>')
    if cooccurring:
        links = ", ".join(
            f'<a href="#e-{anchor(ident)}">{html.escape(name)}</a> ({n})'
            for ident, _, name, n in cooccurring
        )
        out.append(f'<p class="cooc">Named in the same paragraph: {links}</p>')
    out.append('<table class="kwic">\n')
    return "\n".join(out)


def _html_row(m: dict) -> str:
    link = pages.href(f"docs/{m['document']}.html", m["element_id"] or None)
    return (
        f'<tr><td class="l">{html.escape(m["left"])}</td>'
        f'<td class="k"><a href="{link}">{html.escape(m["surface"])}</a></td>'
        f'<td class="r">{html.escape(m["right"])}</td></tr>\n'
    )


def _write_reading_view(outdir: Path, doc: Document, path: Path, doc_id: str) -> None:
    """``docs/<id>.html``: the text with its names highlighted and linked to the register."""
    parts = [
        '<nav aria-label="Pages"><a href="../index.html">← Register</a>'
        '<a href="../timeline.html">Timeline</a></nav>',
        f"<h1>{html.escape(doc.header.title)}</h1>",
        f'<p class="variants">Source: {html.escape(doc.header.source.name)} '
        f"(SHA-256 {html.escape(doc.header.source.sha256)}); TEI: {html.escape(path.name)}</p>",
        "<main>",
    ]
    for block, spans in zip(doc.blocks, doc.spans_by_block(), strict=True):
        el = etree.Element(T + "p")
        write_block(el, block.text, spans)
        tag = {"head": "h2", "closer": "p"}.get(block.kind, "p")
        parts.append(f"<{tag}>{_inline_html(el)}</{tag}>")
    parts.append("</main>")
    (outdir / "docs").mkdir(parents=True, exist_ok=True)
    atomic_write(
        outdir / "docs" / f"{doc_id}.html",
        pages.page(doc.header.title, "\n".join(parts), root="../").encode(),
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
                f'href="../index.html#e-{html.escape(anchor(target))}">{inner}</a>'
            )
        elif local == "pb":
            out.append('<span class="pb" title="page break">|</span>')
        else:
            out.append(f'<span class="{local}">{inner}</span>')
        out.append(html.escape(child.tail or ""))
    return "".join(out)
