"""How `toolkit build` scales: documents/s and peak memory from 1,000 to 100,000 documents.

Generates synthetic corpora (invented captures in three layouts: a plain note, a web page with
navigation debris, an archive record with Citation/Summary/Contents sections; 150-450 words,
about 300 on average; seeded, so every run builds the same corpus) and builds each one twice
from scratch: single-process and `--dask local:2`. Prints documents/s, peak RSS (the whole
process tree: the build and, with Dask, its scheduler and workers) and the ratio of the two.

These machines have 2 cores, and the statistical model tags about 5,000 words/s per core, so a
100,000-document build with the model would take hours. The scaling table therefore uses a
fast rules-only spaCy pipeline (tokenizer + an entity ruler named `ner` with the generator's
names; everything else in the build is the real thing: convert, tag, validate, index). The
model's throughput per worker is measured separately on a 1,000-document corpus, and the time a
32-worker cluster would take for a billion words is estimated from it. The no-change rebuild is
measured on that corpus too (issue: under 10% of a full build, and no NER).

    python bench/bench_scale.py                       # 1,000 and 10,000 documents
    python bench/bench_scale.py --sizes 1000 10000 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

WORK = Path(__file__).resolve().parent / "_work" / "scale"
EPOCH = "1700000000"


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words("Anna Tomas Li Marta Pieter Olga Kwame Ines Jorge Mei Farid Lena Ivo Nadia Rui Sven")
LAST = _words(
    "Kowalczyk Berglund Wenhao Oyelaran Vandersloot Petrenko Mensah Duarte Salgado Tanaka "
    "Haddad Novak Marek Rahimi Costa Lindqvist"
)
PLACES = _words(
    "Vilnius Rotterdam Chengdu Lagos Montevideo Tbilisi Gdansk Porto Harbin Accra Valparaiso "
    "Tampere Trieste Kharkiv Izmir Dakar"
)
ORGS = [
    "Baltic Grain Company",
    "Harbour Workers Union",
    "Ministry of Railways",
    "Northern Shipping Board",
    "Council of Mutual Trade",
    "Central Statistical Office",
    "Red Cross Committee",
    "Federation of Miners",
]
WORDS = _words(
    "the delegation asked for more time and the minister replied that the matter was under "
    "review while the committee considered the report on grain shipments coal deliveries and "
    "the railway timetable which had been delayed by the winter the talks continued into the "
    "evening and both sides agreed to meet again after consulting their governments"
)


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def paragraph(rng: random.Random, words: int) -> str:
    out: list[str] = []
    while len(out) < words:
        kind = rng.random()
        if kind < 0.08:
            out += person(rng).split()
        elif kind < 0.13:
            out += ["in", rng.choice(PLACES)]
        elif kind < 0.16:
            out += ["the", *rng.choice(ORGS).split()]
        else:
            start, length = rng.randrange(len(WORDS) - 12), rng.randint(6, 12)
            sentence = WORDS[start : start + length]
            out += [sentence[0].capitalize(), *sentence[1:-1], sentence[-1] + "."]
    text = " ".join(out[:words])
    return text[0].upper() + text[1:].rstrip(".") + "."


def capture(n: int) -> str:
    """One invented capture: layout, length and names vary with ``n`` (deterministically)."""
    rng = random.Random(n)
    total = rng.randint(150, 450)
    paras, left = [], total
    while left > 0:
        size = min(left, rng.randint(40, 120))
        paras.append(paragraph(rng, size))
        left -= size
    body = "\n\n".join(paras)
    place, who = rng.choice(PLACES), person(rng)
    day = 1 + n % 28
    layout = n % 3
    if layout == 0:
        return f"Memorandum on the talks in {place}, no. {n}\n\n{body}\n\n{who}\n"
    if layout == 1:
        return (
            "Home | About | Archive | Collections | Contact\n"
            f"Home > Reports > {place}\n\nThe talks in {place} ({n})\n\n"
            f"Updated:2021-03-{day:02d} | By:{who}\n\n{body}\n\nContact Us | Privacy | Terms\n"
        )
    return (
        f"\n\nMay {day}, 1951\n\n**Record of Conversation in {place}, no. {n}**\n\nCitation:\n\n"
        f'"Record of Conversation in {place}, no. {n}", May {day}, 1951, Example Archive.\n\n'
        f"Summary:\n\n{who} reports on the talks.\n\nOriginal Language:\n\nEnglish\n\n"
        f"Contents:\n\nTranscript - English\n\n{body}\n"
    )


def make_corpus(folder: Path, size: int) -> int:
    """Write ``size`` captures (if not already there); returns the number of words."""
    sources = folder / "sources"
    marker = folder / f".generated-{size}"
    if not marker.exists():
        shutil.rmtree(folder, ignore_errors=True)
        sources.mkdir(parents=True)
        for n in range(size):
            (sources / f"capture-{n:06d}.txt").write_text(capture(n))
        marker.write_text("")
    return sum(len(capture(n).split()) for n in range(size))


def rules_pipeline(path: Path) -> Path:
    """A spaCy pipeline whose `ner` is an entity ruler over the generator's names."""
    import spacy

    if (path / "config.cfg").exists():
        return path
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    patterns = [{"label": "PERSON", "pattern": f"{f} {s}"} for f in FIRST for s in LAST]
    patterns += [{"label": "GPE", "pattern": p} for p in PLACES]
    patterns += [{"label": "ORG", "pattern": o} for o in ORGS]
    ruler.add_patterns(patterns)
    nlp.meta["name"] = "rules_bench"
    nlp.meta["version"] = "1.0.0"
    nlp.to_disk(path)
    return path


