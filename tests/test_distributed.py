"""toolkit build --dask: same bytes as a single-process build, a killed worker loses nothing,
the shared-file-system check, and the coded errors when Dask is missing or misaddressed."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from conftest import NOW
from distributed import LocalCluster
from test_build import invoke, make_corpus, run_python

from toolkit.pipeline import build

BAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"


def outputs(corpus: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(corpus)): p.read_bytes()
        for folder in ("tei", "index")
        for p in sorted((corpus / folder).rglob("*"))
        if p.is_file()
    }


def corpus_with_a_bad_source(folder: Path, n: int) -> Path:
    corpus = make_corpus(folder, n)
    (corpus / "sources" / "doc-005-scan.txt").write_bytes(BAD)
    return corpus


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    corpus = corpus_with_a_bad_source(tmp_path_factory.mktemp("single") / "corpus", 16)
    result = invoke("build", str(corpus))
    assert result.exit_code == 1  # the bad source
    assert "doc-005-scan.txt: [E103]" in result.output
    return corpus


def test_dask_local_2_build_equals_single_process_byte_for_byte(reference, tmp_path):
    corpus = corpus_with_a_bad_source(tmp_path / "corpus", 16)
    result = invoke("build", str(corpus), "--dask", "local:2", "--partition", "5")
    assert result.exit_code == 1, result.output
    assert "doc-005-scan.txt: [E103] this looks like a binary file" in result.output
    assert "16 converted" in result.output
    assert "Dask dashboard: http://" in result.output
    assert outputs(corpus) == outputs(reference)
    assert not list((corpus / ".toolkit" / "parts").glob("*"))  # merged parts are removed


def test_a_killed_worker_loses_and_duplicates_nothing(reference, tmp_path):
    corpus = corpus_with_a_bad_source(tmp_path / "corpus", 16)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        done: dict[str, object] = {}

        def run() -> None:
            try:
                done["report"] = build(corpus, now=NOW, dask=cluster.scheduler_address, partition=1)
            except BaseException as exc:  # pragma: no cover - reported below
                done["error"] = exc

        thread = threading.Thread(target=run)
        thread.start()
        tei = corpus / "tei"
        deadline = time.monotonic() + 120
        while not (tei.is_dir() and any(tei.glob("*.xml"))) and time.monotonic() < deadline:
            time.sleep(0.05)
        nanny = next(iter(cluster.workers.values()))
        os.kill(nanny.process.pid, signal.SIGKILL)
        finished_at_kill = len(list(tei.glob("*.xml")))
        thread.join(timeout=240)
    assert "error" not in done, done.get("error")
    report = done["report"]
    assert finished_at_kill < 16  # killed mid-build
    assert [e.code for e in report.errors] == ["E103"]
    assert report.documents == 16
    assert outputs(corpus) == outputs(reference)


def test_workers_that_cannot_see_the_corpus_are_a_coded_error(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 1)
    # /proc/self/fd/N names the corpus in this process only: each worker reads its own fd N.
    fd = os.open(corpus, os.O_RDONLY)
    try:
        result = invoke("build", f"/proc/self/fd/{fd}", "--dask", "local:1")
    finally:
        os.close(fd)
    assert result.exit_code == 2, result.output
    assert "[E355] Dask worker(s) tcp://" in result.output
    assert "cannot see the corpus folder /proc/self/fd/" in result.output
    assert "a distributed build needs the corpus on a file system shared by every worker" in (
        result.output
    )
    assert not (corpus / "tei").exists()


def test_missing_dask_is_a_coded_error_naming_the_extra(tmp_path):
    corpus = make_corpus(tmp_path / "corpus", 1)
    out = run_python(
        """
        import sys
        sys.modules["dask"] = None
        sys.modules["distributed"] = None
        from toolkit.cli import main
        main(["build", sys.argv[1], "--dask", "local:2"])
        """,
        str(corpus),
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr == (
        "error: [E930] --dask needs Dask, which is not installed; install it with "
        "pip install 'tei-provenance-toolkit[dask]'\n"
    )


@pytest.mark.parametrize("spec", ["nowhere", "local:0", "local:two"])
def test_a_bad_dask_value_is_a_coded_error(tmp_path, spec):
    corpus = make_corpus(tmp_path / "corpus", 1)
    result = invoke("build", str(corpus), "--dask", spec)
    assert result.exit_code == 2
    assert "[E931]" in result.output


def _profiling(dask_worker) -> list[str]:
    return sorted(name for name in dask_worker.periodic_callbacks if name.startswith("profile"))


def _worker_logs(dask_worker) -> tuple[int | None, int | None]:
    return dask_worker.batched_stream.recent_message_log.maxlen, dask_worker.state.log.maxlen


def _scheduler_logs(scheduler) -> set[int | None]:
    streams = {bs.recent_message_log.maxlen for bs in scheduler.stream_comms.values()}
    return streams | {scheduler.transition_log.maxlen}


def test_local_clusters_keep_short_logs_and_no_profiler_so_their_memory_stays_flat(tmp_path):
    """Dask's profiler keeps 1,000 s of stack profiles a worker (measured: +16 MB a worker over
    a 10,000-document build) and every process keeps its last 1,000 stream messages, here tasks
    of some 10 KB (a client of 3,000 tasks: +62 MB). `local:N` turns the profiler off and keeps
    LOG_LENGTH messages in the client, scheduler and workers; the caller's config is restored."""
    import dask

    from toolkit.distributed import LOG_LENGTH, DaskRun

    corpus = make_corpus(tmp_path / "corpus", 1)
    with DaskRun.open("local:1", corpus) as run:
        assert list(run.client.run(_profiling).values()) == [[]]
        assert list(run.client.run(_worker_logs).values()) == [(LOG_LENGTH, LOG_LENGTH)]
        assert _scheduler_logs(run.client.cluster.scheduler) == {LOG_LENGTH}
        assert run.client.scheduler_comm.recent_message_log.maxlen == LOG_LENGTH
    assert dask.config.get("distributed.worker.profile.enabled") is True
    assert dask.config.get("distributed.admin.low-level-log-length") == 1000
    # what the test looks for is there by default
    with LocalCluster(n_workers=1, processes=True, dashboard_address=None) as cluster:
        client = cluster.get_client()
        assert list(client.run(_profiling).values()) == [["profile", "profile-cycle"]]
        assert list(client.run(_worker_logs).values()) == [(1000, 1000)]
        assert _scheduler_logs(cluster.scheduler) == {1000}
        assert client.scheduler_comm.recent_message_log.maxlen == 1000
        client.close()
        # a scheduler of one's own: the toolkit's client keeps a short log of its own
        with DaskRun.open(cluster.scheduler_address, corpus) as run:
            assert run.client.scheduler_comm.recent_message_log.maxlen == LOG_LENGTH
