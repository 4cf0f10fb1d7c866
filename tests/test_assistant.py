"""The assistant over a scripted model and a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from qwenapp.chat import Assistant, ChatResult, Notice, Trimmed
from qwenapp.errors import BackendError, ContextOverflowError, InputError
from qwenapp.models.events import GenerateOptions, Message
from qwenapp.models.scripted import ScriptedModel
from qwenapp.store import ConversationStore, open_db


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(open_db(tmp_path / "q.db"))


def ask(assistant: Assistant, prompt: str, **kw: object) -> ChatResult:
    return asyncio.run(assistant.ask(prompt, **kw))


def test_turns_are_remembered_and_saved(store: ConversationStore) -> None:
    model = ScriptedModel(["Hi Ann.", "Your name is Ann."])
    a = Assistant(model, store)
    first = ask(a, "My name is Ann.", system="Be brief.")
    second = ask(a, "What is my name?", continue_latest=True)
    assert second.conversation_id == first.conversation_id
    sent = model.calls[1].messages
    assert [m.role for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[2].content == "Hi Ann." and sent[0].content == "Be brief."
    thread = store.thread(first.conversation_id)
    assert [(m.role, m.content, m.status) for m in thread] == [
        ("user", "My name is Ann.", "complete"), ("assistant", "Hi Ann.", "complete"),
        ("user", "What is my name?", "complete"),
        ("assistant", "Your name is Ann.", "complete")]
    assert thread[-1].completion_tokens and thread[-1].model == "scripted"


def test_from_root_starts_a_new_first_message(store: ConversationStore) -> None:
    model = ScriptedModel(["Hi Ann.", "Hi Bob."])
    a = Assistant(model, store)
    first = ask(a, "My name is Ann.", system="Be brief.")
    again = ask(a, "My name is Bob.", conversation_id=first.conversation_id, from_root=True)
    assert again.conversation_id == first.conversation_id
    sent = model.calls[1].messages
    assert [(m.role, m.content) for m in sent] == [("system", "Be brief."),
                                                   ("user", "My name is Bob.")]
    roots = [m for m in store.thread(first.conversation_id) if m.parent_id is None]
    assert [m.content for m in roots] == ["My name is Bob."]  # the latest branch
    old = store.thread(first.conversation_id, first.message_id)
    assert [m.content for m in old] == ["My name is Ann.", "Hi Ann."]
    with pytest.raises(InputError):
        ask(a, "x", conversation_id=first.conversation_id, from_root=True,
            parent_id=old[0].id)


def test_reasoning_is_kept_apart_and_never_in_the_answer(store: ConversationStore) -> None:
    a = Assistant(ScriptedModel(["<think>\nCount: 2+2.\n</think>\n\nIt is 4."]), store)
    r = ask(a, "2+2?", options=GenerateOptions(think=True))
    assert r.text == "It is 4." and "Count" in r.reasoning
    saved = store.thread(r.conversation_id)[-1]
    assert saved.content == "It is 4." and "<think>" not in saved.content
    assert "Count: 2+2." in saved.reasoning


def test_think_on_a_model_without_thinking_says_so(store: ConversationStore) -> None:
    a = Assistant(ScriptedModel(["ok"], thinking=False), store)
    assert any("no thinking mode" in n for n in ask(a, "q", options=GenerateOptions(
        think=True)).notices)


def test_long_conversation_drops_oldest_turns_visibly(store: ConversationStore) -> None:
    model = ScriptedModel(responder=lambda m, o: "x" * 100, context_length=600)
    a = Assistant(model, store)
    events = []
    first = ask(a, "first " * 20, system="SYSTEM")
    for i in range(6):
        events = asyncio.run(_collect(a.chat(f"turn {i} " * 20,
                                             conversation_id=first.conversation_id,
                                             options=GenerateOptions(max_tokens=50))))
    trimmed = [e for e in events if isinstance(e, Trimmed)]
    assert trimmed and trimmed[0].dropped > 0
    sent = model.calls[-1].messages
    assert sent[0] == Message("system", "SYSTEM")
    assert sent[-1].content == "turn 5 " * 20
    assert sent[1].role == "user"  # never starts on an orphaned answer
    assert all(m.content in {"x" * 100, "SYSTEM"} or m.content.startswith(("first", "turn"))
               for m in sent)  # whole messages only


async def _collect(agen: object) -> list[object]:
    return [e async for e in agen]  # type: ignore[attr-defined]


def test_engine_overflow_error_trims_more_and_retries(store: ConversationStore) -> None:
    def respond(messages: Sequence[Message], options: GenerateOptions) -> str | Exception:
        if len(messages) > 3:
            return ContextOverflowError("too long")
        return "fits"

    a = Assistant(ScriptedModel(responder=respond), store)
    cid = ask(a, "one").conversation_id
    ask(a, "two", conversation_id=cid)
    r = ask(a, "three", conversation_id=cid)
    assert r.text == "fits" and r.dropped >= 2


def test_cancel_mid_answer_saves_partial_marked_interrupted(store: ConversationStore) -> None:
    model = ScriptedModel(["a long answer " * 50], chunk_size=3, delay=0.01)
    a = Assistant(model, store)
    seen: list[str] = []

    async def run() -> None:
        some_text = asyncio.Event()

        async def consume() -> None:
            deltas = 0
            async for ev in a.chat("tell me"):
                if type(ev).__name__ == "Started":
                    seen.append(ev.conversation_id)  # type: ignore[union-attr]
                if type(ev).__name__ == "TextDelta":
                    deltas += 1
                    if deltas == 5:  # mid-answer, however slow the machine is
                        some_text.set()
        task = asyncio.create_task(consume())
        await asyncio.wait_for(some_text.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    answer = store.thread(seen[0])[-1]
    assert answer.role == "assistant" and answer.status == "interrupted"
    assert answer.content and "a long answer a long answer".startswith(answer.content[:20])
    assert len(answer.content) < len("a long answer " * 50)


def test_backend_failure_is_saved_as_error_and_raised(store: ConversationStore) -> None:
    a = Assistant(ScriptedModel([BackendError("server down")]), store)
    with pytest.raises(BackendError):
        ask(a, "hello?")
    conv = store.latest()
    assert conv is not None
    assert [m.status for m in store.thread(conv.id)] == ["complete", "error"]


def test_empty_input_and_unknown_conversation(store: ConversationStore) -> None:
    a = Assistant(ScriptedModel(), store)
    with pytest.raises(InputError, match="empty"):
        ask(a, "   \n")
    with pytest.raises(InputError):
        ask(a, "hi", conversation_id="01ZZZZZZZZ")


def test_continue_with_nothing_to_continue_starts_new(store: ConversationStore) -> None:
    r = ask(Assistant(ScriptedModel(), store), "hi", continue_latest=True)
    assert any("no earlier conversation" in n for n in r.notices)


def test_edit_creates_a_branch(store: ConversationStore) -> None:
    a = Assistant(ScriptedModel(), store)
    r1 = ask(a, "first")
    first_user = store.thread(r1.conversation_id)[0]
    ask(a, "second", conversation_id=r1.conversation_id)
    # Edit "second": answer from the first answer again, as a sibling branch.
    first_answer = store.thread(r1.conversation_id)[1]
    r3 = ask(a, "second, edited", conversation_id=r1.conversation_id, parent_id=first_answer.id)
    thread = store.thread(r3.conversation_id)
    assert [m.content for m in thread][:3] == ["first", "You said: first", "second, edited"]
    assert len(store.children(first_answer.id)) == 2 and thread[0].id == first_user.id


def test_ephemeral_assistant_without_store() -> None:
    r = asyncio.run(Assistant(ScriptedModel()).ask("hi"))
    assert r.text == "You said: hi" and r.status == "complete"
    assert not any(isinstance(n, Notice) for n in [])
