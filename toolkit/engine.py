"""The batch engine: one function per stage over one document; commands only schedule them.

Stages (each reads and writes one document and never looks at another):

- :func:`convert_document` -- source file -> TEI file (``sources.convert`` is its body);
- :func:`tag_documents` -- TEI files -> tagged TEI files, one result per document, streamed
  through one ``nlp.pipe`` (``tagging.tag_files`` is its body);
- :func:`validate_document` -- TEI file -> problems (``validate.validate_bytes``).

``toolkit convert`` and ``toolkit tag`` run them in a loop; ``toolkit build`` runs them over
partitions of the corpus, in this process or as Dask tasks (``pipeline.py``, ``distributed.py``).
What needs the whole corpus is a separate *corpus step* that reads the per-document results:
output names (:func:`plan_outputs`), orphans (:func:`find_orphans`) and the index.

Results cross process boundaries (Dask), so they are frozen dataclasses of plain values; an
error travels as a :class:`Failure` and becomes a ``ToolkitError`` again where it is reported.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ToolkitError
from .files import atomic_write

if TYPE_CHECKING:
    from .authority import Authority, Entry
    from .entities import ModelInfo
    from .profiles import Furniture, Profile
    from .validate import Problem

SOURCE_PATTERNS = ("*.txt",)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """A ``ToolkitError`` as plain data (exceptions with extra fields do not pickle well)."""

    code: str
    message: str
    path: str | None = None
    line: int | None = None

    @classmethod
    def of(cls, exc: ToolkitError) -> Failure:
        return cls(exc.code, exc.message, exc.path, exc.line)

    def error(self) -> ToolkitError:
        return ToolkitError(self.code, self.message, self.path, self.line)

    def __str__(self) -> str:
        return str(self.error())


@dataclass(frozen=True)
class Converted:
    """What converting one source did: ``converted``, ``unchanged`` or ``failed``."""

    source: Path
    target: Path | None
    status: str
    error: Failure | None = None
    warnings: tuple[str, ...] = ()
    format: str = ""
    blocks: int = 0


@dataclass(frozen=True)
class Tagged:
    """What tagging one file did: ``tagged``, ``unchanged`` or ``failed``; ``sha256`` of the
    file as it now is on disk."""

    path: Path
    target: Path
    status: str
    counts: dict[str, int] = field(default_factory=dict)
    candidates: tuple[Entry, ...] = ()
    warnings: tuple[str, ...] = ()
    error: Failure | None = None
    sha256: str | None = None


# --- convert ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvertSettings:
    """How a source becomes TEI.

    ``incremental`` (``build``): a TEI file whose recorded source SHA-256 equals the source's is
    kept as it is (hand edits survive); a changed source is converted again. Otherwise
    (``convert``): an existing TEI file that differs from the new conversion is refused unless
    ``force``.
    """

    now: str
    format: str = "auto"
    encoding: str | None = None
    force: bool = False
    incremental: bool = False
    profile: Profile | None = None  # --profile FILE: forced for every source
    profiles: Mapping[str, Profile] | None = None  # packaged + corpus profiles (corpus wins)
    furniture: Furniture | None = None  # corpus-level furniture lines (profiles.corpus_furniture)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recorded_sha256(tei_path: Path) -> str | None:
    """The source SHA-256 recorded in a TEI file, or None."""
    from .tei import NS, parse_bytes

    try:
        root = parse_bytes(tei_path.read_bytes(), str(tei_path)).getroot()
    except (OSError, ToolkitError):
        return None
    return root.findtext(".//tei:sourceDesc/tei:bibl/tei:idno[@type='SHA-256']", namespaces=NS)


def convert_document(source: Path, target: Path, settings: ConvertSettings) -> Converted:
    """Convert one source into ``target``; a bad source is a ``failed`` result, not a raise."""
    from .sources import convert, read_source
    from .tei import serialize, to_tei

    warnings: list[str] = []
    try:
        data = read_source(source)
        if settings.incremental and target.exists() and recorded_sha256(target) == sha256_of(data):
            return Converted(source, target, "unchanged")
        doc = convert(
            data,
            source.name,
            format=settings.format,
            encoding=settings.encoding,
            now=settings.now,
            warnings=warnings,
            profile=settings.profile,
            profiles=settings.profiles,
            furniture=settings.furniture,
        )
        new = serialize(to_tei(doc))
        old = _read_existing(target)
        shape, blocks = doc.header.source.format, len(doc.blocks)
        if old == new:
            return Converted(source, target, "unchanged", None, tuple(warnings), shape, blocks)
        if old is not None and not settings.incremental and not settings.force:
            raise ToolkitError(
                "E352",
                f"{target} exists and differs from this conversion; pass --force to overwrite "
                "it, or write to another folder with -o",
            )
        if old is not None and settings.incremental:
            # editor helper (issue 10): a revised source keeps the old TEI's annotations
            from .revision import revise

            new, conflicts = revise(target, old, doc, now=settings.now)
            warnings += [str(c) for c in conflicts]
        _write(target, new)
    except ToolkitError as exc:
        exc.path = str(source)  # the library knows the name only; report the path given
        return Converted(source, target, "failed", Failure.of(exc), tuple(warnings))
    return Converted(source, target, "converted", None, tuple(warnings), shape, blocks)


def _read_existing(target: Path) -> bytes | None:
    try:
        return target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ToolkitError("E353", f"cannot read {target} ({exc.strerror})") from None


def _write(target: Path, data: bytes) -> None:
    try:
        atomic_write(target, data)
    except OSError as exc:
        raise ToolkitError(
            "E353", f"cannot write {target} ({exc.strerror}); check the output folder"
        ) from None


def plan_outputs(
    sources: Iterable[Path], outdir: Path, name: Callable[[Path], str] | None = None
) -> Iterator[tuple[Path, Path | None, Failure | None]]:
    """``(source, target, failure)`` for each source: ``outdir/<stem>.xml`` (or
    ``outdir/name(source)``), unique.

    The same file given twice is converted once. Two different sources that would write one
    output name (``d1/report.txt``, ``d2/report.txt``, ``d1/report.md``; compared without case,
    as case-insensitive file systems do) are both refused with E351 naming each other: the
    toolkit does not invent names, and renaming one source settles it.
    """
    output = name or (lambda source: f"{source.stem}.xml")
    seen: set[Path] = set()
    by_name: dict[str, list[Path]] = {}
    ordered: list[Path] = []
    for source in sources:
        key = Path(os.path.abspath(source))
        if key in seen:
            continue
        seen.add(key)
        ordered.append(source)
        by_name.setdefault(output(source).casefold(), []).append(source)
    for source in ordered:
        clash = by_name[output(source).casefold()]
        target = outdir / output(source)
        if len(clash) > 1:
            others = ", ".join(str(p) for p in clash if p is not source)
            yield (
                source,
                None,
                Failure(
                    "E351",
                    f"{others} would also be written to {target}; rename one of them, or "
                    "write them into different -o folders",
                    str(source),
                ),
            )
        else:
            yield source, target, None


# --- tag --------------------------------------------------------------------------------------


@dataclass
class Tagger:
    """A loaded spaCy pipeline with its authority file: made once per process (or worker)."""

    nlp: Any
    info: ModelInfo
    authority: Authority
    authority_path: Path
    authority_sha256: str


def load_tagger(authority_path: Path, model: str | None) -> Tagger:
    """Read the authority file and load the pipeline; raises ``ToolkitError``."""
    from .authority import parse_authority
    from .entities import load_pipeline

    try:
        data = authority_path.read_bytes()
    except OSError as exc:
        raise ToolkitError(
            "E305",
            f"cannot read the authority file ({exc.strerror}); pass --authority FILE",
            str(authority_path),
        ) from None
    authority = parse_authority(data, str(authority_path))
    nlp, info = load_pipeline(model, authority)
    return Tagger(nlp, info, authority, authority_path, sha256_of(data))


class TaggerCache:
    """The tagger of this process, loaded on first use and kept: a build whose documents need
    no tagging never loads spaCy, and a Dask worker loads it once for all its tasks."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, str | None, str], Tagger] = {}

    def get(self, authority_path: Path, model: str | None, authority_sha256: str) -> Tagger:
        key = (str(authority_path), model, authority_sha256)
        if key not in self._loaded:
            self._loaded.clear()
            self._loaded[key] = load_tagger(authority_path, model)
        return self._loaded[key]

    @property
    def loaded(self) -> bool:
        return bool(self._loaded)


