"""toolkit train: reviewed-only data, a tiny real training run, determinism, refusal, Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest
import spacy
from click.testing import CliRunner
from conftest import DATA, ROOT
from lxml import etree
from spacy.tokens import DocBin

from toolkit.cli import main
from toolkit.entities import load_pipeline
from toolkit.errors import ToolkitError
from toolkit.reviewed import mark_reviewed
from toolkit.train import (
    RefusedError,
    TrainError,
    corpus_files,
    model_version,
    read_corpus,
    split_documents,
    train,
    trained_meta,
)
from toolkit.validate import validate_bytes

TRAIN = DATA / "train"
EXTRA = TRAIN / "extra.iob"
_spec = importlib.util.spec_from_file_location("build_corpus", TRAIN / "build_corpus.py")
bc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bc)  # type: ignore[union-attr]

# Four short records: three train, one dev (the second, with seed 0; checked below).
SMALL = ["01-telegram-warsaw-1946", "05-newspaper-jta-1948", "10-newspaper-times-1956",
         "21-newspaper-jta-1946-cyprus"]  # fmt: skip
UNREVIEWED = b"""<?xml version='1.0' encoding='UTF-8'?>
<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>Draft</title>\
</titleStmt><publicationStmt><p>x</p></publicationStmt><sourceDesc><p>x</p></sourceDesc>\
</fileDesc><revisionDesc status="draft"><change when="2024-01-01">Tagged.</change></revisionDesc>\
</teiHeader><text><body><p>The delegation flew from <persName resp="#toolkit-ner">Moscow\
</persName> to <orgName>Vienna</orgName> on Monday, and <placeName resp="#toolkit-ner">Gromyko\
</placeName> met the press.</p></body></text></TEI>
"""


def _corpus(folder: Path, names: list[str] = SMALL) -> Path:
    tei = folder / "tei"
    bc.write_corpus([bc.RECORDS / f"{n}.txt" for n in names], tei)
    (tei / "zz-draft.xml").write_bytes(UNREVIEWED)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny real run through the CLI: 4 reviewed records + 1 draft + an IOB file."""
    folder = _corpus(tmp_path_factory.mktemp("corpus"))
    model = folder / "model"
    result = CliRunner().invoke(
        main,
        [
            "train",
            str(folder),
            "-o",
            str(model),
            "--extra",
            str(EXTRA),
            "--max-epochs",
            "2",
            "--seed",
            "0",
            "--force",
        ],
    )
    return folder, model, result


def test_split_is_by_document_seeded_and_stable():
    ids = [f"doc{i:02d}.xml" for i in range(20)]
    train_ids, dev_ids = split_documents(ids, seed=0)
    assert len(dev_ids) == 5 and sorted(train_ids + dev_ids) == ids
    assert split_documents(list(reversed(ids)), seed=0) == (train_ids, dev_ids)
    assert split_documents(ids, seed=1) != (train_ids, dev_ids)
    assert split_documents([f"{n}.xml" for n in SMALL], seed=0)[1] == [f"{SMALL[1]}.xml"]


def test_only_reviewed_documents_are_gold(tmp_path):
    corpus = read_corpus(corpus_files(_corpus(tmp_path)))
    assert [d.id for d in corpus.reviewed] == [f"{n}.xml" for n in SMALL]
    gold = {
        (t.text[s:e], kind) for d in corpus.reviewed for t in d.texts for s, e, kind in t.mentions
    }
    assert ("Bergen-Belsen", "place") in gold and ("Jewish Agency", "org") in gold
    # The draft's text is rehearsal text; its tags (machine or human) are never gold.
    assert any("Moscow" in text for text in corpus.unreviewed)
    assert ("Moscow", "person") not in gold and ("Gromyko", "place") not in gold
    counted = sum(d.mentions for d in corpus.reviewed)
    expected = sum(len(m) for n in SMALL for _, m in bc.gold_mentions(bc.RECORDS / f"{n}.txt"))
    assert counted == expected


