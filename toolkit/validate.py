"""Validation: RELAX NG + Schematron (+ optionally a full TEI schema) -> list of Problems.

Problems are data, not exceptions: each has the file, line, column, severity, a stable code
(``RNG``, ``TEI-ALL``, a Schematron assertion id such as ``TK-REF-LOCAL``, or an ``E2xx`` read
error) and a message. Schemas are the packaged ``toolkit.schemas`` files unless given; each is
compiled once per process. Importing this module does not import spaCy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from lxml import etree, isoschematron

from .errors import TEIError
from .tei import NS, XML_ID, parse_bytes

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


@cache
def relaxng(path: str | None = None) -> etree.RelaxNG:
    """The project's RELAX NG schema (or the one at ``path``), compiled once."""
    data = Path(path).read_bytes() if path else _packaged("toolkit.rng")
    return etree.RelaxNG(etree.fromstring(data, base_url=path or "toolkit.rng"))


@cache
def schematron(path: str | None = None) -> isoschematron.Schematron:
    """The project's Schematron rules (or the ones at ``path``), compiled once."""
    data = Path(path).read_bytes() if path else _packaged("toolkit.sch")
    return isoschematron.Schematron(etree.fromstring(data), store_report=True)


@cache
def external_relaxng(path: str) -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(path))


@cache
def _authority_ids(path: str) -> frozenset[str] | None:
    try:
        root = parse_bytes(Path(path).read_bytes(), path).getroot()
    except (OSError, TEIError):
        return None
    return frozenset(el.get(XML_ID) for el in root.iter() if el.get(XML_ID))


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
    problems = [
        Problem(path, e.line, max(e.column, 1), "error", "RNG", _clean(e.message))
        for e in _errors(relaxng(schema), tree)
    ]
    problems += _schematron_problems(tree, path, rules)
    problems += _authority_problems(tree, path, authority)
    return sorted(problems, key=lambda p: (p.line, p.column, p.code))


def _position(exc: TEIError) -> tuple[int, int]:
    m = re.search(r"line (\d+), column (\d+)", exc.message)
    if m:
        return int(m.group(1)), int(m.group(2))
    return exc.line or 1, 1


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


def _authority_problems(
    tree: etree._ElementTree, path: str, authority: str | None
) -> list[Problem]:
    """TK-REF-AUTHORITY: every auth:ID names an entry of the authority file."""
    root = tree.getroot()
    refs = [
        el
        for el in root.iter("{*}persName", "{*}placeName", "{*}orgName", "{*}rs")
        if (el.get("ref") or "").startswith("auth:")
    ]
    if not refs:
        return []
    target = authority
    if target is None:
        prefix = root.find(".//tei:listPrefixDef/tei:prefixDef[@ident='auth']", NS)
        pattern = prefix.get("replacementPattern", "") if prefix is not None else ""
        relative = pattern.split("#", 1)[0]
        target = str((Path(path).parent / relative).resolve()) if relative else None
    ids = _authority_ids(target) if target else None
    if ids is None:
        return [
            Problem(
                path,
                refs[0].sourceline or 1,
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
        for el in refs
        if el.get("ref")[5:] not in ids
    ]


def validate_files(
    paths: Iterable[Path],
    *,
    schema: str | None = None,
    rules: str | None = None,
    authority: str | None = None,
) -> Iterator[tuple[Path, list[Problem]]]:
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            yield path, [Problem(str(path), 1, 1, "error", "E205", f"cannot read ({exc.strerror})")]
            continue
        yield path, validate_bytes(data, str(path), schema=schema, rules=rules, authority=authority)


def tei_all_problems(paths: list[Path], rng: str) -> list[Problem]:
    """Conformance with a full TEI schema: ``jing`` when installed (fast), lxml otherwise."""
    if shutil.which("jing"):
        return _jing(paths, rng)
    schema = external_relaxng(rng)
    problems = []
    for path in paths:
        try:
            tree = parse_bytes(path.read_bytes(), str(path))
        except (OSError, TEIError):
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
