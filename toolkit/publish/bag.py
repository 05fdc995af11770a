"""``toolkit package``: the corpus as a BagIt bag (RFC 8493) for an archive, via ``bagit``.

Payload (``data/``): ``sources/``, ``tei/``, ``authority.xml``, ``index/`` (every file the
index wrote, the SQLite database included) and ``prov/prov.json`` + ``prov/prov.ttl`` (made
for the bag by :mod:`toolkit.publish.prov`). Manifests: SHA-256 and SHA-512, for the payload
and the tag files. ``bag-info.txt``: ``Source-Organization`` (``organization`` of the corpus's
``[publish]`` settings or ``--organization``; left out when neither gives one, rather than
invented), ``Bagging-Date`` (the date of ``SOURCE_DATE_EPOCH`` when set, so a rebuilt bag is
identical), ``External-Description``, counts of sources, TEI files and entities, and
``Payload-Oxum``.

Only regular files inside the corpus are packed: a symbolic link, or anything else, is
skipped and reported, never followed. The bag is built in a temporary folder beside the
target and renamed into place, so a failed run leaves no half bag; an existing non-empty
target is refused (``E704``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import ToolkitError
from . import prov as provenance

CHECKSUMS = ("sha256", "sha512")


@dataclass(frozen=True)
class PackageReport:
    path: Path
    files: int
    sources: int
    tei: int
    skipped: tuple[str, ...] = ()


def _bagit():  # type: ignore[no-untyped-def]
    try:
        import bagit
    except ImportError:
        raise ToolkitError(
            "E701",
            "the bagit package is not installed; install the publish extra: "
            "pip install 'tei-provenance-toolkit[publish]'",
        ) from None
    return bagit


def _copy_tree(src: Path, dest: Path, corpus: Path, skipped: list[str]) -> int:
    """Copy the regular files below ``src`` (no symlinks followed); return how many."""
    count = 0
    if not src.exists():
        return 0
    if src.is_symlink() or not src.is_dir():
        if src.is_file() and not src.is_symlink():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            return 1
        skipped.append(str(src))
        return 0
    for root, dirs, files in os.walk(src):
        here = Path(root)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                skipped.append(str(here / name))
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink() and not d.startswith("."))
        for name in sorted(files):
            path = here / name
            if name.startswith(".") and name.endswith(".tmp"):
                continue  # a temporary file of a concurrent atomic write
            if path.is_symlink() or not path.is_file():
                skipped.append(str(path))
                continue
            if not path.resolve().is_relative_to(corpus):
                skipped.append(str(path))
                continue
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            count += 1
    return count


def make_package(
    corpus: Path, outdir: Path, *, now: str, organization: str | None, base_uri: str
) -> PackageReport:
    """Write the corpus as a BagIt bag at ``outdir`` (which must not exist or be empty)."""
    bagit = _bagit()
    corpus = corpus.resolve()
    if not (corpus / "tei").is_dir():
        raise ToolkitError(
            "E705", f"{corpus}/tei is not a folder; give a corpus folder (run `toolkit build`)"
        )
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise ToolkitError(
            "E704",
            f"{outdir} exists and is not an empty folder; choose a new folder for the bag",
            str(outdir),
        )
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = outdir.parent / f".{outdir.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        skipped: list[str] = []
        sources = _copy_tree(corpus / "sources", staging / "sources", corpus, skipped)
        tei = _copy_tree(corpus / "tei", staging / "tei", corpus, skipped)
        _copy_tree(corpus / "authority.xml", staging / "authority.xml", corpus, skipped)
        _copy_tree(corpus / "index", staging / "index", corpus, skipped)
        tei_files = sorted((staging / "tei").rglob("*.xml"))
        doc, _ = provenance.corpus_provenance(
            tei_files, base_uri=base_uri, index=staging / "index" / "index.xml"
        )
        (staging / "prov").mkdir()
        (staging / "prov" / "prov.json").write_bytes(provenance.serialize(doc, "json"))
        (staging / "prov" / "prov.ttl").write_bytes(provenance.serialize(doc, "turtle"))
        info = {
            "Bagging-Date": now[:10],
            "External-Description": "A TEI corpus: source captures (bytes unchanged), TEI P5 "
            "files, the authority file, the entity index and W3C PROV provenance, packed by "
            f"the TEI provenance toolkit {__version__}.",
            "Source-Files": str(sources),
            "TEI-Files": str(tei),
        }
        entities = _entity_count(staging / "index" / "index.sqlite")
        if entities is not None:
            info["Entities"] = str(entities)
        if organization:
            info["Source-Organization"] = organization
        files = sum(1 for p in staging.rglob("*") if p.is_file())
        bagit.make_bag(str(staging), info, checksums=list(CHECKSUMS))
        if outdir.exists():
            outdir.rmdir()
        os.replace(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PackageReport(outdir, files, sources, tei, tuple(skipped))


def _entity_count(db: Path) -> int | None:
    if not db.is_file():
        return None
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM entities").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        con.close()


def validate_package(path: Path) -> list[str]:
    """Problems ``bagit`` finds in the bag at ``path`` (all checksums recomputed); [] if valid."""
    bagit = _bagit()
    try:
        bagit.Bag(str(path)).validate(completeness_only=False)
    except bagit.BagValidationError as exc:
        return [str(d) for d in exc.details] or [str(exc)]
    except bagit.BagError as exc:
        return [str(exc)]
    return []
