"""Fence: refuse, before tracing, every construct outside flatgen's subset.

The fence only looks at syntax.  Whether a name or a call means something (a parameter, numpy,
a helper) is the tracer's question.  Each refusal points at the construct and says what to write
instead; the wording lives in HINTS, one row per construct.
"""

from __future__ import annotations

import ast

from .errors import UnsupportedSyntax
from .parse import Source

# What to write instead, per construct.  A construct missing here gets a generic hint.
HINTS: dict[type, str] = {
    ast.For: "loop over a range, a list, an array, zip(...) or enumerate(...): `for t in range(4):`",
    ast.AsyncFor: "flat gradient code has no async: write a plain `def` function",
    ast.While: "a `while` loop tests one comparison on data: `while err > tol:`",
    ast.Break: "`break` belongs in a loop",
    ast.Continue: "`continue` belongs in a loop",
    ast.If: "branches on data come next: write np.where(c, a, b), max(a, b) or min(a, b) where they fit",
    ast.With: "a gradient function has no context managers: compute values only",
    ast.AsyncWith: "flat gradient code has no async: write a plain `def` function",
    ast.Try: "flat code has no exceptions: check inputs before calling the function",
    ast.TryStar: "flat code has no exceptions: check inputs before calling the function",
    ast.Raise: "flat code has no exceptions: raise only on a path decided by settings (else: raise ...)",
    ast.Import: "import numpy or math at the top of the module, not inside the function",
    ast.ImportFrom: "import at the top of the module, not inside the function",
    ast.Global: "a gradient function reads its inputs only: pass the value as a parameter",
    ast.Nonlocal: "a gradient function reads its inputs only: pass the value as a parameter",
    ast.Delete: "values are never deleted in flat code: just stop using the name",
    ast.ClassDef: "define classes outside the function; flatgen differentiates numeric code only",
    ast.FunctionDef: "define helpers at module level; flatgen inlines calls to them",
    ast.AsyncFunctionDef: "flat gradient code has no async: write a plain `def` function",
    ast.Lambda: "write the lambda as a module-level `def` helper; flatgen inlines calls to it",
    ast.SetComp: "sets are not numbers: use a list comprehension, [... for v in xs]",
    ast.DictComp: "build a list (or pass a dict of arrays as a parameter): [... for v in xs]",
    ast.Yield: "a gradient function returns one value: use `return`",
    ast.YieldFrom: "a gradient function returns one value: use `return`",
    ast.Await: "flat gradient code has no async: write a plain `def` function",
    ast.NamedExpr: "write the walrus as its own assignment statement: `y = ...`",
    ast.JoinedStr: "strings are not numbers: flatgen differentiates numeric code only",
    ast.Set: "sets are not numbers: use scalar values",
    ast.Dict: "dicts are not in the subset: pass the values as parameters",
    ast.Starred: "star-arguments are not in the subset: pass each argument by position",
    ast.BoolOp: "`and`/`or` stand in the conditions of `if` and `a if c else b` only",
    ast.Match: "`match` is not in the subset: write the arithmetic directly",
    ast.Slice: "slices belong inside an index: x[1:3]",
}

BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.FloorDiv, ast.Mod)
COMPARE = (ast.Gt, ast.Lt, ast.GtE, ast.LtE, ast.Eq, ast.NotEq)
AUGOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.FloorDiv, ast.Mod)
OP_HINTS: dict[type, str] = {
    ast.BitAnd: "bitwise operators are not numeric arithmetic: use + - * / **",
    ast.BitOr: "bitwise operators are not numeric arithmetic: use + - * / **",
    ast.BitXor: "bitwise operators are not numeric arithmetic (for a power write `**`)",
    ast.LShift: "bitwise operators are not numeric arithmetic: use + - * / **",
    ast.RShift: "bitwise operators are not numeric arithmetic: use + - * / **",
    ast.Not: "`not` is not arithmetic: flatgen differentiates numeric code only",
    ast.Invert: "`~` is not arithmetic: use `-x` for negation",
}


