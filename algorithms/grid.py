"""Grid search for small spaces: every combination of values, in order (or shuffled with a seed).

Ints take every value (or ``resolution`` spread values if there are more), floats ``resolution`` values in their
own scale; subsets and permutations are enumerated. Conditional children are enumerated only where active (the
grid yields each canonical genome once). When the grid is exhausted it starts over.

Example::

    study = sn.Study(space, GridSearch(resolution=5))
    study.optimize(evaluate, n_trials=GridSearch(resolution=5).setup(space.table).size)
"""
from __future__ import annotations

import itertools
import random
from typing import Any, Iterator, Mapping, Optional

from symnas.algorithms.base import Algorithm, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Decision, Genome

__all__ = ["GridSearch"]


def _values(d: Decision, resolution: int) -> list[tuple]:
    return d.ops.grid(d, resolution)


@register("grid", example={"resolution": 2, "shuffle": True})
class GridSearch(Algorithm):
    """Exhaustive enumeration.

    Args:
      resolution: values per float decision (and per int decision with more values than this).
      shuffle: visit the grid in a random order (seeded).
      max_size: refuse grids larger than this (a clear error instead of hours of enumeration).
      seed: seed of the shuffle.

    Example::

        algo = GridSearch(resolution=4)
    """

    max_objectives = None

    def __init__(self, resolution: int = 5, *, shuffle: bool = False, max_size: int = 1_000_000,
                 seed: Optional[int] = None) -> None:
        super().__init__(seed)
        if resolution < 1:
            raise SymnasError(f"GridSearch: resolution must be >= 1, got {resolution!r}")
        self.resolution, self.shuffle, self.max_size = int(resolution), bool(shuffle), int(max_size)
        self.position = 0

    def _setup(self) -> None:
        table = self.table
        per = [_values(d, self.resolution) for d in table.decisions]
        total = 1
        for p in per:
            total *= len(p)
            if total > self.max_size:
                raise SymnasError(f"GridSearch: the grid has more than max_size={self.max_size} points "
                                  f"(decision {table.decisions[per.index(p)].path!r} alone has {len(p)}); "
                                  "lower resolution or use another algorithm")
        seen: set = set()
        self.grid: list[Genome] = []
        for combo in itertools.product(*per):
            g = table.canonical([x for genes in combo for x in genes])
            if g not in seen:
                seen.add(g)
                self.grid.append(g)
        if self.shuffle:
            random.Random(self.seed).shuffle(self.grid)

    @property
    def size(self) -> int:
        """Number of distinct grid points."""
        return len(self.grid)

    def __iter__(self) -> Iterator[Genome]:
        return iter(self.grid)

    def _propose(self) -> Genome:
        g = self.grid[self.position % len(self.grid)]
        self.position += 1
        return g

    def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
        return None

    def _state(self) -> dict[str, Any]:
        return {"position": self.position, "seed": self.seed}

    def _load_state(self, state: Mapping[str, Any]) -> None:
        self.position = int(state["position"])
        if self.shuffle and state.get("seed", self.seed) != self.seed:
            self.seed = state["seed"]
            self._setup()
