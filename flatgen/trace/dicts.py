"""Dict parameters: `params["W1"]`, the way course code keeps its weights.

A parameter that is a dict of arrays (its keys constant strings, known from the first call or from
`example=`) is traced as one parameter per key, in the dict's order: `loss(params, X, y)` becomes
`loss(params_W1, params_b1, ..., X, y)` in the generated module, and `params["W1"]` reads the
parameter `params_W1`.  The decorator (api.py) passes a dict's values in that order and gives its
gradient back as a dict with the same keys (`grads["W1"]`, of W1's shape).

The shape of a dict parameter is a `DictShape`: its (key, shape) pairs, in order.
"""

from __future__ import annotations

import ast
import keyword
import re

import numpy as np

from ..errors import NameResolutionError, ShapeError, UnsupportedSyntax, UsageError
from ..graph import Lit, Var
from .shared import Part


class DictShape(tuple):
    """The shape of a dict parameter: ((key, shape), ...) in the dict's order."""

    __slots__ = ()

    @property
    def keys(self) -> list[str]:
        return [k for k, _ in self]


class DictValue(dict):
    """A dict of values while tracing (key -> Var): read with a constant key."""


class Setting(tuple):
    """A dict entry that is a setting, not data (an int, a bool, a string: `conv_param['stride']`,
    `bn_param['mode']`): a constant of the generated module, which is made again for another value."""

    __slots__ = ()

    @property
    def value(self):
        return self[0]


def is_setting(v) -> bool:
    """Settings: Python ints and bools, numpy integers, strings (numbers that are floats are data)."""
    return isinstance(v, (bool, str, np.integer)) or type(v) is int


def flat_names(shapes) -> dict[str, list[str]]:
    """The generated module's parameter for each key of each dict parameter, from (name, shape) pairs in
    the parameters' order: `params_W1` (the key made an identifier; suffixed where it would clash)."""
    pairs = list(shapes)
    taken = {n for n, _ in pairs}
    out = {}
    for param, shape in pairs:
        if not isinstance(shape, DictShape):
            continue
        names = []
        for key in (k for k, kind in shape if not isinstance(kind, Setting)):
            base = f"{param}_{re.sub(r'[^0-9a-zA-Z_]', '_', key)}"
            name, n = base, 1
            while name in taken or keyword.iskeyword(name):
                name, n = f"{base}_{n}", n + 1
            taken.add(name)
            names.append(name)
        out[param] = names
    return out


class Dicts(Part):
    def params(self, fn: ast.FunctionDef, shapes: dict) -> tuple[list[Var], dict]:
        """The traced function's parameters (a dict parameter: one per key), and its scope."""
        args = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        flats = flat_names((a, shapes.get(a, ())) for a in args)
        params, env = [], {}
        for name in args:
            shape = shapes.get(name, ())
            if isinstance(shape, DictShape):
                value = DictValue()
                flat = iter(flats[name])
                for key, key_shape in shape:
                    if isinstance(key_shape, Setting):  # stride, pad, mode: a constant
                        value[key] = Lit(key_shape.value)
                        continue
                    v = Var(next(flat), "param", shape=key_shape)
                    params.append(v)
                    value[key] = v
                env[name] = value
            else:
                env[name] = Var(name, "param", shape=shape)
                params.append(env[name])
        return params, env

    def item(self, node: ast.Subscript, env):
        """`params["W1"]`: the value under a constant key."""
        d = self.expr(node.value, env, None)
        key = node.slice.value if isinstance(node.slice, ast.Constant) else self.t.expressions.static(
            node.slice, env, "a dict's key")
        if not isinstance(d, DictValue):
            what = "a number" if isinstance(d, (Var, Lit)) and d.shape == () else "not a dict"
            error = ShapeError if self.t.assumed else UnsupportedSyntax  # a dict traced as a scalar: wait for it
            raise error(f"`{ast.unparse(node.value)}[{key!r}]`: `{ast.unparse(node.value)}` is {what}",
                        self.src.loc(node), "pass a dict of arrays (its keys strings), e.g. params = {'W1': W1}")
        if key not in d:
            raise NameResolutionError(f"`{ast.unparse(node.value)}` has no key {key!r}", self.src.loc(node.slice),
                                      f"its keys: {', '.join(map(repr, d))}")
        return d[key]

    def view(self, node: ast.Call, d: DictValue):
        """`params.items()`, `.keys()`, `.values()`: a tuple to loop over."""
        method = node.func.attr
        if node.args or node.keywords:
            raise UnsupportedSyntax(f"`.{method}()` takes no arguments", self.src.loc(node), f"d.{method}()")
        if method == "keys":
            return Lit(tuple(d))
        if method == "values":
            return tuple(d.values())
        return tuple((Lit(k), v) for k, v in d.items())