def refuse(src: Source, node: ast.AST, what: str | None = None, hint: str | None = None):
    """Raise the fence's error for `node`."""
    kind = type(node)
    what = what or f"{_describe(node)} is not in flatgen's subset"
    hint = hint or HINTS.get(kind) or "rewrite it with assignments, + - * / ** and numpy/math calls"
    raise UnsupportedSyntax(what, src.loc(node), hint)


def _describe(node: ast.AST) -> str:
    special = {
        ast.IfExp: "a conditional expression (`a if c else b`)",
        ast.NamedExpr: "the walrus operator `:=`",
        ast.JoinedStr: "an f-string",
        ast.Lambda: "a lambda",
        ast.Starred: "a star-argument",
        ast.AsyncFunctionDef: "`async def`",
    }
    if type(node) in special:
        return special[type(node)]
    name = type(node).__name__
    keyword = {
        "For": "for", "While": "while", "If": "if", "With": "with", "Try": "try",
        "TryStar": "try/except*", "Raise": "raise", "Assert": "assert", "Import": "import",
        "ImportFrom": "from ... import", "Global": "global", "Nonlocal": "nonlocal", "Delete": "del",
        "ClassDef": "class", "FunctionDef": "a nested def", "Yield": "yield",
        "YieldFrom": "yield from", "Await": "await", "Match": "match",
        "AsyncFor": "async for", "AsyncWith": "async with",
    }.get(name)
    if keyword:
        return keyword if keyword.startswith("a ") else f"`{keyword}`"
    return {
        "ListComp": "a list comprehension", "SetComp": "a set comprehension",
        "DictComp": "a dict comprehension", "GeneratorExp": "a generator expression",
        "Set": "a set literal", "Dict": "a dict literal", "List": "a list literal",
        "Tuple": "a tuple", "Subscript": "indexing", "Compare": "a comparison",
        "BoolOp": "`and`/`or`", "Slice": "a slice",
    }.get(name, f"`{name}`")


def check_function(src: Source, fn: ast.AST, helper: bool = False) -> None:
    """Refuse what the subset does not allow in one function (the entry point, or a helper: helpers
    may also have keyword-only parameters and default values).  Once per function and source: a
    helper called ten times, or a function specialised to several shapes, is fenced once."""
    key = (id(fn), helper)
    if key in src.fenced:
        return
    _check_function(src, fn, helper)
    src.fenced.add(key)


def _check_function(src: Source, fn: ast.AST, helper: bool) -> None:
    if not isinstance(fn, ast.FunctionDef):
        refuse(src, fn)
    args = fn.args
    if args.vararg is not None:
        refuse(src, args.vararg, "`*args` is not in flatgen's subset",
               "list each parameter by name: def f(a, b, c)")
    if args.kwarg is not None:
        refuse(src, args.kwarg, "`**kwargs` is not in flatgen's subset",
               "list each parameter by name: def f(a, b, c)")
    if args.kwonlyargs and not helper:
        refuse(src, args.kwonlyargs[0], "keyword-only parameters are for helpers, not the function flatgen generates",
               "make it a positional parameter (the generated functions take positional arguments)")
    if args.defaults and not helper:
        refuse(src, args.defaults[0], "default values are for helpers, not the function flatgen generates",
               "drop the default: the generated functions take every argument")
    for d in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
        _check_expr(src, d)
    body = list(fn.body)
    if body and _is_docstring(body[0]):
        body = body[1:]
    returns = _own_returns(fn)
    if not returns:
        for stmt in body:  # a `yield`, `raise` or `nonlocal` is named as what it is, not as a missing return
            if isinstance(stmt, ast.Raise):
                refuse(src, stmt, "`raise` is not in flatgen's subset: this function only raises")
            _check_stmt(src, stmt)
        refuse(src, fn, f"{fn.name}() has no `return`",
               "end the function with `return <expression>`: flatgen differentiates the returned value")
    _check_block(src, body)
    falls = _falls_through(body)
    if falls is not None:
        refuse(src, falls, f"{fn.name}() does not return on every path: Python would return None after this",
               "return a value at the end of each path (an `else:` with its own return, or a final return)")


