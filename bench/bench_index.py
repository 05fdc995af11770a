"""Index scale: documents per second and peak memory for 2,000 and 10,000 tagged documents.

The generated corpus repeats the tagged seed TEI under new names. Each size runs in its own
process (`toolkit index`), so peak RSS is per run; bounded memory means the peak barely grows
with the number of documents (mentions stream through SQLite, one tree at a time).

Run: .venv/bin/python bench/bench_index.py [--sizes 2000 10000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000])
    args = ap.parse_args()
    seeds = [p.read_bytes() for p in sorted((ROOT / "corpus" / "tei").glob("*.xml"))]
    toolkit = str(Path(sys.executable).with_name("toolkit"))
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            tei = Path(tmp) / f"tei{size}"
            tei.mkdir()
            for i in range(size):
                (tei / f"doc{i:05d}.xml").write_bytes(seeds[i % len(seeds)])
            mb = sum(p.stat().st_size for p in tei.iterdir()) / 1e6
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            subprocess.run(
                [
                    toolkit,
                    "index",
                    str(tei),
                    "-o",
                    str(Path(tmp) / f"index{size}"),
                    "--authority",
                    str(ROOT / "corpus" / "authority.xml"),
                ],
                check=True,
                capture_output=True,
            )
            seconds = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print(
                f"{size:6d} documents ({mb:.0f} MB): {size / seconds:6.0f} documents/s, "
                f"{seconds:.1f} s, peak RSS {max(peak, before) / 1024:.0f} MB"
            )


if __name__ == "__main__":
    main()
