"""The package's shape, held in CI: ruff's check with the line length configured in pyproject.toml,
and a size budget (as tinygrad keeps one): no file over 600 lines, no class over 450, no function
over 100.  A budget a change breaks is a prompt to split by concern, not to raise the number."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "flatgen"
BUDGET = {"file": 600, "class": 450, "function": 100}


def test_ruff_passes_with_the_configured_line_length():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    r = subprocess.run([ruff, "check", "--no-cache", "flatgen"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "[tool.ruff]\nline-length = 120" in config


def sizes() -> list[tuple[str, str, int]]:
    """(kind, where, lines) of every file, class and function of the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(ROOT).as_posix()
        found.append(("file", rel, len(text.splitlines())))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                kind = "class" if isinstance(node, ast.ClassDef) else "function"
                found.append((kind, f"{rel}:{node.lineno} {node.name}", node.end_lineno - node.lineno + 1))
    return found


def test_size_budget():
    over = [f"{kind} {where}: {n} lines (budget {BUDGET[kind]})" for kind, where, n in sizes() if n > BUDGET[kind]]
    assert not over, "\n".join(over)


def test_the_budget_sees_the_package():
    kinds = {kind for kind, _, _ in sizes()}
    assert kinds == {"file", "class", "function"} and len(sizes()) > 200
