"""Names: P/R/F1 per type and linking accuracy on the hand-annotated gold set.

    .venv/bin/python bench/bench_names.py [--before main] [--gold tests/data/gold/tei]

Systems, each scored by the same rules (toolkit/evaluation.py):

- raw: the statistical model alone, block by block (no references);
- before: the toolkit's tagger as it is on the git ref ``--before`` (default 19d8d5b, main just
  before issue 11): its
  ``toolkit tag`` run in a subprocess from an unpacked copy of that ref's ``toolkit/``;
- after: this checkout's tagger (``tag_files``, the per-document stage);
- after review: one pass through ``toolkit review`` by a reviewer who works the queue most
  frequent first: a candidate whose mentions are mostly not gold names is rejected; a suggestion
  (bracketed alias, short form) is followed when the gold says it is right; otherwise the
  candidate is accepted. The decisions are the real review functions over a copy of the tagged
  files; the reviewer never edits a span or a type.

Prints the figures and the ratio after/before of the F1 over persons, places, organizations.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from toolkit.authority import parse_authority  # noqa: E402
from toolkit.entities import load_pipeline  # noqa: E402
from toolkit.evaluation import (  # noqa: E402
    linking,
    predicted_spans,
    raw_gold,
    read_gold_paths,
    report_tei,
    score_documents,
    tag_gold,
)
from toolkit.files import expand  # noqa: E402


def before(ref: str, docs, authority: Path, work: Path):  # type: ignore[no-untyped-def]
    """Tag the untagged gold copies with the tagger of git ref ``ref``."""
    tree = work / "before-src"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "toolkit"], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    files = work / "before-tei"
    files.mkdir()
    paths = []
    for i, doc in enumerate(docs):
        path = files / f"{i:03d}-{Path(doc.path).name}"
        path.write_bytes(doc.plain)
        paths.append(path)
    env = {"PYTHONPATH": str(tree), "SOURCE_DATE_EPOCH": "946684800", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "toolkit", "tag", str(files), "--authority", str(authority)],
        env=env,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"the {ref} tagger failed: {run.stderr[-2000:]}")
    return [predicted_spans(p.read_bytes()) for p in paths]


def review_pass(docs, tagged_dir: Path, authority: Path, work: Path):  # type: ignore[no-untyped-def]
    """One pass through the queue by a reviewer who knows the gold (see the docstring)."""
    from toolkit import review

    corpus = work / "review-corpus"
    (corpus / "tei").mkdir(parents=True)
    shutil.copy(authority, corpus / "authority.xml")
    names = sorted(p.name for p in tagged_dir.glob("*.xml"))
    for name in names:
        shutil.copy(tagged_dir / name, corpus / "tei" / name)
    gold_of = {}  # (file, block, start, end) -> gold entity
    for name, doc in zip(names, docs, strict=True):
        for m in doc.mentions:
            gold_of[(name, m.block, m.start, m.end)] = m.entity

    def truth(cand: str) -> str | None:
        found: Counter[str] = Counter()
        for name in names:
            for b, s, e, _, ref in predicted_spans((corpus / "tei" / name).read_bytes()):
                if ref in (f"#{cand}", f"auth:{cand}"):
                    found[gold_of.get((name, b, s, e), "")] += 1
        if not found:
            return None
        best, count = found.most_common(1)[0]
        return best if best and count * 2 > sum(found.values()) else ""

    decisions = Counter()
    done: set[str] = set()
    now = "2000-01-01T00:00:00Z"
    while True:
        queue = [c for c in review.review_queue(corpus) if c.id not in done]
        if not queue:
            break
        cand = queue[0]
        done.add(cand.id)
        entity = truth(cand.id)
        if entity is None:
            continue
        if entity == "":
            review.reject(corpus, cand.id, editor="bench", now=now)
            decisions["reject"] += 1
            continue
        followed = False
        for hint in cand.suggestions:
            command = hint.split(": ", 1)[1].split()
            if command[2] == "merge":
                others = [c for c in command[3:] if c != cand.id]
                if all(truth(o) == entity for o in others):
                    review.merge(corpus, command[3:], editor="bench", now=now)
                    review.accept(corpus, command[3], editor="bench", now=now)
                    done.update(command[3:])
                    decisions["merge"] += 1
                    followed = True
                    break
            elif command[2] == "accept" and "--as" in command:
                target = command[command.index("--as") + 1]
                target_truth = _entry_truth(corpus, names, gold_of, target)
                if target_truth == entity:
                    review.accept(corpus, cand.id, as_entry=target, editor="bench", now=now)
                    decisions["accept --as"] += 1
                    followed = True
                    break
        if not followed:
            try:
                review.accept(corpus, cand.id, editor="bench", now=now)
                decisions["accept"] += 1
            except review.ReviewError as exc:
                # the name is already an entry's: accept as its variant when the gold agrees
                clash = re.search(r"belongs to '([^']+)'", exc.message)
                target = clash.group(1) if clash else None
                if target and _entry_truth(corpus, names, gold_of, target) == entity:
                    review.accept(corpus, cand.id, as_entry=target, editor="bench", now=now)
                    decisions["accept --as"] += 1
                else:
                    decisions["skipped"] += 1
    return [predicted_spans((corpus / "tei" / n).read_bytes()) for n in names], decisions


def _entry_truth(corpus: Path, names, gold_of, entry: str) -> str | None:  # type: ignore[no-untyped-def]
    found: Counter[str] = Counter()
    for name in names:
        for b, s, e, _, ref in predicted_spans((corpus / "tei" / name).read_bytes()):
            if ref == f"auth:{entry}":
                found[gold_of.get((name, b, s, e), "")] += 1
    return found.most_common(1)[0][0] if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=Path, default=ROOT / "tests/data/gold/tei")
    parser.add_argument("--authority", type=Path, default=ROOT / "corpus/authority.xml")
    # 19d8d5b: main just before issue 11 was merged (the "before" of the README figures)
    parser.add_argument("--before", default="19d8d5b", help="git ref of the toolkit before")
    args = parser.parse_args()
    docs = read_gold_paths(expand([args.gold]))
    authority = parse_authority(args.authority.read_bytes(), str(args.authority))
    raw_nlp, info = load_pipeline(None, None)
    nlp, _ = load_pipeline(None, authority)
    mentions = sum(len(d.mentions) for d in docs)
    print(f"gold: {len(docs)} documents, {mentions} mentions; model {info.name} {info.version}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results, links = {}, {}
        results["raw"] = score_documents(docs, raw_gold(docs, raw_nlp))
        old = before(args.before, docs, args.authority, work)
        results["before"], links["before"] = score_documents(docs, old), linking(docs, old)
        tagged_dir = work / "after"
        new = tag_gold(docs, nlp, info, authority, tagged_dir)
        results["after"], links["after"] = score_documents(docs, new), linking(docs, new)
        reviewed, decisions = review_pass(docs, tagged_dir, args.authority, work)
        results["reviewed"] = score_documents(docs, reviewed)
        links["reviewed"] = linking(docs, reviewed)
    print(report_tei(results, links))
    print("review pass decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(decisions.items())))
    ratio = results["after"]["all"].f1 / (results["before"]["all"].f1 or 1)
    print(
        f"F1 persons+places+orgs: before {results['before']['all'].f1:.3f}, "
        f"after {results['after']['all'].f1:.3f} (ratio {ratio:.2f}); linking before "
        f"{links['before'].accuracy:.3f}, after {links['after'].accuracy:.3f}, "
        f"after one review pass {links['reviewed'].accuracy:.3f}"
    )


if __name__ == "__main__":
    main()
