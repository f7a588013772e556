"""Constraints of a space: ``require`` / ``forbid`` predicates over decision names, and the one rejection sampler.

A space keeps its constraints in ``space.meta['constraints']`` as ``[{"kind": "require" | "forbid", "expr":
"<expression>"}]``: the canonical text is what stores, JSON and printers see. The expression itself is a syntax
tree of :mod:`symnas.dsl.nodes`: the compiler hands over the tree it built (:func:`attach`), other sources are
parsed once per text (:func:`constraint_node`) and every check runs the one evaluator
(:mod:`symnas.dsl.interpreter`). Forbidden clauses that foreign importers write in their own syntax (``a:b ==
'x'``, ``true``) are translated once into the same tree; their rule that a comparison with an inactive decision
is false is kept. A decision that is inactive in a genome has the value ``None``.

:meth:`Space.sample` is the one rejection sampler (``max_tries``, and ``accept`` to bound the checks' work);
:func:`sample` here, the load-time satisfiability check and ``inspect`` draw through it.

Example::

    space = symnas.dsl.loads('a = int(0, 9)\\nb = int(0, 9)\\nrequire a + b <= 9')
    g = sample(space, seed=0)                 # rejection sampling
    assert check(space, g) == []
"""
from __future__ import annotations

import functools
import itertools
import random as _random
from typing import Any, Callable, Optional

from symnas.dsl import limits
from symnas.dsl import nodes as N
from symnas.dsl.errors import DSLError
from symnas.dsl.interpreter import Budget, evaluate
from symnas.dsl.ops import EvalError
from symnas.dsl.parser import parse_expr, remember_expr
from symnas.errors import SpaceError, SymnasError
from symnas.genome.table import Genome
from symnas.space.space import Space

__all__ = ["check", "values", "sample", "satisfiable", "find_satisfying", "constraints_of", "attach",
           "constraint_node"]

EXACT_LIMIT = limits.EXACT_LIMIT


def constraints_of(space: Space) -> list[dict]:
    """The constraints stored in ``space.meta`` (validated shape)."""
    cons = space.meta.get("constraints") or []
    if not isinstance(cons, list):
        raise DSLError(f"meta['constraints'] must be a list, got {type(cons).__name__}", space.name)
    for i, c in enumerate(cons):
        if not isinstance(c, dict) or c.get("kind") not in ("require", "forbid") or not isinstance(c.get("expr"), str):
            raise DSLError(f"meta['constraints'][{i}] must be {{'kind': 'require'|'forbid', 'expr': str}}, got "
                           f"{str(c)[:200]}", space.name)
    return cons


def attach(space: Space, cons: list[tuple[str, str, Optional[N.Expr]]]) -> None:
    """Adds ``(kind, text, node)`` constraints to ``space.meta``; the node (when given) is the text's tree."""
    out = list(space.meta.get("constraints") or [])
    for kind, text, node in cons:
        if node is not None:
            remember_expr(text, node)
        out.append({"kind": kind, "expr": text})
    space.meta["constraints"] = out


# --------------------------------------------------------------------------------------------- foreign syntax
def _foreign(expr: str) -> tuple[N.Expr, list[str]]:
    """The tree of a constraint in the importers' syntax (``a:b == 'x'``; an inactive name makes a comparison
    false), and the names it mentions."""
    from symnas.dsl.importers import expr as foreign

    names: list[str] = []

    def name(n: str) -> N.Expr:
        if n not in names:
            names.append(n)
        from symnas.dsl.values import is_ident

        if is_ident(n):
            return N.Name(None, None, n)
        return N.Call(None, None, N.Name(None, None, "value"), (N.Literal(None, None, n),))

    def active(x: N.Expr, a: Any) -> Optional[N.Expr]:
        if a[0] != "name":
            return None
        return N.Compare(None, None, x, ("!=",), (N.Literal(None, None, None),))

    def guard(test: N.Expr, guards: list) -> N.Expr:
        for g in reversed([g for g in guards if g is not None]):
            test = N.BoolOp(None, None, "and", g, test)
        return test

    def tr(a: Any, depth: int = 0) -> N.Expr:
        if depth > limits.MAX_DEPTH:
            raise DSLError("constraint nested too deeply", "<constraint>")
        op = a[0]
        if op == "lit":
            return N.Literal(None, None, a[1])
        if op == "name":
            return name(a[1])
        if op in ("and", "or"):
            return N.BoolOp(None, None, op, tr(a[1], depth + 1), tr(a[2], depth + 1))
        if op == "not":
            return N.UnaryOp(None, None, "not", tr(a[1], depth + 1))
        left = tr(a[1], depth + 1)
        if op == "in":
            items = [tr(x, depth + 1) for x in a[2]]
            test: N.Expr = N.Compare(None, None, left, ("in",), (N.ListExpr(None, None, tuple(items)),))
            return guard(test, [active(left, a[1])])
        right = tr(a[2], depth + 1)
        test = N.Compare(None, None, left, (op,), (right,))
        return guard(test, [active(left, a[1]), active(right, a[2])])

    try:
        tree = foreign.parse(expr)
    except RecursionError:
        raise DSLError(f"constraint nested too deeply: {expr[:80]!r}", "<constraint>") from None
    return tr(tree), names


def _tree(expr: str) -> N.Expr:
    try:
        return parse_expr(expr, "<constraint>")
    except DSLError:
        return constraint_node(expr)[0]


