"""The one evaluator of the space language: load-time evaluation of a file, derived values and constraints.

:class:`Evaluator` walks :mod:`symnas.dsl.nodes` expressions. Names, calls of non-built-in functions and
attributes go through a *scope*: the compiler's scope (bindings, imports, decision constructors, builders) when a
file is loaded, :class:`EnvScope` (``{decision name: value}``) when a derived value or a constraint is evaluated
for a genome. An operation on a decision is not computed at load time: it becomes a *residual* expression over
decision names (constants folded), kept in the space tree as a spec of :func:`derive` with its canonical text
(:func:`to_text`), so that one language and one evaluator serve the file, the derived values and the constraints.
Every evaluation runs under a step :class:`Budget`; sizes of values are bounded (:mod:`symnas.dsl.limits`).

Example::

    >>> evaluate("a * 2 + 1", {"a": 3})
    7
    >>> derive("channels * 2", {"channels": 16})
    32
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Union

from symnas.dsl import limits
from symnas.dsl import nodes as N
from symnas.dsl.errors import DSLError
from symnas.dsl.ops import BUILTINS, EvalError, binop, check_value, compare, getitem, unary
from symnas.dsl.parser import parse_expr, remember_expr
from symnas.dsl.unparse import to_text
from symnas.dsl.values import DERIVE_PATH, OLD_DERIVE_PATH, is_ident, is_sym
from symnas.symbolic.placeholders import Placeholder
from symnas.symbolic.spec import Spec

__all__ = ["Evaluator", "EnvScope", "Budget", "evaluate", "derive", "to_text", "DERIVE_PATH", "OLD_DERIVE_PATH",
           "MISSING", "is_sym", "sym_node"]

MISSING: Any = object()
_SCALARS = (int, float, str, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)
_MATRIX_BUILTINS = frozenset({"reachable", "connected", "edges"})


class Budget:
    """Evaluation steps left; exhausting it is a :class:`EvalError` naming ``what``."""

    __slots__ = ("left", "total", "what")

    def __init__(self, total: int, what: str = "loading the file") -> None:
        self.left, self.total, self.what = total, total, what

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise EvalError(f"evaluation too expensive: more than {self.total} steps {self.what}",
                            "a comprehension or a constraint does too much work; see symnas.dsl.limits")


def sym_node(v: Spec) -> N.Expr:
    """The expression of a derived value (parsed once per text and process)."""
    return parse_expr(v.kwargs["expr"], "derived value")


# --------------------------------------------------------------------------------------------- scopes
class EnvScope:
    """Names are decisions' values (``None`` when inactive); only the built-ins and ``value(name)`` are callable."""

    def __init__(self, env: Mapping[str, Any]) -> None:
        self.env = env

    def lookup(self, name: str, node: Any) -> Any:
        return self.env.get(name, MISSING)

    def unknown(self, node: Any, name: str) -> Exception:
        return EvalError(f"unknown name {name!r}", node=node)

    def value_ref(self, ev: "Evaluator", node: Any, pos: list, kw: dict) -> Any:
        if kw or len(pos) != 1 or not isinstance(pos[0], str):
            raise EvalError('value() takes one decision name, e.g. value("a:b")', node=node)
        if pos[0] not in self.env:
            raise EvalError(f"unknown decision {pos[0]!r}", node=node)
        return self.env[pos[0]]

    def call(self, ev: "Evaluator", node: N.Call, fname: str, pos: list, kw: dict) -> Any:
        if fname == "float" and not kw and len(pos) == 1 and pos[0] in ("inf", "-inf", "nan"):
            return float(pos[0])  # the non-finite constants, as the canonical text writes them
        raise EvalError(f"unknown function {fname!r}", f"built-ins: {', '.join(sorted(BUILTINS))}, value", node=node)

    def call_attr(self, ev: "Evaluator", node: N.Call, pos: list, kw: dict) -> Any:
        raise EvalError("only built-in functions can be called in an expression", node=node)

    def attribute(self, ev: "Evaluator", node: N.Attribute) -> Any:
        raise EvalError("attributes are not allowed in an expression", node=node)


