"""Parse: find a function's source and read its module statically.

flatgen never runs the user's module to generate code: it parses the file, so generation is
deterministic, cheap, and free of the module's side effects.  The decorator and the command line
meet here: both end with a `Source` (the module's text and tree) and the function's `ast` node.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import inspect
import linecache
import os
import tokenize
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import FlatgenError, Loc, NameResolutionError, SourceNotFound, UsageError, loc_of


@dataclass
class Source:
    """One module, parsed: what the tracer needs to resolve names without importing it."""

    file: str  # as shown to users: relative to the project root when inside it
    text: str
    tree: ast.Module = field(repr=False)
    fenced: set = field(default_factory=set, repr=False)  # (id(function node), helper) the fence passed
    notebook = False  # built from a notebook's namespace (notebook.NotebookSource), not read from a file

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines(keepends=True)

    def loc(self, node: ast.AST) -> Loc:
        return loc_of(node, self.file, self.lines)

    @cached_property
    def functions(self) -> dict[str, ast.FunctionDef]:
        """Module-level functions by name (the helpers the tracer may inline; `async def` too, for the
        fence to refuse)."""
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


    @cached_property
    def bindings(self) -> dict[str, list[tuple[ast.AST, bool]]]:
        """Every statement that binds a module-level name, anywhere in the module: name -> [(node,
        plain)], `plain` when it is a top-level import, `NAME = ...` or undecorated `def` that flatgen
        reads statically.  Bindings inside `if`/`for`/`with`/`try`/`match`, loop and `with` targets,
        walruses, `del`, `global` in a function, class definitions and decorated helpers count too.
        A star import binds "*" (what it binds is not in the source)."""
        found: dict[str, list[tuple[ast.AST, bool]]] = {}

        def add(name, node, plain=False):
            found.setdefault(name, []).append((node, plain))

        def scope(node, top):
            """A node evaluated in the module's scope (`top`: a statement directly in the module)."""
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                plain = top and not isinstance(node, ast.ClassDef) and all(_is_flat(d) for d in node.decorator_list)
                add(node.name, node, plain)
                # evaluated in the module's scope when the statement runs: decorators, defaults,
                # annotations, a class's bases and keywords (a walrus in any of them binds a module name)
                outside = list(node.decorator_list)
                if isinstance(node, ast.ClassDef):
                    outside += node.bases + [k.value for k in node.keywords]
                else:
                    a = node.args
                    outside += a.defaults + [d for d in a.kw_defaults if d is not None] + [node.returns] + [
                        p.annotation for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if p]
                for d in outside:
                    if d is not None:
                        scope(d, False)
                for inner in _statements(node):  # `global NAME` in any function below rebinds NAME
                    if isinstance(inner, ast.Global):
                        for n in inner.names:
                            add(n, inner)
                return
            if isinstance(node, ast.Lambda):  # its defaults are the module's; its body is its own
                for d in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                    scope(d, False)
                return
            if isinstance(node, ast.AnnAssign) and node.value is None:  # `X: float` annotates, binds nothing
                return
            if isinstance(node, ast.comprehension):  # its target is the comprehension's own
                for part in [node.iter, *node.ifs]:
                    scope(part, False)
                return
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    if a.name == "*":
                        add("*", node)
                    else:
                        relative = isinstance(node, ast.ImportFrom) and node.level
                        add(a.asname or a.name.split(".")[0], node, top and not relative)
                return
            plain_target = (top and isinstance(node, (ast.Assign, ast.AnnAssign))
                            and getattr(node, "value", None) is not None)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
                    plain = plain_target and isinstance(child.ctx, ast.Store) and (
                        isinstance(node, ast.AnnAssign) or (len(node.targets) == 1 and node.targets[0] is child))
                    add(child.id, node, plain)
                elif isinstance(child, ast.NamedExpr) and isinstance(child.target, ast.Name):
                    add(child.target.id, child)
                    scope(child.value, False)
                elif isinstance(child, (ast.MatchAs, ast.MatchStar)) and child.name:
                    add(child.name, child)
                    scope(child, False)
                elif isinstance(child, ast.MatchMapping) and child.rest:
                    add(child.rest, child)
                    scope(child, False)
                elif isinstance(child, ast.ExceptHandler) and child.name:
                    add(child.name, child)
                    scope(child, False)
                elif isinstance(child, ast.stmt):
                    scope(child, False)
                elif isinstance(child, ast.AST):
                    scope(child, False)

        for node in self.tree.body:
            scope(node, True)
        return found

    def check_bound_once(self, name: str, node: ast.AST) -> None:
        """Refuse a module-level name whose value the source alone cannot tell: bound more than
        once (anywhere), bound conditionally or in a loop, or after a star import.  Python would see
        the last binding that ran; flatgen reads the source, so it reads only names bound once."""
        binds = self.bindings.get(name, [])
        star = [n for n, _ in self.bindings.get("*", []) if _star_may_bind(n, name)]
        if len(binds) == 1 and binds[0][1] and not star:
            return
        if not binds and not star:
            return  # unbound: a builtin, or an error the caller names
        if star:
            what = f"`from {star[0].module} import *` (line {star[0].lineno}) may bind it"
            hint = f"import the names you use explicitly: from {star[0].module} import ..."
        else:
            lines = ", ".join(str(getattr(n, "lineno", "?")) for n, _ in binds)
            what = (f"it is bound more than once ({len(binds)} times: lines {lines})" if len(binds) > 1
                    else f"it is bound on line {lines} by a statement flatgen does not read statically "
                         "(inside an if/for/with/try, a loop or with target, a walrus, del, global, a class, "
                         "or a decorated function)")
            hint = ("bind it once, at the top level of the module (NAME = <number>, def, import), "
                    "or pass it as a parameter")
        raise NameResolutionError(
            f"module-level `{name}` cannot be resolved from the source: {what}; Python would see "
            "whichever binding ran last", self.loc(node), hint)


