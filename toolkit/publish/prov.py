"""``toolkit prov``: the corpus's provenance as W3C PROV (PROV-JSON, PROV-O Turtle, PROV-N).

Everything is read from the TEI files themselves (nothing is invented): ``sourceDesc/bibl``
(source file name and SHA-256), ``revisionDesc/change`` (one activity per change, its time from
``@when``, its agents from ``@who``), ``appInfo/application`` and the ``respStmt`` s the
pointers resolve to (software and models with versions, people by name).

The graph, for each TEI file ``tei/<id>``:

- the source is an entity ``sources/sha256-<hex>`` (``tk:SourceFile``, ``tk:sha256``,
  ``tk:filename``);
- each change is an activity ``runs/<id>/<n>`` typed ``tk:Conversion``, ``tk:Tagging``,
  ``tk:Review``, ``tk:Training`` or ``tk:Edit`` (a change with ``@status="reviewed"`` is a
  review; otherwise its text decides: "Converted", "Tagged", "Trained"), started and ended at
  ``@when``;
- each change produces a version ``tei/<id>/v<n>`` of the file (``wasGeneratedBy``), which
  ``wasRevisionOf`` the version before it (the first ``wasDerivedFrom`` the source) and is a
  ``specializationOf`` the file ``tei/<id>``; the activity ``used`` the version before (the
  conversion used the source); the last version carries the file's current SHA-256;
- agents: the toolkit and spaCy as ``prov:SoftwareAgent`` s with ``tk:version``; the spaCy
  pipeline named in a tagging change as a ``tk:Model`` (also a SoftwareAgent) with its version;
  a ``@who`` pointer that names no software is a ``prov:Person`` (``agents/person/<id>``) labelled
  with the name its ``respStmt`` gives, if any;
- a tagging run ``used`` the authority file (``authority/sha256-<hex>``) when its ``respStmt``
  records the authority's SHA-256.

Identifiers live in the corpus namespace ``corpus:`` (``base_uri`` in the ``[publish]`` table of
``toolkit.toml``; default ``urn:x-tei-corpus:<corpus folder name>:``); the vocabulary in
``tk:`` (``urn:x-tei-provenance-toolkit:``).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lxml import etree

from .. import __version__
from ..errors import ToolkitError
from ..tei import NS, parse_bytes, require_tei

TK = "urn:x-tei-provenance-toolkit:"
FORMATS = {".json": "json", ".ttl": "turtle", ".provn": "provn", ".xml": "xml"}
_MODEL_IN_CHANGE = re.compile(r"with spaCy (\S+) \(([^ ()]+) ([^ ()]+)\)")
_AUTHORITY_SHA = re.compile(r"authority\S* \(SHA-256 ([0-9a-f]{64})\)")


@dataclass(frozen=True)
class ProvReport:
    documents: int
    activities: int
    agents: int
    errors: tuple[ToolkitError, ...] = ()


def _prov():  # type: ignore[no-untyped-def]
    try:
        import prov.model as pm
    except ImportError:
        raise ToolkitError(
            "E701",
            "the prov package is not installed; install the publish extra: "
            "pip install 'tei-provenance-toolkit[publish]'",
        ) from None
    return pm


def _local(text: str) -> str:
    return quote(text, safe="-._~")


def corpus_provenance(
    tei_files: Iterable[Path], *, base_uri: str, index: Path | None = None
) -> tuple[Any, ProvReport]:
    """A ``prov.model.ProvDocument`` for the TEI files (and the index built from them)."""
    pm = _prov()
    doc = pm.ProvDocument()
    doc.add_namespace("corpus", base_uri)
    doc.add_namespace("tk", TK)
    graph = _Graph(pm, doc)
    errors = []
    documents = 0
    versions = []
    for path in tei_files:
        try:
            data = path.read_bytes()
            root = parse_bytes(data, str(path)).getroot()
            require_tei(root.getroottree(), str(path))
        except OSError as exc:
            errors.append(ToolkitError("E205", f"cannot read ({exc.strerror})", str(path)))
            continue
        except ToolkitError as exc:
            exc.path = str(path)
            errors.append(exc)
            continue
        versions.append(graph.document(path.stem, root, hashlib.sha256(data).hexdigest()))
        documents += 1
    if index is not None and index.is_file():
        sha = hashlib.sha256(index.read_bytes()).hexdigest()
        ent = doc.entity(
            "corpus:index/index.xml", {"prov:type": graph.qn("tk:Index"), "tk:sha256": sha}
        )
        for version in versions:
            doc.wasDerivedFrom(ent, version)
    report = ProvReport(documents, graph.activities, len(graph.agents), tuple(errors))
    return doc, report


class _Graph:
    def __init__(self, pm, doc) -> None:  # type: ignore[no-untyped-def]
        self.pm, self.doc = pm, doc
        self.agents: set[str] = set()
        self.entities: set[str] = set()
        self.activities = 0

    def qn(self, name: str):  # type: ignore[no-untyped-def]
        return self.doc.valid_qualified_name(name)

    def agent(self, ident: str, attrs: dict) -> str:
        if ident not in self.agents:
            self.doc.agent(ident, attrs)
            self.agents.add(ident)
        return ident

    def software(self, name: str, version: str, kind: str = "tk:Software") -> str:
        ident = f"corpus:agents/software/{_local(name)}-{_local(version)}"
        types = [self.pm.PROV["SoftwareAgent"], self.qn(kind)]
        attrs = {"prov:label": f"{name} {version}", "tk:name": name, "tk:version": version}
        if ident not in self.agents:
            self.doc.agent(ident, [*attrs.items(), *(("prov:type", t) for t in types)])
            self.agents.add(ident)
        return ident

    def document(self, stem: str, root: etree._Element, sha256: str) -> str:
        """Add one TEI file's sources, runs, versions and agents; return its last version."""
        bibl = root.find(".//tei:sourceDesc/tei:bibl[@type='source']", NS)
        if bibl is None:
            bibl = root.find(".//tei:sourceDesc/tei:bibl", NS)
        src_sha = src_name = None
        if bibl is not None:
            src_sha = bibl.findtext("tei:idno[@type='SHA-256']", namespaces=NS)
            src_name = bibl.findtext("tei:idno[@type='filename']", namespaces=NS)
        source = None
        if src_sha:
            source = f"corpus:sources/sha256-{src_sha}"
            if source not in self.entities:
                attrs = {"prov:type": self.qn("tk:SourceFile"), "tk:sha256": src_sha}
                if src_name:
                    attrs["tk:filename"] = src_name
                    attrs["prov:label"] = src_name
                self.doc.entity(source, attrs)
                self.entities.add(source)
        title = root.findtext(".//tei:titleStmt/tei:title", namespaces=NS) or stem
        file_id = f"corpus:tei/{_local(stem)}"
        self.doc.entity(
            file_id,
            {"prov:type": self.qn("tk:TEIFile"), "prov:label": title, "tk:filename": f"{stem}.xml"},
        )
        if source:
            self.doc.wasDerivedFrom(file_id, source)
        apps = {
            a.get("ident", ""): a.get("version", "")
            for a in root.iterfind(".//tei:appInfo/tei:application", NS)
        }
        previous = source
        changes = root.findall(".//tei:revisionDesc/tei:change", NS)
        version = file_id
        for n, change in enumerate(changes, 1):
            version = f"{file_id}/v{n}"
            activity = f"corpus:runs/{_local(stem)}/{n}"
            when = change.get("when")
            text = " ".join("".join(change.itertext()).split())
            kind = _kind(change, text)
            self.doc.activity(
                activity,
                when,
                when,
                {"prov:type": self.qn(f"tk:{kind}"), "prov:label": text or kind},
            )
            self.activities += 1
            attrs = {"prov:type": self.qn("tk:TEIFileVersion")}
            if n == len(changes):
                attrs["tk:sha256"] = sha256
                attrs["tk:current"] = "true"
            self.doc.entity(version, attrs)
            self.doc.specializationOf(version, file_id)
            self.doc.wasGeneratedBy(version, activity, when)
            if previous is not None:
                self.doc.used(activity, previous)
                if previous == source:
                    self.doc.wasDerivedFrom(version, source)
                else:
                    self.doc.wasRevisionOf(version, previous)
            for agent in self._agents(root, change, kind, text, apps):
                self.doc.wasAssociatedWith(activity, agent)
            if kind == "Tagging":
                authority = self._authority(root)
                if authority:
                    self.doc.used(activity, authority)
            previous = version
        return version

    def _authority(self, root: etree._Element) -> str | None:
        for stmt in root.iterfind(".//tei:titleStmt/tei:respStmt", NS):
            found = _AUTHORITY_SHA.search(" ".join(stmt.itertext()))
            if found:
                ident = f"corpus:authority/sha256-{found.group(1)}"
                if ident not in self.entities:
                    self.doc.entity(
                        ident,
                        {
                            "prov:type": self.qn("tk:AuthorityFile"),
                            "tk:sha256": found.group(1),
                            "prov:label": "authority file",
                        },
                    )
                    self.entities.add(ident)
                return ident
        return None

    def _agents(
        self, root: etree._Element, change: etree._Element, kind: str, text: str, apps: dict
    ) -> list[str]:
        agents = []
        software_ids = set()
        for token in (change.get("who") or "").split():
            ident = token.lstrip("#")
            el = next(iter(root.xpath("//*[@xml:id=$id]", id=ident)), None)
            if ident in apps or (el is not None and etree.QName(el).localname == "application"):
                software_ids.add(ident)
                continue
            if el is not None and el.find("tei:name[@type='software']", NS) is not None:
                software_ids.add(ident)
                continue
            agents.append(self._person(ident, el))
        if software_ids or kind in ("Conversion", "Tagging"):
            agents.append(self.software("toolkit", apps.get("toolkit", __version__)))
        if kind == "Tagging":
            found = _MODEL_IN_CHANGE.search(text)
            if found:
                spacy_version, model, model_version = found.groups()
            else:
                spacy_version = apps.get("spaCy", "")
                model, model_version = next(
                    ((k, v) for k, v in apps.items() if k not in ("toolkit", "spaCy")), ("", "")
                )
            if spacy_version:
                agents.append(self.software("spaCy", spacy_version))
            if model:
                agents.append(self.software(model, model_version, "tk:Model"))
        return agents

    def _person(self, ident: str, el: etree._Element | None) -> str:
        name = ident
        if el is not None:
            named = el.find(".//tei:persName", NS)
            if named is None:
                named = el.find(".//tei:name", NS)
            if named is not None:
                name = " ".join("".join(named.itertext()).split()) or ident
        return self.agent(
            f"corpus:agents/person/{_local(ident)}",
            [("prov:type", self.pm.PROV["Person"]), ("prov:label", name), ("tk:id", ident)],
        )


