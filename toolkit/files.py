"""File-system edges: atomic writes and expanding file/folder arguments."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` when the block ends without an error."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never half of one; a crash leaves no stray file.
    There is no fsync: atomicity is what batch runs over thousands of files need, and syncing
    each file would cost them several percent of their time.
    """
    with atomic_open(path) as fh:
        fh.write(data)


def expand(paths: Iterable[str | Path], pattern: str = "*.xml") -> Iterator[Path]:
    """Files as given, folders as their ``pattern`` files (sorted, recursive); order kept."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob(pattern) if p.is_file())
        else:
            yield path