def constraint_node(expr: str) -> tuple[N.Expr, list[str]]:
    """The tree of a stored constraint text and the decision names it mentions (free names and ``value()``)."""
    try:
        node = parse_expr(expr, "<constraint>")
    except DSLError as first:
        try:
            node, names = _foreign(expr)
        except SymnasError:
            raise first from None
        remember_expr(expr, node)
        return node, names
    names = _names(node)
    if _FOREIGN_WORDS.intersection(names):  # 'b == false' as written by earlier importers: their syntax
        node, names = _foreign(expr)
        remember_expr(expr, node)
    return node, names


_FOREIGN_WORDS = frozenset({"true", "false", "null"})


def _names(node: N.Expr) -> list[str]:
    out: list[str] = []
    bound: set[str] = set()
    stack: list[N.Node] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, N.ListComp):
            bound.add(n.var)
        if isinstance(n, N.Name) and n.id not in bound and n.id not in out:
            out.append(n.id)
        if isinstance(n, N.Call) and isinstance(n.func, N.Name):
            if n.func.id == "value" and len(n.args) == 1 and isinstance(n.args[0], N.Literal):
                out.append(str(n.args[0].value))
            stack.extend(reversed(n.args))
            continue
        stack.extend(reversed(N.children(n)))
    return out


# --------------------------------------------------------------------------------------------- checking
def values(space: Space, genome: Genome) -> dict[str, Any]:
    """``{decision name: value}`` for every decision (``None`` if inactive); named alternatives by label."""
    active = space.table.active(genome)
    out: dict[str, Any] = {}
    for d in space.table.decisions:
        if not active[d.index]:
            out[d.name] = None
            continue
        labels = d.hints.get("labels") if isinstance(d.hints, dict) else None
        if labels and d.ops.single_index:  # named alternatives read as their labels
            option: Callable[[int], Any] = labels.__getitem__
        else:
            option = functools.partial(space.choice_value, d.index)
        out[d.name] = d.ops.param(d, genome[d.offset:d.offset + d.width], option)
    return out


def _violated(space: Space, genome: Genome, budget: Optional[Budget] = None) -> list[str]:
    cons = constraints_of(space)
    if not cons:
        return []
    env = values(space, genome)
    bad = []
    for c in cons:
        node = _tree(c["expr"])
        ok = bool(evaluate(node, env, where=f"{space.name}: {c['kind']}", budget=budget))
        if ok != (c["kind"] == "require"):
            bad.append(f"{c['kind']} {c['expr']}")
    return bad


def check(space: Space, genome: Genome) -> list[str]:
    """The violated constraints of ``genome`` (empty if it satisfies all), as readable strings."""
    return _violated(space, genome)


def sample(space: Space, seed: Optional[int] = None, rng: Optional[_random.Random] = None,
           max_tries: Optional[int] = None, budget: Optional[Budget] = None) -> Genome:
    """A random genome that satisfies the space's constraints, drawn by the one rejection sampler
    (:meth:`Space.sample`; ``max_tries`` draws, its default when None); ``budget`` bounds the evaluation steps of
    all checks together (exhausting it is a :class:`DSLError`)."""
    rng = rng or _random.Random(seed)
    n = len(space.table.decisions)

    def accept(g: Genome) -> bool:
        if budget is not None:
            budget.spend(n)
        return not _violated(space, g, budget)
    try:
        if max_tries is None:
            return space.sample(rng=rng, accept=accept)
        return space.sample(rng=rng, max_tries=max_tries, accept=accept)
    except SpaceError as e:
        raise DSLError(f"no genome satisfying the constraints found ({e})", space.name,
                       hint="the constraints may be too tight for rejection sampling") from None
    except EvalError as e:
        raise DSLError(e.message, space.name, hint=e.hint) from None


def _enumerate(space: Space) -> Optional[list[Genome]]:
    """Every canonical genome of a small finite space, or None if the space is too large or continuous."""
    per: list[list[tuple]] = []
    total = 1
    for d in space.table.decisions:
        it = d.ops.enumerate(d)  # each kind lists its values (None: a continuous float)
        if it is None:
            return None
        opts = list(itertools.islice(it, EXACT_LIMIT + 1))
        total *= len(opts)
        if total > EXACT_LIMIT:
            return None
        per.append(opts)
    seen = set()
    out = []
    for combo in itertools.product(*per):
        g = space.table.canonical(tuple(x for part in combo for x in part))
        if g not in seen:
            seen.add(g)
            out.append(g)
    return out


def find_satisfying(space: Space, tries: int = limits.SAT_TRIES, seed: int = 0) -> Optional[str]:
    """None if some genome satisfies the constraints, else a message saying why not (sampled with :func:`sample`,
    then exact on small spaces); the work is bounded by :data:`limits.MAX_SAT_STEPS` evaluation steps."""
    if not constraints_of(space):
        return None
    budget = Budget(limits.MAX_SAT_STEPS, "checking that the constraints can be met")
    try:
        sample(space, rng=_random.Random(seed), max_tries=tries, budget=budget)
        return None
    except DSLError as e:
        if "no genome satisfying" not in e.message:
            return e.message
    allg = _enumerate(space)
    if allg is None:
        return (f"no point satisfies the constraints in {tries} random samples (the space is too large to check "
                "exactly)")
    try:
        for g in allg:
            budget.spend(len(space.table.decisions))
            if not _violated(space, g, budget):
                return None
    except DSLError as e:
        return e.message
    except EvalError as e:
        return e.message
    return f"no point of the {len(allg)} in the space satisfies the constraints"


def satisfiable(space: Space) -> bool:
    """True if some genome satisfies the constraints (see :func:`find_satisfying`)."""
    return find_satisfying(space) is None

