from __future__ import annotations

import csv
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from conftest import EPOCH, ROOT, assert_valid
from lxml import etree

from toolkit.cli import main
from toolkit.index import CSV_COLUMNS, context_of
from toolkit.validate import validate_bytes

CORPUS = ROOT / "corpus"


def invoke(*args):
    return CliRunner().invoke(main, list(map(str, args)), env={"SOURCE_DATE_EPOCH": EPOCH})


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    result = invoke("index", CORPUS / "tei", "-o", out, "--authority", CORPUS / "authority.xml")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("0 unreviewed\n")
    return out


def entities(index_dir):
    return {e["id"]: e for e in json.loads((index_dir / "index.json").read_text())["entities"]}


def test_entries_merge_across_documents(index_dir):
    found = entities(index_dir)
    ccp = found["ccp"]
    assert {v["name"] for v in ccp["variants"]} == {"CCP", "CPC"}
    assert len(ccp["documents"]) == 2
    chiang = found["chiang-kai-shek"]
    assert {v["name"] for v in chiang["variants"]} == {"Chiang Kai-shek", "Jiang Jieshi", "Chiang"}
    assert [d["document"] for d in chiang["documents"]] == [
        "academy-chongqing-negotiation-2022-07-13",
        "wilson-122807-petrov-mao-1945-09-06",
    ]
    gmd = found["gmd"]
    assert {v["name"] for v in gmd["variants"]} == {
        "Guomindang",
        "GMD",
        "KMT",
        "Guomintang",
        "Kuomintang",
    }
    assert gmd["idnos"] == [{"type": "Wikidata", "value": "Q31113"}]
    assert found["ussr"]["type"] == "place" and found["gestapo"]["type"] == "org"


def test_index_xml_is_valid(index_dir, tei_all):
    data = (index_dir / "index.xml").read_bytes()
    assert validate_bytes(data, str(index_dir / "index.xml")) == []
    assert_valid(tei_all, data)
    root = etree.fromstring(data)
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    gmd = root.xpath("//t:org[@xml:id='gmd']", namespaces=ns)[0]
    assert gmd.findtext("t:orgName[@type='main']", namespaces=ns) == "Guomindang"
    assert gmd.find("t:orgName[.='GMD']", ns).get("n") == "22"
    ptrs = gmd.findall("t:note[@type='mentions']/t:ptr", ns)
    assert len(ptrs) == 37
    doc, _, element = ptrs[0].get("target").partition("#")
    target = etree.parse(str(index_dir / doc))
    assert target.xpath("//*[@xml:id=$id]", id=element)[0].text == "KMT"


def test_every_pointer_of_index_xml_resolves(index_dir):
    root = etree.parse(str(index_dir / "index.xml"))
    cache: dict[str, set[str]] = {}
    for ptr in root.iter("{http://www.tei-c.org/ns/1.0}ptr"):
        doc, _, element = ptr.get("target").partition("#")
        if doc not in cache:
            tree = etree.parse(str(index_dir / doc))
            cache[doc] = {el.get("{http://www.w3.org/XML/1998/namespace}id") for el in tree.iter()}
        assert element in cache[doc], ptr.get("target")


