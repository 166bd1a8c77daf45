"""`unparse(node)`: exactly `ast.unparse(node)`, four to five times faster on the code flatgen traces.

Every traced statement's text goes into the comments (printed from the tree, never copied from the
file); for a 10,000-line function, `ast.unparse` alone took a tenth of a second.  This printer knows
the nodes of arithmetic (names, numbers, operators, calls, attributes, subscripts, comparisons,
tuples, assignments, returns) and follows `ast._Unparser`'s precedence rules; any other node sends the
whole statement to `ast.unparse`.  tests/test_unparse.py holds it to `ast.unparse` on every statement
and expression of the repository's Python files and of generated programs.
"""

from __future__ import annotations

import ast

# ast._Unparser's precedence levels (Python 3.11), lowest first.
TUPLE, TEST, CMP, ARITH, TERM, FACTOR, POWER, AWAIT, ATOM = 2, 4, 8, 13, 14, 15, 16, 17, 18

_BINOPS = {ast.Add: ("+", ARITH), ast.Sub: ("-", ARITH), ast.Mult: ("*", TERM), ast.Div: ("/", TERM),
           ast.FloorDiv: ("//", TERM), ast.Mod: ("%", TERM), ast.MatMult: ("@", TERM), ast.Pow: ("**", POWER)}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}
_INF = "1e" + repr(__import__("sys").float_info.max_10_exp + 1)  # what ast.unparse writes for inf


class _Other(Exception):
    """A node this printer leaves to ast.unparse."""


def unparse(node: ast.AST) -> str:
    try:
        if isinstance(node, ast.stmt):
            return _statement(node)
        return _expr(node, TEST)
    except _Other:
        return ast.unparse(node)


def _statement(node: ast.stmt) -> str:
    kind = type(node)
    if kind is ast.Assign and node.type_comment is None:
        return "".join(f"{_expr(t, TUPLE)} = " for t in node.targets) + _expr(node.value, TEST)
    if kind is ast.AugAssign and type(node.op) in _BINOPS:
        return f"{_expr(node.target, TEST)} {_BINOPS[type(node.op)][0]}= {_expr(node.value, TEST)}"
    if kind is ast.Return:
        return "return" if node.value is None else f"return {_expr(node.value, TEST)}"
    raise _Other


def _expr(node: ast.expr, level: int) -> str:
    """`node` printed where the context's precedence is `level` (parentheses when it binds looser)."""
    kind = type(node)
    if kind is ast.Name:
        return node.id
    if kind is ast.Constant:
        value = node.value
        if node.kind is not None:
            raise _Other
        if type(value) is float:
            return repr(value).replace("inf", _INF).replace("nan", f"({_INF}-{_INF})")
        if type(value) in (int, bool) or value is None:
            return repr(value)
        raise _Other
    if kind is ast.BinOp:
        op, prec = _BINOPS.get(type(node.op), (None, 0))
        if op is None:
            raise _Other
        left, right = (prec + 1, prec) if prec == POWER else (prec, prec + 1)
        text = f"{_expr(node.left, left)} {op} {_expr(node.right, right)}"
        return f"({text})" if level > prec else text
    if kind is ast.UnaryOp:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise _Other
        text = op + _expr(node.operand, FACTOR)
        return f"({text})" if level > FACTOR else text
    if kind is ast.Call:
        parts = [_expr(a, TEST) for a in node.args]
        for k in node.keywords:
            if k.arg is None:
                raise _Other
            parts.append(f"{k.arg}={_expr(k.value, TEST)}")
        return f"{_expr(node.func, ATOM)}({', '.join(parts)})"
    if kind is ast.Attribute:
        value = node.value
        space = " " if type(value) is ast.Constant and isinstance(value.value, int) else ""
        return f"{_expr(value, ATOM)}{space}.{node.attr}"
    if kind is ast.Subscript:
        index = node.slice
        if type(index) is ast.Tuple and index.elts:
            inner = _items(index.elts)
        else:
            inner = _expr(index, TEST)
        return f"{_expr(node.value, ATOM)}[{inner}]"
    if kind is ast.Slice:
        text = (_expr(node.lower, TEST) if node.lower else "") + ":" + (_expr(node.upper, TEST) if node.upper else "")
        return text + (":" + _expr(node.step, TEST) if node.step else "")
    if kind is ast.Tuple:
        text = _items(node.elts)
        return f"({text})" if not node.elts or level > TUPLE else text
    if kind is ast.Compare:
        text = _expr(node.left, CMP + 1)
        for op, right in zip(node.ops, node.comparators):
            text += f" {_COMPARE[type(op)]} {_expr(right, CMP + 1)}"
        return f"({text})" if level > CMP else text
    raise _Other


def _items(elts: list) -> str:
    if any(type(e) is ast.Starred for e in elts):
        raise _Other
    return _expr(elts[0], TEST) + "," if len(elts) == 1 else ", ".join(_expr(e, TEST) for e in elts)
