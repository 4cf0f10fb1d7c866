"""Any OpenAI-compatible chat server as a backend.

Why one adapter: vLLM, SGLang, llama-server (llama.cpp), Ollama, LM Studio
and DashScope's compatible mode all speak the same ``/v1/chat/completions``
wire API with server-sent events. This module owns only the transport:
request, retries, SSE framing, HTTP errors and cancellation. The request body
comes from :func:`~qwenapp.models.profile.request_body` and the chunks become
events in :func:`~qwenapp.models.profile.openai_chunks_to_events`, so wire
quirks of the Qwen family live in one place.

Providers are data. The only thing that differs between these servers for
us is how the Qwen3 thinking switch is spelled; each spelling is one row of
:data:`PROVIDERS`, picked from the base URL or named explicitly.

Retries are bounded and only happen before the response starts (connection
refused or reset, 502/503/504): once a token has been yielded, a failure is
reported, never papered over by a second generation.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..errors import BackendError, BadRequestError, ContextOverflowError, InputError
from .events import Event, GenerateOptions, Message
from .profile import (
    PROVIDERS,
    Provider,
    QwenProfile,
    detect_provider,
    is_context_overflow,
    offered_tools,
    openai_chunks_to_events,
    request_body,
)

__all__ = [
    "PROVIDERS",
    "OpenAICompatBackend",
    "Provider",
    "detect_provider",
    "iter_sse_data",
]

_CHAT = "/chat/completions"
_RETRY_STATUSES = frozenset({502, 503, 504})
_MAX_RETRY_DELAY = 30.0  # a server asking us to wait longer gets an error instead
_KEY_HINT = ("set the key: QWENAPP_API_KEY (or OPENAI_API_KEY) for --model openai:..., "
             "or api_key / api_key_env under [endpoints.NAME] in config.toml")


async def iter_sse_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """Yield the ``data`` of each server-sent event, stopping at ``[DONE]``.

    Follows the SSE framing: an event ends at a blank line, several ``data:``
    lines join with newlines, ``:`` lines are comments (keep-alives) and other
    fields (``event:``, ``id:``, ``retry:``) carry nothing we need. Lines may
    end in ``\\r\\n``.
    """
    data: list[str] = []
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                payload = "\n".join(data)
                data = []
                if payload.strip() == "[DONE]":
                    return
                yield payload
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:  # a final event without its blank line
        payload = "\n".join(data)
        if payload.strip() != "[DONE]":
            yield payload


def _error_detail(raw: bytes) -> str:
    """The server's own error message, on one short line."""
    text = raw.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except json.JSONDecodeError:
        payload = None
    msg: Any = None
    if isinstance(payload, dict):
        err = payload.get("error")
        if isinstance(err, dict):
            msg = err.get("message")
        elif isinstance(err, str):
            msg = err
        msg = msg or payload.get("message") or payload.get("detail")
    if msg is None:
        msg = text
    elif not isinstance(msg, str):
        msg = json.dumps(msg)
    line = " ".join(str(msg).split())
    return line if len(line) <= 300 else line[:297] + "..."


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


@dataclass(slots=True)
class _ClientSlot:
    """The pooled client and the event loop it was created on."""

    client: httpx.AsyncClient | None = None
    loop: asyncio.AbstractEventLoop | None = None
    owned: bool = True


