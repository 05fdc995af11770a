"""Validation: RELAX NG + Schematron (+ optionally a full TEI schema) -> list of Problems.

Problems are data, not exceptions: each has the file, line, column, severity, a stable code
(``RNG``, ``TEI-ALL``, a Schematron assertion id such as ``TK-REF-LOCAL``, or an ``E2xx`` read
error) and a message. Schemas are the packaged ``toolkit.schemas`` files unless given; each is
compiled once per process. Importing this module does not import spaCy.

The packaged Schematron rules (``toolkit.sch``) are run by native code here
(:func:`project_rules`), linear in the document's size, with the same ids, messages and lines
as lxml's Schematron gives (a test holds the two to each other): a passing document is proved
so from its attribute values, read by compiled XPath; any other goes through every rule.
lxml's ISO Schematron skeleton builds an XPath location for every failed assertion by counting
preceding siblings, which makes a document with many failures quadratic (8,000 dangling refs:
10 s); rules given with ``--schematron`` still run through lxml.

The packaged RELAX NG decides a document whose rules pass through its *untyped* copy
(``toolkit.untyped``): the values the rules have read (``xml:id``, ``@resp``, the names'
``@ref``) are checked in Python against grammars narrower than their datatypes, and libxml2,
which spends half its time on datatype checks, checks the rest without them; the names'
other attributes, seldom present, are checked in Python too. Any other document, and any
doubt, goes to the packaged schema, which alone reports problems.

The full TEI schema (``tei_all.rng``, TEI P5 4.3.0, CC-BY / BSD-2 by the TEI Consortium) ships in
the package: ``--tei-all`` without a path uses it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Container, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from functools import cache, lru_cache
from importlib.resources import as_file, files
from pathlib import Path
from typing import NamedTuple

from lxml import etree, isoschematron

from .errors import TEIError, ToolkitError
from .files import read_file, read_inside
from .tei import NS, XML_ID, T, parse_bytes
from .untyped import MACHINE_TAG, untyped, values_hold

SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    column: int
    severity: str  # "error" | "warning"
    code: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity} [{self.code}] {self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _packaged(name: str) -> bytes:
    return files("toolkit.schemas").joinpath(name).read_bytes()


def _schema_bytes(path: str | None, packaged: str) -> bytes:
    return _packaged(packaged) if path is None else read_file(path, code="E401")


def _compile(kind, data: bytes, path: str):  # type: ignore[no-untyped-def]
    try:
        return kind(etree.fromstring(data, base_url=path))
    except (etree.XMLSyntaxError, etree.RelaxNGParseError, etree.SchematronParseError) as exc:
        raise ToolkitError(
            "E401",
            f"not a usable schema: {exc}; give a RELAX NG (XML syntax) or ISO Schematron file",
            path,
        ) from None


@cache
def relaxng(path: str | None = None) -> etree.RelaxNG:
    """The project's RELAX NG schema (or the one at ``path``), compiled once."""
    return _compile(etree.RelaxNG, _schema_bytes(path, "toolkit.rng"), path or "toolkit.rng")


@cache
def schematron(path: str | None = None) -> isoschematron.Schematron:
    """The project's Schematron rules (or the ones at ``path``), compiled once."""
    data = _schema_bytes(path, "toolkit.sch")
    return _compile(
        lambda tree: isoschematron.Schematron(tree, store_report=True), data, path or "toolkit.sch"
    )


@cache
def external_relaxng(path: str | None = None) -> etree.RelaxNG:
    """A full TEI schema compiled once (default: the packaged ``tei_all.rng``, ~15 s)."""
    if path is None:
        with as_file(files("toolkit.schemas").joinpath(TEI_ALL)) as packaged:
            return external_relaxng(str(packaged))
    data = _schema_bytes(path, TEI_ALL)
    return _compile(etree.RelaxNG, data, path)


TEI_ALL = "tei_all.rng"


