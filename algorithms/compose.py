"""Algorithms made of algorithms: :class:`Compose` (one algorithm per part of the space) and :class:`Scalarized`
(a single-objective algorithm on a weighted sum of several objectives).

Compose: parts are selected by decision path or name globs (``'arch.*'``), or by hints (``'hint:train'`` matches
decisions whose ``hints`` equal ``'train'`` or contain it). Each sub-algorithm sees a sub-table holding only its
decisions (renumbered); a condition whose parent lies in another part is dropped inside the sub-table (the
sub-algorithm then treats that decision as always active) — the composed genome is canonicalised with the full
table, so inactive genes never leak. Every part receives the same objective values. Decisions matched by no
selector go to ``default`` (random search unless given).

Example::

    algo = Compose({"arch.*": PPO(seed=0), "train.*": RegularizedEvolution(seed=1)})
    study = sn.Study(space, algo)
    algo = Scalarized(RegularizedEvolution(seed=0), weights=[1.0, 50.0])
"""
from __future__ import annotations

import copy
import fnmatch
from typing import Any, Mapping, Optional, Sequence

from symnas.algorithms.base import Algorithm, Values, register
from symnas.algorithms.evolution import RegularizedEvolution
from symnas.algorithms.multiobjective import ParetoArchive
from symnas.algorithms.random import RandomSearch
from symnas.errors import SymnasError
from symnas.genome.table import Decision, DecisionTable, Genome

__all__ = ["Compose", "Scalarized", "sub_table"]


def _matches(selector: str, d: Decision) -> bool:
    if selector.startswith("hint:"):
        want = selector[5:]
        h = d.hints
        if h is None:
            return False
        if isinstance(h, str):
            return fnmatch.fnmatchcase(h, want)
        if isinstance(h, Mapping):
            return want in h or any(fnmatch.fnmatchcase(str(v), want) for v in h.values())
        try:
            return any(fnmatch.fnmatchcase(str(x), want) for x in h)
        except TypeError:
            return False
    return fnmatch.fnmatchcase(d.path, selector) or fnmatch.fnmatchcase(d.name, selector)


def sub_table(table: DecisionTable, indices: list[int]) -> DecisionTable:
    """A table of the decisions ``indices`` of ``table`` (renumbered; conditions on outside parents dropped).

    Example::

        sub = sub_table(space.table, [0, 2])
    """
    remap = {old: new for new, old in enumerate(indices)}
    out, offset = [], 0
    for new, old in enumerate(indices):
        d = copy.copy(table.decisions[old])
        d.index, d.offset = new, offset
        d.conditions = [(remap[p], allowed) for p, allowed in d.conditions if p in remap]
        offset += d.width
        out.append(d)
    return DecisionTable(out)


def _snapshot_every(algos: Sequence[Algorithm]) -> Optional[int]:
    """The snapshot policy of a composite: never if any part cannot snapshot, else the sparsest part's."""
    every = [a.snapshot_every for a in algos]
    return None if any(e is None for e in every) else max(e for e in every if e is not None)


def _compose_example(seed: int) -> Algorithm:
    # The contract suite's spaces each hold decisions under 'x' and elsewhere: evolution on one part, random search
    # (the default) on the rest.
    return Compose({"x*": RegularizedEvolution(6, 2, seed=seed)}, seed=seed)


