"""The `flatgen` command: generate, check and show generated modules.

Exit codes: 0 done / up to date; 1 `check` found a stale or missing module; 2 a usage error or an
error in a source (the message names file and line); 3 a flatgen bug.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from . import __version__, teaching
from .config import Job, load_config
from .errors import FlatgenError, InternalError, UsageError, guard
from .files import compare, write_atomic
from .parse import display_path, load_target
from .pipeline import DEFAULT_OUT, FORMS, Options, generate
from .trace import UNROLL

EXAMPLES = {
    "generate": """examples:
  flatgen generate examples/lecture.py:neuron --out generated/
  flatgen generate                       # every target of [tool.flatgen] in pyproject.toml
  flatgen generate model.py:loss --wrt w,b
  flatgen generate model.py:affine --form layer --shape x=4,3 --shape w=3,2 --shape b=2 --with-test

Each target becomes one module, <out>/<file stem>_<function>.py (or `name` from the config).
--form layer writes the course's pair <function>_forward / <function>_backward(dout, cache);
--with-test also writes <out>/test_<module>.py, its gradients against central differences.
A module whose content would not change is left untouched, mtime included.""",
    "check": """examples:
  flatgen check                          # every target of [tool.flatgen]; use it in CI / pre-commit
  flatgen check examples/lecture.py:neuron --out generated/

