"""Errors with stable codes: each message says what happened, where, and how to fix it.

``CODES`` is the one table of every code the toolkit raises or reports: ``toolkit --help`` and
the README list it, and :class:`ToolkitError` refuses a code that is not in it. Codes by family:
E1xx reading sources, E2xx TEI input, E3xx authority, models and corpus, E4xx schemas and
validation, E5xx citations, E6xx review and training, E9xx usage and environment.
Validation findings are not exceptions: see ``validate.Problem``.

Exit codes of every command: 0 success; 1 the command ran and found errors (a bad input in a
batch, validation errors); 2 the command could not run (usage error, missing schema, lock held,
unwritable output).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FOUND_ERRORS = 1
EXIT_CANNOT_RUN = 2

# code -> one line: what it means. Add a row here before raising a new code.
CODES: dict[str, str] = {
    "E101": "a source file cannot be read (missing, a folder, no permission)",
    "E102": "a source file is empty or holds only white space",
    "E103": "a source file is binary, not text",
    "E104": "a source file's bytes fit no known text encoding",
    "E105": "a source file is not valid in its (detected or forced) encoding",
    "E106": "an unknown encoding name was given",
    "E107": "an unknown capture format or profile was asked for",
    "E108": "no body text was found in a capture",
    "E120": "a capture profile is not valid TOML or not UTF-8",
    "E121": "a capture profile holds an invalid regular expression",
    "E122": "a capture profile names an unknown header field or front slot",
    "E123": "a capture profile is malformed (missing name or version, bad value)",
    "E124": "a capture profile file cannot be read",
    "E125": "no capture profile matched well; converted as plain text (warning)",
    "E140": "a source holds a character XML cannot carry (a C0 control, U+FFFE, U+FFFF)",
    "E141": "a file's real path leaves the corpus folder (a symlink pointing outside)",
    "E201": "a TEI file is malformed XML",
    "E202": "a file is not a TEI document",
    "E203": "a DOCTYPE declares entities (never expanded)",
    "E204": "markup the toolkit cannot handle inside a text block",
    "E205": "a TEI file cannot be read",
    "E210": "a TEI file's text cannot be mapped for a minimal (byte-preserving) edit",
    "E211": "an edit would leave a TEI file malformed; the file is left unchanged",
    "E212": "an editor id is not an xml:id-like token",
    "E213": "a source revision left annotations that could not be carried over (warning)",
    "E301": "two authority entries share an xml:id",
    "E302": "an authority list holds an element of the wrong type",
    "E303": "an authority entry lacks an xml:id or a name",
    "E304": "the authority file is not a TEI document",
    "E305": "the authority file cannot be read",
    "E311": "a spaCy pipeline cannot be loaded",
    "E312": "a spaCy pipeline has no NER component",
    "E330": "two reviewed authority entries share a name",
    "E331": "authority entries of two types share a name",
    "E332": "an authority xml:id is not an XML name (spaces, colons, leading digit)",
    "E333": "an authority name is a common one-word word that would tag every occurrence",
    "E340": "a furniture filter file is malformed",
    "E341": "a gazetteer file is malformed",
    "E350": "the corpus is locked by another build (exit 2); wait for it or pass --wait SECONDS",
    "E351": "two sources would write one TEI file name",
    "E352": "an existing TEI file differs from the new conversion (pass --force)",
    "E353": "an output file cannot be read or written",
    "E354": "a corpus folder has no sources/ folder",
    "E355": "a Dask worker cannot see the corpus folder (shared file system needed)",
    "E356": "a build task failed unexpectedly on a document (reported, the rest goes on)",
    "E401": "a schema (RELAX NG, Schematron, tei_all) cannot be read or compiled",
    "E402": "the authority file given for validation cannot be read or is malformed",
    "E403": "no file to check: a folder holds no *.xml file",
    "E501": "no archival reference could be read",
    "E502": "an archival reference was kept verbatim (warning)",
    "E601": "a review names an unknown candidate or entry",
    "E602": "there is no review decision to undo",
    "E603": "a review undo would overwrite files changed since the decision",
    "E604": "an editor id is missing or not an XML name",
    "E605": "a review command was given inconsistent arguments",
    "E606": "gold data for evaluation cannot be read",
    "E701": "an optional package is missing (install the publish extra)",
    "E702": "the corpus index (index/index.sqlite) has not been built",
    "E703": "an unknown PROV output format was asked for",
    "E704": "a package's output folder exists and is not empty",
    "E705": "a corpus folder has no tei/ folder",
    "E706": "a BagIt bag does not validate",
    "E620": "an editor id is not an xml:id-like token",
    "E621": "a review timestamp is not an ISO 8601 date or date-time",
    "E622": "the reviewed marker cannot be set in a TEI file",
    "E630": "no training data: no reviewed document in the corpus",
    "E631": "too few reviewed documents for a train/dev split",
    "E632": "an IOB training file cannot be read or is not IOB",
    "E633": "the trained model is worse than the base on dev (refused without --force)",
    "E634": "the model folder exists and is not a toolkit-trained model, or cannot be created",
    "E901": "SOURCE_DATE_EPOCH is not a whole number of seconds",
    "E910": "an output file or folder cannot be written (permission, read-only file system)",
    "E911": "the disk is full",
    "E912": "a file name or path is too long for the file system",
    "E913": "a path that must be a folder is a file (or the other way round)",
    "E914": "a file-system operation failed",
    "E930": "--dask was given but Dask is not installed",
    "E931": "a --dask value is neither local[:N] nor a scheduler address",
    "E932": "the Dask scheduler cannot be reached",
}


class ToolkitError(Exception):
    """Base class: ``code`` is stable (a key of :data:`CODES`); ``path`` names the file."""

    def __init__(self, code: str, message: str, path: str | None = None, line: int | None = None):
        if code not in CODES:
            raise ValueError(f"error code {code!r} is not in toolkit.errors.CODES; add it there")
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


def codes_table() -> str:
    """The code table as plain text lines, for ``--help`` and the README."""
    return "\n".join(f"{code}  {meaning}" for code, meaning in CODES.items())
