"""Issue 9, item 5: a property-based fuzz run of the whole API (schemathesis on /openapi.json).

Every operation the OpenAPI document declares gets a bounded number of
generated requests (valid and invalid: huge integers, NUL bytes, odd
Unicode, wrong types) against a live server on 127.0.0.1 with the scripted
model, sent with the page's CSRF token so they reach the handlers. The
property: no answer is a 5xx, and a 405 names the allowed methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import live_server
from qwenapp.settings import load_settings

EXAMPLES = 12  # per operation; the run stays bounded (about 40 operations)


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    home: Path = tmp_path_factory.mktemp("home")
    settings_ = load_settings({"QWENAPP_HOME": str(home)})
    config = ServerConfig(limits=ServerLimits(requests_per_minute=100_000, burst=100_000,
                                              upload_bytes=1024 * 1024),
                          report_pdf=False, deck_previews=False)
    app = create_app(settings_, [ScriptedModel(chunk_size=8)], config)
    with live_server(app) as url:
        csrf = httpx.get(url + "/api/me").json()["csrf_token"]
        yield url, csrf


def _operations(url: str) -> list[Any]:
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_request_gets_a_5xx(fuzz_server: tuple[str, str], mode: str) -> None:
    """Each operation, ``EXAMPLES`` generated requests (schemathesis's pytest plugin
    does not run under pytest 9, so its strategies are driven by hypothesis directly)."""
    url, csrf = fuzz_server
    failures: list[str] = []
    calls = 0
    ops = _operations(url)
    assert len(ops) > 20  # the whole API, not a corner of it
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    for op in ops:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        @given(case=op.as_strategy(generation_mode=generation))
        def run(case: Any) -> None:
            nonlocal calls
            calls += 1
            headers = {**(case.headers or {}), "X-CSRF-Token": csrf}
            try:
                response = case.call(base_url=url, headers=headers, timeout=30)
            except Exception as e:  # a broken stream or connection counts as a failure
                failures.append(f"{case.operation.label}: {type(e).__name__}: {e}")
                return
            if response.status_code >= 500:
                failures.append(f"{case.operation.label}: {response.status_code} for "
                                f"{case.as_curl_command()}: {response.text[:300]}")

        try:
            run()
        except Unsatisfiable:  # nothing to get wrong: an operation without parameters
            assert mode == "negative"
    assert calls >= len(ops)
    assert not failures, "\n".join(failures[:20])


@pytest.mark.parametrize(("method", "path"), [("PUT", "/api/documents"),
                                              ("PATCH", "/api/jobs"),
                                              ("POST", "/api/health"),
                                              ("DELETE", "/v1/models")])
def test_405_names_the_allowed_methods(fuzz_server: tuple[str, str], method: str,
                                       path: str) -> None:
    r = httpx.request(method, fuzz_server[0] + path, headers={"X-CSRF-Token": fuzz_server[1]})
    assert r.status_code == 405
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert method not in allowed and allowed
    assert r.json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("query", ["offset=11879593874470570295296",
                                   "limit=5&offset=9223372036854775808",
                                   "q=a%00b", "q=%00", "q=%01%02"])
def test_known_bad_inputs_are_4xx_or_answered(fuzz_server: tuple[str, str], query: str) -> None:
    r = httpx.get(f"{fuzz_server[0]}/api/conversations?{query}")
    assert r.status_code < 500, r.text


def test_event_stream_survives_huge_and_odd_resume_ids(fuzz_server: tuple[str, str]) -> None:
    url, csrf = fuzz_server
    with httpx.Client(base_url=url, headers={"X-CSRF-Token": csrf}, timeout=60) as c:
        r = c.post("/api/jobs", json={"kind": "report", "question": "Why Qwen?"})
        assert r.status_code in (201, 202), r.text
        job = r.json()["id"]
        c.post(f"/api/jobs/{job}/cancel")
        cases: list[tuple[dict[str, str], dict[str, Any]]] = [
            ({"after": "38462948993883915157504"}, {}),
            ({}, {"Last-Event-ID": b"\xb2"}),  # "²" in latin-1: isdigit() but not int()
            ({}, {"Last-Event-ID": "9" * 40})]
        for params, headers in cases:
            with c.stream("GET", f"/api/jobs/{job}/events", params=params,
                          headers=headers) as s:
                body = s.read().decode()
                assert s.status_code == 200
            if "after" in params:
                assert "event:" not in body  # nothing after that id, and a clean end
            else:
                assert "event: queued" in body  # a bad id is ignored: a full replay
