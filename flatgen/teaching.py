"""Teaching: what the decorator and the command line add for lectures (explain, draw, notebooks).

The decorator's methods and the `explain` and `graph` commands meet here: the function's lecture-style
module for the given arguments, the arguments themselves read from `--at x=-2,y=5,z=-4`, and the
notebook's views of the generated module.  explain.py makes the table; draw.py the picture.
"""

from __future__ import annotations

import ast
import html
import sys
from dataclasses import replace

from .errors import UsageError
from .pipeline import Options, floats, generate, shapes_of


def lecture(g, src, node):
    """The Generated in lecture style (the graph the tables and pictures follow): `g`, or made anew."""
    return g if g.options.style == "lecture" else generate(src, node, replace(g.options, style="lecture"))


# -- the decorator ---------------------------------------------------------------------------------


def prepared(flat, method: str, args: tuple, by_name: dict, seed, digits) -> tuple:
    """(the Generated, the arguments checked, the seed checked) for flat.explain / flat.draw; draw()
    without arguments: (the Generated, None, None), the graph alone.

    The seed is checked as value_and_grad checks it (flatgen/vjp.py): the upstream gradient of an
    array output, or one per output of several; None lets the table and the picture use ones of the
    output's shape (numbers.default_seeds), which the table says."""
    from .trace import dicts
    from .vjp import check_seed

    name = flat.fn.__name__
    check_digits(digits, "digits=")
    if by_name:
        params = ", ".join(flat._params)
        raise UsageError(f"{name}.{method}() takes the arguments by position ({params}), got "
                         f"{', '.join(f'{k}=' for k in by_name)}", hint=f"{name}.{method}({params})")
    if not args and method == "draw":
        if seed is not None:
            raise UsageError(f"{name}.draw(seed=...) needs the arguments too: without them it draws the graph alone",
                             hint=f"{name}.draw({', '.join(flat._params)}, seed=...)")
        return lecture(flat.generated, flat._src, flat._node), None, None
    args, g = flat._prepare(args)
    g = flat._of_form(g, "value_and_grad")
    if seed is not None:
        if g.grad_graph.seed is None:  # a lone number: its upstream gradient is 1.0
            raise UsageError(f"seed= is the upstream gradient of an array output (or of several); {name}() "
                             "returns one number", hint="leave seed= out: the gradient of a single number")
        seed = check_seed(name, g.graph, seed)
    return lecture(g, flat._src, flat._node), dicts.flat(args), seed  # a dict parameter: one per key


def check_digits(digits, what: str = "--digits") -> int:
    """Significant digits shown: an int from 1 to 17 (what a float64 holds), from the API as from the CLI."""
    if not (isinstance(digits, int) and not isinstance(digits, bool) and 1 <= digits <= 17):
        raise UsageError(f"{what} takes an int from 1 to 17, got {digits!r:.40}", hint=f"{what.rstrip('=')}=4")
    return digits


def module_html(flat) -> str:
    """The generated module, highlighted (with Pygments when it is there, else plain), for a notebook."""
    text, note = _module_text(flat)
    head = f"<p><code>{html.escape(repr(flat))}</code>{html.escape(note)}</p>"
    if not text:
        return head
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - IPython brings Pygments
        return head + f"<pre>{html.escape(text)}</pre>"
    return head + highlight(text, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))


def module_markdown(flat) -> str:
    """The module as Markdown: the object's repr as a code span and the note as text, both escaped (a
    path may hold backticks, `<`, newlines), then the module in a fence longer than any run of
    backticks in it."""
    text, note = _module_text(flat)
    head = markdown_code(repr(flat)) + markdown_text(note)
    if not text:
        return head + "\n"
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{head}\n\n{fence}python\n{text}{fence}\n"


def markdown_code(text: str) -> str:
    """`text` as a Markdown code span: on one printable line, between backtick runs longer than any in
    it (inside a code span Markdown reads no HTML and no markup)."""
    import re

    from .safety import one_line

    text = one_line(text)
    ticks = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    return f"{ticks} {text} {ticks}"


def markdown_text(text: str) -> str:
    """`text` as Markdown that shows as itself: one printable line, every ASCII punctuation
    character backslash-escaped (so no `<`, `*`, `[` or backtick is markup)."""
    from .safety import one_line

    return "".join(f"\\{c}" if c.isascii() and not c.isalnum() and c.isprintable() and c != " " else c
                   for c in one_line(text))