def _falls_through(body: list[ast.stmt]) -> ast.stmt | None:
    """The statement after which a path leaves `body` without a `return` (None: every path returns)."""
    last = body[-1] if body else None
    if isinstance(last, (ast.Return, ast.Raise)):
        return None
    if isinstance(last, ast.If) and last.orelse:
        return _falls_through(last.body) or _falls_through(last.orelse)
    return last


def _check_block(src: Source, body: list[ast.stmt], in_loop: bool = False) -> None:
    """The statements of a block: nothing after a `return`, `break` or `continue` (it would never run)."""
    for k, stmt in enumerate(body):
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue, ast.Raise)) and k + 1 < len(body):
            word = type(stmt).__name__.lower()
            refuse(src, body[k + 1], f"this statement never runs: it follows a `{word}`",
                   f"remove it, or move it before the `{word}`")
        if isinstance(stmt, ast.Return) and in_loop:
            refuse(src, stmt, "`return` inside a loop is not in flatgen's subset",
                   "`break` out of the loop, then return after it")
        _check_stmt(src, stmt, in_loop)


# Statements with no statements inside (no body, orelse, finalbody, handlers or cases)
_SIMPLE = {ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr, ast.Pass, ast.Break, ast.Continue, ast.Raise,
           ast.Assert, ast.Delete, ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal}


def _own_returns(fn: ast.FunctionDef) -> list[ast.Return]:
    """The function's own `return` statements (not those of nested defs or classes), in source order."""
    found, todo = [], list(fn.body)
    while todo:  # statements only: a return is a statement
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        elif type(node) not in _SIMPLE and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                todo.extend(n for n in getattr(node, field, ()) if isinstance(n, ast.AST))
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _check_loop(src: Source, stmt: ast.For | ast.While) -> None:
    if stmt.orelse:
        keyword = "for" if isinstance(stmt, ast.For) else "while"
        refuse(src, stmt.orelse[0], f"`{keyword} ... else` is not in flatgen's subset",
               "set a flag before the loop, clear it where you break, and test it after the loop")
    if isinstance(stmt, ast.While):
        if isinstance(stmt.test, ast.Constant) and not (stmt.test.value and _breaks(stmt.body)):
            refuse(src, stmt.test, "a `while` on a constant never ends (or never runs)",
                   "loop while a value computed in the loop says so: while err > tol: (or break out of "
                   "`while True:` on data)")
        if not isinstance(stmt.test, ast.Constant):
            _check_expr(src, stmt.test, condition=True)
        _check_block(src, stmt.body, in_loop=True)
        return
    _check_target(src, stmt.target, unpack=True)
    _check_expr(src, stmt.iter)
    _check_block(src, stmt.body, in_loop=True)


