"""Reading tool calls out of a model's answer, whatever shape they come in.

Why here, once: a call reaches us in one of three shapes, and both backends
(the embedded engine and any OpenAI-compatible server) can produce each of
them:

* OpenAI ``tool_calls`` deltas, when the server parsed the call itself
  (vLLM with ``--tool-call-parser hermes``, DashScope, llama-server when its
  parser recognises the output);
* Qwen's own text form, ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``
  inside ``content``, when a server passes the raw template output through;
* a bare JSON object (or a list of them, possibly in a code fence) as the
  whole answer: what Qwen2.5-Coder writes instead of the tags, and what a
  JSON-schema grammar produces when ``tool_choice`` forces a call.

Small models also write sloppy JSON (single quotes, ``True``, a trailing
comma, a missing closing brace when they stop early): :func:`repair_json`
fixes what can be fixed without guessing, and anything else becomes a
:class:`~qwenapp.models.events.ToolCallError` for the caller to report back
to the model, never an exception.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import TextDelta, ToolCall, ToolCallDelta, ToolCallError

__all__ = [
    "NativeCalls",
    "ToolTextParser",
    "new_call_id",
    "parse_arguments",
    "partial_suffix",
    "repair_json",
]

TAG_OPEN = "<tool_call>"
TAG_CLOSE = "</tool_call>"
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"\\]{1,200})"')
_LITERALS = {"True": "true", "False": "false", "None": "null",
             "true": "true", "false": "false", "null": "null"}


def new_call_id() -> str:
    """An id in OpenAI's shape for a call the server did not name."""
    return "call_" + secrets.token_hex(12)


def _unfence(text: str) -> str:
    m = _FENCE.match(text)
    return m.group(1) if m else text.strip()


def _normalise(text: str) -> str:
    """One pass over sloppy JSON: quotes, Python literals, bare keys, trailing commas,
    and whatever strings and brackets were left open at the end."""
    out: list[str] = []
    stack: list[str] = []
    quote = ""  # the quote character of the string we are in, or ""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if quote:
            if ch == "\\" and i + 1 < n:
                nxt = text[i + 1]
                out.append("'" if (quote == "'" and nxt == "'") else ch + nxt)
                i += 2
                continue
            if ch == quote:
                out.append('"')
                quote = ""
            elif ch == '"':  # a double quote inside a single-quoted string
                out.append('\\"')
            elif ch == "\n":
                out.append("\\n")
            else:
                out.append(ch)
            i += 1
            continue
        if ch in "\"'":
            quote = ch
            out.append('"')
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
            out.append(ch)
        elif ch in "}]":
            while out and out[-1] in " \t\r\n,":  # a trailing comma before the close
                out.pop()
            if stack:
                stack.pop()
            out.append(ch)
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            rest = text[j:].lstrip()
            if rest.startswith(":") and stack and stack[-1] == "}":
                out.append(json.dumps(word))  # a bare key
            else:
                out.append(_LITERALS.get(word, word))
            i = j
            continue
        else:
            out.append(ch)
        i += 1
    if quote:
        out.append('"')
    while out and out[-1] in " \t\r\n,:":
        out.pop()
    out.extend(reversed(stack))
    return "".join(out)


def repair_json(text: str) -> tuple[Any, bool]:
    """``(value, repaired)`` for the first JSON value in *text*; ValueError if none.

    Strict JSON first; then a code fence removed, text after the value ignored,
    and one normalising pass (see :func:`_normalise`).
    """
    raw = text.strip()
    try:
        return json.loads(raw), False
    except ValueError:
        pass
    body = _unfence(raw)
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON object in the text")
    body = body[start:]
    decoder = json.JSONDecoder()
    candidates = [body, _normalise(body)]
    if body.startswith("{{"):
        # The Qwen2.5-Coder GGUF chat template shows its tool-call example with
        # Python-format-escaped braces, and the small models copy them:
        # ``{{"name": …, "arguments": {{…}}}}``. ``{{`` never starts valid JSON,
        # so undoubling is tried only then.
        single = body.replace("{{", "{").replace("}}", "}")
        candidates += [single, _normalise(single)]
    for candidate in candidates:
        try:
            value, _ = decoder.raw_decode(candidate)
            return value, True
        except ValueError:
            continue
    raise ValueError("the JSON could not be repaired")


