"""The algorithm protocol: algorithms see only genomes and values, never a torch model.

An algorithm is set up once with the compiled :class:`~symnas.genome.DecisionTable` of a space, then proposes
genomes and receives feedback. Values arrive oriented so that **larger is better** (the study flips minimised
objectives), as a tuple with one entry per objective, or ``None`` for a failed trial.

Example::

    algo = symnas.algorithms.Random(seed=0)
    algo.setup(space.table)
    g = algo.propose()
    algo.feedback(g, (0.91,))
"""
from __future__ import annotations

import abc
from typing import Any, Optional, Sequence

from symnas.genome.table import DecisionTable, Genome

Values = Optional[tuple[float, ...]]


class Algorithm(abc.ABC):
    """Base class of search algorithms (propose / feedback, with state that can be saved and restored).

    Subclasses implement :meth:`_setup`, :meth:`propose`, :meth:`feedback`, and for resumption
    :meth:`state_dict` / :meth:`load_state_dict` (JSON-serialisable dicts, no pickles).
    """

    #: Number of objectives this algorithm can handle (``None``: any).
    max_objectives: Optional[int] = 1

    def __init__(self, seed: Optional[int] = None) -> None:
        self.seed = seed
        self.table: Optional[DecisionTable] = None
        self.num_objectives = 1

    def setup(self, table: DecisionTable, num_objectives: int = 1) -> "Algorithm":
        """Binds the algorithm to a compiled decision table. Called once before the first proposal."""
        if self.max_objectives is not None and num_objectives > self.max_objectives:
            from symnas.errors import SymnasError

            raise SymnasError(
                f"{type(self).__name__} handles at most {self.max_objectives} objective(s), got {num_objectives}; "
                "use a multi-objective algorithm (e.g. NSGA2) or scalarise the objectives"
            )
        self.table = table
        self.num_objectives = num_objectives
        self._setup()
        return self

    def _setup(self) -> None:
        """Hook for subclasses, called by :meth:`setup` once ``self.table`` is set."""

    @abc.abstractmethod
    def propose(self) -> Genome:
        """Returns the next genome to evaluate."""

    @abc.abstractmethod
    def feedback(self, genome: Genome, values: Values, *, cached: bool = False) -> None:
        """Receives the result of a proposal. ``values`` is ``None`` for a failed trial.

        ``cached`` is true when the result was served from the dedup cache instead of a new evaluation.
        """

    def propose_batch(self, n: int) -> list[Genome]:
        """Returns ``n`` proposals (algorithms with batched policies override this)."""
        return [self.propose() for _ in range(n)]

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of the algorithm's state (default: none)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restores a snapshot made by :meth:`state_dict`."""

    def replay(self, history: Sequence[tuple[Genome, Values]]) -> None:
        """Feeds a recorded history back (resuming without a snapshot). Default: feedback in order."""
        for genome, values in history:
            self.feedback(genome, values)
