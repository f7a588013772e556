"""A small, safe evaluator for DSL expressions: derived values and constraints. No ``eval``, no attribute access,
no calls except the functions in :data:`BUILTINS`; sizes of numbers, sequences and loops are bounded.

Derived values (``channels * 2``) stay in a space tree as a spec of :func:`derive`, which the build step calls with
the chosen values. Constraints are evaluated with :func:`evaluate` over ``{decision name: value}``.

Example::

    >>> evaluate("a * 2 + 1", {"a": 3})
    7
    >>> derive("channels * 2", {"channels": 16})
    32
    >>> reachable([[0, 1, 0], [0, 0, 1], [0, 0, 0]], 0, 2)
    True
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Optional

from symnas.dsl.errors import DSLError

__all__ = ["evaluate", "derive", "reachable", "connected", "edges", "BUILTINS", "DERIVE_PATH", "EvalError",
           "binop", "unary", "compare", "getitem"]

DERIVE_PATH = "symnas.dsl.runtime.derive"
MAX_SEQ = 100_000
MAX_INT_BITS = 4096


class EvalError(Exception):
    """Internal: an evaluation problem; the caller adds the place (``file:line:col``), of ``node`` when given."""

    def __init__(self, message: str, hint: str = "", node: Any = None) -> None:
        super().__init__(message)
        self.message, self.hint, self.node = message, hint, node


def _check(v: Any) -> Any:
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        raise EvalError(f"integer too large ({v.bit_length()} bits)")
    if isinstance(v, (list, tuple, str)) and len(v) > MAX_SEQ:
        raise EvalError(f"sequence too long ({len(v)} items, at most {MAX_SEQ})")
    return v


def _num(v: Any) -> bool:
    return isinstance(v, (int, float))


def binop(op: str, a: Any, b: Any) -> Any:
    """``a op b`` for ``+ - * / // % **`` with bounded results."""
    try:
        if op == "+":
            if _num(a) and _num(b) or type(a) is type(b) and isinstance(a, (str, list, tuple)):
                if isinstance(a, (list, tuple, str)) and len(a) + len(b) > MAX_SEQ:
                    raise EvalError("sequence too long")
                return _check(a + b)
        elif op == "*":
            if _num(a) and _num(b):
                return _check(a * b)
            seq, n = (a, b) if isinstance(a, (str, list, tuple)) else (b, a)
            if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                if max(n, 0) * len(seq) > MAX_SEQ:
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
                        b * math.log2(abs(a)) > MAX_INT_BITS:
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
        raise EvalError(f"index {i!r} out of range") from None
    raise EvalError(f"type mismatch: cannot index {type(a).__name__} with {type(i).__name__}")


# --------------------------------------------------------------------------------------------- DAG helpers
def _adj(matrix: Any) -> list[list[bool]]:
    if not isinstance(matrix, (list, tuple)) or not all(isinstance(r, (list, tuple)) and len(r) == len(matrix)
                                                        for r in matrix):
        raise EvalError("a DAG must be a square matrix (a list of equally long lists)")
    return [[bool(x) for x in r] for r in matrix]


def reachable(matrix: Any, src: int, dst: int) -> bool:
    """True if vertex ``dst`` can be reached from ``src`` along edges ``matrix[i][j]`` (truthy = edge i→j)."""
    m = _adj(matrix)
    seen, stack = {src}, [src]
    while stack:
        v = stack.pop()
        if v == dst:
            return True
        for w, e in enumerate(m[v]):
            if e and w not in seen:
                seen.add(w)
                stack.append(w)
    return False


def connected(matrix: Any) -> bool:
    """True if the input (vertex 0) reaches the output (last vertex) and every vertex with an edge lies on an
    input→output path (so pruning removes only isolated vertices)."""
    m = _adj(matrix)
    n = len(m)
    if n < 2 or not reachable(m, 0, n - 1):
        return False
    for v in range(1, n - 1):
        used = any(m[v]) or any(m[u][v] for u in range(n))
        if used and not (reachable(m, 0, v) and reachable(m, v, n - 1)):
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
    if len(r) > MAX_SEQ:
        raise EvalError(f"range too long ({len(r)} items)")
    return list(r)


def _seq(fn: Callable) -> Callable:
    def wrapped(*a: Any) -> Any:
        try:
            return fn(*a)
        except (TypeError, ValueError) as e:
            raise EvalError(f"{fn.__name__}: {e}") from None
    wrapped.__name__ = fn.__name__
    return wrapped


BUILTINS: dict[str, Callable[..., Any]] = {
    "min": _seq(min), "max": _seq(max), "abs": _seq(abs), "len": _seq(len), "sum": _seq(sum),
    "any": _seq(any), "all": _seq(all), "round": _seq(round), "range": _range, "str": _seq(str),
    "reachable": reachable, "connected": connected, "edges": edges,
}


# --------------------------------------------------------------------------------------------- evaluator
LITERALS = frozenset({"number", "string", "true", "false", "none", "list", "tuple", "dict"})


