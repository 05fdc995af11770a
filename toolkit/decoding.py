"""Bytes -> text with the encoding detected, never assumed.

Order of evidence: a byte-order mark; strict UTF-8; UTF-16 without BOM (NUL bytes at every other
position); then ``charset_normalizer`` over a fixed list of legacy encodings (single-byte Latin
and Cyrillic code pages, GB18030, Big5, Shift-JIS). Files with NUL bytes or control characters
that no text encoding explains are refused as binary.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from .errors import SourceError

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
LEGACY_ENCODINGS = (
    "cp1252",
    "iso8859_2",
    "cp1250",
    "cp1251",
    "koi8_r",
    "gb18030",
    "big5",
    "shift_jis",
    "euc_kr",
)
# Characters a text file has no business containing: C0 controls except tab, LF, FF, CR.
_CONTROL = {chr(c) for c in range(32)} - {"\t", "\n", "\x0c", "\r"}


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    bom: bool = False


def decode(data: bytes, path: str = "<bytes>", encoding: str | None = None) -> Decoded:
    """Decode ``data``; ``encoding`` forces one. Newlines are normalized to ``\\n``."""
    if not data:
        raise SourceError("E102", "the file is empty; give a text file with content", path)
    if encoding:
        return _finish(_decode_forced(data, path, encoding), encoding, path)
    for bom, name in BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], name.replace("-sig", ""), path)
            return _finish(text, name.replace("-le", "").replace("-be", ""), path, bom=True)
    try:
        return _finish(data.decode("utf-8"), "utf-8", path)
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _finish(_strict(data, utf16, path), utf16, path)
    if b"\x00" in data:
        raise _binary(path)
    return _finish(*_legacy(data, path), path)


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, encoding, path) from None


def _decode_forced(data: bytes, path: str, encoding: str) -> str:
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(
            "E106", f"unknown encoding {encoding!r}; use a Python codec name such as cp1251", path
        ) from None
    return _strict(data, encoding, path)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _legacy(data: bytes, path: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None or best.chaos > 0.5:
        raise SourceError(
            "E104",
            "the bytes fit no text encoding the toolkit knows (UTF-8/16, legacy code pages, "
            "GB18030); if you know it, pass --encoding NAME",
            path,
        )
    return str(best), codecs.lookup(best.encoding).name


def _finish(text: str, encoding: str, path: str, bom: bool = False) -> Decoded:
    if any(ch in _CONTROL for ch in text[:65536]):
        raise _binary(path)
    if not text.strip():
        raise SourceError("E102", "the file holds only white space; give a text file", path)
    return Decoded(text.replace("\r\n", "\n").replace("\r", "\n"), encoding, bom)


def _binary(path: str) -> SourceError:
    return SourceError(
        "E103", "this looks like a binary file, not text; convert it to plain text first", path
    )


def _undecodable(data: bytes, exc: UnicodeDecodeError, encoding: str, path: str) -> SourceError:
    line = data.count(b"\n", 0, exc.start) + 1
    return SourceError(
        "E105",
        f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid {encoding}; "
        "fix the file or pass the right --encoding",
        path,
        line,
    )
