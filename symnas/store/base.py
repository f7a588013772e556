"""The storage protocol: where trials, their results and the algorithm's state live.

A store keeps, per study: its space (JSON), objectives, and trials as :class:`TrialRecord` rows; the latest
algorithm snapshot with the event number it was taken at. Every ask and tell gets an event number so a study can
resume exactly: load the snapshot, then replay the events after it.

Implementations: :class:`~symnas.store.memory.MemoryStore` (default) and the durable SQLite store.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Protocol, Sequence, runtime_checkable

__all__ = ["TrialRecord", "Storage", "STATES", "FINISHED"]

#: Trial states. ``cached``: served from the dedup cache, not evaluated. ``interrupted``: was running when the
#: study stopped; its genome is re-queued as a new trial.
STATES = ("running", "complete", "failed", "pruned", "cached", "interrupted")
FINISHED = ("complete", "failed", "pruned", "cached")


@dataclass
class TrialRecord:
    """One trial as stored: plain data, JSON-friendly."""

    number: int
    genome: tuple
    state: str = "running"
    values: Optional[tuple[float, ...]] = None
    error: Optional[str] = None
    hash_key: Optional[str] = None
    asked_at: int = 0
    told_at: Optional[int] = None
    started: float = 0.0
    finished: Optional[float] = None
    duration: Optional[float] = None
    intermediate: list[tuple[int, float]] = field(default_factory=list)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    description: Optional[str] = None  # JSON text, written lazily by stores that keep it


@runtime_checkable
class Storage(Protocol):
    """What a study needs from a store. Methods take the study name first."""

    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str) -> None:
        """Creates the study or checks that an existing one has the same objectives."""

    def add_trial(self, study: str, record: TrialRecord) -> None:
        """Adds a new trial (running, or already finished when served from the cache)."""

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        """Writes a trial's outcome (state, values, error, timings); durable on return."""

    def report(self, study: str, number: int, step: int, value: float) -> None:
        """Persists an intermediate value of a running trial (the study has already appended it to the record)."""

    def trials(self, study: str) -> list[TrialRecord]:
        """All trials of the study, by number."""
        ...

    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        """Keeps the algorithm snapshot taken after event ``event``."""

    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        """The latest snapshot and its event number, or ``None``."""

    def studies(self) -> Sequence[str]:
        """Names of the studies in this store."""
        ...
