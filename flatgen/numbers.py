"""The numbers on the circuit: one run of the gradient graph, recorded gate by gate.

`explain` (the table) and `draw` (the picture) show what the lecture writes on its circuit: each
gate's forward value, the gradient that reaches it (upstream), its local gradient, and what it sends
back to each input (downstream).  Nothing here differentiates: the interpreter runs the gradient
graph that the module is rendered from (interpret.execute), and this module only listens.  Each
forward equation that runs is one gate application (a loop's body: one per iteration); the backward
equations that differentiate it (`Eqn.block`) are its backward group, and the j-th group of an
equation, counting back, belongs to its j-th application counting forward.  The local gradient is
the table's own rule for that input, evaluated with an upstream gradient of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import UsageError
from .graph import Atom, Eqn, Graph, Lit, Var, is_loop
from .expr import fill
from .interpret import execute
from .primitives import SUM_LEAD, SUM_ONES, UNBROADCAST

SUMS_BACK = (SUM_LEAD, SUM_ONES, UNBROADCAST)  # a contribution summed back to a broadcast input's shape


@dataclass
class Input:
    """One input of one gate application."""

    atom: Atom  # the variable (or constant) the gate read
    value: object  # its value, as the gate read it
    local: object = None  # d out / d input: a number or an array, a formula (str), None without gradient
    share: object = None  # the gradient the gate sends back to it (downstream); None: none
    starts: bool = True  # does the share start the input's gradient (rather than add to what came before)?


@dataclass
class Gate:
    """One application of a forward equation: its values, and what its backward group computed."""

    eqn: Eqn
    value: object  # the forward value it made
    inputs: list[Input]
    iteration: tuple = ()  # ((loop index variable or None, value), ...): which iteration of which loop
    grad: object = None  # the upstream gradient (the value's whole gradient); None: not on the gradient path
    backward: bool = False  # did a backward group run for it?


@dataclass
class Run:
    """What one run of a gradient graph showed: every gate application, forward order and backward order."""

    graph: Graph  # the gradient graph
    forward: Graph  # the forward graph (the equations that are gates)
    args: tuple
    applications: list[Gate] = field(default_factory=list)  # in forward order
    backward: list[Gate] = field(default_factory=list)  # the applications that had a backward group, backward order
    # backward order, with where a gradient starts again at zero: Gate, or the Var whose gradient is zeroed
    events: list = field(default_factory=list)
    env: dict = field(default_factory=dict)  # every variable's last value (gradients of the parameters too)
    seeds: tuple = (1.0,)  # the upstream gradient of each output
    ones: bool = False  # was an array output's upstream gradient the default, ones of its shape?

    @property
    def param_values(self) -> dict:
        return dict(zip(self.graph.params, self.args))

    def gradient(self, p: Var):
        """The whole gradient of parameter `p` (as the generated module returns it), or None."""
        n = self.graph.n_values
        for o, q in zip(self.graph.outs[n:], self._wrt()):
            if q is p:
                return o.value if isinstance(o, Lit) else self.env.get(o)
        return None

    def _wrt(self) -> list[Var]:
        n = self.graph.n_values
        return [o.of if isinstance(o, Var) else None for o in self.graph.outs[n:]]

    @property
    def wrt(self) -> list[Var]:
        return [p for p in self._wrt() if p is not None]


def default_seeds(grad: Graph) -> tuple:
    """The upstream gradients the table and the picture use when none is given: the first output's
    gradient (1.0; ones of its shape for an array: the gradient of its sum), zeros for the others."""
    def one(o, k):
        shape = o.shape
        if shape in ((), None):
            return 1.0 if k == 0 else 0.0
        return np.ones(shape) if k == 0 else np.zeros(shape)
    return tuple(one(o, k) for k, o in enumerate(grad.outs[: grad.n_values]))


def record(forward: Graph, grad: Graph, args: tuple, seed=None, label=None, names=None) -> Run:
    """Run `grad` (the gradient graph made from `forward`) on `args` and record every gate application.

    `seed`: the upstream gradient (checked by the caller, as value_and_grad checks it: the value itself
    for one output, a tuple for several); None: `default_seeds`.  `label` names variables in the
    formulas shown for local gradients that are not numbers, `names` the module's names for numpy and
    math there (the renderer's globals)."""
    if len(args) != len(grad.params):
        raise UsageError(f"{grad.name}() takes {len(grad.params)} argument(s), got {len(args)}")
    gates = {id(e) for e in forward.eqns}
    run = Run(grad, forward, tuple(args))
    env: dict = dict(zip(grad.params, args))
    if grad.seed is not None:
        one = grad.n_values == 1
        seeds = default_seeds(grad) if seed is None else ((seed,) if one else tuple(seed))
        run.seeds, run.ones = seeds, seed is None and any(np.ndim(s) for s in seeds)
        env[grad.seed] = seeds[0] if one else seeds
    by_eqn: dict[int, list[Gate]] = {}  # applications of each equation, forward order
    events: list = []  # backward order: a group's index, or a variable whose gradient starts at zero
    groups: list[tuple[Eqn, list]] = []  # backward groups, in the order they ran: (equation, [(eqn, values, out)])
    state = {"open": None}  # the group being filled

    def on_eqn(e: Eqn, values: list, out) -> None:
        if id(e) in gates:
            app = Gate(e, _snapshot(out), [Input(a, _snapshot(v)) for a, v in zip(e.ins, values)],
                       _iteration(e, env, len(by_eqn.get(id(e), ()))))
            by_eqn.setdefault(id(e), []).append(app)
            run.applications.append(app)
            state["open"] = None
            return
        f = e.block
        if e.op.zero_init and isinstance(e.out.of, Var):  # `grad_x = 0.0`: what comes next adds to nothing
            events.append(e.out.of)
        if f is None or id(f) not in gates or e.op.restores or e.op.saves:
            state["open"] = None  # bookkeeping (a seed, a merge, a tape): the group, if any, is over
            return
        group = state["open"]
        k = _rule_index(f, e)
        if group is None or group[0] is not f or (k is not None and k in group[2]):
            group = state["open"] = (f, [], set())  # a new application's group (the next iteration's, in a loop)
            groups.append(group[:2])
            events.append(len(groups) - 1)
        if k is not None:
            group[2].add(k)
        group[1].append((e, [_snapshot(v) for v in values], _snapshot(out)))

    try:
        with np.errstate(all="ignore"):  # numpy's warnings belong to the user's function, not to the table
            execute(grad.eqns, env, 0, grad.math, on_eqn)
    except (ArithmeticError, ValueError) as e:  # math mode: math.log(0.0), 1.0 / 0.0, as the module raises them
        raise UsageError(f"{grad.name}() fails at these arguments: {type(e).__name__}: {e}",
                         hint="pick arguments where the function and its gradient are defined") from None
    run.env = env
    seen: dict[int, int] = {}
    for event in events:
        if isinstance(event, Var):
            run.events.append(event)
            continue
        f, records = groups[event]  # the j-th group of f, counting back, is its j-th application counting forward
        apps = by_eqn.get(id(f), [])
        j = seen[id(f)] = seen.get(id(f), 0) + 1
        if j > len(apps):
            continue
        app = apps[len(apps) - j]
        _fill(app, records, grad.math, label, names)
        run.backward.append(app)
        run.events.append(app)
    return run


def _snapshot(v):
    """A value as it is now: arrays copied (a later statement may update a gradient array in place)."""
    return v.copy() if isinstance(v, np.ndarray) else v


def _iteration(e: Eqn, env: dict, count: int) -> tuple:
    """Which iteration of which loops an application runs in: (index variable, value) per loop;
    a `while` loop has no index, so the application's count stands in (from 0)."""
    loops = [f for f in e.frames if is_loop(f)]
    if not loops:
        return ()
    return tuple((f.index, env.get(f.index)) if f.index is not None else (None, count) for f in loops)


def _rule_index(f: Eqn, e: Eqn) -> int | None:
    """Which input of `f` the backward equation `e` is the rule (or in-place scatter) of, if it is one."""
    for k, rule in enumerate(f.op.rules):
        if rule is not None and (e.op is rule or e.op is rule.accumulate):
            return k
    return None


def _fill(app: Gate, records: list, math_mode: bool, label, names=None) -> None:
    """The upstream gradient, and each input's share and local gradient, from one backward group."""
    f = app.eqn
    app.backward = True
    k = None
    slots = {"out": app.value, **{s: i.value for s, i in zip(f.op.expr.slots, app.inputs)}}
    for e, values, out in records:
        r = _rule_index(f, e)
        if r is not None:
            k = r
            named = dict(zip(e.op.expr.slots, values))
            if app.grad is None and "g" in named:
                app.grad = named["g"]
            if e.op is f.op.rules[k]:
                app.inputs[k].share = out
            else:  # `grad_x[idx] += g` into an array of its own: the share is the plain scatter of g
                app.inputs[k].share = _evaluate(f.op.rules[k], {**slots, "g": named["g"]}, f.params, math_mode)
            app.inputs[k].local = local_gradient(f, k, slots, math_mode, label, names)
        elif e.op in SUMS_BACK and k is not None:
            app.inputs[k].share = out  # summed back to the input's shape: that is what the input receives
        elif e.op.adds and k is not None:
            app.inputs[k].starts = False  # `grad_x += d`: added to the shares before it
        if r is not None and e.op is not f.op.rules[r]:
            app.inputs[r].starts = False  # an in-place scatter adds into the array made before


def local_gradient(f: Eqn, k: int, slots: dict, math_mode: bool, label=None, names=None):
    """d out / d input k, from the table's rule with an upstream gradient of one.

    For a scalar output that is the gradient itself (a number, or an array shaped like the input);
    for an elementwise gate, the local gradient of each element.  Other gates with array outputs
    (a matrix product) are never turned into a Jacobian: their rule is shown as a formula instead.
    """
    rule = f.op.rules[k]
    shape = np.shape(slots["out"])
    if shape == ():
        one = 1.0
    elif f.op.elementwise:
        one = np.ones(shape)
    else:
        return formula(rule, f, label, math_mode, names)
    return _evaluate(rule, {**slots, "g": one}, f.params, math_mode)


def _evaluate(rule, slots: dict, params: dict, math_mode: bool):
    template = rule.template(math_mode)
    try:
        with np.errstate(all="ignore"):
            return rule(*(slots[s] for s in template.slots), math_mode=math_mode, **params)
    except (ArithmeticError, ValueError):  # math mode: math.log(0.0) and the like raise, as in the module
        return None


def formula(rule, f: Eqn, label=None, math_mode: bool = False, names=None) -> str:
    """A rule as one line of text, as the generated module writes it: the template rendered by the
    renderer's machinery (expr.Expr.pattern: params as constants, np.shape of a known shape folded,
    defaults dropped), with `g` for the upstream gradient, `d` for what the input receives, and the
    gate's inputs spelled with `label` (a variable's name; constants as numbers)."""
    from .format import format_snippet

    template = rule.template(math_mode)
    atoms = {"g": None, "out": f.out, **dict(zip(f.op.expr.slots, f.ins))}
    shapes = {"g": f.out.shape, "out": f.out.shape, **{s: a.shape for s, a in zip(f.op.expr.slots, f.ins)}}
    spelled = {"g": "g", "OUT": "d", "out": label(f.out) if label else "out"}
    args, texts = [], []
    for s in template.slots:
        a = atoms.get(s)
        if isinstance(a, Lit) and a.value is not None:
            args.append(a.value)
            texts.append("")
        else:
            args.append(None)
            texts.append(spelled.get(s) or (label(a) if label is not None and isinstance(a, Var) else s))
    globals_ = dict(names or {})
    if template.block:
        globals_["OUT"] = "d"
    pattern = template.pattern(args, globals_, f.params, rule.defaults, [shapes.get(s) for s in template.slots],
                               fmt=format_snippet)
    text = fill(pattern, texts).replace("\n", "; ")
    return text if template.block else f"d = {text}"
