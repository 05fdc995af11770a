"""``toolkit serve``: the corpus's ``index/index.sqlite`` in Datasette (the ``publish`` extra)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import ToolkitError


def index_files(corpus: Path) -> tuple[Path, Path]:
    """``index/index.sqlite`` and ``index/metadata.json`` of a corpus, or a coded error."""
    db, meta = corpus / "index" / "index.sqlite", corpus / "index" / "metadata.json"
    if not db.is_file():
        raise ToolkitError(
            "E702",
            f"{db} does not exist; run `toolkit build {corpus}` (or `toolkit index`) first",
            str(corpus),
        )
    return db, meta


def datasette(corpus: Path) -> Any:
    """A ``Datasette`` instance on the corpus index (immutable: opened read-only)."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise ToolkitError(
            "E701",
            "Datasette is not installed; install the publish extra: "
            "pip install 'tei-provenance-toolkit[publish]'",
        ) from None
    db, meta = index_files(corpus)
    metadata = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
    return Datasette(immutables=[str(db)], metadata=metadata)


def serve(corpus: Path, *, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Run Datasette on the corpus index until interrupted."""
    app = datasette(corpus)
    import uvicorn

    uvicorn.run(app.app(), host=host, port=port, log_level="warning")
