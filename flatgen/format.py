"""Format: Black is the formatter of record for every generated module, without paying for it.

Black formats generated straight-line code at about 500 lines a second.  So the renderer emits
code that Black would leave as it is (statement patterns formatted by Black once each, filled with
names), and Black sees only the module's skeleton (header, signatures, docstrings, checks, returns)
and the few statements it might still change (lines over the limit, marked by the renderer).  The
result is byte-identical to black.format_str of the whole module; tests/test_format.py checks that
on every example and on fuzzed programs.
"""

from __future__ import annotations

import re
from itertools import compress
from operator import methodcaller, not_

from .errors import InternalError

LINE_LENGTH = 88
UNSTABLE = "\x00"  # a statement line the renderer could not vouch for: Black formats it
BODY = re.compile(r"^( *)# flatgen-body-(\d+)$", re.M)
HEADER = re.compile(r"^ *(if (not )?\w+|else):$")
_MARK_AND_BLANK = UNSTABLE + " "  # what precedes a comment entry's #: its mark and its indent


def _black(text: str, line_length: int = LINE_LENGTH) -> str:
    import black  # imported here: `import flatgen` stays fast

    try:
        return black.format_str(text, mode=black.Mode(line_length=line_length))
    except black.InvalidInput as e:
        numbered = "\n".join(f"{i:4} | {line}" for i, line in enumerate(text.splitlines(), 1))
        raise InternalError(
            f"the generated module is not valid Python ({e}); this is a flatgen bug, please report it "
            f"with the rendered source:\n{numbered}"
        ) from None


def format_source(text: str) -> str:
    """Black on a whole module: the reference the fast path must match."""
    return _black(text)


def format_snippet(text: str) -> str:
    """Black's rendering of one expression or a few statements, on one line each (no wrapping)."""
    return _black(text, line_length=10**9).rstrip("\n")


def assemble(skeleton: str, bodies: list[list[str]]) -> str:
    """The module before formatting: each body marker replaced by its lines (marks removed)."""
    def body(m):
        indent = m.group(1)
        return "\n".join(indent + line.lstrip(UNSTABLE) if line else "" for line in bodies[int(m.group(2))])

    return BODY.sub(body, skeleton)


def format_module(skeleton: str, bodies: list[list[str]], plain_skeleton: str | None = None):
    """Black(skeleton), the bodies spliced in; Black again only for the lines it may change.

    With `plain_skeleton` (the skeleton without its comments): (module, expected), where `expected` is
    the plain skeleton with the same bodies spliced in, every comment entry left out (an entry, before
    it is split into lines: what safety.check_module holds the module to)."""
    formatted = _black(skeleton)
    indents = {int(m.group(2)): m.group(1) for m in BODY.finditer(formatted)}
    lines_out: list[list[str]] = []
    todo: list[tuple[int, int, str]] = []  # (body, line index, statement) for Black
    for b, lines in enumerate(bodies):
        indent = indents[b]
        room = LINE_LENGTH - len(indent)
        long = list(compress(lines, map(room.__lt__, map(len, lines))))  # the lines over the limit
        if lines and "" not in lines and all(HEADER.match(line) for line in compress(long, map(not_, _comments(long)))):
            joined = _indented_lines(indent, lines)  # no line Black would change, no blank line: as below,
            if UNSTABLE not in joined:                   # in one join
                lines_out.append(joined)
                continue
        out = []
        for line in lines:
            # Black never wraps a comment, nor an `if name:` / `else:` header
            if line.startswith(UNSTABLE) or (len(line) > room and not (line.lstrip().startswith("#")
                                                                        or HEADER.match(line))):
                todo.append((b, len(out), line.lstrip(UNSTABLE)))
                out.append(None)
            else:
                out.append(indent + line if line else "")
        lines_out.append(out)
    # One Black call per depth for all of them: each statement in a function of its own. A statement
    # nested deeper (inside an `if`) is formatted with less room, then indented: Black's own result there.
    by_depth: dict[int, list] = {}
    for b, k, stmt in todo:
        extra = len(stmt) - len(stmt.lstrip(" "))
        by_depth.setdefault(extra, []).append((b, k, stmt[extra:]))
    for extra, items in by_depth.items():
        chunks = [f"def _{i}():\n{indents[b]}{stmt}\n" for i, (b, _, stmt) in enumerate(items)]
        done = _black("\n\n".join(chunks), line_length=LINE_LENGTH - extra)
        parts = re.split(r"^def _(\d+)\(\):\n", done, flags=re.M)[1:]
        for (b, k, _), text in zip(items, parts[1::2]):
            lines_out[b][k] = "\n".join(" " * extra + line if line else line for line in text.strip("\n").split("\n"))
    text = BODY.sub(lambda m: _joined(lines_out[int(m.group(2))]), formatted)
    if plain_skeleton is None:
        return text
    plain = [_without_comments(out, body, indents[b]) for b, (out, body) in enumerate(zip(lines_out, bodies))]
    return text, BODY.sub(lambda m: plain[int(m.group(2))], _black(plain_skeleton))


def _without_comments(out: list[str] | str, body: list[str], indent: str) -> str:
    """A body's formatted text with every comment entry left out (`out`: its lines, or its text when
    it was joined in one piece, then each entry is its line)."""
    if type(out) is str:
        return _indented_lines(indent, [entry for entry in body if entry.lstrip(" ")[:1] != "#"])
    return "\n".join(line for line, entry in zip(out, body) if entry.lstrip(_MARK_AND_BLANK)[:1] != "#")


def _comments(lines: list[str]):
    """For each line, whether it is a comment (`line.lstrip().startswith("#")`), looped over in C."""
    return map(_HASH, map(str.lstrip, lines))


_HASH = methodcaller("startswith", "#")


def _indented_lines(indent: str, lines: list[str]) -> str:
    """The lines, each indented, one text: "\n".join(indent + line for line in lines), in one join."""
    return indent + f"\n{indent}".join(lines) if lines else ""


def _joined(lines: list[str] | str) -> str:
    return lines if type(lines) is str else "\n".join(lines)
