"""Early-stopping / multi-fidelity policies: ``should_prune(study, trial) -> bool`` over the intermediate values
reported with ``trial.report(value, step)``. Pass one as ``Study(..., pruner=...)``; inside the evaluation, stop
with ``raise sn.TrialPruned()`` when ``trial.should_prune()`` is true. They work with any algorithm: the algorithm
sees a pruned trial as failed (``values=None``).

Example::

    study = sn.Study(space, RegularizedEvolution(seed=0), pruner=SuccessiveHalving(min_resource=1, reduction_factor=3))
    def evaluate(trial):
        for epoch in range(1, 28):
            trial.report(train_one_epoch(), epoch)
            if trial.should_prune():
                raise sn.TrialPruned()
        return final_accuracy
"""
from __future__ import annotations

import math
from typing import Any, Optional

from symnas.errors import SymnasError

__all__ = ["TrialPruned", "MedianStopping", "SuccessiveHalving", "NoPruning"]


class TrialPruned(SymnasError):
    """Raised inside an evaluation function to stop a trial early; the study records it as pruned."""


def _sign(study: Any) -> float:
    return 1.0 if study.objectives.directions[0] == "max" else -1.0


def _value_at(intermediate: list, step: int) -> Optional[float]:
    """The latest value reported at a step <= ``step`` (``None`` if none)."""
    best = None
    for s, v in intermediate:
        if s <= step and (best is None or s >= best[0]):
            best = (s, v)
    return None if best is None else best[1]


class NoPruning:
    """Never prunes (the default behaviour, as an object)."""

    def should_prune(self, study: Any, trial: Any) -> bool:
        return False


class MedianStopping:
    """Prunes a trial whose latest intermediate value is worse than the median of other trials' values at the same
    step (the latest value each reported at or before it).

    Args:
      warmup_steps: never prune at steps below this.
      min_trials: finished trials needed before pruning anything.

    Example::

        pruner = MedianStopping(warmup_steps=2, min_trials=5)
    """

    def __init__(self, warmup_steps: int = 0, min_trials: int = 5) -> None:
        if warmup_steps < 0 or min_trials < 1:
            raise SymnasError(f"MedianStopping: warmup_steps must be >= 0 and min_trials >= 1, got "
                              f"{warmup_steps!r}, {min_trials!r}")
        self.warmup_steps, self.min_trials = int(warmup_steps), int(min_trials)

    def should_prune(self, study: Any, trial: Any) -> bool:
        inter = trial.record.intermediate
        if not inter:
            return False
        step, value = inter[-1]
        if step < self.warmup_steps:
            return False
        others = []
        for r in study.records:
            if r.number == trial.number or r.state not in ("complete", "pruned") or not r.intermediate:
                continue
            v = _value_at(r.intermediate, step)
            if v is not None:
                others.append(v)
        if len(others) < self.min_trials:
            return False
        others.sort()
        m = len(others)
        median = others[m // 2] if m % 2 else 0.5 * (others[m // 2 - 1] + others[m // 2])
        return _sign(study) * value < _sign(study) * median


class SuccessiveHalving:
    """Asynchronous successive halving (ASHA): rungs at steps ``min_resource * reduction_factor**k``; a trial that
    reaches a rung continues only if its value there is in the top ``1 / reduction_factor`` of all values recorded
    at that rung so far (its own included).

    Args:
      min_resource: the first rung's step.
      reduction_factor: eta; the fraction kept per rung is ``1 / eta``.
      min_early_stopping_rate: skip this many lowest rungs.
      max_resource: optional last step (no rung at or beyond it).

    Example::

        pruner = SuccessiveHalving(min_resource=1, reduction_factor=3)   # rungs at steps 1, 3, 9, 27, ...
    """

    def __init__(self, min_resource: int = 1, reduction_factor: int = 3, min_early_stopping_rate: int = 0,
                 max_resource: Optional[int] = None) -> None:
        if min_resource < 1 or reduction_factor < 2 or min_early_stopping_rate < 0:
            raise SymnasError(f"SuccessiveHalving: need min_resource >= 1, reduction_factor >= 2, "
                              f"min_early_stopping_rate >= 0; got {min_resource!r}, {reduction_factor!r}, "
                              f"{min_early_stopping_rate!r}")
        self.min_resource, self.eta = int(min_resource), int(reduction_factor)
        self.rate, self.max_resource = int(min_early_stopping_rate), max_resource

    def rung_steps(self, up_to: int) -> list[int]:
        """The rung steps not above ``up_to``."""
        out, k = [], self.rate
        while True:
            s = self.min_resource * self.eta ** k
            if s > up_to or (self.max_resource is not None and s >= self.max_resource):
                return out
            out.append(s)
            k += 1

    def should_prune(self, study: Any, trial: Any) -> bool:
        inter = trial.record.intermediate
        if not inter:
            return False
        step, _ = inter[-1]
        rungs = self.rung_steps(step)
        if not rungs:
            return False
        rung = rungs[-1]
        previous = inter[-2][0] if len(inter) > 1 else -1
        if previous >= rung:
            return False  # decided when the trial reached this rung
        # values at this rung from every trial that reached it (the study's records are the source of truth,
        # so a resumed study sees the same rungs)
        values = {}
        for r in study.records:
            if r.intermediate and max(s for s, _ in r.intermediate) >= rung:
                v = _value_at(r.intermediate, rung)
                if v is not None:
                    values[r.number] = v
        mine = values.get(trial.number)
        if mine is None:
            return False
        sign = _sign(study)
        ranked = sorted(values.values(), key=lambda v: -sign * v)
        keep = max(1, int(math.floor(len(ranked) / self.eta)))
        if len(ranked) < self.eta:
            return False  # too few at this rung to rank: promote (ASHA promotes early arrivals)
        return sign * mine < sign * ranked[keep - 1]
