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


def prepared(flat, args: tuple, seed):
    """(the Generated, the arguments checked, the seed checked) for flat.explain / flat.draw."""
    from .api import _seed

    args, g = flat._prepare(args)
    if seed is not None:
        seed = _seed(flat.fn.__name__, seed, len(g.graph.outs))
    return lecture(g, flat._src, flat._node), args, seed


def module_html(flat) -> str:
    """The generated module, highlighted (with Pygments when it is there, else plain), for a notebook."""
    text, note = _module_text(flat)
    head = f"<p><code>{html.escape(repr(flat))}</code>{html.escape(note)}</p>"
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - IPython brings Pygments
        return head + f"<pre>{html.escape(text)}</pre>"
    return head + highlight(text, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))


def module_markdown(flat) -> str:
    text, note = _module_text(flat)
    fence = "```"
    while fence in text:
        fence += "`"
    return f"`{repr(flat)}`{note}\n\n{fence}python\n{text}{fence}\n"


def _module_text(flat) -> tuple[str, str]:
    from .errors import FlatgenError

    try:
        return flat.source, ""
    except FlatgenError as e:  # waiting for the shapes of its arrays: say so, do not fail the display
        return "", f": {e.message}"


# -- the command line ------------------------------------------------------------------------------

EXAMPLES = {
    "explain": """examples:
  flatgen explain examples/lecture.py:circuit --at x=-2,y=5,z=-4
  flatgen explain examples/lecture.py:neuron --at w0=2,x0=-1,w1=-3,x1=-2,w2=-3
  flatgen explain model.py:loss --at "W=[[1,2],[3,4]],x=[1,0]" --html > table.html

One row per gate, in backward order: the source line, the gate and its pattern, the forward value,
the upstream gradient, and for each input the local gradient and the downstream gradient.""",
    "graph": """examples:
  flatgen graph examples/lecture.py:circuit --at x=-2,y=5,z=-4 -o circuit.svg
  flatgen graph examples/lecture.py:neuron -o neuron.svg          # the graph alone, without values
  flatgen graph examples/lecture.py:neuron --format dot -o neuron.dot

The circuit as SVG, written by flatgen itself (no Graphviz needed): forward values above each wire
(green), gradients below (red).  Without -o the picture goes to stdout.""",
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
        p.add_argument("--wrt", help="comma-separated parameters to differentiate (default: all)")
        p.add_argument("--unroll", type=int, metavar="N", help="unroll constant loops of at most N iterations")
        p.add_argument("--digits", type=int, default=4 if name == "explain" else 3,
                       help="significant digits shown")
        if name == "explain":
            p.add_argument("--html", action="store_true", help="an HTML table instead of text")
        else:
            p.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: stdout)")
            p.add_argument("--format", choices=("svg", "dot"), help="svg (default; .dot and .gv files: dot)")
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
            values[name] = _number(text.strip(), name)
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
    import numpy as np

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value, dtype=float)
            ok = value.ndim <= 32
        except (ValueError, TypeError):
            ok = False
    if not ok:
        raise UsageError(f"--at {name}={text[:40]!r}: not a number or a list of numbers",
                         hint=f"--at {name}=1.5 or {name}=[[1,2],[3,4]]")
    return value


def _for_args(args):
    """The Generated (lecture style) for the target, specialised to the --at values as the decorator
    would be (their shapes; plain floats: math mode), and those values in parameter order."""
    import numpy as np

    from .errors import ShapeError
    from .parse import load_target

    src, fn = load_target(args.targets[0])
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    options = Options(wrt=tuple(w.strip() for w in args.wrt.split(",") if w.strip()) if args.wrt else None)
    if args.unroll is not None:
        options = replace(options, unroll=args.unroll)
    if not args.at:
        return generate(src, fn, options), None
    given = parse_at(args.at, params)
    try:  # which parameters are loop counts (ints); array code may need the shapes first
        ints = {p.hint for p in generate(src, fn, options).graph.ints}
    except ShapeError:
        ints = set()
    values = []
    for p in params:
        v = given[p]
        if p in ints and not (isinstance(v, int) or (isinstance(v, float) and v.is_integer())):
            raise UsageError(f"--at {p}={v!r}: {p} is a loop count, a whole number")
        values.append(int(v) if p in ints else float(v) if isinstance(v, (int, float)) else v)
    scalar = all(np.ndim(v) == 0 for v in values)
    options = replace(options, shapes=shapes_of(params, values), math=True if scalar and floats(values) else None)
    return generate(src, fn, options), tuple(values)


def cmd_explain(args) -> int:
    from .explain import explain

    g, values = _for_args(args)
    table = explain(g, values, digits=_digits(args))
    sys.stdout.write(table._repr_html_() + "\n" if args.html else str(table))
    return 0


def cmd_graph(args) -> int:
    from .draw import draw, write_picture

    g, values = _for_args(args)
    picture = draw(g, values, digits=_digits(args))
    out = args.output
    fmt = args.format or ("dot" if out and out.lower().endswith((".dot", ".gv")) else "svg")
    text = picture.dot if fmt == "dot" else picture.svg
    if out is None:
        sys.stdout.write(text)
    else:
        from pathlib import Path

        write_picture(Path(out), text, fmt)
        print(out)
    return 0


def _digits(args) -> int:
    if not 1 <= args.digits <= 17:
        raise UsageError(f"--digits takes 1 to 17, got {args.digits}")
    return args.digits


def cmd_gates(args) -> int:
    from .gatetable import gates

    table = gates(*args.names)
    sys.stdout.write(table._repr_html_() + "\n" if args.html else str(table))
    return 0


RUN = {"explain": cmd_explain, "graph": cmd_graph, "gates": cmd_gates}
