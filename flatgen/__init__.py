"""flatgen: a small Python function in, a standalone module of flat gradient code out.

    import flatgen

    @flatgen.flat
    def neuron(w0, x0, w1, x1, w2): ...

    neuron.value_and_grad(*args)   # computed by the generated module
    print(neuron.source)           # the module's text
"""

__version__ = "0.1.0"

from .errors import FlatgenError, UsageError  # noqa: E402
from .expr import SUPPORT_FUNCTIONS  # noqa: E402

sigmoid = SUPPORT_FUNCTIONS["sigmoid"]  # the very function generated modules define


def flat(fn=None, **options):
    """Decorator: `@flat`, `@flat(wrt=("w0",), out="generated/")`, or `flat(fn, wrt=...)`."""
    from .api import OPTIONS, Flat

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise UsageError(f"flatgen.flat takes no option {', '.join(unknown)}", hint=f"options: {', '.join(OPTIONS)}")
    if fn is None:
        return lambda f: Flat(f, **options)
    return Flat(fn, **options)


def gradcheck(f, *args, seed=None, **options):
    """Compare f's generated gradients at `args` with central differences in float64 (flatgen/differences.py):
    `gradcheck(layer, x, w, seed=dout)` -> a GradCheck, true when every element's relative error is small."""
    from .differences import gradcheck as check

    return check(f, *args, seed=seed, **options)


def gates(*names):
    """Every gate flatgen knows, from the primitive table: forward, local gradient per input, pattern
    (a list of records, shown as a table; names pick rows, gate labels or calls: gates("mul", "np.exp"))."""
    from .gatetable import gates

    return gates(*names)


__all__ = ["FlatgenError", "flat", "gates", "gradcheck", "sigmoid", "__version__"]
