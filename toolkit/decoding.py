"""Bytes -> text with the encoding detected, never assumed, and the evidence kept.

Order of evidence:

1. a byte-order mark (UTF-8, UTF-16, UTF-32);
2. UTF-16 without BOM (NUL bytes at every other position of the first 4 KiB);
3. strict UTF-8;
4. *almost* UTF-8: the bytes hold valid multi-byte UTF-8 sequences (``—``, ``“``) and no more
   invalid bytes than valid sequences. That is a damaged UTF-8 file, not a legacy one: it is
   refused with ``E105`` and the byte offset of the first bad byte, unless the user forces a
   decision with ``--encoding utf-8:replace`` (each bad byte becomes U+FFFD, which the converter
   then lists as damage) or names another encoding;
5. a legacy code page (single-byte Latin and Cyrillic, GB18030, Big5, Shift-JIS, EUC-KR) only on
   real evidence: at least :data:`MIN_LEGACY_BYTES` non-ASCII bytes and ``charset_normalizer``
   finding the text coherent (chaos at most :data:`MAX_CHAOS`); otherwise ``E104``/``E105``.

The choice and how sure it is are returned as :attr:`Decoded.evidence` (empty when the bytes
decoded strictly: a BOM, strict UTF-8 or UTF-16) and recorded in the TEI header.

Characters XML cannot carry: a vertical tab and a form feed (pdftotext writes one at every page
break) become line breaks; CR LF and CR become LF. Any other C0 control character and U+FFFE /
U+FFFF anywhere in the file are refused with ``E140`` and their line and column (with
``:replace`` they become U+FFFD like undecodable bytes); a file with NUL bytes or many control
characters in its first 64 KiB is refused as binary (``E103``).
"""

from __future__ import annotations

import codecs
import re
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
MIN_LEGACY_BYTES = 2
MAX_CHAOS = 0.25
REPLACE = ":replace"
# C0 controls except tab, LF, CR (VT and FF are turned into LF first), U+FFFE, U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BREAKS = str.maketrans({"\x0b": "\n", "\x0c": "\n"})


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    bom: bool = False
    # How the encoding was chosen when it was not certain (legacy detection, forced); "" if the
    # bytes decoded strictly (BOM, strict UTF-8, UTF-16 pattern).
    evidence: str = ""
    confidence: float = 1.0


def decode(data: bytes, path: str = "<bytes>", encoding: str | None = None) -> Decoded:
    """Decode ``data``; ``encoding`` forces one (``NAME:replace`` also replaces bad bytes).

    Newlines are normalized to ``\\n``.
    """
    if not data:
        raise SourceError("E102", "the file is empty; give a text file with content", path)
    if encoding:
        return _forced(data, path, encoding)
    for bom, name in BOMS:
        if data.startswith(bom):
            text = _strict(data[len(bom) :], name.replace("-sig", ""), path)
            return _finish(text, name.replace("-le", "").replace("-be", ""), path, bom=True)
    utf16 = _utf16_without_bom(data)
    if utf16:
        return _finish(_strict(data, utf16, path), utf16, path)
    try:
        return _finish(data.decode("utf-8"), "utf-8", path)
    except UnicodeDecodeError as exc:
        first_error = exc
    if b"\x00" in data[:65536]:
        raise _binary(path)
    valid = len(_UTF8_SEQUENCE.findall(data))
    if valid:
        invalid = data.decode("utf-8", "replace").count("\ufffd") - valid_replacements(data)
        if invalid <= valid:
            raise _undecodable(data, first_error, "utf-8", path, damaged=True)
    return _legacy(data, path, first_error)


def valid_replacements(data: bytes) -> int:
    """U+FFFD characters that are really in ``data`` (encoded as UTF-8), not decoding errors."""
    return data.count("\ufffd".encode())