Regenerates in memory and compares; never writes.  Exit 0: up to date; 1: a module is stale
(unified diff on stdout) or missing (MISSING: path); 2: usage error or an error in a source.""",
    "show": """examples:
  flatgen show examples/lecture.py:neuron
  flatgen show examples/lecture.py:neuron --verbose   # also the IR after each stage, on stderr""",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flatgen",
        description="Turn a small Python function into a standalone module of flat forward and "
        "backward (gradient) code.",
        epilog="examples:\n  flatgen show examples/lecture.py:neuron\n"
        "  flatgen generate examples/lecture.py:neuron --out generated/\n"
        "  flatgen check\n\nRun `flatgen COMMAND --help` for each command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flatgen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, help, many):
        p = sub.add_parser(name, help=help, description=help, epilog=EXAMPLES[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        if many:
            p.add_argument("targets", nargs="*", metavar="FILE.py:FUNCTION",
                           help="functions to generate (default: the targets of [tool.flatgen])")
            p.add_argument("--out", help="output folder (default: `out` of [tool.flatgen], else generated/)")
        else:
            p.add_argument("targets", nargs=1, metavar="FILE.py:FUNCTION", help="the function to show")
        p.add_argument("--wrt", help="comma-separated parameters to differentiate (default: all)")
        p.add_argument("--name", help="module name (default: <file stem>_<function>)")
        p.add_argument("--math", action="store_true", help="plain Python floats: math.exp and float arithmetic")
        p.add_argument("--free", action="store_true", help="`del` each array once nothing after needs it")
        p.add_argument("--unroll", type=int, metavar="N",
                       help=f"unroll constant loops of at most N iterations (default {UNROLL}; 0 keeps every loop)")
        p.add_argument("--style", choices=("lecture", "compact"),
                       help="lecture (default): the slide, statement by statement; compact: simplified")
        p.add_argument("--form", choices=FORMS,
                       help="value_and_grad (default): <f> and <f>_value_and_grad; layer: the course's pair "
                            "<f>_forward -> (out, cache) and <f>_backward(dout, cache)")
        p.add_argument("--jvp", action="store_true", help="also <f>_jvp: the value and its tangent along a direction "
                       "(forward mode, each tangent right after its value)")
        p.add_argument("--hvp", action="store_true", help="also <f>_hvp: the Hessian times a vector (forward mode "
                       "over the gradient)")
        p.add_argument("--shape", action="append", metavar="PARAM=N,M",
                       help="specialise to a parameter's shape (repeat per parameter; PARAM= for a scalar)")
        p.add_argument("-v", "--verbose", action="store_true", help="print the IR after each stage on stderr")
        if many:
            p.add_argument("--with-test", action="store_true",
                           help="also a pytest file beside each module, test_<module>.py: its gradients against "
                                "central differences at the module's shapes (flatgen/differences.py)")
        return p

    command("generate", "write the generated module of each target", many=True)
    command("check", "fail when a committed generated module is stale or missing", many=True)
    command("show", "print a target's generated module", many=False)
    teaching.add_commands(sub, argparse.RawDescriptionHelpFormatter)  # explain, graph
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return guard(RUN[args.command])(args)
    except BrokenPipeError:  # `flatgen show ... | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0
    except InternalError as e:
        print(e, file=sys.stderr)
        return 3
    except FlatgenError as e:
        print(e, file=sys.stderr)
        return 2


def jobs_of(args) -> tuple[list[Job], Path]:
    """The targets to act on, with their options, and the output folder."""
    config = load_config()
    if getattr(args, "out", None):
        out_dir = Path(args.out)
    elif config.root is not None:
        out_dir = config.root / config.out
    else:
        out_dir = Path(DEFAULT_OUT)
    if args.targets:
        jobs = [config.find(t) or Job(t, Options()) for t in args.targets]
    else:
        jobs = list(config.jobs)
        if not jobs:
            raise UsageError("no targets given, and no [tool.flatgen] targets in pyproject.toml",
                             hint="name one: flatgen generate examples/lecture.py:neuron")
    overrides = {"out": display_path(out_dir)}
    if args.wrt is not None:
        overrides["wrt"] = tuple(w.strip() for w in args.wrt.split(",") if w.strip())
    if args.math:
        overrides["math"] = True
    if args.style:
        overrides["style"] = args.style
    if args.free:
        overrides["free"] = True
    if args.form:
        overrides["form"] = args.form
    for mode in ("jvp", "hvp"):
        if getattr(args, mode):
            overrides[mode] = True
    if args.unroll is not None:
        overrides["unroll"] = args.unroll
    if args.shape:
        overrides["shapes"] = shapes_option(args.shape)
    if args.name is not None:
        if len(jobs) != 1 or not args.name.isidentifier():
            raise UsageError("--name takes one Python identifier, for one target")
        overrides["name"] = args.name
    return [replace(j, options=replace(j.options, **overrides)) for j in jobs], out_dir


def shapes_option(items: list[str]) -> tuple:
    """`--shape W=2,2 --shape x=2 --shape c=` -> (("W", (2, 2)), ("x", (2,)), ("c", ())); `?`: any shape."""
    shapes = []
    for item in items:
        name, eq, dims = item.partition("=")
        try:
            shape = None if dims.strip() == "?" else tuple(int(d) for d in dims.split(",") if d.strip())
        except ValueError:
            shape = "bad"
        if not eq or not name.isidentifier() or shape == "bad" or (shape and min(shape) < 0):
            raise UsageError(f"--shape {item!r:.60} is not PARAM=N,M", hint="e.g. --shape W=2,2 --shape x=2")
        shapes.append((name, shape))
    return tuple(shapes)


def build_all(args):
    """Generate every job (in memory); refuse two targets that would write the same module."""
    jobs, out_dir = jobs_of(args)
    results = []
    for job in jobs:
        src, fn = load_target(job.target)
        results.append(generate(src, fn, job.options, verbose=args.verbose))
    seen: dict[str, str] = {}
    for r in results:
        if r.module_name in seen:
            raise UsageError(
                f"{seen[r.module_name]} and {r.target} would both be written to {r.module_name}.py",
                hint='give one of them its own module name: { target = "...", name = "..." } in [tool.flatgen], '
                     'or --name',
            )
        seen[r.module_name] = r.target
    return results, out_dir


def outputs_of(args, results, out_dir) -> list[tuple[Path, str]]:
    """(path, text) of every file to write or check: the modules, and with --with-test their tests."""
    files = [(out_dir / f"{r.module_name}.py", r.source) for r in results]
    if args.with_test:
        from .differences import gradcheck_file, gradcheck_path

        files += [(gradcheck_path(out_dir / f"{r.module_name}.py"), gradcheck_file(r)) for r in results]
    return files


def cmd_generate(args) -> int:
    results, out_dir = build_all(args)
    for path, text in outputs_of(args, results, out_dir):  # every text made before anything is written
        changed = write_atomic(path, text)
        print(display_path(path) + ("" if changed else " (unchanged)"))
    return 0


def cmd_check(args) -> int:
    results, out_dir = build_all(args)
    stale = 0
    files = outputs_of(args, results, out_dir)
    for path, text in files:
        report = compare(path, text, display_path(path))
        if report is not None:
            stale += 1
            sys.stdout.write(report)
    what = "generated module(s)" if len(files) == len(results) else "generated module(s) and test(s)"
    if stale:
        print(f"{stale} of {len(files)} {what} stale or missing; "
              "run `flatgen generate` and commit the result", file=sys.stderr)
        return 1
    print(f"{len(files)} {what} up to date", file=sys.stderr)
    return 0


def cmd_show(args) -> int:
    (result,), _ = build_all(args)
    sys.stdout.write(result.source)
    return 0


RUN = {"generate": cmd_generate, "check": cmd_check, "show": cmd_show, **teaching.RUN}
