"""``toolkit build --dask``: the build's partitions as Dask tasks (scheduling only).

The work is :func:`toolkit.pipeline.process_partition` and :func:`toolkit.index.index_part`,
the same functions the single-process build runs; this module only ships them to workers and
collects their results. Requirements and guarantees:

- Dask is an optional extra (``pip install 'tei-provenance-toolkit[dask]'``); this module is the
  only one that imports it, and only ``--dask`` imports this module.
- Shared file system: every worker reads and writes the corpus folder under the same absolute
  path. Checked at start: the client writes a token file into ``CORPUS/.toolkit/`` and every
  worker must read it back (E355 otherwise).
- Each worker loads the spaCy pipeline once (:class:`TaggerPlugin`, lazily: a partition with
  nothing to tag never loads it) and streams its partition's documents through ``nlp.pipe``.
- The client keeps short debugging logs, and the scheduler and workers of ``local:N`` too, and
  those workers run without Dask's statistical profiler (see ``CLUSTER_CONFIG``), so the
  memory of every process stays flat however long the build.
- A worker that dies loses nothing: Dask reruns its tasks elsewhere, and a task's writes are
  atomic and deterministic, so a rerun writes the same bytes. A task that raises is reported
  for its documents (E356) and the others go on.
- At most ``2 x threads`` partitions are in flight, so the client holds a bounded number of
  futures however large the corpus.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

from .engine import Failure, TaggerCache, chunks
from .errors import ToolkitError

try:
    from distributed import WorkerPlugin
except ImportError:  # reported as E930 when a build asks for Dask
    WorkerPlugin = object

PLUGIN = "toolkit-tagger"
# Dask keeps, for its developers, the last `distributed.admin.low-level-log-length` (1,000)
# messages of every batched stream (client -> scheduler, scheduler -> each worker, ...), and as
# many transitions, events and worker stimuli. Here a message carries a partition's task (its
# items, some 10 KB) or its result, so those logs fill up only after thousands of tasks, well
# beyond 100,000 documents: measured, a client submitting 3,000 such tasks grew from 108 to
# 170 MB with 1,000 and stayed at 95-98 MB with 100 (the client of a 100,000-document build
# grew 98 -> 142 MB over its document tasks). The build keeps 100.
LOG_LENGTH = 100
CLIENT_CONFIG = {"distributed.admin.low-level-log-length": LOG_LENGTH}
# Dask's statistical profiler samples every worker's stack 100 times a second and keeps one
# profile a second for `distributed.admin.low-level-log-length` (1,000) seconds: some 100 KB a
# second of worker memory for the first 17 minutes of a build (measured: +16 MB a worker over a
# 10,000-document build, flat without it). The workers of `local:N` run without it. For a
# cluster of your own, start the scheduler and workers with DASK_DISTRIBUTED__WORKER__PROFILE__
# ENABLED=False and DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH=100 (README, "Running on a
# cluster"); the client sets its own.
CLUSTER_CONFIG = {**CLIENT_CONFIG, "distributed.worker.profile.enabled": False}
WORKERS_TIMEOUT = 60
INSTALL = "pip install 'tei-provenance-toolkit[dask]'"


def _dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise ToolkitError(
            "E930", f"--dask needs Dask, which is not installed; install it with {INSTALL}"
        ) from None
    return distributed


def parse_address(spec: str) -> tuple[str, int | None]:
    """``local`` / ``local:N`` -> ("local", N or None); anything else must be an address."""
    if spec == "local" or spec.startswith("local:"):
        _, _, n = spec.partition(":")
        if n and not (n.isdigit() and int(n) > 0):
            raise ToolkitError(
                "E931", f"--dask {spec}: N must be a whole number of workers, e.g. local:2"
            )
        return "local", int(n) if n else None
    if "://" in spec or ":" in spec:
        return spec, None
    raise ToolkitError(
        "E931",
        f"--dask {spec!r}: give local, local:N or a scheduler address such as tcp://host:8786",
    )


class TaggerPlugin(WorkerPlugin):  # type: ignore[misc, valid-type]
    """Gives each worker one :class:`TaggerCache` for its lifetime (a Dask ``WorkerPlugin``)."""

    name = PLUGIN

    def setup(self, worker: Any) -> None:
        self.cache = TaggerCache()

    def teardown(self, worker: Any) -> None:
        self.cache = TaggerCache()


def _worker_cache() -> TaggerCache:
    from distributed import get_worker

    plugin = get_worker().plugins.get(PLUGIN)
    if plugin is None or not hasattr(plugin, "cache"):  # pragma: no cover - plugin not set up
        return _FALLBACK
    return plugin.cache


_FALLBACK = TaggerCache()


def _run_partition(fn: Callable[..., Any], items: list[Any], job: Any) -> Any:
    return fn(items, job, _worker_cache())


def _run_index_part(numbered: list[tuple[int, str]], authority: Any, outdir: str, part: str) -> Any:
    from .index import index_part

    report = index_part(((n, Path(p)) for n, p in numbered), authority, Path(outdir), Path(part))
    return report.documents, report.mentions, [Failure.of(e) for e in report.errors]


def _read_token(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


class DaskRun:
    """A connected Dask client that runs the build's partitions."""

    def __init__(self, client: Any, corpus: Path, dashboard: str | None) -> None:
        self.client = client
        self.corpus = corpus
        self.dashboard = dashboard
        self.window = max(2, 2 * sum(client.nthreads().values()))

    def partition_size(self, total: int) -> int:
        """About four partitions a worker thread, at most ``TASK_PARTITION`` documents each."""
        from .pipeline import TASK_PARTITION

        threads = max(1, sum(self.client.nthreads().values()))
        return max(1, min(TASK_PARTITION, -(-total // (4 * threads))))

    @classmethod
    @contextmanager
    def open(cls, spec: str, corpus: Path) -> Iterator[DaskRun]:
        distributed = _dask()
        import dask.config

        target, workers = parse_address(spec)
        # set for the whole run: a worker the nanny restarts, and its stream, get it too
        with dask.config.set(CLUSTER_CONFIG if target == "local" else CLIENT_CONFIG):
            cluster = None
            try:
                if target == "local":
                    cluster = distributed.LocalCluster(
                        n_workers=workers or os.cpu_count() or 1,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                        silence_logs=40,
                    )
                    client = distributed.Client(cluster)
                else:
                    client = distributed.Client(target, timeout=10)
            except OSError as exc:
                if cluster is not None:
                    cluster.close()
                raise ToolkitError(
                    "E932", f"cannot reach the Dask scheduler at {spec} ({exc}); is it running?"
                ) from None
            try:
                try:
                    client.wait_for_workers(1, timeout=WORKERS_TIMEOUT)
                except TimeoutError:
                    raise ToolkitError(
                        "E932",
                        f"no Dask worker joined the scheduler at {spec} within "
                        f"{WORKERS_TIMEOUT} s; start workers with `dask worker ADDRESS`",
                    ) from None
                client.register_plugin(TaggerPlugin(), name=PLUGIN)
                check_shared_corpus(client, corpus)
                services = client.scheduler_info().get("services", {})
                dashboard = client.dashboard_link if "dashboard" in services else None
                yield cls(client, corpus, dashboard)
            finally:
                client.close()
                if cluster is not None:
                    cluster.close()

    def map(self, fn: Callable[..., Any], parts: Iterable[list[Any]], job: Any) -> Iterator:
        """``(number, result)`` of each partition as it completes; a failed task yields a result
        with every document of the partition marked E356."""
        distributed = _dask()
        numbered = zip(count(), parts, strict=False)
        pending = distributed.as_completed()
        items_of: dict[Any, tuple[int, list[Any]]] = {}

        def submit(n: int, items: list[Any]) -> None:
            future = self.client.submit(_run_partition, fn, items, job, pure=False)
            items_of[future] = (n, items)
            pending.add(future)

        for n, items in numbered:
            submit(n, items)
            if len(items_of) >= self.window:
                break
        for future in pending:
            n, items = items_of.pop(future)
            if future.status == "finished":
                yield n, future.result()
            else:
                yield n, _failed_partition(items, _exception(future))
            future.release()
            nxt = next(numbered, None)
            if nxt is not None:
                submit(*nxt)

    def index(
        self,
        paths: Iterable[Path],
        authority: Any,
        outdir: Path,
        now: str,
        partition: int,
        advance: Callable[[int], None],
    ) -> Any:
        """Index parts as tasks (``CORPUS/.toolkit/parts/``), merged here in corpus order."""
        from .index import IndexReport, merge_index

        distributed = _dask()
        folder = self.corpus / ".toolkit" / "parts"
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*.sqlite"):
            old.unlink()
        numbered = zip(count(), chunks(((n, str(p)) for n, p in enumerate(paths)), partition))
        pending = distributed.as_completed()
        report = IndexReport()
        failures: dict[int, list[Failure]] = {}
        in_flight: dict[Any, tuple[int, int]] = {}
        authority_future = self.client.scatter(authority, broadcast=True)

        def submit(n: int, chunk: list[tuple[int, str]]) -> None:
            part = str(folder / f"part-{n:08d}.sqlite")
            future = self.client.submit(
                _run_index_part, chunk, authority_future, str(outdir), part, pure=False
            )
            in_flight[future] = (n, len(chunk))
            pending.add(future)

        parts = 0
        for n, chunk in numbered:
            submit(n, chunk)
            parts += 1
            if len(in_flight) >= self.window:
                break
        for future in pending:
            n, size = in_flight.pop(future)
            if future.status == "finished":
                _, _, errors = future.result()
                failures[n] = errors
            else:
                failures[n] = [_task_failure(f"index partition {n}", _exception(future))]
            future.release()
            advance(size)
            nxt = next(numbered, None)
            if nxt is not None:
                submit(*nxt)
                parts += 1
        merged = merge_index(
            (p for n in range(parts) if (p := folder / f"part-{n:08d}.sqlite").exists()),
            outdir,
            now=now,
        )
        for n in sorted(failures):
            merged.errors += [f.error() for f in failures[n]]
        for old in folder.glob("part-*.sqlite"):
            old.unlink()
        return merged if merged is not None else report


def _exception(future: Any) -> BaseException:
    if future.status == "error":
        return future.exception()
    return RuntimeError(f"the task was {future.status} (its worker or the scheduler went away)")


def _task_failure(what: str, exc: BaseException | None) -> Failure:
    return Failure("E356", f"{what}: the task failed ({type(exc).__name__}: {exc})")


def _failed_partition(items: list[Any], exc: BaseException | None) -> Any:
    from .pipeline import DocResult, PartitionResult

    docs = []
    for item in items:
        failure = Failure(
            "E356",
            f"the build task failed ({type(exc).__name__}: {exc}); the other documents went on",
            item.source,
        )
        docs.append(
            DocResult(item.source, f"{Path(item.source).stem}.xml", "failed", "", errors=(failure,))
        )
    return PartitionResult(tuple(docs))


def check_shared_corpus(client: Any, corpus: Path) -> None:
    """Every worker must see ``corpus`` at the same path (a shared file system): E355."""
    folder = corpus / ".toolkit"
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(16)
    probe = folder / f"fs-check-{token}"
    probe.write_text(token)
    try:
        seen = client.run(_read_token, str(probe))
    finally:
        probe.unlink(missing_ok=True)
    blind = sorted(worker for worker, found in seen.items() if found != token)
    if blind:
        raise ToolkitError(
            "E355",
            f"Dask worker(s) {', '.join(blind)} cannot see the corpus folder {corpus}: a "
            "distributed build needs the corpus on a file system shared by every worker, at the "
            "same path (NFS, Lustre, GPFS ...)",
        )
