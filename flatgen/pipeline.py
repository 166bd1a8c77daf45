"""The driver: the whole pipeline, in order, in one place.

    parse -> fence -> trace -> reverse -> simplify (style "compact") -> render -> format -> check

parse.py finds and reads the source; fence.py refuses what the subset does not allow; the trace
package builds the forward graph; reverse.py (with tapes.py) appends the adjoint equations;
simplify.py runs the passes of the chosen style (none for "lecture", the slide as it is); render.py
writes the module with the Jinja2 templates; format.py hands it to Black; safety.py checks that the
module holds exactly the statements rendered.  `verbose` prints the IR after each stage.
"""

from __future__ import annotations

import ast
import keyword
import re
import shlex
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from . import __version__
from .errors import FlatgenError, UsageError
from .fence import check_function
from .format import format_module
from .graph import Graph, Var
from .parse import Source, paused_gc, source_hash
from .render import Header, Rendered, render_module
from .safety import check_module
from .reverse import reverse
from .simplify import PASSES, simplify
from .trace import UNROLL, Tracer
from .vjp import takes_seed

DEFAULT_OUT = "generated"
FORMS = ("value_and_grad", "layer")  # Options.form


@dataclass(frozen=True)
class Options:
    wrt: tuple[str, ...] | None = None  # parameters to differentiate (default: all)
    out: str = DEFAULT_OUT  # where the module is written (and what the header's command says)
    name: str | None = None  # module name (default: <file stem>_<function>)
    # parameter shapes the module is specialised to: ((name, shape), ...); a shape is a tuple of ints,
    # or None for an array of unknown shape.  Unlisted parameters: from annotations, else scalars.
    shapes: tuple[tuple[str, tuple | None], ...] | None = None
    # plain Python floats: math.exp and float arithmetic (numpy scalars cost 6-8x); None: decide from
    # annotations (every parameter `float` or `int`)
    math: bool | None = None
    style: str = "lecture"  # or "compact": the simplification passes of flatgen/simplify.py
    free: bool = False  # `del` each array once nothing after needs it (lower peak memory)
    unroll: int = UNROLL  # constant loops of at most this many iterations are unrolled (0: keep every loop)
    # what the module holds: "value_and_grad" (<name> and <name>_value_and_grad), or "layer" (the course's
    # pair <name>_forward returning (out, cache) and <name>_backward(dout, cache): flatgen/layers.py)
    form: str = "value_and_grad"
    jvp: bool = False  # also <name>_jvp: forward mode (flatgen/jvp.py)
    hvp: bool = False  # also <name>_hvp: Hessian-vector products, forward over reverse (flatgen/hvp.py)

    def shape_dict(self) -> dict:
        return dict(self.shapes or ())


@dataclass(eq=False)
class Generated:
    """One target's generated module: its graphs now, its text on first use."""

    target: str  # file.py:function, as the header shows it
    graph: Graph  # forward graph
    grad_graph: Graph  # forward + backward
    wrt: list[Var]
    digest: str
    options: Options = field(default_factory=Options)
    constants: dict = field(default_factory=dict)  # module constants read from the source: name -> value
    notebook: bool = False  # a function of a notebook's cells (flatgen/notebook.py): no file to name

    @cached_property
    def module_name(self) -> str:
        if self.options.name:
            return self.options.name
        file, _, func = self.target.rpartition(":")
        if self.notebook and func.isascii() and func not in RESERVED:  # write() in a notebook: neuron.py
            return func
        stem = re.sub(r"\W", "_", file.rsplit("/", 1)[-1].removesuffix(".py"), flags=re.ASCII)
        return f"{stem}_{func}"

    @cached_property
    def command(self) -> str:
        if self.notebook:  # no file for the command line to read: the notebook writes it again
            func = self.target.rpartition(":")[2]
            return f"run the notebook, then {func}.write({self.options.out!r})"
        cmd = ["flatgen", "generate", self.target, "--out", self.options.out]
        if self.options.wrt is not None:
            cmd += ["--wrt", ",".join(self.options.wrt)]
        if self.options.name:
            cmd += ["--name", self.options.name]
        for name, shape in self.options.shapes or ():
            cmd += ["--shape", f"{name}={'?' if shape is None else ','.join(map(str, shape))}"]
        if self.options.math:
            cmd += ["--math"]
        if self.options.style != "lecture":
            cmd += ["--style", self.options.style]
        if self.options.free:
            cmd += ["--free"]
        if self.options.unroll != UNROLL:
            cmd += ["--unroll", str(self.options.unroll)]
        if self.options.form != "value_and_grad":
            cmd += ["--form", self.options.form]
        cmd += [f"--{m}" for m in ("jvp", "hvp") if getattr(self.options, m)]
        return shlex.join(cmd)

    @cached_property
    def tangent_graphs(self) -> list:
        """(kind, function name, graph) of the forward-mode functions the options ask for."""
        from .hvp import hvp_graph
        from .jvp import jvp_graph

        name, out = self.grad_graph.name, []
        if self.options.jvp:
            forward = simplify(self.graph, self.options.style)
            outs = list(forward.outs)
            out.append(("jvp", f"{name}_jvp", jvp_graph(forward, self.wrt, outs, outs)))
        if self.options.hvp:
            out.append(("hvp", f"{name}_hvp", hvp_graph(self.grad_graph, self.wrt)))
        return out

    @cached_property
    def rendered(self) -> Rendered:
        """The module before formatting (format.assemble(skeleton, bodies) is its unformatted text)."""
        forward = simplify(self.graph, self.options.style)  # the value function: what the value needs
        header = Header(__version__, self.target, self.digest, self.command)
        with paused_gc(), deep_recursion():
            extra = self.tangent_graphs
            if extra:  # forward mode's functions added to the module (flatgen/jvp_render.py)
                from .jvp_render import extend

                return render_module(forward, self.grad_graph, header, free=self.options.free, form=self.options.form,
                                     also=tuple(g for _, _, g in extra), extend=extend(extra))
            return render_module(forward, self.grad_graph, header, free=self.options.free, form=self.options.form)

    @cached_property
    def source(self) -> str:
        """The formatted module, checked to hold exactly the statements flatgen rendered."""
        r = self.rendered
        with paused_gc(), deep_recursion():
            text, expected = format_module(r.skeleton, r.bodies, r.plain_skeleton)
            check_module(text, expected, r.plain_skeleton, r.functions)
        return text


