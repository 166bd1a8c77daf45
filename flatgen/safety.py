"""Safety: no user text becomes code in a generated module.

Two lines of defence.  First, every text that reaches a comment or the header (statement text,
names, paths, options) goes through `one_line`, which escapes anything that could end the comment:
a newline, a carriage return, any character `str.isprintable` rejects.  Second, before a module is
written, compiled or compared, `check_module` holds its text to the text of what the renderer meant to
write, formatted the same way but made from the statements alone (every comment left out, the header
too): a comment that leaked a line of code, whatever the path, leaves a line the expected module does
not have.  A mismatch is a flatgen bug (InternalError, exit 3), never a module
on disk.
"""

from __future__ import annotations

import ast
import re

from .errors import InternalError

# The names a generated module binds at its top level besides its functions: math, numpy and their aliases.
_ALIAS = re.compile(r"(math|numpy|np)(_\d+)?")


def one_line(text: str) -> str:
    """`text` as one printable line: non-printable characters (newlines, carriage returns, form
    feeds, NUL, U+2028, ...) become their backslash escapes; everything printable stays as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def check_module(source: str, expected: str, skeleton: str, functions: list[str]) -> None:
    """Raise InternalError unless `source` is `expected` (the same module formatted without a single
    comment) once its comment lines are left out, and the skeleton's top level imports only math and
    numpy and defines the functions named in `functions`, in that order.

    Lines are split where Python's tokenizer ends them (\\n, \\r\\n, \\r): a comment that carried one
    of those leaves a line of code behind that `expected` does not have, wherever it came from.  A
    line comparison, not a comparison of syntax trees: it is linear, and on a 170,000-line module it
    takes a small fraction of the second that parsing would."""
    try:
        tree = ast.parse(skeleton)
    except SyntaxError as e:
        raise InternalError(f"the generated module's skeleton does not parse ({e.msg}, line {e.lineno})") from None
    defined = []
    for node in tree.body:
        if isinstance(node, ast.Import) and all(_ALIAS.fullmatch(a.asname or a.name) and a.name in ("math", "numpy")
                                                for a in node.names):
            continue
        if not isinstance(node, ast.FunctionDef):
            raise InternalError(f"the generated module would hold a top-level {type(node).__name__} statement")
        defined.append(node.name)
    if defined != functions:
        raise InternalError(f"the generated module would define {defined}, not {functions}")
    if any(_CODING.match(line) for line in source.split("\n", 2)[:2]):
        raise InternalError("the generated module's first lines declare an encoding (PEP 263)")
    if code_lines(source) != code_lines(expected):
        raise InternalError("the generated module holds statements flatgen did not render "
                            "(a comment or name that became code); nothing was written")


_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")  # PEP 263's, for the first two lines


def code_lines(text: str) -> list[str]:
    """The lines that are neither blank nor comments (a line whose first non-blank character is #)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line for line in lines if (line.lstrip() or "#")[0] != "#"]  # a blank line strips to "", as a comment