# -- the decorator's side: dict arguments in, dict gradients out --------------------------------------------


def dict_params(fn: ast.FunctionDef, helpers) -> set[str]:
    """The parameters `fn` reads as dicts (`p["W1"]`, `p[k]`, `p.items()`, `for k in p`, or passed to a helper
    of the module, `helpers`): only those may be given a dict."""
    params = {a.arg for a in fn.args.posonlyargs + fn.args.args}
    found = set()
    for n in ast.walk(fn):
        if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and (
                isinstance(n.slice, ast.Name) or isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str)):
            found.add(n.value.id)
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.attr in ("items", "keys", "values"):
            found.add(n.value.id)
        elif isinstance(n, (ast.For, ast.comprehension)) and isinstance(n.iter, ast.Name):
            found.add(n.iter.id)
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in helpers:
            found |= {a.id for a in [*n.args, *(k.value for k in n.keywords)] if isinstance(a, ast.Name)}
    return found & params


def shapes_of(names: list[str], values, plain) -> tuple:
    """Options.shapes from example values (`plain`: pipeline.shapes_of), a dict's as a DictShape."""
    if plain is not None and not any(isinstance(v, dict) for v in values):
        return plain(names, values)
    def entry(x):
        return Setting((x.item() if isinstance(x, np.generic) else x,)) if is_setting(x) else tuple(
            int(d) for d in np.shape(x))
    return tuple((n, DictShape((k, entry(x)) for k, x in v.items())
                  if isinstance(v, dict) else tuple(int(d) for d in np.shape(v))) for n, v in zip(names, values))


def checked(value: dict, param: str, fn: str, what: str) -> dict:
    """A dict argument: string keys, each value a real number or an array of them (lists become arrays)."""
    if not value or not all(isinstance(k, str) for k in value):
        raise UsageError(f"{what} {param} of {fn}() is a dict: flatgen takes a dict of arrays with string keys, "
                         f"got {value!r:.80}", hint="params = {'W1': W1, 'b1': b1}")
    out = {}
    for k, v in value.items():
        if is_setting(v):  # a setting: a constant of the module
            out[k] = v
            continue
        try:
            kind = np.asarray(v).dtype.kind
        except (TypeError, ValueError):  # ragged lists and the like
            kind = "O"
        if kind not in "biuf":
            raise UsageError(f"{what} {param}[{k!r}] of {fn}() must be a real number or an array of them, got "
                             f"{type(v).__name__}", hint="params = {'W1': np.zeros((3, 4)), ...}")
        out[k] = np.asarray(v) if isinstance(v, (list, tuple)) else v
    return out


def flat(args) -> tuple:
    """The arguments as the generated module takes them: a dict's values in its order."""
    if not any(isinstance(a, dict) for a in args):
        return args
    return tuple(x for a in args for x in ([v for v in a.values() if not is_setting(v)] if isinstance(a, dict)
                                           else (a,)))


def wrt(names: tuple | None, shapes) -> tuple | None:
    """wrt= with a dict parameter's name standing for all of its keys' parameters."""
    flats = flat_names(shapes or ())
    if names is None or not any(n in flats for n in names):
        return names
    return tuple(x for n in names for x in flats.get(n, [n]))


def packed(result, args, names: list[str], wrt_names: tuple | None, ints: set):
    """(value, gradients) with each dict parameter's gradients gathered back into a dict of its keys
    (`wrt_names`: the user's, or already expanded to the keys' parameters)."""
    if not any(isinstance(a, dict) for a in args):
        return result
    value, grads = result
    flats = flat_names(shapes_of(names, args, None))
    owner = {f: (n, k) for n, fs in flats.items()
             for f, k in zip(fs, [k for k, v in args[names.index(n)].items() if not is_setting(v)])}
    order = wrt(tuple(wrt_names) if wrt_names is not None else tuple(n for n in names if n not in ints), flats_shapes(
        names, args))
    out: list = []
    for name, g in zip(order, grads):
        if name in owner:
            param, key = owner[name]
            if not out or not isinstance(out[-1], _Grads) or out[-1].param != param:
                out.append(_Grads(param))
            out[-1][key] = g
        else:
            out.append(g)
    return value, tuple(dict(g) if isinstance(g, _Grads) else g for g in out)


def flats_shapes(names: list[str], args) -> tuple:
    return shapes_of(names, args, None)


class _Grads(dict):
    """One dict parameter's gradients, gathered."""

    def __init__(self, param: str):
        super().__init__()
        self.param = param