def _breaks(body: list[ast.stmt]) -> bool:
    """Does the loop body hold a `break` of its own loop?"""
    todo = list(body)
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Break):
            return True
        if not isinstance(n, (ast.For, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo.extend(c for f in ("body", "orelse") for c in getattr(n, f, ()))
    return False


def _is_docstring(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str))


def _check_stmt(src: Source, stmt: ast.stmt, in_loop: bool = False) -> None:
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:  # the most frequent
        _check_expr(src, stmt.value)
        return
    if isinstance(stmt, (ast.Pass, ast.Break, ast.Continue)):
        return
    if isinstance(stmt, (ast.For, ast.While)):
        _check_loop(src, stmt)
        return
    if isinstance(stmt, ast.Return):
        if stmt.value is None:
            refuse(src, stmt, "`return` needs a value", "return the scalar to differentiate: `return L`")
        _check_expr(src, stmt.value)
        return
    if isinstance(stmt, ast.Assert):
        _check_expr(src, stmt.test, condition=True)
        return
    if isinstance(stmt, ast.Raise):  # on a path decided now that is not taken (else: raise ValueError(...))
        return  # the tracer refuses one it reaches
    if isinstance(stmt, ast.Assign):
        for target in stmt.targets:  # a = b = ...: one value, each name bound to it
            _check_target(src, target, unpack=True)
        _check_expr(src, stmt.value)
        return
    if isinstance(stmt, ast.FunctionDef):  # a nested helper: pure, inlined where it is called
        if stmt.decorator_list:
            refuse(src, stmt.decorator_list[0], "a decorated nested function is not in flatgen's subset",
                   "drop the decorator")
        check_function(src, stmt, helper=True)
        return
    if isinstance(stmt, ast.If):
        _check_expr(src, stmt.test, condition=True)
        _check_block(src, stmt.body, in_loop)
        _check_block(src, stmt.orelse, in_loop)
        return
    if isinstance(stmt, ast.AnnAssign):
        if stmt.value is None:
            refuse(src, stmt, "a bare annotation assigns nothing", "write `x: float = <expression>` or drop it")
        _check_target(src, stmt.target)
        _check_expr(src, stmt.value)
        return
    if isinstance(stmt, ast.AugAssign):
        _check_target(src, stmt.target)
        if not isinstance(stmt.op, AUGOPS):
            refuse(src, stmt, f"augmented assignment with `{_op_symbol(stmt.op)}=` is not in flatgen's subset",
                   OP_HINTS.get(type(stmt.op), "use += -= *= /= or **="))
        _check_expr(src, stmt.value)
        return
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return  # a docstring, or a string as a comment
        if isinstance(stmt.value, (ast.Yield, ast.YieldFrom, ast.Await)):
            refuse(src, stmt.value)
        call = stmt.value
        if isinstance(call, ast.Call) and (isinstance(call.func, ast.Name) and call.func.id == "print"
                                           or isinstance(call.func, ast.Attribute) and call.func.attr in
                                           ("append", "extend") and isinstance(call.func.value, ast.Name)):
            if isinstance(call.func, ast.Attribute):
                _check_expr(src, call)
            return  # print(...) is dropped; xs.append(v) grows a list (the tracer judges both)
        refuse(src, stmt, "an expression statement does nothing in flat code (a call for its side effect?)",
               "flat code has no side effects: assign the value to a name, or remove the line "
               "(print(...) and xs.append(v) are the statements flatgen takes)")
    refuse(src, stmt)


def _check_target(src: Source, target: ast.expr, unpack: bool = False) -> None:
    if isinstance(target, ast.Name):
        return
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):  # z[0] = a * b
        _check_expr(src, target.slice, static=True)
        return
    if unpack and isinstance(target, (ast.Tuple, ast.List)):  # a, b = b, a
        for t in target.elts:
            if isinstance(t, ast.Starred):
                refuse(src, t, "starred unpacking is not in flatgen's subset", "unpack every item by name")
            _check_target(src, t, unpack=True)
        return
    if isinstance(target, ast.Attribute):
        refuse(src, target, "assigning to an attribute is not in flatgen's subset",
               "flat code has no side effects: assign to a plain name")
    if isinstance(target, ast.Subscript):
        refuse(src, target, "item assignment into anything but a named local array is not in flatgen's subset",
               "write into a local array by name: z = np.zeros(3); z[0] = a * b")
    if isinstance(target, (ast.Tuple, ast.List)):
        refuse(src, target, "unpacking is only for plain assignment (`a, b = ...`)",
               "assign one name at a time")
    refuse(src, target)


def _call_option(node: ast.expr) -> bool:
    """A string or None passed to a function (np.einsum('ij,jk->ik', ...), ord='fro', a_min=None):
    the tracer says whether that function takes it there; where a number is needed, it refuses."""
    return isinstance(node, ast.Constant) and (isinstance(node.value, str) or node.value is None)