def fresh(corpus: Path) -> None:
    for name in ("tei", "index", ".toolkit", "authority.xml", "orphans"):
        target = corpus / name
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_build(corpus: Path, *args: str) -> tuple[float, float, str, float]:
    """Seconds, peak RSS (MB, summed over the process tree), the summary line and the CPU
    seconds of one `toolkit build` (the CPU time is what a core would need on its own: on a
    shared machine it is the fairer measure of throughput)."""
    cpu_before = cpu_seconds()
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    toolkit = Path(sys.executable).with_name("toolkit")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(toolkit), "build", str(corpus), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"build failed ({proc.returncode}):\n{err.decode()[-2000:]}")
    return seconds, peak, out.decode().strip().splitlines()[-1], cpu_seconds() - cpu_before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000])
    parser.add_argument("--ner-size", type=int, default=1000, help="0 to skip the model runs")
    parser.add_argument("--no-dask", action="store_true", help="single-process runs only")
    parser.add_argument("--dask-only", action="store_true", help="`--dask local:2` runs only")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} (other jobs slow every figure down alike)"
    )
    rules = str(rules_pipeline(WORK / "rules-pipeline"))
    if args.sizes:
        scaling(args, rules)
    if args.ner_size:
        model_runs(args)


def scaling(args: argparse.Namespace, rules: str) -> None:
    print("\nScaling (rules-only pipeline `ner` = entity ruler; convert, validate, index real):")
    print(
        f"{'documents':>10} {'words':>11} {'mode':>12} {'docs/s':>8} {'peak RSS':>9} {'ratio':>6}"
        f" {'docs/CPU-s':>9}"
    )
    rates: dict[str, list[float]] = {}
    times: dict[str, list[float]] = {}
    for size in args.sizes:
        corpus = WORK / f"corpus-{size}"
        words = make_corpus(corpus, size)
        single = None
        modes = ([] if args.dask_only else [("single", ())]) + (
            [] if args.no_dask else [("dask local:2", ("--dask", "local:2"))]
        )
        for label, extra in modes:
            fresh(corpus)
            seconds, peak, _, cpu = run_build(corpus, "--model", rules, *extra)
            rate = size / seconds
            rates.setdefault(label, []).append(rate)
            times.setdefault(label, []).append(seconds)
            single = single or rate
            print(
                f"{size:>10,} {words:>11,} {label:>12} {rate:>8.1f} {peak:>7.0f}MB "
                f"{rate / single:>6.2f} {size / cpu:>9.1f}",
                flush=True,
            )
    if len(args.sizes) > 1:
        print(linearity(args.sizes, rates, times))


def linearity(
    sizes: list[int], rates: dict[str, list[float]], times: dict[str, list[float]]
) -> str:
    """The verdict on cost growth. Linear cost is ``time = start-up + documents x per-document``:
    documents/s then rises a little with size (the start-up is spread over more documents) and
    the *marginal* rate (extra documents / extra seconds between two sizes) stays the same.
    Superlinear cost shows as documents/s falling and the marginal rate falling."""
    lines = []
    for label, found in rates.items():
        change = found[-1] / found[0] - 1
        spent = times[label]
        marginal = [
            (b - a) / (tb - ta) if tb > ta else float("inf")
            for a, b, ta, tb in zip(sizes, sizes[1:], spent, spent[1:], strict=False)
        ]
        drift = marginal[-1] / marginal[0] - 1
        fixed = spent[0] - sizes[0] / marginal[0]
        verdict = (
            "linear: documents/s not lower at the largest size by more than 20%, and the marginal "
            "rate within 20%"
            if change >= -0.2 and abs(drift) <= 0.2
            else "NOT linear"
        )
        steps = ", ".join(
            f"{a:,}->{b:,}: {m:.1f}/s" for a, b, m in zip(sizes, sizes[1:], marginal, strict=False)
        )
        lines.append(
            f"{label}: documents/s at {sizes[-1]:,} vs {sizes[0]:,}: {change:+.0%}; marginal "
            f"documents/s {steps} ({drift:+.0%}); start-up about {fixed:.1f} s; {verdict}"
        )
    return "\n".join(lines)


def model_runs(args: argparse.Namespace) -> None:
    size = args.ner_size
    corpus = WORK / f"corpus-{size}"
    words = make_corpus(corpus, size)
    print(
        f"\nStatistical model (en_core_web_sm, tok2vec + ner), {size:,} documents, {words:,} words:"
    )
    fresh(corpus)
    seconds, peak, _, cpu = run_build(corpus)
    print(
        f"  single process: {seconds:.1f} s, {words / seconds:,.0f} words/s, peak {peak:.0f} MB; "
        f"{cpu:.1f} CPU-s = {words / cpu:,.0f} words per CPU-second"
    )
    again, _, line, _ = run_build(corpus)
    assert "0 through the model" in line, line
    print(
        f"  no-change rebuild: {again:.2f} s = {again / seconds:.1%} of the full build "
        "(no document went through the model)"
    )
    per_worker = words / cpu
    if not args.no_dask:
        fresh(corpus)
        dseconds, dpeak, _, _ = run_build(corpus, "--dask", "local:2")
        print(
            f"  --dask local:2: {dseconds:.1f} s, {words / dseconds:,.0f} words/s, "
            f"peak {dpeak:.0f} MB (ratio to single {seconds / dseconds:.2f})"
        )
    hours = 1e9 / (32 * per_worker) / 3600
    print(
        f"  estimate: a billion words on 32 workers at {per_worker:,.0f} words/s each "
        f"(the whole build per CPU-second of one worker, measured here) take {hours:.1f} h"
    )


if __name__ == "__main__":
    main()
