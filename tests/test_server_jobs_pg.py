"""Report and deck jobs end to end (events, Last-Event-ID resume, artifacts) with the
server on PostgreSQL: test_server_jobs.py's API tests, imported, on a server whose
``QWENAPP_DATABASE_URL`` names a database of the throwaway cluster (tests/pg_fixture.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from qwenapp.models.scripted import load_script
from qwenapp.server import ServerConfig, create_app
from qwenapp.server.testing import live_server, write_demo_script
from qwenapp.settings import load_settings
from test_server_jobs import (  # noqa: F401 - the same tests, on PostgreSQL
    LIMITS,
    api,
    test_a_job_without_sources_fails_with_a_reason,
    test_bad_job_requests,
    test_deck_job_end_to_end,
    test_events_resume_with_last_event_id,
    test_report_job_end_to_end,
)

if TYPE_CHECKING:
    from pg_fixture import PgServer

pytest_plugins = ["pg_fixture"]  # a throwaway PostgreSQL (pg_server, pg_url)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pg_server: PgServer) -> Iterator[str]:
    home = tmp_path_factory.mktemp("home")
    script = write_demo_script(home / "script.json", deck_slides=5)
    settings = load_settings({"QWENAPP_HOME": str(home), "QWENAPP_PARALLEL": "2",
                              "QWENAPP_DATABASE_URL": pg_server.new_database()})
    config = ServerConfig(limits=LIMITS, report_pdf=False, deck_previews=False)
    with live_server(create_app(settings, [load_script(str(script))], config)) as url:
        assert not (home / "qwenapp.db").exists()
        yield url
