"""The ``toolkit`` command: a thin click shell over the library.

Each command parses its arguments, calls library functions, writes files atomically and turns
library errors into one-line messages. A batch goes on past a bad file and exits 1 at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import ToolkitError
from .files import atomic_write


def _fail(error: ToolkitError | str) -> None:
    click.echo(f"error: {error}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="toolkit")
def main() -> None:
    """Turn archival plain-text captures into provenance-complete TEI P5.

    \b
    toolkit convert corpus/sources/*.txt -o corpus/tei
    toolkit tag corpus/tei
    toolkit validate corpus/tei
    toolkit index corpus/tei -o corpus/index
    toolkit build corpus
    """


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o", "--outdir", type=click.Path(path_type=Path, file_okay=False), default=Path("corpus/tei"),
    show_default=True, help="Folder for OUTDIR/<source stem>.xml.",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "wilson", "web", "plain"]), default="auto",
    show_default=True, help="Source shape; auto detects it.",
)  # fmt: skip
@click.option("--encoding", help="Force a text encoding (e.g. cp1251) instead of detecting it.")
def convert(sources: tuple[Path, ...], outdir: Path, fmt: str, encoding: str | None) -> None:
    """Convert source texts into TEI with a full header.

    \b
    Example:
      toolkit convert corpus/sources/*.txt -o corpus/tei
    """
    from .provenance import timestamp
    from .sources import convert as convert_source
    from .sources import read_source
    from .tei import serialize, to_tei

    now = _timestamp(timestamp)
    failed = 0
    for source in sources:
        try:
            doc = convert_source(
                read_source(source), source.name, format=fmt, encoding=encoding, now=now
            )
            target = outdir / f"{source.stem}.xml"
            atomic_write(target, serialize(to_tei(doc)))
        except ToolkitError as exc:
            exc.path = str(source)  # the library knows the name only; report the path given
            _fail(exc)
            failed += 1
            continue
        click.echo(f"{source} -> {target} ({doc.header.source.format}, {len(doc.blocks)} blocks)")
    _finish(len(sources), failed, "converted")


def _timestamp(fn) -> str:  # type: ignore[no-untyped-def]
    try:
        return fn()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _finish(total: int, failed: int, verb: str) -> None:
    if failed:
        click.echo(f"{total - failed} of {total} file(s) {verb}; {failed} failed", err=True)
        sys.exit(1)
