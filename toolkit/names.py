"""Candidate identity: which mentions of a document name one entity, and which type it has.

Pure functions over mentions (no spaCy, no files besides packaged data). The tagger calls
:func:`resolve_document` once per document; the review queue and the evaluation use
:func:`normalize` and :func:`candidate_id`.

Rules (in this order):

1. **Normalization for matching** (:func:`normalize`): white space collapsed; a possessive
   trimmed ("Stalin's"); titles and honorifics stripped and kept as the role ("Marshal Stalin"
   -> "Stalin", role "Marshal"; the list is ``toolkit/data/filters/titles.txt`` plus a corpus's
   ``CORPUS/filters/titles.txt``); the key is case-folded, accents and dots removed, so
   "MAO ZEDONG", "Mao Zedong" and "Mao Zedong's" are one key.
2. **Markup boundaries**: a model entity that crosses an element of the text (the model reads
   "MAO ZEDONG [MAO TSE-TUNG]" as "MAO ZEDONG MAO") is split at the boundary; a piece inside a
   ``supplied`` or other element is widened to the element's whole text when that text is a
   name ("MAO TSE-TUNG"), so a fragment ("Zedong", "MAO") is never tagged alone.
3. **Authority by key**: a model entity whose key equals the key of an authority name is that
   entry (case-insensitive matching for texts in capitals, titles and possessives aside).
4. **Short forms** within the document, for candidates as for authority entries: a one-word key
   ("Stalin", "Marshal Stalin", "Lewis", "Woolf") that is a word of exactly one longer name of
   the document ("Joseph Stalin", "C. S. Lewis") joins that name's entity. A word shared by two
   entities ("Wang", "Zhang") joins neither.
5. **One entity, one type** within a document: an authority entry's type wins; otherwise the
   majority of the model's labels over the entity's mentions (a tie goes to the label seen
   first). Every overruled label is recorded in :attr:`Resolution.type_choices`.
6. **Gazetteer**: a place entity that is no authority entry is looked up in the gazetteer
   (corpus additions first, then the packaged one); a country or former state found there makes
   an entity a place whatever the model said ("Albania" as an organization). The link is a
   candidate entry with the gazetteer's identifiers and ``@resp`` naming the gazetteer.
7. **Propagation**: every further occurrence in the document of a form already tagged (and of a
   person's short form) is tagged with the same entity (``resp`` coref).
8. **Across documents**: a candidate's id is derived from its normalized main name
   (:func:`candidate_id`), so the same name gets the same id in every document.

Aliases in brackets next to a name ("Filippov [Stalin]", "Terebin (Andrei Orlov)") are never
merged here: :func:`find_aliases` lists them for the reviewer.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from .authority import Authority, Entry
from .filters import Rule, filter_span, load_rules

if TYPE_CHECKING:
    from .entities import Mention
    from .gazetteer import Gazetteer
    from .model import Span

RESP_NER = "toolkit-ner"
RESP_AUTHORITY = "toolkit-authority"
RESP_COREF = "toolkit-coref"
RESP_GAZETTEER = "toolkit-gazetteer"
SOURCE_RESP = {"authority": RESP_AUTHORITY, "ner": RESP_NER, "ner+authority": RESP_AUTHORITY}
NAME_LIKE = re.compile(r"^[\w.'’-]+(?:\s+[\w.'’-]+){0,5}$")


# --- normalization -------------------------------------


@dataclass(frozen=True)
class Normalized:
    """A name for matching: ``key`` (case-folded), ``name`` (display form), ``role`` (title)."""

    key: str
    name: str
    role: str = ""
    offset: int = 0  # where ``name`` starts in the surface (after the title)


@lru_cache(maxsize=8)
def load_titles(corpus: str | None = None) -> tuple[str, ...]:
    """Packaged titles plus a corpus's ``filters/titles.txt``, longest first."""
    lines = files("toolkit.data").joinpath("filters", "titles.txt").read_text("utf-8").splitlines()
    if corpus and (Path(corpus) / "filters" / "titles.txt").is_file():
        lines += (Path(corpus) / "filters" / "titles.txt").read_text("utf-8").splitlines()
    found = {
        " ".join(t.lstrip("+").split()).rstrip(".")
        for t in lines
        if t.strip() and not t.startswith("#")
    }
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


@lru_cache(maxsize=8)
def _title_pattern(titles: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in titles)
    return re.compile(rf"^(?:(?:{alts})\.?\s+)+", re.IGNORECASE)


