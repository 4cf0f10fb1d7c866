"""Issue 9's soak, the 2-minute version: mixed traffic on a real ``qwenapp serve`` with a kill -9.

The 30-minute run is ``python bench/soak.py`` (its figures are in the README);
this one runs in the suite, stops by itself after two minutes, and is marked
``soak`` (``-m "not soak"`` leaves it out). Loopback only, scripted model.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import qwenapp_cmd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from soak import soak

pytestmark = pytest.mark.soak


def test_two_minute_soak_with_a_kill(tmp_path: Path) -> None:
    r = soak(tmp_path / "home", seconds=120, kill_every=50, chats=3, uploads=1, jobs=1,
             cmd=qwenapp_cmd())
    assert r.server_errors == 0, r.errors[:5]
    assert r.kills >= 1
    assert r.lost_messages == 0 and r.stuck_streaming == 0
    assert r.event_gaps == 0 and r.jobs_unfinished == 0
    assert r.lost_documents == 0
    # there was traffic to lose: turns, uploads (some hostile, refused), jobs, reconnects
    assert r.chats_saved > 50 and r.uploads_added > 5 and r.uploads_refused >= 1
    assert r.jobs_finished >= 1 and r.reconnects >= 1
    for life, first, last in r.memory_summary():
        assert last < first * 1.5, (life, first, last)  # memory stays flat