def _authority_ids(path: str) -> frozenset[str] | None:
    """Read once per version of the file: a Dask worker outlives builds, and the authority
    file grows between them (``toolkit review`` accepts entries)."""
    try:
        stat = os.stat(path)
    except OSError:
        return _authority_ids_of(path, None)  # reported as the read fails
    return _authority_ids_of(path, (stat.st_mtime_ns, stat.st_size, stat.st_ino))


@lru_cache(maxsize=16)
def _authority_ids_of(path: str, version: tuple[int, int, int] | None) -> frozenset[str] | None:
    try:
        root = parse_bytes(read_inside(path, Path(path).resolve().parent), path).getroot()
    except ToolkitError:
        return None
    return frozenset(el.get(XML_ID) for el in root.iter() if el.get(XML_ID))


def authority_ids(path: str) -> frozenset[str]:
    """The ``xml:id`` s of an authority file given by the user, or ``E402``."""
    ids = _authority_ids(path)
    if ids is None:
        raise ToolkitError(
            "E402",
            "cannot check auth: references: the authority file cannot be read or is not "
            "well-formed XML; fix it (toolkit validate FILE shows where) or pass another",
            path,
        )
    return ids


def validate_bytes(
    data: bytes,
    path: str,
    *,
    schema: str | None = None,
    rules: str | None = None,
    authority: str | None = None,
) -> list[Problem]:
    """All problems of one document against the project's schemas."""
    try:
        tree = parse_bytes(data, path)
    except TEIError as exc:
        line, column = _position(exc)
        return [Problem(path, line, column, "error", exc.code, exc.message)]
    quick = None
    if rules is None:
        quick = _passing_attributes(tree.getroot())
        problems = _rules(tree, path, quick)
    else:
        problems = _schematron_problems(tree, path, rules)
    if schema is not None or quick is None or not _untyped_valid(tree, quick):
        problems += [
            Problem(path, e.line, max(e.column, 1), "error", "RNG", _clean(e.message))
            for e in _errors(relaxng(schema), tree)
        ]
    refs = None if quick is None or quick.foreign else quick.refs
    problems += _authority_problems(tree, path, authority, refs)
    problems += _authority_file_problems(data, tree, path)
    return sorted(problems, key=lambda p: (p.line, p.column, p.code))


def _authority_file_problems(data: bytes, tree: etree._ElementTree, path: str) -> list[Problem]:
    """An authority file (a register of entity lists with no mention pointers, unlike a
    generated index) is also checked for shared names, bad ids and common one-word names
    (``authority.authority_problems``: E330-E333)."""
    from .authority import authority_problems, parse_authority
    from .tagging import is_register

    root = tree.getroot()
    if not is_register(root) or root.find(".//tei:ptr", NS) is not None:
        return []
    try:
        found = authority_problems(parse_authority(data, path, strict=False))
    except TEIError:
        return []  # reported above as a grammar or read problem
    except ToolkitError as exc:
        return [Problem(path, exc.line or 1, 1, "error", exc.code, exc.message)]
    return [Problem(path, e.line or 1, 1, "error", e.code, e.message) for e in found]


def _position(exc: TEIError) -> tuple[int, int]:
    m = re.search(r"line (\d+), column (\d+)", exc.message)
    if m:
        return int(m.group(1)), int(m.group(2))
    return exc.line or 1, 1


@cache
def _untyped_relaxng() -> tuple[etree.RelaxNG, dict[str, frozenset[str]], dict] | None:
    """The packaged schema without the checks made in Python (``toolkit.untyped``), compiled
    once, with what it leaves unchecked."""
    found = untyped(etree.fromstring(_packaged("toolkit.rng")))
    return None if found is None else (etree.RelaxNG(found[0]), found[1], found[2])


