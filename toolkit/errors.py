"""Errors with stable codes: each message says what happened, where, and how to fix it.

Codes by family: E1xx reading sources, E2xx TEI input, E3xx authority and models, E4xx schemas,
E5xx citations, E9xx usage. Validation findings are not exceptions: see ``validate.Problem``.
"""

from __future__ import annotations


class ToolkitError(Exception):
    """Base class: ``code`` is stable, ``path`` names the file concerned (if any)."""

    def __init__(self, code: str, message: str, path: str | None = None, line: int | None = None):
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return f"{where}[{self.code}] {self.message}"


class SourceError(ToolkitError):
    """A source file cannot be read or decoded."""


class TEIError(ToolkitError):
    """A TEI file is malformed, unsafe or not TEI."""


class AuthorityError(ToolkitError):
    """The authority file is malformed."""


class ModelError(ToolkitError):
    """A spaCy pipeline cannot be loaded."""


class CitationError(ToolkitError):
    """An archival reference cannot be parsed."""
