"""Constraints of a space: ``require`` / ``forbid`` predicates over decision names, kept in
``space.meta['constraints']`` as ``[{"kind": "require" | "forbid", "expr": "<expression>"}]``.

Expressions use the DSL's expression syntax (numbers, strings, lists, ``and``/``or``/``not``, comparisons, ``in``,
``x if c else y``, indexing, list comprehensions) and the built-ins of :mod:`symnas.dsl.runtime`, among them
``reachable(matrix, i, j)``, ``connected(matrix)`` and ``edges(matrix)`` for DAG cells. A decision that is inactive
in a genome has the value ``None``. Evaluation never uses Python's ``eval``.

Example::

    space = symnas.dsl.loads('a = int(0, 9)\\nb = int(0, 9)\\nrequire a + b <= 9')
    g = sample(space, seed=0)                 # rejection sampling
    assert check(space, g) == []
"""
from __future__ import annotations

import itertools
import random as _random
from typing import Any, Optional

from symnas.dsl.errors import DSLError
from symnas.dsl.runtime import evaluate
from symnas.errors import SymnasError
from symnas.genome.table import Genome
from symnas.space.space import Space

__all__ = ["check", "values", "sample", "satisfiable", "find_satisfying", "constraints_of"]

SAMPLE_TRIES = 2000
EXACT_LIMIT = 20_000


def constraints_of(space: Space) -> list[dict]:
    """The constraints stored in ``space.meta`` (validated shape)."""
    cons = space.meta.get("constraints") or []
    for i, c in enumerate(cons):
        if not isinstance(c, dict) or c.get("kind") not in ("require", "forbid") or not isinstance(c.get("expr"), str):
            raise DSLError(f"meta['constraints'][{i}] must be {{'kind': 'require'|'forbid', 'expr': str}}, got {c!r}",
                           space.name)
    return cons


def values(space: Space, genome: Genome) -> dict[str, Any]:
    """``{decision name: value}`` for every decision (``None`` if inactive); named alternatives by label."""
    active = space.table.active(genome)
    out: dict[str, Any] = {}
    for d in space.table.decisions:
        if not active[d.index]:
            out[d.name] = None
            continue
        genes = genome[d.offset:d.offset + d.width]
        labels = d.hints.get("labels") if isinstance(d.hints, dict) else None
        if d.kind == "choice":
            out[d.name] = labels[genes[0]] if labels else space.choice_value(d.index, genes[0])
        elif d.kind in ("subset", "perm"):
            out[d.name] = [space.choice_value(d.index, i) for i in genes]
        else:
            out[d.name] = genes[0]
    return out


def check(space: Space, genome: Genome) -> list[str]:
    """The violated constraints of ``genome`` (empty if it satisfies all), as readable strings."""
    cons = constraints_of(space)
    if not cons:
        return []
    env = values(space, genome)
    bad = []
    for c in cons:
        ok = _holds(c["expr"], env, f"{space.name}: {c['kind']}")
        if ok != (c["kind"] == "require"):
            bad.append(f"{c['kind']} {c['expr']}")
    return bad


def _holds(expr: str, env: dict, where: str) -> bool:
    """Evaluates with the DSL evaluator; expressions in the importers' syntax (``a:b == 'x'``, ``true``) fall back
    to ``symnas.dsl.importers.expr`` when that module is present."""
    try:
        return bool(evaluate(expr, env, where=where))
    except DSLError as first:
        try:
            from symnas.dsl.importers import expr as foreign  # type: ignore[attr-defined]
        except ImportError:
            raise first from None
        try:
            return bool(foreign.evaluate(expr, {k: v for k, v in env.items() if v is not None}))
        except SymnasError:
            raise first from None


def sample(space: Space, seed: Optional[int] = None, rng: Optional[_random.Random] = None,
           max_tries: int = 10_000) -> Genome:
    """A random genome that satisfies the space's constraints (rejection sampling, at most ``max_tries``)."""
    rng = rng or _random.Random(seed)
    for _ in range(max_tries):
        g = space.table.sample(rng)
        if not check(space, g):
            return g
    raise DSLError(f"no genome satisfying the constraints found in {max_tries} samples", space.name,
                   hint="the constraints may be too tight for rejection sampling")


def _enumerate(space: Space) -> Optional[list[Genome]]:
    """Every canonical genome of a small finite space, or None if the space is too large or continuous."""
    per: list[list[tuple]] = []
    total = 1
    for d in space.table.decisions:
        if d.kind == "choice":
            opts = [(i,) for i in range(d.n)]
        elif d.kind == "int":
            opts = [(v,) for v in range(int(d.low), int(d.high) + 1, int(d.step or 1))]
        elif d.kind == "subset":
            if d.distinct:
                it = itertools.combinations(range(d.n), d.k) if d.sorted else itertools.permutations(range(d.n), d.k)
            else:
                it = (itertools.combinations_with_replacement(range(d.n), d.k) if d.sorted
                      else itertools.product(range(d.n), repeat=d.k))
            opts = list(itertools.islice(it, EXACT_LIMIT + 1))
        elif d.kind == "perm":
            opts = list(itertools.islice(itertools.permutations(range(d.n)), EXACT_LIMIT + 1))
        else:
            return None
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


def find_satisfying(space: Space, tries: int = SAMPLE_TRIES, seed: int = 0) -> Optional[str]:
    """None if some genome satisfies the constraints, else a message saying why not (sampled, then exact)."""
    if not constraints_of(space):
        return None
    rng = _random.Random(seed)
    for _ in range(tries):
        if not check(space, space.table.sample(rng)):
            return None
    allg = _enumerate(space)
    if allg is None:
        return (f"no point satisfies the constraints in {tries} random samples (the space is too large to check "
                "exactly)")
    for g in allg:
        if not check(space, g):
            return None
    return f"no point of the {len(allg)} in the space satisfies the constraints"


def satisfiable(space: Space) -> bool:
    """True if some genome satisfies the constraints (see :func:`find_satisfying`)."""
    return find_satisfying(space) is None