def test_csv_has_one_row_per_mention(index_dir):
    with (index_dir / "index.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 170
    row = next(
        r for r in rows if r["surface"] == "Jiang Jieshi" and r["document"].startswith("wilson")
    )
    assert row["entity_id"] == "chiang-kai-shek"
    assert row["element_id"].startswith("n-")  # stable, content-derived mention ids
    assert "Chiang Kai-shek Jiang Jieshi are striving" in row["context"]


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.stylesheets: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and "href" in attrs:
            self.hrefs.append(attrs["href"])
        if tag == "link" and attrs.get("rel") == "stylesheet":
            self.stylesheets.append(attrs["href"])
        if tag not in ("meta", "br", "img", "link", "input", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()


def parse_html(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text(encoding="utf-8"))
    links.close()
    assert links.stack == [], f"{path}: unclosed {links.stack}"
    return links


def test_html_is_well_formed_and_every_internal_link_works(index_dir):
    pages = {
        p: parse_html(p)
        for p in [
            index_dir / "index.html",
            index_dir / "map.html",
            index_dir / "timeline.html",
            *sorted((index_dir / "docs").glob("*.html")),
        ]
    }
    assert len(pages) == 5
    for page, links in pages.items():
        assert [(page.parent / css).resolve() for css in links.stylesheets] == [
            (index_dir / "register.css").resolve()
        ]
        for href in links.hrefs:
            file, _, anchor = href.partition("#")
            target = (page.parent / unquote(file)).resolve() if file else page
            assert target in pages, f"{page.name}: {href} leads nowhere"
            if anchor:
                assert anchor in pages[target].ids, f"{page.name}: {href} has no target"
    register = (index_dir / "index.html").read_text()
    assert register.index('<h2 id="person">Persons ') < register.index("Apollon Petrov")
    # alphabetical within a type
    assert (
        register.index("<h3>Apollon Petrov<")
        < register.index("<h3>Chiang Kai-shek<")
        < register.index("<h3>Zhou Enlai<")
    )


def test_context_window():
    text = "word " * 40 + "Mao Zedong" + " word" * 40
    left, key, right = context_of(text, 200, 210)
    assert key == "Mao Zedong"
    assert left.startswith("…word") and right.endswith("word…")
    assert len(left) <= 82 and len(right) <= 82


@pytest.fixture
def corpus_copy(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copytree(CORPUS / "sources", corpus / "sources")
    shutil.copy(CORPUS / "authority.xml", corpus / "authority.xml")
    return corpus


def test_build_is_incremental_and_keeps_hand_corrections(corpus_copy):
    first = invoke("build", corpus_copy)
    assert first.exit_code == 0, first.output
    assert "(2 converted, 0 unchanged, 2 through the model, 2 re-tagged)" in first.output
    assert "validation: 0 error(s), 0 warning(s)" in first.output
    tei = corpus_copy / "tei" / "academy-chongqing-negotiation-2022-07-13.xml"
    # An editor corrects a tag by hand: "Britain" becomes a human-made tag of another entity.
    corrected = tei.read_text().replace(
        '<placeName ref="auth:britain" resp="#toolkit-authority"', '<placeName ref="auth:usa"'
    )
    assert corrected != tei.read_text()
    tei.write_text(corrected)
    second = invoke("build", corpus_copy)
    assert second.exit_code == 0, second.output
    assert "(0 converted, 2 unchanged, " in second.output
    # (the edited file may be rewritten: the editor's decision is recorded in it)
    assert 'ref="auth:usa" xml:id=' in tei.read_text()  # the correction survived
    usa = entities(corpus_copy / "index")["usa"]
    assert "Britain" in {v["name"] for v in usa["variants"]}  # and shows in the index


def test_candidates_are_marked_for_review(corpus_copy):
    (corpus_copy / "sources" / "extra.txt").write_text(
        "A note\n\nGeneral Fu Zuoyi met Mao Zedong in the town of Zhangjiakou."
    )
    result = invoke("build", corpus_copy)
    assert result.exit_code == 0, result.output
    found = entities(corpus_copy / "index")
    candidates = {k: v for k, v in found.items() if not v["reviewed"]}
    assert candidates, result.output
    assert all(k.startswith("cand-") for k in candidates)
    register = (corpus_copy / "index" / "index.html").read_text()
    assert register.count("unreviewed candidate") == len(candidates)


def test_build_reports_a_bad_source_and_goes_on(corpus_copy):
    (corpus_copy / "sources" / "empty.txt").write_bytes(b"")
    result = invoke("build", corpus_copy)
    assert result.exit_code == 1
    assert (
        f"error: {corpus_copy / 'sources' / 'empty.txt'}: [E102] the file is empty" in result.output
    )
    assert (corpus_copy / "index" / "index.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: chromium)")
def test_register_renders_in_a_browser(index_dir, tmp_path):
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    page = (index_dir / "index.html").resolve().as_uri()
    dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert '<h2 id="person">Persons ' in dom and "Mao Zedong" in dom
    link = next(h for h in Links_hrefs(dom) if h.startswith("docs/") and "#" in h)
    target = (index_dir / link).as_posix()
    doc_dom = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", Path(target.split("#")[0]).resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert f'id="{link.split("#")[1]}"' in doc_dom


def Links_hrefs(dom: str) -> list[str]:
    links = Links()
    links.handle_endtag = lambda tag: None  # Chromium's DOM dump is not checked for nesting here
    links.feed(dom)
    return links.hrefs


def test_gazetteer_identifiers_of_candidates_reach_the_index(tmp_path):
    """A place linked by the gazetteer is an unreviewed candidate carrying GeoNames (and, for
    a country, Wikidata) ids in the document's standOff; the index lists them with the entry."""
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "note.txt").write_text(
        "Note on the grain talks\n\nThe delegation travelled from Rotterdam to Leningrad in "
        "March 1951 and met the ministers there.\n"
    )
    result = invoke("build", tmp_path)
    assert result.exit_code == 0, result.output
    found = entities(tmp_path / "index")
    places = {e["id"]: e for e in found.values() if e["type"] == "place"}
    rotterdam = next(e for e in places.values() if "rotterdam" in e["id"])
    kinds = {i["type"] for i in rotterdam["idnos"]}
    assert "GeoNames" in kinds
    # Leningrad is a historical name of Saint Petersburg (Wikidata Q656) in the curated table
    leningrad = next(e for e in places.values() if e is not rotterdam)
    assert {"type": "Wikidata", "value": "Q656"} in leningrad["idnos"]
    index_xml = etree.parse(str(tmp_path / "index" / "index.xml"))
    assert index_xml.xpath("//*[local-name()='place']/*[local-name()='idno'][@type='GeoNames']")
    import sqlite3

    with sqlite3.connect(tmp_path / "index" / "index.sqlite") as db:
        row = db.execute(
            "SELECT wikidata FROM entities WHERE id = ?", (leningrad["id"],)
        ).fetchone()
    assert row == ("Q656",)


def test_a_stem_two_documents_share_keeps_its_suffix_and_a_unique_stem_drops_it(tmp_path):
    first, second = sorted((CORPUS / "tei").glob("*.xml"))[:2]
    tei = tmp_path / "tei"
    for folder in ("a", "b"):
        (tei / folder).mkdir(parents=True)
        shutil.copy(first, tei / folder / first.name)
    shutil.copy(second, tei / second.name)
    out = tmp_path / "index"
    result = invoke("index", tei, "-o", out, "--authority", CORPUS / "authority.xml")
    assert result.exit_code == 0, result.output
    ids = [d["document"] for d in json.loads((out / "index.json").read_text())["documents"]]
    shared = [i for i in ids if i.startswith(first.stem + "-")]
    assert len(shared) == 2 and len(set(shared)) == 2
    assert all(len(i) == len(first.stem) + 9 for i in shared)
    assert second.stem in ids and len(ids) == 3
    assert sorted(p.stem for p in (out / "docs").glob("*.html")) == sorted(ids)
