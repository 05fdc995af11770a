"""Issue 10: `build` killed at random points (SIGKILL, several seeds) loses nothing.

A corpus of 100 small sources is built, edited by hand (a machine tag unwrapped, an emphasis
added), then sources and the authority change and `build` is killed mid-run three times; after
each kill every TEI file is well-formed, and the final run leaves every file valid with every
hand edit in place.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from editing import corpus, rule_model

from toolkit.tei import parse_bytes

NAMES = ["Mao Zedong", "Stalin", "Yan'an", "the GMD", "Zhang Wei", "the Politburo", "Gestapo"]


def _source(i: int) -> str:
    rng = random.Random(i)
    paragraphs = [
        " ".join(
            f"Item {i}.{p}.{s}: {rng.choice(NAMES)} wrote about {rng.choice(NAMES)}."
            for s in range(3)
        )
        for p in range(2)
    ]
    return f"Report {i}\n\n" + "\n\n".join(paragraphs) + "\n"


def _build(folder: Path, kill_after: float | None = None) -> subprocess.CompletedProcess | None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    args = [sys.executable, "-m", "toolkit", "build", str(folder), "--model"]
    args.append(str(rule_model(folder.parent)))
    if kill_after is None:
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return None


def _well_formed(folder: Path) -> None:
    for path in (folder / "tei").glob("*.xml"):
        parse_bytes(path.read_bytes(), str(path))
    assert not list((folder / "tei").glob(".*.tmp")), "a temporary file was left behind"


def test_build_survives_sigkill(tmp_path):
    folder = corpus(tmp_path / "corpus")
    sources = folder / "sources"
    sources.mkdir()
    for i in range(100):
        (sources / f"r{i:03}.txt").write_text(_source(i), "utf-8")
    done = _build(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    edited: dict[Path, str] = {}
    rng = random.Random(7)
    for seed in (1, 2, 3):
        # hand edits before the crash
        for path in rng.sample(sorted((folder / "tei").glob("r*.xml")), 4):
            text = path.read_text("utf-8")
            new = re.sub(r"<(persName|orgName|placeName) [^>]*>([^<]*)</\1>", r"\2", text, count=1)
            new = re.sub(r"(Item [0-9]+\.1\.0)", r'<hi rend="bold">\1</hi>', new, count=1)
            path.write_text(new, "utf-8")
            edited[path] = re.search(r'<hi rend="bold">Item [0-9.]+</hi>', new).group()
        # work for the build: revised sources and a changed authority
        for i in random.Random(seed).sample(range(100), 15):
            source = sources / f"r{i:03}.txt"
            source.write_text(
                source.read_text("utf-8") + f"\nA note of revision {seed}.\n", "utf-8"
            )
        authority = folder / "authority.xml"
        authority.write_text(
            authority.read_text("utf-8").replace(
                "</listPlace>",
                f'<place xml:id="p{seed}"><placeName type="main">Item {seed}</placeName></place>'
                "</listPlace>",
            ),
            "utf-8",
        )
        _build(folder, kill_after=random.Random(seed).uniform(3.0, 5.5))
        _well_formed(folder)
    done = _build(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation: 0 error(s)" in done.stdout
    _well_formed(folder)
    for path, mark in edited.items():
        assert mark in path.read_text("utf-8"), f"{path.name}: hand edit {mark!r} lost"