def test_the_tiny_run_writes_a_loadable_model_with_its_record(trained):
    _, model, result = trained
    assert result.exit_code == 0, result.output
    assert re.search(
        r"^all\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+$", result.output, re.M
    )
    assert "3 train / 1 dev document(s), 4 extra sentence(s)" in result.output
    nlp = spacy.load(model)
    assert nlp.pipe_names == ["tok2vec", "ner"]
    assert nlp("Andrei Gromyko flew to Warsaw.").ents is not None
    record = trained_meta(model)
    meta = json.loads((model / "meta.json").read_text())
    assert meta["name"].endswith("_toolkit")
    assert meta["version"] == model_version(record["base"]["version"], record["training_sha256"])
    # tei_all's pattern for application/@version (teidata.versionNumber)
    assert re.fullmatch(r"[\d]+[a-z]*[\d]*(\.[\d]+[a-z]*[\d]*){0,3}", meta["version"])
    assert record["base"]["name"].startswith("en_core_web_sm")
    assert re.fullmatch(r"[0-9a-f]{64}", record["training_sha256"])
    assert record["documents"]["train"] == 3 and record["documents"]["dev"] == 1
    assert record["documents"]["extra_sentences"] == 4
    assert record["documents"]["rehearsal_texts"] == 1
    assert record["mentions"]["org"] > 0 and record["seed"] == 0 and record["epochs"] == 2
    assert set(record["dev_before"]) == {"person", "place", "org", "all"}
    assert 0 <= record["dev_after"]["all"]["f"] <= 1
    config = (model / "training" / "config.cfg").read_text()
    assert "[components.ner]\nsource = " in config
    assert 'frozen_components = ["tok2vec"]' in config and "max_steps = " in config


def test_unreviewed_tags_never_reach_the_training_data(trained):
    _, model, _ = trained
    docs = list(
        DocBin().from_disk(model / "training" / "train.spacy").get_docs(spacy.blank("en").vocab)
    )
    labels = {(e.text, e.label_) for doc in docs for e in doc.ents}
    draft = [doc for doc in docs if "Gromyko met the press" in doc.text]
    assert len(draft) == 1  # the draft is rehearsal text, labelled by the base model only
    assert ("Moscow", "PERSON") not in labels and ("Gromyko", "GPE") not in labels
    assert ("Vienna", "ORG") not in labels
    # IOB extras are in: the organization of the first sentence, its DATE left unannotated.
    assert ("Joint Distribution Committee", "ORG") in labels


def test_capitals_are_trained_as_tag_reads_them_and_the_base_strings_are_kept(trained):
    """A telegram in capitals is given to the model in restored case by ``toolkit tag``
    (entities.restore_case): training uses that text, and the trained model keeps the base's
    string store, so its restoration is the base's ("KIELCE" stays a name)."""
    _, model, _ = trained
    docs = list(
        DocBin().from_disk(model / "training" / "train.spacy").get_docs(spacy.blank("en").vocab)
    )
    text = " ".join(doc.text for doc in docs)
    assert "KIELCE" not in text and "CONFIRM THAT" not in text
    assert ("Kielce", "GPE") in {(e.text, e.label_) for doc in docs for e in doc.ents}
    strings = set(json.loads((model / "vocab" / "strings.json").read_text()))
    base = set(load_pipeline(None, None)[0].vocab.strings)
    assert strings == base and "kielce" not in strings


def test_same_inputs_and_seed_give_the_same_scores(trained, tmp_path):
    folder, model, _ = trained
    report = train(
        corpus_files(folder), tmp_path / "again", extra=[EXTRA], seed=0, max_epochs=2, force=True
    )
    first = trained_meta(model)
    again = trained_meta(tmp_path / "again")
    assert again["training_sha256"] == first["training_sha256"] == report.training_sha256
    assert again["dev_before"] == first["dev_before"]
    assert again["dev_after"] == first["dev_after"]


def test_a_model_worse_than_the_base_on_dev_is_refused(tmp_path):
    """Train documents whose editor swapped the types; the dev document is annotated right."""
    dev = SMALL[1]
    records = tmp_path / "records"
    records.mkdir()
    swap = {"P": "L", "L": "O", "O": "P"}
    for name in SMALL:
        text = (bc.RECORDS / f"{name}.txt").read_text()
        if name != dev:
            text = re.sub(r"\|([PLO])\}\}", lambda m: f"|{swap[m.group(1)]}}}}}", text)
        (records / f"{name}.txt").write_text(text)
    folder = tmp_path / "corpus"
    bc.write_corpus(sorted(records.glob("*.txt")), folder / "tei")
    with pytest.raises(RefusedError) as info:
        train(corpus_files(folder), tmp_path / "model", seed=0, max_epochs=2, learn_rate=0.005)
    assert info.value.code == "E633"
    assert info.value.report.after["all"].f1 < info.value.report.before["all"].f1
    assert not (tmp_path / "model").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".model")]  # no debris


