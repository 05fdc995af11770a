"""``index/index.sqlite``: the corpus index as an SQLite database, ready for Datasette.

The database is the index's working store too: ``toolkit index`` streams documents and mentions
into it one document at a time (never all mentions in memory), then writes every other output
from ordered queries over it. Standard library ``sqlite3`` only; FTS5 is part of every SQLite
that Python ships.

Tables (foreign keys declared, indexes on every join column):

``documents``   one row per TEI file: id (the reading view's name), title, date, year, language,
                source file and SHA-256, archival reference (repository, shelfmark, citation),
                URL, the TEI path and the reading view, the body text
``entities``    one row per entity: type, main name, status (``reviewed`` / ``candidate``),
                identifiers (JSON), Wikidata id, coordinates of places and their source,
                mention and document counts
``variants``    every form an entity takes in the corpus, with its count
``mentions``    every tagged name: entity, document, element id (``xml:id``), paragraph number,
                surface form, context left and right, and the whole context line
``cooccurrences`` pairs of entities named in one paragraph, with the number of paragraphs
``documents_fts``, ``mentions_fts``  FTS5 full-text tables over document titles and text and
                over mention contexts (external content tables, so Datasette offers search on
                ``documents`` and ``mentions``)
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

SCHEMA = """
CREATE TABLE documents (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    date TEXT,
    year INTEGER,
    language TEXT,
    source_file TEXT,
    source_sha256 TEXT,
    repository TEXT,
    shelfmark TEXT,
    citation TEXT,
    url TEXT,
    publisher TEXT,
    tei_file TEXT NOT NULL,
    reading_view TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE TABLE entities (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL CHECK (type IN ('person', 'place', 'org')),
    main_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reviewed', 'candidate')),
    identifiers TEXT NOT NULL DEFAULT '[]',
    wikidata TEXT,
    latitude REAL,
    longitude REAL,
    coordinates_source TEXT,
    mentions INTEGER NOT NULL DEFAULT 0,
    documents INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE variants (
    entity TEXT NOT NULL REFERENCES entities (id),
    name TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (entity, name)
);
CREATE TABLE mentions (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL REFERENCES entities (id),
    document TEXT NOT NULL REFERENCES documents (id),
    element_id TEXT,
    paragraph INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    surface TEXT NOT NULL,
    context_left TEXT NOT NULL,
    context_right TEXT NOT NULL,
    context TEXT NOT NULL
);
CREATE TABLE cooccurrences (
    entity TEXT NOT NULL REFERENCES entities (id),
    other TEXT NOT NULL REFERENCES entities (id),
    paragraphs INTEGER NOT NULL,
    PRIMARY KEY (entity, other)
);
CREATE TABLE authority_places (
    id TEXT PRIMARY KEY,
    names TEXT NOT NULL,
    latitude REAL,
    longitude REAL
);
CREATE VIRTUAL TABLE documents_fts USING fts5 (title, text, content="documents");
CREATE VIRTUAL TABLE mentions_fts USING fts5 (surface, context, content="mentions");
"""

# Built after the documents pass (loading into unindexed tables is faster).
INDEXES = """
CREATE INDEX mentions_entity ON mentions (entity, document, seq);
CREATE INDEX mentions_document ON mentions (document, paragraph, entity);
CREATE INDEX entities_type ON entities (type, main_name);
CREATE INDEX documents_year ON documents (year);
CREATE INDEX cooccurrences_other ON cooccurrences (other);
"""

TYPE_ORDER = "CASE type WHEN 'person' THEN 0 WHEN 'place' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class EntityRow:
    id: str
    type: str
    main: str
    reviewed: bool
    idnos: tuple[tuple[str, str], ...] = ()


MENTION_COLUMNS = (
    "entity, document, element_id, paragraph, seq, surface, context_left, context_right, context"
)


class Store:
    """The index database, written to a temporary file beside ``path`` and copied into place
    on :meth:`commit` (``VACUUM INTO``: a compact file whose bytes depend only on its rows, so
    the index of a distributed build equals that of a single process). ``part=True`` writes
    ``path`` itself: one partition of a distributed index, merged later by :meth:`merge_part`.
    """

    def __init__(self, path: Path, *, part: bool = False) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path if part else path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self.tmp.unlink(missing_ok=True)
        self.db = sqlite3.connect(self.tmp)
        # A temporary file until it is renamed: no journal, no fsync.
        self.db.executescript("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        self.db.executescript(SCHEMA)

    def add_document(self, row: dict[str, Any]) -> None:
        keys = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self.db.execute(f"INSERT INTO documents ({keys}) VALUES ({marks})", tuple(row.values()))

    def add_entity(self, e: EntityRow) -> None:
        wikidata = next((v for t, v in e.idnos if t.lower() == "wikidata"), None)
        self.db.execute(
            "INSERT OR IGNORE INTO entities (id, type, main_name, status, identifiers, wikidata) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                e.id,
                e.type,
                e.main,
                "reviewed" if e.reviewed else "candidate",
                json.dumps([{"type": t, "value": v} for t, v in e.idnos], ensure_ascii=False),
                wikidata,
            ),
        )

    def add_mentions(self, rows: Iterable[tuple]) -> None:
        """Rows of (entity, document, element_id, paragraph, seq, surface, left, right)."""
        self.db.executemany(
            "INSERT INTO mentions (entity, document, element_id, paragraph, seq, surface, "
            "context_left, context_right, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((*r, " ".join((r[6] + r[5] + r[7]).split())) for r in rows),
        )

    def add_authority_places(self, rows: Iterable[tuple]) -> None:
        """(id, names JSON, latitude, longitude) of the authority file's places."""
        self.db.executemany("INSERT OR IGNORE INTO authority_places VALUES (?, ?, ?, ?)", rows)

    def merge_part(self, part: Path) -> None:
        """Append the rows of a partition written by ``Store(part, part=True)``."""
        db = self.db
        db.execute("ATTACH DATABASE ? AS part", (str(part),))
        db.execute("INSERT INTO documents SELECT * FROM part.documents ORDER BY position")
        db.execute("INSERT OR IGNORE INTO entities SELECT * FROM part.entities ORDER BY rowid")
        db.execute(
            f"INSERT INTO mentions ({MENTION_COLUMNS}) SELECT {MENTION_COLUMNS} "
            "FROM part.mentions ORDER BY id"
        )
        db.execute("INSERT OR IGNORE INTO authority_places SELECT * FROM part.authority_places")
        db.commit()
        db.execute("DETACH DATABASE part")

    def unique_stems(self) -> Iterator[tuple[str, str]]:
        """(provisional id, file stem) of the documents whose TEI file's stem no other
        document's shares, in corpus order (counted by SQLite: nothing held per document)."""
        db = self.db
        db.create_function("stem", 1, lambda rel: PurePosixPath(rel).stem, deterministic=True)
        yield from db.execute(
            "SELECT id, stem(tei_file) FROM documents WHERE stem(tei_file) IN "
            "(SELECT stem(tei_file) FROM documents GROUP BY 1 HAVING count(*) = 1) "
            "ORDER BY position"
        )

    def rename_documents(self, renames: Iterable[tuple[str, str]]) -> None:
        """Give documents their final ids: (provisional id, final id) pairs."""
        db = self.db
        db.execute("CREATE TEMP TABLE idmap (old TEXT PRIMARY KEY, new TEXT NOT NULL)")
        db.executemany("INSERT INTO idmap VALUES (?, ?)", renames)
        db.execute(
            "UPDATE documents SET id = (SELECT new FROM idmap WHERE old = documents.id), "
            "reading_view = 'docs/' || (SELECT new FROM idmap WHERE old = documents.id) "
            "|| '.html' WHERE id IN (SELECT old FROM idmap)"
        )
        db.execute(
            "UPDATE mentions SET document = (SELECT new FROM idmap WHERE old = mentions.document) "
            "WHERE document IN (SELECT old FROM idmap)"
        )
        db.execute("DROP TABLE temp.idmap")

    def finish_load(self) -> None:
        """Indexes, variants, counts, co-occurrences and the full-text tables."""
        db = self.db
        db.executescript(INDEXES)
        db.executescript(
            """
            INSERT INTO variants (entity, name, mentions)
                SELECT entity, surface, count(*) FROM mentions GROUP BY entity, surface;
            UPDATE entities SET
                mentions = (SELECT count(*) FROM mentions m WHERE m.entity = entities.id),
                documents = (SELECT count(DISTINCT document) FROM mentions m
                             WHERE m.entity = entities.id);
            CREATE TEMP TABLE paragraph_entity AS
                SELECT DISTINCT document, paragraph, entity FROM mentions;
            CREATE INDEX temp.paragraph_entity_key ON paragraph_entity (document, paragraph);
            INSERT INTO cooccurrences (entity, other, paragraphs)
                SELECT a.entity, b.entity, count(*) FROM paragraph_entity a
                JOIN paragraph_entity b ON b.document = a.document
                    AND b.paragraph = a.paragraph AND b.entity <> a.entity
                GROUP BY a.entity, b.entity;
            DROP TABLE temp.paragraph_entity;
            INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
            INSERT INTO mentions_fts (mentions_fts) VALUES ('rebuild');
            """
        )

    def set_coordinates(self, coords: dict[str, tuple[float, float, str]]) -> None:
        self.db.executemany(
            "UPDATE entities SET latitude = ?, longitude = ?, coordinates_source = ? WHERE id = ?",
            ((lat, lon, src, ident) for ident, (lat, lon, src) in coords.items()),
        )

    def places(self) -> list[tuple[str, str, str | None, float | None, float | None]]:
        """(id, main name, authority names as JSON, authority lat, long) of every place."""
        return self.db.execute(
            "SELECT e.id, e.main_name, a.names, a.latitude, a.longitude FROM entities e "
            "LEFT JOIN authority_places a ON a.id = e.id WHERE e.type = 'place' ORDER BY e.id"
        ).fetchall()

    def entities(self) -> Iterator[tuple[dict, int, int]]:
        """(summary, mentions, documents) of every entity, by type and name: the summary has
        its variants; the documents naming it are streamed by :meth:`documents_of` (an entity
        can be named in most of a corpus's documents)."""
        rows = self.db.execute(
            "SELECT id, type, main_name, status, identifiers, latitude, longitude, mentions, "
            f"documents FROM entities ORDER BY {TYPE_ORDER}, lower(main_name), id"
        ).fetchall()  # entities are few next to mentions
        for ident, kind, main, status, idnos, lat, lon, mentions, documents in rows:
            variants = self.db.execute(
                "SELECT name, mentions FROM variants WHERE entity = ? ORDER BY name", (ident,)
            ).fetchall()
            entry = {
                "id": ident,
                "type": kind,
                "main_name": main,
                "reviewed": status == "reviewed",
                "idnos": json.loads(idnos),
                "variants": [{"name": k, "count": v} for k, v in variants],
            }
            if lat is not None:
                entry["coordinates"] = {"latitude": lat, "longitude": lon}
            yield entry, mentions, documents

    def documents_of(self, ident: str) -> Iterator[tuple[str, int]]:
        """(document, mentions) of the documents naming one entity, in corpus order."""
        yield from self.db.execute(
            "SELECT m.document, count(*) FROM mentions m JOIN documents d "
            "ON d.id = m.document WHERE m.entity = ? GROUP BY m.document ORDER BY d.position",
            (ident,),
        )

    def cooccurring(self, ident: str, limit: int = 8) -> list[tuple[str, str, str, int]]:
        """(id, type, main name, paragraphs) of the entities most often in one paragraph."""
        return self.db.execute(
            "SELECT c.other, e.type, e.main_name, c.paragraphs FROM cooccurrences c "
            "JOIN entities e ON e.id = c.other WHERE c.entity = ? "
            "ORDER BY c.paragraphs DESC, lower(e.main_name), e.id LIMIT ?",
            (ident, limit),
        ).fetchall()

    def mentions(self, ident: str, limit: int | None = None) -> Iterator[dict]:
        """The mentions of one entity, streamed in document order."""
        cursor = self.db.execute(
            "SELECT m.document, d.tei_file, m.element_id, m.surface, m.context_left, "
            "m.context_right FROM mentions m JOIN documents d ON d.id = m.document "
            "WHERE m.entity = ? ORDER BY d.position, m.seq LIMIT ?",
            (ident, -1 if limit is None else limit),
        )
        keys = ("document", "path", "element_id", "surface", "left", "right")
        for row in cursor:
            yield dict(zip(keys, row, strict=True))

    def close(self) -> None:
        """Finish a partition file."""
        self.db.commit()
        self.db.close()

    def commit(self) -> None:
        """Finish the database and move a compact copy over ``path`` (atomically)."""
        self.db.execute("DROP TABLE authority_places")
        self.db.commit()
        self.db.execute("ANALYZE")
        self.db.commit()
        final = self.path.with_name(f".{self.path.name}.{os.getpid()}.final")
        final.unlink(missing_ok=True)
        try:
            self.db.execute("VACUUM INTO ?", (str(final),))
            self.db.close()
            os.chmod(final, 0o644)
            os.replace(final, self.path)
        finally:
            final.unlink(missing_ok=True)
            self.tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        self.db.close()
        self.tmp.unlink(missing_ok=True)


COOCCURRING_SQL = """
SELECT e.id, e.type, e.main_name, c.paragraphs
FROM cooccurrences c JOIN entities e ON e.id = c.other
WHERE c.entity = :entity
ORDER BY c.paragraphs DESC, e.main_name
""".strip()

DOCUMENTS_OF_SQL = """
SELECT d.id, d.title, d.date, count(*) AS mentions
FROM mentions m JOIN documents d ON d.id = m.document
WHERE m.entity = :entity
GROUP BY d.id ORDER BY d.date, d.position
""".strip()


def datasette_metadata(
    *, title: str, now: str, version: str, settings: dict[str, str] | None = None
) -> dict:
    """``metadata.json`` for Datasette: descriptions, licence, source, facets, canned queries.

    ``settings`` (the corpus's ``[publish]`` table in ``toolkit.toml``) may give ``title``,
    ``description``, ``license``, ``license_url``, ``source`` and ``source_url``.
    """
    s = settings or {}
    meta: dict[str, Any] = {
        "title": s.get("title", title),
        "description": s.get(
            "description",
            "Persons, places and organizations named in the corpus, every mention in context, "
            f"and the documents' text. Generated {now} by the TEI provenance toolkit {version}.",
        ),
        "source": s.get("source", "TEI files of the corpus (tagged by the toolkit)"),
    }
    for key in ("license", "license_url", "source_url"):
        if key in s:
            meta[key] = s[key]
    meta["databases"] = {
        "index": {
            "description": "The corpus entity index (see the toolkit's README).",
            "tables": {
                "documents": {
                    "description": "One row per TEI document; full-text search on title and text.",
                    "label_column": "title",
                    "facets": ["year", "language", "repository"],
                    "sortable_columns": ["date", "title", "position"],
                },
                "entities": {
                    "description": "One row per person, place or organization.",
                    "label_column": "main_name",
                    "facets": ["type", "status"],
                    "sort_desc": "mentions",
                },
                "mentions": {
                    "description": "Every tagged name, with its context; full-text search on "
                    "surface form and context.",
                    "facets": ["document", "entity"],
                },
                "variants": {"description": "Every form of each entity, with its count."},
                "cooccurrences": {
                    "description": "Entities named in the same paragraph, and how often.",
                    "facets": ["entity"],
                },
            },
            "queries": {
                "cooccurring_entities": {
                    "title": "Co-occurring entities of an entity",
                    "description": "Entities named in the same paragraph as :entity (an "
                    "entity id, e.g. mao-zedong), most frequent first.",
                    "sql": COOCCURRING_SQL,
                },
                "documents_of_entity": {
                    "title": "Documents naming an entity",
                    "description": "Documents that mention :entity, by date, with counts.",
                    "sql": DOCUMENTS_OF_SQL,
                },
            },
        }
    }
    return meta
