"""NER evaluation on IOB data (e.g. EHRI-NER): precision, recall, F1 per type, exact spans.

Sentences are rebuilt by joining tokens with single spaces, so gold offsets are exact. Types:
PER(S) -> person, LOC -> place, ORG -> org. Other gold types (DATE, CAMP, GHETTO) are outside
the toolkit's three: a prediction whose span equals one of them is neither right nor wrong and
is not counted. The same rules score the raw model and the toolkit's pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

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