def parse_arguments(raw: str | Mapping[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """A call's arguments as a dict, ``(arguments, repaired)``; ValueError when unreadable.

    Accepts an object, a JSON string (also one encoded twice), or nothing (no arguments).
    """
    if raw is None:
        return {}, False
    if isinstance(raw, Mapping):
        return dict(raw), False
    if not raw.strip():
        return {}, False
    value, repaired = repair_json(raw)
    if isinstance(value, str):  # arguments encoded twice
        value, _ = repair_json(value)
        repaired = True
    if not isinstance(value, dict):
        raise ValueError(f"the arguments must be a JSON object, not {type(value).__name__}")
    return value, repaired


def _call_from(obj: Any, names: Collection[str] | None) -> tuple[str, Any] | None:
    """(name, raw arguments) when *obj* looks like one call; None otherwise."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("function"), dict):  # {"type": "function", "function": {...}}
        obj = obj["function"]
    name = obj.get("name")
    if not isinstance(name, str) or not name:
        return None
    if names is not None and name not in names:
        return None
    args = obj.get("arguments", obj.get("parameters"))
    return name, args


def _calls_in(text: str, names: Collection[str] | None
              ) -> tuple[list[tuple[str, Any]], bool] | None:
    """The calls a JSON text holds (one object or a list), or None when it holds none."""
    try:
        value, repaired = repair_json(text)
    except ValueError:
        return None
    items = value if isinstance(value, list) else [value]
    calls = [_call_from(v, names) for v in items]
    if not calls or any(c is None for c in calls):
        return None
    return [c for c in calls if c is not None], repaired


def _finish_call(index: int, call_id: str, name: str, args: Any,
                 repaired: bool = False) -> ToolCall | ToolCallError:
    try:
        parsed, fixed = parse_arguments(args if isinstance(args, str | Mapping) or args is None
                                        else json.dumps(args))
    except ValueError as e:
        raw = args if isinstance(args, str) else json.dumps(args)
        return ToolCallError(call_id, name, raw, f"the arguments of {name} are not valid JSON "
                             f"({e})")
    return ToolCall(call_id, name, parsed, repaired=repaired or fixed)


@dataclass(slots=True)
class _Pending:
    id: str
    name: str = ""
    arguments: str = ""


@dataclass(slots=True)
class NativeCalls:
    """Assembles OpenAI ``tool_calls`` deltas (by ``index``) into finished calls."""

    pending: dict[int, _Pending] = field(default_factory=dict)

    def feed(self, deltas: Any) -> Iterator[ToolCallDelta]:
        if not isinstance(deltas, list):
            return
        for pos, d in enumerate(deltas):
            if not isinstance(d, dict):
                continue
            # a whole (non-streamed) message lists its calls without an index
            index = int(d["index"]) if isinstance(d.get("index"), int) else pos
            fn = d.get("function") or {}
            p = self.pending.get(index)
            if p is None:
                p = self.pending[index] = _Pending(str(d.get("id") or new_call_id()))
            name = str(fn.get("name") or "")
            args = fn.get("arguments")
            if isinstance(args, dict):  # some servers send the object itself
                args = json.dumps(args)
            args = str(args or "")
            p.name += name
            p.arguments += args
            if name or args:
                yield ToolCallDelta(index, p.id, name, args)

    def finish(self) -> Iterator[ToolCall | ToolCallError]:
        for index in sorted(self.pending):
            p = self.pending[index]
            if not p.name:
                yield ToolCallError(p.id, "", p.arguments, "the model sent a tool call "
                                    "without a function name")
                continue
            yield _finish_call(index, p.id, p.name, p.arguments)
        self.pending.clear()


class ToolTextParser:
    """Streaming filter that takes tool calls out of answer text.

    ``<tool_call>...</tool_call>`` blocks anywhere in the text become calls;
    an answer that is, as a whole, a JSON call (or list of calls) to one of
    ``names`` becomes calls too. Text that begins like JSON is held back
    until it is clear whether it is a call, so a call never leaks out as
    text; any other text streams through at once (a possible partial tag at
    a chunk's end is held until the next chunk decides it).
    """

    def __init__(self, names: Collection[str], *, first_index: int = 0) -> None:
        self.names = set(names)
        self._buf = ""
        self._mode = "start"  # start | text | json | tag
        self._index = first_index
        self._tag_id = ""
        self._named = False

    @property
    def count(self) -> int:
        """How many calls (finished or failed) this parser has produced."""
        return self._index

    def feed(self, text: str) -> Iterator[TextDelta | ToolCallDelta | ToolCall | ToolCallError]:
        self._buf += text
        while self._buf:
            if self._mode == "start":
                head = self._buf.lstrip()
                if not head:
                    return
                if head[0] in "{[`" and _could_be_call(head):
                    self._mode = "json"
                else:
                    self._mode = "text"
                continue
            if self._mode == "json":
                if _could_be_call(self._buf.lstrip()):
                    return  # decided at the end
                self._mode = "text"
                continue
            if self._mode == "text":
                idx = self._buf.find(TAG_OPEN)
                if idx >= 0:
                    if idx:
                        yield TextDelta(self._buf[:idx])
                    self._buf = self._buf[idx + len(TAG_OPEN):]
                    self._mode, self._tag_id, self._named = "tag", new_call_id(), False
                    continue
                keep = partial_suffix(self._buf, TAG_OPEN)
                out = self._buf[: len(self._buf) - keep]
                self._buf = self._buf[len(self._buf) - keep:]
                if out:
                    yield TextDelta(out)
                return
            # inside <tool_call>: prose that only mentions the tag stays prose
            head = self._buf.lstrip()
            if head and head[0] not in "{[`":
                yield TextDelta(TAG_OPEN)
                self._mode = "text"
                continue
            idx = self._buf.find(TAG_CLOSE)
            if idx < 0:
                if not self._named:
                    m = _NAME.search(self._buf)
                    if m:
                        self._named = True
                        yield ToolCallDelta(self._index, self._tag_id, m.group(1))
                return
            inner, self._buf = self._buf[:idx], self._buf[idx + len(TAG_CLOSE):]
            self._mode = "text"
            yield from self._tag_calls(inner)
            self._buf = self._buf.lstrip("\n") if not self._buf.strip() else self._buf

    def flush(self) -> Iterator[TextDelta | ToolCallDelta | ToolCall | ToolCallError]:
        buf, self._buf = self._buf, ""
        if self._mode == "tag":  # the model stopped before </tool_call>
            yield from self._tag_calls(buf)
            return
        if self._mode == "json":
            found = _calls_in(buf, self.names)
            if found is not None:
                calls, repaired = found
                for name, args in calls:
                    call_id = new_call_id()
                    yield ToolCallDelta(self._index, call_id, name)
                    yield _finish_call(self._index, call_id, name, args, repaired)
                    self._index += 1
                return
        if buf and (buf.strip() or self._mode == "text"):
            yield TextDelta(buf)

    def _tag_calls(self, inner: str) -> Iterator[ToolCallDelta | ToolCall | ToolCallError]:
        found = _calls_in(inner, None)
        if found is None:
            m = _NAME.search(inner)
            yield ToolCallError(self._tag_id, m.group(1) if m else "", inner.strip(),
                                "the tool call is not valid JSON")
            self._index += 1
            return
        calls, repaired = found
        for k, (name, args) in enumerate(calls):
            call_id = self._tag_id if k == 0 else new_call_id()
            if k > 0 or not self._named:
                yield ToolCallDelta(self._index, call_id, name)
            yield _finish_call(self._index, call_id, name, args, repaired)
            self._index += 1


def _could_be_call(head: str) -> bool:
    """Whether text that starts like JSON may still turn out to be a call object."""
    if not head:
        return True
    if head.startswith("`"):
        fence = "```"
        if len(head) < len(fence):
            return fence.startswith(head)
        if not head.startswith(fence):
            return False
        rest = head[3:]
        if "\n" not in rest and len(rest) < 12:
            return True  # still reading the fence's language word
        head = rest.split("\n", 1)[1] if "\n" in rest else rest.lstrip()
        head = head.lstrip()
        if not head:
            return True
    if head[0] == "[":
        head = head[1:].lstrip()
        if not head:
            return True
    if head[0] != "{":
        return False
    head = head[1:].lstrip()
    if not head:
        return True
    if head[0] not in "\"'":
        return False
    key = head[1:]
    for word in ("name", "function", "type"):
        if len(key) <= len(word):
            if word.startswith(key):
                return True
        elif key.startswith(word) and key[len(word)] in "\"'":
            return True
    return False


def partial_suffix(buf: str, tag: str) -> int:
    """Length of the longest suffix of *buf* that is a proper prefix of *tag*."""
    for n in range(min(len(tag) - 1, len(buf)), 0, -1):
        if buf.endswith(tag[:n]):
            return n
    return 0