def _kind(change: etree._Element, text: str) -> str:
    if change.get("status") == "reviewed" or re.match(r"(Reviewed|Confirmed)\b", text):
        return "Review"
    if text.startswith("Converted"):
        return "Conversion"
    if text.startswith("Tagged") or "tagg" in text[:40].lower():
        return "Tagging"
    if re.search(r"\btrain", text, re.I):
        return "Training"
    return "Edit"


def serialize(doc: Any, fmt: str) -> bytes:
    """PROV-JSON (``json``), PROV-O Turtle (``turtle``), PROV-N (``provn``) or PROV-XML."""
    if fmt == "turtle":
        return _turtle(doc)
    return doc.serialize(format=fmt).encode()


def _turtle(doc: Any) -> bytes:
    """PROV-O Turtle, with the unqualified shortcut of every qualified relation added.

    ``prov`` writes a generation with a time, or a revision, only in its qualified form
    (``prov:qualifiedGeneration [ prov:activity ... ]``); PROV-O queries usually follow the
    direct properties (``prov:wasGeneratedBy``, ``prov:wasRevisionOf``), which the
    qualified pattern implies, so they are added with rdflib.
    """
    import rdflib
    from rdflib.namespace import PROV

    # prov's RDF serializer calls an rdflib API that rdflib 7 deprecates; not ours to fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        text = doc.serialize(format="rdf", rdf_format="turtle")
    graph = rdflib.Graph()
    graph.parse(data=text, format="turtle")
    shortcuts = {
        PROV.qualifiedGeneration: (PROV.activity, PROV.wasGeneratedBy),
        PROV.qualifiedUsage: (PROV.entity, PROV.used),
        PROV.qualifiedAssociation: (PROV.agent, PROV.wasAssociatedWith),
        PROV.qualifiedDerivation: (PROV.entity, PROV.wasDerivedFrom),
        PROV.qualifiedRevision: (PROV.entity, PROV.wasRevisionOf),
    }
    for qualified, (inner, direct) in shortcuts.items():
        for subject, node in list(graph.subject_objects(qualified)):
            for target in graph.objects(node, inner):
                graph.add((subject, direct, target))
                if direct == PROV.wasRevisionOf:
                    graph.add((subject, PROV.wasDerivedFrom, target))
    for prefix, uri in (("prov", PROV), ("tk", TK), ("corpus", _base(doc))):
        graph.bind(prefix, uri)
    return graph.serialize(format="turtle").encode()


def _base(doc: Any) -> str:
    return next(str(ns.uri) for ns in doc.namespaces if ns.prefix == "corpus")


def format_of(path: Path, fmt: str | None) -> str:
    if fmt:
        return fmt
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise ToolkitError(
            "E703",
            f"cannot tell the PROV format from {path.name!r}; name the file .json, .ttl, "
            ".provn or .xml, or pass --format",
            str(path),
        ) from None


def default_base_uri(corpus: Path, settings: dict[str, str]) -> str:
    return settings.get("base_uri") or f"urn:x-tei-corpus:{_local(corpus.resolve().name)}:"
