"""The OpenAI-compatible API: ``/v1/chat/completions``, ``/v1/models``, ``/v1/embeddings``.

Stateless, like OpenAI's: nothing is saved. A request becomes
``(messages, GenerateOptions)`` for a backend's one streaming method; the
non-streaming answer is the same stream collected. Reasoning (Qwen3
thinking) is returned as ``reasoning_content``, as vLLM and SGLang do.
``response_format`` with a JSON schema is passed to the engine as a
grammar. Errors use OpenAI's ``{"error": {...}}`` shape.

Tools follow OpenAI's function calling: ``tools``, ``tool_choice`` (auto,
none, required, or a named function), ``parallel_tool_calls``, assistant
messages with ``tool_calls`` and ``tool`` messages answering them. The model
layer reads the calls (whatever shape the model wrote them in); here they
become ``message.tool_calls`` or, streamed, ``delta.tool_calls`` chunks: the
first names the call (``index``, ``id``, ``type``, ``function.name``, empty
``arguments``), the next carries its arguments, and the answer ends with
``finish_reason: "tool_calls"``. A call is sent once it is complete and
parsed, so the argument text a client joins is always the repaired JSON.

A ``tools`` entry may also be ``{"type": "mcp", "server_label": ...}``, as in
OpenAI's Responses API: the MCP server's tools then run here, in the bounded
tool loop, and the client gets the final answer (rules in :mod:`.openai_mcp`;
one request holds function tools or MCP tools, not both).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import QwenappError
from ..models.base import Backend, collect
from ..models.events import (
    Completion,
    Event,
    Finish,
    GenerateOptions,
    Message,
    NamedTool,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallError,
    ToolChoice,
    ToolSpec,
    Usage,
)
from ..store import new_id
from ..tools import ToolBox, ToolEvent, run_with_tools
from .auth import Caller, Principal
from .disconnect import until_disconnect
from .errors import ErrorResponse, HttpError, error_body, from_core
from .openai_mcp import McpToolIn, allow_approved, mcp_toolbox
from .sse import EventStream, encode_data
from .state import ServerState, State

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["openai"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 424, 429, 502, 503)}


# -- request models ---------------------------------------------------------------------

class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class FunctionCallIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    arguments: str | dict[str, Any] = ""


class ToolCallIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(min_length=1, max_length=200)
    type: Literal["function"] = "function"
    function: FunctionCallIn


class ChatMessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCallIn] | None = None  # assistant messages
    tool_call_id: str | None = None  # tool messages
    name: str | None = None


class FunctionSpecIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["function"]
    function: FunctionSpecIn


class NamedFunction(BaseModel):
    name: str


class ToolChoiceFunction(BaseModel):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaSpec(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: str = "output"
    description: str | None = None
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat request; unknown fields are accepted and ignored."""

    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = None
    n: int = Field(default=1, ge=1, le=1, description="Only 1 is supported.")
    response_format: ResponseFormat | None = None
    tools: list[Annotated[ToolIn | McpToolIn, Field(discriminator="type")]] | None = Field(
        default=None, max_length=128, description="function tools, or mcp tools (run here)")
    tool_choice: Literal["auto", "none", "required"] | ToolChoiceFunction | None = None
    parallel_tool_calls: bool | None = None
    enable_thinking: bool | None = Field(
        default=None, description="Qwen3 thinking (also read from chat_template_kwargs).")
    chat_template_kwargs: dict[str, Any] | None = None


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = None
    input: str | list[str]
    encoding_format: Literal["float", "base64"] = "float"


# -- response models (for the OpenAPI document) ----------------------------------------

