"""Benchmark of ``toolkit train``: does fine-tuning on reviewed documents help, and at what cost?

Corpus: the 99 hand-annotated archival records of tests/data/train/records (letters,
conversation records, telegrams, reports, newspaper items, 1937-1962; written for this project,
names marked by hand, see tests/data/README.md), built into reviewed TEI documents. Every
fourth record (sorted by name) is held out (24); the other 75 are the training corpus, together
with the seed corpus's two TEI files, which are not reviewed and so serve only as rehearsal
text. ``toolkit.train.train`` then splits the 75 into its own train and dev documents.

Reports, for the base pipeline and the trained one:
- held-out P/R/F1 per type (exact spans, no authority file: the model alone), with the model's
  entities as they are on the text as it is ("raw") and as ``toolkit tag`` takes them
  ("cleaned": ``entities.find_mentions`` on a freshly loaded pipeline, so a text in capitals is
  given to the model in restored case, a leading "the" and a trailing "'s" are trimmed,
  furniture and lower-case entities dropped; this is what ends up in the TEI);
- EHRI-NER English (``--ehri FILE``, default ../shared/eval/ehri-ner-en/ehri_en.txt; never
  trained on) with the raw model entities and the cleaned ones (``toolkit_entities``);
- training time, and words/s of ``nlp.pipe`` (tok2vec + ner, as ``toolkit tag`` loads it) over
  the same texts, best of three, with the ratio trained/base.

Run: ``.venv/bin/python bench/bench_train.py [--ehri FILE] [--seed N] [--max-epochs N]
[--patience N]`` (defaults 30 and 8, as ``toolkit train --max-epochs 30 --patience 8``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.entities import (  # noqa: E402
    LABELS,
    find_mentions,
    load_pipeline,
    raw_entities,
    toolkit_entities,
)
from toolkit.evaluation import evaluate, read_iob  # noqa: E402
from toolkit.train import (  # noqa: E402
    corpus_files,
    read_corpus,
    score_pairs,
    train,
)

TYPES = ("person", "place", "org", "all")


def _builder():  # type: ignore[no-untyped-def]
    path = ROOT / "tests" / "data" / "train" / "build_corpus.py"
    spec = importlib.util.spec_from_file_location("build_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def held_out_scores(nlp, docs, *, raw: bool = False):  # type: ignore[no-untyped-def]
    """Exact-span scores on the held-out gold: the mentions ``toolkit tag`` takes from the model
    (``find_mentions``: a text in capitals given in restored case, entities cleaned), or with
    ``raw`` the model's entities as they are on the text as it is."""
    texts = [t.text for d in docs for t in d.texts]
    gold = [set(t.mentions) for d in docs for t in d.texts]
    if raw:
        found = (
            {(e.start_char, e.end_char, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS}
            for doc in nlp.pipe(texts, batch_size=64)
        )
    else:
        found = (
            {(m.start, m.end, m.type) for m in mentions}
            for mentions, _ in find_mentions(nlp, ((t, None) for t in texts), batch_size=64)
        )
    return score_pairs((f, g, set()) for f, g in zip(found, gold, strict=True))


def words_per_second(pipelines, texts: list[str], rounds: int = 3) -> list[float]:  # type: ignore[no-untyped-def]
    """Best of ``rounds`` for each pipeline, the pipelines taking turns (a shared machine's
    load then hits both alike)."""
    words = sum(len(t.split()) for t in texts)
    best = [float("inf")] * len(pipelines)
    for _ in range(rounds):
        for i, nlp in enumerate(pipelines):
            start = time.perf_counter()
            for _doc in nlp.pipe(texts, batch_size=256):
                pass
            best[i] = min(best[i], time.perf_counter() - start)
    return [words / b for b in best]


def row(name: str, scores) -> str:  # type: ignore[no-untyped-def]
    cells = " ".join(
        f"{scores[t].precision:.3f}/{scores[t].recall:.3f}/{scores[t].f1:.3f}" for t in TYPES
    )
    return f"{name:<22} {cells}"


def fresh(model: str | None):  # type: ignore[no-untyped-def]
    """A freshly loaded pipeline, as a ``toolkit tag`` run starts with (the case restoration
    of texts in capitals reads the pipeline's string store, which grows with every text)."""
    return load_pipeline(model, None)[0]


def measure(model_dir: Path, held_docs, ehri: Path, *, speed: bool = True) -> dict:  # type: ignore[no-untyped-def]
    """Print and return the held-out, EHRI-NER and speed figures of base and trained model."""
    base_nlp, base_info = load_pipeline(None, None)
    tuned_nlp, tuned_info = load_pipeline(str(model_dir), None)
    print(f"models: {base_info.name} {base_info.version} -> {tuned_info.name} {tuned_info.version}")
    header = f"{'':<22} " + " ".join(f"{t + ' P/R/F1':<17}" for t in TYPES)
    held_base = held_out_scores(fresh(None), held_docs)
    held_tuned = held_out_scores(fresh(str(model_dir)), held_docs)
    print(f"\nheld-out documents ({len(held_docs)})\n" + header)
    print(row("base raw", held_out_scores(base_nlp, held_docs, raw=True)))
    print(row("trained raw", held_out_scores(tuned_nlp, held_docs, raw=True)))
    print(row("base cleaned", held_base))
    print(row("trained cleaned", held_tuned))
    delta = {t: held_tuned[t].f1 - held_base[t].f1 for t in TYPES}
    print("F1 change (cleaned): " + ", ".join(f"{t} {delta[t]:+.3f}" for t in TYPES))

    results = {}
    if ehri.exists():
        sentences = read_iob(ehri.read_text(encoding="utf-8"))
        base_tag, tuned_tag = fresh(None), fresh(str(model_dir))
        results = evaluate(
            sentences,
            {
                "base raw": lambda texts: raw_entities(base_nlp, texts),
                "trained raw": lambda texts: raw_entities(tuned_nlp, texts),
                "base cleaned": lambda texts: toolkit_entities(base_tag, texts),
                "trained cleaned": lambda texts: toolkit_entities(tuned_tag, texts),
            },
        )
        print(f"\nEHRI-NER English ({len(sentences)} sentences)\n" + header)
        for name, scores in results.items():
            print(row(name, scores))
        for kind in ("raw", "cleaned"):
            base, tuned = results[f"base {kind}"], results[f"trained {kind}"]
            print(
                f"EHRI {kind} F1 change: "
                + ", ".join(f"{t} {tuned[t].f1 - base[t].f1:+.3f}" for t in TYPES)
            )
        texts = [s.text for s in sentences]
    else:
        print(f"\n(no EHRI-NER file at {ehri}; skipped)")
        texts = [t.text for d in held_docs for t in d.texts] * 50
    figures = {
        "held_out": {
            "base": {t: held_base[t].f1 for t in TYPES},
            "trained": {t: held_tuned[t].f1 for t in TYPES},
        },
        "ehri": {k: {t: v[t].f1 for t in TYPES} for k, v in results.items()},
    }
    if speed:
        base_wps, tuned_wps = words_per_second([base_nlp, tuned_nlp], texts)
        print(
            f"\ntagging speed (nlp.pipe, tok2vec + ner): base {base_wps:,.0f} words/s, "
            f"trained {tuned_wps:,.0f} words/s, ratio {tuned_wps / base_wps:.2f}"
        )
        figures["words_per_second"] = {"base": base_wps, "trained": tuned_wps}
    return figures


def split_records(bc):  # type: ignore[no-untyped-def]
    """(trainable, held out): every fourth record by sorted name is held out."""
    records = bc.records()
    held = [r for i, r in enumerate(records) if i % 4 == 3]
    return [r for r in records if r not in held], held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ehri", type=Path, default=ROOT.parent / "shared" / "eval" / "ehri-ner-en" / "ehri_en.txt"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=8)
    parser.add_argument("--json", type=Path, help="Also write the figures as JSON here.")
    args = parser.parse_args()
    if not args.ehri.exists():
        alt = Path("/work/shared/eval/ehri-ner-en/ehri_en.txt")
        args.ehri = alt if alt.exists() else args.ehri

    bc = _builder()
    trainable, held = split_records(bc)
    work = Path(tempfile.mkdtemp(prefix="bench-train-"))
    try:
        corpus = work / "corpus" / "tei"
        bc.write_corpus(trainable, corpus)
        for seed_file in sorted((ROOT / "corpus" / "tei").glob("*.xml")):
            shutil.copy(seed_file, corpus / seed_file.name)  # unreviewed: rehearsal text only
        held_docs = read_corpus(bc.write_corpus(held, work / "held")).reviewed
        words = sum(
            len(t.text.split()) for d in read_corpus(corpus_files(corpus)).reviewed for t in d.texts
        )
        print(
            f"corpus: {len(trainable)} reviewed training documents ({words} words) + 2 unreviewed; "
            f"{len(held)} held out"
        )
        model_dir = work / "model"
        epochs: list[str] = []
        start = time.perf_counter()
        report = train(
            corpus_files(corpus.parent),
            model_dir,
            seed=args.seed,
            max_epochs=args.max_epochs,
            patience=args.patience,
            force=True,
            progress=lambda p: epochs.append(f"{p.epoch}:{p.dev_f1:.3f}"),
        )
        seconds = time.perf_counter() - start
        print(
            f"training: {seconds:.1f} s, {report.epochs} epochs; dev F1 by epoch {' '.join(epochs)}"
        )
        print(
            f"dev (inside train): base F1 {report.before['all'].f1:.3f} -> "
            f"trained {report.after['all'].f1:.3f}"
        )
        figures = measure(model_dir, held_docs, args.ehri)
        figures["training_seconds"] = seconds
        if args.json:
            args.json.write_text(json.dumps(figures, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