def _module_text(flat) -> tuple[str, str]:
    from .errors import FlatgenError

    try:
        return flat.source, ""
    except FlatgenError as e:  # waiting for the shapes of its arrays, or stale: say so, do not fail the display
        return "", f": {e.message}"


# -- the command line ------------------------------------------------------------------------------

EXAMPLES = {
    "explain": """examples:
  flatgen explain examples/lecture.py:circuit --at x=-2,y=5,z=-4
  flatgen explain examples/lecture.py:neuron --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  flatgen explain model.py:loss --at "W=[[1,2],[3,4]],x=[1,0]" --html > table.html
  flatgen explain model.py:layer --at "x=[1,2],w=3" --seed "[1,-1]"   # default: ones of the output's shape

One row per gate, in backward order: the source line, the gate and its pattern, the forward value,
the upstream gradient, and for each input the local gradient and the downstream gradient.""",
    "graph": """examples:
  flatgen graph examples/lecture.py:circuit --at x=-2,y=5,z=-4 -o circuit.svg
  flatgen graph examples/lecture.py:neuron -o neuron.svg          # the graph alone, without values
  flatgen graph examples/lecture.py:neuron --format dot -o neuron.dot
  flatgen graph model.py:loss --shape W=2,3 --shape x=3 -o loss.svg    # array code, without values
  flatgen graph model.py:layer --at "x=[1,2],w=3" --seed "[1,-1]"    # an array output's upstream gradient

The circuit as SVG, written by flatgen itself (no Graphviz needed): forward values above each wire
(green), gradients below (red).  Without -o (or with -o -) the picture goes to stdout; -o takes .svg,
.dot or .gv files and replaces only a regular file flatgen wrote.""",
    "gates": """examples:
  flatgen gates                          # every gate flatgen knows
  flatgen gates mul max np.exp           # by row, gate label or call
  flatgen gates --html > gates.html

One row per row of the primitive table: its forward expression, the calls that mean it, the gate and
its pattern (distributor, swap multiplier, router, adder, ...), and the gradient each input receives
(g is the upstream gradient, out the output).  --html adds the comment generated code writes for it.""",
}


def add_commands(sub, formatter) -> None:
    """The `explain`, `graph` and `gates` subcommands, on the parser's subparsers."""
    helps = {"explain": "print the lecture's table for a function at given arguments, gate by gate",
             "graph": "draw a function's circuit (SVG, or Graphviz text), with its values when --at is given"}
    for name in ("explain", "graph"):
        p = sub.add_parser(name, help=helps[name], description=helps[name], epilog=EXAMPLES[name],
                           formatter_class=formatter)
        p.add_argument("targets", nargs=1, metavar="FILE.py:FUNCTION", help="the function")
        p.add_argument("--at", action="append", metavar="NAME=VALUE,...", required=name == "explain",
                       help="the arguments, by parameter name (numbers, or nested lists for arrays)")
        p.add_argument("--seed", metavar="VALUE",
                       help="the upstream gradient of an array output (a nested list; a tuple, one each, for several "
                            "outputs); default: ones of the output's shape")
        if name == "graph":
            p.add_argument("--shape", action="append", metavar="PARAM=N,M",
                           help="without --at: a parameter's shape, for array code (repeat per parameter; "
                                "PARAM= for a scalar)")
        p.add_argument("--wrt", help="comma-separated parameters to differentiate (default: all)")
        p.add_argument("--unroll", type=int, metavar="N", help="unroll constant loops of at most N iterations")
        p.add_argument("--digits", type=int, default=4 if name == "explain" else 3,
                       help="significant digits shown")
        if name == "explain":
            p.add_argument("--html", action="store_true", help="an HTML table instead of text")
        else:
            p.add_argument("-o", "--output", metavar="FILE",
                           help="the file to write: .svg, or .dot/.gv for Graphviz text (default, or -: stdout)")
            p.add_argument("--format", choices=("svg", "dot"), help="on stdout: svg (default) or dot")
    about = "list every gate flatgen knows: forward, local gradients and pattern, from the primitive table"
    p = sub.add_parser("gates", help=about, description=about, epilog=EXAMPLES["gates"], formatter_class=formatter)
    p.add_argument("names", nargs="*", metavar="NAME", help="only these rows, gate labels or calls (mul, max, np.exp)")
    p.add_argument("--html", action="store_true", help="an HTML table instead of text")


