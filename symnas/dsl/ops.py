"""The operators and built-in functions of the space language, on plain values, with bounded results (no
``eval``; sizes of integers and sequences are limited by :mod:`symnas.dsl.limits`). Problems raise
:class:`EvalError`, which the evaluator turns into a :class:`DSLError` at the node's place.

Example::

    >>> binop("*", 3, 4)
    12
    >>> reachable([[0, 1, 0], [0, 0, 1], [0, 0, 0]], 0, 2)
    True
"""
from __future__ import annotations

import math
from typing import Any, Callable

from symnas.dsl import limits

__all__ = ["reachable", "connected", "edges", "BUILTINS", "EvalError", "binop", "unary", "compare", "getitem",
           "check_value"]


class EvalError(Exception):
    """Internal: an evaluation problem; the caller adds the place (``file:line:col``), of ``node`` when given."""

    def __init__(self, message: str, hint: str = "", node: Any = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.node = message, hint, node


def check_value(v: Any) -> Any:
    """``v`` if its size is within the limits (integer bits, sequence length), else an :class:`EvalError`."""
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > limits.MAX_INT_BITS:
        raise EvalError(f"integer too large ({v.bit_length()} bits, at most {limits.MAX_INT_BITS})",
                        "values are limited in size; see symnas.dsl.limits")
    if isinstance(v, (list, tuple, str)) and len(v) > limits.MAX_SEQ:
        raise EvalError(f"sequence too long ({len(v)} items, at most {limits.MAX_SEQ})",
                        "values are limited in size; see symnas.dsl.limits")
    return v


_check = check_value


def _num(v: Any) -> bool:
    return isinstance(v, (int, float))


def binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for ``+ - * / // % **`` with bounded results."""
    try:
        if op == "+":
            if _num(a) and _num(b) or type(a) is type(b) and isinstance(a, (str, list, tuple)):
                if isinstance(a, (list, tuple, str)) and len(a) + len(b) > limits.MAX_SEQ:
                    raise EvalError("sequence too long")
                return _check(a + b)
        elif op == "*":
            if _num(a) and _num(b):
                return _check(a * b)
            seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                if max(n, 0) * len(seq) > limits.MAX_SEQ:
                    raise EvalError(f"sequence too long ({n} × {len(seq)} items)")
                return seq * n
        elif _num(a) and _num(b):
            if op == "-":
                return _check(a - b)
            if op == "/":
                return a / b
            if op == "//":
                return a // b
            if op == "%":
                return a % b
            if op == "**":
                if isinstance(a, int) and isinstance(b, int) and abs(a) > 1 and b > 0 and \
                        b * math.log2(abs(a)) > limits.MAX_INT_BITS:
                    raise EvalError(f"{a} ** {b} is too large")
                r = a ** b
                if isinstance(r, complex):
                    raise EvalError(f"{a} ** {b} is not a real number")
                return _check(r)
    except ZeroDivisionError:
        raise EvalError(f"division by zero in {op!r}") from None
    except OverflowError:
        raise EvalError(f"numeric overflow in {op!r}") from None
    raise EvalError(f"type mismatch: cannot apply {op!r} to {type(a).__name__} and {type(b).__name__}")


def unary(op: str, a: Any) -> Any:
    """``-a`` / ``+a`` for numbers."""
    if _num(a):
        return -a if op == "-" else +a
    raise EvalError(f"type mismatch: cannot apply unary {op!r} to {type(a).__name__}")


def compare(op: str, a: Any, b: Any) -> bool:
    """``a op b`` for comparisons and ``in`` / ``not in``."""
    try:
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op in ("in", "not in"):
            if not isinstance(b, (list, tuple, dict, str)) or isinstance(b, str) and not isinstance(a, str):
                raise EvalError(f"type mismatch: {op!r} needs a list, tuple, dict or string on the right")
            r = a in b
            return r if op == "in" else not r
        if a is None or b is None:  # an inactive decision: ordering comparisons are false
            return False
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        if op == ">=":
            return a >= b
    except TypeError:
        pass
    raise EvalError(f"type mismatch: cannot compare {type(a).__name__} {op} {type(b).__name__}")


def getitem(a: Any, i: Any) -> Any:
    """``a[i]`` for lists, tuples, strings (int index) and dicts."""
    try:
        if isinstance(a, dict):
            return a[i]
        if isinstance(a, (list, tuple, str)) and isinstance(i, int) and not isinstance(i, bool):
            return a[i]
    except (KeyError, IndexError):
        raise EvalError(f"index {_short(i)} out of range") from None
    except TypeError:
        pass
    raise EvalError(f"type mismatch: cannot index {type(a).__name__} with {type(i).__name__}")


def _short(v: Any) -> str:
    r = repr(v) if isinstance(v, (int, float, str, bool, type(None))) else type(v).__name__
    return r if len(r) <= 40 else r[:37] + "..."


# --------------------------------------------------------------------------------------------- DAG helpers
MAX_MATRIX = 1_000_000  # entries of an adjacency matrix given to the DAG helpers


def _adj(matrix: Any) -> list[list[bool]]:
    if not isinstance(matrix, (list, tuple)) or len(matrix) * len(matrix) > MAX_MATRIX or not all(
            isinstance(r, (list, tuple)) and len(r) == len(matrix) for r in matrix):
        raise EvalError("a DAG must be a square matrix (a list of equally long lists, at most 1000 x 1000)")
    return [[bool(x) for x in r] for r in matrix]


def _vertex(m: list, v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < len(m):
        raise EvalError(f"reachable: {what} vertex {_short(v)} is not one of 0..{len(m) - 1}")
    return v


def _reach(m: list[list[bool]], src: int, forward: bool = True) -> set[int]:
    n = len(m)
    seen, stack = {src}, [src]
    while stack:
        v = stack.pop()
        for w in range(n):
            if (m[v][w] if forward else m[w][v]) and w not in seen:
                seen.add(w)
                stack.append(w)
    return seen


def reachable(matrix: Any, src: Any, dst: Any) -> bool:
    """True if vertex ``dst`` can be reached from ``src`` along edges ``matrix[i][j]`` (truthy = edge i→j)."""
    m = _adj(matrix)
    return _vertex(m, dst, "target") in _reach(m, _vertex(m, src, "source"))


def connected(matrix: Any) -> bool:
    """True if the input (vertex 0) reaches the output (last vertex) and every vertex with an edge lies on an
    input→output path (so pruning removes only isolated vertices)."""
    m = _adj(matrix)
    n = len(m)
    if n < 2:
        return False
    fwd = _reach(m, 0)
    if n - 1 not in fwd:
        return False
    back = _reach(m, n - 1, forward=False)
    for v in range(1, n - 1):
        used = any(m[v]) or any(m[u][v] for u in range(n))
        if used and not (v in fwd and v in back):
            return False
    return True


def edges(matrix: Any) -> int:
    """The number of edges (truthy entries) of an adjacency matrix."""
    return sum(sum(1 for x in r if x) for r in _adj(matrix))


def _range(*a: Any) -> list:
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in a) or not 1 <= len(a) <= 3:
        raise EvalError("range takes 1 to 3 ints")
    if len(a) == 3 and a[2] == 0:
        raise EvalError("range step must not be zero")
    r = range(*a)
    try:
        n = len(r)
    except OverflowError:
        n = limits.MAX_SEQ + 1
    if n > limits.MAX_SEQ:
        raise EvalError(f"range too long (more than {limits.MAX_SEQ} items)", "values are limited in size; see "
                        "symnas.dsl.limits")
    return list(r)


def size(v: Any, cap: int) -> int:
    """The number of values inside ``v`` (containers counted with their items, shared ones each time), or
    ``cap + 1`` as soon as it exceeds ``cap``."""
    n, stack = 0, [v]
    while stack:
        x = stack.pop()
        n += 1
        if n > cap:
            return n
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return n


def _str(v: Any) -> str:
    if size(v, 10_000) > 10_000:
        raise EvalError("str: value too large to print (more than 10000 items)")
    return str(v)


def _round(x: Any, nd: Any = None) -> Any:
    if nd is not None and (not isinstance(nd, int) or isinstance(nd, bool) or abs(nd) > 400):
        raise EvalError("round: the number of digits must be an int between -400 and 400")
    return round(x) if nd is None else round(x, nd)


def _seq(fn: Callable) -> Callable:
    def wrapped(*a: Any) -> Any:
        try:
            return check_value(fn(*a))
        except (TypeError, ValueError, OverflowError) as e:
            raise EvalError(f"{fn.__name__.lstrip('_')}: {e}") from None
    wrapped.__name__ = fn.__name__.lstrip("_")
    return wrapped


BUILTINS: dict[str, Callable[..., Any]] = {
    "min": _seq(min), "max": _seq(max), "abs": _seq(abs), "len": _seq(len), "sum": _seq(sum),
    "any": _seq(any), "all": _seq(all), "round": _seq(_round), "range": _range, "str": _seq(_str),
    "reachable": reachable, "connected": connected, "edges": edges,
}