def tag_documents(
    paths: Iterable[Path],
    tagger: Tagger,
    *,
    now: str,
    outdir: Path | None = None,
    jobs: int = 1,
    editor: str | None = None,
    reset: bool = False,
) -> Iterator[Tagged]:
    """Tag files in order, one result per file, writing each as soon as it is done.

    Without ``outdir`` a file is rewritten in place, and only when its tags change; with it,
    ``outdir/<name>`` is written in any case. ``editor`` and ``reset``: see ``toolkit.decisions``.
    A file that is not a document (an entity register, a conflicts file) is ``skipped``, its
    reason in ``warnings``.
    """
    from .tagging import tag_files

    for result in tag_files(
        paths,
        tagger.nlp,
        tagger.info,
        tagger.authority,
        now=now,
        authority_sha256=tagger.authority_sha256,
        n_process=jobs,
        editor=editor,
        reset=reset,
    ):
        target = outdir / result.path.name if outdir else result.path
        if result.error is not None:
            yield Tagged(result.path, target, "failed", error=Failure.of(result.error))
            continue
        if result.skipped:  # editor helper: registers and conflicts files are not documents
            yield Tagged(result.path, target, "skipped", warnings=(result.skipped,))
            continue
        try:
            data = result.data
            if data is not None:
                _write(target, data)
            else:
                data = _read_existing(result.path) or b""
                if outdir:
                    _write(target, data)
        except ToolkitError as exc:
            exc.path = str(result.path)
            yield Tagged(result.path, target, "failed", error=Failure.of(exc))
            continue
        yield Tagged(
            result.path,
            target,
            "tagged" if result.data is not None else "unchanged",
            dict(result.counts),
            tuple(result.candidates),
            tuple(result.warnings),
            None,
            sha256_of(data),
        )