def _untyped_valid(tree: etree._ElementTree, quick: _Quick) -> bool:
    """Proof that a document whose rules pass is valid against the packaged schema: its
    unchecked values match (one match per attribute) and it is valid against the untyped
    schema. ``False`` says only that the packaged schema must decide."""
    compiled = _untyped_relaxng()
    if compiled is None:
        return False
    schema, relaxed, loose = compiled
    read = {"xml:id": quick.ids, "resp": quick.resps, "ref": quick.refs}
    return values_hold(relaxed, loose, read, quick.odd) and schema.validate(tree)


def _errors(schema: etree.RelaxNG, tree: etree._ElementTree) -> list:
    if schema.validate(tree):
        return []
    return list(schema.error_log)


def _clean(message: str) -> str:
    return message.replace("{http://www.tei-c.org/ns/1.0}", "")


def _schematron_problems(tree: etree._ElementTree, path: str, rules: str | None) -> list[Problem]:
    checker = schematron(rules)
    if checker.validate(tree):
        return []
    problems = []
    for failed in checker.validation_report.iterfind("svrl:failed-assert", SVRL):
        location = failed.get("location", "")
        try:
            found = tree.xpath(location)
            line = found[0].sourceline if found and hasattr(found[0], "sourceline") else 1
        except etree.XPathError:
            line = 1
        text = " ".join("".join(failed.find("svrl:text", SVRL).itertext()).split())
        problems.append(Problem(path, line or 1, 1, "error", failed.get("id", "SCH"), text))
    return problems


@lru_cache(maxsize=256)
def _resolved(folder: str, relative: str) -> str:
    """The authority file a folder's documents point to (one lookup per folder)."""
    return str((Path(folder) / relative).resolve())


def _authority_problems(
    tree: etree._ElementTree, path: str, authority: str | None, refs: set[str] | None = None
) -> list[Problem]:
    """TK-REF-AUTHORITY: every auth:ID names an entry of the authority file.

    ``refs``, the ``@ref`` values of all the names when :func:`_passing_attributes` has them (every
    name in the TEI namespace), settle the usual case (every entry found) without a walk; any
    other case is looked at name by name, in any namespace, for the problems' lines.
    """
    root = tree.getroot()
    if refs is not None:
        wanted = {ref for ref in refs if ref.startswith("auth:")}
        if not wanted:
            return []
        ids = _authority_of(root, path, authority)[1]
        if ids is not None and all(ref[5:] in ids for ref in wanted):
            return []
    named = [el for el in root.iter(*_ANY_NAME_TAGS) if (el.get("ref") or "").startswith("auth:")]
    if not named:
        return []
    target, ids = _authority_of(root, path, authority)
    if ids is None:
        return [
            Problem(
                path,
                named[0].sourceline or 1,
                1,
                "warning",
                "TK-REF-AUTHORITY",
                f"cannot check auth: references: no readable authority file at {target}; "
                "pass --authority FILE",
            )
        ]
    return [
        Problem(
            path,
            el.sourceline or 1,
            1,
            "error",
            "TK-REF-AUTHORITY",
            f'{etree.QName(el).localname}/@ref="{el.get("ref")}" names no entry of the '
            f"authority file {target}; add the entry there or correct the id",
        )
        for el in named
        if el.get("ref")[5:] not in ids
    ]


_PREFIX_DEFS = tuple(T + n for n in ("teiHeader", "encodingDesc", "listPrefixDef", "prefixDef"))


def _authority_of(
    root: etree._Element, path: str, authority: str | None
) -> tuple[str | None, frozenset[str] | None]:
    """The authority file the document's ``auth:`` prefix points to (or ``authority``) and its
    ids (``None`` when there is no such file or it cannot be read)."""
    target = authority
    if target is None:
        # where TEI puts the prefix (no tree walk), else anywhere
        prefix = next((p for p in _at(root, _PREFIX_DEFS) if p.get("ident") == "auth"), None)
        if prefix is None:
            prefix = root.find(".//tei:listPrefixDef/tei:prefixDef[@ident='auth']", NS)
        pattern = prefix.get("replacementPattern", "") if prefix is not None else ""
        relative = pattern.split("#", 1)[0]
        target = _resolved(str(Path(path).parent), relative) if relative else None
    return target, (_authority_ids(target) if target else None)


