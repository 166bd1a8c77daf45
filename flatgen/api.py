"""The decorator's object: the user's function, plus its generated module."""

from __future__ import annotations

import functools
import linecache
import os
import sys
import types
from functools import cached_property
from pathlib import Path

from . import interpret
from .errors import FlatgenError, UsageError, guard
from .files import write_atomic
from .parse import load_function
from .pipeline import Options, generate


class Flat:
    """`@flatgen.flat`: calling it still runs the user's own function."""

    @guard
    def __init__(self, fn, wrt=None, out=None, name=None):
        functools.update_wrapper(self, fn)
        self.fn = fn
        if isinstance(wrt, str):
            wrt = (wrt,)
        src, node = load_function(fn)
        opts = Options(wrt=tuple(wrt) if wrt is not None else None, out=_shown_dir(out), name=name)
        self._generated = generate(src, node, opts)
        if out is not None:
            self._keep_fresh(Path(out))

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def graph(self):
        """The forward graph; str() prints one equation per line."""
        return self._generated.graph

    @property
    def grad_graph(self):
        """The gradient graph: the forward equations, then the adjoint equations."""
        return self._generated.grad_graph

    @cached_property
    @guard
    def source(self) -> str:
        """The generated module's text."""
        return self._generated.source

    @cached_property
    @guard
    def module(self) -> types.ModuleType:
        """The generated module, compiled under a synthetic file name that tracebacks can show."""
        g = self._generated
        filename = f"<flatgen {g.target}>"
        text = self.source
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        module = types.ModuleType(g.module_name)
        module.__file__ = filename
        exec(compile(text, filename, "exec"), module.__dict__)
        return module

    def value_and_grad(self, *args):
        """(value, (gradients...)) from the generated module."""
        return getattr(self.module, f"{self._generated.graph.name}_value_and_grad")(*args)

    def grad(self, *args):
        """The gradients only, from the generated module."""
        return self.value_and_grad(*args)[1]

    def interpret(self, *args):
        """(value, (gradients...)) from flatgen's own interpreter (the reference, not the generated code)."""
        g = self._generated
        return interpret.value_and_grad(g.graph, args, g.wrt)

    @guard
    def write(self, out="generated") -> Path:
        """Write the module into the folder `out` (atomically); returns its path."""
        path = Path(out) / f"{self._generated.module_name}.py"
        write_atomic(path, self.source)
        return path

    def _keep_fresh(self, out: Path) -> None:
        """With `out=`: refresh the written module when stale; with FLATGEN_CHECK=1, raise instead."""
        path = out / f"{self._generated.module_name}.py"
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current == self.source:
            return
        if os.environ.get("FLATGEN_CHECK") == "1":
            state = "missing" if current is None else "stale"
            raise UsageError(
                f"{path} is {state} (FLATGEN_CHECK=1 forbids writing it)",
                hint=f"run: {self._generated.command}",
            )
        write_atomic(path, self.source)

    def __repr__(self):
        return f"<flatgen.flat {self._generated.target}>"


def _shown_dir(out) -> str:
    if out is None:
        return "generated"
    return Path(out).as_posix().rstrip("/") or "."


