"""Safety: no user text becomes code in a generated module.

Two lines of defence.  First, every text that reaches a comment or the header (statement text,
names, paths, options) goes through `one_line`, which escapes anything that could end the comment:
a newline, a carriage return, any character `str.isprintable` rejects.  Second, before a module is
written, compiled or compared, `check_module` compiles the formatted text and compares its code with
the code of what the renderer meant to write, built from the statements alone (every comment left
out, the header too): a comment that leaked a line of code, whatever the path, adds code the expected
module does not have.  A mismatch is a flatgen bug (InternalError, exit 3), never a module
on disk.
"""

from __future__ import annotations

import inspect
import re
from types import CodeType

from .errors import InternalError

# The names a generated module binds at its top level besides its functions: math, numpy and their aliases.
_ALIAS = re.compile(r"(math|numpy|np)(_\d+)?")


def one_line(text: str) -> str:
    """`text` as one printable line: non-printable characters (newlines, carriage returns, form
    feeds, NUL, U+2028, ...) become their backslash escapes; everything printable stays as it is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def is_comment(line: str) -> bool:
    return line.lstrip("\x00 ").startswith("#")


def check_module(source: str, expected: str, functions: list[str]) -> None:
    """Raise InternalError unless `source` compiles to exactly the code of `expected` (the rendered
    module without its comments), whose top level defines the functions named in `functions`, in
    that order, and imports only math and numpy.

    Compiled, not parsed into Python's ast objects: compiling is several times faster on large
    modules, and the bytecode is what runs.  Black changes layout, never bytecode (docstrings, which
    it re-indents, are compared cleaned)."""
    try:
        got = compile(source, "<generated>", "exec", dont_inherit=True)
        want = compile(expected, "<expected>", "exec", dont_inherit=True)
    except SyntaxError as e:
        raise InternalError(f"the generated module does not compile ({e.msg}, line {e.lineno})") from None
    defined = [c.co_name for c in want.co_consts if isinstance(c, CodeType)]
    if defined != functions:
        raise InternalError(f"the generated module would define {defined}, not {functions}")
    imported = set(want.co_names) - set(functions)  # the modules, and their aliases (np, np_1 beside a user's np)
    if not all(_ALIAS.fullmatch(name) for name in imported):
        raise InternalError(f"the generated module would bind {sorted(imported)} at its top level")
    if not _same(got, want):
        raise InternalError("the generated module holds statements flatgen did not render "
                            "(a comment or name that became code); nothing was written")


def _same(a: CodeType, b: CodeType) -> bool:
    """The same code: instructions, names, and constants (nested functions compared alike)."""
    if (a.co_code, a.co_names, a.co_varnames, a.co_name, a.co_argcount, a.co_kwonlyargcount, a.co_flags) != (
            b.co_code, b.co_names, b.co_varnames, b.co_name, b.co_argcount, b.co_kwonlyargcount, b.co_flags):
        return False
    if len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, CodeType) and isinstance(y, CodeType):
            if not _same(x, y):
                return False
        elif isinstance(x, str) and isinstance(y, str):
            if inspect.cleandoc(x).strip() != inspect.cleandoc(y).strip():
                return False
        elif type(x) is not type(y) or (x != y and not (x != x and y != y)):  # nan == nan here
            return False
    return True
