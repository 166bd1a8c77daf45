"""`[tool.flatgen]` in pyproject.toml: the targets a project keeps generated, and where.

    [tool.flatgen]
    out = "generated"                       # default "generated", relative to pyproject.toml
    targets = [
        "examples/lecture.py:neuron",
        { target = "examples/lecture.py:net222", wrt = ["w1", "w2"], name = "net222_weights" },
        { target = "examples/layers.py:affine", form = "layer", shapes = { x = [4, 3], w = [3, 2], b = [2] } },
        { target = "examples/vectorized.py:vector_norm", shapes = { W = [2, 2], x = [2] } },
        { target = "examples/lecture.py:neuron", name = "neuron_modes", jvp = true, hvp = true },
    ]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .parse import project_root
from .pipeline import DEFAULT_OUT, FORMS, Options, check_name, check_out
from .trace import UNROLL


@dataclass(frozen=True)
class Job:
    target: str  # path/to/file.py:function, the path relative to the current folder
    options: Options


@dataclass(frozen=True)
class Config:
    root: Path | None
    out: str
    jobs: tuple[Job, ...]

    def find(self, target: str) -> Job | None:
        """The configured job for `target` (given relative to the current folder), if any."""
        file, _, func = target.rpartition(":")
        want = (Path(file).resolve(), func)
        for job in self.jobs:
            f, _, fn = job.target.rpartition(":")
            if (Path(f).resolve(), fn) == want:
                return job
        return None


def load_config() -> Config:
    root = project_root()
    if root is None:
        return Config(None, DEFAULT_OUT, ())
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise UsageError(f"cannot read {path}: {e}") from None
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{path}: `tool` must be a table, got {tool!r}", hint="[tool.flatgen] ...")
    section = tool.get("flatgen", {})
    if not isinstance(section, dict):
        raise UsageError(f"{path}: [tool.flatgen] must be a table")
    out = section.get("out", DEFAULT_OUT)
    if not isinstance(out, str):
        raise UsageError(f"{path}: [tool.flatgen] out must be a string, got {out!r}")
    check_out(out, f"{path}: [tool.flatgen] out")
    try:  # the project's own file names the folder: it stays inside the project
        inside = (root / out).resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise UsageError(f"{path}: [tool.flatgen] out = {out!r} is outside the project folder {root}",
                         hint='a folder below pyproject.toml, e.g. out = "generated" '
                              '(--out on the command line may go elsewhere)')
    targets = section.get("targets", [])
    if not isinstance(targets, list):
        raise UsageError(f"{path}: [tool.flatgen] targets must be a list, got {targets!r}",
                         hint='targets = ["examples/lecture.py:neuron", { target = "file.py:f", wrt = ["x"] }]')
    jobs = []
    for entry in targets:
        if isinstance(entry, str):
            entry = {"target": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
            raise UsageError(
                f"{path}: each [tool.flatgen] target is a string or a table with `target`, got {entry!r}",
                hint='targets = ["examples/lecture.py:neuron", { target = "file.py:f", wrt = ["x"] }]',
            )
        unknown = set(entry) - {"target", "wrt", "name", "shapes", "math", "style", "free", "unroll", "form", "jvp",
                                "hvp"}
        if unknown:
            raise UsageError(f"{path}: unknown option(s) {', '.join(sorted(unknown))} for {entry['target']}",
                             hint="target options: wrt, name, shapes, math, style, free, unroll, form, jvp, hvp")
        for mode in ("jvp", "hvp"):
            if not isinstance(entry.get(mode, False), bool):
                raise UsageError(f"{path}: {mode} of {entry['target']} must be true or false")
        if entry.get("form", "value_and_grad") not in FORMS:
            raise UsageError(f"{path}: form of {entry['target']} must be one of {', '.join(map(repr, FORMS))}",
                             hint='form = "layer": the pair <f>_forward and <f>_backward')
        unroll = entry.get("unroll", UNROLL)
        if not (isinstance(unroll, int) and not isinstance(unroll, bool) and unroll >= 0):
            raise UsageError(f"{path}: unroll of {entry['target']} must be a whole number (0 keeps every loop)")
        if not isinstance(entry.get("free", False), bool):
            raise UsageError(f"{path}: free of {entry['target']} must be true or false")
        if entry.get("style", "lecture") not in ("lecture", "compact"):
            raise UsageError(f"{path}: style of {entry['target']} must be \"lecture\" or \"compact\"")
        if not isinstance(entry.get("math", False), bool):
            raise UsageError(f"{path}: math of {entry['target']} must be true or false")
        if not entry["target"].isprintable():
            raise UsageError(f"{path}: the target {entry['target']!r} has non-printable characters")
        shapes = entry.get("shapes")
        if shapes is not None:
            if not isinstance(shapes, dict) or not all(
                    isinstance(v, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in v)
                    for v in shapes.values()):
                raise UsageError(f"{path}: shapes of {entry['target']} must map parameter names to lists of sizes",
                                 hint='shapes = { W = [2, 2], x = [2], c = [] }   # [] is a scalar')
            shapes = tuple((k, tuple(v)) for k, v in shapes.items())
        wrt = entry.get("wrt")
        names = isinstance(wrt, list) and all(isinstance(w, str) and w.isidentifier() for w in wrt)
        if wrt is not None and not names:
            raise UsageError(f"{path}: wrt of {entry['target']} must be a list of parameter names")
        name = entry.get("name")
        if name is not None:
            check_name(name, f"{path}: name of {entry['target']}")
        file, sep, func = entry["target"].rpartition(":")
        target = f"{_relative(root / file)}{sep}{func}"
        jobs.append(Job(target, Options(wrt=tuple(wrt) if wrt is not None else None, out=out, name=name,
                                        shapes=shapes, math=entry.get("math"),
                                        style=entry.get("style", "lecture"), free=entry.get("free", False),
                                        unroll=unroll, form=entry.get("form", "value_and_grad"),
                                        jvp=entry.get("jvp", False), hvp=entry.get("hvp", False))))
    return Config(root, out, tuple(jobs))


def _relative(path: Path) -> str:
    """`path` relative to the current folder when below it (for reading), else absolute."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
