"""``qwenapp chat`` end to end: the real console script in a subprocess."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import qwenapp_cmd


def run(env: dict[str, str], *args: str, stdin: str | None = "",
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*qwenapp_cmd(), *args], env=env, input=stdin, text=True,
                          capture_output=True, timeout=timeout)


def no_traceback(p: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout


def test_one_shot_then_continue_then_history(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "hello there", "--model", "scripted")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "You said: hello there"
    p = run(cli_env, "chat", "-c", "again", "--model", "scripted", "--json")
    data = json.loads(p.stdout)
    assert data["content"] == "You said: again" and data["status"] == "complete"
    hist = json.loads(run(cli_env, "history", "list", "--json").stdout)
    assert len(hist) == 1
    shown = run(cli_env, "history", "show", data["conversation_id"], "--json")
    contents = [m["content"] for m in json.loads(shown.stdout)["messages"]]
    assert contents == ["hello there", "You said: hello there", "again", "You said: again"]


def test_piped_stdin_answers_once(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "--model", "scripted", stdin="text from a pipe\n")
    assert p.returncode == 0 and p.stdout.strip() == "You said: text from a pipe"
    p = run(cli_env, "chat", "Summarise:", "--model", "scripted", stdin="doc body")
    assert "doc body" in p.stdout and "Summarise:" in p.stdout


def test_empty_input_is_a_one_line_error(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "--model", "scripted", stdin="   \n")
    assert p.returncode == 2 and "empty" in p.stderr
    no_traceback(p)


def test_unknown_model_lists_known_ones(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "hi", "--model", "qwen9-nonexistent")
    assert p.returncode != 0
    assert "qwen2.5-coder-1.5b-instruct" in p.stderr and "qwen2.5-coder-0.5b-instruct" in p.stderr
    no_traceback(p)


def test_thinking_shown_apart_and_not_saved_in_answer(cli_env: dict[str, str],
                                                      tmp_path: Path) -> None:
    script = tmp_path / "think.json"
    script.write_text(json.dumps(["<think>\nweighing options\n</think>\n\nUse a list."]))
    p = run(cli_env, "chat", "which?", "--model", f"scripted:{script}", "--think")
    assert p.stdout.strip() == "Use a list."
    assert "weighing options" in p.stderr  # reasoning goes to stderr, dimmed
    data = json.loads(run(cli_env, "history", "show", "--json",
                          json.loads(run(cli_env, "history", "list", "--json").stdout)[0]["id"]
                          ).stdout)
    answer = data["messages"][-1]
    assert answer["content"] == "Use a list." and "weighing" in answer["reasoning"]


def test_real_engine_on_a_gguf_file(cli_env: dict[str, str], tiny_gguf: Path) -> None:
    p = run(cli_env, "chat", "hello", "--model", str(tiny_gguf), "--max-tokens", "5",
            "--seed", "3", "--temperature", "0.7", "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["usage"]["completion_tokens"] == 5 and data["finish_reason"] == "length"
    again = json.loads(run(cli_env, "chat", "hello", "--model", str(tiny_gguf), "--max-tokens",
                           "5", "--seed", "3", "--temperature", "0.7", "--json").stdout)
    assert again["content"] == data["content"]  # --seed is honoured


@pytest.mark.parametrize("content", [b"", b"not a gguf", b"GGUF\x03\x00\x00\x00truncated"])
def test_corrupt_model_file_is_a_one_line_error(cli_env: dict[str, str], tmp_path: Path,
                                                content: bytes) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(content)
    p = run(cli_env, "chat", "hi", "--model", str(bad))
    assert p.returncode != 0 and "broken.gguf" in p.stderr
    no_traceback(p)


def test_missing_model_file(cli_env: dict[str, str], tmp_path: Path) -> None:
    p = run(cli_env, "chat", "hi", "--model", str(tmp_path / "nope.gguf"))
    assert p.returncode != 0 and "nope.gguf" in p.stderr
    no_traceback(p)


def test_unreachable_server_is_a_one_line_error(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "hi", "--model", "openai:http://127.0.0.1:9/v1#qwen")
    assert p.returncode != 0 and "cannot reach" in p.stderr
    no_traceback(p)


def test_ctrl_c_mid_answer_saves_partial_answer(cli_env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "slow.json"
    script.write_text(json.dumps({"replies": ["word " * 400], "chunk_size": 5, "delay": 0.02}))
    proc = subprocess.Popen([*qwenapp_cmd(), "chat", "talk", "--model", f"scripted:{script}"],
                            env=cli_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    first = proc.stdout.read(10)  # wait until the answer is streaming
    assert first and time.monotonic() < deadline
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "partial answer is saved" in err and "Traceback" not in err
    conv = json.loads(run(cli_env, "history", "list", "--json").stdout)[0]
    answer = json.loads(run(cli_env, "history", "show", conv["id"], "--json").stdout)[
        "messages"][-1]
    assert answer["status"] == "interrupted"
    assert 0 < len(answer["content"]) < len("word " * 400)


def test_locked_database_is_a_one_line_error(cli_env: dict[str, str], home: Path) -> None:
    assert run(cli_env, "chat", "warm up", "--model", "scripted").returncode == 0
    conn = sqlite3.connect(home / "qwenapp.db", isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        p = run(cli_env, "chat", "hi", "--model", "scripted")
    finally:
        conn.rollback()
        conn.close()
    assert p.returncode != 0 and "another qwenapp" in p.stderr
    no_traceback(p)


def test_interactive_chat_in_a_terminal(cli_env: dict[str, str]) -> None:
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(qwenapp_cmd()[0], [*qwenapp_cmd()[1:], "chat", "--model", "scripted"],
                          env=cli_env, encoding="utf-8", timeout=30)
    child.expect(">>> ")
    child.sendline("first question")
    child.expect("You said: first question")
    child.expect(">>> ")
    child.sendline("second")
    child.expect("You said: second")
    child.expect(">>> ")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    env = dict(cli_env)
    hist = json.loads(run(env, "history", "list", "--json").stdout)
    assert len(hist) == 1 and hist[0]["messages"] == 4

