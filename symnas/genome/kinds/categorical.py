"""Index-valued kinds: choice, ordinal, subset and permutation. Their genes are candidate indices.

Example::

    from symnas.genome.kinds import kind_named
    ordinal = kind_named("ordinal")
    ordinal.mutate(d, (2,), rng)            # (1,) or (3,): a neighbour
    ordinal.condition(d, ">=", 1)           # frozenset({1, 2, 3}) for four values
"""
from __future__ import annotations

import itertools
import math
import random
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence

from symnas.errors import DecisionError, SpaceError
from symnas.genome.kinds.base import IndexSlots, Kind, register
from symnas.symbolic.placeholders import ManyOf, OneOf, Ordinal, Permutation

if TYPE_CHECKING:  # pragma: no cover
    from symnas.genome.table import Decision
    from symnas.genome.template import Node
    from symnas.symbolic.placeholders import Placeholder

__all__ = ["ChoiceKind", "OrdinalKind", "SubsetKind", "PermutationKind", "label_of"]


def label_of(value: Any) -> str:
    """A short readable label for a candidate."""
    from symnas.symbolic.jsonio import Ref
    from symnas.symbolic.placeholders import Placeholder
    from symnas.symbolic.spec import Spec

    if isinstance(value, Spec):
        return value.name
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(label_of(v) for v in value) + "]"
    if isinstance(value, dict):
        for key in ("_name", "name", "kind", "type"):
            if isinstance(value.get(key), str):
                return value[key]
    if isinstance(value, Placeholder):
        return type(value).__name__.lower()
    if isinstance(value, Ref):  # a class read from JSON: labelled as the class itself
        return value.path.rsplit(".", 1)[-1]
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return getattr(value, "__qualname__", repr(value))
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _has_decision(value: Any) -> bool:
    from symnas.symbolic.spec import is_symbolic

    return is_symbolic(value)  # a placeholder, or a spec (whose arguments may hold one)


def _index_check(d: "Decision", genes: Sequence[Any]) -> Optional[str]:
    if any(not isinstance(v, int) or not 0 <= v < d.n for v in genes):
        return f"indices {tuple(genes)!r} not in [0, {d.n})"
    return None


def _options(d: "Decision") -> str:
    return "{" + ", ".join(d.labels[:8]) + (", ..." if d.n > 8 else "") + "}"


@register
class ChoiceKind(Kind):
    """One of ``n`` candidates (``sn.oneof``); one gene, the candidate index. Candidates may hold decisions,
    which are active only while their candidate is chosen. (Compiles an :class:`Ordinal` too: it is a OneOf.)"""

    name = "choice"
    categorical = True
    single_index = True
    gene_name = "choice index"  # in error messages

    def compile(self, c: Any, ph: "Placeholder", path: str, cond: Optional[tuple[int, frozenset]]) -> "Node":
        from symnas.genome.template import ChoiceNode

        assert isinstance(ph, OneOf)
        d = c.new_decision(ph, path, cond, kind=self.name, n=len(ph.candidates),
                           labels=tuple(label_of(x) for x in ph.candidates), ordered=ph.ordered)
        cands = [c.walk(x, f"{path}:{i}", (d.index, frozenset([i]))) for i, x in enumerate(ph.candidates)]
        return ChoiceNode(d, cands, path)

    def default(self, d: "Decision") -> tuple:
        return (0,)

    def count(self, d: "Decision") -> float:
        return d.n

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        return (int(rng.random() * d.n),)

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        v = genes[0]
        return None if isinstance(v, int) and 0 <= v < d.n else f"{self.gene_name} {v!r} not in [0, {d.n})"

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """Another candidate, uniformly; an ``ordered`` choice moves to a neighbour (±1, rarely farther)."""
        if d.n < 2:
            return genes
        v = genes[0]
        if d.ordered:
            step = 1 if rng.random() < 0.8 else rng.randint(2, max(2, d.n - 1))
            nv = v + step if rng.random() < 0.5 else v - step
            if not 0 <= nv < d.n:
                nv = v - step if 0 <= v - step < d.n else min(max(v + step, 0), d.n - 1)
            return (nv,) if nv != v else ((v + 1) % d.n,)
        nv = rng.randrange(d.n - 1)
        return (nv + 1 if nv >= v else nv,)

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        return [(i,) for i in range(d.n) if i != genes[0]]

    def values(self, d: "Decision") -> Optional[list]:
        return list(range(d.n))

    def placeholder_values(self, ph: "Placeholder") -> Optional[list]:
        assert isinstance(ph, OneOf)
        return None if any(_has_decision(x) for x in ph.candidates) else list(ph.candidates)

    def slots(self, d: "Decision") -> Optional[IndexSlots]:
        return IndexSlots(1, 1, False, False)

    def param(self, d: "Decision", genes: Sequence[Any], option: Callable[[int], Any]) -> Any:
        return option(genes[0])

    def describe(self, d: "Decision") -> str:
        return _options(d)

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        return (trial.suggest_categorical(d.path, list(range(d.n))),)

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, OneOf)
        return ("ordinal" if ph.ordered else "choice"), [value(x) for x in ph.candidates], []

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        assert isinstance(ph, OneOf)
        return ph.candidates[gene or 0]

    def trace_alternatives(self, ph: "Placeholder", limit: int) -> list:
        assert isinstance(ph, OneOf)
        return list(range(len(ph.candidates)))


