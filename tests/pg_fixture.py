"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temporary folder.

Import the fixtures into a test module (``from pg_fixture import pg_server, pg_url``).
The cluster listens on 127.0.0.1 on a free port with password authentication
(so a wrong password is a real refusal), fsync off; it is started once per
session and each test gets a new database cloned from a migrated template.
PostgreSQL refuses to run as root: as root, the folder is given to the
``postgres`` user (or ``nobody``) and the server runs as that user. Without
the binaries (``apt-get install postgresql``) the tests that need it are
skipped, saying so; psycopg missing is a skip too.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["PgServer", "find_pg_bin", "pg_server", "pg_url"]

USER = "qwenapp"
PASSWORD = "qwenapp-test"
_TEMPLATE = "qwenapp_template"
_counter = itertools.count(1)


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's versioned folder, else PATH."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                    key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                    else 0, reverse=True):
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    root: Path

    def url(self, database: str, *, password: str = PASSWORD) -> str:
        return f"postgresql://{USER}:{password}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement on the maintenance database (autocommit)."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as c:
            c.execute(sql.encode())

    def new_database(self, *, migrated: bool = True) -> str:
        """The URL of a new, empty database (already migrated unless told otherwise)."""
        import psycopg

        name = f"t{os.getpid()}_{next(_counter)}"
        sql = f"CREATE DATABASE {name} TEMPLATE {_TEMPLATE if migrated else 'template0'}"
        try:  # a plain file copy: quicker than WAL-logging a small template (PostgreSQL 15+)
            self.admin(sql + " STRATEGY FILE_COPY")
        except psycopg.errors.SyntaxError:
            self.admin(sql)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database of ``url`` and any connection left to it (best effort)."""
        import psycopg

        with contextlib.suppress(psycopg.Error):
            self.admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> list[str]:
    """The prefix that runs a command as a user PostgreSQL accepts (not root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"]
    pytest.skip("running as root and there is no postgres or nobody user to run PostgreSQL")


def _chown(path: Path, runner: list[str]) -> None:
    if runner:
        user = pwd.getpwnam(runner[2])
        os.chown(path, user.pw_uid, user.pw_gid)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)")
    pytest.importorskip("psycopg", reason="psycopg 3 is not installed (pip install "
                                          "'qwenapp[postgres]')")
    runner = _runner()
    root = Path(tempfile.mkdtemp(prefix="qwenapp-pg-", dir="/tmp"))
    root.chmod(0o755)
    _chown(root, runner)
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD + "\n")
    _chown(pwfile, runner)
    data = root / "data"
    base = [*runner, str(bin_dir / "initdb"), "-D", str(data), "--username", USER,
            "--pwfile", str(pwfile), "--auth", "scram-sha-256", "--encoding", "UTF8"]
    r = subprocess.run([*base, "--locale", "C.UTF-8"], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:  # no C.UTF-8 locale on this system
        shutil.rmtree(data, ignore_errors=True)
        r = subprocess.run([*base, "--no-locale"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    port = _free_port()
    opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    r = subprocess.run([*runner, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts,
                        "-l", str(root / "log"), "-w", "-t", "60", "start"],
                       capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stdout + r.stderr + (root / "log").read_text()
    server = PgServer("127.0.0.1", port, root)
    try:
        server.admin(f"CREATE DATABASE {_TEMPLATE} TEMPLATE template0")
        from qwenapp.store import open_db

        open_db(server.url(_TEMPLATE)).close()  # the template is migrated once
        yield server
    finally:
        subprocess.run([*runner, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A new, migrated PostgreSQL database of its own for one test (dropped after it)."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)
