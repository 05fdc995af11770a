"""Write the hostile and damaged inputs of issue 16, one file per case, into a folder.

    python tests/data/hostile/make_hostile.py OUTDIR

Every text is invented here; nothing is copied. The layout of OUTDIR:

- ``sources/``: captures for ``convert`` and ``build`` (damaged encodings, control characters,
  page breaks, a paragraph over spaCy's 1,000,000 characters, a 250-character file name, a
  symlink to ``/etc/passwd``, a FIFO, same-stem files in two sub-folders);
- ``good/``: good captures mixed into every batch, to check that the rest is processed;
- ``tei/``: TEI files for ``validate``, ``tag`` and ``index`` (DOCTYPEs naming a local, a FIFO
  and an http DTD, an undeclared entity, hand-edited header variants, 200,000 attributes,
  65,000 inline elements, deep nesting, a symlink leaving the folder, a 10 MB paragraph);
- ``authority-malformed.xml``, ``empty/`` (a folder without ``*.xml``), ``schema-fifo.rng``.

``CASES`` maps each file to the issue item it stands for; the tests read it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

TEI_NS = "http://www.tei-c.org/ns/1.0"
# Invented prose with typographic punctuation (so a damaged UTF-8 file is recognizably UTF-8).
PROSE = (
    "The committee met on 12 March 1951 in the small hall of the Port Authority — a room "
    "with “tall windows” and a broken clock. Karel Novotný read the minutes; Ilse Brandt "
    "objected to the second paragraph and asked that her objection be recorded.\n\n"
    "After a short recess the members agreed to send a delegation to Gdańsk in April, "
    "with instructions to report on the state of the grain stores.\n"
)
RUSSIAN = (
    "Протокол заседания комиссии от 14 мая 1952 года.\n\n"
    "Присутствовали: товарищ Петров, товарищ Сидорова и представитель порта. Комиссия "
    "рассмотрела вопрос о поставках зерна и решила направить делегацию в Одессу.\n"
)
PLAIN = (
    "Report on the harbour inspection\n\n"
    "The inspectors walked the length of the east quay on Tuesday and counted forty barges. "
    "Martin Oakes noted that two cranes were out of service.\n\n"
    "The harbour master promised repairs before the end of the month.\n"
)

CASES: dict[str, str] = {
    "sources/utf8-stray-byte.txt": "16.1 almost-valid UTF-8: E105 with the byte offset",
    "sources/cp1251-minutes.txt": "16.1 a real legacy code page: decoded, evidence recorded",
    "sources/utf16le-no-bom.txt": "16.2 UTF-16 LE without BOM",
    "sources/utf16be-no-bom.txt": "16.2 UTF-16 BE without BOM",
    "sources/vertical-tab.txt": "16.2 a vertical tab",
    "sources/form-feed.txt": "16.9 form feeds at page breaks (pdftotext)",
    "sources/control-after-64k.txt": "16.9 a control character after the first 64 KiB: E140",
    "sources/nonchar-fffe.txt": "16.9 U+FFFE / U+FFFF: E140",
    "sources/long-paragraph.txt": "16.9 one paragraph over 1,000,000 characters",
    "sources/wilson-sections.txt": "16.3 Wilson record with every section",
    "sources/passwd-link.txt": "16.12 symlink to /etc/passwd: E141",
    "sources/fifo-source.txt": "16.13 a FIFO as a source: refused, no hang",
    "sources/" + "n" * 246 + ".txt": "16.10 a 250-character file name",
    "sources/d1/report.txt": "16.4 same stem in two folders",
    "sources/d2/report.txt": "16.4 same stem in two folders",
    "sources/odd#name?50%.txt": "16.11 a file name with # ? %",
    "tei/doctype-local-dtd.xml": "16.13 a local external DTD is never opened",
    "tei/doctype-fifo-dtd.xml": "16.13 a FIFO DTD must not hang",
    "tei/doctype-http-dtd.xml": "16.13 an http DTD: no false 'malformed'",
    "tei/undeclared-entity.xml": "16.13 an entity reference that would be lost: E203",
    "tei/translator-name.xml": "16.9 a translator respStmt holding <name>",
    "tei/comment-in-respstmt.xml": "16.9 a comment inside a toolkit respStmt",
    "tei/damage-n-malformed.xml": "16.9 a malformed damage item/@n",
    "tei/many-attributes.xml": "16.15 200,000 attributes on one <p>",
    "tei/many-inline.xml": "16.15 65,000 inline elements",
    "tei/deep-nesting.xml": "16.9 inline elements nested 600 deep",
    "tei/outside-link.xml": "16.12 a symlink in tei/ leaving the folder: E141",
    "tei/huge-paragraph.xml": "16.11 a paragraph over 10 MB",
    "fifo-tei/fifo.xml": "16.13 a FIFO named like a TEI file: refused, no hang",
    "authority-malformed.xml": "16.8 a malformed --authority",
    "empty/": "16.8 a folder with no *.xml",
    "schema-fifo.rng": "16.10 an unreadable --schema (a FIFO)",
}
GOOD = {
    "good/harbour.txt": PLAIN,
    "good/minutes.txt": PROSE,
}


def tei(body: str, header_extra: str = "", doctype: str = "", title: str = "Minutes") -> str:
    """A small TEI document in the toolkit's shape, with ``body`` inside ``<body>``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{doctype}"
        f'<TEI xmlns="{TEI_NS}">\n'
        "  <teiHeader>\n    <fileDesc>\n"
        f"      <titleStmt>\n        <title>{title}</title>\n{header_extra}      </titleStmt>\n"
        "      <publicationStmt><p>Unpublished.</p></publicationStmt>\n"
        "      <sourceDesc><p>Invented for the tests.</p></sourceDesc>\n"
        "    </fileDesc>\n  </teiHeader>\n"
        f"  <text>\n    <body>\n{body}\n    </body>\n  </text>\n</TEI>\n"
    )


