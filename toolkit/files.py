"""File-system edges: atomic writes, confined reads, expanding file/folder arguments.

Every file-system failure here becomes a :class:`~toolkit.errors.ToolkitError` with a stable
code and one line saying what to do (:func:`fs_error`), never an ``OSError`` traceback:

- ``E910`` no permission / read-only file system, ``E911`` disk full (or a file-size limit),
  ``E912`` a name or path too long, ``E913`` a path that must be a folder is a file (``-o``
  below a regular file, ``tei/`` being a file) or the other way round, ``E914`` anything else;
- ``E141`` a file whose real path (after symlinks) leaves the folder it was found in: a symlink
  in ``sources/`` or ``tei/`` pointing at ``/etc/passwd`` is refused, never read.

Confinement rule: a file found by expanding a folder must resolve inside that folder; a file
named directly must resolve inside the folder it is named in (so ``sources/*.txt`` expanded by
the shell is checked against ``sources/``). A folder given as an argument may itself be a
symlink: its real path is the root.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import BinaryIO

from .errors import ToolkitError

_CODES = {
    errno.EACCES: "E910",
    errno.EPERM: "E910",
    errno.EROFS: "E910",
    errno.ENOSPC: "E911",
    errno.EDQUOT: "E911",
    errno.EFBIG: "E911",
    errno.ENAMETOOLONG: "E912",
    errno.ENOTDIR: "E913",
    errno.EISDIR: "E913",
    errno.EEXIST: "E913",
}
_FIXES = {
    "E910": "check the permissions, or write elsewhere with -o",
    "E911": "free some space (or raise the file-size limit) and run again",
    "E912": "shorten the file name (most file systems allow 255 bytes) or the folder path",
    "E913": "a file stands where a folder is needed (or a folder where a file is); move it",
    "E914": "check the path and the file system",
}


def fs_error(exc: OSError, path: str | Path, action: str) -> ToolkitError:
    """A coded one-line error for an ``OSError`` met while doing ``action`` on ``path``."""
    code = _CODES.get(exc.errno or 0, "E914")
    reason = exc.strerror or exc.__class__.__name__
    return ToolkitError(code, f"cannot {action} ({reason}); {_FIXES[code]}", str(path))


def ensure_dir(path: str | Path) -> Path:
    """Create folder ``path`` (and parents), or raise a coded error."""
    target = Path(path)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # a file stands there
        raise fs_error(exc, target, "create the folder") from None
    except OSError as exc:
        raise fs_error(exc, target, "create the folder") from None
    return target


@contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` when the block ends without an error.

    File-system failures (read-only, disk full, name too long, a file where the folder should
    be) raise a coded :class:`ToolkitError`; the temporary file is removed.
    """
    target = Path(path)
    ensure_dir(target.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".tk.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise fs_error(exc, target, "write") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise fs_error(exc, target, "write") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``.

    A reader sees the old file or the new one, never half of one; a crash leaves no stray file.
    There is no fsync: atomicity is what batch runs over thousands of files need, and syncing
    each file would cost them several percent of their time. The temporary file's name does not
    grow with ``path``'s, so a name near the file system's limit fails with ``E912`` only if the
    target itself is too long.
    """
    with atomic_open(path) as fh:
        fh.write(data)


def is_inside(path: str | Path, root: str | Path) -> bool:
    """Whether ``path``'s real path (symlinks resolved) lies inside ``root``'s real path."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def check_inside(path: str | Path, root: str | Path | None = None) -> None:
    """Refuse (``E141``) a file whose real path leaves ``root`` (default: its own folder)."""
    base = Path(root) if root is not None else Path(path).parent
    if not is_inside(path, base):
        raise ToolkitError(
            "E141",
            f"is a link to {os.path.realpath(path)}, outside {base}; the toolkit reads only "
            "files inside the corpus: copy the file in instead of linking it",
            str(path),
        )


def read_file(path: str | Path, *, code: str = "E914") -> bytes:
    """The bytes of regular file ``path``; a FIFO or device (reading could hang) and every
    ``OSError`` become a ``ToolkitError`` with ``code``."""
    return _read_regular(path, code, follow=True) or b""  # following links, never None


def read_inside(path: str | Path, root: str | Path | None = None, *, code: str = "E914") -> bytes:
    """The bytes of ``path`` after :func:`check_inside` (see :func:`read_file`).

    Checked against its own folder (no ``root``), a file that is not a link lies inside that
    folder whatever the folder's real path, so no path is resolved: it is read without
    following a link (see :func:`_read_regular`). A link takes the full check.
    """
    if root is None and _NO_FOLLOW:
        data = _read_regular(path, code, follow=False)
        if data is not None:
            return data
    check_inside(path, root)
    return read_file(path, code=code)


def _read_regular(path: str | Path, code: str, *, follow: bool) -> bytes | None:
    """The bytes of a regular file, checked twice: by its name (``stat``, or ``lstat`` when not
    following links, so a FIFO or device is never opened) and, in case it was swapped since,
    on the open descriptor (opened with ``O_NONBLOCK``, so a FIFO put there cannot make the
    open wait, and ``O_NOFOLLOW`` when not following). ``None`` when not following and
    ``path`` is a link."""
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
        if stat.S_ISLNK(mode):
            return None
        if not stat.S_ISREG(mode):
            raise ToolkitError(code, "is not a regular file (a FIFO or device?)", str(path))
        fd = os.open(path, _OPEN if follow else _NO_FOLLOW)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ToolkitError(code, "is not a regular file (a FIFO or device?)", str(path))
            # size bytes in one call as a rule, the rest too should the file have grown
            parts = [os.read(fd, st.st_size + 1)]
            while parts[-1]:
                parts.append(os.read(fd, 1 << 20))
            return b"".join(parts)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ToolkitError(code, fs_error(exc, path, "read the file").message, str(path)) from None


# open flags: binary on Windows, no wait on a FIFO where there are FIFOs; without O_NOFOLLOW
# (Windows) read_inside takes the full check every time
_OPEN = (
    os.O_RDONLY
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_NO_FOLLOW = _OPEN | os.O_NOFOLLOW if hasattr(os, "O_NOFOLLOW") else 0


def expand(
    paths: Iterable[str | Path],
    pattern: str = "*.xml",
    refused: list[ToolkitError] | None = None,
) -> Iterator[Path]:
    """Files as given, folders as their ``pattern`` files (sorted, recursive); order kept.

    A file whose real path leaves its folder argument (or, for a file named directly, its own
    folder) is refused (``E141``), and so is a FIFO or device (``E914``: reading could hang):
    appended to ``refused`` and skipped, or raised when no list is given. Symlinked sub-folders
    are not descended into.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _walk(path, pattern)
            candidates, root = sorted(found, key=_parts), path
        else:
            found, candidates, root = {}, [path], path.parent
        for candidate in candidates:
            if found.get(candidate):
                yield candidate  # a regular file reached without a link: inside, readable
                continue
            if candidate.is_dir():
                continue
            try:
                if candidate.exists() or candidate.is_symlink():
                    check_inside(candidate, root)
                if candidate.exists() and not candidate.is_file():
                    raise ToolkitError(
                        "E914",
                        "is not a regular file (a FIFO or device?); not read",
                        str(candidate),
                    )
            except ToolkitError as exc:
                if refused is None:
                    raise
                refused.append(exc)
                continue
            yield candidate


def _parts(path: Path) -> tuple[str, ...]:
    """Sort key: the order of ``Path`` objects (component by component, case-folded where
    the platform's paths are, as on Windows), compared in C."""
    return tuple(os.path.normcase(part) for part in path.parts) if os.name == "nt" else path.parts


def _walk(root: Path, pattern: str) -> dict[Path, bool]:
    """The files under ``root`` whose names match ``pattern``, symlinked folders not entered,
    each with whether it is a regular file that is not a link. Such a file cannot leave
    ``root`` (no link on the way down), so it needs none of the checks a link or a FIFO gets:
    the directory entries say so without a system call per file."""
    plain = "/" not in pattern
    found: dict[Path, bool] = {}
    folders = [str(root)]
    while folders:
        try:
            with os.scandir(folders.pop()) as it:
                entries = list(it)
        except OSError:
            continue  # an unreadable folder is skipped, as os.walk does
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
            elif fnmatch(entry.name, pattern) if plain else Path(entry.name).match(pattern):
                regular = entry.is_file(follow_symlinks=False) and not entry.is_symlink()
                found[Path(entry.path)] = regular
    return found
