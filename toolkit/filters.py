"""Furniture filters: strings of archival captures that are never names.

The rules are data (``toolkit/data/filters/furniture.toml``; a corpus adds its own in
``CORPUS/filters/furniture.toml``). Each rule is a regular expression matched case-insensitively
against a whole string, with an action:

- ``drop``: a mention that *is* such material ("Top Secret", "No.109", "Vol", "16.XII.1947",
  an e-mail address, "Original Uploaded Date", "1945") is not a name;
- ``trim``: such material at the start or end of a mention is cut off, so a name glued to it
  keeps its name part ("No.109 Molotov" -> "Molotov", "Top Secret Stalin" -> "Stalin").

:func:`filter_span` applies them to one mention of a text and returns the kept offsets (or None).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from .errors import ToolkitError


@dataclass(frozen=True)
class Rule:
    name: str
    action: str  # "drop" or "trim"
    description: str
    pattern: re.Pattern[str]


def _compile(data: dict, origin: str) -> list[Rule]:
    rules = []
    for row in data.get("rule", []):
        try:
            action = row["action"]
            if action not in ("drop", "trim"):
                raise KeyError("action")
            body = row["pattern"]
            if action == "drop":
                pattern = re.compile(rf"(?:{body})", re.IGNORECASE)
            else:
                pattern = re.compile(rf"^(?:{body})(?=\s|$)|(?<=\s)(?:{body})$", re.IGNORECASE)
        except (KeyError, TypeError, re.error) as exc:
            raise ToolkitError(
                "E340",
                f"filter rule {row.get('name', '?')!r} is malformed ({exc}); each rule needs "
                "name, action = 'drop' | 'trim', and a valid regular expression as pattern",
                origin,
            ) from None
        rules.append(Rule(row.get("name", ""), action, row.get("description", ""), pattern))
    return rules


@lru_cache(maxsize=8)
def load_rules(corpus: str | None = None) -> tuple[Rule, ...]:
    """The packaged rules, then the corpus's (``CORPUS/filters/furniture.toml``) if any."""
    text = files("toolkit.data").joinpath("filters", "furniture.toml").read_text("utf-8")
    rules = _compile(tomllib.loads(text), "toolkit/data/filters/furniture.toml")
    if corpus:
        extra = Path(corpus) / "filters" / "furniture.toml"
        if extra.is_file():
            try:
                rules += _compile(tomllib.loads(extra.read_text("utf-8")), str(extra))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise ToolkitError(
                    "E340", f"cannot read the filter file ({exc})", str(extra)
                ) from None
    return tuple(rules)


def is_furniture(surface: str, rules: tuple[Rule, ...] | None = None) -> str | None:
    """The name of the ``drop`` rule that ``surface`` is, or None."""
    text = " ".join(surface.split())
    for rule in rules if rules is not None else load_rules():
        if rule.action == "drop" and rule.pattern.fullmatch(text):
            return rule.name
    return None


def filter_span(
    text: str, start: int, end: int, rules: tuple[Rule, ...] | None = None
) -> tuple[int, int] | None:
    """``text[start:end]`` with glued furniture trimmed, or None when it is furniture."""
    rules = rules if rules is not None else load_rules()
    changed = True
    while changed and start < end:
        changed = False
        surface = text[start:end]
        if is_furniture(surface, rules):
            return None
        for rule in rules:
            if rule.action != "trim":
                continue
            m = rule.pattern.search(surface)
            if not m or m.end() == m.start():
                continue
            if m.start() == 0:
                start += m.end()
            else:
                end = start + m.start()
            while start < end and not (text[start].isalnum()):
                start += 1
            while end > start and text[end - 1] in " \t\n.,;:-":
                end -= 1
            changed = True
            break
    if start >= end or not any(ch.isalpha() for ch in text[start:end]):
        return None
    return start, end