def parse_at(items: list[str], params: list[str]) -> dict:
    """`--at x=-2,y=5 --at z=-4` -> {"x": -2, "y": 5, "z": -4}; values are numbers or nested lists of
    numbers (read with ast.literal_eval: nothing is run)."""
    values: dict = {}
    for item in items:
        for part in _split(item):
            name, eq, text = part.partition("=")
            name = name.strip()
            if not eq or not name:
                raise UsageError(f"--at {part!r} is not NAME=VALUE", hint="e.g. --at x=-2,y=5,z=-4")
            if name not in params:
                raise UsageError(f"--at names {name!r}, not a parameter", hint=f"parameters: {', '.join(params)}")
            if name in values:
                raise UsageError(f"--at gives {name} twice")
            values[name] = _number(text.strip(), f"--at {name}")
    missing = [p for p in params if p not in values]
    if missing:
        raise UsageError(f"--at gives no value for {', '.join(missing)}",
                         hint="--at " + ",".join(f"{p}=..." for p in params))
    return values


def _split(text: str) -> list[str]:
    """Split at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += ch in "[(" and 1 or (-1 if ch in "])" else 0)
        if ch == "," and depth == 0:
            parts.append(text[start:k])
            start = k + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _number(text: str, name: str):
    """`--at` or `--seed` text -> a number (int or float) or an array of floats: a Python literal
    (ast.literal_eval: nothing is run), a number or nested lists of numbers, every value finite as a
    float (1e999 is inf) and no bools.  Anything else is a UsageError naming the option."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    problem = _not_numbers(value)
    if problem is None and isinstance(value, (list, tuple)):
        import numpy as np

        try:
            value = np.asarray(value, dtype=float)
        except (ValueError, TypeError, OverflowError):
            problem = "the lists are ragged (rows of different lengths)"
        else:
            if value.ndim > 32:
                problem = f"{value.ndim} dimensions; flatgen takes at most 32"
    if problem is not None:
        raise UsageError(f"{name}={text[:40]!r}: {problem}", hint=f"{name}=1.5 or {name}=[[1,2],[3,4]]")
    return value


def _not_numbers(value, depth: int = 0) -> str | None:
    """Why `value` is not a number or nested lists of numbers (None: it is)."""
    if isinstance(value, bool):
        return "a bool is not a number here (write 1.0 or 0.0)"
    if isinstance(value, int):
        try:
            float(value)
        except OverflowError:
            return "too large for a float"
        return None
    if isinstance(value, float):
        return None
    if isinstance(value, (list, tuple)) and depth < 33:
        return next((p for p in (_not_numbers(v, depth + 1) for v in value) if p is not None), None)
    if isinstance(value, (list, tuple)):
        return "more than 32 dimensions"
    return "not a number or a list of numbers (numbers as Python writes them: -2, 1.5, 1e-3)"


def _for_args(args):
    """The Generated (lecture style) for the target, specialised to the --at values as the decorator
    would be (their shapes; plain floats: math mode), those values in parameter order (None without
    --at: the graph alone, at the --shape shapes) and the --seed checked."""
    import numpy as np

    from .parse import load_target

    src, fn = load_target(args.targets[0])
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    options = Options(wrt=tuple(w.strip() for w in args.wrt.split(",") if w.strip()) if args.wrt else None)
    if args.unroll is not None:
        options = replace(options, unroll=args.unroll)
    shapes = getattr(args, "shape", None)
    if not args.at:
        if args.seed is not None:
            raise UsageError("--seed needs --at: without values, the graph alone", hint="--at x=...,y=... --seed ...")
        if shapes:
            options = replace(options, shapes=_shapes(shapes, params))
        return _graph_alone(src, fn, options), None, None
    if shapes:
        raise UsageError("--shape is for the graph alone: with --at the values give the shapes",
                         hint="leave --shape out")
    given = parse_at(args.at, params)
    values = [given[p] for p in params]
    scalar = all(np.ndim(v) == 0 for v in values)
    options = replace(options, shapes=shapes_of(params, values), math=True if scalar and floats(values) else None)
    g = generate(src, fn, options)
    counts = {p.hint: p.shape for p in g.graph.ints}  # loop counts (shape ()) and index arrays: integers
    values = [_argument(p, given[p], counts) for p in params]
    return g, tuple(values), _seed_option(args.seed, g, fn.name)