def _check_expr(src: Source, node: ast.expr, static: bool = False, condition: bool = False) -> None:
    """`static`: inside an index or a keyword argument, where None, True/False and ... are values;
    `condition`: the test of an `if` or of `a if c else b`, where `and`, `or` and `not` may stand."""
    kind = type(node)
    if kind is ast.Name or kind is ast.Constant and type(node.value) in (int, float):  # the most frequent first
        return
    if isinstance(node, ast.BinOp):
        if not isinstance(node.op, BINOPS):
            refuse(src, node, f"the operator `{_op_symbol(node.op)}` is not in flatgen's subset",
                   OP_HINTS.get(type(node.op)))
        _check_expr(src, node.left, static)
        _check_expr(src, node.right, static)
        return
    if condition and isinstance(node, ast.BoolOp):
        for v in node.values:
            _check_expr(src, v, static, condition=True)
        return
    if condition and isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check_expr(src, node.operand, static, condition=True)
        return
    if isinstance(node, ast.IfExp):
        _check_expr(src, node.test, condition=True)
        _check_expr(src, node.body, static)
        _check_expr(src, node.orelse, static)
        return
    if isinstance(node, ast.Constant):
        v = node.value
        if (isinstance(v, bool) or v is None or v is ...) and not static:
            refuse(src, node, f"`{v!r}` is not a number", "use a numeric constant such as 0.0 or 1.0")
        if isinstance(v, (str, bytes)):
            refuse(src, node, "a string is not a number", "flatgen differentiates numeric code only")
        if isinstance(v, complex):
            refuse(src, node, "complex numbers are not in flatgen's subset",
                   "split the real and imaginary parts into two real values")
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            refuse(src, node, f"the operator `{_op_symbol(node.op)}` is not in flatgen's subset",
                   OP_HINTS.get(type(node.op)))
        _check_expr(src, node.operand, static)
        return
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute):
            _check_expr(src, node.func.value)
        elif not isinstance(node.func, ast.Name):
            refuse(src, node.func, "only calls of names and methods are in flatgen's subset (np.exp(x), x.sum())",
                   "call a numpy/math function or a module-level helper by name")
        for a in node.args:
            if isinstance(a, ast.Starred):
                refuse(src, a)
            if not _call_option(a):
                _check_expr(src, a, static)
        for kw in node.keywords:
            if kw.arg is None:
                refuse(src, kw, "`**` keyword arguments in a call are not in flatgen's subset",
                       "pass each argument by name")
            if not _call_option(kw.value):
                _check_expr(src, kw.value, static=True)
        return
    if isinstance(node, ast.Attribute):
        _check_expr(src, node.value, static)
        return
    if isinstance(node, ast.Compare):
        if len(node.ops) != 1 or not isinstance(node.ops[0], COMPARE):
            refuse(src, node, "only single comparisons (a > b) are in flatgen's subset",
                   "chained comparisons and `is`/`in` are not: write one comparison, e.g. np.where(a > b, a, b)")
        for side in (node.left, node.comparators[0]):
            if not (isinstance(side, ast.Constant) and isinstance(side.value, str)):  # mode == 'train'
                _check_expr(src, side)
        return
    if isinstance(node, ast.Subscript):
        _check_expr(src, node.value, static)
        if not (isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):  # params["W1"]
            _check_expr(src, node.slice, static=True)
        return
    if isinstance(node, (ast.ListComp, ast.GeneratorExp)):  # traced item by item (trace/lists.py)
        for gen in node.generators:
            _check_target(src, gen.target, unpack=True)
            _check_expr(src, gen.iter)
            for cond in gen.ifs:
                _check_expr(src, cond, condition=True)
        _check_expr(src, node.elt, static)
        return
    if isinstance(node, (ast.Tuple, ast.List)) and isinstance(node.ctx, ast.Load):
        for e in node.elts:
            if isinstance(e, ast.Starred):
                refuse(src, e)
            if not (isinstance(e, ast.Constant) and isinstance(e.value, str)):  # keys: for k in ["W1", "W2"]
                _check_expr(src, e, static)
        return
    if isinstance(node, ast.Slice) and static:
        for part in (node.lower, node.upper, node.step):
            if part is not None:
                _check_expr(src, part, static)
        return
    refuse(src, node)


def _op_symbol(op: ast.AST) -> str:
    return {
        ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&", ast.BitOr: "|",
        ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.Not: "not", ast.Invert: "~",
        ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
    }.get(type(op), type(op).__name__)
