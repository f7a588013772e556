"""NAS-Bench-201 as a ready search space and a tabular evaluator: the embedded default of ``symnas search``.

The space has six decisions, one per cell edge, named ``edge_{to}_{from}`` (``edge_1_0`` ... ``edge_3_2``), each a
choice of the five ops; a candidate's description is ``NB201Network(cell=[6 op names], C=16, N=5,
num_classes=10)`` and builds into the real torch network. The evaluator looks the cell up in the embedded table
instead of training it.

Example::

    space = nasbench201_space()
    evaluate = NASBench201Evaluator()                   # validation accuracy, noise-free mean
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
    study.optimize(evaluate, n_trials=100)
    print(study.best_value, study.best_trial.description)
"""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from symnas.errors import SymnasError
from symnas.evaluator.nasbench201 import EDGES, OPS, NASBench201Table, code
from symnas.symbolic.placeholders import OneOf
from symnas.space.space import Space
from symnas.symbolic.spec import Spec

__all__ = ["nasbench201_space", "NASBench201Evaluator", "cell_of", "EDGE_NAMES"]

NETWORK = "symnas.models.nasbench201.NB201Network"
EDGE_NAMES = tuple(f"edge_{j}_{i}" for i, j in EDGES)


def nasbench201_space(C: int = 16, N: int = 5, num_classes: int = 10) -> Space:
    """The NAS-Bench-201 cell space (15,625 candidates) with its macro network."""
    cell = [OneOf(OPS, name=n) for n in EDGE_NAMES]
    tree = Spec(NETWORK, (), {"cell": cell, "C": C, "N": N, "num_classes": num_classes})
    return Space(tree, name="nasbench201")


def cell_of(candidate: Any) -> tuple[str, ...]:
    """The six op names of a NAS-Bench-201 candidate: a trial, a description, or ``{'cell': [...]}``."""
    desc = getattr(candidate, "description", candidate)
    if isinstance(desc, Spec):
        cell = desc.kwargs.get("cell")
    elif isinstance(desc, dict):
        cell = desc.get("cell")
        if cell is None and all(n in desc for n in EDGE_NAMES):
            cell = [desc[n] for n in EDGE_NAMES]
    else:
        cell = desc
    if not isinstance(cell, (list, tuple)) or len(cell) != len(EDGES):
        raise SymnasError(f"not a NAS-Bench-201 candidate (no 6-op 'cell' argument): {desc!r:.200}")
    return tuple(cell)


class NASBench201Evaluator:
    """Evaluates NAS-Bench-201 candidates by table lookup.

    Args:
      table: ``None`` for the embedded CIFAR-10 table, a path to another table with the same columns, or a table.
      metrics: one metric name, or several (then a dict is returned, for multi-objective studies): ``val_acc``,
        ``params_mb``, ``train_time_s``, ``lat_<device>``.
      noise: draw one training seed's accuracy instead of the mean (reproducible per ``seed`` and trial number).
      seed: seed of the noise.

    ``simulated_time`` accumulates the table's training time of every evaluated candidate.
    """

    def __init__(self, table: Union[None, str, NASBench201Table] = None,
                 metrics: Union[str, Sequence[str]] = "val_acc", *, noise: bool = False,
                 seed: Optional[int] = None) -> None:
        self.table_path = table if isinstance(table, str) else None
        self._table = table if isinstance(table, NASBench201Table) else None
        self.metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
        self.noise = noise
        self.seed = 0 if seed is None else seed
        self.simulated_time = 0.0
        known = set(self.table.metric_names) | {"val_acc"}
        for m in self.metrics:
            if m not in known:
                raise SymnasError(f"unknown NAS-Bench-201 metric {m!r}; known: {sorted(known)}")

    @property
    def table(self) -> NASBench201Table:
        if self._table is None:
            self._table = NASBench201Table.load(self.table_path)
        return self._table

    def __getstate__(self) -> dict:  # ship the path, not the arrays, to worker processes
        state = dict(self.__dict__)
        if self.table_path is not None or self._table is NASBench201Table.load():
            state["_table"] = None
        return state

    def evaluate_cell(self, cell: Sequence[Any], number: int = 0) -> Union[float, dict[str, float]]:
        rng = np.random.default_rng((self.seed, number)) if self.noise else None
        m = self.table.metrics(cell, rng=rng)
        if "train_time_s" in m and m["train_time_s"] == m["train_time_s"]:
            self.simulated_time += m["train_time_s"]
        if len(self.metrics) == 1:
            return m[self.metrics[0]]
        return {k: m[k] for k in self.metrics}

    def __call__(self, trial: Any) -> Union[float, dict[str, float]]:
        return self.evaluate_cell(cell_of(trial), getattr(trial, "number", 0))

    def code(self, candidate: Any) -> int:
        return code(cell_of(candidate))