def _star_may_bind(node: ast.ImportFrom, name: str) -> bool:
    """Might `from module import *` bind `name`?  For math and numpy flatgen knows what they export;
    any other module might export anything."""
    if node.module in ("math", "numpy") and not node.level:
        import importlib

        module = importlib.import_module(node.module)
        exported = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
        return name in exported
    return True


def _is_flat(decorator: ast.expr) -> bool:
    """@flat / @flatgen.flat / @flatgen.flat(...): calling the function still runs it as written."""
    d = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(d, ast.Name) and d.id == "flat") or (isinstance(d, ast.Attribute) and d.attr == "flat")


def display_path(path: str | os.PathLike) -> str:
    """Paths in messages and headers: relative to the project root, so every checkout agrees."""
    try:
        p = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop: shown as given; writing there fails with a UsageError
        return Path(path).as_posix()
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


@contextmanager
def paused_gc():
    """Generation makes many small objects and few cycles: Python's cyclic collector, rescanning a
    growing heap, would cost a quarter of the time on large functions (and grow superlinearly).
    Parsing too: a syntax tree is many small objects."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def parse_module(text: str, file: str) -> Source:
    try:
        with paused_gc():
            tree = ast.parse(text, filename=file)
    except RecursionError:  # Python's own limit on nesting while it builds the tree
        raise FlatgenError("the source is nested too deeply for Python's ast module to parse",
                           Loc(file, 1), "split long expressions into several assignments") from None
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
        with tokenize.open(file) as f:  # as Python reads source: a BOM, a `# -*- coding: ... -*-` line
            text = f.read()
    except (OSError, UnicodeError, LookupError, SyntaxError) as e:  # an undecodable file, an unknown codec
        raise SourceNotFound(f"cannot read {path}: {getattr(e, 'msg', None) or e}",
                             hint="save the file as UTF-8 (or declare its encoding as Python does)") from None
    src = parse_module(text, display_path(file))
    node = src.functions.get(name)
    if node is not None:  # what `file.py:name` means in Python: the def, unless rebound or decorated
        src.check_bound_once(name, node)
    if node is None:
        known = ", ".join(sorted(src.functions)) or "none"
        raise SourceNotFound(
            f"{src.file} has no module-level function {name!r}",
            hint=f"module-level functions there: {known}",
        )
    return src, node


def load_function(fn) -> tuple[Source, ast.FunctionDef]:
    """A live function object -> its module's source and the function's node.

    Functions without a readable source (lambdas, exec, the plain REPL) are refused here.  A function
    of a notebook cell gets a source built from the kernel's namespace (notebook.py): its cell's file
    holds that cell only, while its helpers, constants and imports are in other cells.
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
    from .notebook import is_cell_function, load_cell_function

    if is_cell_function(fn):  # its helpers, constants and imports live in other cells: see notebook.py
        return load_cell_function(fn)
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


_BODIES = ("body", "orelse", "finalbody", "handlers", "cases")


def _statements(node: ast.AST):
    """The statements under `node` (and their except handlers and match cases), in the order
    ast.walk meets them, without walking expressions: a `global` is a statement."""
    todo = deque([node])
    while todo:
        node = todo.popleft()
        yield node
        for name in _BODIES:
            inner = getattr(node, name, None)
            if type(inner) is list:
                todo.extend(inner)
