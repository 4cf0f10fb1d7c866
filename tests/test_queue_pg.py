"""The durable job queue's guarantees, piece by piece, on a real PostgreSQL.

A job is queued in the transaction that stores it (both or neither); the per-user limit
is counted in that transaction, so it holds when several processes create at once; a
cancel cancels the queue's job in the same transaction; a stalled queue job goes back
to the queue only when nobody holds its fence; a row the queue lacks (copied from
SQLite) is enqueued by the sweep; each event is announced with a bounded NOTIFY.
The whole path with real processes and kill -9 is tests/test_queue_processes.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from qwenapp.jobs import JobConfig, default_kinds
from qwenapp.models.scripted import ScriptedModel
from qwenapp.server.jobs import JobStore
from qwenapp.server.jobs.queue import FENCE, QUEUE, JobQueue, ensure_schema
from qwenapp.server.jobs.runner import JobRunner
from qwenapp.server.jobs.store import EVENTS_CHANNEL, Full
from qwenapp.server.jobs.worker import job_services
from qwenapp.server.registry import ModelRegistry
from qwenapp.settings import load_settings
from qwenapp.store import open_db
from qwenapp.store.connection import Connection

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)

DECK = {"kind": "deck", "topic": "Open models at work", "slides": 5}


@pytest.fixture
def db(pg_url: str) -> Iterator[Connection]:
    conn = open_db(pg_url)
    assert ensure_schema(conn) is True
    assert ensure_schema(conn) is False  # once
    yield conn
    conn.close()


def _queue_jobs(conn: Connection, job_id: str) -> list[str]:
    return [r[0] for r in conn.execute("SELECT status FROM procrastinate_jobs WHERE lock = ? "
                                       "ORDER BY id", (job_id,))]


def test_a_job_is_queued_in_the_transaction_that_stores_it(db: Connection,
                                                           pg_url: str) -> None:
    queue = JobQueue(pg_url)
    store = JobStore(db)
    job = store.create("u1", "deck", "t", DECK, then=queue.enqueue)
    assert _queue_jobs(db, job.id) == ["todo"]
    assert queue.depth(db) == 1

    def enqueue_then_fail(c: Connection, job_id: str) -> None:
        queue.enqueue(c, job_id)
        raise RuntimeError("the process dies here")

    with pytest.raises(RuntimeError):
        store.create("u1", "deck", "t", DECK, then=enqueue_then_fail)
    assert len(store.for_user("u1")) == 1 and queue.depth(db) == 1  # neither was kept
    # a cancel cancels the queue's job in its own transaction
    runner = JobRunner(store, {}, None, Path("/nonexistent"))  # type: ignore[arg-type]
    assert runner.finish(job.id, "cancelled", None, then=queue.abort) is True
    assert _queue_jobs(db, job.id) == ["cancelled"]
    assert runner.finish(job.id, "done", None) is False  # a job ends once
    events = store.events(job.id)
    assert [e.type for e in events] == ["cancelled"]


def test_the_per_user_limit_holds_across_connections(db: Connection, pg_url: str) -> None:
    """Eight "processes" (connections) create at once; the limit of 2 holds."""
    results: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        conn = open_db(pg_url)
        try:
            barrier.wait()
            try:
                JobStore(conn).create("u1", "deck", "t", DECK, per_user=2)
                results.append("ok")
            except Full as e:
                results.append(e.which)
        finally:
            conn.close()

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "ok", *["user"] * 6]
    assert JobStore(db).active_count("u1") == 2


def test_each_event_is_announced_with_a_bounded_notify(db: Connection, pg_url: str) -> None:
    store = JobStore(db)
    job = store.create("u1", "deck", "t", DECK)
    with psycopg.connect(pg_url, autocommit=True) as listen:
        listen.execute(f"LISTEN {EVENTS_CHANNEL}")
        seq = store.append_event(job.id, "note", {"text": "x" * 100_000})  # over NOTIFY's 8 KB
        notes = list(listen.notifies(timeout=10, stop_after=1))
    assert [n.payload for n in notes] == [f"{job.id} {seq}"]
    assert store.events(job.id, seq - 1)[0].data["text"] == "x" * 100_000
    # a job that has ended takes no more events from its runner
    store.finish(job.id, "cancelled", None, ("cancelled", {"status": "cancelled"}))
    assert store.append_event(job.id, "late", {}, only_running=True) is None


def _runner(db: Connection, home: Path) -> JobRunner:
    settings = load_settings({"QWENAPP_HOME": str(home)})
    store = JobStore(db)
    services = job_services(db, settings, ModelRegistry([ScriptedModel()]), JobConfig(), store)
    return JobRunner(store, default_kinds(), services, home / "jobs")


def test_a_stalled_job_goes_back_only_when_its_fence_is_free(db: Connection, pg_url: str,
                                                             tmp_path: Path) -> None:
    runner = _runner(db, tmp_path)
    queue = JobQueue(pg_url, stalled_after=5)
    queue.bind(runner)
    job = runner.store.create("u1", "deck", "t", DECK, then=queue.enqueue)

    async def scenario() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with queue.app.open_async():
            manager = queue.app.job_manager
            worker_id = await manager.register_worker()
            taken = await manager.fetch_job(queues=[QUEUE], worker_id=worker_id)
            assert taken is not None and taken.lock == job.id
            runner.store.claim(job.id)  # the row says running, as a worker would leave it
            # the worker goes silent (its heartbeat is an hour old) but still holds the fence
            db.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - "
                       "interval '1 hour' WHERE id = ?", (worker_id,))
            fence = await psycopg.AsyncConnection.connect(pg_url, autocommit=True)
            await fence.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (FENCE, job.id))
            out["held"] = await queue.sweep()
            out["held_status"] = _queue_jobs(db, job.id)
            await fence.close()  # as a killed worker's connection closes
            out["free"] = await queue.sweep()
            out["free_status"] = _queue_jobs(db, job.id)
        return out

    out = asyncio.run(scenario())
    assert out["held"] == (0, 0) and out["held_status"] == ["doing"]  # not run twice
    assert out["free"] == (1, 0) and out["free_status"] == ["todo"]  # taken again


def test_the_sweep_enqueues_rows_the_queue_lacks(db: Connection, pg_url: str,
                                                 tmp_path: Path) -> None:
    """Jobs copied from SQLite (``db copy``) have a row but no queue job."""
    runner = _runner(db, tmp_path)
    queue = JobQueue(pg_url)
    queue.bind(runner)
    queued = runner.store.create("u1", "deck", "t", DECK)  # no queue job
    done = runner.store.create("u1", "deck", "t", DECK)
    runner.store.finish(done.id, "done", None, ("done", {"status": "done"}))

    async def sweep() -> tuple[int, int]:
        async with queue.app.open_async():
            return await queue.sweep()

    assert asyncio.run(sweep()) == (0, 1)
    assert _queue_jobs(db, queued.id) == ["todo"] and _queue_jobs(db, done.id) == []
    assert asyncio.run(sweep()) == (0, 0)  # once