@register
class OrdinalKind(ChoiceKind):
    """One of ``n`` values with an order (``sn.ordinal``): one gene, the value's position.

    Sampled like a choice (so all-choice/ordinal tables keep the fast path), mutated to an adjacent value,
    compared by position in conditions (``depth >= 4`` allows the positions of 4 and above), an integer
    distribution for Optuna (its samplers then see the order), a ``pg.oneof`` with ``hints={"ordinal": True}``
    for PyGlove, ``ordinal(...)`` in the DSL.
    """

    name = "ordinal"
    ordered = True
    gene_name = "ordinal position"

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """An adjacent value: one position up or down (the only neighbour at either end)."""
        if d.n < 2:
            return genes
        v = genes[0]
        if v == 0:
            return (1,)
        if v == d.n - 1:
            return (v - 1,)
        return (v + 1,) if rng.random() < 0.5 else (v - 1,)

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        v = genes[0]
        return [(i,) for i in (v - 1, v + 1) if 0 <= i < d.n]

    def describe(self, d: "Decision") -> str:
        return "{" + " < ".join(d.labels[:8]) + (" < ..." if d.n > 8 else "") + "}"

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        return (trial.suggest_int(d.path, 0, d.n - 1),)

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, Ordinal)
        return "ordinal", [value(x) for x in ph.values], []


@register
class SubsetKind(Kind):
    """``k`` of ``n`` candidates (``sn.manyof``): ``k`` genes, candidate indices, distinct and/or sorted."""

    name = "subset"
    categorical = True

    def compile(self, c: Any, ph: "Placeholder", path: str, cond: Optional[tuple[int, frozenset]]) -> "Node":
        from symnas.genome.template import SubsetNode

        assert isinstance(ph, ManyOf)
        d = c.new_decision(ph, path, cond, kind=self.name, n=len(ph.candidates), width=ph.k, k=ph.k,
                           distinct=ph.distinct, sorted=ph.sorted, labels=tuple(label_of(x) for x in ph.candidates))
        cands = [c.walk(x, f"{path}:{i}", (d.index, frozenset([i]))) for i, x in enumerate(ph.candidates)]
        return SubsetNode(d, cands, path)

    def default(self, d: "Decision") -> tuple:
        return tuple(range(d.k)) if d.distinct else (0,) * d.k

    def count(self, d: "Decision") -> float:
        n, k = d.n, d.k
        if d.distinct:
            return math.comb(n, k) if d.sorted else math.perm(n, k)
        return math.comb(n + k - 1, k) if d.sorted else n**k

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        if d.distinct:
            picks = rng.sample(range(d.n), d.k)
        else:
            picks = [rng.randrange(d.n) for _ in range(d.k)]
        return tuple(sorted(picks)) if d.sorted else tuple(picks)

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        why = _index_check(d, genes)
        if why:
            return why
        if d.distinct and len(set(genes)) != len(genes):
            return f"indices {tuple(genes)!r} are not distinct"
        if d.sorted and list(genes) != sorted(genes):
            return f"indices {tuple(genes)!r} are not sorted"
        return None

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """One member swapped for another candidate (a non-member when distinct); kept sorted if declared."""
        g = list(genes)
        pos = rng.randrange(len(g))
        if d.distinct:
            free = [i for i in range(d.n) if i not in g]
            if not free:
                return genes
            g[pos] = rng.choice(free)
        else:
            nv = rng.randrange(d.n - 1) if d.n > 1 else g[pos]
            g[pos] = nv + 1 if d.n > 1 and nv >= g[pos] else nv
        return tuple(sorted(g)) if d.sorted else tuple(g)

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        out: list[tuple] = []
        for pos in range(len(genes)):
            for i in range(d.n):
                if i == genes[pos] or (d.distinct and i in genes):
                    continue
                g = list(genes)
                g[pos] = i
                t = tuple(sorted(g)) if d.sorted else tuple(g)
                if t not in out:
                    out.append(t)
        return out

    def enumerate(self, d: "Decision") -> Optional[Iterator[tuple]]:
        if d.distinct:
            return itertools.combinations(range(d.n), d.k) if d.sorted else itertools.permutations(range(d.n), d.k)
        return itertools.combinations_with_replacement(range(d.n), d.k) if d.sorted else \
            itertools.product(range(d.n), repeat=d.k)

    def slots(self, d: "Decision") -> Optional[IndexSlots]:
        return IndexSlots(d.k, 1, d.distinct, d.sorted)

    def condition(self, d: "Decision", op: str, gene: Any) -> frozenset:
        """A subset's condition holds when any member is in the allowed set: ``==`` allows candidate ``gene``."""
        if op != "==":
            raise DecisionError(f"{d.path}: a subset condition can only test membership (==)")
        return frozenset([gene])

    def param(self, d: "Decision", genes: Sequence[Any], option: Callable[[int], Any]) -> Any:
        return [option(i) for i in genes]

    def describe(self, d: "Decision") -> str:
        return f"{d.k} of {_options(d)}"

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        return _suggest_indices(d, trial, self.slots(d))  # type: ignore[arg-type]

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, ManyOf)
        kw = (["distinct=False"] if not ph.distinct else []) + (["sorted=True"] if ph.sorted else [])
        return "subset", [str(ph.k)] + [value(x) for x in ph.candidates], kw

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        assert isinstance(ph, ManyOf)
        return list(ph.candidates[: ph.k]) if ph.distinct else [ph.candidates[0]] * ph.k


