"""How many model calls one report or deck runs at once: measured defaults, user override."""

from __future__ import annotations

from qwenapp.models.base import job_parallel
from qwenapp.models.embedded import EmbeddedBackend
from qwenapp.models.scripted import ScriptedModel
from qwenapp.settings import load_settings


def test_the_embedded_cpu_engine_writes_one_thing_at_a_time() -> None:
    assert EmbeddedBackend.serial_jobs is True
    backend = EmbeddedBackend("/nonexistent.gguf")  # nothing is loaded until first use
    assert job_parallel(backend, 0, 4) == 1
    assert job_parallel(backend, 3, 4) == 3  # the user's setting wins


def test_servers_that_batch_get_up_to_four_slots() -> None:
    model = ScriptedModel()
    assert job_parallel(model, 0, 8) == 4
    assert job_parallel(model, 0, 2) == 2
    assert job_parallel(model, 0, 1) == 1
    assert job_parallel(model, 6, 2) == 6


def test_the_setting_comes_from_the_environment(tmp_path: object) -> None:
    base = {"QWENAPP_HOME": str(tmp_path)}
    assert load_settings(base).job_parallel == 0
    assert load_settings({**base, "QWENAPP_JOB_PARALLEL": "2"}).job_parallel == 2
