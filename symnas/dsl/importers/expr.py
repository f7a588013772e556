"""A small, safe expression language for constraints and conditions over decision names (no ``eval``).

Syntax (see docs/formats.md)::

    expr   := or
    or     := and ('or' and)*
    and    := not ('and' not)*
    not    := 'not' not | cmp
    cmp    := atom (('==' | '!=' | '<' | '>' | '<=' | '>=') atom | 'in' '[' atom (',' atom)* ']')?
    atom   := NUMBER | 'string' | "string" | true | false | null | NAME | `any name` | '(' expr ')'

``NAME`` is ``[A-Za-z_][A-Za-z0-9_.:-]*`` (so ``classifier:svm:C`` is one name); other names go in backquotes.
A comparison involving a decision that is absent from the values (inactive) is false.

Example::

    >>> ast = parse("kernel == 'rbf' and (C > 1 or gamma in [0.1, 1])")
    >>> sorted(names(ast))
    ['C', 'gamma', 'kernel']
    >>> evaluate(ast, {"kernel": "rbf", "C": 0.5, "gamma": 1})
    True
    >>> to_text(ast)
    "kernel == 'rbf' and (C > 1 or gamma in [0.1, 1])"
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Union

from symnas.errors import SymnasError

__all__ = ["ExprError", "parse", "evaluate", "names", "to_text", "literal"]

Ast = tuple


class ExprError(SymnasError, ValueError):
    """A malformed constraint expression (the message gives the column) or an unknown name."""


_TOKEN = re.compile(r"""\s*(?:(?P<num>-?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<bq>`[^`]+`)
    |(?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)|(?P<name>[A-Za-z_][A-Za-z0-9_.:\-]*))""", re.X)
_CMP = ("==", "!=", "<", ">", "<=", ">=")
_KEYWORDS = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*\Z")


def _tokens(text: str) -> list[tuple[str, Any, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExprError(f"expression {text!r}, col {pos + 1}: unexpected character {text[pos:].lstrip()[:1]!r}")
        kind = m.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        col, pos = m.start(kind) + 1, m.end()
        val = m.group(kind)
        if kind == "num":
            out.append(("lit", float(val) if any(c in val for c in ".eE") else int(val), col))
        elif kind == "str":
            out.append(("lit", re.sub(r"\\(.)", r"\1", val[1:-1]), col))
        elif kind == "bq":
            out.append(("name", val[1:-1], col))
        elif kind == "name" and val in ("and", "or", "not", "in"):
            out.append(("op", val, col))
        elif kind == "name" and val in _KEYWORDS:
            out.append(("lit", _KEYWORDS[val], col))
        else:
            out.append((kind if kind != "op" else "op", val, col))
    out.append(("end", None, len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokens(text), 0

    def err(self, msg: str) -> ExprError:
        return ExprError(f"expression {self.text!r}, col {self.toks[self.i][2]}: {msg}")

    def peek(self, value: Any = None) -> bool:
        kind, val, _ = self.toks[self.i]
        return kind == "op" and val == value

    def take(self, value: str) -> None:
        if not self.peek(value):
            raise self.err(f"expected {value!r}")
        self.i += 1

    def expr(self) -> Ast:
        node = self.conj()
        while self.peek("or"):
            self.i += 1
            node = ("or", node, self.conj())
        return node

    def conj(self) -> Ast:
        node = self.neg()
        while self.peek("and"):
            self.i += 1
            node = ("and", node, self.neg())
        return node

    def neg(self) -> Ast:
        if self.peek("not"):
            self.i += 1
            return ("not", self.neg())
        return self.cmp()

    def cmp(self) -> Ast:
        left = self.atom()
        kind, val, _ = self.toks[self.i]
        if kind == "op" and val in _CMP:
            self.i += 1
            return (val, left, self.atom())
        if self.peek("in"):
            self.i += 1
            self.take("[")
            items = [self.atom()]
            while self.peek(","):
                self.i += 1
                items.append(self.atom())
            self.take("]")
            return ("in", left, tuple(items))
        return left

    def atom(self) -> Ast:
        kind, val, _ = self.toks[self.i]
        if kind == "lit":
            self.i += 1
            return ("lit", val)
        if kind == "name":
            self.i += 1
            return ("name", val)
        if self.peek("("):
            self.i += 1
            node = self.expr()
            self.take(")")
            return node
        raise self.err("expected a name, a literal or '('" if kind != "end" else "unexpected end")


def parse(text: str) -> Ast:
    """Parses an expression into a tuple AST; raises :class:`ExprError` with the column on bad input.

    Example::

        >>> parse("a != 1")
        ('!=', ('name', 'a'), ('lit', 1))
    """
    if not isinstance(text, str):
        raise ExprError(f"an expression must be a string, got {type(text).__name__}")
    p = _Parser(text)
    node = p.expr()
    if p.toks[p.i][0] != "end":
        raise p.err("unexpected trailing text")
    return node


def names(ast: Union[Ast, str]) -> set[str]:
    """The decision names an expression mentions."""
    ast = parse(ast) if isinstance(ast, str) else ast
    if ast[0] == "name":
        return {ast[1]}
    if ast[0] == "lit":
        return set()
    out: set[str] = set()
    for a in ast[1:]:
        for b in (a if ast[0] == "in" and isinstance(a, tuple) and a and isinstance(a[0], tuple) else (a,)):
            out |= names(b)
    return out


_MISSING = object()


def _value(ast: Ast, values: Mapping[str, Any]) -> Any:
    if ast[0] == "lit":
        return ast[1]
    if ast[0] == "name":
        return values.get(ast[1], _MISSING)
    return evaluate(ast, values)


def evaluate(ast: Union[Ast, str], values: Mapping[str, Any], known: Any = None) -> bool:
    """Evaluates an expression over ``{decision name: value}``; names missing from ``values`` are inactive.

    ``known`` (optional set of all decision names) turns a name outside it into an :class:`ExprError`.
    """
    ast = parse(ast) if isinstance(ast, str) else ast
    if known is not None:
        unknown = names(ast) - set(known)
        if unknown:
            raise ExprError(f"expression {to_text(ast)!r}: unknown decision name(s) {sorted(unknown)}")
    op = ast[0]
    if op == "or":
        return evaluate(ast[1], values) or evaluate(ast[2], values)
    if op == "and":
        return evaluate(ast[1], values) and evaluate(ast[2], values)
    if op == "not":
        return not evaluate(ast[1], values)
    if op in ("lit", "name"):
        v = _value(ast, values)
        return bool(v) if v is not _MISSING else False
    left = _value(ast[1], values)
    if left is _MISSING:
        return False
    if op == "in":
        return any(_eq(left, _value(a, values)) for a in ast[2])
    right = _value(ast[2], values)
    if right is _MISSING:
        return False
    if op == "==":
        return _eq(left, right)
    if op == "!=":
        return not _eq(left, right)
    try:
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    except TypeError:
        raise ExprError(f"expression {to_text(ast)!r}: cannot compare {left!r} {op} {right!r}") from None


def _eq(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def literal(v: Any) -> str:
    """The expression text of a literal value."""
    if v is True or v is False:  # the spelling both this syntax and the DSL read
        return "True" if v else "False"
    if v is None:
        return "None"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _name(n: str) -> str:
    return n if _NAME_RE.match(n) and n not in _KEYWORDS and n not in ("and", "or", "not", "in") else f"`{n}`"


_PREC = {"or": 1, "and": 2, "not": 3}


def to_text(ast: Ast, ctx: int = 0, right: bool = False) -> str:
    """Canonical text of an AST (``parse(to_text(a)) == a``)."""
    op = ast[0]
    if op == "lit":
        return literal(ast[1])
    if op == "name":
        return _name(ast[1])
    prec = _PREC.get(op, 4)
    if op == "not":
        s = "not " + to_text(ast[1], 3)
    elif op in ("and", "or"):
        s = f"{to_text(ast[1], prec)} {op} {to_text(ast[2], prec, True)}"
    elif op == "in":
        s = f"{to_text(ast[1], 5)} in [{', '.join(to_text(a, 5) for a in ast[2])}]"
    else:
        s = f"{to_text(ast[1], 5)} {op} {to_text(ast[2], 5)}"
    return f"({s})" if prec < ctx or (right and prec == ctx and op in ("and", "or")) else s
