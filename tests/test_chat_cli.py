"""``qwenapp chat`` end to end: the real console script in a subprocess."""

from __future__ import annotations

import json
import shutil
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



# --- chat with documents attached ------------------------------------------------------

CORPUS = Path(__file__).parent / "fixtures" / "corpus"


def grounded_script(tmp_path: Path, phrase: str, reply: str) -> str:
    """A model that answers ``reply`` only when ``phrase`` (from a document, never from the
    question) is in what it was sent; otherwise it echoes, and the test fails."""
    script = tmp_path / "grounded.json"
    script.write_text(json.dumps({"rules": [{"contains": phrase, "reply": reply}]}))
    return f"scripted:{script}"


@pytest.fixture
def garden(tmp_path: Path) -> Path:
    path = tmp_path / "garden" / "gardening.txt"
    path.parent.mkdir()
    shutil.copy(CORPUS / "gardening.txt", path)
    return path


def test_attach_answers_from_the_file_and_lists_cited_sources(
        cli_env: dict[str, str], tmp_path: Path, garden: Path) -> None:
    model = grounded_script(tmp_path, "Pinch off suckers", "Water deeply twice a week [1].")
    p = run(cli_env, "chat", "How often should I water tomatoes?", "--model", model,
            "--attach", str(garden))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "Water deeply twice a week [1]."
    assert "[1] gardening.txt — " in p.stderr and "added to the library" in p.stderr
    # the excerpts were for that turn only: neither the history nor its system prompt holds them
    conv = json.loads(run(cli_env, "history", "list", "--json").stdout)[0]["id"]
    shown = run(cli_env, "history", "show", conv, "--json").stdout
    assert "Pinch off suckers" not in shown and "EXCERPTS" not in shown
    # the file is in the library now, like `docs add`
    assert str(garden) in run(cli_env, "docs", "list").stdout


def test_attach_json_has_the_cited_sources_and_unchanged_files_are_not_reread(
        cli_env: dict[str, str], tmp_path: Path, garden: Path) -> None:
    model = grounded_script(tmp_path, "Mulch keeps the soil", "Use mulch [1].")
    p = run(cli_env, "chat", "What keeps soil moist?", "--model", model, "-a", str(garden.parent),
            "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["content"] == "Use mulch [1]."
    [source] = data["sources"]
    assert set(source) == {"n", "document_id", "filename", "location", "text"}
    assert source["n"] == 1 and source["filename"] == "gardening.txt"
    assert "Mulch keeps the soil" in source["text"]
    again = run(cli_env, "chat", "What keeps soil moist?", "--model", model, "-a", str(garden))
    assert again.returncode == 0 and "added to the library" not in again.stderr
    assert "[1] gardening.txt — " in again.stderr


def test_an_answer_without_citations_lists_no_sources(
        cli_env: dict[str, str], tmp_path: Path, garden: Path) -> None:
    model = grounded_script(tmp_path, "Pinch off suckers", "Twice a week.")
    p = run(cli_env, "chat", "How often should I water?", "--model", model, "-a", str(garden))
    assert p.stdout.strip() == "Twice a week." and "gardening.txt —" not in p.stderr
    data = json.loads(run(cli_env, "chat", "How often?", "--model", model, "-a", str(garden),
                          "--json").stdout)
    assert data["content"] == "Twice a week." and data["sources"] == []


def test_library_answers_from_the_whole_library(cli_env: dict[str, str],
                                                tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(CORPUS, docs)
    assert run(cli_env, "docs", "add", str(docs)).returncode == 0
    model = grounded_script(tmp_path, "writes about 10 tokens per second",
                            "About 10 tokens a second [1].")
    p = run(cli_env, "chat", "How fast does a 1.5B model write tokens on two CPU cores?",
            "--model", model, "--library")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "About 10 tokens a second [1]."
    assert "[1] local_inference.txt — " in p.stderr


@pytest.mark.parametrize("name", ["missing.txt", "picture.xyz"])
def test_bad_attachment_is_a_one_line_error(cli_env: dict[str, str], tmp_path: Path,
                                            name: str) -> None:
    if name.endswith(".xyz"):
        (tmp_path / name).write_bytes(b"\x89PNG")
    p = run(cli_env, "chat", "hi", "--model", "scripted", "--attach", str(tmp_path / name))
    assert p.returncode == 2 and name in p.stderr
    assert "no such file" in p.stderr or "unsupported" in p.stderr
    assert p.stderr.startswith("error:") and p.stdout == ""
    no_traceback(p)


def test_library_when_empty_is_an_error_with_a_hint(cli_env: dict[str, str]) -> None:
    p = run(cli_env, "chat", "hi", "--model", "scripted", "--library")
    assert p.returncode == 2 and "library is empty" in p.stderr
    assert "qwenapp docs add" in p.stderr and p.stdout == ""
    no_traceback(p)


def test_interactive_attach(cli_env: dict[str, str], tmp_path: Path, garden: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    model = grounded_script(tmp_path, "Pinch off suckers", "Water deeply [1].")
    child = pexpect.spawn(qwenapp_cmd()[0], [*qwenapp_cmd()[1:], "chat", "--model", model],
                          env=cli_env, encoding="utf-8", timeout=30)
    child.expect(">>> ")
    child.sendline("/help")
    child.expect_exact("/attach PATH")
    child.expect(">>> ")
    child.sendline(f"/attach {tmp_path / 'nope.txt'}")
    child.expect_exact("no such file or folder")
    child.expect(">>> ")
    child.sendline(f"/attach {garden}")
    child.expect_exact("attached gardening.txt")
    child.expect(">>> ")
    child.sendline("How often should I water?")
    child.expect_exact("Water deeply [1].")
    child.expect_exact("[1] gardening.txt — ")
    child.expect(">>> ")
    child.sendline("And tomorrow?")  # the attachment holds for the rest of the session
    child.expect_exact("Water deeply [1].")
    child.expect(">>> ")
    child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