class OpenAICompatBackend:
    """A model served over the OpenAI chat-completions API.

    One pooled :class:`httpx.AsyncClient` per instance, created on first use
    and closed by :meth:`aclose` (a client passed in stays the caller's to
    close). ``timeout`` is the read timeout: seconds without a byte, sized for
    CPU inference. ``provider`` names a :data:`PROVIDERS` row; by default it
    is recognised from ``base_url``.
    """

    serial_jobs = False  # see models.base.job_parallel: servers batch concurrent calls

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        thinking: bool = True,
        timeout: float = 900.0,
        connect_timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        context_length: int = 32768,
        client: httpx.AsyncClient | None = None,
        provider: str | None = None,
    ) -> None:
        base_url = base_url.strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise InputError(f"the endpoint URL {base_url!r} is not an http(s) URL",
                             "write it like http://localhost:8000/v1")
        if provider is not None and provider not in PROVIDERS:
            raise InputError(f"unknown provider {provider!r}",
                             f"use one of: {', '.join(PROVIDERS)}")
        self.base_url = base_url
        self.model = model
        self.provider = PROVIDERS[provider] if provider else detect_provider(base_url)
        self.max_retries = max(0, max_retries)
        self.backoff = max(0.0, backoff)
        self._api_key = api_key or None
        self._profile = QwenProfile(thinking=thinking)
        self._read_timeout = timeout
        self._timeout = httpx.Timeout(timeout, connect=connect_timeout)
        self._probe_timeout = httpx.Timeout(max(connect_timeout, 5.0), connect=connect_timeout)
        self._context_length = context_length
        self._slot = _ClientSlot(client=client, owned=client is None)

    # -- Backend protocol -------------------------------------------------

    @property
    def name(self) -> str:
        return self.model

    @property
    def context_length(self) -> int:
        return self._context_length

    @property
    def supports_thinking(self) -> bool:
        return self._profile.thinking

    async def stream(
        self, messages: Sequence[Message], options: GenerateOptions
    ) -> AsyncIterator[Event]:
        body = request_body([m.to_openai() for m in messages], options, self._profile,
                            model=self.model, stream=True, provider=self.provider)
        response = await self._send("POST", _CHAT, body=body)
        chunks = self._chunks(response)
        events = openai_chunks_to_events(chunks, offered_tools(options))
        try:
            async for event in events:
                yield event
        finally:
            # Closing the response mid-stream drops the connection, which is how
            # an OpenAI-style server learns to stop generating.
            try:
                await _aclose(events)
                await _aclose(chunks)
            finally:
                await response.aclose()

    async def aclose(self) -> None:
        slot = self._slot
        if not slot.owned:
            return  # a client passed in is the caller's to close
        client, loop, slot.client, slot.loop = slot.client, slot.loop, None, None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()
        # A client from a finished event loop cannot be closed from this one; its
        # sockets go with it.

    async def __aenter__(self) -> OpenAICompatBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- extras -----------------------------------------------------------

    async def models(self) -> list[str]:
        """The model ids the server lists at ``/models``."""
        return await self._models(retries=self.max_retries, timeout=self._timeout)

    # -- transport ----------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        slot = self._slot
        if slot.client is not None and (not slot.owned or slot.loop is loop):
            return slot.client
        # Owned and either new or made on another (finished) event loop: its pooled
        # connections belong to that loop, so start a fresh pool here.
        slot.client = httpx.AsyncClient(timeout=self._timeout,
                                        headers={"User-Agent": "qwenapp"})
        slot.loop = loop
        return slot.client

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        retries: int | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send a request and return a 2xx response whose body is not read yet.

        Retries connection failures and 502/503/504 with exponential backoff;
        any other HTTP error becomes a typed :class:`BackendError`.
        """
        client = self._client()
        url = self.base_url + path
        retries = self.max_retries if retries is None else retries
        attempt = 0
        while True:
            delay = self.backoff * 2**attempt
            request = client.build_request(method, url, json=body,
                                           headers=self._headers(),
                                           timeout=timeout or self._timeout)
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectTimeout as e:
                if attempt < retries:
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                raise self._unreachable(f"no answer in time; {attempt + 1} tries") from e
            except httpx.TimeoutException as e:
                raise self._silent() from e
            except (httpx.ConnectError, httpx.ReadError, httpx.WriteError,
                    httpx.RemoteProtocolError) as e:
                if attempt < retries:
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                raise self._unreachable(f"{_reason(e)}; {attempt + 1} tries") from e
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as e:
                raise InputError(f"cannot use the endpoint URL {url!r}: {_reason(e)}",
                                 "write it like http://localhost:8000/v1") from e
            if response.status_code < 300:
                return response
            try:
                if response.status_code in _RETRY_STATUSES and attempt < retries:
                    wait = max(delay, _retry_after(response.headers) or 0.0)
                    if wait <= _MAX_RETRY_DELAY:
                        attempt += 1
                        await asyncio.sleep(wait)
                        continue
                raise await self._status_error(response, path)
            finally:
                await response.aclose()

    async def _chunks(self, response: httpx.Response) -> AsyncIterator[Any]:
        """Decoded chunk dicts from an SSE body (or one JSON body, if the server
        ignored ``stream``)."""
        try:
            if response.headers.get("content-type", "").startswith("application/json"):
                yield _decode(await response.aread())
                return
            async for payload in iter_sse_data(response.aiter_lines()):
                yield _decode(payload)
        except httpx.TimeoutException as e:
            raise self._silent() from e
        except (httpx.TransportError, httpx.DecodingError) as e:
            raise BackendError("the model stream stopped before the answer was finished",
                               f"the connection broke ({_reason(e)}); the server may have "
                               "crashed or restarted; try again", retryable=True) from e

    async def _models(self, *, retries: int, timeout: httpx.Timeout) -> list[str]:
        response = await self._send("GET", "/models", retries=retries, timeout=timeout)
        try:
            raw = await response.aread()
        except httpx.HTTPError as e:
            raise BackendError(f"cannot read the model list from {self.base_url}/models",
                               _reason(e)) from e
        finally:
            await response.aclose()
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError:
            payload = None
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise BackendError(f"{self.base_url}/models did not return a model list",
                               "check that the endpoint speaks the OpenAI API")
        return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]

    # -- errors -------------------------------------------------------------

    def _unreachable(self, why: str) -> BackendError:
        return BackendError(f"cannot reach the model server at {self.base_url} ({why})",
                            "is it running? check the host and port, then try again",
                            retryable=True)

    def _silent(self) -> BackendError:
        return BackendError(
            f"the model server at {self.base_url} sent nothing for {self._read_timeout:g} s",
            "it may be overloaded or the model too large for this machine; raise the timeout "
            "(QWENAPP_TIMEOUT / request_timeout) or use a smaller model", retryable=True)

    async def _status_error(self, response: httpx.Response, path: str) -> BackendError:
        status = response.status_code
        try:
            raw = await response.aread()
        except httpx.HTTPError:
            raw = b""
        detail = _error_detail(raw)
        said = f": {detail}" if detail else ""
        if 300 <= status < 400:
            where = response.headers.get("location", "another URL")
            return BackendError(f"the model server redirected the request to {where}",
                                "use the final URL (https, trailing /v1) as the base URL",
                                status=status)
        if status in (401, 403):
            what = ("the server rejected the API key" if self._api_key
                    else "the server rejected the request without an API key")
            return BackendError(f"{what} (HTTP {status}{said})", _KEY_HINT, status=status)
        if status == 404:
            return await self._not_found(path, detail)
        if status == 429:
            after = _retry_after(response.headers)
            wait = f"; retry after {after:g} s" if after is not None else ""
            return BackendError(f"the model server is rate limiting requests (HTTP 429{wait})",
                                f"wait and try again, or check your quota{said}",
                                status=status, retryable=True)
        if status in (400, 413, 422):
            if is_context_overflow(detail) or is_context_overflow(
                    raw.decode("utf-8", errors="replace")):
                return ContextOverflowError(
                    f"the prompt does not fit in the model's context window{said}",
                    "shorten the input or start a new conversation, or give the server a "
                    "larger context", status=status)
            return BadRequestError(f"the model server rejected the request{said}",
                                   "check that this server supports the options used "
                                   "(max_tokens, stop, seed, JSON schema)", status=status)
        if status >= 500:
            return BackendError(f"the model server failed (HTTP {status}{said})",
                                "see the server's log; try again",
                                status=status, retryable=status in _RETRY_STATUSES)
        return BackendError(f"unexpected HTTP {status} from the model server{said}",
                            status=status)

    async def _not_found(self, path: str, detail: str) -> BackendError:
        url = self.base_url + path
        said = f": {detail}" if detail else ""
        ids: list[str] | None = None
        if path == _CHAT:
            try:
                ids = await self._models(retries=0, timeout=self._probe_timeout)
            except BackendError:
                ids = None  # the listing is only a diagnosis; the 404 is the error
        if ids is not None and self.model not in ids:
            shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
            return BackendError(f"model {self.model!r} not found at {self.base_url}{said}",
                                f"use one of the served models: {shown or '(none listed)'}",
                                status=404)
        if ids is not None:
            return BackendError(f"the server lists model {self.model!r} but has no {url}",
                                "check that the base URL ends in /v1", status=404)
        return BackendError(f"not found: {url} (model {self.model!r}){said}",
                            "check that the base URL ends in /v1 "
                            "(e.g. http://localhost:8000/v1) and the model name", status=404)


def _decode(payload: str | bytes) -> Any:
    try:
        return json.loads(payload)
    except json.JSONDecodeError:
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
        raise BackendError(f"the model server sent a malformed stream chunk: {text[:80]!r}",
                           "check that the endpoint speaks the OpenAI chat API") from None


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        await aclose()
