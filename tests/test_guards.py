"""The suite's own guards: outside the smoke tests nothing fetches a model or leaves loopback."""

from __future__ import annotations

import contextlib
import os
import socket

import pytest


def test_a_non_loopback_connection_fails_the_test() -> None:
    with socket.socket() as s, pytest.raises(AssertionError, match="only loopback"):
        s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed


def test_loopback_is_allowed() -> None:
    with socket.socket() as s:
        s.settimeout(0.5)
        with contextlib.suppress(OSError):  # refused by the port, not by the guard
            s.connect(("127.0.0.1", 9))


def test_model_fetching_is_off(cli_env: dict[str, str]) -> None:
    assert os.environ.get("QWENAPP_OFFLINE") == "1"
    assert cli_env.get("QWENAPP_OFFLINE") == "1"  # the console scripts the tests start, too
