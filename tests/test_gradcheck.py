"""Issue 15: gradient checks users run.  flatgen.gradcheck(f, *args, seed=None) against central differences
(float64, relative error per element, the worst element named), and `flatgen generate --with-test`: a
pytest file beside the module that does the same at the module's shapes."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import flatgen
import layers
import lecture
from conftest import CHECKOUT_FLATGEN, checkout_env

rng = np.random.default_rng(77)


def test_gradcheck_passes_on_correct_layers():
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    check = flatgen.gradcheck(layers.affine, x, w, b)  # a plain function; its array output gets a random dout
    assert check.ok and bool(check) and check.error < 1e-8, str(check)
    assert set(check.errors) == {"x", "w", "b"} and max(check.errors.values()) == check.error
    assert check.worst.split("[")[0] in {"x", "w", "b"} and "gradcheck ok" in str(check)
    again = flatgen.gradcheck(layers.affine, x, w, b)  # the drawn dout is seeded: the same result
    assert again.error == check.error and again.worst == check.worst
    pair = flatgen.gradcheck(flatgen.flat(layers.batchnorm, form="layer"), rng.normal(size=(5, 3)),
                             rng.normal(size=3), rng.normal(size=3), seed=rng.normal(size=(5, 3)))
    assert pair.ok, str(pair)
    loss = flatgen.gradcheck(flatgen.flat(layers.softmax_loss, wrt=("x",)), rng.normal(size=(4, 3)),
                             np.array([0, 1, 2, 1]))
    assert loss.ok and list(loss.errors) == ["x"], str(loss)
    scalar = flatgen.gradcheck(lecture.neuron, 2.0, -1.0, -3.0, -2.0, -3.0)  # floats: math mode, seed 1.0
    assert scalar.ok and "[" not in scalar.worst, str(scalar)


def broken(f, args, form, param, index, by=1e-3):
    """f whose generated gradient of `param` is off by `by` at `index`."""
    g = f._of_form(f._prepare(args)[1], form)
    module = f._module_of(g)
    name = f"{g.graph.name}_value_and_grad" if form == "value_and_grad" else f"{g.graph.name}_backward"
    right = getattr(module, name)
    k = [p.hint for p in g.wrt].index(param)

    def wrong(*a):
        result = right(*a)
        grads = list(result[1] if form == "value_and_grad" else result)
        grads[k] = np.array(grads[k], dtype=np.float64)
        grads[k][index] += by
        return (result[0], tuple(grads)) if form == "value_and_grad" else tuple(grads)

    setattr(module, name, wrong)


@pytest.mark.parametrize("form", ["value_and_grad", "layer"])
def test_gradcheck_names_the_worst_element(form):
    args = (rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(4, 4)),
            rng.normal(size=4))
    f = flatgen.flat(layers.rnn_step, form=form)
    assert flatgen.gradcheck(f, *args).ok
    broken(f, args, form, "Wh", (2, 1))
    check = flatgen.gradcheck(f, *args)
    assert not check.ok and not check and check.worst == "Wh[2, 1]", str(check)
    assert check.error > 1e-4 and check.errors["Wh"] == check.error and check.errors["Wx"] < check.tol
    assert "gradcheck FAILED" in str(check) and "Wh[2, 1]" in str(check)
    assert check.analytic - check.numeric == pytest.approx(1e-3, rel=1e-4)


def test_gradcheck_several_outputs():
    def pair_of(a, b):
        return np.sum(np.sin(a) * b), a * b

    f = flatgen.flat(pair_of, shapes={"a": (3,), "b": (3,)})
    a, b = rng.normal(size=3), rng.normal(size=3)
    assert flatgen.gradcheck(f, a, b, seed=(0.5, rng.normal(size=3))).ok
    assert flatgen.gradcheck(f, a, b).ok


def test_gradcheck_bad_input():
    with pytest.raises(flatgen.FlatgenError, match="checks a function"):
        flatgen.gradcheck(42, 1.0)
    x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    with pytest.raises(flatgen.FlatgenError, match=r"has shape \(3,\)"):
        flatgen.gradcheck(layers.affine, x, w, b, seed=np.ones(3))
    with pytest.raises(flatgen.FlatgenError, match="takes 3 argument"):
        flatgen.gradcheck(layers.affine, x, w)
    with pytest.raises(flatgen.FlatgenError, match="step in"):
        flatgen.gradcheck(layers.affine, x, w, b, step=2.0)


# -- --with-test ---------------------------------------------------------------------------------------------------


def cli(cwd, *args):
    return subprocess.run([*CHECKOUT_FLATGEN, *args], cwd=cwd, capture_output=True, text=True, env=checkout_env(),
                          timeout=180)


def pytest_run(path):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                          cwd=path.parent, capture_output=True, text=True, timeout=180)


NETS = textwrap.dedent("""\
    import numpy as np


    def layer(x, w, b):
        return np.tanh(x @ w + b)


    def loss(x, y):
        return np.mean(np.log(1.0 + np.exp(-y * x)))


    def positive(x):
        return np.sqrt(x) * np.log(x)


    def looped(x, n):
        for i in range(n):
            x = x * 0.5
        return x
