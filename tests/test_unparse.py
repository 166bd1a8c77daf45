"""flatgen.unparse.unparse is ast.unparse, byte for byte: on every statement and expression of the
repository's Python files, and on the programs the fuzzers generate."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

from flatgen.unparse import unparse

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(p for d in ("flatgen", "tests", "examples", "benchmarks", "generated") for p in (ROOT / d).rglob("*.py"))


def nodes(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, (ast.stmt, ast.expr)):
            yield node


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_same_as_ast_unparse_on_the_repository(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checked = 0
    for node in nodes(tree):
        if isinstance(node, ast.stmt) and isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            continue  # decorators and bodies: ast.unparse either way, and slow to compare on every file
        assert unparse(node) == ast.unparse(node), ast.dump(node)
        checked += 1
    assert checked > 0


SNIPPETS = [
    "x = -2.0 ** y", "x = (-2.0) ** y", "x = 2 ** -y", "x = a ** b ** c", "x = (a ** b) ** c", "x = a - (b - c)",
    "x = (a - b) - c", "x = a / (b * c)", "x = -(-a)", "x = +a", "x = ~a", "x = a[1:2, ::3]", "x = a[()]",
    "x = a[i,]", "x = (1, 2)", "x, y = y, x", "x = 1 .real", "x = (a < b) == c", "x = a < b < c",
    "x = f(a, *b)", "x = f(**k)", "x = 1e309", "x = -1e309", "x = 'a'", "x = a if b else c", "x += a * b",
    "x[i] = a @ b @ c", "x.y = (a + b) * c", "return", "return a, b", "x = np.sum(x, axis=(0, 1), keepdims=True)",
    "x = a % b // c", "x = f(a)(b)[c].d", "x = -a ** 2", "x = (a, (b, c))", "x = a[b][c:d]", "x = [a, b]",
    "x = a is not b", "x = a not in b", "x = not a", "x = a and b", "x = (-1) .real", "x = 1.5 .real",
]


@pytest.mark.parametrize("code", SNIPPETS)
def test_same_as_ast_unparse_on_tricky_precedence(code):
    stmt = ast.parse(code.replace("return", "def f():\n    return", 1) if code.startswith("return") else code).body[0]
    if isinstance(stmt, ast.FunctionDef):
        stmt = stmt.body[0]
    assert unparse(stmt) == ast.unparse(stmt)
    for node in nodes(stmt):
        assert unparse(node) == ast.unparse(node), ast.dump(node)


def test_same_as_ast_unparse_on_random_arithmetic():
    rng = random.Random(7)
    atoms = ["x", "y", "1", "2.5", "-3", "np.pi", "a.b", "f(x)", "x[0]", "x[1:, ::2]", "(x, y)"]
    ops = ["+", "-", "*", "/", "**", "@", "//", "%", "<", "=="]

    def term(depth):
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(atoms)
        kind = rng.random()
        if kind < 0.15:
            return f"-{term(depth - 1)}"
        if kind < 0.25:
            return f"np.exp({term(depth - 1)}, axis={term(0)})"
        return f"({term(depth - 1)} {rng.choice(ops)} {term(depth - 1)})"

    for _ in range(2000):
        stmt = ast.parse(f"z = {term(5)}").body[0]
        assert unparse(stmt) == ast.unparse(stmt)