def eval_literal(t: Any, ev: Callable[[Any], Any]) -> Any:
    """The value of a literal or container node (one of :data:`LITERALS`), its items evaluated with ``ev``.

    Shared by the load-time compiler and the build-time evaluator, which differ only in how names, calls and
    operators on decisions are handled.
    """
    d, c = t.data, t.children
    if d == "number":
        return number(str(c[0]))
    if d == "string":
        return string(str(c[0]))
    if d in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[d]
    if d == "list":
        return [ev(x) for x in c if x is not None]
    if d == "tuple":
        return tuple(ev(x) for x in c if x is not None)
    out = {}  # dict
    for p in c:
        if p is not None:
            k = ev(p.children[0])
            if not isinstance(k, str):
                raise EvalError("dict keys must be strings", 'write {"key": value}', node=p)
            out[k] = ev(p.children[1])
    return out


class _Eval:
    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env
        self.locals: dict[str, Any] = {}
        self.steps = 0

    def ev(self, t: Any) -> Any:
        self.steps += 1
        if self.steps > 1_000_000:
            raise EvalError("expression too expensive to evaluate")
        d = t.data
        c = t.children
        if d in LITERALS:
            return eval_literal(t, self.ev)
        if d == "name":
            n = str(c[0])
            if n in self.locals:
                return self.locals[n]
            if n in self.env:
                return self.env[n]
            raise EvalError(f"unknown name {n!r}")
        if d == "binop":
            return binop(str(c[1]), self.ev(c[0]), self.ev(c[2]))
        if d == "pow":
            return binop("**", self.ev(c[0]), self.ev(c[2]))
        if d == "unary":
            return unary(str(c[0]), self.ev(c[1]))
        if d == "compare":
            left = self.ev(c[0])
            for i in range(1, len(c), 2):
                op = " ".join(str(x) for x in c[i].children)
                right = self.ev(c[i + 1])
                if not compare(op, left, right):
                    return False
                left = right
            return True
        if d == "and_":
            return self.ev(c[0]) and self.ev(c[1])
        if d == "or_":
            return self.ev(c[0]) or self.ev(c[1])
        if d == "not_":
            return not self.ev(c[0])
        if d == "ifexp":
            return self.ev(c[0]) if self.ev(c[1]) else self.ev(c[2])
        if d == "getitem":
            return getitem(self.ev(c[0]), self.ev(c[1]))
        if d == "listcomp":
            body, var, it, cond = c
            seq = self.ev(it)
            if not isinstance(seq, (list, tuple)):
                raise EvalError("a 'for' loop needs a list")
            saved = self.locals.get(str(var), _MISSING)
            out = []
            for v in seq:
                self.locals[str(var)] = v
                if cond is None or self.ev(cond):
                    out.append(self.ev(body))
            if saved is _MISSING:
                self.locals.pop(str(var), None)
            else:
                self.locals[str(var)] = saved
            return out
        if d == "call":
            fn, args = c
            if fn.data != "name":
                raise EvalError("only built-in functions can be called in an expression")
            name = str(fn.children[0])
            pos = []
            for a in (args.children if args is not None else []):
                if a is None:
                    continue
                if a.data != "kwarg" and a.data == "stararg":
                    seq = self.ev(a.children[1])
                    if not isinstance(seq, (list, tuple)):
                        raise EvalError("'*' needs a list")
                    pos.extend(seq)
                    continue
                if a.data == "kwarg":
                    raise EvalError(f"{name}: keyword arguments are not supported here")
                pos.append(self.ev(a))
            if name == "value" and len(pos) == 1 and isinstance(pos[0], str):
                if pos[0] not in self.env:
                    raise EvalError(f"unknown decision {pos[0]!r}")
                return self.env[pos[0]]
            f = BUILTINS.get(name)
            if f is None:
                raise EvalError(f"unknown function {name!r}", f"built-ins: {', '.join(sorted(BUILTINS))}, value")
            return f(*pos)
        raise EvalError(f"{d} is not allowed in an expression")


_MISSING = object()


def number(text: str) -> Any:
    """The int or float a NUMBER token stands for."""
    if any(ch in text for ch in ".eE"):
        return float(text)
    return int(text)


def string(text: str) -> str:
    """The value of a STRING token (Python escapes; never evaluates code)."""
    if "\\" not in text and len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]  # no escapes: the fast path
    import ast

    try:
        v = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        raise EvalError(f"bad string literal {text[:40]}") from None
    if not isinstance(v, str):  # pragma: no cover - the token regex only admits string literals
        raise EvalError(f"bad string literal {text[:40]}")
    return v


def evaluate(text: str, env: Mapping[str, Any], where: str = "<expr>") -> Any:
    """Evaluates expression ``text`` with names from ``env``; problems raise :class:`DSLError` naming ``where``."""
    from symnas.dsl.parser import parse_expr

    tree = parse_expr(text)
    try:
        return _Eval(env).ev(tree)
    except EvalError as e:
        raise DSLError(f"{e.message} (in {text!r})", where, hint=e.hint) from None
    except RecursionError:
        raise DSLError(f"expression nested too deeply (in {text[:60]!r})", where) from None


def derive(expr: str, vars: Optional[Mapping[str, Any]] = None) -> Any:  # noqa: A002 - mirrors the DSL
    """The value of a derived expression, given the chosen values of the decisions it names."""
    return evaluate(expr, dict(vars or {}), where="derived value")
