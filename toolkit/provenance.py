"""Who did what, when: the toolkit's application record and reproducible timestamps."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from . import __version__
from .model import Application

TOOLKIT = Application(ident="toolkit", version=__version__, label="TEI provenance toolkit")


def timestamp(environ: dict[str, str] | None = None) -> str:
    """Now as ``YYYY-MM-DDThh:mm:ssZ``, or ``SOURCE_DATE_EPOCH`` when it is set.

    That is the reproducible-builds convention: fixed input and epoch give byte-identical output.
    """
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            moment = datetime.fromtimestamp(int(epoch), UTC)
        except (ValueError, OverflowError, OSError):
            raise ValueError(
                f"[E901] SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds; "
                "set it to e.g. $(git log -1 --format=%ct) or unset it"
            ) from None
    else:
        moment = datetime.now(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