def fold(text: str) -> str:
    """The matching key of a text: case-folded, accents and dots removed, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("’", "'").replace(".", " ")
    words: list[str] = []
    for word in plain.casefold().split():  # initials and dotted acronyms run together
        if (
            len(word) == 1
            and words
            and len(words[-1]) < 4
            and words[-1][-1:].isalpha()
            and (_initials(words[-1]))
        ):
            words[-1] += word
        else:
            words.append(word)
    return " ".join(words)


def _initials(word: str) -> bool:
    return word.isalpha() and len(word) <= 3 and word == word.casefold()


def normalize(surface: str, titles: tuple[str, ...] | None = None) -> Normalized:
    """Strip the possessive and titles; case-fold for the key; title-case a name in capitals."""
    text = " ".join(surface.split())
    text = re.sub(r"(?:['’]s|['’])$", "", text)
    role, offset = "", 0
    m = _title_pattern(titles if titles is not None else load_titles()).match(text)
    if m and any(ch.isalpha() for ch in text[m.end() :]):
        role = " ".join(text[: m.end()].split()).rstrip(".")
        offset = m.end()
        text = text[m.end() :]
    name = text
    letters = [ch for ch in text if ch.isalpha()]
    if letters and all(ch.isupper() for ch in letters) and (" " in text or len(letters) > 4):
        name = " ".join(_title_word(w) for w in text.split())
    return Normalized(fold(name), name, role, offset)


def _title_word(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:].lower() for p in word.split("-"))


def candidate_id(kind: str, name: str) -> str:
    """A stable id for an unreviewed entity, the same in every document for the same
    normalized name: ``cand-person-stalin`` for "Marshal Stalin", "STALIN" and "Stalin's"."""
    key = normalize(name).key or fold(name)
    folded = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if not slug:
        slug = hashlib.sha1(name.encode()).hexdigest()[:10]
    return f"cand-{kind}-{slug}"


def authority_keys(authority: Authority) -> dict[str, str]:
    """Normalized key -> entry id, for keys that name exactly one entry."""
    owners: dict[str, set[str]] = {}
    for entry in authority.entries:
        for name in entry.names:
            owners.setdefault(normalize(name).key, set()).add(entry.id)
    return {k: next(iter(v)) for k, v in owners.items() if len(v) == 1 and k}


# --- one document -------------------------------------


@dataclass(frozen=True)
class Resolved:
    """A mention with its entity: ``ref`` (``auth:ID`` or ``#cand-...``) and ``resp``."""

    block: int
    start: int
    end: int
    type: str
    ref: str
    resp: str


@dataclass(frozen=True)
class TypeChoice:
    """One entity's type decision within a document: the labels the model gave, the winner."""

    entity: str
    chosen: str
    labels: tuple[tuple[str, int], ...]
    reason: str  # "authority", "majority", "first seen", "gazetteer"


@dataclass
class Resolution:
    mentions: list[Resolved] = field(default_factory=list)
    entries: dict[str, Entry] = field(default_factory=dict)  # candidate and gazetteer entries
    type_choices: list[TypeChoice] = field(default_factory=list)


@dataclass
class _Item:
    block: int
    start: int
    end: int
    label: str
    source: str
    entry: str | None
    norm: Normalized
    cluster: str = ""
    votes: Counter[str] = field(default_factory=Counter)  # type evidence besides the label


_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def _name_words(name: str) -> list[str]:
    """Words of a name that can stand for it alone: not initials, at least three letters."""
    return [w for w in _WORD.findall(name) if len(w.rstrip(".")) >= 3]


def resolve_document(
    texts: Sequence[str],
    mentions: Sequence[Sequence[Mention]],
    authority: Authority,
    *,
    markup: Sequence[Sequence[Span]] | None = None,
    gazetteer: Gazetteer | None = None,
    use_gazetteer: bool = True,
) -> Resolution:
    """Identity and type for every mention of one document (see the module docstring).

    ``markup``: the existing elements of each block (model entities crossing one are split);
    ``gazetteer``: default the packaged one with the corpus's additions (the corpus is the
    authority file's folder); ``use_gazetteer=False`` links no place to it."""
    titles = load_titles(_corpus_of(authority))
    if gazetteer is None and use_gazetteer:
        from .gazetteer import load_gazetteer

        gazetteer = load_gazetteer(_corpus_of(authority))
    entries = authority.by_id()
    keys = authority_keys(authority)
    items = _split(texts, mentions, markup, titles, load_rules(_corpus_of(authority)))
    items += _titled_persons(texts, items, markup, titles)
    _alias_votes(texts, items)
    # 3. authority by key; clusters start as the entry or the key
    for it in items:
        if it.entry is None and it.norm.key in keys:
            it.entry, it.source = keys[it.norm.key], "authority"
        it.cluster = f"auth:{it.entry}" if it.entry else f"key:{it.norm.key}"
    # 4. short forms: a one-word key that is a word of exactly one longer name
    owners: dict[str, set[str]] = {}
    for it in items:
        names = [it.norm.name]
        if it.entry and it.entry in entries:
            names.append(normalize(entries[it.entry].main, titles).name)
        for name in names:
            if len(name.split()) < 2:
                continue
            for word in _name_words(name):
                owners.setdefault(fold(word), set()).add(it.cluster)
    short = {w: next(iter(c)) for w, c in owners.items() if len(c) == 1}
    for it in items:
        if it.entry is None and " " not in it.norm.key and it.norm.key in short:
            it.cluster = short[it.norm.key]
    # 5. one type per entity
    by_cluster: dict[str, list[_Item]] = {}
    for it in items:
        by_cluster.setdefault(it.cluster, []).append(it)
    result = Resolution()
    kinds: dict[str, str] = {}
    for cluster, group in by_cluster.items():
        labels = Counter(it.label for it in group if it.source == "ner")
        votes = Counter(labels)
        for it in group:
            votes.update(it.votes)
        if gazetteer is not None and not cluster.startswith("auth:"):
            place = gazetteer.lookup(_main_name(group).key, main=True)
            if place is not None and place.kind == "city":
                votes["place"] += 1.5 * max(1, len(group))  # a known city: strong evidence
        if cluster.startswith("auth:") and cluster[5:] in entries:
            kinds[cluster], reason = entries[cluster[5:]].type, "authority"
        else:
            order = [it.label for it in group] + list(votes)
            best = max(votes.values(), default=0)
            top = [k for k in dict.fromkeys(order) if votes.get(k, 0) == best]
            kinds[cluster] = top[0] if top else group[0].label
            reason = "majority" if len(top) == 1 else "first seen"
        if len(set(labels) | {kinds[cluster]}) > 1:
            result.type_choices.append(
                TypeChoice(cluster, kinds[cluster], tuple(sorted(labels.items())), reason)
            )
    # 6. gazetteer and candidate entries
    refs: dict[str, str] = {}
    for cluster, group in by_cluster.items():
        if cluster.startswith("auth:"):
            refs[cluster] = cluster
            continue
        main = _main_name(group)
        kind = kinds[cluster]
        place = gazetteer.lookup(main.key, strict=kind != "place") if gazetteer else None
        if place is not None:
            if kind != "place":
                result.type_choices.append(
                    TypeChoice(cluster, "place", ((kind, len(group)),), "gazetteer")
                )
            kind = kinds[cluster] = "place"
            ident = candidate_id("place", place.name)
            forms = tuple(dict.fromkeys(_forms(texts, group, titles)))
            result.entries[ident] = Entry(
                ident,
                "place",
                place.name,
                tuple(f for f in forms if f != place.name),
                place.idnos,
                reviewed=False,
                resp="#" + RESP_GAZETTEER,
            )
        else:
            ident = candidate_id(kind, main.name)
            forms = tuple(dict.fromkeys(_forms(texts, group, titles)))
            old = result.entries.get(ident)
            variants = tuple(f for f in forms if f != main.name)
            if old is not None:
                variants = tuple(dict.fromkeys((*old.variants, *variants)))
            result.entries[ident] = Entry(ident, kind, main.name, variants, reviewed=False)
        refs[cluster] = "#" + ident
    # 7. propagation of forms (and persons' short forms) to untagged occurrences; places of
    # the gazetteer after a locative preposition ("in Łódź") that the model missed
    items += _propagate(texts, items, kinds, short, markup)
    if gazetteer is not None:
        for it in _gazetteer_places(texts, items, markup, gazetteer):
            place = gazetteer.main[it.norm.key]
            ident = candidate_id("place", place.name)
            old = result.entries.get(ident)
            forms = (*(old.variants if old else ()), it.norm.name)
            result.entries[ident] = Entry(
                ident,
                "place",
                place.name,
                tuple(f for f in dict.fromkeys(forms) if f != place.name),
                place.idnos,
                reviewed=False,
                resp="#" + RESP_GAZETTEER,
            )
            kinds[it.cluster] = "place"
            refs[it.cluster] = "#" + ident
            items.append(it)
    taken: dict[int, list[tuple[int, int]]] = {}
    for it in sorted(items, key=lambda i: (i.block, i.start, -(i.end - i.start))):
        spans = taken.setdefault(it.block, [])
        if any(s < it.end and it.start < e for s, e in spans):
            continue
        spans.append((it.start, it.end))
        resp = RESP_COREF if it.source == "coref" else SOURCE_RESP.get(it.source, RESP_NER)
        if it.source == "ner" and it.cluster.startswith("auth:"):
            resp = RESP_COREF  # a model entity resolved to an authority entry as a short form
        result.mentions.append(
            Resolved(it.block, it.start, it.end, kinds[it.cluster], refs[it.cluster], resp)
        )
    used = {m.ref[1:] for m in result.mentions if m.ref.startswith("#")}
    result.entries = {k: v for k, v in sorted(result.entries.items()) if k in used}
    return result


def _corpus_of(authority: Authority) -> str | None:
    if authority.path.startswith("<"):
        return None
    return str(Path(authority.path).parent)


def gazetteer_version(authority_path: str) -> str:
    """What the respStmt of gazetteer links names: the gazetteer, its sources and versions."""
    from .gazetteer import load_gazetteer

    corpus = None if authority_path.startswith("<") else str(Path(authority_path).parent)
    return load_gazetteer(corpus).version


def _split(
    texts: Sequence[str],
    mentions: Sequence[Sequence[Mention]],
    markup: Sequence[Sequence[Span]] | None,
    titles: tuple[str, ...],
    rules: tuple[Rule, ...],
) -> list[_Item]:
    """Mentions as items. Model mentions are filtered (packaged and corpus furniture rules), cut
    before a bracket ("Gromyko (Ministry" -> "Gromyko"), split where they cross an element,
    trimmed of a leading title ("Comrade Stalin" -> "Stalin", a vote for a person), and widened
    over preceding initials ("L. Jensen")."""
    items: list[_Item] = []
    title_set = {fold(t) for t in titles}
    before_title = _title_before(titles)
    for b, block in enumerate(mentions):
        text = texts[b]
        elements = [
            (s.start, s.end)
            for s in (markup[b] if markup is not None and b < len(markup) else ())
            if s.end > s.start
        ]
        for m in block:
            pieces = [(m.start, m.end)]
            if m.entry is None:
                kept = filter_span(text, m.start, m.end, rules)
                pieces = []
                if kept:
                    for a, z in _bracket_pieces(text, *kept):
                        pieces += _pieces(text, a, z, elements)
            for start, end in pieces:
                surface = text[start:end]
                if fold(surface) in title_set:
                    continue
                norm = normalize(surface, titles)
                votes: Counter[str] = Counter()
                if m.entry is None:
                    if norm.role and len(surface) - norm.offset >= 2:
                        start += norm.offset
                        votes["person"] += 2
                    elif before_title.search(text, 0, start):
                        votes["person"] += 2
                lead = _INITIALS_BEFORE.search(text, 0, start)
                if lead and (m.type == "person" or votes["person"]):
                    start = lead.start()
                    norm = normalize(text[start:end], titles)
                if not norm.key or not any(ch.isalpha() for ch in text[start:end]):
                    continue
                items.append(_Item(b, start, end, m.type, m.source, m.entry, norm, votes=votes))
    return items


def _alias_votes(texts: Sequence[str], items: list[_Item]) -> None:
    """A name and its alias in brackets ("Filippov [Stalin]") are one kind of thing: when one
    of them is labelled a person, both get a vote for person (they are never merged)."""
    by_block: dict[int, list[_Item]] = {}
    for it in items:
        by_block.setdefault(it.block, []).append(it)
    for b, group in by_block.items():
        group.sort(key=lambda i: i.start)
        for first, second in itertools.pairwise(group):
            between = texts[b][first.end : second.start]
            if between.strip() not in ("[", "(", "") or "\n" in between:
                continue
            if "person" in (first.label, second.label):
                first.votes["person"] += 2
                second.votes["person"] += 2


_INITIALS_BEFORE = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?){1,3}(?=\s?$)")


