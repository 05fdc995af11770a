"""The ``toolkit`` command: a thin click shell over the library.

Each command parses its arguments, calls library functions, writes files atomically and turns
library errors into one-line messages. A batch goes on past a bad file and exits 1 at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import click

from . import __version__
from .errors import EXIT_CANNOT_RUN, EXIT_FOUND_ERRORS, EXIT_OK, ToolkitError, codes_table
from .files import atomic_write

AUTHORITY = click.option(
    "--authority",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("corpus/authority.xml"),
    show_default=True,
    help="The TEI authority file.",
)
MODEL = click.option(
    "--model", help="An installed spaCy pipeline (name or path); default en_core_web_sm."
)


def _authority(path: Path):  # type: ignore[no-untyped-def]
    """The authority file's bytes and parsed entries, or a one-line error."""
    from .authority import parse_authority

    try:
        data = path.read_bytes()
        return data, parse_authority(data, str(path))
    except OSError as exc:
        raise click.ClickException(
            f"{path}: [E305] cannot read the authority file ({exc.strerror}); pass --authority FILE"
        ) from None
    except ToolkitError as exc:
        raise click.ClickException(str(exc)) from None


def _pipeline(model: str | None, authority):  # type: ignore[no-untyped-def]
    from .entities import load_pipeline

    try:
        return load_pipeline(model, authority)
    except ToolkitError as exc:
        raise click.ClickException(str(exc)) from None


def _fail(error: ToolkitError | str) -> None:
    click.echo(f"error: {error}", err=True)


class ToolkitGroup(click.Group):
    """The command group: a library error no command caught (an unwritable output folder, a
    full disk, a symlink out of the corpus) ends the run with its one-line coded message and
    exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except ToolkitError as exc:
            _cannot_run(exc)


_HELP = """Turn archival plain-text captures into provenance-complete TEI P5.

