"""Composable search flows: different algorithms for different parts of one space, as one algorithm.

Parts are selected by decision path or name globs (``'arch.*'``), or by hints (``'hint:train'`` matches decisions
whose ``hints`` equal ``'train'`` or contain it). Each sub-algorithm sees a sub-table holding only its decisions
(renumbered); a condition whose parent lies in another part is dropped inside the sub-table (the sub-algorithm
then treats that decision as always active) — the composed genome is canonicalised with the full table, so
inactive genes never leak. Every part receives the same objective values. Decisions matched by no selector go to
``default`` (random search unless given).

Example::

    algo = Compose({"arch.*": PPO(seed=0), "train.*": RegularizedEvolution(seed=1)})
    study = sn.Study(space, algo)
"""
from __future__ import annotations

import copy
import fnmatch
from typing import Any, Mapping, Optional

from symnas.algorithms.base import Algorithm, Values
from symnas.errors import SymnasError
from symnas.genome.table import Decision, DecisionTable, Genome

__all__ = ["Compose", "sub_table"]


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
        every = [getattr(a, "snapshot_every", 1) for a in list(parts.values()) + ([default] if default else [])]
        self.snapshot_every = max(every)

    def _setup(self) -> None:
        table = self.table
        groups: dict[str, list[int]] = {sel: [] for sel in self.parts}
        rest: list[int] = []
        for d in table.decisions:  # type: ignore[union-attr]
            sel = next((s for s in self.parts if _matches(s, d)), None)
            (groups[sel] if sel is not None else rest).append(d.index)
        for sel, idx in groups.items():
            if not idx:
                raise SymnasError(f"Compose: selector {sel!r} matches no decision; paths are "
                                  f"{[d.path for d in table.decisions][:8]}")  # type: ignore[union-attr]
        self._groups: list[tuple[str, Algorithm, list[int]]] = [(s, self.parts[s], groups[s]) for s in self.parts]
        if rest:
            if self.default is None:
                from symnas.algorithms.random import RandomSearch

                self.default = RandomSearch(self.seed)
            self._groups.append(("<default>", self.default, rest))
        self._slots: list[list[int]] = []
        for sel, algo, idx in self._groups:
            algo.setup(sub_table(table, idx), self.num_objectives)  # type: ignore[arg-type]
            self._slots.append([s for i in idx for s in range(table.decisions[i].offset,  # type: ignore[union-attr]
                                                               table.decisions[i].offset + table.decisions[i].width)])  # type: ignore[union-attr]

    @property
    def assignment(self) -> dict[str, list[str]]:
        """``{selector: [decision paths]}`` as resolved on the table."""
        return {sel: [self.table.decisions[i].path for i in idx] for sel, _, idx in self._groups}  # type: ignore[union-attr]

    def propose(self) -> Genome:
        g = list(self.table.default_genome)  # type: ignore[union-attr]
        for (_, algo, _), slots in zip(self._groups, self._slots):
            for s, v in zip(slots, algo.propose()):
                g[s] = v
        return self.table.canonical(g)  # type: ignore[union-attr]

    def feedback(self, genome: Genome, values: Values, *, cached: bool = False) -> None:
        for (_, algo, _), slots in zip(self._groups, self._slots):
            algo.feedback(tuple(genome[s] for s in slots), values, cached=cached)

    def state_dict(self) -> dict[str, Any]:
        return {"parts": [algo.state_dict() for _, algo, _ in self._groups]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for (_, algo, _), s in zip(self._groups, state["parts"]):
            algo.load_state_dict(s)
