"""The decorator's object: the user's function, plus its generated module."""

from __future__ import annotations

import collections
import functools
import linecache
import os
import threading
import types
from dataclasses import replace
from pathlib import Path

import numpy as np

from . import interpret
from .errors import NameResolutionError, ShapeError, UsageError, guard
from .fence import check_function
from .files import compare, write_atomic
from .parse import load_function
from .pipeline import Options, check_out, floats, generate, shapes_of
from .layers import pair_names
from .trace import UNROLL, dicts, lists
from .vjp import check_seed, seed_hint


# The decorator's options (flatgen.flat(fn, **options)).
OPTIONS = ("wrt", "out", "name", "example", "shapes", "math", "style", "free", "unroll", "form")


class Flat:
    """`@flatgen.flat`: calling it still runs the user's own function."""

    @guard
    def __init__(self, fn, wrt=None, out=None, name=None, example=None, shapes=None, math=None, style="lecture",
                 free=False, unroll=UNROLL, form="value_and_grad"):
        """`example`: arguments (or their shapes' owners) to specialise to; `shapes`: {param: shape}.

        Without either, parameters are scalars (or what their annotations say) until the first call of
        value_and_grad with arrays, which specialises the module to those shapes.
        """
        functools.update_wrapper(self, fn)
        self.fn = fn
        if isinstance(wrt, str):
            wrt = (wrt,)
        if wrt is not None and not (isinstance(wrt, (list, tuple)) and all(isinstance(w, str) for w in wrt)):
            raise UsageError(f"wrt= names parameters, got {wrt!r:.80}", hint='wrt="w" or wrt=("w", "b")')
        self._src, self._node = load_function(fn)
        if fn.__code__.co_freevars:  # what the fence refuses is said first, then the closure
            check_function(self._src, self._node)
            raise NameResolutionError(
                f"{fn.__name__}() is a closure: it reads {', '.join(fn.__code__.co_freevars)} from the function "
                "that made it, which flatgen, reading the source, cannot see", self._src.loc(self._node),
                "define it at module level and pass those values as parameters")
        self._lock = threading.RLock()  # the caches below, shared by the threads calling this function
        self._generated = None
        self._params = [a.arg for a in self._node.args.posonlyargs + self._node.args.args]
        if example is not None:
            if not isinstance(example, (list, tuple)) or len(example) != len(self._params):
                raise UsageError(f"example= takes one value per parameter of {fn.__name__}() "
                                 f"({', '.join(self._params)}), got {example!r:.80}",
                                 hint="example=(1.0, np.zeros((2, 3)), ...)")
            example = self._check_args(tuple(example), "example value")
            shapes = dicts.shapes_of(self._params, example, shapes_of)  # a dict of arrays: its keys' shapes
            if math is None and floats(example):
                math = True
        elif shapes is not None:
            shapes = _shapes_option(shapes)
        wrt = dicts.wrt(tuple(wrt), shapes) if wrt is not None else None  # a dict parameter: its keys' parameters
        self.options = Options(wrt=wrt, out=_shown_dir(out), name=name,
                               shapes=shapes, math=math, style=style, free=free, unroll=unroll, form=form)
        self._by_shapes: dict = {}  # shapes of the first call -> Generated (without shapes given)
        self._modules: dict = {}  # Generated -> its compiled module
        self._forms: dict = {}  # (Generated, form) -> the Generated of the other form (flatgen/layers.py)
        self._cache_types: dict = {}  # layer-form Generated -> the named tuple of its cache
        self._cache_of: dict = {}  # and back
        try:
            self._generated = self._base = generate(self._src, self._node, self.options)
        except ShapeError:
            if shapes is not None or all(a.annotation is not None for a in self._node.args.args):
                raise  # the shapes were all given: nothing to wait for
            # Traced with assumed (scalar) shapes, it failed on them: array code (`@`, `if v.ndim == 1:`)
            # waits for the first call's shapes; a real error shows again then, with those shapes.
            self._generated = self._base = None
        if self._base is not None:
            self._check_live(self._base)
        if out is not None:
            self._keep_fresh(Path(out))

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    @property
    def generated(self):
        """The Generated last specialised; in a notebook, refused once a name it read was bound again
        (so `.source`, `.module`, `.graph`, `.draw()` and the display never show a stale module)."""
        if self._src.notebook:
            self._src.check_fresh(self.fn.__globals__, self.fn.__name__)
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
        return self._module_of(self.generated)

    def _module_of(self, g) -> types.ModuleType:
        with self._lock:
            if g not in self._modules:
                filename = f"<flatgen {g.target}>"
                text = g.source
                linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
                module = types.ModuleType(g.module_name)
                module.__file__ = filename
                exec(compile(text, filename, "exec"), module.__dict__)
                self._modules[g] = module
            return self._modules[g]

    def value_and_grad(self, *args, seed=None, **by_name):
        """(value, (gradients...)) from the generated module.

        Without shapes given, the first call with arrays specialises the module to their shapes
        (`.source` then shows that module); later calls with other shapes specialise again.  Lists
        and tuples are arrays, as numpy functions take them (np.asarray).  Safe to call from several
        threads: each call uses the module made for its own arguments.
        """
        _positional(self.fn.__name__, by_name)
        args, g = self._prepare(args)
        g = self._of_form(g, "value_and_grad")
        vg = getattr(self._module_of(g), f"{g.graph.name}_value_and_grad")
        seed = self._upstream(g, seed)
        flat = dicts.flat(args)  # a dict parameter: its values, one parameter each (trace/dicts.py)
        return self._packed(g, args, vg(*flat) if seed is None else vg(*flat, seed))

    def _packed(self, g, args, result):
        """Each dict parameter's gradients as a dict with its keys (trace/dicts.py); outputs returned in
        lists or nested tuples in them again (trace/lists.py)."""
        structure = getattr(g.graph, "structure", None)
        if structure is not None:
            result = (lists.rebuild(structure, result[0]), result[1])
        return dicts.packed(result, args, self._params, self.options.wrt, {p.hint for p in g.graph.ints})

    def _upstream(self, g, seed):
        """seed= checked (flatgen/vjp.py): required for an array output, refused for a lone scalar's."""
        if g.grad_graph.seed is None and g.options.form != "layer":  # a lone scalar output: its seed is 1.0
            return seed if seed is None else _seed(self.fn.__name__, seed, 1)
        return check_seed(self.fn.__name__, g.graph, seed)

    @guard
    def forward(self, *args):
        """(out, cache) from the generated <name>_forward (the layer form, flatgen/layers.py): `cache`
        holds exactly what the backward pass reads, as a named tuple of the generated module's names."""
        args, g = self._prepare(args)
        name = self.fn.__name__
        if any(isinstance(a, dict) for a in args) or getattr(g.graph, "structure", None) is not None:
            raise UsageError(f"{name}.forward() takes arrays and returns a flat output (or a flat tuple): "
                             f"{name}() takes a dict or returns lists", hint=f"use {name}.value_and_grad(...) "
                             "for dict parameters and nested outputs, or the generated module's functions")
        g = self._of_form(g, "layer")
        out, cache = getattr(self._module_of(g), pair_names(g.graph.name)[0])(*args)
        return out, self._cache_type(g)(*cache)

    @guard
    def backward(self, dout, cache):
        """The gradients (in wrt order) from the generated <name>_backward: `dout` is the upstream
        gradient of the output (of its shape; a tuple for several outputs), `cache` what .forward returned."""
        with self._lock:
            g = self._cache_of.get(type(cache))
        if g is None:  # a plain tuple: the module last specialised
            g = self._of_form(self.generated, "layer")
        name = self.fn.__name__
        fields = g.rendered.cache
        if not isinstance(cache, tuple) or len(cache) != len(fields):
            raise UsageError(f"{name}.backward() takes the cache {name}.forward() returned, a tuple of "
                             f"{len(fields)} ({', '.join(fields)}), got {type(cache).__name__}"
                             + (f" of {len(cache)}" if isinstance(cache, tuple) else ""),
                             hint=f"out, cache = {name}.forward(...); grads = {name}.backward(dout, cache)")
        if dout is None:
            raise UsageError(f"{name}.backward() needs dout, the upstream gradient of the output",
                             hint=f"{seed_hint(g.graph).replace('seed=', 'dout = ')} (1.0 for a loss)")
        dout = check_seed(name, g.graph, dout, what="dout")
        return getattr(self._module_of(g), pair_names(g.graph.name)[1])(dout, cache)

    def _of_form(self, g, form: str):
        """The Generated of this form (the module's functions) for the same function and shapes."""
        if g.options.form == form:
            return g
        with self._lock:
            if (g, form) not in self._forms:
                self._forms[(g, form)] = generate(self._src, self._node, replace(g.options, form=form))
            return self._forms[(g, form)]

    def _cache_type(self, g):
        """The named tuple .forward returns the cache as (fields: the generated module's names)."""
        with self._lock:
            kind = self._cache_types.get(g)
            if kind is None:
                kind = collections.namedtuple(f"{g.graph.name}_cache", g.rendered.cache, rename=True)
                self._cache_types[g] = kind
                self._cache_of[kind] = g
            return kind

    def _prepare(self, args) -> tuple:
        """(the arguments checked, lists and tuples as arrays; the Generated for them)."""
        args = self._check_args(args)
        if self._src.notebook:  # a helper or constant of another cell may have changed since
            self._src.check_fresh(self.fn.__globals__, self.fn.__name__)
        if self.options.shapes is None:
            return args, self._specialise(args)
        return args, self.generated

    def _check_args(self, args, what: str = "argument") -> tuple:
        """Bad input gets a clear message here, not a numpy error from deep inside the module; a list
        or tuple becomes an array (np.asarray), in the interpreter and the generated module alike."""
        name = self.fn.__name__
        if len(args) != len(self._params):
            raise UsageError(f"{name}() takes {len(self._params)} argument(s) ({', '.join(self._params)}), "
                             f"got {len(args)}")
        base = self._generated
        ints = {p.hint: p.shape for p in base.graph.ints} if base is not None else {}
        out = []
        for p, a in zip(self._params, args):
            if isinstance(a, dict) and p in dicts.dict_params(self._node, self._src.functions):  # trace/dicts.py
                out.append(dicts.checked(a, p, name, what))
                continue
            if ints.get(p) == () and (not isinstance(a, (int, np.integer)) or isinstance(a, bool)):
                raise UsageError(f"{what} {p} of {name}() is a loop count (a range() bound): pass an int, "
                                 f"got {a!r:.80}")
            try:
                array = np.asarray(a)
                kind = array.dtype.kind
            except (TypeError, ValueError):  # ragged lists and the like
                kind = "O"
            if kind in "biuf" and array.ndim > 32:
                raise UsageError(f"{what} {p} of {name}() has {array.ndim} dimensions; flatgen takes at most 32")
            if kind not in "biuf":
                raise UsageError(f"{what} {p} of {name}() must be a real number or an array of them, "
                                 f"got {type(a).__name__}" + (f" of dtype {array.dtype}" if kind != "O" else ""))
            if ints.get(p, ()) != () and kind not in "iu":  # labels: x[np.arange(N), y]
                raise UsageError(f"{what} {p} of {name}() is used as an index: pass an array of integers, "
                                 f"got {a!r:.80}")
            out.append(array if isinstance(a, (list, tuple)) else a)
        return tuple(out)

    @guard
    def _specialise(self, args):
        """The Generated for these arguments (made on first need): Python floats get the math
        module, arrays a module specialised to their shapes, numpy scalars the default one.  The
        last one picked is what `.source` and `.module` show."""
        shapes = dicts.shapes_of(self._params, args, shapes_of)  # a dict of arrays: its keys' shapes
        scalar = all(shape == () for _, shape in shapes)
        use_math = self.options.math if self.options.math is not None else (scalar and floats(args))
        if scalar and self._base is not None and use_math == self._base.grad_graph.math:
            self._generated = self._base
            return self._base
        key = (None if scalar else shapes, use_math)
        with self._lock:
            if key not in self._by_shapes:
                made = generate(self._src, self._node, replace(self.options, shapes=key[0], math=use_math,
                                                               wrt=dicts.wrt(self.options.wrt, key[0])))
                self._check_live(made)  # once per module made, not on every call
                self._by_shapes[key] = made
        self._generated = g = self._by_shapes[key]
        return g

    def _check_live(self, g) -> None:
        """flatgen reads the module's source; the running module may differ (a constant set through
        globals(), setattr or exec, a file edited since import): every constant it read must be what
        the function sees now, or the module would compute another function."""
        live = self.fn.__globals__
        for name, value in g.constants.items():
            if name in live and not _same_number(live[name], value):
                raise UsageError(
                    f"module-level `{name}` is {value!r} in {self._src.file} but {live[name]!r:.60} in the running "
                    f"module (set at run time, or the file was edited since it was imported)",
                    hint="give the constant its value in the source, once; or pass it as a parameter")

    def grad(self, *args, seed=None, **by_name):
        """The gradients only, from the generated module."""
        return self.value_and_grad(*args, seed=seed, **by_name)[1]

    @guard
    def jvp(self, *args, tangents, **by_name):
        """(value, tangent): forward mode, from the generated <name>_jvp.  `tangents`: the direction, one
        per differentiated parameter (wrt order), of its shape; the tangent is the directional derivative."""
        _positional(self.fn.__name__, by_name)
        from .modes import jvp

        return jvp(self, args, tangents)

    @guard
    def hvp(self, *args, vectors, **by_name):
        """The Hessian times `vectors` (one block per differentiated parameter, of its shape), as blocks of
        the parameters' shapes: forward mode over the gradient, from the generated <name>_hvp."""
        _positional(self.fn.__name__, by_name)
        from .modes import hvp

        return hvp(self, args, vectors)

    @guard
    def hessian(self, *args, **by_name):
        """The dense Hessian over the flattened parameters (wrt order), from one Hessian-vector product per
        unit vector: for small inputs (flatgen.hvp.HESSIAN_LIMIT numbers); use .hvp above that."""
        _positional(self.fn.__name__, by_name)
        from .modes import dense_hessian

        return dense_hessian(self, args)

    @guard
    def jacobian(self, *args, **by_name):
        """The Jacobian, an (m, n) matrix: the m numbers of the outputs (flattened) by the n numbers of the
        differentiated parameters (flattened, wrt order).  Forward mode when n <= m (n JVPs, a column each,
        from <name>_jvp); reverse mode otherwise (m vector-Jacobian products, a row each, from
        <name>_value_and_grad)."""
        _positional(self.fn.__name__, by_name)
        from .modes import jacobian

        return jacobian(self, args)

    def interpret(self, *args, seed=None, **by_name):
        """(value, (gradients...)) from flatgen's own interpreter (the reference, not the generated code)."""
        _positional(self.fn.__name__, by_name)
        args, g = self._prepare(args)
        seed = self._upstream(self._of_form(g, "value_and_grad"), seed)
        return self._packed(g, args, interpret.value_and_grad(g.graph, dicts.flat(args), g.wrt, seed))

    @guard
    def write(self, out="generated") -> Path:
        """Write the module into the folder `out` (atomically); returns its path."""
        out = _shown_dir(out)  # None: the default folder
        check_out(out, "write()'s folder")
        if self._src.notebook:
            self._src.check_fresh(self.fn.__globals__, self.fn.__name__)
        path = Path(out) / f"{self.generated.module_name}.py"
        write_atomic(path, self.source)
        return path

    def _keep_fresh(self, out: Path) -> None:
        """With `out=`: refresh the written module when stale; with FLATGEN_CHECK=1, raise instead."""
        path = out / f"{self.generated.module_name}.py"
        report = compare(path, self.source, str(path))
        if report is None:
            return
        if os.environ.get("FLATGEN_CHECK") == "1":
            state = "missing" if report.startswith("MISSING") else "stale"
            raise UsageError(
                f"{path} is {state} (FLATGEN_CHECK=1 forbids writing it)",
                hint=f"run: {self.generated.command}",
            )
        write_atomic(path, self.source)

    @guard
    def explain(self, *args, seed=None, digits=4, **by_name):
        """The lecture's table at these arguments: one row per gate, in backward order (flatgen/explain.py);
        `seed`: an array output's upstream gradient (default: ones of its shape, as the table says)."""
        from .explain import explain
        from .teaching import prepared

        return explain(*prepared(self, "explain", args, by_name, seed, digits), digits=digits)

    @guard
    def draw(self, *args, seed=None, digits=3, **by_name):
        """The circuit as SVG, with its values and gradients at these arguments, if any (flatgen/draw.py)."""
        from .draw import draw
        from .teaching import prepared

        return draw(*prepared(self, "draw", args, by_name, seed, digits), digits=digits)

    def _repr_html_(self):  # a notebook shows the generated module, highlighted
        from .teaching import module_html

        return module_html(self)

    def _repr_markdown_(self):
        from .teaching import module_markdown

        return module_markdown(self)

    def __repr__(self):
        return f"<flatgen.flat {self._src.file}:{self._node.name}>"