def make(root: Path) -> Path:
    """Write every case under ``root``; return it."""
    src, good, teidir = root / "sources", root / "good", root / "tei"
    for folder in (src, good, teidir, root / "empty", src / "d1", src / "d2", root / "outside"):
        folder.mkdir(parents=True, exist_ok=True)
    for name, text in GOOD.items():
        (root / name).write_text(text, encoding="utf-8")

    data = PROSE.encode()
    cut = data.index(b"tall")
    (src / "utf8-stray-byte.txt").write_bytes(data[:cut] + b"\xa0" + data[cut:])
    (src / "cp1251-minutes.txt").write_bytes(RUSSIAN.encode("cp1251"))
    (src / "utf16le-no-bom.txt").write_bytes(PLAIN.encode("utf-16-le"))
    (src / "utf16be-no-bom.txt").write_bytes(PLAIN.encode("utf-16-be"))
    (src / "vertical-tab.txt").write_text(PLAIN.replace("counted", "\vcounted"), "utf-8")
    pages = PLAIN.replace("\n\nThe harbour master", "\n\fThe harbour master")
    (src / "form-feed.txt").write_text(pages + "\f", "utf-8")
    filler = (PLAIN.split("\n\n", 1)[1] + "\n") * (70_000 // len(PLAIN) + 1)
    (src / "control-after-64k.txt").write_text(
        "Long report\n\n" + filler + "A stray \x01 control.\n", "utf-8"
    )
    (src / "nonchar-fffe.txt").write_text(PLAIN.replace("forty", "forty\ufffe\uffff"), "utf-8")
    word = "Harbourmasterreport "  # long tokens keep spaCy fast on 1,000,000 characters
    (src / "long-paragraph.txt").write_text(
        "A very long paragraph\n\n" + word * (1_000_020 // len(word)) + "end.\n", "utf-8"
    )
    (src / "wilson-sections.txt").write_text(WILSON, "utf-8")
    _symlink("/etc/passwd", src / "passwd-link.txt")
    _fifo(src / "fifo-source.txt")
    (src / ("n" * 246 + ".txt")).write_text(PLAIN, "utf-8")
    (src / "d1" / "report.txt").write_text(PLAIN, "utf-8")
    (src / "d2" / "report.txt").write_text(PROSE, "utf-8")
    (src / "odd#name?50%.txt").write_text(PLAIN, "utf-8")

    (root / "secret.dtd").write_text('<!ENTITY secret "LOCAL-DTD-WAS-READ">\n', "utf-8")
    para = "      <p>Karel Novotný met Ilse Brandt in Gdańsk.</p>"
    (teidir / "doctype-local-dtd.xml").write_text(
        tei(para, doctype='<!DOCTYPE TEI SYSTEM "../secret.dtd">\n'), "utf-8"
    )
    _fifo(root / "fifo.dtd")
    (teidir / "doctype-fifo-dtd.xml").write_text(
        tei(para, doctype='<!DOCTYPE TEI SYSTEM "../fifo.dtd">\n'), "utf-8"
    )
    (teidir / "doctype-http-dtd.xml").write_text(
        tei(para, doctype='<!DOCTYPE TEI SYSTEM "http://www.example.org/tei.dtd">\n'), "utf-8"
    )
    (teidir / "undeclared-entity.xml").write_text(
        tei(
            "      <p>Karel Novotný &secret; met Ilse Brandt.</p>",
            doctype='<!DOCTYPE TEI SYSTEM "../secret.dtd">\n',
        ),
        "utf-8",
    )
    (teidir / "translator-name.xml").write_text(
        tei(
            para,
            "        <respStmt><resp>translation</resp><name>Olga Ivanova</name></respStmt>\n",
        ),
        "utf-8",
    )
    (teidir / "comment-in-respstmt.xml").write_text(
        tei(
            para,
            '        <respStmt xml:id="toolkit"><!-- checked by hand --><resp>conversion</resp>'
            '<!-- note --><name type="software">toolkit</name></respStmt>\n',
        ),
        "utf-8",
    )
    damaged = tei(para).replace(
        "<sourceDesc><p>Invented for the tests.</p></sourceDesc>",
        '<sourceDesc><bibl type="source"><title>Minutes</title><idno type="filename">m.txt'
        '</idno><note type="damage">Damaged:<list><item n="line three">Fran?ais</item>'
        '<item n="4:">????</item></list></note></bibl></sourceDesc>',
    )
    (teidir / "damage-n-malformed.xml").write_text(damaged, "utf-8")
    attrs = " ".join(f'n{i}="v"' for i in range(200_000))
    (teidir / "many-attributes.xml").write_text(
        tei(f"      <p {attrs}>Karel Novotný met Ilse Brandt in Gdańsk.</p>"), "utf-8"
    )
    inline = " ".join(f"<hi>w{i}</hi>" for i in range(65_000))
    (teidir / "many-inline.xml").write_text(tei(f"      <p>{inline}</p>"), "utf-8")
    (teidir / "deep-nesting.xml").write_text(
        tei("      <p>" + "<hi>" * 600 + "Karel Novotný" + "</hi>" * 600 + "</p>"), "utf-8"
    )
    (root / "outside" / "elsewhere.xml").write_text(tei(para, title="Elsewhere"), "utf-8")
    _symlink(root / "outside" / "elsewhere.xml", teidir / "outside-link.xml")
    big = "Grain " * (10_500_000 // 6)
    (teidir / "huge-paragraph.xml").write_text(tei(f"      <p>{big}</p>"), "utf-8")

    (root / "authority-malformed.xml").write_text(
        f'<TEI xmlns="{TEI_NS}"><standOff><listPerson><person xml:id="p1">'
        "<persName>Karel</persName></listPerson></standOff></TEI>",
        "utf-8",
    )
    _fifo(root / "schema-fifo.rng")
    (root / "fifo-tei").mkdir(exist_ok=True)
    _fifo(root / "fifo-tei" / "fifo.xml")
    return root


def _symlink(target: str | Path, link: Path) -> None:
    if link.is_symlink() or link.exists():
        link.unlink()
    os.symlink(target, link)


def _fifo(path: Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)


WILSON = """Wilson Center Digital Archive
Original Scan

September 09, 1950
Record of a Conversation between the Harbour Commissioner and Delegate Oakes

Citation:
"Record of a Conversation between the Harbour Commissioner and Delegate Oakes", September 09, 1950, Wilson Center Digital Archive, Invented Archive, fond 1, opis 2, delo 3, listy 4-5. Translated by Anna Weiss. https://digitalarchive.wilsoncenter.org/document/999999

Summary:
The commissioner and the delegate discuss grain stores.

Original Archive:
Invented Archive of the Harbour

Credits:
Translated with the support of the Invented Foundation.

Subjects Discussed:
Grain; Harbours

Associated People & Organizations:
Martin Oakes; Harbour Commission

Original Language:
Russian

Contents:
English Translation

English Translation
The commissioner received Delegate Oakes at ten in the morning. They discussed the grain stores of the east quay and agreed to meet again in a week.

Martin Oakes said that the barges would be ready by Friday.
"""


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py OUTDIR")
    print(make(Path(sys.argv[1])))