def test_ctrl_c_keeps_the_best_model_so_far(tmp_path):
    folder = _corpus(tmp_path / "c", SMALL)

    def interrupt(progress):  # type: ignore[no-untyped-def]
        if progress.epoch == 2:
            raise KeyboardInterrupt

    report = train(
        corpus_files(folder), tmp_path / "model", seed=0, max_epochs=5, force=True,
        progress=interrupt,
    )  # fmt: skip
    assert report.interrupted and report.written and report.epochs == 2
    assert trained_meta(tmp_path / "model")["interrupted"] is True
    spacy.load(tmp_path / "model")


def test_tagging_with_the_trained_model_names_it(trained, tmp_path):
    _, model, _ = trained
    source = tmp_path / "note.txt"
    source.write_text(
        "Note on the talks\n\nAndrei Gromyko met Zhou Enlai in Geneva on 3 May 1954, and the "
        "Foreign Office in London was informed by Anthony Eden.\n"
    )
    work = tmp_path / "tei"
    runner = CliRunner()
    result = runner.invoke(main, ["convert", str(source), "-o", str(work), "--format", "plain"])
    assert result.exit_code == 0, result.output
    authority = str(ROOT / "corpus" / "authority.xml")
    result = runner.invoke(
        main, ["tag", str(work), "--model", str(model), "--authority", authority]
    )
    assert result.exit_code == 0, result.output
    text = (work / "note.xml").read_text()
    sha = trained_meta(model)["training_sha256"]
    meta = json.loads((model / "meta.json").read_text())
    name = f"{meta['lang']}_{meta['name']}"
    root = etree.fromstring(text.encode())
    ns = {"tei": "http://www.tei-c.org/ns/1.0"}
    app = root.find(f".//tei:appInfo/tei:application[@ident='{name}']", ns)
    assert app is not None, text[:3000]
    assert app.get("version") == meta["version"]
    assert app.findtext("tei:label", namespaces=ns).endswith(f"training data SHA-256 {sha}")
    resp = root.xpath(
        ".//tei:titleStmt/tei:respStmt[@xml:id='toolkit-ner']/tei:name", namespaces=ns
    )[0]
    assert f"pipeline {name} {meta['version']} (tok2vec, ner), fine-tuned by toolkit train" in (
        resp.text
    )
    assert resp.text.endswith(f"training data SHA-256 {sha}")
    assert str(model) not in text  # named by what it is, not where it lies
    assert validate_bytes(text.encode(), "t.xml", authority=authority) == []


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("none reviewed", "E630"),
        ("one reviewed", "E631"),
        ("bad iob", "E632"),
        ("occupied output", "E634"),
    ],
)
def test_coded_errors(tmp_path, setup, code):
    tei = tmp_path / "corpus" / "tei"
    tei.mkdir(parents=True)
    (tei / "draft.xml").write_bytes(UNREVIEWED)
    extra: list[Path] = []
    output = tmp_path / "model"
    if setup != "none reviewed":
        (tei / "a.xml").write_bytes(mark_reviewed(UNREVIEWED, "jdoe", "2024-01-01"))
    if setup in ("bad iob", "occupied output"):
        (tei / "b.xml").write_bytes(mark_reviewed(UNREVIEWED, "jdoe", "2024-01-01"))
    if setup == "bad iob":
        bad = tmp_path / "bad.iob"
        bad.write_text("one two three\nfour PERSON\n")
        extra = [bad]
    if setup == "occupied output":
        output.mkdir()
        (output / "notes.txt").write_text("mine")
    with pytest.raises(ToolkitError) as info:
        train(corpus_files(tmp_path / "corpus"), output, extra=extra, max_epochs=1)
    assert info.value.code == code
    assert isinstance(info.value, TrainError)


def test_cli_reports_errors_with_codes_and_exit_status(tmp_path):
    tei = tmp_path / "tei"
    tei.mkdir()
    (tei / "draft.xml").write_bytes(UNREVIEWED)
    result = CliRunner().invoke(main, ["train", str(tmp_path)])
    assert result.exit_code == 2
    assert "[E630]" in result.output and "Traceback" not in result.output
