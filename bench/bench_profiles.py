"""Conversion throughput per capture layout, and linearity in document size.

For each fixture of tests/data/captures (one per layout) the body is repeated to make captures
of about 0.25, 1 and 4 MB; each is converted (decode, profile choice, reading, brackets) and
timed, best of --repeat. Prints MB/s and, as the ratio against the smallest size, time / size:
a ratio near 1.0 means conversion stays linear in the size of the capture.

Run: .venv/bin/python bench/bench_profiles.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.sources import convert  # noqa: E402

CAPTURES = ROOT / "tests" / "data" / "captures"
NOW = "2023-11-14T22:13:20Z"
SIZES = (250_000, 1_000_000, 4_000_000)
BODY = (
    "The delegation [of the ministry] arrived on 5 May 1957 and was met at the station by the "
    "deputy minister, who asked that the prices be fixed for two years [sic] and that the "
    "shipments [...] be sent by sea.\n\n"
)


def capture(name: str, size: int) -> bytes:
    """The fixture with its body grown to ``size`` characters (paragraphs inserted mid-body)."""
    text = (CAPTURES / name).read_text(encoding="utf-8")
    lines = text.split("\n")
    middle = len(lines) // 2
    blank = "\n\n" in text
    unit = BODY if blank else BODY.replace("\n\n", "\n")
    grown = unit * max(1, (size - len(text)) // len(unit))
    return "\n".join([*lines[:middle], grown, *lines[middle:]]).encode("utf-8")


def best(data: bytes, name: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        convert(data, name, now=NOW)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'capture':<30} " + " ".join(f"{s / 1e6:>6.2f}MB" for s in SIZES) + "  time/size ratio")
    for path in sorted(CAPTURES.glob("*.txt")):
        rates, per_byte = [], []
        for size in SIZES:
            data = capture(path.name, size)
            seconds = best(data, path.name, args.repeat)
            rates.append(len(data) / seconds / 1e6)
            per_byte.append(seconds / len(data))
        ratios = " ".join(f"{p / per_byte[0]:.2f}" for p in per_byte)
        print(f"{path.stem:<30} " + " ".join(f"{r:>6.2f}/s" for r in rates) + f"  {ratios}")


if __name__ == "__main__":
    main()
