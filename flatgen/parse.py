"""Parse: find a function's source and read its module statically.

flatgen never runs the user's module to generate code: it parses the file, so generation is
deterministic, cheap, and free of the module's side effects.  The decorator and the command line
meet here: both end with a `Source` (the module's text and tree) and the function's `ast` node.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import linecache
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import FlatgenError, Loc, SourceNotFound, UsageError, loc_of


@dataclass
class Source:
    """One module, parsed: what the tracer needs to resolve names without importing it."""

    file: str  # as shown to users: relative to the project root when inside it
    text: str
    tree: ast.Module = field(repr=False)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    def loc(self, node: ast.AST) -> Loc:
        return loc_of(node, self.file, self.lines)

    @cached_property
    def functions(self) -> dict[str, ast.FunctionDef]:
        """Module-level functions by name (the helpers the tracer may inline; `async def` too, for the fence to refuse)."""
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
        return {n.name: n for n in self.tree.body if isinstance(n, kinds)}

    @cached_property
    def imports(self) -> dict[str, str]:
        """Module-level import aliases: local name -> dotted name ('np' -> 'numpy')."""
        names: dict[str, str] = {}
        for node in self.tree.body:
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        names[a.asname] = a.name
                    else:  # `import numpy.linalg` binds `numpy`
                        top = a.name.split(".")[0]
                        names[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    names[a.asname or a.name] = f"{node.module}.{a.name}"
        return names

    @cached_property
    def assignments(self) -> dict[str, list[ast.expr]]:
        """Module-level `NAME = expr` assignments; the tracer accepts those that are numeric constants."""
        found: dict[str, list[ast.expr]] = {}
        for node in self.tree.body:
            targets: list[ast.expr] = []
            value = None
            if isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                targets, value = [node.target], node.value
            elif isinstance(node, ast.AugAssign):
                targets, value = [node.target], None
            for t in targets:
                if isinstance(t, ast.Name):
                    found.setdefault(t.id, []).append(value)
        return found


def display_path(path: str | os.PathLike) -> str:
    """Paths in messages and headers: relative to the project root, so every checkout agrees."""
    p = Path(path).resolve()
    root = project_root()
    for base in (root, Path.cwd().resolve()):
        if base is not None:
            try:
                return p.relative_to(base).as_posix()
            except ValueError:
                pass
    return p.as_posix()


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: cwd) holding a pyproject.toml."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "pyproject.toml").is_file():
            return d
    return None


def parse_module(text: str, file: str) -> Source:
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as e:
        line = e.lineno or 1
        lines = text.splitlines(keepends=True)
        src_line = e.text if e.text is not None else (lines[line - 1] if line <= len(lines) else "")
        col = max((e.offset or 1) - 1, 0)
        end = (e.end_offset - 1) if e.end_offset and e.end_lineno == e.lineno else None
        raise FlatgenError(
            f"syntax error: {e.msg}",
            Loc(file, line, col, end, src_line),
            "fix the Python syntax first; flatgen reads the file with Python's own parser",
        ) from None
    return Source(file, text, tree)


def load_target(spec: str) -> tuple[Source, ast.FunctionDef]:
    """`path/to/file.py:function` -> the parsed module and the function's node."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise UsageError(
            f"target {spec!r} is not of the form file.py:function",
            hint="name a file and a function in it, e.g. examples/lecture.py:neuron",
        )
    file = Path(path)
    if not file.is_file():
        raise SourceNotFound(f"no such file: {path}", hint="the path is relative to the current folder")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SourceNotFound(f"cannot read {path}: {e}") from None
    src = parse_module(text, display_path(file))
    node = src.functions.get(name)
    if node is None:
        known = ", ".join(sorted(src.functions)) or "none"
        raise SourceNotFound(
            f"{src.file} has no module-level function {name!r}",
            hint=f"module-level functions there: {known}",
        )
    return src, node


def load_function(fn) -> tuple[Source, ast.FunctionDef]:
    """A live function object -> its module's source and the function's node.

    Functions without a readable source (lambdas, exec, the plain REPL) are refused here.
    """
    name = getattr(fn, "__name__", None)
    code = getattr(fn, "__code__", None)
    if not inspect.isfunction(fn) or code is None:
        raise UsageError(
            f"flatgen.flat takes a plain Python function, not {type(fn).__name__}",
            hint="decorate a `def` function written in flatgen's subset",
        )
    if name == "<lambda>":
        raise SourceNotFound(
            "a lambda has no name and no statement of its own to read",
            hint="write it as a `def` function in a file",
        )
    filename = code.co_filename
    linecache.checkcache(filename)  # the file may have been edited since it was last read
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise SourceNotFound(
            f"the source of {name}() cannot be read (defined in {filename!r}: exec, eval or an interactive prompt?)",
            hint="define the function in a .py file (or a notebook cell) so flatgen can read its source",
        )
    text = "".join(lines)
    file = display_path(filename) if os.path.exists(filename) else filename
    src = parse_module(text, file)
    first = code.co_firstlineno
    for node in ast.walk(src.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            starts = [node.lineno] + [d.lineno for d in node.decorator_list]
            if first in starts:
                return src, node  # an `async def` is refused by the fence, with its wording
    raise SourceNotFound(
        f"the source of {name}() in {file} does not match the running function (file edited since import?)",
        hint="reload the module, or run flatgen from the command line on file.py:function",
    )


def source_hash(parts: list[str]) -> str:
    """A short, stable digest of the sources a module is generated from."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]