def _strict(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(data, exc, encoding, path) from None


def _forced(data: bytes, path: str, encoding: str) -> Decoded:
    name, replace = encoding, False
    if encoding.lower().endswith(REPLACE):
        name, replace = encoding[: -len(REPLACE)], True
    try:
        name = codecs.lookup(name).name
    except LookupError:
        raise SourceError(
            "E106",
            f"unknown encoding {encoding!r}; use a Python codec name such as cp1251 "
            "(add :replace, e.g. utf-8:replace, to keep undecodable bytes as U+FFFD)",
            path,
        ) from None
    for bom, bom_name in BOMS:
        if data.startswith(bom) and codecs.lookup(bom_name).name.startswith(name.split("-")[0]):
            data = data[len(bom) :]
            break
    if not replace:
        return _finish(_strict(data, name, path), name, path, evidence="forced (--encoding)")
    text = data.decode(name, "replace")
    bad = text.count("\ufffd") - (valid_replacements(data) if name == "utf-8" else 0)
    text, controls = _NOT_XML.subn("\ufffd", text.translate(_BREAKS))
    evidence = (
        f"forced (--encoding {encoding}): {bad} undecodable byte(s) and {controls} character(s) "
        "XML cannot hold replaced by U+FFFD"
    )
    return _finish(text, name, path, evidence=evidence)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[: 4096 & ~1] if len(data) >= 4096 else data[: len(data) & ~1]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _legacy(data: bytes, path: str, first_error: UnicodeDecodeError) -> Decoded:
    if len(_NON_ASCII.findall(data[:1_000_000])) < MIN_LEGACY_BYTES:
        raise _undecodable(data, first_error, "utf-8", path, ambiguous=True)
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None or best.chaos > MAX_CHAOS:
        raise SourceError(
            "E104",
            "the bytes fit no text encoding the toolkit knows (UTF-8/16, legacy code pages, "
            "GB18030); if you know it, pass --encoding NAME",
            path,
        )
    name = codecs.lookup(best.encoding).name
    confidence = round(1.0 - best.chaos, 2)
    evidence = (
        f"not UTF-8 (byte {data[first_error.start]:#04x} at offset {first_error.start}); "
        f"{name} chosen by charset-normalizer among {len(LEGACY_ENCODINGS)} legacy code pages, "
        f"confidence {confidence:.2f}"
    )
    return _finish(str(best), name, path, evidence=evidence, confidence=confidence)


def _finish(
    text: str,
    encoding: str,
    path: str,
    bom: bool = False,
    evidence: str = "",
    confidence: float = 1.0,
) -> Decoded:
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_BREAKS)
    bad = _NOT_XML.search(text)
    if bad is not None:
        head = text[:65536]
        if "\x00" in head or len(_NOT_XML.findall(head)) > max(8, len(head) // 100):
            raise _binary(path)
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise SourceError(
            "E140",
            f"character U+{ord(bad.group()):04X} at line {line}, column {column} cannot be "
            f"carried by XML; remove it, or pass --encoding {encoding}{REPLACE} to replace such "
            "characters by U+FFFD (listed as damage)",
            path,
            line,
        )
    if not text.strip():
        raise SourceError("E102", "the file holds only white space; give a text file", path)
    return Decoded(text, encoding, bom, evidence, confidence)


def _binary(path: str) -> SourceError:
    return SourceError(
        "E103", "this looks like a binary file, not text; convert it to plain text first", path
    )


def _undecodable(
    data: bytes,
    exc: UnicodeDecodeError,
    encoding: str,
    path: str,
    *,
    damaged: bool = False,
    ambiguous: bool = False,
) -> SourceError:
    line = data.count(b"\n", 0, exc.start) + 1
    if damaged:
        why = (
            "; the rest of the file is UTF-8, so this is damage, not another encoding: fix the "
            f"byte, or pass --encoding utf-8{REPLACE} to keep it as U+FFFD"
        )
    elif ambiguous:
        why = (
            "; too few non-ASCII bytes to identify a legacy code page: pass the right "
            f"--encoding (e.g. cp1252), or --encoding utf-8{REPLACE}"
        )
    else:
        why = "; fix the file or pass the right --encoding"
    return SourceError(
        "E105",
        f"byte {data[exc.start]:#04x} at offset {exc.start} is not valid {encoding}{why}",
        path,
        line,
    )