@contextmanager
def deep_recursion(limit: int = 12000):
    """Python parses `x + x + ... + x` with hundreds of terms; walking (and printing) that tree takes
    a few Python frames per term, past the default limit of 1,000."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def generate(src: Source, fn: ast.FunctionDef, options: Options = Options(), verbose: bool = False) -> Generated:
    with paused_gc(), deep_recursion():
        try:
            return _generate(src, fn, options, verbose)
        except RecursionError:
            raise FlatgenError(f"{fn.name}() is nested too deeply for flatgen to walk", src.loc(fn),
                               "split long expressions into several assignments") from None


def _generate(src: Source, fn: ast.FunctionDef, options: Options, verbose: bool) -> Generated:
    log = (lambda stage, text: print(f"--- {stage} ---\n{text}", file=sys.stderr)) if verbose else (lambda *a: None)
    target = f"{src.file}:{fn.name}"
    if not target.isprintable():
        raise UsageError(f"the target {target!r} has non-printable characters", hint="rename the file")
    if not (isinstance(options.unroll, int) and not isinstance(options.unroll, bool) and options.unroll >= 0):
        raise UsageError(f"unroll must be a whole number of iterations, got {options.unroll!r}",
                         hint=f"unroll=0 keeps every loop a loop; the default {UNROLL} unrolls short constant loops")
    check_out(options.out)
    if options.wrt is not None and not all(isinstance(w, str) for w in options.wrt):
        raise UsageError(f"wrt must name parameters, got {options.wrt!r:.80}", hint='wrt=("w", "b")')
    if (options.jvp or options.hvp) and options.form != "value_and_grad":
        raise UsageError("--jvp and --hvp add functions to the value_and_grad form's module",
                         hint="drop --form layer, or generate the layer pair and the forward-mode functions apart")
    for flag in ("math", "free", "jvp", "hvp"):
        if getattr(options, flag) not in ((None, True, False) if flag == "math" else (True, False)):
            raise UsageError(f"{flag} must be True or False, got {getattr(options, flag)!r:.80}")
    if options.name is not None:
        check_name(options.name)
    if options.form not in FORMS:
        raise UsageError(f"unknown form {options.form!r}", hint=f"forms: {', '.join(FORMS)}")
    check_function(src, fn)  # fence
    tracer = Tracer(src, options.unroll)
    shapes = param_shapes(fn, options)
    given = options.shape_dict()
    assumed = {a.arg for a in fn.args.posonlyargs + fn.args.args if a.arg not in given and a.annotation is None}
    graph = tracer.trace(fn, shapes, assumed)  # trace
    # plain floats all the way: a function that builds arrays (np.zeros) keeps numpy
    graph.math = math_mode(fn, options, shapes) and all(e.out.shape == () for e in graph.eqns)
    if options.style not in PASSES:
        raise UsageError(f"unknown style {options.style!r}", hint=f"styles: {', '.join(PASSES)}")
    log("forward graph", graph)
    wrt = select_wrt(graph, options.wrt)
    grad = reverse(graph, wrt, seeded=takes_seed(graph, layer=options.form == "layer"))  # reverse
    log("gradient graph", grad)
    if options.style != "lecture":
        grad = simplify(grad, options.style)  # simplify
        log(f"gradient graph, {options.style}", grad)
    # render + format happen on first use of .source: `show` prints the module, `generate` writes it
    return Generated(target, graph, grad, wrt, source_hash(tracer.hashed), options, tracer.names.constants,
                     notebook=src.notebook)


def check_name(name, what: str = "the module name") -> None:
    """A module name is a Python identifier (and so a file name inside the output folder, no path)."""
    # ASCII: Python normalises identifiers (a fullwidth `ｍodel` imports `model.py`)
    if not (isinstance(name, str) and name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
            and name not in RESERVED):
        raise UsageError(f"{what} must be an ASCII Python identifier (the module's name), got {name!r}",
                         hint="letters, digits and underscores, not starting with a digit, and not "
                              f"{', '.join(sorted(RESERVED))}: name = \"model_grad\"")


# Module names that would shadow what generated modules (or packages) import.
RESERVED = {"numpy", "math", "flatgen", "__init__", "__main__", "builtins"}


def check_out(out, what: str = "the output folder") -> None:
    """The output folder's path is written into the module's header: one printable line."""
    if not (isinstance(out, str) and out and out.isprintable()):
        raise UsageError(f"{what} must be a folder path on one printable line, got {out!r}",
                         hint='e.g. out = "generated"')


def param_shapes(fn: ast.FunctionDef, options: Options) -> dict:
    """Each parameter's shape: given (example=, shapes), else from its annotation, else a scalar.

    `x: float` / `x: int` is a scalar; `x: np.ndarray` an array of unknown shape (generic code);
    `W: "(2, 2)"` (a string holding a shape) an array of that shape.
    """
    given = options.shape_dict()
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    unknown = set(given) - set(params)
    if unknown:
        raise UsageError(f"shapes given for {', '.join(sorted(unknown))}, not a parameter of {fn.name}()",
                         hint=f"parameters: {', '.join(params)}")
    shapes = {}
    for a in fn.args.posonlyargs + fn.args.args:
        if a.arg in given:
            shapes[a.arg] = given[a.arg]
        elif isinstance(a.annotation, ast.Constant) and isinstance(a.annotation.value, str):
            shapes[a.arg] = _shape_annotation(a.annotation.value, a.arg, fn.name)
        elif a.annotation is not None and ast.unparse(a.annotation).split(".")[-1] in ("ndarray", "ArrayLike"):
            shapes[a.arg] = None
        else:
            shapes[a.arg] = ()
    return shapes


def _shape_annotation(text: str, param: str, fn: str) -> tuple:
    try:
        value = ast.literal_eval(text.strip() or "()")
    except (ValueError, SyntaxError):
        value = None
    value = (value,) if isinstance(value, int) and not isinstance(value, bool) else value
    if not (isinstance(value, tuple) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value)):
        raise UsageError(f"the annotation {text!r} of {param} in {fn}() is not a shape",
                         hint='annotate a shape as a string holding a tuple of sizes: W: "(2, 2)", x: "(3,)"')
    return value


def math_mode(fn: ast.FunctionDef, options: Options, shapes: dict) -> bool:
    """Plain-float code when asked, or when every parameter is annotated float or int (and, checked
    after tracing, every value is a scalar)."""
    if options.math is not None:
        if options.math and any(s != () for s in shapes.values()):
            raise UsageError(f"math mode is for scalar parameters; {fn.name}() has arrays",
                             hint="drop --math (math = true), or the array shapes")
        return options.math
    args = fn.args.posonlyargs + fn.args.args
    return bool(args) and all(a.annotation is not None and ast.unparse(a.annotation) in ("float", "int") for a in args)


def floats(values) -> bool:
    """Are these plain Python numbers (not numpy scalars or arrays)?"""
    return all(type(v) in (float, int) for v in values)


def shapes_of(names: list[str], values) -> tuple:
    """Options.shapes from example values, in parameter order."""
    import numpy as np

    return tuple((n, tuple(int(d) for d in np.shape(v))) for n, v in zip(names, values))


def select_wrt(graph: Graph, wrt: tuple[str, ...] | None) -> list[Var]:
    by_name = {p.hint: p for p in graph.params}
    if wrt is None:  # every parameter but the integers (loop bounds)
        return [p for p in graph.params if p not in graph.ints]
    unknown = [w for w in wrt if w not in by_name]
    if unknown:
        raise UsageError(
            f"wrt names {', '.join(unknown)}, which {'is' if len(unknown) == 1 else 'are'} "
            f"not a parameter of {graph.name}()",
            hint=f"parameters: {', '.join(by_name) or 'none'}",
        )
    if len(set(wrt)) != len(wrt):
        raise UsageError(f"wrt lists a parameter twice: {', '.join(wrt)}", hint="name each parameter once")
    ints = [w for w in wrt if by_name[w] in graph.ints]
    if ints:
        raise UsageError(f"{', '.join(ints)} {'is an integer' if len(ints) == 1 else 'are integers'} (a loop bound "
                         f"or an index) in {graph.name}(): no gradient", hint="leave it out of wrt")
    return [by_name[w] for w in wrt]