""")


@pytest.fixture
def nets(tmp_path):
    (tmp_path / "nets.py").write_text(NETS)
    return tmp_path


@pytest.mark.parametrize("form", ["layer", "value_and_grad"])
def test_with_test_writes_a_check_that_passes_and_fails(nets, form):
    done = cli(nets, "generate", "nets.py:layer", "--shape", "x=3,4", "--shape", "w=4,2", "--shape", "b=2",
               "--form", form, "--with-test", "--out", "gen")
    assert done.returncode == 0, done.stderr
    test = nets / "gen" / "test_nets_layer.py"
    assert done.stdout.split() == ["gen/nets_layer.py", "gen/test_nets_layer.py"]
    text = test.read_text()
    assert text.startswith("# Generated by flatgen ") and "--with-test" in text.splitlines()[3]
    assert "import flatgen" not in text and "from flatgen" not in text  # numpy and the module only
    assert [p.name for p in (nets / "gen").iterdir() if p.name.startswith(".")] == []  # no temporary left
    ran = pytest_run(test)
    assert ran.returncode == 0 and "1 passed" in ran.stdout, ran.stdout + ran.stderr
    module = nets / "gen" / "nets_layer.py"
    module.write_text(module.read_text().replace("grad_b = np.sum(", "grad_b = 1.001 * np.sum("))
    ran = pytest_run(test)
    assert ran.returncode == 1 and "at b[" in ran.stdout, ran.stdout
    again = cli(nets, "generate", "nets.py:layer", "--shape", "x=3,4", "--shape", "w=4,2", "--shape", "b=2",
                "--form", form, "--with-test", "--out", "gen")
    assert again.stdout.split() == ["gen/nets_layer.py", "gen/test_nets_layer.py", "(unchanged)"]  # same bytes
    assert pytest_run(test).returncode == 0


def test_with_test_for_scalar_losses_and_positive_domains(nets):
    for target, shapes in [("nets.py:loss", ["x=5", "y=5"]), ("nets.py:positive", ["x=4"])]:
        args = [a for s in shapes for a in ("--shape", s)]
        done = cli(nets, "generate", target, *args, "--with-test", "--out", "gen")
        assert done.returncode == 0, done.stderr
        name = target.split(":")[1]
        ran = pytest_run(nets / "gen" / f"test_nets_{name}.py")
        assert ran.returncode == 0, ran.stdout + ran.stderr


def test_check_with_test_sees_a_stale_or_missing_test(nets):
    args = ["nets.py:layer", "--shape", "x=3,4", "--shape", "w=4,2", "--shape", "b=2", "--out", "gen"]
    assert cli(nets, "generate", *args).returncode == 0
    missing = cli(nets, "check", *args, "--with-test")
    assert missing.returncode == 1 and "MISSING: gen/test_nets_layer.py" in missing.stdout
    assert cli(nets, "generate", *args, "--with-test").returncode == 0
    fresh = cli(nets, "check", *args, "--with-test")
    assert fresh.returncode == 0 and "2 generated module(s) and test(s) up to date" in fresh.stderr
    test = nets / "gen" / "test_nets_layer.py"
    test.write_text(test.read_text().replace("TOL = 1e-06", "TOL = 1.0"))
    stale = cli(nets, "check", *args, "--with-test")
    assert stale.returncode == 1 and "+TOL = 1e-06" in stale.stdout


def test_with_test_never_replaces_a_file_flatgen_did_not_write(nets):
    (nets / "gen").mkdir()
    mine = nets / "gen" / "test_nets_layer.py"
    mine.write_text("def test_mine():\n    assert True\n")
    done = cli(nets, "generate", "nets.py:layer", "--shape", "x=3,4", "--shape", "w=4,2", "--shape", "b=2",
               "--with-test", "--out", "gen")
    assert done.returncode == 2 and "was not written by flatgen" in done.stderr
    assert mine.read_text() == "def test_mine():\n    assert True\n"


def test_with_test_refuses_what_it_cannot_draw(nets):
    done = cli(nets, "generate", "nets.py:looped", "--with-test", "--out", "gen")
    assert done.returncode == 2 and "n of nets.py:looped must be an integer" in done.stderr
    unknown = cli(nets, "generate", "nets.py:loss", "--shape", "x=?", "--shape", "y=5", "--with-test", "--out", "gen")
    assert unknown.returncode == 2 and "no shape for x" in unknown.stderr
    assert not (nets / "gen" / "test_nets_looped.py").exists()


def test_with_test_keeps_user_text_in_comments(tmp_path):
    weird = tmp_path / "we'ird\" # x = 1.py"  # quotes and a `#`: in a comment, never code
    weird.write_text(NETS)
    done = cli(tmp_path, "generate", f"{weird.name}:layer", "--shape", "x=2,2", "--shape", "w=2,2", "--shape", "b=2",
               "--with-test", "--out", "gen")
    assert done.returncode == 0, done.stderr
    test = tmp_path / "gen" / "test_we_ird____x___1_layer.py"
    assert test.read_text().splitlines()[2] == f"# From: {weird.name}:layer"
    assert pytest_run(test).returncode == 0