# --------------------------------------------------------------------------------------------- the evaluator
class Evaluator:
    """Evaluates expression nodes in a scope under a step budget.

    Args:
      scope: resolves names, ``value()``, non-built-in calls and attributes (see :class:`EnvScope`).
      budget: the steps this evaluation may take (shared by all evaluations of one file load).
      err: turns ``(node, message, hint)`` into the exception to raise (a :class:`DSLError` at the node's place).
    """

    def __init__(self, scope: Any, budget: Budget, err: Callable[[Any, str, str], Exception]) -> None:
        self.scope, self.budget, self.err = scope, budget, err
        self.decisions = not isinstance(scope, EnvScope)  # False: values only, nothing is symbolic
        self.loop: dict[str, Any] = {}
        self._facts: dict[int, tuple[Any, bool, int]] = {}  # id -> (value, has a decision inside, size)

    # -------------------------------------------------------------------------------------- dispatch
    def ev(self, n: N.Expr) -> Any:
        b = self.budget
        b.left -= 1
        try:
            if b.left < 0:
                b.spend(0)
            return _DISPATCH[n.__class__](self, n)
        except EvalError as e:
            raise self.err(e.node if e.node is not None else n, e.message, e.hint) from None

    # -------------------------------------------------------------------------------------- facts of values
    def facts(self, v: Any) -> tuple[bool, int]:
        """(contains a decision or derived value, number of values inside, shared ones counted each time; saturates
        above :data:`limits.MAX_TREE_NODES`). Memoised per container, so shared structures cost once."""
        if isinstance(v, _SCALARS):
            return False, 1
        if is_sym(v):
            return True, 1
        hit = self._facts.get(id(v))
        if hit is not None and hit[0] is v:
            return hit[1], hit[2]
        if isinstance(v, Placeholder):
            items = getattr(v, "candidates", None) or getattr(v, "items", None) or ()
        elif isinstance(v, (list, tuple)):
            items: Any = v
        elif isinstance(v, dict):
            items = v.values()
        elif isinstance(v, Spec):
            items = list(v.args) + list(v.kwargs.values())
        else:
            return False, 1
        sym, n = isinstance(v, Placeholder), 1
        cap = limits.MAX_TREE_NODES + 1
        for x in items:
            if x.__class__ in _SCALAR_TYPES:
                n += 1
                continue
            s, k = self.facts(x)
            sym = sym or s
            n += k
            if n > cap:
                n = cap
        self._facts[id(v)] = (v, sym, n)
        return sym, n

    def symbolic(self, v: Any, deep: bool = True) -> bool:
        """True if ``v`` is (``deep``: or contains) a decision or a derived value."""
        if not self.decisions or isinstance(v, _SCALARS):
            return False
        if isinstance(v, Placeholder) or is_sym(v):
            return True
        return deep and self.facts(v)[0]

    def _bounded(self, *vals: Any, what: str = "compare") -> None:
        """Checks that no value is too large to walk, and pays one step per value inside (the walk's cost)."""
        cost = 0
        for v in vals:
            if not isinstance(v, _SCALARS):
                k = self.facts(v)[1]
                if k > limits.MAX_TREE_NODES:
                    raise EvalError(f"{what}: value too large (more than {limits.MAX_TREE_NODES} values inside)",
                                    "values are limited in size; see symnas.dsl.limits")
                cost += k
        if cost:
            self.budget.spend(cost)

    # -------------------------------------------------------------------------------------- residuals
    def residual(self, at: N.Expr, build: Callable[..., N.Expr], operands: list) -> Spec:
        """A derived value: ``build(*operand nodes)`` over the decisions among ``operands``."""
        vars_: dict[str, Any] = {}
        nodes = [self.expr_of(at, v, vars_) for v in operands]
        node = build(*nodes)
        depth = 1 + max((x.depth for x in nodes), default=0)
        nsize = 1 + sum(x.size for x in nodes)
        if depth > limits.MAX_DEPTH:
            raise EvalError(f"derived expression nested too deeply (more than {limits.MAX_DEPTH} levels)",
                            "compute fewer values from one another", node=at)
        if nsize > limits.MAX_RESIDUAL_NODES:
            raise EvalError(f"expression over decisions too large ({nsize} nodes, at most "
                            f"{limits.MAX_RESIDUAL_NODES})", "constrain fewer values at once", node=at)
        node.depth, node.size = depth, nsize
        self.budget.spend(nsize)
        text = to_text(node)
        remember_expr(text, node)
        return Spec(DERIVE_PATH, (), {"expr": text, "vars": vars_})

    def expr_of(self, at: N.Expr, v: Any, vars_: dict) -> N.Expr:
        """The expression node of value ``v`` (decisions by name, recorded in ``vars_``), size-checked first."""
        if self.facts(v)[1] > limits.MAX_RESIDUAL_NODES:
            raise EvalError(f"expression over decisions too large (more than {limits.MAX_RESIDUAL_NODES} values)",
                            "constrain fewer values at once", node=at)
        return self.node_of(at, v, vars_)

    def node_of(self, at: N.Expr, v: Any, vars_: dict) -> N.Expr:
        if isinstance(v, Placeholder):
            if v.name is None:
                raise EvalError("an unnamed decision cannot be used in an expression",
                                "bind it to a name first: x = choice(...), then use x", node=at)
            vars_[v.name] = v
            if is_ident(v.name):
                return N.Name(None, None, v.name)
            return N.Call(None, None, N.Name(None, None, "value"), (N.Literal(None, None, v.name),), size=3, depth=2)
        if is_sym(v):
            vs = v.kwargs.get("vars") or {}
            vars_.update(vs)
            return sym_node(v)
        if isinstance(v, (list, tuple)):
            items = tuple(self.node_of(at, x, vars_) for x in v)
            cls = N.ListExpr if isinstance(v, list) else N.TupleExpr
            return cls(None, None, items, depth=1 + max((x.depth for x in items), default=0),
                       size=1 + sum(x.size for x in items))
        if isinstance(v, dict):
            keys = tuple(N.Literal(None, None, str(k)) for k in v)
            vals = tuple(self.node_of(at, x, vars_) for x in v.values())
            return N.DictExpr(None, None, keys, vals, depth=1 + max((x.depth for x in vals), default=0),
                              size=1 + 2 * len(vals) + sum(x.size for x in vals))
        if isinstance(v, _SCALARS):
            return N.Literal(None, None, v)
        raise EvalError(f"type mismatch: a {type(v).__name__} cannot be used in an expression",
                        "expressions compute with numbers, strings, booleans, lists and decisions", node=at)

    def _scalar_sym(self, v: Any) -> bool:
        return self.decisions and (isinstance(v, Placeholder) or is_sym(v))

    # -------------------------------------------------------------------------------------- node kinds
    def _literal(self, n: N.Literal) -> Any:
        return n.value

    def _name(self, n: N.Name) -> Any:
        v = self.loop.get(n.id, MISSING)
        if v is MISSING:
            v = self.scope.lookup(n.id, n)
            if v is MISSING:
                raise self.scope.unknown(n, n.id)
        return v

    def _list(self, n: N.ListExpr) -> Any:
        self.budget.spend(len(n.items))
        lit = N.Literal
        return [x.value if x.__class__ is lit else self.ev(x) for x in n.items]  # type: ignore[attr-defined]

    def _tuple(self, n: N.TupleExpr) -> Any:
        self.budget.spend(len(n.items))
        lit = N.Literal
        return tuple([x.value if x.__class__ is lit else self.ev(x) for x in n.items])  # type: ignore[attr-defined]

    def _dict(self, n: N.DictExpr) -> Any:
        out = {}
        for k, v in zip(n.keys, n.values):
            key = self.ev(k)
            if not isinstance(key, str):
                raise EvalError("dict keys must be strings", 'write {"key": value}', node=k)
            out[key] = self.ev(v)
        return out

    def _binop(self, n: N.BinOp) -> Any:
        a, b = self.ev(n.left), self.ev(n.right)
        if self._scalar_sym(a) or self._scalar_sym(b):
            op = n.op
            return self.residual(n, lambda x, y: N.BinOp(None, None, op, x, y), [a, b])
        r = binop(n.op, a, b)
        if isinstance(r, (list, tuple, str)):
            self.budget.spend(len(r))
        return r

    def _unary(self, n: N.UnaryOp) -> Any:
        a = self.ev(n.operand)
        if self._scalar_sym(a):
            op = n.op
            return self.residual(n, lambda x: N.UnaryOp(None, None, op, x), [a])
        return (not a) if n.op == "not" else unary(n.op, a)

    def _boolop(self, n: N.BoolOp) -> Any:
        a = self.ev(n.left)
        if not self._scalar_sym(a) and (bool(a) if n.op == "or" else not a):
            return a  # decided by the left operand
        b = self.ev(n.right)
        if self._scalar_sym(a) or self._scalar_sym(b):
            op = n.op
            return self.residual(n, lambda x, y: N.BoolOp(None, None, op, x, y), [a, b])
        return b

    def _compare(self, n: N.Compare) -> Any:
        vals = [self.ev(n.first)] + [self.ev(x) for x in n.rest]
        if any(self.symbolic(v) for v in vals):
            ops = n.ops
            return self.residual(n, lambda *xs: N.Compare(None, None, xs[0], ops, tuple(xs[1:])), vals)
        self._bounded(*vals)
        for i, op in enumerate(n.ops):
            if not compare(op, vals[i], vals[i + 1]):
                return False
        return True

    def _ifexp(self, n: N.IfExp) -> Any:
        cond = self.ev(n.test)
        if self._scalar_sym(cond):
            a, b = self.ev(n.body), self.ev(n.orelse)
            return self.residual(n, lambda x, y, z: N.IfExp(None, None, x, y, z), [a, cond, b])
        return self.ev(n.body) if cond else self.ev(n.orelse)

    def _subscript(self, n: N.Subscript) -> Any:
        a, i = self.ev(n.value), self.ev(n.index)
        if self._scalar_sym(a) or self._scalar_sym(i):
            return self.residual(n, lambda x, y: N.Subscript(None, None, x, y), [a, i])
        return getitem(a, i)

    def _attribute(self, n: N.Attribute) -> Any:
        return self.scope.attribute(self, n)

    def _listcomp(self, n: N.ListComp) -> Any:
        seq = self.ev(n.iter)
        if self._scalar_sym(seq) or not isinstance(seq, (list, tuple)):
            raise EvalError("a 'for' loop needs a list known when the file is loaded",
                            "to repeat a block a chosen number of times, use repeat(block, count_decision)",
                            node=n.iter)
        name = n.var
        saved = self.loop.get(name, MISSING)
        out = []
        try:
            for v in seq:
                self.loop[name] = v
                if n.cond is not None:
                    ok = self.ev(n.cond)
                    if self._scalar_sym(ok):
                        raise EvalError("a loop filter must be known when the file is loaded", node=n.cond)
                    if not ok:
                        continue
                out.append(self.ev(n.body))
        finally:
            if saved is MISSING:
                self.loop.pop(name, None)
            else:
                self.loop[name] = saved
        return check_value(out)

    def args(self, n: N.Call) -> tuple[list, dict]:
        pos: list = []
        kw: dict = {}
        for a in n.args:
            if isinstance(a, N.Starred):
                if kw:
                    raise EvalError("positional argument after keyword arguments", node=a)
                seq = self.ev(a.value)
                if not isinstance(seq, (list, tuple)):
                    raise EvalError("type mismatch: '*' needs a list known when the file is loaded", node=a)
                pos.extend(seq)
            elif isinstance(a, N.Keyword):
                if a.name in kw:
                    raise EvalError(f"argument {a.name!r} given twice", node=a)
                kw[a.name] = self.ev(a.value)
            else:
                if kw:
                    raise EvalError("positional argument after keyword arguments", node=a)
                pos.append(self.ev(a))
        return pos, kw

    def call(self, n: N.Call, decision_name: Optional[str] = None) -> Any:
        """Evaluates a call; ``decision_name`` names the decision a constructor call declares (``x = int(...)``)."""
        pos, kw = self.args(n)
        fn = n.func
        if isinstance(fn, N.Name):
            fname = fn.id
            if fname in self.loop or self.scope.lookup(fname, fn) is not MISSING:
                raise EvalError(f"{fname!r} is a value, not a function", node=fn)
            if fname == "value":
                return self.scope.value_ref(self, n, pos, kw)
            f = BUILTINS.get(fname)
            if f is None:
                return self.scope.call(self, n, fname, pos, kw) if decision_name is None else \
                    self.scope.call(self, n, fname, pos, kw, decision_name)
            if kw:
                raise EvalError(f"{fname}: keyword arguments are not supported", node=n)
            if any(self.symbolic(a) for a in pos):
                return self.residual(n, lambda *xs: N.Call(None, None, N.Name(None, None, fname), tuple(xs)), pos)
            self._bounded(*pos, what=fname)
            if fname in _MATRIX_BUILTINS and pos and isinstance(pos[0], (list, tuple)):
                self.budget.spend(len(pos[0]) ** 2)  # the graph walks are quadratic in the vertices
            try:
                r = f(*pos)
            except TypeError as e:  # a wrong number of arguments
                raise EvalError(f"{fname}: {str(e).split(') ', 1)[-1]}", node=n) from None
            if isinstance(r, (list, str)):
                self.budget.spend(len(r))
            return r
        if isinstance(fn, N.Attribute):
            return self.scope.call_attr(self, n, pos, kw)
        raise EvalError("this expression cannot be called", "call a builder by its import path", node=fn)

    def _call(self, n: N.Call) -> Any:
        return self.call(n)


