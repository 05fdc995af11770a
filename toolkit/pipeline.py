"""``toolkit build``: convert -> tag -> validate -> index over a corpus folder.

Layout: ``CORPUS/sources/*.txt`` in; ``CORPUS/tei/*.xml`` and ``CORPUS/index/`` out;
``CORPUS/authority.xml`` the authority file. Incremental: a source whose SHA-256 equals the one
recorded in its existing TEI file is not converted again, so hand corrections made in
``tei/`` survive a rebuild; tagging rewrites only files whose tags change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .authority import parse_authority
from .errors import ToolkitError
from .files import atomic_write
from .tei import NS, parse_bytes
from .validate import Problem, validate_files

SOURCE_PATTERNS = ("*.txt",)


@dataclass
class BuildReport:
    converted: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    tagged: int = 0
    errors: list[ToolkitError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    documents: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    candidates: int = 0
    mentions: int = 0

    @property
    def failed(self) -> bool:
        return bool(self.errors) or any(p.severity == "error" for p in self.problems)


def recorded_sha256(tei_path: Path) -> str | None:
    """The source SHA-256 recorded in a TEI file, or None."""
    try:
        root = parse_bytes(tei_path.read_bytes(), str(tei_path)).getroot()
    except (OSError, ToolkitError):
        return None
    return root.findtext(".//tei:sourceDesc/tei:bibl/tei:idno[@type='SHA-256']", namespaces=NS)


def sources_of(corpus: Path) -> list[Path]:
    found: set[Path] = set()
    for pattern in SOURCE_PATTERNS:
        found.update(p for p in (corpus / "sources").glob(pattern) if p.is_file())
    return sorted(found)


def build(
    corpus: Path,
    *,
    now: str,
    model: str | None = None,
    jobs: int = 1,
    progress: Callable[[Iterable, int, str], Iterator] | None = None,
) -> BuildReport:
    """Run the whole pipeline; ``progress(items, length, label)`` may wrap long loops."""
    from .decisions import configured_editor
    from .entities import load_pipeline
    from .index import build_index
    from .revision import is_side_file, write_revised
    from .sources import convert, read_source
    from .tagging import file_sha256, tag_files

    wrap = progress or (lambda items, length, label: iter(items))
    report = BuildReport()
    tei_dir, index_dir = corpus / "tei", corpus / "index"
    sources = sources_of(corpus)
    for source in wrap(sources, len(sources), "convert"):
        target = tei_dir / f"{source.stem}.xml"
        try:
            data = read_source(source)
            if target.exists() and recorded_sha256(target) == hashlib.sha256(data).hexdigest():
                report.unchanged.append(source)
                continue
            doc = convert(data, source.name, now=now)
            # editor helper (issue 10): a revised source keeps the old TEI's annotations
            conflicts = write_revised(target, doc, now=now)
            report.warnings += [str(c) for c in conflicts]
            report.converted.append(source)
        except ToolkitError as exc:
            exc.path = str(source)
            report.errors.append(exc)
    authority_path = corpus / "authority.xml"
    try:
        authority_data = authority_path.read_bytes()
        authority = parse_authority(authority_data, str(authority_path))
        nlp, info = load_pipeline(model, authority)
    except OSError as exc:
        report.errors.append(
            ToolkitError("E305", f"cannot read ({exc.strerror})", str(authority_path))
        )
        return report
    except ToolkitError as exc:
        report.errors.append(exc)
        return report
    tei_files = sorted(p for p in tei_dir.glob("*.xml") if not is_side_file(p))
    results = tag_files(
        tei_files,
        nlp,
        info,
        authority,
        now=now,
        authority_sha256=file_sha256(authority_data),
        n_process=jobs,
        editor=configured_editor([corpus]),  # editor helper: who made hand edits
    )
    for result in wrap(results, len(tei_files), "tag"):
        if result.error is not None:
            report.errors.append(result.error)
            continue
        report.warnings += result.warnings
        if result.data is not None:
            atomic_write(result.path, result.data)
            report.tagged += 1
    for _, problems in validate_files([*tei_files, authority_path]):
        report.problems += problems
    index = build_index(tei_files, authority, index_dir, now=now)
    report.errors += index.errors
    report.documents = index.documents
    report.entities = index.entities
    report.candidates = index.candidates
    report.mentions = index.mentions
    for _, problems in validate_files([index_dir / "index.xml"]):
        report.problems += problems
    return report
