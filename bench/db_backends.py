"""SQLite against PostgreSQL for the store's hot paths (not a test; figures for docs/postgres.md).

    python bench/db_backends.py postgresql://user:pw@127.0.0.1:5432/empty_db [--messages N]

Times, on each backend: saving N chat messages (one write transaction each, as a chat
turn saves them), conversation search for an English and a Chinese word over them,
library-free job event appends, and `db copy` of the SQLite file into the PostgreSQL
database. The PostgreSQL database must be empty (it is migrated here).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from qwenapp.server.jobs.store import JobStore
from qwenapp.store import Connection, ConversationStore, open_db
from qwenapp.store.copy import copy_database

WORDS = ["sorting lists in Python", "北京有三千多年的建城史", "the launch is in March",
         "模型训练需要多少数据", "unit tests and fixtures"]


def _timed(fn: Callable[[], object], n: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def run(conn: Connection, n: int) -> dict[str, float]:
    store, jobs = ConversationStore(conn), JobStore(conn)
    out: dict[str, float] = {}
    convs = [store.create("m") for _ in range(max(1, n // 20))]
    t = time.perf_counter()
    parent: dict[str, str | None] = {c.id: None for c in convs}
    for i in range(n):
        c = convs[i % len(convs)].id
        m = store.add_message(c, "user" if i % 2 == 0 else "assistant",
                              f"{WORDS[i % len(WORDS)]} #{i}", parent_id=parent[c])
        parent[c] = m.id
    out["add_message ms"] = (time.perf_counter() - t) / n * 1000
    for q in ("python", "北京", "建城史"):
        out[f"search {q!r} ms"] = statistics.median(
            _timed(functools.partial(store.search, q, limit=20)) for _ in range(5)) * 1000
    job = jobs.create("u", "report", "t", {})
    out["append_event ms"] = _timed(lambda: jobs.append_event(job.id, "p", {"x": 1}), 200) * 1000
    out["thread ms"] = _timed(lambda: store.thread(convs[0].id), 50) * 1000
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--messages", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qwenapp.db"
        lite = open_db(path)
        a = run(lite, args.messages)
        pg = open_db(args.url)
        b = run(pg, args.messages)
        pg.close()
        fresh = args.url  # copy into it after clearing what run() wrote
        pg = open_db(fresh)
        pg.execute("TRUNCATE conversations, messages, server_jobs, server_job_events CASCADE")
        t = time.perf_counter()
        copied = copy_database(lite, pg)
        copy_s = time.perf_counter() - t
        print(f"{'':28} {'SQLite':>10} {'PostgreSQL':>11} {'ratio':>7}")
        for k in a:
            print(f"{k:28} {a[k]:10.3f} {b[k]:11.3f} {b[k] / a[k]:7.1f}")
        rows = sum(c.rows for c in copied)
        print(f"db copy: {rows} rows in {copy_s:.2f} s ({rows / copy_s:.0f} rows/s)")


if __name__ == "__main__":
    main()