_DISPATCH: dict[type, Callable[[Evaluator, Any], Any]] = {
    N.Literal: Evaluator._literal, N.Name: Evaluator._name, N.ListExpr: Evaluator._list,
    N.TupleExpr: Evaluator._tuple, N.DictExpr: Evaluator._dict, N.BinOp: Evaluator._binop,
    N.UnaryOp: Evaluator._unary, N.BoolOp: Evaluator._boolop, N.Compare: Evaluator._compare,
    N.IfExp: Evaluator._ifexp, N.Subscript: Evaluator._subscript, N.Attribute: Evaluator._attribute,
    N.ListComp: Evaluator._listcomp, N.Call: Evaluator._call,
}


# --------------------------------------------------------------------------------------------- value mode
def evaluate(expr: Union[str, N.Expr], env: Mapping[str, Any], where: str = "<expr>",
             budget: Optional[Budget] = None) -> Any:
    """Evaluates an expression (text or node) with names from ``env``; problems raise :class:`DSLError` naming
    ``where`` and the expression."""
    node = parse_expr(expr, where) if isinstance(expr, str) else expr

    def err(at: Any, message: str, hint: str = "") -> DSLError:
        text = expr if isinstance(expr, str) else to_text(node)
        return DSLError(f"{message} (in {text[:200]!r})", where, hint=hint)

    ev = Evaluator(EnvScope(env), budget or Budget(limits.MAX_CHECK_STEPS, "in one expression"), err)
    try:
        return ev.ev(node)
    except EvalError as e:  # a budget overrun outside a node
        raise err(node, e.message, e.hint) from None
    except RecursionError:
        raise err(node, "expression nested too deeply") from None


def derive(expr: str, vars: Optional[Mapping[str, Any]] = None) -> Any:  # noqa: A002 - mirrors the DSL
    """The value of a derived expression, given the chosen values of the decisions it names."""
    return evaluate(expr, dict(vars or {}), where="derived value")


def _register() -> None:
    from symnas.symbolic.spec import register

    register(derive, path=OLD_DERIVE_PATH)
    register(derive, path=DERIVE_PATH)  # last: the path written for derived values


_register()
