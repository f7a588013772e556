"""The typed syntax tree of the space language: one dataclass per construct, each with its place in the file.

:mod:`symnas.dsl.parser` builds these nodes from the text (a lark Transformer); :mod:`symnas.dsl.semantic` checks
a file's declarations; :mod:`symnas.dsl.interpreter` evaluates expressions (the one evaluator: load time, derived
values and constraints); :mod:`symnas.dsl.compiler` lowers a file to a :class:`symnas.Space`. ``line``/``col`` are
1-based (``None`` where the node holds no token, e.g. ``[]``); ``depth`` is the nesting depth of the subtree.

Example::

    >>> from symnas.dsl.parser import parse_expr
    >>> n = parse_expr("a + 1 <= 9")
    >>> type(n).__name__, n.ops, type(n.first).__name__
    ('Compare', ('<=',), 'BinOp')
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

__all__ = ["Node", "Expr", "Literal", "Name", "ListExpr", "TupleExpr", "DictExpr", "ListComp", "Keyword", "Starred",
           "Call", "Attribute", "Subscript", "BinOp", "UnaryOp", "BoolOp", "Compare", "IfExp", "Stmt", "SpaceStmt",
           "Import", "Bind", "Build", "Constraint", "Meta", "Module", "children"]


@dataclass(eq=False, slots=True)
class Node:
    """A node with its place: ``line``, ``col`` of its first token (1-based), the depth and the number of nodes
    of its subtree."""

    line: Optional[int]
    col: Optional[int]
    depth: int = field(default=1, kw_only=True, repr=False)
    size: int = field(default=1, kw_only=True, repr=False)


# ------------------------------------------------------------------------------------------------ expressions
@dataclass(eq=False, slots=True)
class Expr(Node):
    """An expression."""


@dataclass(eq=False, slots=True)
class Literal(Expr):
    """A number, string, ``True``/``False``/``None`` (or, in residual expressions, a folded constant)."""

    value: Any


@dataclass(eq=False, slots=True)
class Name(Expr):
    """A bare name: a binding, an import alias, a loop variable or a decision."""

    id: str


@dataclass(eq=False, slots=True)
class ListExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class TupleExpr(Expr):
    items: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class DictExpr(Expr):
    keys: tuple[Expr, ...]
    values: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class ListComp(Expr):
    """``[body for var in iter if cond]``."""

    body: Expr
    var: str
    iter: Expr
    cond: Optional[Expr]


@dataclass(eq=False, slots=True)
class Keyword(Node):
    """``name=value`` in a call."""

    name: str
    value: Expr


@dataclass(eq=False, slots=True)
class Starred(Node):
    """``*value`` in a call."""

    value: Expr


Arg = Union[Expr, Keyword, Starred]


@dataclass(eq=False, slots=True)
class Call(Expr):
    func: Expr
    args: tuple[Arg, ...]


@dataclass(eq=False, slots=True)
class Attribute(Expr):
    """``value.attr`` (import members and dotted builder paths)."""

    value: Expr
    attr: str


@dataclass(eq=False, slots=True)
class Subscript(Expr):
    value: Expr
    index: Expr


@dataclass(eq=False, slots=True)
class BinOp(Expr):
    """``left op right`` for ``+ - * / // % **``."""

    op: str
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class UnaryOp(Expr):
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr


@dataclass(eq=False, slots=True)
class BoolOp(Expr):
    """``left and right`` / ``left or right``."""

    op: str
    left: Expr
    right: Expr


@dataclass(eq=False, slots=True)
class Compare(Expr):
    """``first ops[0] rest[0] ops[1] rest[1] ...`` (ops include ``in`` and ``not in``)."""

    first: Expr
    ops: tuple[str, ...]
    rest: tuple[Expr, ...]


@dataclass(eq=False, slots=True)
class IfExp(Expr):
    """``body if test else orelse``."""

    body: Expr
    test: Expr
    orelse: Expr


# ------------------------------------------------------------------------------------------------ statements
@dataclass(eq=False, slots=True)
class Stmt(Node):
    """A statement; its place is that of its main token (the name bound, the path imported, the expression)."""


@dataclass(eq=False, slots=True)
class SpaceStmt(Stmt):
    """``space "name"``."""

    name: str


@dataclass(eq=False, slots=True)
class Import(Stmt):
    """``import "path" as alias`` (placed at the path)."""

    path: str
    alias: str


@dataclass(eq=False, slots=True)
class Bind(Stmt):
    """``name = value`` or ``let name = value`` (placed at the name)."""

    name: str
    value: Expr
    let: bool


@dataclass(eq=False, slots=True)
class Build(Stmt):
    value: Expr


@dataclass(eq=False, slots=True)
class Constraint(Stmt):
    """``require expr`` / ``forbid expr``."""

    kind: str
    expr: Expr


@dataclass(eq=False, slots=True)
class Meta(Stmt):
    value: Expr


@dataclass(eq=False, slots=True)
class Module(Node):
    """A whole file."""

    body: tuple[Stmt, ...]


def children(n: Node) -> list[Node]:
    """The direct child nodes of ``n`` (for walks that do not care about the kind)."""
    if isinstance(n, (Literal, Name)):
        return []
    if isinstance(n, (ListExpr, TupleExpr)):
        return list(n.items)
    if isinstance(n, DictExpr):
        return [x for kv in zip(n.keys, n.values) for x in kv]
    if isinstance(n, ListComp):
        return [n.iter, n.body] + ([n.cond] if n.cond is not None else [])
    if isinstance(n, (Keyword, Starred)):
        return [n.value]
    if isinstance(n, Call):
        return [n.func, *n.args]
    if isinstance(n, (Attribute, Subscript)):
        return [n.value] + ([n.index] if isinstance(n, Subscript) else [])
    if isinstance(n, (BinOp, BoolOp)):
        return [n.left, n.right]
    if isinstance(n, UnaryOp):
        return [n.operand]
    if isinstance(n, Compare):
        return [n.first, *n.rest]
    if isinstance(n, IfExp):
        return [n.body, n.test, n.orelse]
    if isinstance(n, (Bind, Build, Meta)):
        return [n.value]
    if isinstance(n, Constraint):
        return [n.expr]
    if isinstance(n, Module):
        return list(n.body)
    return []
