"""The committed modules (generated/) and the goldens (tests/golden/) checked numerically, not only as text.

tests/test_examples.py compares them with what flatgen generates now (change detectors: a golden
that was wrong when it was written stays wrong).  Here every committed module in generated/ is
imported as it is on disk and run at inputs for its example (shapes from pyproject's
[tool.flatgen], else from the example's annotations; loop counts small ints; deterministic random
values, positive where the example needs it), and

- its value function equals the example function itself, run as the user wrote it (rtol 1e-12);
- its value_and_grad returns that value and one gradient per differentiated parameter, of the
  parameter's shape, equal to central differences of the module's value function (float64, step
  1e-6 * max(1, |x|)): every element of small parameters; for large ones (the MLP's 784 x 100 W1)
  40 random elements and 3 random directions (<grad, d> against the derivative along d);
- several outputs: each output's gradient (seed=) against the differences of that output.

The golden module (tests/golden/lecture_neuron.py) is checked the same way, and the golden graphs
(neuron.graph.txt, neuron.grad_graph.txt) are evaluated from their text by a small evaluator written
here, with its own meaning for each op (not flatgen's table), and must agree with the differences.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib

import numpy as np
import pytest

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
EPS = 1e-6
RTOL = 1e-5
FULL = 400  # parameters with at most this many elements are checked element by element
SAMPLED, DIRECTIONS = 40, 3

# inputs an example needs beyond random values in (-1, 1)
SPECIAL = {
    "newton_sqrt": {"a": 2.0, "x": 1.4},  # Newton's method for sqrt(a), from above
    "logreg": {"y": "labels"},
    "softmax_xent": {"Y": "one-hot"},
    "softmax_loss": {"y": "class labels"},  # integers: an index
}
INT_VALUE = {"n": 3, "m": 2}  # loop counts


def targets() -> list[dict]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["flatgen"]
    found = []
    for entry in config["targets"]:
        entry = {"target": entry} if isinstance(entry, str) else dict(entry)
        path, fn = entry["target"].split(":")
        entry["module"] = entry.get("name") or f"{path.rsplit('/', 1)[-1].removesuffix('.py')}_{fn}"
        entry["file"], entry["function"] = path, fn
        found.append(entry)
    return found


TARGETS = {t["module"]: t for t in targets()}


def load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_function(target):
    return getattr(load(ROOT / target["file"], f"example_{target['module']}"), target["function"])


def signature(target):
    """[(name, shape or None, is_int)] of the example function, from shapes, annotations and range() bounds."""
    tree = ast.parse((ROOT / target["file"]).read_text())
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == target["function"])
    shapes = {k: tuple(v) for k, v in target.get("shapes", {}).items()}
    bounds = {n.id for c in ast.walk(fn) if isinstance(c, ast.Call) and ast.unparse(c.func) == "range"
              for a in c.args for n in ast.walk(a) if isinstance(n, ast.Name)}
    params = []
    for arg in fn.args.args:
        note = arg.annotation
        text = ast.literal_eval(note.value) if isinstance(note, ast.Constant) and isinstance(note.value, str) else None
        shape = shapes.get(arg.arg, tuple(text) if isinstance(text, tuple) else () if text == () else None)
        is_int = (isinstance(note, ast.Name) and note.id == "int") or arg.arg in bounds
        params.append((arg.arg, shape if shape is not None else (), is_int))
    return params


def inputs(target):
    rng = np.random.default_rng(sum(map(ord, target["module"])))
    special = SPECIAL.get(target["function"], {})
    args = []
    for name, shape, is_int in signature(target):
        if is_int:
            args.append(INT_VALUE.get(name, 3))
        elif special.get(name) == "labels":
            args.append(rng.integers(0, 2, size=shape).astype(np.float64))
        elif special.get(name) == "class labels":
            args.append(rng.integers(0, 2, size=shape))
        elif special.get(name) == "one-hot":
            args.append(np.eye(shape[1])[rng.integers(0, shape[1], size=shape[0])])
        elif name in special:
            args.append(special[name])
        elif shape == ():
            args.append(float(rng.uniform(-1.0, 1.0)))
        else:
            args.append(rng.uniform(-1.0, 1.0, size=shape))
    return tuple(args)


def wrt_of(target):
    params = signature(target)
    return list(target.get("wrt") or [n for n, _, is_int in params if not is_int])


def central(fn, args, i, idx=None, direction=None) -> float:
    """The derivative of fn along element idx of args[i] (or along `direction`), by central differences."""
    x = np.array(args[i], dtype=np.float64)
    if direction is None:
        direction = np.zeros_like(x)
        direction[idx] = 1.0
        h = EPS * max(1.0, abs(float(x[idx])))
    else:
        h = EPS * max(1.0, float(np.max(np.abs(x))))
    up, down = list(args), list(args)
    up[i] = x + h * direction if x.ndim else float(x + h * direction)
    down[i] = x - h * direction if x.ndim else float(x - h * direction)
    return (float(fn(*up)) - float(fn(*down))) / (2 * h)


def check_gradients(value_fn, args, wrt_index, grads, label):
    """Every gradient against central differences of `value_fn` (sampled for large parameters)."""
    assert len(grads) == len(wrt_index), f"{label}: {len(grads)} gradients for {len(wrt_index)} parameters"
    rng = np.random.default_rng(0)
    scale = max(1.0, abs(float(value_fn(*args))))
    checked = 0
    for k, i in enumerate(wrt_index):
        g = np.asarray(grads[k], dtype=np.float64)
        assert g.shape == np.shape(args[i]), f"{label}: gradient {k} has shape {g.shape}, parameter {np.shape(args[i])}"
        assert np.all(np.isfinite(g)), f"{label}: gradient {k} is not finite"
        indices = list(np.ndindex(g.shape))
        if len(indices) > FULL:
            indices = [indices[j] for j in rng.choice(len(indices), SAMPLED, replace=False)]
        for idx in indices:
            fd = central(value_fn, args, i, idx=idx)
            assert abs(g[idx] - fd) <= RTOL * abs(fd) + 1e-9 * scale, (
                f"{label}: gradient {k}{list(idx)} = {g[idx]!r}, central differences {fd!r}")
            checked += 1
        if g.ndim:
            for _ in range(DIRECTIONS if g.size > FULL else 1):
                d = rng.normal(size=g.shape)
                fd = central(value_fn, args, i, direction=d)
                along = float(np.sum(g * d))
                assert abs(along - fd) <= RTOL * abs(fd) + 1e-9 * scale * float(np.sum(np.abs(d))), (
                    f"{label}: gradient {k} along a random direction: {along!r}, central differences {fd!r}")
                checked += 1
    return checked


def check_layer_module(module, target, label):
    """The layer form (form = "layer", issue 15): <f>_forward's value is the example's, and <f>_backward's
    gradients for a random upstream gradient dout are central differences of sum(dout * value)."""
    fn = target["function"]
    forward, backward = getattr(module, f"{fn}_forward"), getattr(module, f"{fn}_backward")
    args = inputs(target)
    names = [n for n, _, _ in signature(target)]
    wrt_index = [names.index(w) for w in wrt_of(target)]
    value, cache = forward(*args)
    np.testing.assert_allclose(value, example_function(target)(*args), rtol=1e-12, atol=1e-300, err_msg=label)
    dout = np.random.default_rng(1).uniform(-1.0, 1.0, size=np.shape(value)) if np.shape(value) else 0.75
    grads = backward(dout, cache)
    return check_gradients(lambda *a: np.sum(dout * forward(*a)[0]), args, wrt_index, grads, label)


def check_module(module, target, label):
    fn = target["function"]
    if target.get("form") == "layer":
        return check_layer_module(module, target, label)
    forward, value_and_grad = getattr(module, fn), getattr(module, f"{fn}_value_and_grad")
    args = inputs(target)
    names = [n for n, _, _ in signature(target)]
    wrt_index = [names.index(w) for w in wrt_of(target)]
    mine = example_function(target)(*args)
    value = forward(*args)
    n_outputs = len(value) if isinstance(value, tuple) else 1
    outs = value if n_outputs > 1 else (value,)
    theirs = mine if n_outputs > 1 else (mine,)
    for o, m in zip(outs, theirs):
        assert float(o) == pytest.approx(float(m), rel=1e-12, abs=1e-300), f"{label}: value {o!r}, the example {m!r}"
    checked = 0
    for k in range(n_outputs):
        seed = None if n_outputs == 1 else tuple(float(j == k) for j in range(n_outputs))
        v, grads = value_and_grad(*args) if seed is None else value_and_grad(*args, seed=seed)
        assert np.array_equal(np.asarray(v, dtype=float), np.asarray(value, dtype=float)), (
            f"{label}: value_and_grad's value {v!r}, the value function's {value!r}")
        output = forward if n_outputs == 1 else (lambda *a, k=k: forward(*a)[k])
        checked += check_gradients(output, args, wrt_index, grads, f"{label} (output {k})")
    return checked


def check_modes(module, target, label):
    """--jvp / --hvp (issue 17): <f>_jvp's tangent is central differences of the value along a random
    tangent; <f>_hvp's blocks are central differences of the module's gradient along a random vector."""
    fn = target["function"]
    args = inputs(target)
    names = [n for n, _, _ in signature(target)]
    wrt_index = [names.index(w) for w in wrt_of(target)]
    rng = np.random.default_rng(2)
    direction = [rng.normal(size=np.shape(args[i])) if np.shape(args[i]) else float(rng.normal()) for i in wrt_index]
    h = EPS

    def moved(step):
        out = list(args)
        for i, d in zip(wrt_index, direction):
            out[i] = np.asarray(args[i], dtype=np.float64) + step * np.asarray(d) if np.shape(args[i]) else \
                float(args[i] + step * d)
        return out

    checked = 0
    forward, value_and_grad = getattr(module, fn), getattr(module, f"{fn}_value_and_grad")
    if target.get("jvp"):
        value, tangent = getattr(module, f"{fn}_jvp")(*args, *direction)
        assert float(value) == float(forward(*args)), f"{label}: {fn}_jvp's value"
        fd = (float(forward(*moved(h))) - float(forward(*moved(-h)))) / (2 * h)
        assert float(tangent) == pytest.approx(fd, rel=RTOL, abs=1e-9), f"{label}: {fn}_jvp's tangent {tangent!r}, fd {fd!r}"
        checked += 1
    if target.get("hvp"):
        blocks = getattr(module, f"{fn}_hvp")(*args, *direction)
        up, down = value_and_grad(*moved(h))[1], value_and_grad(*moved(-h))[1]
        assert len(blocks) == len(wrt_index), f"{label}: {len(blocks)} blocks for {len(wrt_index)} parameters"
        for k, block in enumerate(blocks):
            fd = (np.asarray(up[k], dtype=np.float64) - np.asarray(down[k], dtype=np.float64)) / (2 * h)
            assert np.shape(block) == np.shape(args[wrt_index[k]]), f"{label}: block {k}'s shape"
            scale = max(1.0, float(np.max(np.abs(fd))))
            np.testing.assert_allclose(block, fd, rtol=1e-4, atol=1e-6 * scale, err_msg=f"{label}: {fn}_hvp block {k}")
            checked += 1
    return checked


COMMITTED = sorted(p.stem for p in (ROOT / "generated").glob("*.py"))


def test_every_committed_module_has_a_target():
    assert COMMITTED and set(COMMITTED) == set(TARGETS), (
        f"modules without a target: {sorted(set(COMMITTED) - set(TARGETS))}, "
        f"targets without a module: {sorted(set(TARGETS) - set(COMMITTED))}")


@pytest.mark.parametrize("name", COMMITTED)
def test_committed_module_numerically(name):
    target = TARGETS[name]
    module = load(ROOT / "generated" / f"{name}.py", f"committed_{name}")
    assert check_module(module, target, f"generated/{name}.py") >= len(wrt_of(target))
    if target.get("jvp") or target.get("hvp"):
        want = bool(target.get("jvp")) + bool(target.get("hvp")) * len(wrt_of(target))
        assert check_modes(module, target, f"generated/{name}.py") == want


# -- the goldens ------------------------------------------------------------------------------------------


def test_golden_module_numerically():
    paths = sorted(GOLDEN.glob("*.py"))
    assert [p.name for p in paths] == ["lecture_neuron.py"], "a new golden module: give it a target here"
    module = load(paths[0], "golden_lecture_neuron")
    assert check_module(module, TARGETS["lecture_neuron"], "tests/golden/lecture_neuron.py") == 5


# What each op of a printed graph means, written here (a rule's inputs are the slots it reads, g first).
MEANING = {
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + b,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "seed": lambda: 1.0,
    "add.da": lambda g: g,
    "add.db": lambda g: g,
    "mul.da": lambda g, b: g * b,
    "mul.db": lambda g, a: g * a,
    "sigmoid.dx": lambda g, out: g * (1 - out) * out,
}
LINE = re.compile(r"^  (\w+) = ([\w.]+)((?: [\w.-]+)*)(?:  # .*)?$")


def run_printed_graph(text: str, args) -> list:
    """Evaluate a graph from its printed form (`out = op in1 in2  # line n`), with MEANING's ops."""
    lines = text.splitlines()
    params = re.match(r"^\w+\((.*)\):$", lines[0]).group(1).split(", ")
    env = dict(zip(params, args))
    for line in lines[1:]:
        if line.strip() == "# backward":
            continue
        if line.startswith("  return "):
            return [env[n] for n in line[len("  return "):].split(", ")]
        m = LINE.match(line)
        assert m, f"a line the evaluator does not read: {line!r}"
        out, op, ins = m.group(1), m.group(2), m.group(3).split()
        assert op in MEANING, f"op {op!r} in a golden graph: give it a meaning in MEANING"
        env[out] = MEANING[op](*(env[a] if a in env else float(a) for a in ins))
    raise AssertionError("no return line")


