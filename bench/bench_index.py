"""Index scale: documents per second and peak memory for 2,000 and 10,000 tagged documents,
and the register's load and filter time in headless Chromium with 10,000 entries.

The generated corpus repeats the tagged seed TEI under new names. Each size runs in its own
process (`toolkit index`), so peak RSS is per run; bounded memory means the peak barely grows
with the number of documents (mentions stream through SQLite, one tree at a time).

For the register, each generated document gets entity refs of its own (`#d17-gmd` ...), so
334 documents make about 10,000 entries. Chromium loads `index.html` with its script and the
same page without it (the baseline: the HTML alone); the ratio is the script's cost. Filtering
is timed from setting the search box to the next frame after the entries are hidden.

Run: .venv/bin/python bench/bench_index.py [--sizes 2000 10000] [--entries 10000]
"""

from __future__ import annotations

import argparse
import json
import re
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
    ap.add_argument("--entries", type=int, default=10000)
    args = ap.parse_args()
    register(args.entries)
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


def register(entries: int) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from cdp import CHROMIUM, Browser

    seed = (ROOT / "corpus" / "tei" / "wilson-122807-petrov-mao-1945-09-06.xml").read_text()
    per_doc = len(set(re.findall(r'ref="auth:([^"]+)"', seed)))
    toolkit = str(Path(sys.executable).with_name("toolkit"))
    with tempfile.TemporaryDirectory() as tmp:
        tei = Path(tmp) / "tei"
        tei.mkdir()
        for i in range(-(-entries // per_doc)):
            (tei / f"doc{i:05d}.xml").write_text(seed.replace('ref="auth:', f'ref="#d{i}-'))
        out = Path(tmp) / "index"
        start = time.perf_counter()
        subprocess.run(
            [
                toolkit,
                "index",
                str(tei),
                "-o",
                str(out),
                "--authority",
                str(ROOT / "corpus" / "authority.xml"),
            ],
            check=True,
            capture_output=True,
        )
        build = time.perf_counter() - start
        page = out / "index.html"
        plain = out / "plain.html"
        plain.write_text(page.read_text().replace('<script src="register.js"></script>', ""))
        if CHROMIUM is None:
            print("register: Chromium not installed; load time not measured")
            return
        browser = Browser(timeout=600)
        try:
            loads, baseline = [], []
            for _ in range(3):
                baseline.append(browser.open(plain))
                loads.append(browser.open(page))
            n = browser.eval("document.querySelectorAll('.entry').length")
            filters = []
            for query in ("mao", "zhang", "x", ""):
                filters.append(
                    browser.eval(
                        "(async () => { const q = document.getElementById('q'); "
                        "const t = performance.now(); q.value = " + json.dumps(query) + "; "
                        "q.dispatchEvent(new Event('input', {bubbles: true})); "
                        "await new Promise(r => requestAnimationFrame(() => "
                        "requestAnimationFrame(r))); return performance.now() - t; })()"
                    )
                )
        finally:
            browser.close()
        load, base = min(loads), min(baseline)
        print(
            f"register: {n} entries, {page.stat().st_size / 1e6:.1f} MB, built in {build:.1f} s; "
            f"load {load:.2f} s (HTML alone {base:.2f} s, ratio {load / base:.2f}); "
            f"filter as you type {max(filters):.0f} ms at most"
        )


if __name__ == "__main__":
    main()
