"""Editorial paths stay linear: sizes from issue 16 (item 15) and the minimal-diff writer.

Prints, each as a ratio against a baseline measured in the same run:
  convert  one line with many square brackets, 1.2 MB and 4.8 MB (86 s before the fix at 5 MB;
           `tei._append_text` asked lxml for len(el), O(children)): time ratio, ~4 = linear
  attrs    `tag` on a <p> with 50,000 and 200,000 attributes: time ratio, ~4 = linear
  patch    `tag` of a 0.16 MB and a 0.65 MB file (scan + byte edits): time ratio, ~4 = linear;
           and the re-serializing writer `tag` used before (parse, read and rewrite every
           block, serialize) on the larger file, for scale

No statistical model: a blank spaCy pipeline with the authority matcher, so the figures measure
the toolkit's own work. Run: .venv/bin/python bench/bench_editor.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import spacy  # noqa: E402

from toolkit.authority import parse_authority  # noqa: E402
from toolkit.entities import ModelInfo, authority_patterns  # noqa: E402
from toolkit.sources import convert  # noqa: E402
from toolkit.tagging import tag_document  # noqa: E402
from toolkit.tei import (  # noqa: E402
    NS,
    iter_blocks,
    parse_bytes,
    read_block,
    serialize,
    to_tei,
    write_block,
)

NOW = "2023-11-14T22:13:20Z"
HEADER = (
    "<teiHeader><fileDesc><titleStmt><title>T</title></titleStmt><publicationStmt><p>x</p>"
    "</publicationStmt><sourceDesc><p>x</p></sourceDesc></fileDesc></teiHeader>"
)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_convert() -> None:
    unit = "word [ed] text N[ikolai] more "
    times = []
    for size in (1_200_000, 4_800_000):
        line = unit * (size // len(unit))
        data = ("Title\n\n" + line).encode()
        times.append(timed(lambda d=data: serialize(to_tei(convert(d, "x.txt", now=NOW)))))
    print(
        f"convert  1.2 MB {times[0]:.2f} s, 4.8 MB {times[1]:.2f} s; "
        f"ratio {times[1] / times[0]:.2f} (~4 = linear)"
    )


def tagger():  # type: ignore[no-untyped-def]
    authority = parse_authority((ROOT / "corpus" / "authority.xml").read_bytes())
    nlp = spacy.blank("en")
    nlp.add_pipe("authority_matcher", config={"patterns": authority_patterns(authority)})
    info = ModelInfo("en_blank", "0", spacy.__version__, "blank")

    def tag(data: bytes):  # type: ignore[no-untyped-def]
        return tag_document(
            data, Path("x.xml"), nlp, info, authority, now=NOW, authority_sha256="0"
        )

    return tag


def bench_attributes(tag) -> None:  # type: ignore[no-untyped-def]
    times = []
    for n in (50_000, 200_000):
        attrs = " ".join(f'x:n{i}="v"' for i in range(n))
        data = (
            f'<TEI xmlns="http://www.tei-c.org/ns/1.0">{HEADER}<text><body>'
            f'<p xmlns:x="urn:x" {attrs}>Mao Zedong.</p></body></text></TEI>'
        ).encode()
        times.append(timed(lambda d=data: tag(d)))
    print(
        f"attrs    50,000 {times[0]:.2f} s, 200,000 {times[1]:.2f} s; "
        f"ratio {times[1] / times[0]:.2f} (~4 = linear)"
    )


def bench_patch(tag) -> None:  # type: ignore[no-untyped-def]
    paragraph = (
        "<p>Mao Zedong met Chiang Kai-shek in <hi>Chongqing</hi>; the CCP and the GMD "
        "talked for weeks &#x2014; <supplied>then</supplied> the Soviet Union spoke.</p>\n"
    )

    def document(n: int) -> bytes:
        return (
            f'<TEI xmlns="http://www.tei-c.org/ns/1.0">{HEADER}<text><body>\n'
            + paragraph * n
            + "</body></text></TEI>\n"
        ).encode()

    def rewrite(data: bytes) -> None:  # the re-serializing writer tagging used before
        tree = parse_bytes(data)
        for i, el in enumerate(iter_blocks(tree.getroot().find("tei:text/tei:body", NS))):
            text, spans = read_block(el, i)
            write_block(el, text, spans)
        serialize(tree)

    small, large = document(1000), document(4000)
    t_small = min(timed(lambda: tag(small)) for _ in range(2))
    t_large = min(timed(lambda: tag(large)) for _ in range(2))
    base = min(timed(lambda: rewrite(large)) for _ in range(2))
    print(
        f"patch    tag 0.16 MB {t_small:.2f} s, 0.65 MB {t_large:.2f} s; ratio "
        f"{t_large / t_small:.2f} (~4 = linear); re-serializing writer alone {base:.2f} s "
        f"(tag / writer {t_large / base:.1f}, tag includes spaCy and the matcher)"
    )


if __name__ == "__main__":
    bench_convert()
    tag = tagger()
    bench_attributes(tag)
    bench_patch(tag)