PARALLEL_FROM = 200  # files: with fewer, starting worker processes costs more than it saves
VALIDATE_CHUNK = 50  # files a worker process checks per task


def validate_files(
    paths: Iterable[Path],
    *,
    schema: str | None = None,
    rules: str | None = None,
    authority: str | None = None,
    jobs: int = 1,
) -> Iterator[tuple[Path, list[Problem]]]:
    """Problems file by file, in the order given. Schemas and an explicit ``authority`` are
    checked first: a schema that cannot be compiled (``E401``) or an authority file that cannot
    be read (``E402``) raises before any file is read, since no result would be trustworthy.

    With ``jobs`` > 1 and at least ``PARALLEL_FROM`` files, ``jobs`` processes check chunks of
    ``VALIDATE_CHUNK`` files (each compiles the schemas once); the results are the same, in the
    same order. Should a worker process die, the files it had not returned are checked here.
    """
    relaxng(schema)
    if schema is None and rules is None:
        _untyped_relaxng()  # compiled before worker processes fork
    if rules is not None:
        schematron(rules)
    if authority is not None:
        authority_ids(authority)
    paths = list(paths)
    done = 0
    if jobs > 1 and len(paths) >= PARALLEL_FROM:
        for found in _validate_in_processes(paths, schema, rules, authority, jobs):
            yield found
            done += 1
    for path in paths[done:]:
        yield path, _validate_path(path, schema, rules, authority)


def _validate_path(
    path: Path | str, schema: str | None, rules: str | None, authority: str | None
) -> list[Problem]:
    try:
        data = read_inside(path, code="E205")
    except ToolkitError as exc:
        return [Problem(str(path), 1, 1, "error", exc.code, exc.message)]
    return validate_bytes(data, str(path), schema=schema, rules=rules, authority=authority)


def _validate_chunk(
    paths: list[str], schema: str | None, rules: str | None, authority: str | None
) -> list[list[Problem]]:
    """A worker's task: paths go as strings and only the problems come back (the caller
    holds the paths), which keeps what crosses between processes small."""
    return [_validate_path(path, schema, rules, authority) for path in paths]


