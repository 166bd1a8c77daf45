"""Functions defined in notebook cells: the source flatgen reads, built from the live namespace.

A cell is compiled from a file of its own that IPython makes up (`ipykernel_<pid>/<hash>.py`, new on
every run and after every edit), holding that cell only: its helpers, constants and imports live in
other cells.  A notebook's history is no module either: a cell edited and run again binds its names
a second time.  What the function sees is the kernel's namespace as it is now, so flatgen writes the
module it reads from that namespace, one binding per name:

- the function itself and each helper it calls that a cell defines: its own `def`, from its cell;
- a module by what it is: `import numpy as np` for `np` bound to numpy (the module imported under
  that very name, nothing that merely calls itself so);
- a function of numpy, math or flatgen (or another imported module) by where it lives:
  `from numpy import exp`;
- a number by its value: `SCALE = 0.5` (ints and floats only, printed from the value: no text of
  the user's becomes code);
- a helper's default by the value Python bound when its `def` ran (`__defaults__`): `k=SCALE` is
  written `k=0.5`, even after SCALE is bound again;
- a builtin (`max`, `range`) as absent from the namespace: a cell that binds the name later makes the
  module stale.

Anything else a function reads (an array, a string, a lambda, a closure, another name for a helper,
a decorated helper) is refused when flatgen reaches it, with what it is and what to write instead.
The module generated from it says `From: notebook:<function>`, and its source hash depends on the
code it was made from only, so two kernels running the same notebook write the same module.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import linecache
import math
import sys
import types
import warnings
from dataclasses import dataclass, field

from .errors import Loc, NameResolutionError, SourceNotFound, UsageError
from .parse import Source, _is_flat, parse_module

NOTEBOOK = "notebook"  # the file a notebook function's target names: notebook:neuron


def shell():
    """The running IPython shell, or None (IPython never imported, or no shell running)."""
    ipython = sys.modules.get("IPython")
    try:
        return ipython.get_ipython() if ipython is not None else None
    except Exception:  # noqa: BLE001 - an IPython that cannot say is no shell
        return None


def cell_label(filename: str) -> str | None:
    """`Cell In[3]` for the file IPython compiled cell 3 from (as IPython's tracebacks name it), or
    None when `filename` is no cell of the running shell."""
    ip = shell()
    cells = getattr(getattr(ip, "compile", None), "_filename_map", None)
    if not isinstance(cells, dict) or filename not in cells:
        return None
    return f"Cell In[{cells[filename]}]"


def is_cell_function(fn) -> bool:
    code = getattr(fn, "__code__", None)
    return code is not None and cell_label(code.co_filename) is not None


@dataclass(frozen=True)
class Block:
    """A function's lines in the built source, and where they came from in their cell."""

    start: int  # first line in the built source (1-based)
    lines: tuple[str, ...]  # the lines as the cell has them (before dedenting)
    label: str  # Cell In[3]
    first: int  # the line of the cell the block starts at
    indent: int  # columns taken off each line (a def nested in a block of the cell)

    def loc(self, loc: Loc) -> Loc | None:
        k = loc.line - self.start
        if not 0 <= k < len(self.lines):
            return None
        end = None if loc.end_col is None else loc.end_col + self.indent
        return Loc(self.label, self.first + k, loc.col + self.indent, end, self.lines[k])


@dataclass
class NotebookSource(Source):
    """The source of a notebook function, built from the kernel's namespace (see the module's docstring).

    Locations point into the cells (`Cell In[3]:4:9`); a name that the namespace binds to something
    flatgen cannot read is refused where the function reads it."""

    notebook = True
    blocks: list = field(default_factory=list, repr=False)
    refused: dict = field(default_factory=dict, repr=False)  # name -> (message, hint)
    read: dict = field(default_factory=dict, repr=False)  # name -> the namespace's value it was built from
    used: set = field(default_factory=set, repr=False)  # the names a trace looked up
    defs: dict = field(default_factory=dict, repr=False)  # helper name -> the text of its def
    absent: set = field(default_factory=set, repr=False)  # builtins read: names the namespace did not bind

    def loc(self, node: ast.AST) -> Loc:
        loc = super().loc(node)
        for block in self.blocks:
            found = block.loc(loc)
            if found is not None:
                return found
        return loc

    def check_bound_once(self, name: str, node: ast.AST) -> None:
        """Every module-level name a trace reads comes here first (trace/names.py)."""
        self.used.add(name)
        if name in self.refused:
            message, hint = self.refused[name]
            raise NameResolutionError(message, self.loc(node), hint)
        super().check_bound_once(name, node)

    def check_fresh(self, namespace: dict, function: str) -> None:
        """Refuse to run a module made from names a cell has bound again since (a helper edited, a
        constant changed): Python's function would see the new ones, the module has the old."""
        for name in sorted(self.absent):
            now = namespace.get(name, _MISSING)
            if now is not _MISSING and now is not getattr(builtins, name, _MISSING):
                raise UsageError(f"`{name}` is bound in the notebook now (a cell ran since {function}() was made into "
                                 f"a module): the module computes with Python's builtin {name}",
                                 hint=f"run the cell that defines {function}() again")
        for name in sorted(self.used & set(self.read)):
            now, then = namespace.get(name, _MISSING), self.read[name]
            if now is then or (type(now) is type(then) in (int, float) and _same(now, then)):
                continue
            if name in self.defs and _def_text(now, name) == self.defs[name]:  # its cell run again, unedited
                self.read[name] = now
                continue
            raise UsageError(f"`{name}` has changed in the notebook since {function}() was made into a module "
                             "(a cell run again): the module computes with the old one",
                             hint=f"run the cell that defines {function}() again")


def load_cell_function(fn) -> tuple[NotebookSource, ast.FunctionDef]:
    """A function defined in a notebook cell -> the source built for it, and the function's node."""
    return _Builder(fn).build()


class _Builder:
    """Walks from the function to every module-level name it (and each helper, in turn) reads."""

    def __init__(self, fn):
        self.fn = fn
        self.namespace = fn.__globals__
        self.functions: dict[str, tuple[list[str], Block, ast.FunctionDef]] = {}  # helpers, by name
        self.lines: dict[str, str] = {}  # name -> its import or its constant, one line
        self.refused: dict[str, tuple[str, str]] = {}
        self.absent: set[str] = set()  # builtins the code reads (not bound in the namespace)

    def build(self) -> tuple[NotebookSource, ast.FunctionDef]:
        name = self.fn.__name__
        lines, block, node, _ = _definition(self.fn, strict=False)
        todo = [node]
        seen = {name}
        while todo:
            fn = todo.pop()
            mine = _locals(fn)
            for used in _names_read(fn):
                if used not in seen:
                    seen.add(used)
                    found = self.resolve(used)
                    if found is not None:
                        todo.append(found)
                if used not in self.namespace and used not in mine and hasattr(builtins, used):
                    self.absent.add(used)  # Python's builtin, until a cell binds the name
        # The function at its own lines (so every line number in it is the cell's), then the rest.
        text = ["\n"] * (block.first - 1) + lines
        blocks = [Block(block.first, block.lines, block.label, block.first, block.indent)]
        text += ["\n"] + [self.lines[n] + "\n" for n in sorted(self.lines)]
        for helper in sorted(self.functions):
            body, where, _ = self.functions[helper]
            text.append("\n")
            blocks.append(Block(len(text) + 1, where.lines, where.label, where.first, where.indent))
            text += body
        src = parse_module("".join(text), NOTEBOOK)
        src = NotebookSource(src.file, src.text, src.tree, blocks=blocks, refused=self.refused,
                             read={n: self.namespace[n] for n in [*self.lines, *self.functions]},
                             defs={n: "".join(lines) for n, (lines, _, _) in self.functions.items()},
                             absent=self.absent)
        target = src.tree.body[0]
        assert isinstance(target, ast.FunctionDef) and target.name == name, "the function comes first"
        return src, target

    def resolve(self, name: str) -> ast.FunctionDef | None:
        """Bind `name` as the namespace binds it (a helper's node is returned: its names come next)."""
        if name not in self.namespace:
            if not hasattr(builtins, name):
                self.refuse(name, "is not defined in the notebook (yet)",
                            f"define `{name}` before the function (in a cell run earlier, or above it), "
                            "or pass it as a parameter")
            return None
        value = self.namespace[name]
        from .api import Flat

        if isinstance(value, Flat):  # a helper decorated with flatgen.flat: the function it decorates
            value = value.fn
        if isinstance(value, types.ModuleType):
            return self.module(name, value)
        if type(value) in (int, float):
            return self.number(name, value)
        if isinstance(value, types.FunctionType) and is_cell_function(value):
            return self.helper(name, value)
        line = _import_of(name, value)
        if line is not None:
            self.lines[name] = line
            return None
        kind = type(value)
        what = _type_name(value)
        hint = "pass it as a parameter"
        if isinstance(value, (int, float)) and kind is not bool:  # a subclass, such as numpy's float64
            hint = f"bind a plain number, {name} = float(...) (or int(...)), or pass it as a parameter"
        self.refuse(name, f"is {_article(what)} in the notebook; flatgen reads numbers (int, float), modules, "
                          "and functions it can read the source of", hint)
        return None

    def refuse(self, name: str, why: str, hint: str) -> None:
        self.refused[name] = (f"`{name}` {why}", hint)

    def module(self, name: str, module: types.ModuleType) -> None:
        dotted = getattr(module, "__name__", None)
        if not (_dotted_name(dotted) and sys.modules.get(dotted) is module):
            self.refuse(name, f"is a module object that is not the imported module {dotted!r:.60}",
                        "import the module: import numpy as np")
            return None
        self.lines[name] = f"import {dotted}" + ("" if name == dotted else f" as {name}")
        return None

    def number(self, name: str, value) -> None:
        text = _literal(value)  # inf is 1e999, which Python reads as inf
        if text is None:
            why = "is nan, which has no literal to read" if value != value else "is an int too large to print"
            self.refuse(name, why, "pass it as a parameter")
            return None
        self.lines[name] = f"{name} = {text}"
        return None

    def helper(self, name: str, fn) -> ast.FunctionDef | None:
        if fn.__name__ == "<lambda>":
            self.refuse(name, "is a lambda: it has no statement of its own to read", "write it as a `def` function")
            return None
        if fn.__code__.co_freevars:
            self.refuse(name, f"is a closure: it reads {', '.join(fn.__code__.co_freevars)} from the function "
                              "that made it",
                        "define it at the top level of a cell and pass those values as parameters")
            return None
        if fn.__name__ != name:
            self.refuse(name, f"is the cell function {fn.__name__}() under another name",
                        f"call {fn.__name__}() by its own name")
            return None
        try:
            lines, block, node, decorators = _definition(fn)
        except SourceNotFound as e:
            self.refuse(name, f"cannot be read: {e.message}", e.hint or "define it in a cell")
            return None
        if not all(_is_flat(d) for d in decorators):
            self.refuse(name, "is a decorated function: flatgen cannot tell what the decorator makes of it",
                        "define the helper without a decorator (flatgen.flat is fine)")
            return None
        self.functions[name] = (lines, block, node)
        return node


def _definition(fn, strict: bool = True) -> tuple[list[str], Block, ast.FunctionDef, list[ast.expr]]:
    """The `def` of a cell function (decorators left out), its lines dedented, where it is in its cell,
    its node (parsed from those lines) and its decorators.  Its defaults are the values Python bound
    when the def ran (see `_live_defaults`; `strict=False`: those it cannot write stay as written)."""
    code = fn.__code__
    label = cell_label(code.co_filename) or code.co_filename
    if fn.__name__ == "<lambda>":
        raise SourceNotFound("a lambda has no name and no statement of its own to read",
                             hint="write it as a `def` function")
    cell = linecache.getlines(code.co_filename)
    tree = parse_module("".join(cell), label).tree
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    node = next((n for n in ast.walk(tree) if isinstance(n, kinds) and n.name == fn.__name__
                 and code.co_firstlineno in [n.lineno, *(d.lineno for d in n.decorator_list)]), None)
    if node is None:
        raise SourceNotFound(f"the source of {fn.__name__}() is not in {label}",
                             hint="run the cell that defines it again")
    lines = list(cell[node.lineno - 1:node.end_lineno])
    last = lines[-1].encode()[:node.end_col_offset].decode(errors="ignore")  # what follows the def on its line
    lines[-1] = last + "\n"
    indent = node.col_offset
    if indent and not all(line[:indent].isspace() or not line.strip() for line in lines):
        raise SourceNotFound(f"{fn.__name__}() is indented inside a block of {label} in a way flatgen cannot "
                             "take apart", hint="define it at the top level of the cell")
    body = [line[indent:] if line.strip() else "\n" for line in lines]
    tree = parse_module("".join(body), label).tree
    body = _live_defaults(fn, body, tree.body[0], strict)
    tree = parse_module("".join(body), label).tree
    block = Block(node.lineno, tuple(cell[node.lineno - 1:node.end_lineno]), label, node.lineno, indent)
    return body, block, tree.body[0], node.decorator_list


def _live_defaults(fn, body: list[str], node: ast.FunctionDef, strict: bool) -> list[str]:
    """The def's lines with each default written as the value Python bound when the def ran
    (`fn.__defaults__`, `fn.__kwdefaults__`): `def helper(u, k=SCALE)` made after `SCALE = 1.0` is
    `def helper(u, k=1.0)`, whatever SCALE is now.  A plain int or float is printed from its value;
    another value stays as written when the text is a literal of it (None, True, a string); anything
    else is refused (SourceNotFound), or with `strict=False` (the decorated function's own defaults,
    which flatgen never uses) left as written.  Lines keep their count: error locations stay right."""
    a = node.args
    positional = a.posonlyargs + a.args
    live = fn.__defaults__ or ()
    kw = fn.__kwdefaults__ or {}
    pairs = list(zip(positional[len(positional) - len(a.defaults):], a.defaults, live))
    pairs += [(p, d, kw.get(p.arg, _MISSING)) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None]
    if strict and (len(live) != len(a.defaults) or set(kw) != {p.arg for p, d, _ in pairs[len(live):]}):
        raise SourceNotFound(f"the defaults of {fn.__name__}() are not those of its def (set since it ran)",
                             hint="define the helper again, or pass every argument")
    edits = []
    for p, d, value in pairs:
        text = _literal(value)
        if text is None:
            try:
                same = type(ast.literal_eval(d)) is type(value) and ast.literal_eval(d) == value
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                same = False
            if same or not strict:
                continue
            raise SourceNotFound(f"the default of its parameter `{p.arg}` is {_article(_type_name(value))}, bound "
                                 "when the def ran; flatgen reads defaults that are plain numbers (int, float)",
                                 hint=f"write a number as the default, or pass {p.arg} in every call")
        edits.append((d, text))
    lines = list(body)
    for d, text in sorted(edits, key=lambda e: (e[0].lineno, e[0].col_offset), reverse=True):
        first, last = d.lineno - 1, d.end_lineno - 1
        start = len(lines[first].encode()[:d.col_offset].decode(errors="ignore"))
        end = len(lines[last].encode()[:d.end_col_offset].decode(errors="ignore"))
        joined = lines[first][:start] + text + "\n" * (last - first) + lines[last][end:]
        lines[first:last + 1] = joined.splitlines(keepends=True)
    return lines


def _literal(value) -> str | None:
    """A plain int or float as Python reads it back (inf as 1e999); None for anything else (nan, an int
    too large to print, a bool, a numpy number, ...)."""
    if type(value) is float:
        if math.isnan(value):
            return None
        return float.__repr__(value) if math.isfinite(value) else ("1e999" if value > 0 else "-1e999")
    if type(value) is int:
        try:
            return int.__repr__(value)
        except ValueError:  # more digits than Python prints
            return None
    return None


def _locals(fn: ast.FunctionDef) -> set[str]:
    """The names a function binds itself (its parameters, what it assigns): Python never looks them up
    in the module, so a builtin's name among them is no builtin read."""
    a = fn.args
    names = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}
    for part in fn.body:
        names |= {n.id for n in ast.walk(part) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        names |= {n.name for n in ast.walk(part) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    return names


def _names_read(fn: ast.FunctionDef) -> list[str]:
    """The names a function's code mentions (its decorators left out), in order: the module-level
    ones among them are what the built source binds."""
    found = []
    for part in [fn.args, *fn.body, *([fn.returns] if fn.returns else [])]:
        found += [n.id for n in ast.walk(part) if isinstance(n, ast.Name)]
    return list(dict.fromkeys(found))


def _import_of(name: str, value) -> str | None:
    """`from numpy import exp` (as `name`) for a function that numpy, math, flatgen or the module it
    says it comes from has under that name; None when none does."""
    own = getattr(value, "__module__", None)
    for module_name in ("numpy", "math", "flatgen", own if isinstance(own, str) else None):
        module = sys.modules.get(module_name) if _dotted_name(module_name) else None
        if module is None or module_name == "__main__":
            continue
        for attr in dict.fromkeys([name, getattr(value, "__name__", None)]):
            if not (isinstance(attr, str) and attr.isidentifier() and not keyword.iskeyword(attr)):
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    same = getattr(module, attr, None) is value
            except Exception:  # noqa: BLE001 - a module's __getattr__ that fails: not there
                same = False
            if same:
                return f"from {module_name} import {attr}" + ("" if attr == name else f" as {name}")
    return None


_MISSING = object()


def _def_text(value, name: str) -> str | None:
    """The text of a cell function's def, as the built source holds it (None: no such function)."""
    from .api import Flat
    from .errors import FlatgenError

    fn = value.fn if isinstance(value, Flat) else value
    if not (isinstance(fn, types.FunctionType) and fn.__name__ == name and not fn.__code__.co_freevars
            and is_cell_function(fn)):
        return None
    try:
        return "".join(_definition(fn)[0])
    except FlatgenError:
        return None


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)


def _dotted_name(text) -> bool:
    return isinstance(text, str) and all(p.isidentifier() and not keyword.iskeyword(p) for p in text.split("."))


def _type_name(value) -> str:
    kind = type(value)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def _article(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"