def _bracket_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A model entity running into a bracket: the name before it and a name inside it."""
    m = re.search(r"\s[(\[]", text[start:end])
    if not m:
        return [(start, end)]
    out = [(start, start + m.start())]
    inner_start = start + m.end()
    close = re.search(r"[)\]]", text[inner_start:end])
    inner_end = inner_start + close.start() if close else end
    if inner_end - inner_start >= 2:
        out.append((inner_start, inner_end))
    return out


@lru_cache(maxsize=8)
def _title_before(titles: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in titles)
    return re.compile(rf"(?<![\w])(?:{alts})\.?\s+$", re.IGNORECASE)


# Titles that announce a person's name after them ("Comrade Terebin", "Ambassador Stuart"): the
# lines of titles.txt marked with "+".
@lru_cache(maxsize=8)
def _person_titles(corpus: str | None) -> re.Pattern[str] | None:
    lines = files("toolkit.data").joinpath("filters", "titles.txt").read_text("utf-8").splitlines()
    if corpus and (Path(corpus) / "filters" / "titles.txt").is_file():
        lines += (Path(corpus) / "filters" / "titles.txt").read_text("utf-8").splitlines()
    marked = sorted({t[1:].strip().rstrip(".") for t in lines if t.startswith("+")}, key=len)
    if not marked:
        return None
    alts = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in reversed(marked))
    name = (
        r"(?:[A-Z]\.\s?){0,3}[A-Z][\w'’-]*[^\W\d_](?:\s+(?:[A-Z]\.\s?)*[A-Z][\w'’-]*[^\W\d_]){0,2}"
    )
    return re.compile(rf"(?<![\w])(?:{alts})\.?\s+({name})")


def _titled_persons(
    texts: Sequence[str],
    items: list[_Item],
    markup: Sequence[Sequence[Span]] | None,
    titles: tuple[str, ...],
) -> list[_Item]:
    """Names after a person title that the model missed ("Com. Molotov"), as person items."""
    pattern = _person_titles(None)
    if pattern is None:
        return []
    taken: dict[int, list[tuple[int, int]]] = {}
    for it in items:
        taken.setdefault(it.block, []).append((it.start, it.end))
    found = []
    for b, text in enumerate(texts):
        for m in pattern.finditer(text):
            s, e = m.span(1)
            words = text[s:e].split()
            while words and fold(words[-1]) in _STOP:
                e -= len(words.pop()) + 1
            if not words or any(a < e and s < z for a, z in taken.get(b, [])):
                continue
            if _crosses(markup, b, s, e):
                continue
            norm = normalize(text[s:e], titles)
            if norm.key and fold(text[s:e]) not in _STOP:
                found.append(_Item(b, s, e, "person", "coref", None, norm, votes=Counter(person=2)))
                taken.setdefault(b, []).append((s, e))
    return found


_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "with",
        "by",
        "his",
        "her",
        "their",
        "our",
        "this",
        "that",
        "is",
        "was",
    ]
)


def _crosses(markup: Sequence[Sequence[Span]] | None, b: int, s: int, e: int) -> bool:
    spans = markup[b] if markup is not None and b < len(markup) else ()
    return any((x.start < s < x.end < e) or (s < x.start < e < x.end) for x in spans)


_LOCATIVE = re.compile(r"(?<![\w])(?:in|near|via|towards|through|to|from|for|at)\s+$")
_CAPITALIZED = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){0,3}")


def _gazetteer_places(
    texts: Sequence[str],
    items: list[_Item],
    markup: Sequence[Sequence[Span]] | None,
    gazetteer: Gazetteer,
) -> list[_Item]:
    """Gazetteer names after a locative preposition ("left for Łódź") the model missed."""
    taken: dict[int, list[tuple[int, int]]] = {}
    for it in items:
        taken.setdefault(it.block, []).append((it.start, it.end))
    found = []
    for b, text in enumerate(texts):
        for m in _CAPITALIZED.finditer(text):
            if not _LOCATIVE.search(text, 0, m.start()):
                continue
            words = m.group(0).split()
            for n in range(len(words), 0, -1):  # the longest known prefix
                surface = " ".join(words[:n])
                key = fold(surface)
                place = gazetteer.main.get(key)
                if place is None or (place.name != surface and surface not in place.names):
                    continue
                s, e = m.start(), m.start() + len(surface)
                if any(a < e and s < z for a, z in taken.get(b, [])) or _crosses(markup, b, s, e):
                    break
                norm = normalize(surface)
                found.append(_Item(b, s, e, "place", "coref", None, norm, f"gaz:{place.key}"))
                taken.setdefault(b, []).append((s, e))
                break
    return found


def _pieces(
    text: str, start: int, end: int, elements: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    crossing = [
        (s, e)
        for s, e in elements
        if (s < start < e < end) or (start < s < end < e) or (start < s < end and e > end)
    ]
    if not crossing:
        return [(start, end)]
    cuts = sorted({p for s, e in crossing for p in (s, e) if start < p < end})
    bounds = [start, *cuts, end]
    out = []
    for a, z in itertools.pairwise(bounds):
        inside = next(((s, e) for s, e in crossing if s <= a and z <= e), None)
        if inside is not None and NAME_LIKE.match(text[inside[0] : inside[1]].strip()):
            a, z = inside
        while a < z and text[a].isspace():
            a += 1
        while z > a and text[z - 1] in " \t\n,;:":
            z -= 1
        if z - a >= 2:
            out.append((a, z))
    return list(dict.fromkeys(out))


def _main_name(group: Sequence[_Item]) -> Normalized:
    """The fullest form of an entity: most words, then most frequent, then first seen."""
    counts = Counter(it.norm.key for it in group)
    best = max(
        enumerate(group),
        key=lambda p: (len(p[1].norm.key.split()), counts[p[1].norm.key], -p[0]),
    )
    return best[1].norm


def _forms(texts: Sequence[str], group: Sequence[_Item], titles: tuple[str, ...]) -> list[str]:
    """The forms of an entity as written (possessive aside), titles kept as role information:
    "Marshal Stalin" stays a variant of the candidate "Stalin"."""
    out = []
    for it in group:
        surface = " ".join(texts[it.block][it.start : it.end].split())
        out.append(re.sub(r"(?:['’]s|['’])$", "", surface))
    return out


def _propagate(
    texts: Sequence[str],
    items: list[_Item],
    kinds: dict[str, str],
    short: dict[str, str],
    markup: Sequence[Sequence[Span]] | None,
) -> list[_Item]:
    """Further occurrences of tagged forms (exact case, whole words) as coref items."""
    forms: dict[str, tuple[str, Normalized]] = {}
    for it in items:
        surface = texts[it.block][it.start : it.end]
        if len(surface) >= 3 and surface[:1].isupper():
            forms.setdefault(surface, (it.cluster, it.norm))
        if kinds.get(it.cluster) == "person" and " " in it.norm.name:
            for word in _name_words(it.norm.name):
                if short.get(fold(word)) == it.cluster and word[:1].isupper():
                    forms.setdefault(word, (it.cluster, normalize(word)))
    if not forms:
        return []
    pattern = re.compile(
        r"(?<![\w'’-])(" + "|".join(map(re.escape, sorted(forms, key=len, reverse=True))) + r")"
        r"(?![\w-]|['’]\w\w)"
    )
    found = []
    for b, text in enumerate(texts):
        elements = [
            (s.start, s.end)
            for s in (markup[b] if markup is not None and b < len(markup) else ())
            if s.end > s.start
        ]
        for m in pattern.finditer(text):
            s, e = m.span(1)
            if any((a < s < z < e) or (s < a < e < z) for a, z in elements):
                continue
            cluster, norm = forms[m.group(1)]
            found.append(_Item(b, s, e, kinds[cluster], "coref", None, norm, cluster))
    return found


# --- aliases for the reviewer -------------------------------------

_BRACKETED = re.compile(r"\s*[\[(]\s*([^\[\]()]{2,80}?)\s*[\])]")


@dataclass(frozen=True)
class Alias:
    """``name`` followed by ``alias`` in brackets or parentheses, in block ``block``."""

    name: str
    alias: str
    block: int
    start: int


def find_aliases(text: str, names: Iterable[tuple[int, int]], block: int = 0) -> list[Alias]:
    """Names directly followed by a bracketed name: "Filippov [Stalin]", "Terebin (Andrei
    Orlov)". ``names`` are the tagged spans of the text. Also a name inside a ``supplied``
    element right after another (the converter removes the bracket characters): pass both."""
    spans = sorted(set(names))
    out = []
    for i, (s, e) in enumerate(spans):
        m = _BRACKETED.match(text, e)
        if m and NAME_LIKE.match(m.group(1)) and m.group(1)[:1].isupper():
            out.append(Alias(text[s:e], m.group(1), block, s))
            continue
        if i + 1 < len(spans):
            s2, e2 = spans[i + 1]
            if s2 >= e and text[e:s2].strip() in ("", "[", "(", "/", "a.k.a.", "alias"):
                out.append(Alias(text[s:e], text[s2:e2], block, s))
    return out