def _shapes_option(shapes) -> tuple:
    """shapes= as Options holds it, checked: {param: (sizes...) or None}."""
    hint = 'shapes={"W": (2, 3), "x": (3,), "c": ()}   # () is a scalar, None an array of any shape'
    if not isinstance(shapes, dict):
        raise UsageError(f"shapes= must map parameter names to shapes, got {shapes!r:.80}", hint=hint)
    out = []
    for k, v in shapes.items():
        if v is not None:
            ok = isinstance(v, (list, tuple)) and all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in v)
            if not ok:
                raise UsageError(f"shapes= gives {k!r} the shape {v!r:.80}, not a tuple of sizes", hint=hint)
            v = tuple(int(n) for n in v)
        if not isinstance(k, str):
            raise UsageError(f"shapes= keys are parameter names, got {k!r:.80}", hint=hint)
        out.append((k, v))
    return tuple(out)


def _shown_dir(out) -> str:
    if out is None:
        return "generated"
    if not isinstance(out, (str, os.PathLike)):
        raise UsageError(f"out= is a folder path, got {out!r:.80}", hint='out="generated"')
    return Path(out).as_posix().rstrip("/") or "."


def _same_number(a, b) -> bool:
    try:
        return type(a) in (int, float, bool) and (a == b or (a != a and b != b))
    except Exception:  # noqa: BLE001 - an object with a strange __eq__ is not the number flatgen read
        return False


def _positional(name: str, by_name: dict) -> None:
    if by_name:
        raise UsageError(f"{name}()'s generated functions take their arguments by position, got "
                         f"{', '.join(f'{k}=' for k in by_name)}", hint=f"call {name}.value_and_grad(a, b, ...)")


def _seed(name: str, seed, n: int) -> tuple:
    """seed= checked: one upstream gradient (a number or an array) per output of several."""
    if n == 1:
        raise UsageError(f"seed= gives one upstream gradient per output; {name}() has one output",
                         hint="leave seed= out: the gradient of a single output")
    ok = isinstance(seed, (tuple, list)) and len(seed) == n
    for s in seed if ok else ():
        try:
            ok = ok and np.asarray(s).dtype.kind in "biuf"
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise UsageError(f"seed= gives one upstream gradient per output (a number or an array each); {name}() has "
                         f"{n} outputs, got {seed!r:.80}", hint=f"seed=({', '.join(['1.0'] + ['0.0'] * (n - 1))})")
    return tuple(seed)
