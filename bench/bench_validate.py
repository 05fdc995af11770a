"""Validation speed: `toolkit validate` against `jing` with tei_all, and linearity in size.

1. Corpus: copies of the committed TEI files written to a temporary folder. Whole process
   against whole process: `toolkit validate DIR` (project RELAX NG + rules + authority lookup)
   against `jing tei_all.rng FILES` (Debian package `jing`, when installed: say so), and also
   in-process throughput against lxml with tei_all (RNG only, compiled once).
2. Size: one document with 16,000 / 32,000 / 65,000 inline elements, every one failing a rule
   (a dangling ``#ref``), validated in-process; time per element must stay flat.

Run: .venv/bin/python bench/bench_validate.py [--copies 3000]

`toolkit validate` runs with its default `--jobs` (one process per core; jing's JVM uses every
core too) and, for comparison, with `--jobs 1`. The two are run in alternating pairs
(``--repeats``, default 5) and the median ratio is printed, since a shared machine's speed drifts
from one minute to the next; CPU seconds (the process and the children it waited for) are shown
beside wall time. With a few hundred files both are dominated by
start-up (jing's JVM), so the default corpus is 3,000 files.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
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


def wall(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds and CPU seconds (the process and every child it waited for) of ``cmd``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, out


def corpus_benchmark(copies: int, repeats: int) -> None:
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
        t_one, cpu_one, out = wall([*toolkit, "--jobs", "1"])
        print(
            f"toolkit validate --jobs 1:   {t_one:6.2f} s  {size / t_one:5.2f} MB/s"
            f"  CPU {cpu_one:5.2f} s  [{out.stdout.strip().splitlines()[-1]}]"
        )
        jing = shutil.which("jing")
        if not jing:
            t_toolkit, cpu, out = wall(toolkit)
            print(f"toolkit validate: {t_toolkit:6.2f} s  CPU {cpu:5.2f} s")
            print("jing: not installed (apt-get install jing); whole-process comparison skipped")
        else:
            # paired runs, alternating, so that a machine whose speed drifts (shared hosts)
            # slows both sides alike; the median of the pairs' ratios is the figure
            processes = min(64, os.cpu_count() or 1)
            schema = ROOT / "schemas" / TEI_ALL
            ratios = []
            for n in range(repeats):
                t_toolkit, cpu, out = wall(toolkit)
                summary = out.stdout.strip().splitlines()[-1]
                t_jing, cpu_jing, jout = wall([jing, str(schema), *map(str, files)])
                ratios.append(t_jing / t_toolkit)
                print(
                    f"pair {n + 1}: toolkit validate ({processes} processes) {t_toolkit:6.2f} s "
                    f"CPU {cpu:5.2f} s | jing tei_all {t_jing:6.2f} s CPU {cpu_jing:5.2f} s | "
                    f"ratio {ratios[-1]:.2f}"
                )
            print(
                f"  toolkit: [{summary}]; jing: [{len(jout.stdout.splitlines())} error lines;"
                " Debian package `jing`, apt-get install jing]"
            )
            print(
                f"ratio toolkit / jing speed (>= 1 is as fast or faster), median of {repeats} "
                f"paired runs: {statistics.median(ratios):.2f} "
                f"(min {min(ratios):.2f}, max {max(ratios):.2f})"
            )

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
        elapsed = float("inf")
        for _ in range(3):  # the best of three: a shared machine's noise only adds time
            t = time.perf_counter()
            problems = validate_bytes(data, "big.xml")
            elapsed = min(elapsed, time.perf_counter() - t)
        per.append(elapsed / n)
        print(
            f"{n:6d} inline elements, {len(problems)} problems: {elapsed:.2f} s "
            f"({elapsed / n * 1e6:.1f} µs per element)"
        )
    print(f"ratio time per element 65,000 / 16,000 (1.0 = linear): {per[-1] / per[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5, help="paired toolkit/jing runs")
    args = ap.parse_args()
    corpus_benchmark(args.copies, args.repeats)
    size_benchmark()


if __name__ == "__main__":
    main()