def test_golden_graphs_numerically():
    forward = (GOLDEN / "neuron.graph.txt").read_text()
    backward = (GOLDEN / "neuron.grad_graph.txt").read_text()
    assert forward.splitlines()[:6] == backward.splitlines()[:6], "the gradient graph starts with the forward"
    args = inputs(TARGETS["lecture_neuron"])
    (value,) = run_printed_graph(forward, args)
    value2, *grads = run_printed_graph(backward, args)
    assert value2 == value
    assert value == pytest.approx(example_function(TARGETS["lecture_neuron"])(*args), rel=1e-15)
    assert check_gradients(lambda *a: run_printed_graph(forward, a)[0], args, list(range(5)), grads,
                           "tests/golden/neuron.grad_graph.txt") == 5


def test_the_numerical_check_catches_a_wrong_module(tmp_path):
    """A committed module with one gradient statement off by a sign fails, though it still runs."""
    text = (ROOT / "generated" / "lecture_neuron.py").read_text()
    assert text.count("grad_x1 = grad_s1 * w1") == 1
    (tmp_path / "wrong.py").write_text(text.replace("grad_x1 = grad_s1 * w1", "grad_x1 = -grad_s1 * w1"))
    module = load(tmp_path / "wrong.py", "wrong_neuron")
    with pytest.raises(AssertionError, match=r"gradient 3\[\] = "):
        check_module(module, TARGETS["lecture_neuron"], "wrong")
