"""NER and linking evaluation: precision, recall, F1 per type (exact spans), linking accuracy.

Two kinds of gold:

- **IOB** (e.g. EHRI-NER): sentences are rebuilt by joining tokens with single spaces, so gold
  offsets are exact. Types: PER(S) -> person, LOC -> place, ORG -> org. Other gold types (DATE,
  CAMP, GHETTO) are outside the toolkit's three: a prediction whose span equals one of them is
  neither right nor wrong and is not counted.
- **Reviewed TEI** (``revisionDesc/@status="reviewed"``, e.g. ``tests/data/gold/tei/``): every
  ``persName`` / ``placeName`` / ``orgName`` of the body is a gold mention; its entity is its
  ``@key`` (or ``@ref``). The toolkit is scored on a copy with those elements removed (their
  text and all other markup kept), tagged by the real per-document stage
  (:func:`toolkit.tagging.tag_files`), so short forms, types and candidates are what a user gets.

Linking accuracy: the share of gold mentions, among those found with the exact span, whose
``@ref`` names the right entity. Candidates count by cluster: each predicted reference
(``auth:ID`` or ``#cand-...``) is mapped one-to-one to the gold entity it shares most mentions
with (greedy, largest overlap first); a mention is linked right when its reference maps to its
gold entity. Two candidates for one entity ("Stalin", "Marshal Stalin") therefore cost the
smaller one's mentions; one candidate for two entities costs the smaller entity's mentions.
The same rules score every system.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .errors import ToolkitError

GOLD_TYPES = {"PER": "person", "PERS": "person", "LOC": "place", "ORG": "org"}
TYPES = ("person", "place", "org")


@dataclass(frozen=True)
class Sentence:
    text: str
    entities: frozenset[tuple[int, int, str]]
    ignored: frozenset[tuple[int, int]]


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def read_iob(text: str) -> list[Sentence]:
    """``token TAG`` lines, blank lines between sentences."""
    sentences = []
    for chunk in text.split("\n\n"):
        rows = [line.rsplit(" ", 1) for line in chunk.split("\n") if line.strip()]
        if not rows:
            continue
        tokens, tags = [], []
        for row in rows:
            tokens.append(row[0] if len(row) == 2 else "")
            tags.append(row[-1] if len(row) == 2 else "O")
        sentences.append(_sentence(tokens, tags))
    return sentences


def _sentence(tokens: Sequence[str], tags: Sequence[str]) -> Sentence:
    offsets, pos = [], 0
    for token in tokens:
        offsets.append((pos, pos + len(token)))
        pos += len(token) + 1
    spans: list[tuple[int, int, str]] = []
    current: list[object] | None = None
    for (start, end), tag in zip(offsets, tags, strict=True):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and current is not None and current[2] == label:
            current[1] = end
            continue
        if current is not None:
            spans.append(tuple(current))  # type: ignore[arg-type]
            current = None
        if prefix in ("B", "I"):
            current = [start, end, label]
    if current is not None:
        spans.append(tuple(current))  # type: ignore[arg-type]
    return Sentence(
        text=" ".join(tokens),
        entities=frozenset((s, e, GOLD_TYPES[t]) for s, e, t in spans if t in GOLD_TYPES),
        ignored=frozenset((s, e) for s, e, t in spans if t not in GOLD_TYPES),
    )


def score(
    sentences: Sequence[Sentence], predictions: Iterable[Iterable[tuple[int, int, str]]]
) -> dict[str, Score]:
    """Exact-span scores per type and ``all``."""
    counts = {t: [0, 0, 0] for t in TYPES}
    for sentence, predicted in zip(sentences, predictions, strict=True):
        pred = {p for p in predicted if (p[0], p[1]) not in sentence.ignored}
        for s, e, t in pred:
            counts[t][0 if (s, e, t) in sentence.entities else 1] += 1
        for s, e, t in sentence.entities:
            if (s, e, t) not in pred:
                counts[t][2] += 1
    result = {t: Score(*c) for t, c in counts.items()}
    result["all"] = Score(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return result


def evaluate(
    sentences: Sequence[Sentence],
    systems: dict[str, Callable[[Iterable[str]], Iterable[Iterable[tuple[int, int, str]]]]],
) -> dict[str, dict[str, Score]]:
    texts = [s.text for s in sentences]
    return {name: score(sentences, list(run(texts))) for name, run in systems.items()}


def report(results: dict[str, dict[str, Score]]) -> str:
    """A plain table: one row per system and type."""
    lines = [
        f"{'system':<10} {'type':<7} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}"
    ]
    for name, scores in results.items():
        for kind, s in scores.items():
            lines.append(
                f"{name:<10} {kind:<7} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} "
                f"{s.tp:5d} {s.fp:5d} {s.fn:5d}"
            )
    return "\n".join(lines)


# --- reviewed TEI gold ----------------------------------------------------------------------

NAME_TYPES = {"persName": "person", "placeName": "place", "orgName": "org"}


@dataclass(frozen=True)
class GoldMention:
    block: int
    start: int
    end: int
    type: str
    entity: str


@dataclass(frozen=True)
class GoldDocument:
    path: str
    texts: tuple[str, ...]
    mentions: tuple[GoldMention, ...]
    plain: bytes  # the document with the gold name elements removed (text and markup kept)


@dataclass(frozen=True)
class Linking:
    correct: int
    found: int  # gold mentions predicted with the exact span
    total: int  # gold mentions

    @property
    def accuracy(self) -> float:
        return self.correct / self.found if self.found else 0.0

    @property
    def end_to_end(self) -> float:
        return self.correct / self.total if self.total else 0.0


Predicted = tuple[int, int, int, str, str]  # block, start, end, type, ref


def read_tei_gold(data: bytes, path: str = "<gold>") -> GoldDocument:
    """A reviewed TEI gold file: its block texts, gold mentions, and the untagged copy."""
    from .tei import NS, iter_blocks, parse_bytes, read_block, serialize

    try:
        tree = parse_bytes(data, path)
    except ToolkitError as exc:
        raise ToolkitError("E606", f"gold file is not readable TEI ({exc.message})", path) from None
    root = tree.getroot()
    status = root.find("tei:teiHeader/tei:revisionDesc", NS)
    body = root.find("tei:text/tei:body", NS)
    if body is None or status is None or status.get("status") != "reviewed":
        raise ToolkitError(
            "E606",
            'gold TEI must be a reviewed document (revisionDesc status="reviewed") with a body',
            path,
        )
    texts, mentions = [], []
    for b, el in enumerate(iter_blocks(body)):
        text, spans = read_block(el, b)
        texts.append(text)
        for span in spans:
            if span.tag in NAME_TYPES:
                entity = span.get("key") or (span.get("ref") or "").lstrip("#") or "?"
                mentions.append(GoldMention(b, span.start, span.end, NAME_TYPES[span.tag], entity))
    etree.strip_tags(body, *(f"{{{NS['tei']}}}{t}" for t in NAME_TYPES))
    return GoldDocument(path, tuple(texts), tuple(mentions), serialize(tree))


def predicted_spans(data: bytes) -> list[Predicted]:
    """The name elements of a tagged TEI file as (block, start, end, type, ref)."""
    from .tei import NS, iter_blocks, parse_bytes, read_block

    body = parse_bytes(data).getroot().find("tei:text/tei:body", NS)
    out = []
    for b, el in enumerate(iter_blocks(body)):
        _, spans = read_block(el, b)
        out += [
            (b, s.start, s.end, NAME_TYPES[s.tag], s.get("ref") or "")
            for s in spans
            if s.tag in NAME_TYPES
        ]
    return out


def score_documents(
    gold: Sequence[GoldDocument], predictions: Sequence[Iterable[Predicted]]
) -> dict[str, Score]:
    """Exact-span scores per type and ``all`` over documents."""
    counts = {t: [0, 0, 0] for t in TYPES}
    for doc, predicted in zip(gold, predictions, strict=True):
        truth = {(m.block, m.start, m.end, m.type) for m in doc.mentions}
        pred = {p[:4] for p in predicted}
        for item in pred:
            counts[item[3]][0 if item in truth else 1] += 1
        for item in truth - pred:
            counts[item[3]][2] += 1
    result = {t: Score(*c) for t, c in counts.items()}
    result["all"] = Score(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return result


def linking(gold: Sequence[GoldDocument], predictions: Sequence[Iterable[Predicted]]) -> Linking:
    """Linking accuracy with candidates counted by cluster (see the module docstring)."""
    pairs = []
    total = 0
    for doc, predicted in zip(gold, predictions, strict=True):
        refs = {(p[0], p[1], p[2]): p[4] for p in predicted}
        total += len(doc.mentions)
        for m in doc.mentions:
            ref = refs.get((m.block, m.start, m.end))
            if ref is not None:
                pairs.append((ref, m.entity))
    overlap = Counter(pairs)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for (ref, entity), _ in sorted(overlap.items(), key=lambda p: (-p[1], p[0])):
        if ref not in mapping and entity not in used and ref:
            mapping[ref] = entity
            used.add(entity)
    correct = sum(1 for ref, entity in pairs if mapping.get(ref) == entity)
    return Linking(correct, len(pairs), total)


def read_gold_paths(paths: Iterable[Path]) -> list[GoldDocument]:
    docs = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ToolkitError("E606", f"cannot read ({exc.strerror})", str(path)) from None
        docs.append(read_tei_gold(data, str(path)))
    return docs


def tag_gold(
    gold: Sequence[GoldDocument],
    nlp,
    info,
    authority,
    workdir: Path,  # type: ignore[no-untyped-def]
) -> list[list[Predicted]]:
    """Tag the untagged copies with the toolkit's per-document stage; their name spans."""
    from .tagging import tag_files

    workdir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, doc in enumerate(gold):
        path = workdir / f"{i:03d}-{Path(doc.path).name}"
        path.write_bytes(doc.plain)
        paths.append(path)
    out = []
    for result in tag_files(
        paths, nlp, info, authority, now="2000-01-01T00:00:00Z", authority_sha256="-"
    ):
        if result.error is not None:
            raise result.error
        data = result.data if result.data is not None else result.path.read_bytes()
        result.path.write_bytes(data)
        out.append(predicted_spans(data))
    return out


def raw_gold(gold: Sequence[GoldDocument], nlp) -> list[list[Predicted]]:  # type: ignore[no-untyped-def]
    """The raw model's entities on each block (no references)."""
    from .entities import raw_entities

    out = []
    for doc in gold:
        found: list[Predicted] = []
        for b, ents in enumerate(raw_entities(nlp, doc.texts)):
            found += [(b, s, e, t, "") for s, e, t in ents]
        out.append(found)
    return out


def report_tei(results: dict[str, dict[str, Score]], links: dict[str, Linking]) -> str:
    """The P/R/F1 table plus one linking line per system that links."""
    lines = [report(results)]
    for name, link in links.items():
        lines.append(
            f"{name:<10} linking {link.accuracy:6.3f} ({link.correct}/{link.found} found mentions; "
            f"end to end {link.end_to_end:.3f} of {link.total})"
        )
    return "\n".join(lines)
