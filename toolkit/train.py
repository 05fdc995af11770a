"""Fine-tune the NER model on the corpus's reviewed annotations (``toolkit train``).

Training data
    Reviewed TEI documents only (``revisionDesc/@status="reviewed"``, see
    :mod:`toolkit.reviewed`): every ``persName``, ``placeName`` and ``orgName`` of their body is
    a gold mention, and every other stretch of their text is gold "not a name" for those three
    types. Tags of unreviewed documents are never training data, whoever made them.
    ``--extra`` IOB files (``token TAG`` lines, EHRI-NER format) add gold sentences; they are
    training data only (never dev), because the dev set measures the corpus's own domain.

Labels
    ``persName`` -> PERSON, ``orgName`` -> ORG, ``placeName`` -> GPE, or LOC / FAC where the base
    model gives that label to exactly the same span (the toolkit maps all three to places, see
    ``entities.LABELS``, so this only keeps the model's own distinction where it already holds).
    IOB: PER/PERS -> PERSON, ORG -> ORG, LOC -> GPE (same LOC/FAC rule); other IOB types (DATE,
    CAMP, GHETTO) are left unannotated ("missing": no loss either way).

Text
    Every text (gold, dev, rehearsal) is the text as ``toolkit tag`` gives it to the model: a
    block in capitals (telegrams) in restored case (:func:`toolkit.entities.restore_case` with
    the base's string store; same length, so the gold offsets hold). The model learns and is
    scored on what it will see. The trained model keeps the base's string store
    (``vocab/strings.json``), so ``tag`` restores capitals with it exactly as with the base.

Forgetting
    Two guards. (1) Pseudo-rehearsal: blocks of unreviewed documents, labelled by the base
    model itself (all of its labels), are mixed into the training set (``rehearsal`` x the gold
    training words; deterministic sample), so the model keeps predicting what it predicted on
    text nobody reviewed. (2) Within gold text, the base model's entities of labels outside the
    three (DATE, NORP, CARDINAL ...) are kept as annotation, so the fine-tuning does not teach
    the model to drop them. ``tok2vec`` is frozen (the small model's ``ner`` has its own
    embedding layer and is what is trained).

Training
    spaCy's own machinery: a config (``[components.ner] source = BASE``) is written to
    ``MODEL_DIR/training/config.cfg`` with the data (``train.spacy``, ``dev.spacy``), then
    ``spacy.training.initialize.init_nlp`` and ``spacy.training.loop.train`` run it. Evaluation
    happens on dev at the start and after every epoch (spaCy evaluates every
    ``eval_frequency`` = batches-per-epoch steps, and ``max_steps`` ends the run right after the
    evaluation of the last epoch) with the toolkit's own scorer (exact character spans, the
    three types, model entities cleaned exactly as ``toolkit tag`` cleans them); the best epoch is
    kept. ``patience`` counts epochs without improvement. Interrupting (Ctrl-C) keeps the best
    model so far and finishes normally. Defaults (measured with ``bench/bench_train.py``, see
    the README): Adam with learning rate 0.0005 and parameter averaging (``averages``: the
    model evaluated and kept is the running average of the weights, which makes the dev curve
    smooth enough for the best-epoch choice to mean something), dropout 0.2, batches of 8
    texts, at most 30 epochs, patience 8.

Split and refusal
    Reviewed documents are split into train and dev by a seeded hash of their file name (so
    adding a document never moves another one), ``dev_fraction`` of them (at least one) to dev.
    Dev P/R/F1 per type are measured for the base model and the trained one; a trained model
    whose overall dev F1 is lower than the base's is not written unless ``force`` (E633).

Output
    ``MODEL_DIR`` is a spaCy pipeline (``spacy.load(MODEL_DIR)``; ``toolkit tag --model
    MODEL_DIR``). Its ``meta.json`` names it ``<base>_toolkit`` with version ``<base
    version>.<first 32 bits of the training-data SHA-256 in decimal>`` (see
    :func:`model_version`) and holds
    ``toolkit_training``: base model name and version, the SHA-256 of the training data (the
    canonical JSON of every example: text, spans, labels; see :func:`data_sha256`), documents
    and mentions per type, dev scores before and after, seed, epochs and settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import filter_spans

from .entities import LABELS, _acronyms, load_pipeline, mentions_of, restore_case
from .errors import ToolkitError
from .evaluation import TYPES, Score, read_iob
from .reviewed import is_reviewed
from .tei import NS, iter_blocks, parse_bytes, read_block, require_tei

GOLD_LABEL = {"person": "PERSON", "place": "GPE", "org": "ORG"}
NAME_TYPES = {"persName": "person", "placeName": "place", "orgName": "org"}
KEEP_PLACE_LABELS = frozenset({"LOC", "FAC"})
TRAINING_KEY = "toolkit_training"
_IOB_LINE = re.compile(r"^\S+ (?:O|[BI]-[A-Za-z_]+)$")
LOGGER = "toolkit.TrainProgress.v1"

Mention3 = tuple[int, int, str]


class TrainError(ToolkitError):
    """Training cannot run, or its result is refused."""


@dataclass(frozen=True)
class GoldText:
    """One block (or IOB sentence) of gold text: mentions as (start, end, toolkit type)."""

    text: str
    mentions: tuple[Mention3, ...]
    missing: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class GoldDocument:
    id: str
    texts: tuple[GoldText, ...]

    @property
    def mentions(self) -> int:
        return sum(len(t.mentions) for t in self.texts)


@dataclass(frozen=True)
class Corpus:
    """What a corpus offers for training: reviewed documents, unreviewed text, bad files."""

    reviewed: tuple[GoldDocument, ...]
    unreviewed: tuple[str, ...]
    errors: tuple[ToolkitError, ...] = ()


@dataclass(frozen=True)
class Progress:
    """One evaluation on dev: after ``epoch`` full passes over the training data (and the
    first batch of the next; epoch 0 is the start)."""

    epoch: int
    max_epochs: int
    step: int
    loss: float
    dev_f1: float
    best_f1: float


@dataclass(frozen=True)
class TrainReport:
    model_dir: Path
    written: bool
    base: str
    base_version: str
    training_sha256: str
    documents: dict[str, int]
    mentions: dict[str, int]
    before: dict[str, Score]
    after: dict[str, Score]
    seed: int
    epochs: int
    interrupted: bool
    seconds: float
    errors: tuple[ToolkitError, ...] = field(default=())


_progress: ContextVar[Callable[[Progress], None] | None] = ContextVar("progress", default=None)


# --- reading the corpus ---------------------------------------------------------------------


def corpus_files(corpus: Path) -> list[Path]:
    """The TEI files of a corpus folder (``CORPUS/tei/*.xml``, else ``CORPUS/*.xml``) or a file."""
    if corpus.is_file():
        return [corpus]
    folder = corpus / "tei" if (corpus / "tei").is_dir() else corpus
    if not folder.is_dir():
        raise TrainError("E630", "not a corpus folder or TEI file; give CORPUS", str(corpus))
    return sorted(folder.glob("*.xml"))


def read_corpus(paths: Iterable[Path]) -> Corpus:
    """Gold documents from reviewed files, plain block texts from the others.

    A file that cannot be read or parsed is reported in ``errors``; the rest are read.
    """
    reviewed, unreviewed, errors = [], [], []
    for path in paths:
        try:
            tree = parse_bytes(path.read_bytes(), str(path))
            root = require_tei(tree, str(path))
            blocks = [read_block(el, i) for i, el in enumerate(iter_blocks(_body(root)))]
        except OSError as exc:
            errors.append(ToolkitError("E205", f"cannot read the file ({exc.strerror})", str(path)))
            continue
        except ToolkitError as exc:
            exc.path = str(path)
            errors.append(exc)
            continue
        if is_reviewed(root):
            texts = tuple(
                GoldText(
                    text,
                    tuple(
                        sorted(
                            (s.start, s.end, NAME_TYPES[s.tag])
                            for s in spans
                            if s.tag in NAME_TYPES and s.end > s.start
                        )
                    ),
                )
                for text, spans in blocks
                if text.strip()
            )
            reviewed.append(GoldDocument(path.name, texts))
        else:
            unreviewed += [text for text, _ in blocks if text.strip()]
    return Corpus(tuple(reviewed), tuple(unreviewed), tuple(errors))


def _body(root: Any) -> Any:
    return root.find("tei:text/tei:body", NS)


def read_extra(path: Path) -> list[GoldText]:
    """Gold sentences of an IOB file (EHRI-NER format); other types become "missing"."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise TrainError("E632", f"cannot read the IOB file ({reason})", str(path)) from None
    bad = [
        i
        for i, line in enumerate(text.splitlines(), 1)
        if line.strip() and not _IOB_LINE.match(line.strip())
    ]
    if bad or not text.strip():
        raise TrainError(
            "E632",
            "not an IOB file: expected 'token TAG' lines (TAG O, B-TYPE or I-TYPE) with blank "
            "lines between sentences",
            str(path),
            bad[0] if bad else None,
        )
    return [
        GoldText(s.text, tuple(sorted(s.entities)), tuple(sorted(s.ignored)))
        for s in read_iob(text)
    ]


# --- split, hash ----------------------------------------------------------------------------


def split_documents(
    ids: Sequence[str], seed: int, dev_fraction: float = 0.25
) -> tuple[list[str], list[str]]:
    """Deterministic document-level split: (train ids, dev ids), each sorted.

    Documents are ranked by SHA-256 of ``seed:id``; the first ``round(n * dev_fraction)`` (at
    least one, at most n - 1) go to dev. The rank depends on the id and the seed only, so the
    order of the files and other documents' names do not matter.
    """
    if len(ids) < 2:
        raise TrainError(
            "E631",
            f"{len(ids)} reviewed document(s); training needs at least 2 (one for dev). "
            "Review more documents (toolkit review confirm FILE --editor ID)",
        )
    ranked = sorted(ids, key=lambda i: hashlib.sha256(f"{seed}:{i}".encode()).hexdigest())
    n_dev = min(len(ids) - 1, max(1, round(len(ids) * dev_fraction)))
    return sorted(ranked[n_dev:]), sorted(ranked[:n_dev])


def data_sha256(examples: Iterable[Doc]) -> str:
    """SHA-256 of the training data: one canonical JSON line per example (in training order)
    with its text and its entity annotation (start, end, label; missing stretches as "-")."""
    digest = hashlib.sha256()
    for doc in examples:
        ents = [[e.start_char, e.end_char, e.label_] for e in doc.ents]
        missing = [[t.idx, t.idx + len(t), "-"] for t in doc if t.ent_iob == 0]
        line = json.dumps([doc.text, ents, missing], ensure_ascii=False, separators=(",", ":"))
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


# --- examples -------------------------------------------------------------------------------


def annotate(base_doc: Doc, gold: GoldText | None) -> Doc:
    """The reference Doc for one text: gold three-type mentions + the base model's other labels.

    ``gold`` None means rehearsal: the base model's own entities, all labels, are the target.
    """
    ref = Doc(
        base_doc.vocab,
        words=[t.text for t in base_doc],
        spaces=[bool(t.whitespace_) for t in base_doc],
    )
    base = {(e.start_char, e.end_char): e.label_ for e in base_doc.ents}
    if gold is None:
        ref.set_ents([ref.char_span(s, e, label=lab) for (s, e), lab in base.items()])
        return ref
    spans, missing = [], []
    for s, e in gold.missing:
        span = ref.char_span(s, e, alignment_mode="expand")
        if span is not None:
            missing.append(span)
    for s, e, kind in gold.mentions:
        label = GOLD_LABEL[kind]
        if kind == "place" and base.get((s, e)) in KEEP_PLACE_LABELS:
            label = base[(s, e)]
        span = ref.char_span(s, e, label=label)
        if span is None:  # not on token boundaries: no loss there rather than a wrong lesson
            span = ref.char_span(s, e, alignment_mode="expand")
            if span is not None:
                missing.append(span)
            continue
        spans.append(span)
    spans = filter_spans(spans)
    taken = {i for span in [*spans, *missing] for i in range(span.start, span.end)}
    for ent in base_doc.ents:
        if ent.label_ not in LABELS and not taken & set(range(ent.start, ent.end)):
            spans.append(ref[ent.start : ent.end])
            spans[-1].label_ = ent.label_
    missing = [m for m in filter_spans(missing) if not {*range(m.start, m.end)} & _covered(spans)]
    ref.set_ents(filter_spans(spans), missing=missing, default="outside")
    return ref


def _covered(spans: Iterable[Any]) -> set[int]:
    return {i for span in spans for i in range(span.start, span.end)}


# --- scoring --------------------------------------------------------------------------------


def predicted_mentions(doc: Doc) -> set[Mention3]:
    """What ``toolkit tag`` takes from the model (three types, cleaned), without authority."""
    return {(m.start, m.end, m.type) for m in mentions_of(doc)}


def gold_mentions(doc: Doc) -> tuple[set[Mention3], set[tuple[int, int]]]:
    gold = {(e.start_char, e.end_char, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS}
    missing = {(t.idx, t.idx + len(t)) for t in doc if t.ent_iob == 0}
    return gold, missing


def score_pairs(pairs: Iterable[tuple[set[Mention3], set[Mention3], set]]) -> dict[str, Score]:
    """Exact-span scores per type and ``all`` from (predicted, gold, missing) triples; a
    prediction touching a missing token is not counted."""
    counts = {t: [0, 0, 0] for t in TYPES}
    for predicted, gold, missing in pairs:
        for s, e, t in predicted:
            if any(ms < e and s < me for ms, me in missing):
                continue
            counts[t][0 if (s, e, t) in gold else 1] += 1
        for gold_mention in gold - predicted:
            counts[gold_mention[2]][2] += 1
    result = {t: Score(*c) for t, c in counts.items()}
    result["all"] = Score(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return result


def score_docs(nlp: Language, references: Sequence[Doc]) -> dict[str, Score]:
    """Score a pipeline on reference Docs (their texts are run through ``nlp``)."""
    predicted = nlp.pipe([r.text for r in references], batch_size=64)
    return score_pairs(
        (predicted_mentions(p), *gold_mentions(r))
        for p, r in zip(predicted, references, strict=True)
    )


def toolkit_scorer(examples: Iterable[Example], **_: Any) -> dict[str, Any]:
    """spaCy scorer with the toolkit's rules (used for the per-epoch dev evaluation)."""
    scores = score_pairs(
        (predicted_mentions(eg.predicted), *gold_mentions(eg.reference)) for eg in examples
    )
    total = scores["all"]
    return {
        "ents_p": total.precision,
        "ents_r": total.recall,
        "ents_f": total.f1,
        "ents_per_type": {
            t: {"p": s.precision, "r": s.recall, "f": s.f1} for t, s in scores.items() if t != "all"
        },
    }


@spacy.registry.loggers(LOGGER)
def progress_logger() -> Callable[..., tuple[Callable[[dict | None], None], Callable[[], None]]]:
    """A spaCy training logger that reports to the callback of the running :func:`train`."""

    def setup(nlp: Language, stdout: Any = None, stderr: Any = None):  # type: ignore[no-untyped-def]
        callback = _progress.get()
        training = nlp.config["training"]
        max_epochs = int(training["max_steps"]) // int(training["eval_frequency"])
        best = [0.0]

        def log_step(info: dict[str, Any] | None) -> None:
            if info is None or callback is None:
                return
            best[0] = max(best[0], float(info["score"]))
            callback(
                Progress(
                    epoch=int(info["epoch"]),
                    max_epochs=max_epochs,
                    step=int(info["step"]),
                    loss=float(sum(info["losses"].values())),
                    dev_f1=float(info["score"]),
                    best_f1=best[0],
                )
            )

        return log_step, lambda: None

    return setup


# --- training -------------------------------------------------------------------------------


def train(
    paths: Sequence[Path],
    output: Path,
    *,
    extra: Sequence[Path] = (),
    base: str | None = None,
    seed: int = 0,
    max_epochs: int = 30,
    patience: int = 8,
    force: bool = False,
    dev_fraction: float = 0.25,
    rehearsal: float = 1.0,
    learn_rate: float = 0.0005,
    dropout: float = 0.2,
    batch_size: int = 8,
    averages: bool = True,
    progress: Callable[[Progress], None] | None = None,
) -> TrainReport:
    """Fine-tune ``base`` (default: the installed base pipeline) on the reviewed documents of
    ``paths`` plus ``extra`` IOB files and write the pipeline to ``output``.

    Raises :class:`TrainError`: E630 no training data, E631 fewer than two reviewed documents,
    E632 a bad IOB file, E633 the trained model is worse than the base on dev (unless
    ``force``), E634 ``output`` exists and is not a toolkit-trained model.
    """
    started = time.perf_counter()
    _check_output(output)
    corpus = read_corpus(paths)
    extras = [gold for path in extra for gold in read_extra(path)]
    if not corpus.reviewed:
        raise TrainError(
            "E630",
            f"no reviewed document among {len(paths)} TEI file(s): only documents an editor "
            "confirmed are training data (revisionDesc/@status='reviewed'); run "
            "`toolkit review confirm FILE --editor ID` on checked documents",
        )
    by_id = {doc.id: doc for doc in corpus.reviewed}
    train_ids, dev_ids = split_documents(sorted(by_id), seed, dev_fraction)
    nlp, info = load_pipeline(base, None)
    source = info.package
    known = frozenset(nlp.vocab.strings)  # the base's words, before any text adds to them

    as_tagged = _as_tagged(nlp, known)
    gold_train = [as_tagged(t) for t in [t for i in train_ids for t in by_id[i].texts] + extras]
    gold_dev = [as_tagged(t) for i in dev_ids for t in by_id[i].texts]
    train_docs = [annotate(d, g) for d, g in zip(_pipe(nlp, gold_train), gold_train, strict=True)]
    dev_docs = [annotate(d, g) for d, g in zip(_pipe(nlp, gold_dev), gold_dev, strict=True)]
    rehearse = [
        as_tagged(GoldText(t, ())).text
        for t in _rehearsal_texts(corpus.unreviewed, gold_train, rehearsal, seed)
    ]
    train_docs += [annotate(d, None) for d in nlp.pipe(rehearse, batch_size=64)]
    sha = data_sha256([*train_docs, *dev_docs])
    before = score_docs(nlp, dev_docs)
    mentions = {t: 0 for t in TYPES}
    for gold in [*gold_train, *gold_dev]:
        for _, _, kind in gold.mentions:
            mentions[kind] += 1

    work = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        data_dir = work / "model" / "training"
        data_dir.mkdir(parents=True)
        DocBin(docs=train_docs).to_disk(data_dir / "train.spacy")
        DocBin(docs=dev_docs).to_disk(data_dir / "dev.spacy")
        steps = max(1, math.ceil(len(train_docs) / batch_size))
        config = spacy.util.load_config_from_str(
            _CONFIG.format(
                base=json.dumps(source),
                seed=seed,
                max_epochs=max_epochs + 1,
                max_steps=max_epochs * steps,
                patience=patience * steps,
                steps=steps,
                batch_size=batch_size,
                learn_rate=learn_rate,
                dropout=dropout,
                averages=str(averages).lower(),
                logger=LOGGER,
            )
        )
        config.to_disk(data_dir / "config.cfg")
        config = config.merge(
            {"paths": {"train": str(data_dir / "train.spacy"), "dev": str(data_dir / "dev.spacy")}}
        )
        interrupted, epochs = _run(config, work / "run", progress, nlp)
        best = work / "run" / "model-best"
        if not best.is_dir():
            raise KeyboardInterrupt
        trained = spacy.load(best)
        after = score_docs(trained, dev_docs)
        documents = {
            "train": len(train_ids),
            "dev": len(dev_ids),
            "extra_sentences": len(extras),
            "rehearsal_texts": len(rehearse),
        }
        report = TrainReport(
            model_dir=output,
            written=False,
            base=info.name,
            base_version=info.version,
            training_sha256=sha,
            documents=documents,
            mentions=mentions,
            before=before,
            after=after,
            seed=seed,
            epochs=epochs,
            interrupted=interrupted,
            seconds=time.perf_counter() - started,
            errors=corpus.errors,
        )
        if after["all"].f1 < before["all"].f1 and not force:
            raise RefusedError(report)
        settings = {
            "learn_rate": learn_rate,
            "dropout": dropout,
            "batch_size": batch_size,
            "averages": averages,
            "max_epochs": max_epochs,
            "patience": patience,
            "dev_fraction": dev_fraction,
            "rehearsal": rehearsal,
            "frozen": ["tok2vec"],
        }
        _finish_model(
            trained, nlp.meta, work / "model", report, info, settings, dev_ids, train_ids, extra
        )
        _keep_base_strings(work / "model", known)
        _replace(work / "model", output)
        return _replace_report(report, written=True, seconds=time.perf_counter() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class RefusedError(TrainError):
    """E633: the trained model is worse than the base on dev; ``report`` has both scores."""

    def __init__(self, report: TrainReport):
        before, after = report.before["all"].f1, report.after["all"].f1
        super().__init__(
            "E633",
            f"the trained model is worse than the base on dev (F1 {after:.3f} < {before:.3f}); "
            "nothing written. Review more documents, or pass --force to write it anyway",
            str(report.model_dir),
        )
        self.report = report


def _replace_report(report: TrainReport, **changes: Any) -> TrainReport:
    return replace(report, **changes)


def _as_tagged(nlp: Language, known: frozenset[str]) -> Callable[[GoldText], GoldText]:
    """The text as ``toolkit tag`` gives it to the model: a text in capitals in ordinary case
    (:func:`toolkit.entities.restore_case` with the base's vocabulary ``known``; same length,
    so the gold offsets hold). The model is trained and scored on what it will see when it
    tags."""
    acronyms = _acronyms(nlp)

    def restored(gold: GoldText) -> GoldText:
        text = restore_case(gold.text, acronyms, known)
        return gold if text == gold.text else replace(gold, text=text)

    return restored


def _pipe(nlp: Language, gold: Sequence[GoldText]) -> Iterable[Doc]:
    return nlp.pipe([g.text for g in gold], batch_size=64)


def _rehearsal_texts(
    texts: Sequence[str], gold: Sequence[GoldText], ratio: float, seed: int
) -> list[str]:
    """A seeded sample of unreviewed texts of about ``ratio`` x the gold training words."""
    budget = ratio * sum(len(g.text.split()) for g in gold)
    pool = sorted(set(texts))
    random.Random(seed).shuffle(pool)
    chosen, words = [], 0
    for text in pool:
        if words >= budget:
            break
        chosen.append(text)
        words += len(text.split())
    return chosen


def _run(
    config: Any, out: Path, progress: Callable[[Progress], None] | None, base: Language
) -> tuple[bool, int]:
    """spaCy's initialize + training loop; (interrupted, epochs reached)."""
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as spacy_train

    epochs = [0]

    def seen(p: Progress) -> None:
        epochs[0] = p.epoch
        if progress is not None:
            progress(p)

    out.mkdir(parents=True, exist_ok=True)
    token = _progress.set(seen)
    try:
        nlp = init_nlp(config)
        _share_lookups(base, nlp)
        nlp.get_pipe("ner").scorer = toolkit_scorer
        spacy_train(nlp, out, stdout=io.StringIO(), stderr=io.StringIO())
        return False, epochs[0]
    except KeyboardInterrupt:
        return True, epochs[0]
    finally:
        _progress.reset(token)


def _share_lookups(base: Language, nlp: Language) -> None:
    """Give the new pipeline the base's lookup tables (``lexeme_norm``: the NORM feature the
    sourced ``ner`` was trained with), and recompute the norms of lexemes made before."""
    from spacy.attrs import NORM

    nlp.vocab.lookups = base.vocab.lookups
    norm = nlp.vocab.lex_attr_getters.get(NORM)
    if norm is not None:
        for lexeme in nlp.vocab:
            lexeme.norm_ = norm(lexeme.orth_)


def _keep_base_strings(model: Path, known: frozenset[str]) -> None:
    """Write the base's string store as the trained model's (``vocab/strings.json``).

    Training adds every word of the training texts to the store, but the model does not need
    them: its features are hashes. ``toolkit tag`` reads the store as the model's vocabulary
    when it restores the case of a text in capitals (a word whose lower case is known is
    written in lower case), so the trained model's store would lower-case the very names it
    was trained on ("KIELCE" -> "kielce", then dropped as lower case). With the base's store
    the trained model reads capitals exactly as the base does."""
    (model / "vocab" / "strings.json").write_text(
        json.dumps(sorted(known), ensure_ascii=False), encoding="utf-8"
    )


def model_version(base_version: str, sha: str) -> str:
    """``<base major.minor.patch>.<first 32 bits of the training-data SHA-256, decimal>``:
    a TEI-valid version number (``application/@version``) that changes with the data."""
    parts = [*base_version.split("+")[0].split("."), "0", "0", "0"][:3]
    return ".".join([*parts, str(int(sha[:8], 16))])


def _finish_model(
    nlp: Language,
    base_meta: dict[str, Any],
    target: Path,
    report: TrainReport,
    info: Any,
    settings: dict[str, Any],
    dev_ids: Sequence[str],
    train_ids: Sequence[str],
    extra: Sequence[Path],
) -> None:
    meta = dict(nlp.meta)
    for key in ("lang", "license", "author", "url", "email", "sources"):
        if key in base_meta:
            meta[key] = base_meta[key]
    base_name = str(base_meta.get("name", "pipeline"))
    meta["name"] = base_name if base_name.endswith("_toolkit") else f"{base_name}_toolkit"
    meta["version"] = model_version(info.version, report.training_sha256)
    meta["description"] = (
        f"{info.name} {info.version} fine-tuned by `toolkit train` on reviewed TEI annotations"
    )
    meta[TRAINING_KEY] = {
        "base": {"name": info.name, "version": info.version, "package": info.package},
        "training_sha256": report.training_sha256,
        "documents": report.documents,
        "train_documents": list(train_ids),
        "dev_documents": list(dev_ids),
        "extra_files": [p.name for p in extra],
        "mentions": report.mentions,
        "dev_before": _scores_json(report.before),
        "dev_after": _scores_json(report.after),
        "seed": report.seed,
        "epochs": report.epochs,
        "interrupted": report.interrupted,
        "settings": settings,
    }
    nlp.meta.update(meta)
    nlp.to_disk(target)
    config = spacy.util.load_config(target / "config.cfg")
    config["paths"]["train"] = None
    config["paths"]["dev"] = None
    config["training"]["logger"] = {"@loggers": "spacy.ConsoleLogger.v1"}
    config.to_disk(target / "config.cfg")


def _scores_json(scores: dict[str, Score]) -> dict[str, dict[str, float | int]]:
    return {
        t: {
            "p": round(s.precision, 4),
            "r": round(s.recall, 4),
            "f": round(s.f1, 4),
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
        }
        for t, s in scores.items()
    }


def trained_meta(path: Path) -> dict[str, Any] | None:
    """The ``toolkit_training`` record of a model folder, or None."""
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = meta.get(TRAINING_KEY) if isinstance(meta, dict) else None
    return record if isinstance(record, dict) else None


def _check_output(output: Path) -> None:
    if output.exists() and (
        not output.is_dir() or (any(output.iterdir()) and trained_meta(output) is None)
    ):
        raise TrainError(
            "E634",
            "exists and is not a model written by toolkit train; choose another -o MODEL_DIR",
            str(output),
        )
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainError(
            "E634", f"cannot create the folder ({exc.strerror})", str(output)
        ) from None


def _replace(new: Path, output: Path) -> None:
    """Move the finished model into place; an older toolkit model there is replaced."""
    old = None
    if output.exists():
        old = output.with_name(f".{output.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        output.rename(old)
    new.rename(output)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_CONFIG = """
[paths]
train = null
dev = null

[system]
seed = {seed}
gpu_allocator = null

[nlp]
lang = "en"
pipeline = ["tok2vec","ner"]
batch_size = 256
tokenizer = {{"@tokenizers":"spacy.Tokenizer.v1"}}

[components]

[components.tok2vec]
source = {base}

[components.ner]
source = {base}

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}
max_length = 0

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}
max_length = 0

[training]
seed = ${{system.seed}}
gpu_allocator = ${{system.gpu_allocator}}
dropout = {dropout}
accumulate_gradient = 1
patience = {patience}
max_epochs = {max_epochs}
max_steps = {max_steps}
eval_frequency = {steps}
frozen_components = ["tok2vec"]
annotating_components = []
before_to_disk = null
before_update = null

[training.batcher]
@batchers = "spacy.batch_by_sequence.v1"
size = {batch_size}
get_length = null

[training.logger]
@loggers = "{logger}"

[training.optimizer]
@optimizers = "Adam.v1"
beta1 = 0.9
beta2 = 0.999
L2_is_weight_decay = true
L2 = 0.01
grad_clip = 1.0
use_averages = {averages}
eps = 0.00000001
learn_rate = {learn_rate}

[training.score_weights]
ents_f = 1.0
ents_p = 0.0
ents_r = 0.0
ents_per_type = null

[pretraining]

[initialize]
vectors = null
init_tok2vec = null
vocab_data = null
lookups = null
before_init = null
after_init = null

[initialize.components]

[initialize.tokenizer]
"""


def score_table(before: dict[str, Score], after: dict[str, Score]) -> str:
    """Dev scores of the base and the trained model, one row per type."""
    lines = [f"{'dev':<7} {'base P':>7} {'R':>6} {'F1':>6}   {'trained P':>9} {'R':>6} {'F1':>6}"]
    for kind in (*TYPES, "all"):
        b, a = before[kind], after[kind]
        lines.append(
            f"{kind:<7} {b.precision:7.3f} {b.recall:6.3f} {b.f1:6.3f}   "
            f"{a.precision:9.3f} {a.recall:6.3f} {a.f1:6.3f}"
        )
    return "\n".join(lines)