def _argument(p: str, v, counts: dict):
    """An --at value as the parameter takes it: a loop count an int, an index array integers (each a
    whole number), anything else floats."""
    import numpy as np

    if p not in counts:
        return float(v) if isinstance(v, (int, float)) else v
    array = np.asarray(v, dtype=float)
    if not (np.all(np.isfinite(array)) and np.all(array == np.round(array)) and np.all(np.abs(array) < 2**53)):
        what = "a loop count, a whole number" if counts[p] == () else "used as an index: whole numbers"
        what += " (below 2**53)"
        raise UsageError(f"--at {p}={v!r:.40}: {p} is {what}")
    return int(array) if np.ndim(v) == 0 else array.astype(np.int64)


def _shapes(items: list[str], params: list[str]) -> tuple:
    from .cli import shapes_option

    shapes = shapes_option(items)
    for name, _ in shapes:
        if name not in params:
            raise UsageError(f"--shape names {name!r}, not a parameter", hint=f"parameters: {', '.join(params)}")
    return shapes


def _graph_alone(src, fn, options):
    """The Generated without values: at the --shape shapes, or every parameter a number (its annotation)."""
    from .errors import ShapeError

    try:
        return generate(src, fn, options)
    except ShapeError as e:
        if options.shapes is not None:
            raise
        raise ShapeError(e.message, e.loc, "array code: give the shapes, --shape W=2,3 --shape x=3 (or --at the "
                                           "values)") from None


def _seed_option(text: str | None, g, name: str):
    """--seed checked as value_and_grad's seed= is (flatgen/vjp.py); None: the table's default."""
    from .vjp import check_seed, values

    if text is None:
        return None
    if g.grad_graph.seed is None:
        raise UsageError(f"--seed is the upstream gradient of an array output (or of several); {name}() returns "
                         "one number", hint="leave --seed out: the gradient of a single number")
    outs = values(g.graph)
    n = len(outs)
    hint = "--seed " + _seed_example(outs)
    if n == 1:
        seed = _number(text, "--seed")
    else:
        try:
            items = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            items = None
        if not (isinstance(items, (list, tuple)) and len(items) == n):
            raise UsageError(f"--seed {text[:40]!r}: {name}() has {n} outputs: give a tuple of {n} upstream gradients",
                             hint=hint)
        seed = tuple(_number(repr(v), f"--seed[{k}]") for k, v in enumerate(items))
    try:
        return check_seed(name, g.graph, seed, what="--seed")
    except UsageError as e:  # its hint is the API's (seed=np.ones(...)): the command line's instead
        raise UsageError(e.message, hint=hint) from None


def _seed_example(outs) -> str:
    """A --seed value for these outputs: the first output's gradient (ones), zeros for the others."""
    import numpy as np

    def one(o, k):
        shape = o.shape or ()
        if int(np.prod(shape)) > 8:
            return f"<nested lists of shape {shape}>"
        return repr((np.ones(shape) if k == 0 else np.zeros(shape)).tolist())
    texts = [one(o, k) for k, o in enumerate(outs)]
    return f"'{texts[0]}'" if len(texts) == 1 else f"'({', '.join(texts)})'"


def cmd_explain(args) -> int:
    from .explain import explain

    g, values, seed = _for_args(args)
    table = explain(g, values, seed, digits=_digits(args))
    sys.stdout.write(table._repr_html_() + "\n" if args.html else str(table))
    return 0


def cmd_graph(args) -> int:
    from pathlib import Path

    from .draw import draw, picture_format, write_picture

    out = None if args.output in (None, "-") else Path(args.output)  # `-o -`: stdout, as without -o
    fmt = picture_format(out, args.format) if out is not None else args.format or "svg"  # before the work
    digits = _digits(args)
    g, values, seed = _for_args(args)
    picture = draw(g, values, seed, digits=digits)
    text = picture.dot if fmt == "dot" else picture.svg
    if out is None:
        sys.stdout.write(text)
    else:
        write_picture(out, text, fmt)
        print(args.output)
    return 0


def _digits(args) -> int:
    return check_digits(args.digits)


def cmd_gates(args) -> int:
    from .gatetable import gates

    table = gates(*args.names)
    sys.stdout.write(table._repr_html_() + "\n" if args.html else str(table))
    return 0


RUN = {"explain": cmd_explain, "graph": cmd_graph, "gates": cmd_gates}
