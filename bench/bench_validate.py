"""Validation speed: `toolkit validate` against `jing` with tei_all, and linearity in size.

1. Corpus: copies of the committed TEI files written to a temporary folder. Whole process
   against whole process: `toolkit validate DIR` (project RELAX NG + rules + authority lookup)
   against `jing tei_all.rng FILES` (Debian package `jing`, when installed: say so), and also
   in-process throughput against lxml with tei_all (RNG only, compiled once).
2. Size: one document with 16,000 / 32,000 / 65,000 inline elements, every one failing a rule
   (a dangling ``#ref``), validated in-process; time per element must stay flat.

Run: .venv/bin/python bench/bench_validate.py [--copies 3000]

`toolkit validate` runs with its default `--jobs` (one process per core; jing's JVM uses every
core too) and, for comparison, with `--jobs 1`. With a few hundred files both are dominated by
start-up (jing's JVM), so the default corpus is 3,000 files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.sources import convert  # noqa: E402
from toolkit.tei import parse_bytes, serialize, to_tei  # noqa: E402
from toolkit.validate import (  # noqa: E402
    TEI_ALL,
    external_relaxng,
    relaxng,
    validate_bytes,
)


def wall(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return time.perf_counter() - t, out


def corpus_benchmark(copies: int) -> None:
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "tei").glob("*.xml"))]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        tei = corpus / "tei"
        tei.mkdir(parents=True)
        shutil.copy(ROOT / "corpus" / "authority.xml", corpus / "authority.xml")
        files = []
        for i in range(copies):
            path = tei / f"doc{i:05d}.xml"
            path.write_bytes(seeds[i % len(seeds)])
            files.append(path)
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"corpus: {copies} files, {size:.1f} MB (copies of corpus/tei)")

        toolkit = [sys.executable, "-m", "toolkit", "validate", str(tei)]
        t_one, out = wall([*toolkit, "--jobs", "1"])
        print(
            f"toolkit validate --jobs 1:          {t_one:6.2f} s  {size / t_one:5.2f} MB/s"
            f"  [{out.stdout.strip().splitlines()[-1]}]"
        )
        t_toolkit, out = wall(toolkit)
        print(
            f"toolkit validate ({min(64, os.cpu_count() or 1)} processes):    {t_toolkit:6.2f} s  "
            f"{size / t_toolkit:5.2f} MB/s  [{out.stdout.strip().splitlines()[-1]}]"
        )
        jing = shutil.which("jing")
        if jing:
            schema = ROOT / "schemas" / TEI_ALL
            t_jing, out = wall([jing, str(schema), *map(str, files)])
            errors = len(out.stdout.splitlines())
            print(
                f"jing tei_all (whole process):      {t_jing:6.2f} s  {size / t_jing:5.2f} MB/s"
                f"  [{errors} error lines; jing: Debian package `jing`, apt-get install jing]"
            )
            print(
                f"ratio toolkit / jing speed (>= 1 is as fast or faster): {t_jing / t_toolkit:.2f}"
            )
        else:
            print("jing: not installed (apt-get install jing); whole-process comparison skipped")

        data = [p.read_bytes() for p in files]
        t = time.perf_counter()
        relaxng()
        compile_project = time.perf_counter() - t
        t = time.perf_counter()
        problems = sum(len(validate_bytes(d, str(p))) for d, p in zip(data, files, strict=True))
        project = time.perf_counter() - t
        t = time.perf_counter()
        tei_all = external_relaxng()
        compile_tei_all = time.perf_counter() - t
        t = time.perf_counter()
        for d in data:
            tei_all.validate(parse_bytes(d))
        baseline = time.perf_counter() - t
        print(
            f"in process: compile project {compile_project:.2f} s, "
            f"lxml tei_all {compile_tei_all:.2f} s"
        )
        print(
            f"in process: project check {size / project:.2f} MB/s ({problems} problems); "
            f"lxml tei_all {size / baseline:.2f} MB/s; ratio {baseline / project:.2f}"
        )


def size_benchmark() -> None:
    doc = convert(b"Title\n\nBODY", "big.txt", format="plain", now="2024-01-01T00:00:00Z")
    xml = serialize(to_tei(doc)).decode()
    relaxng()
    per = []
    for n in (16_000, 32_000, 65_000):
        body = " ".join(f'<persName ref="#nowhere" xml:id="m{i}">Name</persName>' for i in range(n))
        data = xml.replace("<p>BODY</p>", f"<p>{body}</p>").encode()
        t = time.perf_counter()
        problems = validate_bytes(data, "big.xml")
        elapsed = time.perf_counter() - t
        per.append(elapsed / n)
        print(
            f"{n:6d} inline elements, {len(problems)} problems: {elapsed:.2f} s "
            f"({elapsed / n * 1e6:.1f} µs per element)"
        )
    print(f"ratio time per element 65,000 / 16,000 (1.0 = linear): {per[-1] / per[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=3000)
    args = ap.parse_args()
    corpus_benchmark(args.copies)
    size_benchmark()


if __name__ == "__main__":
    main()