@register("compose", example=_compose_example)
class Compose(Algorithm):
    """Runs one algorithm per part of the space.

    Args:
      parts: ``{selector: algorithm}``; a selector is a glob on decision paths/names or ``'hint:<glob>'``.
        A decision goes to the first selector that matches it.
      default: algorithm for unmatched decisions (default: :class:`RandomSearch` seeded with ``seed``).
      seed: seed of the default random search.

    Example::

        Compose({"arch.*": PPO(seed=0), "hint:hparam": TPE(seed=0)})
    """

    max_objectives = None

    def __init__(self, parts: Mapping[str, Algorithm], default: Optional[Algorithm] = None,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if not parts:
            raise SymnasError("Compose: parts must map at least one selector to an algorithm")
        for sel, a in parts.items():
            if not isinstance(a, Algorithm):
                raise SymnasError(f"Compose: part {sel!r} is not an Algorithm (got {type(a).__name__})")
        self.parts = dict(parts)
        self.default = default
        self.snapshot_every = _snapshot_every(list(parts.values()) + ([default] if default else []))

    def _setup(self) -> None:
        table = self.table
        groups: dict[str, list[int]] = {sel: [] for sel in self.parts}
        rest: list[int] = []
        for d in table.decisions:
            sel = next((s for s in self.parts if _matches(s, d)), None)
            (groups[sel] if sel is not None else rest).append(d.index)
        for sel, idx in groups.items():
            if not idx:
                raise SymnasError(f"Compose: selector {sel!r} matches no decision; paths are "
                                  f"{[d.path for d in table.decisions][:8]}")
        self._groups: list[tuple[str, Algorithm, list[int]]] = [(s, self.parts[s], groups[s]) for s in self.parts]
        if rest:
            if self.default is None:
                self.default = RandomSearch(self.seed)
            self._groups.append(("<default>", self.default, rest))
        self._slots: list[list[int]] = []
        for sel, algo, idx in self._groups:
            algo.setup(sub_table(table, idx), self.num_objectives)
            self._slots.append([s for i in idx for s in range(table.decisions[i].offset,
                                                               table.decisions[i].offset + table.decisions[i].width)])

    @property
    def assignment(self) -> dict[str, list[str]]:
        """``{selector: [decision paths]}`` as resolved on the table."""
        return {sel: [self.table.decisions[i].path for i in idx] for sel, _, idx in self._groups}

    def _propose(self) -> Genome:
        g = list(self.table.default_genome)
        for (_, algo, _), slots in zip(self._groups, self._slots):
            for s, v in zip(slots, algo.propose()):
                g[s] = v
        return self.table.canonical(g)

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        for (_, algo, _), slots in zip(self._groups, self._slots):
            algo.feedback(tuple(genome[s] for s in slots), values, cached=cached)

    def _state(self) -> dict[str, Any]:
        return {"parts": [algo.state_dict() for _, algo, _ in self._groups]}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        for (_, algo, _), s in zip(self._groups, state["parts"]):
            algo.load_state_dict(s)


@register("scalarized", example=lambda seed: Scalarized(RegularizedEvolution(6, 2, seed=seed), weights=[1.0]))
class Scalarized(Algorithm):
    """Preference-weighted scalarisation: a single-objective ``algorithm`` receives ``sum(w_i * v_i)`` of the
    oriented values; the Pareto front of everything seen is kept.

    Example::

        algo = Scalarized(RegularizedEvolution(seed=0), weights=[1.0, 0.2])
    """

    max_objectives = None

    def __init__(self, algorithm: Algorithm, weights: Sequence[float], seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if not isinstance(algorithm, Algorithm):
            raise SymnasError(f"Scalarized: algorithm must be an Algorithm, got {type(algorithm).__name__}")
        if not weights or any(w < 0 for w in weights):
            raise SymnasError(f"Scalarized: weights must be non-negative and non-empty, got {list(weights)!r}")
        self.algorithm, self.weights = algorithm, [float(w) for w in weights]
        self.archive = ParetoArchive()
        self.snapshot_every = algorithm.snapshot_every

    def _setup(self) -> None:
        if self.num_objectives != len(self.weights):
            raise SymnasError(f"Scalarized: {len(self.weights)} weight(s) for {self.num_objectives} objective(s)")
        self.algorithm.setup(self.table, 1)

    def _propose(self) -> Genome:
        return self.algorithm.propose()

    def _propose_batch(self, n: int) -> list[Genome]:
        return self.algorithm.propose_batch(n)

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        if values is not None:
            self.archive.add(genome, values)
        s = None if values is None else (sum(w * v for w, v in zip(self.weights, values)),)
        self.algorithm.feedback(genome, s, cached=cached)

    def pareto_front(self) -> list[tuple[Genome, tuple[float, ...]]]:
        """Non-dominated ``(genome, oriented values)`` among everything evaluated."""
        return list(self.archive.front)

    def _state(self) -> dict[str, Any]:
        return {"inner": self.algorithm.state_dict(), "archive": self.archive.state()}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.algorithm.load_state_dict(state["inner"])
        self.archive.load(state["archive"])
