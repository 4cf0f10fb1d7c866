"""The assistant: conversations on top of any backend.

This is the Python API the CLI, the HTTP server and the web UI are thin
adapters over. :meth:`Assistant.chat` yields typed events (model deltas plus
:mod:`qwenapp.chat.events`); adapters print them, stream them as SSE, or
render them. Persistence is a collaborator passed in (a
:class:`~qwenapp.store.conversations.ConversationStore`, or ``None`` for an
ephemeral chat).

With a :class:`~qwenapp.tools.ToolBox`, a turn may call tools: the answer
comes from :func:`~qwenapp.tools.run_with_tools` (bounded rounds, repeats
refused, failures returned to the model as errors), its tool events are
yielded between the text, and only the answer text is saved. Without one,
a turn is exactly one model call, as before.

Guarantees: reasoning is kept apart from the answer and saved in its own
field; an answer that is cancelled (Ctrl-C, a dropped client) is saved with
what was produced and marked ``interrupted``; a conversation too long for the
context drops its oldest turns and says so with a :class:`Trimmed` event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ContextOverflowError, InputError
from ..models.base import Backend
from ..models.events import (
    Completion,
    Event,
    GenerateOptions,
    Message,
    ReasoningDelta,
    TextDelta,
    Usage,
)
from ..tools import (
    Confirm,
    ToolBox,
    ToolConfirm,
    ToolEvent,
    ToolFinished,
    ToolNotice,
    ToolStarted,
    run_with_tools,
)
from .context import fit_messages
from .events import ChatEvent, Notice, Saved, Started, Trimmed

if TYPE_CHECKING:
    from ..store.conversations import ConversationStore, MessageStatus

__all__ = ["Assistant", "ChatResult"]

_SAVE_EVERY = 1.0  # seconds between incremental saves of a streaming answer
_TOOL_EVENTS = (ToolConfirm, ToolStarted, ToolFinished, ToolNotice)  # the loop's, not the model's


@dataclass(slots=True)
class ChatResult:
    """A whole turn, collected. The model's part is collected by the one reducer every
    collected stream uses (:meth:`Completion.add`, in ``answer``); this adds what the turn
    itself said. Its JSON form (what ``--json`` prints) is :func:`qwenapp.wire.result_json`."""

    conversation_id: str = ""
    message_id: str = ""
    model: str = ""
    status: str = ""
    dropped: int = 0
    notices: list[str] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # the tools that ran
    answer: Completion = field(default_factory=Completion)

    @property
    def text(self) -> str:
        return self.answer.text

    @property
    def reasoning(self) -> str:
        return self.answer.reasoning

    @property
    def usage(self) -> Usage | None:
        return self.answer.usage

    @property
    def finish_reason(self) -> str | None:
        return self.answer.finish_reason

    def add(self, event: ChatEvent) -> None:
        if isinstance(event, Started):
            self.conversation_id, self.model = event.conversation_id, event.model
        elif isinstance(event, Trimmed):
            self.dropped = event.dropped
        elif isinstance(event, Notice):
            self.notices.append(event.text)
        elif isinstance(event, Saved):
            self.message_id, self.status = event.message_id, event.status
        elif isinstance(event, ToolStarted):
            self.tool_calls.append({"id": event.call.id, "name": event.call.name,
                                    "arguments": dict(event.call.arguments)})
        elif isinstance(event, ToolFinished):
            step = next((c for c in self.tool_calls if c["id"] == event.call_id), None)
            if step is None:  # a call that could not be read never started
                step = {"id": event.call_id, "name": event.name, "arguments": None}
                self.tool_calls.append(step)
            step.update(result=event.content, error=event.error)
        elif not isinstance(event, _TOOL_EVENTS):
            self.answer.add(event)


class Assistant:
    """Chat with memory over one backend, optionally with tools.

    ``confirm`` is asked before a tool with side effects runs (none given: such
    tools are refused); ``max_rounds`` bounds the tool rounds of one turn.
    """

    def __init__(self, backend: Backend, store: ConversationStore | None = None, *,
                 tools: ToolBox | None = None, max_rounds: int = 4,
                 confirm: Confirm | None = None) -> None:
        self.backend = backend
        self.store = store
        self.tools = tools
        self.max_rounds = max_rounds
        self.confirm = confirm

    def _stream(self, messages: list[Message], options: GenerateOptions
                ) -> AsyncIterator[Event | ToolEvent]:
        if not self.tools:
            return self.backend.stream(messages, options)
        return run_with_tools(self.backend, messages, options, self.tools,
                              max_rounds=self.max_rounds, confirm=self.confirm)

    async def ask(self, prompt: str, **kwargs: Any) -> ChatResult:
        """One turn, collected."""
        result = ChatResult()
        async for event in self.chat(prompt, **kwargs):
            result.add(event)
        return result

    async def chat(
        self,
        prompt: str,
        *,
        conversation_id: str | None = None,
        continue_latest: bool = False,
        system: str | None = None,
        options: GenerateOptions | None = None,
        parent_id: str | None = None,
        from_root: bool = False,
        grounding: str = "",
    ) -> AsyncGenerator[ChatEvent, None]:
        """Send *prompt* and stream the answer.

        ``conversation_id`` (or ``continue_latest``) resumes a saved
        conversation; ``parent_id`` answers from another point of it (edit
        and regenerate keep the old branch); ``from_root`` starts a new first
        message of the conversation (editing its first question when nothing
        precedes it). ``grounding`` (excerpts of
        attached documents, see :mod:`.grounding`) follows the system prompt
        for this turn only: it is never saved, so the history stays clean.
        """
        options = options or GenerateOptions()
        if not prompt.strip():
            raise InputError("the message is empty", "type a question, or pipe text on stdin")
        if from_root and parent_id is not None:
            raise InputError("from_root and parent_id exclude each other",
                             "pass one: from_root starts a new first message")
        conv_id, history, leaf, sys_prompt, resumed = self._open(
            conversation_id, continue_latest, system, parent_id, from_root)
        if grounding:
            sys_prompt = "\n\n".join(p for p in (sys_prompt, grounding) if p)
        if not resumed and continue_latest and conversation_id is None:
            yield Notice("no earlier conversation to continue; starting a new one")
        if options.think and not self.backend.supports_thinking:
            yield Notice(f"{self.backend.name} has no thinking mode; answering directly")
        user_id = ""
        if self.store is not None:
            user_id = self.store.add_message(conv_id, "user", prompt, parent_id=leaf).id
        yield Started(conv_id, user_id, self.backend.name, resumed)
        async for event in self._answer(conv_id, user_id, sys_prompt, history, prompt, options):
            yield event

    def _open(
        self, conversation_id: str | None, continue_latest: bool, system: str | None,
        parent_id: str | None, from_root: bool = False,
    ) -> tuple[str, list[Message], str | None, str | None, bool]:
        if self.store is None:
            if conversation_id or continue_latest:
                raise InputError("this assistant keeps no history, so nothing can be continued")
            return "", [], None, system, False
        conv = None
        if conversation_id:
            conv = self.store.get(conversation_id)
        elif continue_latest:
            conv = self.store.latest()
        if conv is None:
            conv = self.store.create(model=self.backend.name, system_prompt=system)
            return conv.id, [], None, system, False
        thread = [] if from_root else self.store.thread(conv.id, parent_id)
        history = [Message(m.role, m.content) for m in thread
                   if m.role in ("user", "assistant") and (m.content or m.role == "user")]
        leaf = thread[-1].id if thread else None
        return conv.id, history, leaf, system if system is not None else conv.system_prompt, True

    async def _answer(
        self, conv_id: str, user_id: str, sys_prompt: str | None, history: list[Message],
        prompt: str, options: GenerateOptions,
    ) -> AsyncIterator[ChatEvent]:
        ctx = self.backend.context_length
        reserve = options.max_tokens or min(1024, ctx // 4)
        system = Message("system", sys_prompt) if sys_prompt else None
        answer_id = ""
        if self.store is not None:
            answer_id = self.store.add_message(conv_id, "assistant", "", parent_id=user_id,
                                               model=self.backend.name, status="streaming").id
        answer = Completion()  # what is saved: the model's events, by the one reducer
        status: MessageStatus = "interrupted"
        last_save = time.monotonic()
        drop_extra = 0
        try:
            for _attempt in range(4):
                fitted = fit_messages(system, history, Message("user", prompt),
                                      budget=max(ctx - reserve, 64), drop_at_least=drop_extra)
                if fitted.dropped:
                    yield Trimmed(fitted.dropped)
                produced = False
                try:
                    async for event in self._stream(fitted.messages, options):
                        if isinstance(event, ToolStarted | TextDelta | ReasoningDelta):
                            produced = True  # an answer began, or a tool ran: never retry
                        if not isinstance(event, _TOOL_EVENTS):
                            answer.add(event)
                        yield event
                        if self.store is not None and time.monotonic() - last_save > _SAVE_EVERY:
                            self.store.update_message(answer_id, content=answer.text,
                                                      reasoning=answer.reasoning)
                            last_save = time.monotonic()
                    break
                except ContextOverflowError:
                    if produced or fitted.dropped >= len(history):
                        raise
                    drop_extra = fitted.dropped + 2
            status = "complete"
        except Exception:
            status = "error"
            raise
        finally:
            # Runs on normal end, on errors, and on cancellation (Ctrl-C, client gone).
            if self.store is not None:
                self.store.update_message(answer_id, content=answer.text,
                                          reasoning=answer.reasoning, usage=answer.usage,
                                          finish_reason=_finish_reason(answer.finish_reason,
                                                                       status),
                                          status=status)
        yield Saved(answer_id, status)


def _finish_reason(finish: str | None, status: MessageStatus) -> str | None:
    """What ended the answer; a cancelled stream has no engine finish reason."""
    if finish is None and status == "interrupted":
        return "cancelled"
    return finish
