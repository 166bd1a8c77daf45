"""The decorator's object: the user's function, plus its generated module."""

from __future__ import annotations

import functools
import linecache
import os
import types
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import interpret
from .errors import ShapeError, UsageError, guard
from .fence import check_function
from .files import write_atomic
from .parse import load_function
from .pipeline import Options, floats, generate, shapes_of
from .trace import UNROLL


class Flat:
    """`@flatgen.flat`: calling it still runs the user's own function."""

    @guard
    def __init__(self, fn, wrt=None, out=None, name=None, example=None, shapes=None, math=None, style="lecture",
                 free=False, unroll=UNROLL):
        """`example`: arguments (or their shapes' owners) to specialise to; `shapes`: {param: shape}.

        Without either, parameters are scalars (or what their annotations say) until the first call of
        value_and_grad with arrays, which specialises the module to those shapes.
        """
        functools.update_wrapper(self, fn)
        self.fn = fn
        if isinstance(wrt, str):
            wrt = (wrt,)
        self._src, self._node = load_function(fn)
        self._params = [a.arg for a in self._node.args.posonlyargs + self._node.args.args]
        if example is not None:
            if len(example) != len(self._params):
                raise UsageError(f"example= has {len(example)} value(s); {fn.__name__}() takes {len(self._params)}")
            shapes = shapes_of(self._params, example)
            if math is None and floats(example):
                math = True
        elif shapes is not None:
            shapes = tuple((k, None if v is None else tuple(v)) for k, v in dict(shapes).items())
        self.options = Options(wrt=tuple(wrt) if wrt is not None else None, out=_shown_dir(out), name=name,
                               shapes=shapes, math=math, style=style, free=free, unroll=unroll)
        self._by_shapes: dict = {}  # shapes of the first call -> Generated (without shapes given)
        self._modules: dict = {}  # Generated -> its compiled module
        check_function(self._src, self._node)  # what the subset refuses is refused now, whatever the shapes
        try:
            self._generated = self._base = generate(self._src, self._node, self.options)
        except ShapeError:
            if shapes is not None or all(a.annotation is not None for a in self._node.args.args):
                raise  # the shapes were all given: nothing to wait for
            # Traced with assumed (scalar) shapes, it failed on them: array code (`@`, `if v.ndim == 1:`)
            # waits for the first call's shapes; a real error shows again then, with those shapes.
            self._generated = self._base = None
        if out is not None:
            self._keep_fresh(Path(out))

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def generated(self):
        if self._generated is None:
            raise ShapeError(
                f"{self.fn.__name__}() needs the shapes of its arrays",
                hint="call .value_and_grad(...) with arrays first, or give them: flatgen.flat(f, example=(...))",
            )
        return self._generated

    @property
    def graph(self):
        """The forward graph; str() prints one equation per line."""
        return self.generated.graph

    @property
    def grad_graph(self):
        """The gradient graph: the forward equations, then the adjoint equations."""
        return self.generated.grad_graph

    @property
    @guard
    def source(self) -> str:
        """The generated module's text (for the shapes it was last specialised to)."""
        return self.generated.source

    @property
    @guard
    def module(self) -> types.ModuleType:
        """The generated module, compiled under a synthetic file name that tracebacks can show."""
        g = self.generated
        if g not in self._modules:
            filename = f"<flatgen {g.target}>"
            text = g.source
            linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
            module = types.ModuleType(g.module_name)
            module.__file__ = filename
            exec(compile(text, filename, "exec"), module.__dict__)
            self._modules[g] = module
        return self._modules[g]

    def value_and_grad(self, *args, seed=None):
        """(value, (gradients...)) from the generated module.

        Without shapes given, the first call with arrays specialises the module to their shapes
        (`.source` then shows that module); later calls with other shapes specialise again.
        """
        self._prepare(args)
        vg = getattr(self.module, f"{self.generated.graph.name}_value_and_grad")
        if seed is None:
            return vg(*args)
        n = len(self.generated.graph.outs)
        if n == 1 or len(seed) != n:
            raise UsageError(f"seed= gives one upstream gradient per output; {self.fn.__name__}() has {n} output(s)")
        return vg(*args, seed)

    def _prepare(self, args) -> None:
        """Check the arguments, then pick the module for them (unless shapes were given)."""
        self._check_args(args)
        if self.options.shapes is None:
            self._specialise(args)

    def _check_args(self, args) -> None:
        """Bad input gets a clear message here, not a numpy error from deep inside the module."""
        name = self.fn.__name__
        if len(args) != len(self._params):
            raise UsageError(f"{name}() takes {len(self._params)} argument(s) ({', '.join(self._params)}), "
                             f"got {len(args)}")
        ints = {p.hint for p in self._generated.graph.ints} if self._generated is not None else set()
        for p, a in zip(self._params, args):
            if p in ints and (not isinstance(a, (int, np.integer)) or isinstance(a, bool)):
                raise UsageError(f"argument {p} of {name}() is a loop count (a range() bound): pass an int, "
                                 f"got {a!r}")
            try:
                kind = np.asarray(a).dtype.kind
            except (TypeError, ValueError):  # ragged lists and the like
                kind = "O"
            if kind not in "biuf":
                raise UsageError(f"argument {p} of {name}() must be a real number or an array of them, "
                                 f"got {type(a).__name__}" + (f" of dtype {np.asarray(a).dtype}" if kind != "O" else ""))

    @guard
    def _specialise(self, args) -> None:
        """Pick (or make) the module for these arguments: Python floats get the math module,
        arrays a module specialised to their shapes, numpy scalars the default one."""
        shapes = shapes_of(self._params, args)
        scalar = all(shape == () for _, shape in shapes)
        use_math = self.options.math if self.options.math is not None else (scalar and floats(args))
        if scalar and self._base is not None and use_math == self._base.grad_graph.math:
            self._generated = self._base
            return
        key = (None if scalar else shapes, use_math)
        if key not in self._by_shapes:
            self._by_shapes[key] = generate(self._src, self._node, replace(self.options, shapes=key[0], math=use_math))
        self._generated = self._by_shapes[key]

    def grad(self, *args, seed=None):
        """The gradients only, from the generated module."""
        return self.value_and_grad(*args, seed=seed)[1]

    def interpret(self, *args, seed=None):
        """(value, (gradients...)) from flatgen's own interpreter (the reference, not the generated code)."""
        self._prepare(args)
        g = self.generated
        return interpret.value_and_grad(g.graph, args, g.wrt, seed)

    @guard
    def write(self, out="generated") -> Path:
        """Write the module into the folder `out` (atomically); returns its path."""
        path = Path(out) / f"{self.generated.module_name}.py"
        write_atomic(path, self.source)
        return path

    def _keep_fresh(self, out: Path) -> None:
        """With `out=`: refresh the written module when stale; with FLATGEN_CHECK=1, raise instead."""
        path = out / f"{self.generated.module_name}.py"
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
                hint=f"run: {self.generated.command}",
            )
        write_atomic(path, self.source)

    def __repr__(self):
        return f"<flatgen.flat {self._src.file}:{self._node.name}>"


def _shown_dir(out) -> str:
    if out is None:
        return "generated"
    return Path(out).as_posix().rstrip("/") or "."


