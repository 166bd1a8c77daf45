"""Gradient checks users run, the way course notebooks check their layers.

`gradcheck(f, *args, seed=None)` compares the generated gradients of `f` (a `flatgen.flat` function, or
a plain one) with central differences of `f` itself, in float64: per element, the relative error
|a - n| / (|a| + |n|), and the worst element named.  For an array output the comparison is of the
vector-Jacobian product for the upstream gradient `seed` (random, seeded, when not given): the
differences are of sum(seed * f(x)).

`gradcheck_file(generated)` is the pytest file `flatgen generate --with-test` writes beside a module: the
same check, at the shapes the module was made for, needing only numpy and the module itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import UsageError
from .format import format_source
from .render import environment
from .safety import code_lines

STEP = 1e-5  # h = STEP * max(1, |x|), as the course's eval_numerical_gradient
TOL = 1e-6  # the largest relative error a check passes with
EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class GradCheck:
    """What `gradcheck` found: the largest relative error of each differentiated parameter, and the
    worst element of all (its name, the generated gradient there and the central difference)."""

    errors: dict  # parameter -> its largest relative error
    worst: str  # "W[2, 1]"
    analytic: float
    numeric: float
    error: float
    tol: float

    @property
    def ok(self) -> bool:
        return self.error <= self.tol

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        each = ", ".join(f"{name} {e:.2g}" for name, e in self.errors.items())
        verdict = "ok" if self.ok else "FAILED"
        return (f"gradcheck {verdict}: largest relative error {self.error:.3g} at {self.worst} (generated "
                f"{self.analytic!r}, central differences {self.numeric!r}; tolerance {self.tol:g}); {each}")


def gradcheck(f, *args, seed=None, step: float = STEP, tol: float = TOL) -> GradCheck:
    """Check `f`'s generated gradients at `args` against central differences of `f` itself, in float64.

    `seed`: the upstream gradient of the output (of its shape; a tuple for several outputs); by default
    1.0 for a scalar output, and for an array output a random one (numpy's default_rng(0)).  The
    gradients checked are those of the module `f` writes: its backward pass when made with
    form="layer", its value_and_grad otherwise.  Returns a GradCheck (true when it passed)."""
    from .api import Flat
    from .vjp import check_seed, values

    if not isinstance(f, Flat):
        if not callable(f):
            raise UsageError(f"gradcheck() checks a function, got {type(f).__name__}", hint="gradcheck(f, x, w)")
        f = Flat(f)
    if not (isinstance(step, float) and 0.0 < step < 1.0 and isinstance(tol, (int, float)) and tol >= 0):
        raise UsageError(f"gradcheck() takes a step in (0, 1) and a tolerance >= 0, got step={step!r}, tol={tol!r}")
    name = f.fn.__name__
    prepared, g = f._prepare(args)
    outs = values(g.graph)
    ints = {p.hint for p in g.graph.ints}
    args = tuple(a if p.hint in ints else np.asarray(a, dtype=np.float64) if np.ndim(a) else float(a)
                 for p, a in zip(g.graph.params, prepared))
    layer = g.options.form == "layer"
    if seed is None and (layer or len(outs) > 1 or np.shape(f.fn(*args)) != ()):
        rng = np.random.default_rng(0)
        values_now = f.fn(*args)
        values_now = values_now if len(outs) > 1 else (values_now,)
        drawn = [float(rng.standard_normal()) if np.shape(v) == () else rng.standard_normal(np.shape(v))
                 for v in values_now]
        seed = tuple(drawn) if len(outs) > 1 else drawn[0]
    if layer:
        seed = 1.0 if seed is None else check_seed(name, g.graph, seed)
        analytic = f.backward(seed, f.forward(*args)[1])
    else:
        analytic = f.grad(*args, seed=seed)
    weights = (1.0,) if seed is None else (seed if len(outs) > 1 else (seed,))

    def weighted(a):
        out = f.fn(*a)
        return sum(float(np.sum(np.asarray(w, dtype=np.float64) * o))
                   for w, o in zip(weights, out if len(outs) > 1 else (out,)))

    now = f.fn(*args)
    scale = sum(float(np.sum(np.abs(np.asarray(w, dtype=np.float64) * o)))
                for w, o in zip(weights, now if len(outs) > 1 else (now,)))
    index = {p.hint: k for k, p in enumerate(g.graph.params)}
    errors, worst = {}, (-1.0, "", 0.0, 0.0)
    for p, a in zip(g.wrt, analytic):
        k = index[p.hint]
        x = np.array(args[k], dtype=np.float64)
        largest = 0.0
        for idx in np.ndindex(x.shape):
            h = step * max(1.0, abs(float(x[idx])))
            xu, xd = x.copy(), x.copy()
            xu[idx] += h
            xd[idx] -= h
            up, down = list(args), list(args)
            up[k], down[k] = (xu, xd) if x.ndim else (float(xu), float(xd))
            n = (weighted(up) - weighted(down)) / float(xu[idx] - xd[idx])
            got = float(np.asarray(a, dtype=np.float64)[idx])
            floor = max(1e-10, 100 * EPS * scale / h)  # what differences of rounded values resolve
            error = abs(got - n) / max(abs(got) + abs(n), floor)
            largest = max(largest, error)
            if error > worst[0]:
                worst = (error, f"{p.hint}[{', '.join(map(str, idx))}]" if idx else p.hint, got, n)
        errors[p.hint] = largest
    error, where, got, n = worst
    return GradCheck(errors, where, got, n, max(error, 0.0), float(tol))


# -- the test file beside a module -----------------------------------------------------------------------------


def gradcheck_file(generated) -> str:
    """The pytest file for `generated` (a pipeline.Generated): checked like a module (safety.py): its code
    is the same with the header's comments left out."""
    from .layers import pair_names
    from . import __version__

    g = generated.grad_graph
    graph = generated.graph
    target = generated.target
    unknown = [p.hint for p in graph.params if p.shape is None]
    if unknown:
        raise UsageError(f"--with-test draws arrays of the module's shapes; {target} has no shape for "
                         f"{', '.join(unknown)}", hint="give the shapes: --shape x=4,3")
    if graph.ints:
        ints = ", ".join(p.hint for p in graph.ints)
        raise UsageError(f"--with-test draws random arrays; {ints} of {target} must be an integer (a loop bound "
                         "or an index), which it cannot draw", hint="check that module with flatgen.gradcheck")
    from .vjp import values

    forward, backward = pair_names(graph.name)
    context = dict(
        module=generated.module_name,
        params=[p.hint for p in graph.params],
        shapes="{" + ", ".join(f"{p.hint!r}: {p.shape!r}" for p in graph.params) + "}",
        wrt=repr(tuple(p.hint for p in generated.wrt)),
        outputs=repr(tuple(o.shape for o in values(graph))),
        step=repr(STEP),
        tol=repr(TOL),
        layer=generated.options.form == "layer",
        seeded=g.seed is not None,
        function=graph.name,
        vg=f"{graph.name}_value_and_grad",
        forward=forward,
        backward=backward,
    )
    header = [f"Generated by flatgen {__version__}. DO NOT EDIT.",
              f"The gradient check of {generated.module_name}.py: its gradients against central differences.",
              f"From: {target}",
              f"Regenerate: {generated.command} --with-test"]
    template = environment().get_template("gradcheck_test.py.j2")
    text = format_source(template.render(header=header, **context))
    plain = format_source(template.render(header=[], **context))
    if code_lines(text) != code_lines(plain):
        from .errors import InternalError

        raise InternalError("the test file holds statements flatgen did not write (a comment that became code)")
    return text


def gradcheck_path(module_path):
    """The test file's path: test_<module>.py beside the module."""
    return module_path.with_name(f"test_{module_path.name}")