def _validate_in_processes(
    paths: list[Path], schema: str | None, rules: str | None, authority: str | None, jobs: int
) -> Iterator[tuple[Path, list[Problem]]]:
    """Results in order until all are in, or a worker process dies or none can be started
    (e.g. no semaphores in a sandbox, or this process is a daemon, which may have no
    children): the caller checks the rest itself."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool
    from functools import partial

    from .engine import chunks

    if multiprocessing.current_process().daemon:
        return

    context = multiprocessing.get_context(_start_method())
    work = partial(_validate_chunk, schema=schema, rules=rules, authority=authority)
    try:
        with ProcessPoolExecutor(jobs, mp_context=context) as pool:
            done = 0
            for batch in pool.map(work, chunks(map(str, paths), VALIDATE_CHUNK)):
                yield from zip(paths[done : done + len(batch)], batch, strict=True)
                done += len(batch)
    except (BrokenProcessPool, OSError):
        return


def _start_method() -> str:
    """``fork`` on Linux when this process runs no other thread: the workers start at once with
    the schemas already compiled. With threads running, a fork would copy the locks they hold,
    so ``forkserver`` (or ``spawn`` where there is none) starts clean processes instead.
    Threads are counted by the kernel (``/proc/self/task``), so that a library's native thread
    pool (BLAS, OpenMP) counts as well as a Python thread."""
    import multiprocessing
    import sys

    if sys.platform.startswith("linux"):
        try:
            alone = len(os.listdir("/proc/self/task")) == 1
        except OSError:
            alone = False
        if alone:
            return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def tei_all_problems(paths: list[Path], rng: str | None = None) -> list[Problem]:
    """Conformance with a full TEI schema (default: the packaged tei_all): ``jing`` when
    installed (fast), lxml otherwise (the schema compiled once per process)."""
    if shutil.which("jing"):
        with ExitStack() as stack:
            if rng is None:
                rng = str(stack.enter_context(as_file(files("toolkit.schemas").joinpath(TEI_ALL))))
            return _jing(paths, rng)
    schema = external_relaxng(rng)
    problems = []
    for path in paths:
        try:
            tree = parse_bytes(read_inside(path, code="E205"), str(path))
        except ToolkitError:
            continue  # reported by the project checks already
        problems += [
            Problem(str(path), e.line, max(e.column, 1), "error", "TEI-ALL", _clean(e.message))
            for e in _errors(schema, tree)
        ]
    return problems


_JING_LINE = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|fatal): (?P<msg>.*)$"
)


def _jing(paths: list[Path], rng: str) -> list[Problem]:
    if not paths:
        return []
    out = subprocess.run(
        ["jing", rng, *map(str, paths)], capture_output=True, text=True, check=False
    )
    problems = []
    for line in (out.stdout + out.stderr).splitlines():
        m = _JING_LINE.match(line)
        if m and m.group("sev") != "warning":
            problems.append(
                Problem(
                    m.group("path"),
                    int(m.group("line")),
                    int(m.group("col")),
                    "error",
                    "TEI-ALL",
                    m.group("msg"),
                )
            )
    return problems


# --- The packaged Schematron rules (schemas/toolkit.sch), natively: one pass, linear. --------

_NAME_TAGS = tuple(T + n for n in ("persName", "placeName", "orgName", "rs"))
_ANY_NAME_TAGS = tuple("{*}" + n for n in ("persName", "placeName", "orgName", "rs"))
_MACHINE = frozenset({"#toolkit-ner", "#toolkit-authority", "#toolkit-coref"})
# XPath number() as libxml2 reads it: XML whitespace, ASCII digits, an optional exponent whose
# digits may be missing ("1e" is 1)
_XPATH_NUMBER = re.compile(
    r"[ \t\r\n]*(-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(?:[eE]([+-]?[0-9]*))?[ \t\r\n]*"
)
_ISO_SHAPES = frozenset(
    {"9999", "9999-99", "9999-99-99", "9999-99-99T99:99:99Z", "9999-99-99T99:99:99"}
)
_DIGITS = str.maketrans("0123456789", "9999999999")
_WS = " \t\r\n"
_SPACES = re.compile(r"[ \t\r\n]+")


def _ns(text: str) -> str:
    """XPath ``normalize-space``."""
    if " " not in text and "\n" not in text and "\t" not in text and "\r" not in text:
        return text
    return " ".join(_SPACES.split(text.strip(_WS)))


def _number(text: str) -> float | None:
    """XPath ``number`` (libxml2's): ``None`` for NaN."""
    m = _XPATH_NUMBER.fullmatch(text)
    if m is None:
        return None
    mantissa, exponent = m.groups()
    if exponent is None or exponent.lstrip("+-") == "":
        return float(mantissa)
    return float(f"{mantissa}e{exponent}")


def _name(el: etree._Element) -> str:
    local = etree.QName(el).localname
    return f"{el.prefix}:{local}" if el.prefix else local


def _text(el: etree._Element) -> str:
    return "".join(el.itertext())


_HEX = frozenset("0123456789abcdef")
_CHANGES = tuple(T + n for n in ("teiHeader", "revisionDesc", "change"))
_SHA = tuple(T + n for n in ("teiHeader", "fileDesc", "sourceDesc", "bibl", "idno"))
_SPACY = tuple(T + n for n in ("teiHeader", "encodingDesc", "appInfo", "application"))


def _at(el: etree._Element, tags: tuple[str, ...]) -> Iterator[etree._Element]:
    """ElementPath's ``a/b/c`` over namespaced tags, in document order, without its parsing
    of the path on every call."""
    if not tags:
        yield el
        return
    for child in el.iterchildren(tags[0]):
        yield from _at(child, tags[1:])


def project_rules(tree: etree._ElementTree, path: str) -> list[Problem]:
    """The assertions of the packaged ``toolkit.sch``, evaluated natively over ``tree``.

    Same ids, messages and lines as lxml's Schematron over that file (``tests/test_validate``
    compares the two on every rule), in time linear in the document. Problems come rule by
    rule, each rule's in document order (``validate_bytes`` sorts them by place).

    Two ways to the same answer: a document whose attributes pass (the usual case) is proved
    so by :func:`_passing_attributes`, which reads the attribute values with compiled XPath
    (in C, as plain strings) and checks each distinct value once; any doubt, and every
    failure, goes to :func:`_exact_rules`, which finds each problem and its line.
    """
    return _rules(tree, path, _passing_attributes(tree.getroot()))


def _rules(tree: etree._ElementTree, path: str, quick: _Quick | None) -> list[Problem]:
    """The problems, given what :func:`_passing_attributes` found."""
    if quick is None:
        return _exact_rules(tree, path)
    out: list[Problem] = []
    fail = _failing(path, out)
    root = tree.getroot()
    for el in root.iter(*_SOURCE_TAGS):
        _source_rules(el, fail)
    _documents(root, quick.machine, fail)
    return out


def _failing(path: str, out: list[Problem]):  # type: ignore[no-untyped-def]
    """The ``fail(el, code, message)`` the rules report through, appending to ``out``."""

    def fail(el: etree._Element, code: str, message: str) -> None:
        out.append(Problem(path, el.sourceline or 1, 1, "error", code, " ".join(message.split())))

    return fail


def _documents(root: etree._Element, machine: bool, fail) -> None:  # type: ignore[no-untyped-def]
    """The rules of each TEI document in the tree; ``machine``: whether the root has machine
    tags below it (a nested TEI is looked at itself)."""
    for tei in root.iter(_TEI):
        if tei is root:
            tagged = machine
        else:
            tagged = any(d.get("resp") in _MACHINE for d in tei.iterdescendants("*"))
        _document_rules(tei, tagged, fail)


def _xpath(expression: str) -> etree.XPath:
    return etree.XPath(expression, namespaces=NS, smart_strings=False)


_XML_IDS = _xpath("//*/@xml:id")
_RESPS_BELOW = _xpath("descendant::*/@resp")
_WHENS = _xpath("//*/@when")


class _Quick(NamedTuple):
    """What a passing document's attributes are: whether it has machine tags (a ``@resp``
    below the root), the ``@ref`` values of its TEI names, whether it has a name outside the
    TEI namespace (the authority check then looks at each name), its ``xml:id`` values, its
    ``@resp`` values, and its TEI names with attributes other than a machine tag's (for
    ``toolkit.untyped`` to check)."""

    machine: bool
    refs: set[str]
    foreign: bool
    ids: list[str]
    resps: set[str]
    odd: list[etree._Element]  # TEI names with attributes other than ref, resp, xml:id


def _passing_attributes(root: etree._Element) -> _Quick | None:
    """Proof that the rules on ``xml:id``, ``@ref``, ``@resp`` and ``@when`` and the empty-name
    rule all pass, with what it read (:class:`_Quick`), or ``None`` when one may fail.

    Each step mirrors :func:`_exact_rules`: ids all distinct (so an id names one element,
    and a ``@resp`` target is a respStmt or application exactly when its id is one of theirs);
    every name's ``@ref`` a plain pointer (:func:`_plain_reference`); every ``@resp`` one
    ``#id`` of a respStmt or application; every ``@when`` of an ISO shape.
    """
    ids = _XML_IDS(root)
    known = set(ids)
    if len(known) != len(ids):
        return None
    refs: set[str] = set()
    odd = []
    foreign = False
    for el in root.iter(*_ANY_NAME_TAGS):
        if el.tag not in _NAME_TAGS:
            foreign = True
            continue
        ref = el.get("ref")
        if ref is not None:
            refs.add(ref)
        if el.keys() != MACHINE_TAG:  # keys(): linear in the attributes, unlike items()
            odd.append(el)
        if not (el.text and el.text.strip(_WS)) and _ns(_text(el)) == "":
            return None
    prefixes = {el.get("ident") for el in root.iter(T + "prefixDef")} - {None}
    if not all(_plain_reference(ref, known, prefixes) for ref in refs):
        return None
    below = _RESPS_BELOW(root)
    resps = set(below)
    own = root.get("resp")
    if own is not None:
        resps.add(own)
    if resps:
        declared = {el.get(XML_ID) for el in root.iter(*_DECLARERS)}
        for resp in resps:
            if resp[:1] != "#" or resp[1:] not in declared or " " in _ns(resp):
                return None
    if not all(when.translate(_DIGITS) in _ISO_SHAPES for when in set(_WHENS(root))):
        return None
    return _Quick(not _MACHINE.isdisjoint(below), refs, foreign, ids, resps, odd)


def _exact_rules(tree: etree._ElementTree, path: str) -> list[Problem]:
    """Every rule over every element: one pass reads the names of each element's attributes
    (``keys()``, one call each), then each rule looks only at the elements its context names."""
    root = tree.getroot()
    ids: dict[str, list[etree._Element]] = {}
    with_id: list[tuple[etree._Element, str]] = []
    with_resp: list[tuple[etree._Element, str]] = []
    with_when: list[tuple[etree._Element, str]] = []
    for el in root.iter("*"):  # elements only: no comment or processing instruction
        # keys(), not items(): lxml's items() is quadratic in the number of attributes
        for key in el.keys():  # noqa: SIM118 (iterating an element gives its children)
            if key == "resp":
                with_resp.append((el, el.get(key)))
            elif key == XML_ID:
                value = el.get(key)
                with_id.append((el, value))
                if value in ids:
                    ids[value].append(el)
                else:
                    ids[value] = [el]
            elif key == "when":
                with_when.append((el, el.get(key)))
    prefixes = {el.get("ident") for el in root.iter(T + "prefixDef")} - {None}
    out: list[Problem] = []
    fail = _failing(path, out)
    for el in root.iter(*_NAME_TAGS):
        ref = el.get("ref")
        if ref is not None and not _plain_reference(ref, ids, prefixes):
            _reference_rules(el, ref, ids, prefixes, fail)
        if not (el.text and el.text.strip(_WS)) and _ns(_text(el)) == "":
            fail(el, "TK-NAME-EMPTY", f"{_name(el)} is empty; remove it or put the name inside.")
    declared: set[str] = set()
    for el, resp in with_resp:
        if resp in declared:
            continue
        targets = ids.get(resp[1:], ()) if resp[:1] == "#" else ()
        if any(t.tag in _DECLARERS for t in targets) and " " not in _ns(resp):
            declared.add(resp)
        else:
            fail(
                el,
                "TK-RESP-DECLARED",
                f'@resp="{resp}" on {_name(el)} does not point to a respStmt or application '
                "of this document; declare who did it in titleStmt/respStmt.",
            )
    if len(ids) != len(with_id):
        for el, value in with_id:
            if len(ids[value]) != 1:
                fail(
                    el,
                    "TK-ID-UNIQUE",
                    f'xml:id="{value}" is used {len(ids[value])} times; every xml:id must be '
                    "unique in the document.",
                )
    for el in root.iter(*_SOURCE_TAGS):
        _source_rules(el, fail)
    for el, when in with_when:
        if when.translate(_DIGITS) not in _ISO_SHAPES:
            fail(
                el,
                "TK-DATE-ISO",
                f'@when="{when}" on {_name(el)} is not an ISO 8601 date (YYYY, YYYY-MM, '
                "YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ).",
            )
    # the pass above has seen every @resp below the root
    _documents(root, any(resp in _MACHINE for el, resp in with_resp if el is not root), fail)
    return out


_DECLARERS = (T + "respStmt", T + "application")
_WHITESPACE = frozenset(_WS)


def _plain_reference(ref: str, ids: Container[str], prefixes: set[str]) -> bool:
    """The common, passing case of the reference rules: one pointer, no space, to a local id
    or through a declared prefix (anything else is decided by ``_reference_rules``)."""
    if not ref or not _WHITESPACE.isdisjoint(ref):
        return False
    if ref[0] == "#":
        return ref[1:] in ids
    before, colon, _ = ref.partition(":")
    return bool(colon) and before in prefixes


def _reference_rules(el, ref, ids, prefixes, fail) -> None:  # type: ignore[no-untyped-def]
    if ref.startswith("#") and ref[1:] not in ids:
        fail(
            el,
            "TK-REF-LOCAL",
            f'{_name(el)}/@ref="{ref}" points to no element with that xml:id in this document; add '
            "the entry (e.g. in standOff) or correct the pointer.",
        )
    before = ref.partition(":")[0] if ":" in ref else ""
    if not ref.startswith("#") and before not in prefixes:
        fail(
            el,
            "TK-REF-PREFIX",
            f'{_name(el)}/@ref="{ref}" uses a prefix not declared in '
            "encodingDesc/listPrefixDef; use '#id' or declare the prefix with prefixDef.",
        )
    if " " in _ns(ref):
        fail(
            el,
            "TK-REF-SINGLE",
            f'{_name(el)}/@ref="{ref}" holds more than one pointer; a name points to one entity '
            "(split the element or use rs).",
        )


_TEI = T + "TEI"
_SOURCE_TAGS = tuple(T + name for name in ("idno", "msIdentifier", "locus", "citedRange"))


def _source_rules(el, fail) -> None:  # type: ignore[no-untyped-def]
    tag = el.tag
    if tag == T + "idno" and el.get("type") == "SHA-256":
        digest = _ns(_text(el))
        if len(digest) != 64 or not set(digest) <= _HEX:
            fail(
                el,
                "TK-SHA256",
                f'the source SHA-256 "{_text(el)}" is not 64 lower-case hex digits; recompute '
                "it with sha256sum.",
            )
    elif tag == T + "msIdentifier":
        if el.find(T + "repository") is None or el.find(T + "idno") is None:
            fail(
                el,
                "TK-MSID",
                "msIdentifier needs a repository and an idno (the shelfmark); an unparsed "
                'reference belongs in bibl/note type="citation".',
            )
    elif tag in (T + "locus", T + "citedRange"):
        start, end = el.get("from"), el.get("to")
        if start is None or end is None:
            return
        a = _number(start.replace("r", "").replace("v", ""))
        b = _number(end.replace("r", "").replace("v", ""))
        if a is not None and b is not None and a > b:
            fail(
                el,
                "TK-RANGE-ORDER",
                f'the range runs backwards: from="{start}" is after to="{end}".',
            )


def _document_rules(tei: etree._Element, machine: bool, fail) -> None:  # type: ignore[no-untyped-def]
    # normalize-space(.) starts with a word exactly when the text does after its first spaces
    changes = [_text(c).lstrip(_WS) for c in _at(tei, _CHANGES)]
    sha = any(idno.get("type") == "SHA-256" for idno in _at(tei, _SHA))
    if sha and not any(c.startswith("Converted") for c in changes):
        fail(
            tei,
            "TK-CHANGE-CONVERT",
            "a converted document must record its conversion in revisionDesc/change "
            '("Converted from ...").',
        )
    if machine:  # the document has machine tags
        if not any(c.startswith("Tagged") for c in changes):
            fail(
                tei,
                "TK-CHANGE-TAG",
                "the document has machine tags but no revisionDesc/change recording the "
                "tagging run.",
            )
        if not any(app.get("ident") == "spaCy" for app in _at(tei, _SPACY)):
            fail(
                tei,
                "TK-APP-DECLARED",
                "the document has machine tags but appInfo does not declare spaCy and its "
                "pipeline.",
            )
