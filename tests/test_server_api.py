"""The native API with the scripted model: conversations, chat turns as SSE, documents,
and an OpenAPI document that matches the app."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from qwenapp.models.scripted import ScriptedModel
from qwenapp.server import ServerConfig, ServerLimits, create_app
from qwenapp.server.testing import api_client, chat, live_server, parse_sse
from qwenapp.settings import load_settings


def _responder(messages: Any, options: Any) -> str:
    last = messages[-1].content
    system = messages[0].content if messages[0].role == "system" else ""
    if "EXCERPTS" in system:
        return "From your notes: the launch is in March [1]."
    if "think" in last:
        return "<think>let me see</think>Thought about it."
    return f"You said: {last}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    home = tmp_path_factory.mktemp("home")
    settings = load_settings({"QWENAPP_HOME": str(home)})
    model = ScriptedModel(responder=_responder, chunk_size=3)
    config = ServerConfig(limits=ServerLimits(upload_bytes=200_000, requests_per_minute=10_000,
                                              burst=10_000))
    with live_server(create_app(settings, [model], config)) as url:
        yield url, home


@pytest.fixture
def api(server: tuple[str, Path]) -> Iterator[httpx.Client]:
    with api_client(server[0]) as c:
        yield c


def _events(evs: list[Any], name: str) -> list[Any]:
    return [e.data for e in evs if e.event == name]


# -- conversations --------------------------------------------------------------------------

def test_conversation_crud(api: httpx.Client) -> None:
    r = api.post("/api/conversations", json={"title": "Plans", "system_prompt": "be terse"})
    assert r.status_code == 201
    conv = r.json()
    assert conv["title"] == "Plans" and conv["model"] == "scripted"
    assert conv["id"] in [c["id"] for c in api.get("/api/conversations").json()["conversations"]]
    r = api.patch(f"/api/conversations/{conv['id']}", json={"title": "Renamed"})
    assert r.status_code == 200 and r.json()["title"] == "Renamed"
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    assert detail["conversation"]["system_prompt"] == "be terse"
    root = detail["messages"]
    assert [m["role"] for m in root] == ["system"] and detail["thread"] == [root[0]["id"]]
    assert api.delete(f"/api/conversations/{conv['id']}").status_code == 204
    assert api.get(f"/api/conversations/{conv['id']}").status_code == 404
    assert api.delete(f"/api/conversations/{conv['id']}").status_code == 404


def test_prefixes_are_not_ids(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    assert api.get(f"/api/conversations/{conv['id'][:8]}").status_code == 404


def test_chat_turn_streams_and_is_saved(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    evs = chat(api, conv["id"], "hello world")
    names = [e.event for e in evs]
    assert names[0] == "started" and names[-1] == "done"
    assert names.index("saved") > names.index("finish") > names.index("text")
    text = "".join(d["text"] for d in _events(evs, "text"))
    assert text == "You said: hello world"
    assert len(_events(evs, "text")) > 1
    saved = _events(evs, "saved")[0]
    assert saved["status"] == "complete"
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["system", "user", "assistant"]
    assert detail["messages"][2]["content"] == text
    assert detail["thread"] == [m["id"] for m in detail["messages"]]
    assert detail["conversation"]["title"] == "hello world"  # titled by the first message


def test_thinking_is_streamed_apart_and_saved_apart(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    evs = chat(api, conv["id"], "please think", think=True)
    assert "".join(d["text"] for d in _events(evs, "reasoning")) == "let me see"
    assert "".join(d["text"] for d in _events(evs, "text")) == "Thought about it."
    answer = api.get(f"/api/conversations/{conv['id']}").json()["messages"][-1]
    assert answer["reasoning"] == "let me see" and answer["content"] == "Thought about it."


def test_regenerate_and_edit_make_branches(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    chat(api, conv["id"], "first question")
    chat(api, conv["id"], "second question")
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    q2 = next(m for m in detail["messages"] if m["content"] == "second question")
    # edit-and-resend: a sibling of the second question, after the first answer
    evs = chat(api, conv["id"], "second question, edited", parent_id=q2["parent_id"])
    assert "".join(d["text"] for d in _events(evs, "text")) == \
        "You said: second question, edited"
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    assert len(detail["messages"]) == 7
    thread = [next(m for m in detail["messages"] if m["id"] == i)["content"]
              for i in detail["thread"]]
    assert thread[-2:] == ["second question, edited", "You said: second question, edited"]
    assert "second question" not in thread  # the old branch is kept but not on this thread


def test_the_first_question_can_be_edited_as_a_branch(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    chat(api, conv["id"], "first try")
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    root, q1 = detail["messages"][0], detail["messages"][1]
    assert q1["parent_id"] == root["id"]
    chat(api, conv["id"], "second try", parent_id=root["id"])
    detail = api.get(f"/api/conversations/{conv['id']}").json()
    users = [m for m in detail["messages"] if m["role"] == "user"]
    assert [u["parent_id"] for u in users] == [root["id"], root["id"]]  # siblings
    assert len(detail["thread"]) == 3  # root, the edited question, its answer


def test_continue_from_a_message_of_another_conversation_is_404(api: httpx.Client) -> None:
    a = api.post("/api/conversations", json={}).json()
    b = api.post("/api/conversations", json={}).json()
    chat(api, a["id"], "in a")
    msg = api.get(f"/api/conversations/{a['id']}").json()["messages"][1]
    r = api.post(f"/api/conversations/{b['id']}/messages",
                 json={"content": "x", "parent_id": msg["id"]})
    assert r.status_code == 404


def test_search_finds_conversations_by_text(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    chat(api, conv["id"], "zebra crossings in Beijing 北京的斑马线")
    for q in ("zebra", "斑马线"):
        found = api.get("/api/conversations", params={"q": q}).json()["conversations"]
        assert [c["id"] for c in found] == [conv["id"]]
        assert found[0]["snippet"]
    assert api.get("/api/conversations", params={"q": "nothing-like-this"}).json() == \
        {"conversations": []}


def test_bad_input_is_400_in_the_error_shape(api: httpx.Client) -> None:
    conv = api.post("/api/conversations", json={}).json()
    r = api.post(f"/api/conversations/{conv['id']}/messages", json={"content": ""})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["param"] == "content" and err["type"] == "invalid_request_error"
    r = api.post(f"/api/conversations/{conv['id']}/messages", json={"content": "   "})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input"
    r = api.post(f"/api/conversations/{conv['id']}/messages",
                 json={"content": "hi", "model": "nope"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"
    assert api.get("/api/no-such-route").json()["error"]["code"] == "not_found"


# -- documents ------------------------------------------------------------------------------

def _upload(api: httpx.Client, name: str, data: bytes,
            ctype: str = "application/octet-stream") -> httpx.Response:
    return api.post("/api/documents", files={"file": (name, data, ctype)})


def _docx(text: str) -> bytes:
    from docx import Document

    buf = io.BytesIO()
    d = Document()
    d.add_paragraph(text)
    d.save(buf)
    return buf.getvalue()


def test_upload_list_delete(api: httpx.Client, server: tuple[str, Path]) -> None:
    r = _upload(api, "notes.md", b"# Launch notes\n\nThe launch is in March.\n")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["filename"] == "notes.md" and doc["kind"] == "markdown"
    assert doc["title"] == "Launch notes" and doc["chunks"] >= 1
    listed = api.get("/api/documents").json()["documents"]
    assert doc["id"] in [d["id"] for d in listed]
    assert api.get(f"/api/documents/{doc['id']}").json()["filename"] == "notes.md"
    uploads = server[1] / "server" / "uploads"
    assert len(list(uploads.glob(f"*{'.md'}"))) >= 1
    assert api.delete(f"/api/documents/{doc['id']}").status_code == 204
    assert api.get(f"/api/documents/{doc['id']}").status_code == 404


def test_type_is_checked_by_content_not_extension(api: httpx.Client) -> None:
    # An executable called report.pdf is refused; text called data.pdf is read as text.
    r = _upload(api, "report.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(200))
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_file_type"
    r = _upload(api, "data.pdf", b"plain words about tea and biscuits\n")
    assert r.status_code == 201 and r.json()["kind"] == "text"
    r = _upload(api, "photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(100))  # a picture (OCR), broken
    assert r.status_code == 400 and "photo.docx" in r.json()["error"]["message"]
    r = _upload(api, "memo.txt", _docx("A real Word file with a misleading name."))
    assert r.status_code == 201 and r.json()["kind"] == "docx"
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("a.txt", "hello")
    assert _upload(api, "x.docx", zipped.getvalue()).status_code == 415
    r = _upload(api, "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    assert r.status_code == 415 and "legacy" in r.json()["error"]["message"]
    assert _upload(api, "empty.txt", b"").status_code == 400
    bad_pdf = _upload(api, "broken.pdf", b"%PDF-1.4\nthis is not really a pdf")
    assert bad_pdf.status_code == 400
    assert "broken.pdf" in bad_pdf.json()["error"]["message"]


def test_filename_is_never_a_path(api: httpx.Client, server: tuple[str, Path]) -> None:
    home = server[1]
    r = _upload(api, "../../../../escape.txt", b"should stay inside the uploads folder\n")
    assert r.status_code == 201
    assert r.json()["filename"] == "escape.txt"
    r = _upload(api, "..\\..\\win.txt", b"windows style\n")
    assert r.json()["filename"] == "win.txt"
    assert not list(home.parent.glob("escape.txt")) and not (home / "escape.txt").exists()
    stored = [p.name for p in (home / "server" / "uploads").iterdir()]
    assert all("escape" not in n and "win" not in n for n in stored)


def test_upload_size_limit(api: httpx.Client) -> None:
    r = _upload(api, "big.txt", b"a" * 300_000)
    assert r.status_code == 413
    assert r.json()["error"]["code"] in ("file_too_large", "too_large")


def test_upload_without_content_length_is_counted(server: tuple[str, Path],
                                                  api: httpx.Client) -> None:
    boundary = "XyZ"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.txt\"\r\nContent-Type: text/plain\r\n\r\n").encode() + \
        b"b" * 400_000 + f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    r = api.post("/api/documents", content=chunks(),
                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413


def test_chat_answers_from_attached_documents_with_sources(api: httpx.Client) -> None:
    doc = _upload(api, "launch.md", b"# Launch\n\nThe product launch is planned for March "
                  b"in Hangzhou.\n").json()
    conv = api.post("/api/conversations", json={}).json()
    evs = chat(api, conv["id"], "When is the product launch?", document_ids=[doc["id"]])
    assert evs[0].event == "sources"
    src = evs[0].data["sources"][0]
    assert src["n"] == 1 and src["filename"] == "launch.md" and "March" in src["text"]
    assert "".join(d["text"] for d in _events(evs, "text")) == \
        "From your notes: the launch is in March [1]."
    r = api.post(f"/api/conversations/{conv['id']}/messages",
                 json={"content": "x", "document_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]})
    assert r.status_code == 404


# -- OpenAPI ------------------------------------------------------------------------------

def test_openapi_lists_every_route(server: tuple[str, Path]) -> None:
    from fastapi.routing import APIRoute

    from qwenapp.server import create_app as make

    app = make(load_settings({"QWENAPP_HOME": "/nonexistent"}), [ScriptedModel()])
    doc = httpx.get(server[0] + "/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    def walk(routes: list[Any]) -> Iterator[APIRoute]:
        for r in routes:
            if hasattr(r, "original_router"):  # an included router
                yield from walk(r.original_router.routes)
            elif isinstance(r, APIRoute):
                yield r

    found = list(walk(app.routes))
    assert len(found) > 20
    routes = {(r.path, m) for r in found if r.include_in_schema for m in (r.methods or ())}
    assert routes == documented
    assert ("/v1/chat/completions", "POST") in routes
    assert ("/api/jobs/{job_id}/events", "GET") in routes
    for ops in doc["paths"].values():
        for op in ops.values():
            assert "422" not in op["responses"]  # validation errors are 400s here


def test_every_documented_route_is_served(api: httpx.Client,
                                          server: tuple[str, Path]) -> None:
    doc = httpx.get(server[0] + "/openapi.json").json()
    fake = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for path, ops in doc["paths"].items():
        url = path.replace("{conversation_id}", fake).replace("{document_id}", fake) \
            .replace("{job_id}", fake).replace("{key_id}", fake).replace("{name}", "x.md")
        for method in ops:
            r = api.request(method.upper(), url, json={} if method != "get" else None)
            assert r.status_code not in (405, 500), (method, path, r.status_code)
            if r.status_code == 404:  # the thing is missing, never the route
                assert r.json()["error"]["message"] != "no such route", (method, path)


def _check(doc: dict[str, Any], path: str, method: str, status: int, body: Any) -> None:
    """Validate a real response body against the schema the document declares for it."""
    op = doc["paths"][path][method]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    full = {**schema, "components": doc["components"]}
    jsonschema.validate(body, full, cls=jsonschema.Draft202012Validator,
                        format_checker=None)


def test_responses_match_their_documented_schemas(api: httpx.Client,
                                                  server: tuple[str, Path]) -> None:
    doc = httpx.get(server[0] + "/openapi.json").json()
    # Refs point at #/components/...: resolve them from the document root.
    conv = api.post("/api/conversations", json={"title": "schema"})
    _check(doc, "/api/conversations", "post", 201, conv.json())
    chat(api, conv.json()["id"], "hello")
    _check(doc, "/api/conversations", "get", 200, api.get("/api/conversations").json())
    _check(doc, "/api/conversations/{conversation_id}", "get", 200,
           api.get(f"/api/conversations/{conv.json()['id']}").json())
    _check(doc, "/api/me", "get", 200, api.get("/api/me").json())
    _check(doc, "/api/documents", "get", 200, api.get("/api/documents").json())
    _check(doc, "/api/jobs", "get", 200, api.get("/api/jobs").json())
    _check(doc, "/v1/models", "get", 200, api.get("/v1/models").json())
    nf = api.get("/api/conversations/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    _check(doc, "/api/conversations/{conversation_id}", "get", 404, nf.json())
    bad = api.post("/api/conversations", json={"title": "x" * 500})
    assert bad.status_code == 400
    _check(doc, "/api/conversations", "post", 400, bad.json())
    comp = api.post("/v1/chat/completions",
                    json={"messages": [{"role": "user", "content": "hi"}]})
    _check(doc, "/v1/chat/completions", "post", 200, comp.json())
    with api.stream("POST", "/v1/chat/completions",
                    json={"stream": True, "messages": [{"role": "user", "content": "hi"}]}) as r:
        assert "text/event-stream" in doc["paths"]["/v1/chat/completions"]["post"][
            "responses"]["200"]["content"]
        assert [e.data for e in parse_sse(r.iter_lines())][-1] == "[DONE]"


def test_security_headers(api: httpx.Client) -> None:
    r = api.get("/api/me")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "script-src 'self'" in r.headers["content-security-policy"]
    json.dumps(r.json())
