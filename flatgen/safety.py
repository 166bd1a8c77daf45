"""Safety: no user text becomes code in a generated module.

Two lines of defence.  First, every text that reaches a comment or the header (statement text,
names, paths, options) goes through `one_line`, which escapes anything that could end the comment:
a newline, a carriage return, any character `str.isprintable` rejects.  Second, before a module is
written, compiled or compared, `check_module` parses the formatted text and compares its syntax tree
with the tree of what the renderer meant to write, built from the statements alone (every comment
left out, the header too): a comment that leaked a line of code, whatever the path, adds a statement
the expected tree does not have.  A mismatch is a flatgen bug (InternalError, exit 3), never a module
on disk.
"""

from __future__ import annotations

import ast
import inspect

from .errors import InternalError

# The modules a generated module may import (by their dotted names; aliases are the namer's).
IMPORTS = {"math", "numpy"}


def one_line(text: str) -> str:
    """`text` as one printable line: non-printable characters (newlines, carriage returns, form
    feeds, NUL, U+2028, ...) become their backslash escapes; everything printable stays as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def is_comment(line: str) -> bool:
    return line.lstrip("\x00 ").startswith("#")


def check_module(source: str, expected: str, functions: list[str]) -> None:
    """Raise InternalError unless `source` has exactly the statements of `expected` (the rendered
    module without its comments), and its top level holds only imports of math/numpy and the
    functions named in `functions`, in that order."""
    try:
        got = ast.parse(source)
        want = ast.parse(expected)
    except SyntaxError as e:
        raise InternalError(f"the generated module does not parse ({e.msg}, line {e.lineno})") from None
    names = []
    for node in want.body:
        if isinstance(node, ast.Import) and all(a.name in IMPORTS for a in node.names):
            continue
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
            continue
        raise InternalError(f"the generated module would hold a top-level {type(node).__name__} statement")
    if names != functions:
        raise InternalError(f"the generated module would define {names}, not {functions}")
    if _dump(got) != _dump(want):
        raise InternalError("the generated module holds statements flatgen did not render "
                            "(a comment or name that became code); nothing was written")


def _dump(tree: ast.Module) -> str:
    """The tree's text, docstrings as Black leaves them (re-indented): compared modulo that."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                first.value.value = inspect.cleandoc(first.value.value).strip()
    return ast.dump(tree)
