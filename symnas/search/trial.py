"""Trials: one candidate on its way through evaluation.

A trial holds the genome; its description and params are decoded lazily, only when asked for.

Example::

    trial = study.ask()
    model = trial.build(seed=0)          # a plain nn.Module with fresh weights
    study.tell(trial, accuracy)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from symnas.store.base import TrialRecord, TrialState

if TYPE_CHECKING:  # pragma: no cover
    from symnas.search.study import Study

__all__ = ["Trial"]


class Trial:
    """A proposed candidate. ``number`` is its position in the study; ``genome`` its compact encoding."""

    __slots__ = ("study", "record", "_description", "_params", "hash_key")

    def __init__(self, study: "Study", record: TrialRecord) -> None:
        self.study = study
        self.record = record
        self._description: Any = None
        self._params: Optional[dict[str, Any]] = None
        self.hash_key: Optional[str] = record.hash_key

    @property
    def number(self) -> int:
        return self.record.number

    @property
    def genome(self) -> tuple:
        return self.record.genome

    @property
    def state(self) -> TrialState:
        return self.record.state

    @property
    def values(self) -> Optional[tuple[float, ...]]:
        return self.record.values

    @property
    def value(self) -> Optional[float]:
        """The first objective's value (``None`` unless complete or cached)."""
        return self.record.values[0] if self.record.values else None

    @property
    def description(self) -> Any:
        """The candidate's symbolic description (decoded on first access)."""
        if self._description is None:
            self._description = self.study.space.decode(self.record.genome)
        return self._description

    @property
    def params(self) -> dict[str, Any]:
        """``{decision name: value}`` of the active decisions."""
        if self._params is None:
            self._params = self.study.space.params(self.record.genome)
        return self._params

    def build(self, seed: Optional[int] = None, device: Any = None) -> Any:
        """Builds the candidate: a plain module with fresh (optionally seeded) weights."""
        return self.study.space.build(self.record.genome, seed=seed, device=device)

    def report(self, value: float, step: int) -> None:
        """Records an intermediate value (e.g. validation accuracy after ``step`` epochs)."""
        self.study._report(self, float(value), int(step))

    def should_prune(self) -> bool:
        """True if the study's early-stopping policy says to stop this trial now."""
        return self.study._should_prune(self)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Keeps ``value`` (JSON data) under ``key`` in the trial's user attributes (stored with the trial)."""
        self.record.user_attrs[key] = value

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The user's (and the evaluator's) attributes; symnas's bookkeeping is in ``record.system_attrs``."""
        return self.record.user_attrs

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, state={str(self.state)!r}, values={self.values})"
