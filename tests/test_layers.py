"""Issue 15: layers.  Array-valued functions get a VJP (the upstream gradient as `seed`), and the course's
pair `<name>_forward` / `<name>_backward(dout, cache)`, whose cache holds exactly what the backward reads.

Every example with an array output (examples/layers.py, and layers with loops, branches, two outputs
below): generated VJP == interpreter == central differences for a random dout; the pair == the VJP
exactly.  Then the cache (each value read, nothing recomputed), the options (API, CLI, [tool.flatgen]),
the committed modules, and bad input.
"""

import ast
import importlib.util
import subprocess
import sys
import textwrap
import tomllib

import numpy as np
import pytest

import flatgen
import layers
from conftest import CHECKOUT_FLATGEN, ROOT, checkout_env
from flatgen import interpret
from numerics import finite_differences

rng = np.random.default_rng(1515)

# (function, sample arguments, wrt): the examples' layers at small shapes
EXAMPLES = [
    (layers.affine, (rng.normal(size=(4, 3)), rng.normal(size=(3, 5)), rng.normal(size=5)), None),
    (layers.relu, (rng.normal(size=(4, 5)),), None),
    (layers.batchnorm, (rng.normal(size=(6, 4)) * 2 + 1, rng.normal(size=4), rng.normal(size=4)), None),
    (layers.softmax_loss, (rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0])), ("x",)),
    (layers.rnn_step, (rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4)),
                       rng.normal(size=(4, 4)), rng.normal(size=4)), None),
]

MORE = textwrap.dedent('''\
    import numpy as np


    def rolled(x, W, n):
        """A loop kept rolled (n is known at run time): its tape travels in the cache."""
        h = x
        for i in range(n):
            h = np.tanh(W @ h)
        return h


    def branchy(x, a):
        if a > 0.5:
            y = x * a
        else:
            y = np.sin(x) * x
        return y


    def two_outputs(x, w):
        h = np.tanh(x @ w)
        return h, np.sum(h * h)


    def halving(x):
        s = x
        while np.sum(s * s) > 1.0:
            s = s * 0.5
        return s * x


    def affine_forward(x, w):
        return x @ w


    def clash(dout, cache):
        grad_dout = dout * cache
        return np.exp(grad_dout)
''')