@register
class PermutationKind(Kind):
    """An ordering of ``n`` items (``sn.permutation``): ``n`` genes, item indices. Items hold no decisions."""

    name = "perm"
    categorical = True

    def compile(self, c: Any, ph: "Placeholder", path: str, cond: Optional[tuple[int, frozenset]]) -> "Node":
        from symnas.genome.template import PermNode

        assert isinstance(ph, Permutation)
        d = c.new_decision(ph, path, cond, kind=self.name, n=len(ph.items), width=len(ph.items),
                           labels=tuple(label_of(x) for x in ph.items))
        items = [c.walk(x, f"{path}:{i}", None) for i, x in enumerate(ph.items)]
        if any(n.has_decisions for n in items):
            raise SpaceError(f"{path}: permutation items cannot contain decisions")
        return PermNode(d, items, path)

    def default(self, d: "Decision") -> tuple:
        return tuple(range(d.n))

    def count(self, d: "Decision") -> float:
        return math.factorial(d.n)

    def sample(self, d: "Decision", rng: random.Random) -> tuple:
        perm = list(range(d.n))
        rng.shuffle(perm)
        return tuple(perm)

    def check(self, d: "Decision", genes: Sequence[Any]) -> Optional[str]:
        why = _index_check(d, genes)
        if why:
            return why
        return None if sorted(genes) == list(range(d.n)) else f"{tuple(genes)!r} is not a permutation"

    def mutate(self, d: "Decision", genes: tuple, rng: random.Random, sigma: float = 0.15) -> tuple:
        """Two positions swapped."""
        if d.n < 2:
            return genes
        g = list(genes)
        i, j = rng.sample(range(d.n), 2)
        g[i], g[j] = g[j], g[i]
        return tuple(g)

    def neighbours(self, d: "Decision", genes: tuple) -> list[tuple]:
        out = []
        for i, j in itertools.combinations(range(d.n), 2):
            g = list(genes)
            g[i], g[j] = g[j], g[i]
            out.append(tuple(g))
        return out

    def enumerate(self, d: "Decision") -> Optional[Iterator[tuple]]:
        return itertools.permutations(range(d.n))

    def slots(self, d: "Decision") -> Optional[IndexSlots]:
        return IndexSlots(d.n, d.n, True, False)

    def param(self, d: "Decision", genes: Sequence[Any], option: Callable[[int], Any]) -> Any:
        return [option(i) for i in genes]

    def describe(self, d: "Decision") -> str:
        return _options(d)

    def suggest_optuna(self, d: "Decision", trial: Any) -> tuple:
        return _suggest_indices(d, trial, self.slots(d))  # type: ignore[arg-type]

    def dsl_call(self, ph: "Placeholder", value: Callable[[Any], str],
                 literal: Callable[[Any], str]) -> tuple[str, list[str], list[str]]:
        assert isinstance(ph, Permutation)
        return "permutation", [value(x) for x in ph.items], []

    def trace_value(self, ph: "Placeholder", gene: Any) -> Any:
        assert isinstance(ph, Permutation)
        return list(ph.items)


def _suggest_indices(d: "Decision", trial: Any, s: IndexSlots) -> tuple:
    """One categorical Optuna parameter per gene (``path[j]``), repaired to distinct and sorted as declared."""
    raw = [trial.suggest_categorical(f"{d.path}[{j}]", list(range(d.n))) for j in range(s.count)]
    if s.distinct:
        used: set = set()
        out = []
        for v in raw:
            if v in used:
                v = next(i for i in range(d.n) if i not in used)
            used.add(v)
            out.append(v)
        raw = out
    return tuple(sorted(raw) if s.sorted else raw)
