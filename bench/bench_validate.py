"""Validation speed: the project's schemas against lxml + tei_all as the baseline.

Prints compile times and throughput (MB/s) on a generated corpus (copies of the tagged seed
TEI), and the ratio project / tei_all. The project check is RELAX NG + Schematron + the
authority lookup, i.e. what `toolkit validate` does; the baseline is RELAX NG only.

Run: .venv/bin/python bench/bench_validate.py [--copies 300]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lxml import etree  # noqa: E402

from toolkit.tei import parse_bytes  # noqa: E402
from toolkit.validate import relaxng, schematron, validate_bytes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=300)
    ap.add_argument("--tei-all", default=str(ROOT / "tests" / "data" / "tei_all.rng"))
    args = ap.parse_args()
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "tei").glob("*.xml"))]
    corpus = [seeds[i % len(seeds)] for i in range(args.copies)]
    size = sum(map(len, corpus)) / 1e6
    path = str(ROOT / "corpus" / "tei" / "bench.xml")  # resolves the corpus authority file

    t = time.perf_counter()
    relaxng()
    schematron()
    compile_project = time.perf_counter() - t
    t = time.perf_counter()
    problems = sum(len(validate_bytes(data, path)) for data in corpus)
    project = time.perf_counter() - t

    t = time.perf_counter()
    tei_all = etree.RelaxNG(etree.parse(args.tei_all))
    compile_tei_all = time.perf_counter() - t
    t = time.perf_counter()
    for data in corpus:
        tei_all.validate(parse_bytes(data))
    baseline = time.perf_counter() - t

    print(f"corpus: {len(corpus)} files, {size:.1f} MB ({problems} problems)")
    print(f"compile: project schemas {compile_project:.2f} s; tei_all {compile_tei_all:.2f} s")
    print(f"project (RNG + Schematron + authority): {size / project:.2f} MB/s")
    print(f"lxml tei_all (RNG only, baseline):       {size / baseline:.2f} MB/s")
    print(f"ratio project / tei_all throughput: {baseline / project:.2f}")


if __name__ == "__main__":
    main()