@pytest.fixture(scope="module")
def more(tmp_path_factory):
    path = tmp_path_factory.mktemp("layers_more") / "layers_more.py"
    path.write_text(MORE)
    spec = importlib.util.spec_from_file_location("layers_more", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["layers_more"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("layers_more", None)


def more_cases(m):
    x, W = rng.normal(size=3), rng.normal(size=(3, 3)) * 0.5
    return [
        (m.rolled, (x, W, 4), None),
        (m.branchy, (x, 0.9), None),
        (m.branchy, (x, 0.2), None),
        (m.two_outputs, (rng.normal(size=(4, 3)), rng.normal(size=(3, 2))), None),
        (m.halving, (rng.normal(size=3) * 3,), None),
        (m.affine_forward, (rng.normal(size=(2, 3)), rng.normal(size=(3, 2))), None),
        (m.clash, (rng.normal(size=3), rng.normal(size=3)), None),
    ]


def draw_like(value):
    if isinstance(value, tuple):
        return tuple(draw_like(v) for v in value)
    return float(rng.standard_normal()) if np.shape(value) == () else rng.standard_normal(np.shape(value))


def shapes_of(fn, args):
    return {p: np.shape(a) for p, a in zip(fn.__code__.co_varnames, args)}


def check_layer(fn, args, wrt, **options):
    """VJP == interpreter == central differences for a random dout; the pair == the VJP exactly."""
    f = flatgen.flat(fn, shapes=shapes_of(fn, args), wrt=wrt, **options)
    ints = [k for k, a in enumerate(args) if type(a) is int]
    names = fn.__code__.co_varnames[: len(args)]
    wrt_index = [names.index(w) for w in wrt] if wrt else [k for k in range(len(args)) if k not in ints]
    value = fn(*args)
    dout = draw_like(value)
    scalar = not isinstance(value, tuple) and np.shape(value) == ()
    g = f._prepare(args)[1]
    ref_value, ref = interpret.value_and_grad(g.graph, args, g.wrt, dout)
    if scalar:  # a loss: value_and_grad's seed is 1.0; the pair's dout scales it
        v, grads = f.value_and_grad(*args)
        ref = tuple(np.asarray(r) for r in ref)
        grads1 = grads
        grads = f.backward(dout, f.forward(*args)[1])
    else:
        v, grads = f.value_and_grad(*args, seed=dout)
    assert all(np.array_equal(a, b) for a, b in zip(_flat(v), _flat(ref_value)))
    assert len(grads) == len(ref) == len(wrt_index)
    for k, (a, r) in enumerate(zip(grads, ref)):
        assert np.shape(a) == np.shape(args[wrt_index[k]])
        scale = float(np.max(np.abs(r))) if np.size(r) else 0.0
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12 * scale + 1e-300, err_msg=f"{fn.__name__}: interpreter")
    weights = dout if isinstance(value, tuple) else (dout,)

    def weighted(*a):
        out = fn(*a)
        return sum(float(np.sum(w * np.asarray(o, dtype=np.float64)))
                   for w, o in zip(weights, out if isinstance(out, tuple) else (out,)))

    for k, (a, n) in enumerate(zip(grads, finite_differences(weighted, args, wrt_index))):
        np.testing.assert_allclose(a, n, rtol=1e-5, atol=1e-7, err_msg=f"{fn.__name__}: {k} vs differences")
    out, cache = f.forward(*args)
    pair = f.backward(dout, cache)
    assert all(np.array_equal(a, b) for a, b in zip(_flat(out), _flat(v)))
    exact = zip(pair, grads) if not scalar else zip(f.backward(1.0, cache), grads1)
    assert all(np.array_equal(a, b) for a, b in exact), f"{fn.__name__}: the pair is not the VJP exactly"
    return f, cache, dout


def _flat(v):
    return list(v) if isinstance(v, tuple) else [v]


@pytest.mark.parametrize("case", range(len(EXAMPLES)), ids=[fn.__name__ for fn, _, _ in EXAMPLES])
def test_example_layers(case):
    check_layer(*EXAMPLES[case])


@pytest.mark.parametrize("case", range(7), ids=["rolled", "branch_then", "branch_else", "two_outputs", "while",
                                                "named_forward", "clash"])
def test_layers_with_loops_branches_and_tuples(case, more):
    fn, args, wrt = more_cases(more)[case]
    f, cache, dout = check_layer(fn, args, wrt)
    again = f.backward(dout, cache)  # the cache serves again: a loop's tape is copied, not emptied
    assert all(np.array_equal(a, b) for a, b in zip(again, f.backward(dout, cache)))


@pytest.mark.parametrize("style, free", [("compact", False), ("lecture", True), ("compact", True)])
def test_styles_and_free(style, free, more):
    for fn, args, wrt in [EXAMPLES[2], EXAMPLES[4], more_cases(more)[0]]:
        f = check_layer(fn, args, wrt, style=style, free=free)[0]
        assert f.options.style == style and ("del " in f._of_form(f.generated, "layer").source) == free


# -- the cache -------------------------------------------------------------------------------------------------


def functions_of(source: str) -> dict:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


class PoisonError(Exception):
    pass


class Poison:
    """A cache entry nothing may read: any use raises PoisonError."""

    def __getattr__(self, name):
        raise PoisonError(name)


def _poisoned(self, *args, **kwargs):
    raise PoisonError("used")


for _name in ("array", "index", "bool", "neg", "pos", "abs", "float", "len", "iter", "getitem", "eq", "ne", "lt",
              "gt", "le", "ge", *(f"{side}{op}" for op in ("add", "sub", "mul", "truediv", "matmul", "pow")
                                  for side in ("", "r"))):
    setattr(Poison, f"__{_name}__", _poisoned)


def layer_functions(fn, args, wrt=None):
    f = flatgen.flat(fn, shapes=shapes_of(fn, args), wrt=wrt, form="layer")
    return f, functions_of(f.source), f.module


@pytest.mark.parametrize("case", range(len(EXAMPLES)), ids=[fn.__name__ for fn, _, _ in EXAMPLES])
def test_the_cache_is_exactly_what_the_backward_reads(case):
    """Straight-line layers: the cache's names are the backward's free names (read, never assigned there),
    and each one is read: poisoned, the backward fails."""
    fn, args, wrt = EXAMPLES[case]
    f, defs, module = layer_functions(fn, args, wrt)
    forward, backward = defs[f"{fn.__name__}_forward"], defs[f"{fn.__name__}_backward"]
    unpack = next(s for s in backward.body if isinstance(s, ast.Assign) and ast.unparse(s.value) == "cache")
    fields = [t.id for t in ast.walk(unpack.targets[0]) if isinstance(t, ast.Name)]
    body = [s for s in backward.body if s is not unpack]
    loaded = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stored = {n.id for s in body for n in ast.walk(s) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    free = loaded - stored - {"np", "dout", "sigmoid", "ValueError"}
    assert set(fields) == free, f"{fn.__name__}: cache {fields}, backward reads {sorted(free)}"
    assert ast.unparse(forward.body[-1]) == f"return ({_value_name(forward)}, ({', '.join(fields)}{',' * (len(fields) == 1)}))"
    # nothing of the forward pass again: the backward assigns gradients only
    assert all(name.startswith("grad_") for name in stored - {"dout"}), sorted(stored)  # (dout = np.asarray(dout))
    out, cache = f.forward(*args)
    assert list(cache._fields) == fields
    dout = draw_like(out)
    for k in range(len(cache)):
        poisoned = tuple(Poison() if j == k else c for j, c in enumerate(cache))
        with pytest.raises(PoisonError):
            getattr(module, f"{fn.__name__}_backward")(dout, poisoned)


def _value_name(forward: ast.FunctionDef) -> str:
    return ast.unparse(forward.body[-1].value.elts[0])


def test_every_cached_value_of_a_rolled_loop_is_read(more):
    fn, args, wrt = more_cases(more)[0]
    f, defs, module = layer_functions(fn, args, wrt)
    out, cache = f.forward(*args)
    assert "h_tape" in cache._fields and "n" in cache._fields
    assert "t1" not in cache._fields  # made in the body, and not read by the backward (W @ h is)
    for k in range(len(cache)):
        poisoned = tuple(Poison() if j == k else c for j, c in enumerate(cache))
        with pytest.raises(PoisonError):
            module.rolled_backward(np.ones(3), poisoned)
    backward = defs["rolled_backward"]
    stored = {n.id for n in ast.walk(backward) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    restored = {n.targets[0].id for n in ast.walk(backward) if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Call) and ast.unparse(n.value.func).endswith((".pop", ".copy"))}
    # gradients, the cache's names, the loop's index, and values taken back from the tape: no forward value
    assert stored - restored - set(cache._fields) - {"i", "dout"} <= {s for s in stored if s.startswith("grad_")}


# -- names, options ----------------------------------------------------------------------------------------------


def test_names_of_the_pair(more):
    f = flatgen.flat(more.affine_forward, shapes={"x": (2, 3), "w": (3, 2)}, form="layer")
    assert list(functions_of(f.source)) == ["affine_forward", "affine_backward"]  # not affine_forward_forward
    g = flatgen.flat(more.clash, shapes={"dout": (3,), "cache": (3,)}, form="layer")
    assert "def clash_backward(dout_1, cache_1):" in g.source  # the user's names win
    h = flatgen.flat(layers.affine, shapes=shapes_of(layers.affine, EXAMPLES[0][1]), form="layer")
    assert list(functions_of(h.source)) == ["affine_forward", "affine_backward"]
    assert h.source.splitlines()[3].endswith("--form layer")  # the header's command regenerates this form


def test_the_form_option_is_checked():
    for bad in ("pair", 3, None):
        with pytest.raises(flatgen.FlatgenError, match="form"):
            flatgen.flat(layers.relu, form=bad)


def run_cli(cwd, *args):
    return subprocess.run([*CHECKOUT_FLATGEN, *args], cwd=cwd, capture_output=True, text=True, env=checkout_env(),
                          timeout=120)


def test_cli_and_config_select_the_form(tmp_path):
    (tmp_path / "nets.py").write_text("import numpy as np\n\n\ndef layer(x, w):\n    return np.tanh(x @ w)\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flatgen]\nout = "gen"\ntargets = [{ target = "nets.py:layer", form = "layer", '
        'shapes = { x = [2, 3], w = [3, 4] } }]\n')
    done = run_cli(tmp_path, "generate")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "gen" / "nets_layer.py").read_text()
    assert "def layer_forward(x, w):" in text and "def layer_backward(dout, cache):" in text
    assert "--form layer" in text.splitlines()[3]
    assert run_cli(tmp_path, "check").returncode == 0
    shown = run_cli(tmp_path, "show", "nets.py:layer", "--shape", "x=2,3", "--shape", "w=3,4", "--form", "layer")
    assert shown.returncode == 0 and shown.stdout == text
    assert run_cli(tmp_path, "show", "nets.py:layer").stdout == text  # the configured target's form
    vg = run_cli(tmp_path, "show", "nets.py:layer", "--form", "value_and_grad")  # overridden
    assert "def layer_value_and_grad(x, w, seed):" in vg.stdout and "layer_forward" not in vg.stdout
    bad = run_cli(tmp_path, "show", "nets.py:layer", "--form", "pair")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
    (tmp_path / "pyproject.toml").write_text(
        '[tool.flatgen]\ntargets = [{ target = "nets.py:layer", form = "pairs" }]\n')
    bad = run_cli(tmp_path, "check")
    assert bad.returncode == 2 and "form of nets.py:layer must be one of" in bad.stderr


def test_same_bytes_under_any_hash_seed(tmp_path):
    args = ["show", "examples/layers.py:batchnorm", "--form", "layer", "--shape", "x=4,3", "--shape", "gamma=3",
            "--shape", "beta=3"]
    texts = {subprocess.run([*CHECKOUT_FLATGEN, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env=checkout_env(PYTHONHASHSEED=seed)).stdout for seed in ("0", "1", "random")}
    assert len(texts) == 1 and "def batchnorm_backward(dout, cache):" in texts.pop()


# -- seeds and bad input -------------------------------------------------------------------------------------------


def test_seed_is_required_and_checked_for_array_outputs():
    fn, args, _ = EXAMPLES[0]
    f = flatgen.flat(fn, shapes=shapes_of(fn, args))
    with pytest.raises(flatgen.FlatgenError, match=r"returns an array of shape \(4, 5\).*no default"):
        f.value_and_grad(*args)
    with pytest.raises(flatgen.FlatgenError, match=r"has shape \(5,\); the output .* has shape \(4, 5\)"):
        f.value_and_grad(*args, seed=np.ones(5))
    with pytest.raises(flatgen.FlatgenError, match="a real number or an array"):
        f.value_and_grad(*args, seed="dout")
    with pytest.raises(flatgen.FlatgenError, match="seed="):
        f.interpret(*args)
    value, grads = f.value_and_grad(*args, seed=np.ones((4, 5)).tolist())  # a list is an array
    np.testing.assert_allclose(grads[2], np.full(5, 4.0))
    vg = f.module.affine_value_and_grad
    with pytest.raises(ValueError, match=r"seed must have shape \(4, 5\)"):
        vg(*args, np.ones((5, 4)))  # the generated module checks it too
    with pytest.raises(TypeError):
        vg(*args)  # and has no default for it


def test_scalar_outputs_keep_their_seed():
    f = flatgen.flat(layers.softmax_loss, wrt=("x",), shapes={"x": (5, 3), "y": (5,)})
    x, y = EXAMPLES[3][1]
    value, (g,) = f.value_and_grad(x, y)  # 1.0, as before
    assert "def softmax_loss_value_and_grad(x, y):" in f.source
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)  # softmax's gradient rows sum to zero
    with pytest.raises(flatgen.FlatgenError, match="one output"):
        f.value_and_grad(x, y, seed=2.0)
    two = flatgen.flat(lambda_free_two_scalars)
    assert "seed=(1.0, 0.0)" in two.source


def lambda_free_two_scalars(a, b):
    return a * b, a + b


def test_backward_checks_dout_and_cache():
    fn, args, _ = EXAMPLES[4]
    f = flatgen.flat(fn, shapes=shapes_of(fn, args))
    out, cache = f.forward(*args)
    with pytest.raises(flatgen.FlatgenError, match=r"dout has shape \(4,\)"):
        f.backward(np.ones(4), cache)
    with pytest.raises(flatgen.FlatgenError, match="needs dout"):
        f.backward(None, cache)
    with pytest.raises(flatgen.FlatgenError, match=r"takes the cache rnn_step.forward\(\) returned, a tuple of 5"):
        f.backward(np.ones(out.shape), cache[:3])
    with pytest.raises(flatgen.FlatgenError, match="got list"):
        f.backward(np.ones(out.shape), list(cache))
    plain = f.backward(np.ones(out.shape), tuple(cache))  # a plain tuple: the module last specialised
    assert all(np.array_equal(a, b) for a, b in zip(plain, f.backward(np.ones(out.shape), cache)))
    module = f._module_of(f._of_form(f.generated, "layer"))
    with pytest.raises(ValueError, match=r"dout must have shape \(3, 4\)"):
        module.rnn_step_backward(np.ones(3), cache)  # the generated module checks it too


def test_decorated_without_shapes_specialises_on_forward():
    f = flatgen.flat(layers.affine)
    x, w, b = EXAMPLES[0][1]
    out, cache = f.forward(x, w, b)
    np.testing.assert_allclose(out, x @ w + b)
    dout = rng.normal(size=out.shape)
    gx, gw, gb = f.backward(dout, cache)
    np.testing.assert_allclose(gx, dout @ w.T, rtol=1e-14)
    np.testing.assert_allclose(gw, x.T @ dout, rtol=1e-14)
    np.testing.assert_allclose(gb, dout.sum(axis=0), rtol=1e-14)
    out2, cache2 = f.forward(x[:2], w, b)  # other shapes: another module, and its cache finds it
    assert f.backward(dout[:2], cache2)[0].shape == (2, 3)
    assert f.backward(dout, cache)[0].shape == (4, 3)


# -- the committed modules ---------------------------------------------------------------------------------------


def committed_layers():
    targets = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["flatgen"]["targets"]
    return [t for t in targets if isinstance(t, dict) and t["target"].startswith("examples/layers.py:")]


@pytest.mark.parametrize("target", committed_layers(), ids=lambda t: t.get("name") or t["target"].split(":")[1])
def test_committed_layer_modules(target):
    """generated/layers_*.py: numpy only, the pair, and the same gradients as the interpreter at their shapes."""
    name = target["target"].split(":")[1]
    module_name = target.get("name", f"layers_{name}")
    path = ROOT / "generated" / f"{module_name}.py"
    tree = ast.parse(path.read_text())
    assert {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names} == {"numpy"}
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == [f"{name}_forward", f"{name}_backward"]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(layers, name)
    shapes = {k: tuple(v) for k, v in target.get("shapes", {"x": [7, 5]}).items()}
    args = [rng.normal(size=s) for s in shapes.values()]
    if name == "softmax_loss":
        args[1] = rng.integers(0, shapes["x"][1], size=shapes["y"])
    out, cache = getattr(module, f"{name}_forward")(*args)
    np.testing.assert_array_equal(out, fn(*args))
    dout = draw_like(out)
    grads = getattr(module, f"{name}_backward")(dout, cache)
    f = flatgen.flat(fn, shapes=shapes if "shapes" in target else None, wrt=target.get("wrt"))
    g = f._prepare(tuple(args))[1]
    _, ref = interpret.value_and_grad(g.graph, tuple(args), g.wrt, dout)
    for a, r in zip(grads, ref, strict=True):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-14)


DICTS = textwrap.dedent('''\
    import numpy as np


    def net(params, x):
        return np.tanh(x @ params["W"] + params["b"])


    def nested(x):
        return x * 2.0, [x + 1.0, x * x]
''')


def test_dicts_and_nested_outputs_take_the_vjp_not_the_pair(tmp_path):
    (tmp_path / "dict_layers.py").write_text(DICTS)
    spec = importlib.util.spec_from_file_location("dict_layers", tmp_path / "dict_layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    f = flatgen.flat(module.net)
    params, x, dout = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}, rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    _, (grads, gx) = f.value_and_grad(params, x, seed=dout)  # a dict's gradients come back as a dict
    da = dout * (1 - np.tanh(x @ params["W"] + params["b"]) ** 2)
    np.testing.assert_allclose(grads["W"], x.T @ da, rtol=1e-13)
    np.testing.assert_allclose(gx, da @ params["W"].T, rtol=1e-13)
    with pytest.raises(flatgen.FlatgenError, match=r"net.forward\(\) takes arrays"):
        f.forward(params, x)
    g = flatgen.flat(module.nested)
    with pytest.raises(flatgen.FlatgenError, match=r"nested.forward\(\) takes arrays"):
        g.forward(np.ones(3))