\b
toolkit convert corpus/sources/*.txt -o corpus/tei
toolkit tag corpus/tei
toolkit validate corpus/tei
toolkit index corpus/tei -o corpus/index
toolkit build corpus
toolkit review corpus
toolkit serve corpus
toolkit prov corpus -o corpus-prov.json
toolkit package corpus -o corpus-bag

\b
Exit status: 0 success; 1 the command ran and found errors (a bad file in a
batch, validation errors); 2 the command could not run (usage error, unreadable
schema, unwritable output, full disk).

\b
Error codes (each message says what happened, where, and how to fix it):
"""


@click.group(
    cls=ToolkitGroup,
    help=_HELP + codes_table(),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="toolkit")
def main() -> None:
    pass


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("corpus/tei"),
    show_default=True,
    help="Folder for OUTDIR/<source stem>.xml.",
)
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Capture profile name (see `toolkit profiles`); auto scores every profile.",
)
@click.option(
    "--profile",
    "profile_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the sources with your own profile file (TOML; see the README).",
)
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="Corpus folder whose profiles/*.toml are used too (default: OUTDIR/.. if it has one).",
)
@click.option(
    "--explain",
    is_flag=True,
    help="Print the matched profile, the scores and where each source line goes; write nothing.",
)
@click.option(
    "--furniture/--no-furniture",
    default=True,
    show_default=True,
    help="Remove lines recurring verbatim in many of the given sources (3+ sources).",
)
@click.option("--encoding", help="Force a text encoding (e.g. cp1251) instead of detecting it.")
@click.option(
    "--force", is_flag=True, help="Overwrite existing TEI files that differ from the conversion."
)
def convert(
    sources: tuple[Path, ...],
    outdir: Path,
    fmt: str,
    profile_file: Path | None,
    corpus: Path | None,
    explain: bool,
    furniture: bool,
    encoding: str | None,
    force: bool,
) -> None:
    """Convert source texts into TEI with a full header.

    Output names are unique: two sources with one stem (d1/report.txt, d2/report.txt) are
    refused [E351]; an existing TEI file that differs is kept unless --force [E352].

    \b
    Examples:
      toolkit convert corpus/sources/*.txt -o corpus/tei
      toolkit convert --explain corpus/sources/*.txt
      toolkit profiles
    """
    from .engine import Converted, ConvertSettings, convert_document, plan_outputs
    from .profiles import load_profile, load_profiles
    from .provenance import timestamp
    from .sources import explain as explain_source
    from .sources import furniture_of, read_source

    try:
        folder = corpus or (outdir.parent if (outdir.parent / "profiles").is_dir() else None)
        profiles = load_profiles(folder)
        profile = load_profile(profile_file) if profile_file else None
    except ToolkitError as exc:
        _fail(exc)
        raise SystemExit(2) from None
    if explain:
        failed = 0
        for source in sources:
            try:
                found = explain_source(
                    read_source(source),
                    source.name,
                    format=fmt,
                    encoding=encoding,
                    profile=profile,
                    profiles=profiles,
                )
            except ToolkitError as exc:
                exc.path = str(source)
                _fail(exc)
                failed += 1
                continue
            click.echo(f"== {source}\n{found.format()}")
        _finish(len(sources), failed, "explained")
        return
    shared = None
    if furniture and len(sources) >= 3:
        shared = furniture_of(sources)  # unreadable sources are reported when converted
    settings = ConvertSettings(
        now=_timestamp(timestamp),
        format=fmt,
        encoding=encoding,
        force=force,
        profile=profile,
        profiles=profiles,
        furniture=shared,
    )
    failed = total = 0
    for source, target, clash in plan_outputs(sources, outdir):
        total += 1
        if clash is not None or target is None:
            result = Converted(source, None, "failed", clash)
        else:
            result = convert_document(source, target, settings)
        if result.error is not None:
            _fail(result.error)
            failed += 1
            continue
        for warning in result.warnings:
            click.echo(f"warning: {source}: {warning}", err=True)
        if result.status == "unchanged":
            click.echo(f"{source} -> {target}: unchanged")
        else:
            click.echo(f"{source} -> {target} ({result.format}, {result.blocks} blocks)")
    _finish(total, failed, "converted")


@main.command()
@click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also list the corpus's own profiles (CORPUS/profiles/*.toml).",
)
def profiles(corpus: Path | None) -> None:
    """List the capture profiles `convert --format` knows.

    \b
    Example:
      toolkit profiles
    """
    from .profiles import load_profiles

    try:
        found = load_profiles(corpus)
    except ToolkitError as exc:
        _fail(exc)
        raise SystemExit(2) from None
    for name, p in sorted(found.items()):
        click.echo(f"{name}  {p.version}  [{p.origin}]  {p.description}")


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write OUTDIR/<name>.xml; without it the inputs are rewritten in place (atomically).",
)
@AUTHORITY
@MODEL
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes for the model (spaCy n_process).",
)
@click.option(
    "--update-authority",
    is_flag=True,
    help="Add the unreviewed candidates to the authority file for review.",
)
@click.option(
    "--editor",
    help="Your id (e.g. jdoe): hand edits of machine tags are recorded as yours. "
    "Default: `editor` in toolkit.toml beside or above the inputs.",
)
@click.option(
    "--reset",
    is_flag=True,
    help="Fresh start: forget recorded decisions and remake every machine tag.",
)
def tag(
    inputs: tuple[Path, ...],
    outdir: Path | None,
    authority: Path,
    model: str | None,
    jobs: int,
    update_authority: bool,
    editor: str | None,
    reset: bool,
) -> None:
    """Tag persons, places and organizations in TEI files.

    INPUT is a TEI file or a folder of them (*.xml). Every tag gets @ref to the authority
    entry (or to an unreviewed candidate) and @resp naming the software that made it.

    \b
    Example:
      toolkit tag corpus/tei --authority corpus/authority.xml
    """
    from .authority import add_candidates
    from .decisions import check_editor, configured_editor
    from .engine import Tagger, plan_outputs, sha256_of, tag_documents
    from .files import expand
    from .provenance import timestamp

    now = _timestamp(timestamp)
    editor = editor or configured_editor(inputs)
    try:
        check_editor(editor)
    except ToolkitError as exc:
        raise click.UsageError(str(exc)) from None
    authority_data, auth = _authority(authority)
    nlp, info = _pipeline(model, auth)
    tagger = Tagger(nlp, info, auth, authority, sha256_of(authority_data))
    paths = list(expand(inputs))
    failed = 0
    total = len(paths)
    if outdir:  # one output name per input: d1/a.xml and d2/a.xml cannot both be OUTDIR/a.xml
        planned = list(plan_outputs(paths, outdir, lambda p: p.name))
        paths = [source for source, _, clash in planned if clash is None]
        total = len(planned)
        for _, _, clash in planned:
            if clash is not None:
                _fail(clash)
                failed += 1
    candidates = {}
    for result in tag_documents(
        paths, tagger, now=now, outdir=outdir, jobs=jobs, editor=editor, reset=reset
    ):
        if result.error is not None:
            _fail(result.error)
            failed += 1
            continue
        if result.status == "skipped":
            click.echo(f"{result.path}: skipped, {result.warnings[0]}")
            continue
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)
        c = result.counts
        click.echo(
            f"{result.path} -> {result.target}: {result.status}; persName "
            f"{c.get('persName', 0)}, placeName {c.get('placeName', 0)}, "
            f"orgName {c.get('orgName', 0)}, candidates {c.get('candidates', 0)}"
        )
        candidates.update({e.id: e for e in result.candidates})
    if update_authority and candidates:
        data, added = add_candidates(authority_data, candidates.values(), str(authority))
        if added:
            atomic_write(authority, data)
        click.echo(f"{authority}: {added} candidate(s) added for review")
    _finish(total, failed, "tagged")


@main.command()
@click.argument("gold", nargs=-1, type=click.Path(path_type=Path, exists=True))
@MODEL
@AUTHORITY
def evaluate(gold: tuple[Path, ...], model: str | None, authority: Path) -> None:
    """Score the raw model and the toolkit on gold data: P, R, F1 per type, and linking.

    GOLD is an IOB file (token TAG lines) or reviewed TEI files / folders of them (every
    persName, placeName, orgName a gold mention, @key its entity); see toolkit/evaluation.py.
    Without GOLD, a small packaged IOB sample (ten invented sentences) is scored, to try it.

    \b
    Examples:
      toolkit evaluate --authority corpus/authority.xml
      toolkit evaluate my-gold.iob --authority corpus/authority.xml
    """
    import tempfile
    from importlib.resources import as_file, files

    if not gold:
        with as_file(files("toolkit.data").joinpath("eval/sample.iob")) as sample:
            gold = (Path(sample),)

    from .entities import raw_entities, toolkit_entities
    from .evaluation import evaluate as run_evaluation
    from .evaluation import (
        linking,
        raw_gold,
        read_gold_paths,
        read_iob,
        report,
        report_tei,
        score_documents,
        tag_gold,
    )
    from .files import expand

    _, auth = _authority(authority)
    raw_nlp, info = _pipeline(model, None)
    tk_nlp, _ = _pipeline(model, auth)
    if len(gold) == 1 and gold[0].is_file() and gold[0].suffix != ".xml":
        sentences = read_iob(gold[0].read_text(encoding="utf-8"))
        results = run_evaluation(
            sentences,
            {
                "raw": lambda texts: raw_entities(raw_nlp, texts),
                "toolkit": lambda texts: toolkit_entities(tk_nlp, texts, auth),
            },
        )
        click.echo(f"{gold[0]}: {len(sentences)} sentences; model {info.name} {info.version}")
        click.echo(report(results))
        return
    try:
        docs = read_gold_paths(expand(gold))
        raw = raw_gold(docs, raw_nlp)
        with tempfile.TemporaryDirectory() as tmp:
            tagged = tag_gold(docs, tk_nlp, info, auth, Path(tmp))
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    mentions = sum(len(d.mentions) for d in docs)
    click.echo(
        f"{len(docs)} gold document(s), {mentions} mentions; model {info.name} {info.version}"
    )
    results = {"raw": score_documents(docs, raw), "toolkit": score_documents(docs, tagged)}
    click.echo(report_tei(results, {"toolkit": linking(docs, tagged)}))


# --- review (names helper) ---------------------------------------------------------------


class _ReviewGroup(click.Group):
    """``toolkit review [CORPUS]`` lists the queue; ``toolkit review VERB ...`` decides."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["list", *args]
        return super().parse_args(ctx, args)


CORPUS_OPTION = click.option(
    "--corpus",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("corpus"),
    show_default=True,
    help="The corpus folder (tei/, authority.xml).",
)
EDITOR_OPTION = click.option(
    "--editor", help="Your id (an XML name, e.g. jdoe); default: editor in CORPUS/toolkit.toml."
)


def _editor(corpus: Path, editor: str | None) -> str:
    import tomllib

    if editor is None and (corpus / "toolkit.toml").is_file():
        try:
            editor = tomllib.loads((corpus / "toolkit.toml").read_text("utf-8")).get("editor")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            editor = None
    from .review import check_editor

    try:
        return check_editor(editor)
    except ToolkitError as exc:
        raise click.UsageError(str(exc)) from None


def _decide(fn, corpus: Path, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from .provenance import timestamp

    try:
        decision = fn(corpus, *args, now=_timestamp(timestamp), **kwargs)
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(1 if exc.code in ("E601", "E603", "E605") else 2)
    click.echo(
        f"{decision.summary}: {decision.mentions} mention(s) re-pointed; "
        f"{len(decision.files)} file(s) written: {', '.join(decision.files)}"
    )


@main.group(cls=_ReviewGroup)
def review() -> None:
    """Review candidate entities: list them, accept, reject, merge, rename, undo.

    \b
    toolkit review corpus                      the queue, most frequent first
    toolkit review corpus --format json
    toolkit review accept cand-person-stalin --editor jdoe
    toolkit review accept cand-person-filippov --as stalin --editor jdoe
    toolkit review reject cand-org-top-secret --editor jdoe
    toolkit review merge cand-person-terebin cand-person-andrei-orlov --editor jdoe
    toolkit review rename cand-person-stalin "Joseph Stalin" --editor jdoe
    toolkit review undo
    """


@review.command("list")
@click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), default="corpus")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--limit", type=int, default=0, help="Show only the first N (0: all).")
def review_list(corpus: Path, fmt: str, limit: int) -> None:
    """The candidate entities of CORPUS, most frequent first, with forms and contexts.

    \b
    Example:
      toolkit review corpus --format json --limit 20
    """
    import json

    from .review import review_queue

    try:
        queue = review_queue(corpus)
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    shown = queue[:limit] if limit else queue
    if fmt == "json":
        click.echo(json.dumps([c.to_dict() for c in shown], indent=1, ensure_ascii=False))
        return
    for c in shown:
        forms = ", ".join(f"{f} ({n})" for f, n in c.forms)
        ids = "".join(f" {t} {v}" for t, v in c.idnos)
        click.echo(f"{c.id}  {c.type}  {c.count} mention(s), {c.document_count} document(s)")
        click.echo(f"  forms: {forms}" + (f"; roles: {', '.join(c.roles)}" if c.roles else ""))
        if ids:
            click.echo(f"  {c.source}:{ids}")
        for ctx in c.contexts:
            click.echo(f"  ... {ctx} ...")
        for hint in c.suggestions:
            click.echo(f"  suggestion: {hint}")
    click.echo(f"{len(queue)} candidate entities in {corpus}")


@review.command("accept")
@click.argument("cand")
@click.option("--as", "as_entry", help="An authority entry id: add the forms as its variants.")
@CORPUS_OPTION
@EDITOR_OPTION
def review_accept(cand: str, as_entry: str | None, corpus: Path, editor: str | None) -> None:
    """Make CAND an authority entry (or variants of --as ENTRY); re-point its mentions.

    \b
    Example:
      toolkit review accept cand-person-stalin --editor jdoe
    """
    from .review import accept

    _decide(accept, corpus, cand, editor=_editor(corpus, editor), as_entry=as_entry)


@review.command("reject")
@click.argument("cand")
@CORPUS_OPTION
@EDITOR_OPTION
def review_reject(cand: str, corpus: Path, editor: str | None) -> None:
    """Record CAND's forms as not names (never tagged again) and unwrap its tags.

    \b
    Example:
      toolkit review reject cand-org-top-secret --editor jdoe
    """
    from .review import reject

    _decide(reject, corpus, cand, editor=_editor(corpus, editor))


@review.command("merge")
@click.argument("cands", nargs=-1, required=True)
@CORPUS_OPTION
@EDITOR_OPTION
def review_merge(cands: tuple[str, ...], corpus: Path, editor: str | None) -> None:
    """Join candidates into one entity (the first id); accept it afterwards.

    \b
    Example:
      toolkit review merge cand-person-terebin cand-person-andrei-orlov --editor jdoe
    """
    from .review import merge

    _decide(merge, corpus, list(cands), editor=_editor(corpus, editor))


@review.command("rename")
@click.argument("cand")
@click.argument("name")
@CORPUS_OPTION
@EDITOR_OPTION
def review_rename(cand: str, name: str, corpus: Path, editor: str | None) -> None:
    """Give CAND (or an entry) the main name NAME.

    \b
    Example:
      toolkit review rename cand-person-terebin "Andrei Terebin" --editor jdoe
    """
    from .review import rename

    _decide(rename, corpus, cand, name, editor=_editor(corpus, editor))


@review.command("undo")
@CORPUS_OPTION
def review_undo(corpus: Path) -> None:
    """Revert the last review decision (refused if a file changed since).

    \b
    Example:
      toolkit review undo --corpus corpus
    """
    from .review import undo

    try:
        decision = undo(corpus)
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(1)
    click.echo(f"{decision.summary}: {len(decision.files)} file(s) restored")


@review.command("confirm")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@CORPUS_OPTION
@EDITOR_OPTION
def review_confirm(files: tuple[Path, ...], corpus: Path, editor: str | None) -> None:
    """Mark TEI documents (files or folders) reviewed by the editor: revisionDesc/@status.

    \b
    Example:
      toolkit review confirm corpus/tei/letter.xml --editor jdoe
    """
    from .files import expand
    from .review import confirm

    _decide(confirm, corpus, list(expand(files)), editor=_editor(corpus, editor))


@review.command("page")
@CORPUS_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False))
def review_page_cmd(corpus: Path, output: Path | None) -> None:
    """Write the review page (default CORPUS/index/review.html).

    \b
    Example:
      toolkit review page --corpus corpus
    """
    from .review import PAGE_DOCUMENTS, review_page, review_queue

    try:
        queue = review_queue(corpus, max_documents=PAGE_DOCUMENTS)
        page = review_page(queue, corpus=str(corpus))
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    target = output or corpus / "index" / "review.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, page.encode())
    click.echo(f"{target}: written")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="One problem a line, or a JSON list.",
)
@click.option(
    "--schema",
    type=click.Path(exists=True, dir_okay=False),
    help="RELAX NG schema instead of the packaged toolkit.rng.",
)
@click.option(
    "--schematron",
    type=click.Path(exists=True, dir_okay=False),
    help="Schematron rules instead of the packaged toolkit.sch.",
)
@click.option(
    "--tei-all",
    "tei_all",
    is_flag=True,
    help="Also check against the official tei_all schema (TEI P5 4.3.0, shipped with the "
    "toolkit; jing if installed, lxml otherwise).",
)
@click.option(
    "--tei-all-schema",
    type=click.Path(exists=True, dir_okay=False),
    help="Another full TEI schema (RELAX NG) for --tei-all; implies --tei-all.",
)
@click.option(
    "--authority",
    type=click.Path(exists=True, dir_okay=False),
    help="Authority file for auth: references (default: from each file's prefixDef).",
)
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=lambda: min(64, os.cpu_count() or 1),
    show_default="one per core",
    help="Processes checking files in parallel (from 200 files on; same output, same order).",
)
def validate(
    paths: tuple[Path, ...],
    fmt: str,
    schema: str | None,
    schematron: str | None,
    tei_all: bool,
    tei_all_schema: str | None,
    authority: str | None,
    jobs: int,
) -> None:
    """Check TEI files against the project's RELAX NG and Schematron schemas.

    PATH is a file or a folder (all *.xml inside). Prints PATH:LINE:COL: error|warning [CODE]
    message. Exit status: 0 no error; 1 errors found; 2 could not run (a usage error, a schema
    or --authority file that cannot be read [E401, E402], a folder without *.xml [E403]).

    \b
    Examples:
      toolkit validate corpus/tei
      toolkit validate corpus/tei --tei-all --format json
    """
    import json

    from .files import expand
    from .validate import Problem, tei_all_problems, validate_files

    bad_args = [p for p in paths if p.suffix == ".rng"]
    if bad_args:
        raise click.UsageError(
            f"{bad_args[0]} is a schema, not a TEI file: --tei-all takes no value since the "
            "schema ships with the toolkit; use --tei-all-schema FILE for another one"
        )
    refused: list[ToolkitError] = []
    files = list(expand(paths, refused=refused))
    if not files and not refused:
        _cannot_run(
            ToolkitError(
                "E403",
                "no *.xml file to check here; give TEI files or a folder holding them",
                " ".join(map(str, paths)),
            )
        )
    problems = [Problem(e.path or "", 1, 1, "error", e.code, e.message) for e in refused]
    if fmt == "text":
        for problem in problems:
            click.echo(str(problem))
    try:
        checked = validate_files(
            files, schema=schema, rules=schematron, authority=authority, jobs=jobs
        )
        for _, found in checked:
            problems += found
            if fmt == "text":
                for problem in found:
                    click.echo(str(problem))
        if tei_all or tei_all_schema:
            extra = tei_all_problems(files, tei_all_schema)
            problems += extra
            if fmt == "text":
                for problem in extra:
                    click.echo(str(problem))
    except ToolkitError as exc:
        _cannot_run(exc)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if fmt == "json":
        click.echo(json.dumps([p.to_dict() for p in problems], indent=1, ensure_ascii=False))
    else:
        checked = len(files) + len(refused)
        click.echo(f"{checked} file(s) checked: {errors} error(s), {warnings} warning(s)")
    sys.exit(EXIT_FOUND_ERRORS if errors else EXIT_OK)


def _cannot_run(error: ToolkitError) -> NoReturn:
    """Print a one-line coded error and exit 2: the command could not run."""
    _fail(error)
    sys.exit(EXIT_CANNOT_RUN)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True))
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for index.xml, index.json, index.csv, index.html and docs/*.html.",
)
@AUTHORITY
def index(inputs: tuple[Path, ...], outdir: Path, authority: Path) -> None:
    """Build the corpus entity index from tagged TEI files (files or folders).

    \b
    Example:
      toolkit index corpus/tei -o corpus/index
    """
    from .files import expand
    from .index import build_index
    from .provenance import timestamp

    now = _timestamp(timestamp)
    _, auth = _authority(authority)
    paths = list(expand(inputs))
    report = build_index(paths, auth, outdir, now=now)
    for error in report.errors:
        _fail(error)
    e = report.entities
    click.echo(
        f"{outdir}: {report.documents} document(s), {report.mentions} mentions; "
        f"persons {e.get('person', 0)}, places {e.get('place', 0)}, "
        f"organizations {e.get('org', 0)}; {report.candidates} unreviewed"
    )
    _finish(len(paths), len(report.errors), "indexed")


@main.command()
@click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), default="corpus")
@MODEL
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Processes for the model (spaCy n_process) in a single-machine build.",
)
@click.option(
    "--dask",
    metavar="local[:N]|ADDRESS",
    help="Run on Dask: a local cluster of N worker processes, or a running scheduler "
    "(tcp://host:8786). Needs the dask extra and the corpus on a shared file system.",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0,
    show_default=True,
    help="Seconds to wait when another build holds the corpus lock.",
)
@click.option(
    "--partition",
    type=click.IntRange(1),
    help="Documents per partition (one Dask task); default: about 4 per worker, at most 200.",
)
def build(
    corpus: Path,
    model: str | None,
    jobs: int,
    dask: str | None,
    wait: float,
    partition: int | None,
) -> None:
    """Run convert -> tag -> validate -> index over a corpus folder.

    CORPUS holds sources/ (in), tei/ and index/ (out) and authority.xml (created empty when
    missing). A source whose bytes did not change (SHA-256) is not converted again, so hand
    corrections in tei/ survive; a document that did not change is not tagged again. One build
    at a time: a second one waits (--wait) or exits 2 [E350].

    \b
    Examples:
      toolkit build corpus
      toolkit build corpus --dask local:2
      toolkit build corpus --dask tcp://scheduler.example.org:8786
    """
    from .pipeline import build as run_build
    from .provenance import timestamp

    if dask and jobs > 1:
        raise click.UsageError("--jobs is for a single-machine build; with --dask, add workers")
    now = _timestamp(timestamp)

    def started(report) -> None:  # type: ignore[no-untyped-def]
        if report.stale_lock:
            click.echo(f"note: {report.stale_lock}", err=True)
        if report.authority_created:
            click.echo(f"note: created an empty {corpus / 'authority.xml'}; add entries to it")
        if report.dashboard:
            click.echo(f"Dask dashboard: {report.dashboard}")

    try:
        report = run_build(
            corpus,
            now=now,
            model=model,
            jobs=jobs,
            dask=dask,
            wait=wait,
            partition=partition,
            progress=_bar,
            on_start=started,
        )
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    for orphan in report.orphans:
        where = f"moved to {orphan.moved_to}" if orphan.moved_to else "deleted (no hand edits)"
        click.echo(f"orphan: {orphan.tei}: its source is gone; removed from the index, {where}")
    for error in report.errors:
        _fail(error)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    if report.omitted:
        more = ", ".join(f"{n} {kind.replace('-', ' ')}" for kind, n in report.omitted.items())
        click.echo(f"... and {more} more: every message is in {report.log}", err=True)
    e = report.entities
    errors = report.count("problem-errors")
    click.echo(
        f"{corpus}: {report.documents} document(s) "
        f"({report.converted} converted, {report.unchanged} unchanged, "
        f"{report.ner} through the model, {report.tagged} re-tagged"
        f"{', index unchanged' if not report.index_rebuilt else ''}); "
        f"entities: persons {e.get('person', 0)}, "
        f"places {e.get('place', 0)}, organizations {e.get('org', 0)} "
        f"({report.mentions} mentions); {report.candidates} candidate(s) to review; "
        f"validation: {errors} error(s), {report.count('problem-warnings')} warning(s)"
    )
    if report.failed:
        sys.exit(1)


@main.command()
@click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), default="corpus")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8001, show_default=True)
def serve(corpus: Path, host: str, port: int) -> None:
    """Explore CORPUS/index/index.sqlite in Datasette (needs the publish extra).

    Facets, full-text search, SQL and the canned queries of index/metadata.json, in the
    browser at http://HOST:PORT/ until Ctrl-C.

    \b
    Example:
      toolkit serve corpus --port 8001
    """
    from .publish.serve import datasette
    from .publish.serve import serve as run_server

    try:
        datasette(corpus)
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    click.echo(f"Datasette on http://{host}:{port}/index (Ctrl-C to stop)")
    run_server(corpus, host=host, port=port)


@main.command()
@click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), default="corpus")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The PROV file: .json (PROV-JSON), .ttl (PROV-O Turtle), .provn or .xml.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "turtle", "provn", "xml"]),
    help="Output format; default from the file's suffix.",
)
def prov(corpus: Path, output: Path, fmt: str | None) -> None:
    """Export the corpus's provenance as W3C PROV (needs the publish extra).

    Sources (SHA-256), TEI files and their versions, every conversion, tagging, review and
    training run recorded in the TEI headers, the software, models and people involved.

    \b
    Examples:
      toolkit prov corpus -o corpus-prov.json
      toolkit prov corpus -o corpus-prov.ttl
    """
    from .files import expand
    from .index import publish_settings
    from .publish.prov import corpus_provenance, default_base_uri, format_of, serialize

    try:
        kind = format_of(output, fmt)
        if not (corpus / "tei").is_dir():
            raise ToolkitError("E705", f"{corpus}/tei is not a folder; give a corpus folder")
        settings = publish_settings(corpus / "index")
        doc, report = corpus_provenance(
            expand([corpus / "tei"]),
            base_uri=default_base_uri(corpus, settings),
            index=corpus / "index" / "index.xml",
        )
        atomic_write(output, serialize(doc, kind))
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    except OSError as exc:
        _fail(f"{output}: cannot write ({exc.strerror})")
        sys.exit(2)
    for error in report.errors:
        _fail(error)
    click.echo(
        f"{output}: {report.documents} document(s), {report.activities} activities, "
        f"{report.agents} agents"
    )
    if report.errors:
        sys.exit(1)


@main.command()
@click.argument("corpus", type=click.Path(path_type=Path, file_okay=False), default="corpus")
@click.option(
    "-o",
    "--outdir",
    type=click.Path(path_type=Path, file_okay=True),
    required=True,
    help="The bag's folder (must not exist, or be empty).",
)
@click.option("--organization", help="bag-info Source-Organization ([publish] organization).")
def package(corpus: Path, outdir: Path, organization: str | None) -> None:
    """Pack the corpus as a BagIt bag with SHA-256 and SHA-512 manifests (publish extra).

    Sources, TEI, authority file, index and PROV provenance; validate it with
    `bagit.py --validate DIR`.

    \b
    Example:
      toolkit package corpus -o corpus-bag
    """
    from .index import publish_settings
    from .provenance import timestamp
    from .publish.bag import make_package, validate_package
    from .publish.prov import default_base_uri

    now = _timestamp(timestamp)
    settings = publish_settings(corpus / "index")
    try:
        report = make_package(
            corpus,
            outdir,
            now=now,
            organization=organization or settings.get("organization"),
            base_uri=default_base_uri(corpus, settings),
        )
    except ToolkitError as exc:
        _fail(exc)
        sys.exit(2)
    except OSError as exc:
        _fail(f"{outdir}: cannot write the bag ({exc.strerror})")
        sys.exit(2)
    for path in report.skipped:
        click.echo(f"warning: {path}: not a regular file inside the corpus; not packed", err=True)
    problems = validate_package(outdir)
    for problem in problems:
        _fail(f"{outdir}: [E706] {problem}")
    click.echo(
        f"{outdir}: BagIt bag of {report.files} file(s) ({report.sources} source(s), "
        f"{report.tei} TEI file(s)); manifests SHA-256, SHA-512; "
        + ("valid" if not problems else "INVALID")
    )
    if problems:
        sys.exit(1)


@contextmanager
def _bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar counting documents (none for small runs)."""
    if total < 50:
        yield lambda n: None
        return
    with click.progressbar(length=total, label=f"{label:8}", file=sys.stderr) as bar:
        yield bar.update


@main.command()
@click.argument("corpus", type=click.Path(path_type=Path, exists=True), default="corpus")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the trained pipeline [default: CORPUS/model].",
)
@click.option(
    "--extra",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="An IOB file (token TAG lines) of extra gold sentences; repeatable.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of split and training.")
@click.option(
    "--max-epochs",
    type=click.IntRange(1, 1000),
    default=30,
    show_default=True,
    help="At most this many passes over the training data.",
)
@click.option(
    "--patience",
    type=click.IntRange(0, 1000),
    default=8,
    show_default=True,
    help="Stop after this many epochs without a better dev F1 (0: never).",
)
@click.option("--force", is_flag=True, help="Write the model even if it is worse than the base.")
@click.option("--model", help="Base spaCy pipeline (name or path); default en_core_web_sm.")
def train(
    corpus: Path,
    output: Path | None,
    extra: tuple[Path, ...],
    seed: int,
    max_epochs: int,
    patience: int,
    force: bool,
    model: str | None,
) -> None:
    """Fine-tune the NER model on the corpus's reviewed documents.

    CORPUS is a corpus folder (its tei/*.xml) or a folder of TEI files. Only documents an
    editor confirmed (revisionDesc/@status="reviewed") are training data. Prints the dev
    scores of the base and the trained model; a model worse than the base is not written
    unless --force. Ctrl-C keeps the best model so far.

    \b
    Example:
      toolkit train corpus -o corpus/model --max-epochs 30
      toolkit tag corpus/tei --model corpus/model
    """
    from .train import RefusedError, TrainError, corpus_files, score_table
    from .train import train as run_train

    target = output or (corpus / "model" if corpus.is_dir() else corpus.parent / "model")

    def show(p):  # type: ignore[no-untyped-def]
        if p is None:
            return None
        return f"epoch {p.epoch}  loss {p.loss:.1f}  dev F1 {p.dev_f1:.3f} (best {p.best_f1:.3f})"

    bar = click.progressbar(
        length=max_epochs, label="training", file=sys.stderr, item_show_func=show, show_pos=True
    )
    try:
        with bar:
            report = run_train(
                corpus_files(corpus),
                target,
                extra=extra,
                base=model,
                seed=seed,
                max_epochs=max_epochs,
                patience=patience,
                force=force,
                progress=lambda p: bar.update(max(0, p.epoch - bar.pos), p),
            )
    except RefusedError as exc:
        click.echo(score_table(exc.report.before, exc.report.after))
        _fail(exc)
        sys.exit(1)
    except (TrainError, ToolkitError) as exc:
        _fail(exc)
        sys.exit(2)
    for error in report.errors:
        _fail(error)
    click.echo(score_table(report.before, report.after))
    d, m = report.documents, report.mentions
    state = "interrupted; best epoch kept" if report.interrupted else f"{report.epochs} epoch(s)"
    click.echo(
        f"{target}: {report.base}_toolkit from {report.base} {report.base_version}; "
        f"{d['train']} train / {d['dev']} dev document(s), {d['extra_sentences']} extra "
        f"sentence(s), {d['rehearsal_texts']} rehearsal text(s); mentions: persons "
        f"{m['person']}, places {m['place']}, organizations {m['org']}; {state}, "
        f"{report.seconds:.0f} s; training data SHA-256 {report.training_sha256}"
    )
    if report.errors:
        sys.exit(1)


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--tei", "as_tei", is_flag=True, help="Print TEI (msDesc, or bibl for a book).")
def cite(text: str, as_json: bool, as_tei: bool) -> None:
    """Parse an archival reference (also inside a longer citation) and print its structure.

    \b
    Examples:
      toolkit cite "AVPRF: fond 0100, opis 33, delo 13, papka 244, listy 220-240"
      toolkit cite "ГАРФ. Ф. Р-9401. Оп. 2. Д. 64. Л. 7 об." --json
      toolkit cite "TNA, FO 371/46212" --tei
    """
    import json

    from .citations import archive, citation_json, format_citation, parse_citation
    from .errors import CitationError
    from .tei import citation_to_tei, serialize

    if as_json and as_tei:
        raise click.UsageError("choose one of --json and --tei")
    try:
        citation = parse_citation(text)
    except CitationError as exc:
        _fail(exc)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(citation_json(citation), ensure_ascii=False, indent=1))
    elif as_tei:
        xml = serialize(citation_to_tei(citation)).decode()
        click.echo(xml.split("?>\n", 1)[1], nl=False)
    else:
        entry = archive(citation.repository)
        where = f" ({entry.name}, {entry.settlement}, {entry.country})" if entry else ""
        kind = "archival" if citation.repository or citation.levels else "bibliographic"
        click.echo(f"{kind}: {format_citation(citation)}{where}")


def _timestamp(fn) -> str:  # type: ignore[no-untyped-def]
    try:
        return fn()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _finish(total: int, failed: int, verb: str) -> None:
    if failed:
        click.echo(f"{total - failed} of {total} file(s) {verb}; {failed} failed", err=True)
        sys.exit(1)