# --- validate ---------------------------------------------------------------------------------


def validate_document(path: Path, data: bytes | None = None) -> tuple[Problem, ...]:
    """The problems of one TEI file (read from disk unless ``data`` is given)."""
    from .validate import Problem, validate_bytes

    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            return (Problem(str(path), 1, 1, "error", "E205", f"cannot read ({exc.strerror})"),)
    return tuple(validate_bytes(data, str(path)))


# --- corpus steps -----------------------------------------------------------------------------


class SortedNames:
    """File names of folders, sorted without holding them in Python memory.

    Names go into a temporary on-disk SQLite table (``BINARY`` order is code point order, the
    order of ``sorted()``); 100,000 names cost the process nothing.
    """

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE name (kind TEXT, name TEXT, PRIMARY KEY (kind, name))")

    def add_folder(
        self,
        kind: str,
        folder: Path,
        patterns: Sequence[str],
        accept: Callable[[Path], bool] | None = None,
    ) -> int:
        """Add the regular files of ``folder`` matching ``patterns`` (and ``accept``)."""
        if not folder.is_dir():
            return 0

        def names() -> Iterator[tuple[str, str]]:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if (
                        any(fnmatch(entry.name, p) for p in patterns)
                        and entry.is_file()
                        and (accept is None or accept(Path(entry.path)))
                    ):
                        yield kind, entry.name

        self.db.executemany("INSERT OR IGNORE INTO name VALUES (?, ?)", names())
        return self.count(kind)

    def add_tree(self, kind: str, folder: Path, suffix: str) -> int:
        """Add the regular files below ``folder`` (any depth) whose names end in ``suffix``,
        as their relative paths with the parts joined by NUL, which sorts exactly as the
        paths' parts do (read them back with :meth:`paths`)."""
        if not folder.is_dir():
            return 0

        def names() -> Iterator[tuple[str, str]]:
            for root, _, found in os.walk(folder):
                for name in found:
                    path = Path(root, name)
                    if name.endswith(suffix) and path.is_file():
                        yield kind, "\0".join(path.relative_to(folder).parts)

        self.db.executemany("INSERT OR IGNORE INTO name VALUES (?, ?)", names())
        return self.count(kind)

    def paths(self, kind: str, folder: Path) -> Iterator[Path]:
        """The names added by :meth:`add_tree`, sorted, as paths below ``folder``."""
        for name in self.names(kind):
            yield folder.joinpath(*name.split("\0"))

    def count(self, kind: str) -> int:
        return self.db.execute("SELECT count(*) FROM name WHERE kind = ?", (kind,)).fetchone()[0]

    def names(self, kind: str) -> Iterator[str]:
        cursor = self.db.execute("SELECT name FROM name WHERE kind = ? ORDER BY name", (kind,))
        for (name,) in cursor:
            yield name

    def missing(self, kind: str, other: str, suffix: str) -> Iterator[str]:
        """Names of ``kind`` whose stem + ``suffix`` is no name of ``other``, sorted."""
        self.db.execute("DROP TABLE IF EXISTS expected")
        self.db.execute("CREATE TEMP TABLE expected (name TEXT PRIMARY KEY)")
        self.db.executemany(
            "INSERT OR IGNORE INTO expected VALUES (?)",
            ((Path(n).stem + suffix,) for n in self.names(other)),
        )
        cursor = self.db.execute(
            "SELECT name FROM name WHERE kind = ? AND name NOT IN (SELECT name FROM expected) "
            "ORDER BY name",
            (kind,),
        )
        yield from (n for (n,) in cursor.fetchall())


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