class FunctionCallOut(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    reasoning_content: str | None = None
    tool_calls: list[ToolCallOut] | None = None


class Choice(BaseModel):
    index: int
    message: AssistantMessage
    finish_reason: str | None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "qwenapp"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class EmbeddingItem(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingItem]
    model: str
    usage: EmbeddingUsage


# -- translation -------------------------------------------------------------------------

def _text(content: str | list[ContentPart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for p in content:
        if p.type != "text":
            raise HttpError(400, f"content of type {p.type!r} is not supported (text only)",
                            code="unsupported_content", param="messages")
        parts.append(p.text or "")
    return "".join(parts)


def _messages(req: ChatCompletionRequest) -> list[Message]:
    out: list[Message] = []
    asked: dict[str, str] = {}  # tool_call_id -> function name, from assistant messages
    for i, m in enumerate(req.messages):
        if m.role == "tool":
            call_id = m.tool_call_id
            if not call_id:
                raise HttpError(400, f"messages[{i}] is a tool message without tool_call_id",
                                code="invalid_tool_message", param=f"messages.{i}")
            if call_id not in asked:
                raise HttpError(400, f"messages[{i}] answers tool_call_id {call_id!r}, which no "
                                "earlier assistant message asked for",
                                code="unknown_tool_call_id", param=f"messages.{i}.tool_call_id",
                                hint="send the assistant message with its tool_calls before the "
                                     "tool results, with the same ids")
            out.append(Message("tool", _text(m.content), tool_call_id=call_id,
                               name=m.name or asked[call_id]))
            continue
        calls: tuple[ToolCall, ...] = ()
        if m.tool_calls:
            if m.role != "assistant":
                raise HttpError(400, f"messages[{i}]: only assistant messages carry tool_calls",
                                code="invalid", param=f"messages.{i}.tool_calls")
            calls = tuple(_call_in(c, i) for c in m.tool_calls)
            asked.update((c.id, c.name) for c in calls)
        role: Literal["system", "user", "assistant"] = "system" if m.role == "developer" \
            else m.role
        out.append(Message(role, _text(m.content), tool_calls=calls))
    return out


def _call_in(c: ToolCallIn, i: int) -> ToolCall:
    """An assistant message's earlier call, as the model layer keeps it."""
    args = c.function.arguments
    if isinstance(args, dict):
        return ToolCall(c.id, c.function.name, args)
    try:
        parsed = json.loads(args) if args.strip() else {}
    except json.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise HttpError(400, f"messages[{i}]: the arguments of tool call {c.id!r} are not a "
                        "JSON object", code="invalid", param=f"messages.{i}.tool_calls")
    return ToolCall(c.id, c.function.name, parsed)


def _tools(req: ChatCompletionRequest, run_here: Sequence[str] = ()
           ) -> tuple[tuple[ToolSpec, ...], ToolChoice]:
    """The client's function tools, and the tool choice checked against them (or against
    ``run_here``: the names of the MCP tools this request runs on the server)."""
    tools = tuple(ToolSpec(t.function.name, t.function.description, t.function.parameters)
                  for t in req.tools or () if isinstance(t, ToolIn))
    names = [t.name for t in tools]
    if len(set(names)) != len(names):
        raise HttpError(400, "two tools have the same name", code="invalid", param="tools")
    names += run_here
    choice: ToolChoice = "auto"
    if isinstance(req.tool_choice, ToolChoiceFunction):
        name = req.tool_choice.function.name
        if name not in names:
            raise HttpError(400, f"tool_choice names {name!r}, which is not among the tools",
                            code="invalid", param="tool_choice")
        choice = NamedTool(name)
    elif req.tool_choice is not None:
        choice = req.tool_choice
    if choice == "required" and not names:
        raise HttpError(400, "tool_choice is required but no tools were given", code="invalid",
                        param="tool_choice")
    return tools, choice


def _mcp_entries(req: ChatCompletionRequest) -> list[tuple[int, McpToolIn]]:
    entries = [(i, t) for i, t in enumerate(req.tools or ()) if isinstance(t, McpToolIn)]
    if entries and len(entries) != len(req.tools or ()):
        raise HttpError(400, "use either function tools or mcp tools in one request",
                        code="mixed_tools", param="tools",
                        hint="function calls come back to you while mcp tools run on this "
                             "server; one answer cannot do both: send two requests")
    return entries


def _options(req: ChatCompletionRequest, run_here: Sequence[str] = ()) -> GenerateOptions:
    schema: dict[str, Any] | None = None
    fmt = req.response_format
    if fmt is not None and fmt.type == "json_schema":
        if fmt.json_schema is None or not fmt.json_schema.schema_:
            raise HttpError(400, "response_format json_schema needs a schema", code="invalid",
                            param="response_format")
        schema = fmt.json_schema.schema_
    elif fmt is not None and fmt.type == "json_object":
        schema = {"type": "object"}
    tools, choice = _tools(req, run_here)
    if schema is not None and (tools or run_here) and choice not in ("auto", "none"):
        raise HttpError(400, "response_format and a forced tool_choice exclude each other",
                        code="invalid", param="tool_choice")
    think = req.enable_thinking
    if think is None and req.chat_template_kwargs:
        value = req.chat_template_kwargs.get("enable_thinking")
        think = bool(value) if value is not None else None
    stop = (req.stop,) if isinstance(req.stop, str) else tuple(req.stop or ())
    return GenerateOptions(temperature=req.temperature, top_p=req.top_p,
                           max_tokens=req.max_completion_tokens or req.max_tokens,
                           stop=stop, seed=req.seed, json_schema=schema, think=think,
                           tools=tools, tool_choice=choice,
                           parallel_tool_calls=req.parallel_tool_calls is not False)


def _call_out(ev: ToolCall | ToolCallError) -> ToolCallOut:
    """A call for the client. One the model garbled goes out as it was written (OpenAI's
    own API may return invalid JSON arguments too); the client's tool loop reports it."""
    args = ev.arguments_json if isinstance(ev, ToolCall) else ev.raw
    return ToolCallOut(id=ev.id, function=FunctionCallOut(name=ev.name, arguments=args))


def _finish(reason: str | None) -> str:
    return reason if reason in ("length", "tool_calls") else "stop"


def _usage(u: Usage | None) -> dict[str, int] | None:
    if u is None:
        return None
    return {"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "total_tokens": u.prompt_tokens + u.completion_tokens}


def _completion_usage(u: Usage | None) -> CompletionUsage | None:
    d = _usage(u)
    return None if d is None else CompletionUsage(**d)


async def _guard(state: ServerState, who: Principal) -> Any:
    state.rates.check(who.user.id)
    return await state.streams.acquire(who.user.id)


# -- routes ------------------------------------------------------------------------------

@router.get("/models", response_model=ModelList, responses=_ERRORS)
async def list_models(state: State, who: Caller) -> ModelList:
    """The models this server offers (the first is the default)."""
    created = int(time.time())
    cards = [ModelCard(id=name, created=created) for name in state.models.names()]
    if state.models.embedder is not None and state.models.embedder.name not in \
            state.models.names():
        cards.append(ModelCard(id=state.models.embedder.name, created=created))
    return ModelList(data=cards)


@router.post("/chat/completions", response_model=ChatCompletion, responses={
    **_ERRORS, 200: {"content": {"text/event-stream": {
        "schema": {"type": "string", "description": "chat.completion.chunk events, then "
                   "data: [DONE] (when stream is true)"}}}}})
async def chat_completions(state: State, who: Caller, body: ChatCompletionRequest,
                           request: Request) -> Response:
    """Chat completion, streamed (``stream: true``) or whole; ``mcp`` tools run here."""
    backend = state.models.get(body.model)
    messages = _messages(body)
    entries = _mcp_entries(body)
    if not entries:
        options = _options(body)
    lease = await _guard(state, who)
    box: ToolBox | None = None
    try:
        if entries:  # the options are checked against the tools the servers offer
            box = await mcp_toolbox(state, who.user.id, entries)
            options = _options(body, box.names)
    except BaseException:
        lease.release()
        raise
    cid = "chatcmpl-" + new_id().lower()
    created = int(time.time())
    if not body.stream:
        try:
            result = await until_disconnect(request, collect(_events(
                state, backend, messages, options, box)))
        except QwenappError as e:
            raise from_core(e) from None
        finally:
            lease.release()
            if box is not None:
                await box.aclose()
        calls = [_call_out(c) for c in _client_calls(result)]
        message = AssistantMessage(content=result.text or (None if calls else ""),
                                   reasoning_content=result.reasoning or None,
                                   tool_calls=calls or None)
        finish = result.finish_reason
        if finish == "tool_calls" and not calls:
            finish = "stop"  # nothing the client could run: a call with no name
        return JSONResponse(ChatCompletion(
            id=cid, created=created, model=backend.name,
            choices=[Choice(index=0, message=message, finish_reason=_finish(finish))],
            usage=_completion_usage(result.usage),
        ).model_dump(exclude_none=True))
    events = _events(state, backend, messages, options, box)
    tools_box = box

    def closed() -> None:
        lease.release()
        if tools_box is not None:  # closing twice is harmless; this covers a stream never read
            asyncio.get_running_loop().create_task(tools_box.aclose())

    try:
        first = await anext(events, None)  # errors before any output become HTTP errors
    except QwenappError as e:
        closed()
        raise from_core(e) from None
    except BaseException:
        closed()
        raise
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    source = _chunks(events, first, cid, created, backend.name, include_usage)
    return EventStream(source, on_close=closed)


def _client_calls(result: Completion) -> list[ToolCall | ToolCallError]:
    """The calls of an answer in stream order; an error without a name is dropped."""
    return [e for e in result.events
            if isinstance(e, ToolCall) or (isinstance(e, ToolCallError) and e.name)]


async def _events(state: ServerState, backend: Backend, messages: list[Message],
                  options: GenerateOptions, box: ToolBox | None) -> AsyncIterator[Event]:
    """The model's stream, or, with MCP tools, the tool loop's (its tool steps are not sent:
    a chat completion has no place for calls the client did not make)."""
    stream: AsyncIterator[Event | ToolEvent]
    if box is None:
        stream = backend.stream(messages, options)
    else:
        stream = run_with_tools(backend, messages, options, box,
                                max_rounds=state.tools.max_rounds, confirm=allow_approved)
    try:
        async for ev in stream:
            if not isinstance(ev, ToolEvent):
                yield ev
    finally:
        closer = getattr(stream, "aclose", None)
        if closer is not None:
            await closer()
        if box is not None:
            await box.aclose()


async def _chunks(events: AsyncIterator[Event], first: Event | None, cid: str, created: int,
                  model: str, include_usage: bool) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return encode_data({"id": cid, "object": "chat.completion.chunk", "created": created,
                            "model": model, "choices": [{"index": 0, "delta": delta,
                                                         "finish_reason": finish}]})

    # The hot path (one line per token) fills a template instead of encoding a dict.
    head = (f'data: {{"id":"{cid}","object":"chat.completion.chunk","created":{created},'
            f'"model":{json.dumps(model)},"choices":[{{"index":0,"delta":{{"')
    tail = '},"finish_reason":null}]}\n\n'

    def delta(field: str, text: str) -> bytes:
        return f'{head}{field}":{json.dumps(text, ensure_ascii=False)}{tail}'.encode()

    usage: Usage | None = None
    finish: str | None = None
    calls = 0
    yield chunk({"role": "assistant", "content": ""})
    try:
        pending = [first] if first is not None else []
        while True:
            if pending:
                ev = pending.pop()
            else:
                nxt = await anext(events, None)
                if nxt is None:
                    break
                ev = nxt
            if isinstance(ev, TextDelta):
                yield delta("content", ev.text)
            elif isinstance(ev, ReasoningDelta):
                yield delta("reasoning_content", ev.text)
            elif isinstance(ev, ToolCall | ToolCallError) and ev.name:
                out = _call_out(ev)
                yield chunk({"tool_calls": [{"index": calls, "id": out.id, "type": "function",
                                             "function": {"name": out.function.name,
                                                          "arguments": ""}}]})
                yield chunk({"tool_calls": [{"index": calls, "function": {
                    "arguments": out.function.arguments}}]})
                calls += 1
            elif isinstance(ev, Usage):
                usage = ev
            elif isinstance(ev, Finish):
                finish = ev.reason
    except QwenappError as e:
        err = from_core(e)
        yield encode_data(error_body(err.status, err.message, code=err.code, hint=err.hint))
        return
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()
    if finish == "tool_calls" and not calls:
        finish = "stop"
    yield chunk({}, _finish(finish))
    if include_usage and usage is not None:
        yield encode_data({"id": cid, "object": "chat.completion.chunk", "created": created,
                           "model": model, "choices": [], "usage": _usage(usage)})
    yield encode_data("[DONE]")


@router.post("/embeddings", response_model=EmbeddingResponse, responses=_ERRORS)
async def embeddings(state: State, who: Caller, body: EmbeddingRequest,
                     request: Request) -> EmbeddingResponse:
    """Vectors for texts, when the model (or a configured embedder) can make them."""
    embedder = state.models.embedder_for(body.model)
    if embedder is None:
        name = body.model or state.models.default.name
        raise HttpError(400, f"the model {name!r} does not make embeddings",
                        code="embeddings_not_supported", param="model",
                        hint="start the server with --embed openai:URL#MODEL, or use a model "
                             "served with embeddings")
    texts = [body.input] if isinstance(body.input, str) else list(body.input)
    if not texts or len(texts) > 2048:
        raise HttpError(400, "input must hold 1 to 2048 texts", code="invalid", param="input")
    state.rates.check(who.user.id)
    try:
        vectors = await until_disconnect(request, embedder.embed(texts))
    except QwenappError as e:
        raise from_core(e) from None
    data = []
    for i, vec in enumerate(vectors):
        value: list[float] | str = vec
        if body.encoding_format == "base64":
            value = base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode("ascii")
        data.append(EmbeddingItem(index=i, embedding=value))
    tokens = sum(max(1, len(t.encode("utf-8")) // 4) for t in texts)
    return EmbeddingResponse(data=data, model=embedder.name,
                             usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens))
