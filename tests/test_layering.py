"""The import layering docs/architecture.md draws, read from the source (no imports run).

The core never imports an interface (the server, the CLI, FastAPI, click), and
the job kinds in particular reach no HTTP even indirectly: the CLI and a
separate worker process run them without loading the web stack.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
INTERFACES = ("qwenapp.server", "qwenapp.cli")
WEB_STACK = ("fastapi", "starlette", "uvicorn", "click")


def _name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in (SRC / "qwenapp").rglob("*.py")}


@cache
def _imports(module: str) -> frozenset[str]:
    """What ``module`` imports: absolute names, a ``from x import y`` submodule included."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
    return frozenset(out)


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _reached(start: str) -> set[str]:
    """Every name importing ``start`` loads: its imports, theirs, and each one's packages."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            prefix = ".".join(parts[:i])
            if prefix in seen:
                continue
            seen.add(prefix)
            if prefix in MODULES:
                todo.extend(_imports(prefix))
    return seen


def test_no_core_module_imports_an_interface() -> None:
    bad = {m: sorted(i for i in _imports(m) if _within(i, INTERFACES + WEB_STACK))
           for m in MODULES
           if not _within(m, INTERFACES) and m != "qwenapp.__main__"}
    assert {m: v for m, v in bad.items() if v} == {}


def test_job_kinds_reach_no_http() -> None:
    reached = _reached("qwenapp.jobs")
    assert "qwenapp.jobs.report" in reached and "qwenapp.jobs.deck" in reached
    assert sorted(n for n in reached if _within(n, INTERFACES + WEB_STACK)) == []
