"""The canonical text of an expression tree (:mod:`symnas.dsl.nodes`): what derived values and constraints are
stored as. Every compound operand is parenthesised, so the text reads back to the same tree.

Example::

    >>> from symnas.dsl.parser import parse_expr
    >>> to_text(parse_expr("a+b <= 5"))
    '(a + b) <= 5'
"""
from __future__ import annotations

from symnas.dsl import nodes as N
from symnas.dsl.values import literal

__all__ = ["to_text"]



_ATOMIC = (N.Literal, N.Name, N.ListExpr, N.TupleExpr, N.DictExpr)


def _is_value_call(n: N.Expr) -> bool:
    return isinstance(n, N.Call) and isinstance(n.func, N.Name) and n.func.id == "value"


def to_text(n: N.Node, top: bool = True) -> str:
    """The canonical text of an expression; every compound operand is parenthesised (``(a + b) <= 5``)."""
    if not top and not isinstance(n, _ATOMIC) and not _is_value_call(n):
        return "(" + to_text(n, True) + ")"
    if isinstance(n, N.Literal):
        return literal(n.value)
    if isinstance(n, N.Name):
        return n.id
    if isinstance(n, N.ListExpr):
        return "[" + ", ".join(to_text(x, False) for x in n.items) + "]"
    if isinstance(n, N.TupleExpr):
        inner = [to_text(x, False) for x in n.items]
        return "(" + inner[0] + ",)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"
    if isinstance(n, N.DictExpr):
        return "{" + ", ".join(f"{to_text(k, False)}: {to_text(v, False)}" for k, v in zip(n.keys, n.values)) + "}"
    if isinstance(n, N.BinOp):
        return f"{to_text(n.left, False)} {n.op} {to_text(n.right, False)}"
    if isinstance(n, N.UnaryOp):
        return f"not {to_text(n.operand, False)}" if n.op == "not" else f"{n.op}{to_text(n.operand, False)}"
    if isinstance(n, N.BoolOp):
        return f"{to_text(n.left, False)} {n.op} {to_text(n.right, False)}"
    if isinstance(n, N.Compare):
        out = to_text(n.first, False)
        for op, x in zip(n.ops, n.rest):
            out += f" {op} {to_text(x, False)}"
        return out
    if isinstance(n, N.IfExp):
        return f"{to_text(n.body, False)} if {to_text(n.test, False)} else {to_text(n.orelse, False)}"
    if isinstance(n, N.Subscript):
        return f"{to_text(n.value, False)}[{to_text(n.index, False)}]"
    if isinstance(n, N.Attribute):
        return f"{to_text(n.value, False)}.{n.attr}"
    if isinstance(n, N.Call):
        parts = []
        for a in n.args:
            if isinstance(a, N.Keyword):
                parts.append(f"{a.name}={to_text(a.value, False)}")
            elif isinstance(a, N.Starred):
                parts.append(f"*{to_text(a.value, False)}")
            else:
                parts.append(to_text(a, False))
        return f"{to_text(n.func, False)}({', '.join(parts)})"
    if isinstance(n, N.ListComp):
        cond = f" if {to_text(n.cond, False)}" if n.cond is not None else ""
        return f"[{to_text(n.body, False)} for {n.var} in {to_text(n.iter, False)}{cond}]"
    raise TypeError(f"not an expression: {type(n).__name__}")  # pragma: no cover
