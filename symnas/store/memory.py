"""In-memory store: the default for scripts and tests (nothing survives the process)."""
from __future__ import annotations

import copy
from typing import Any, Optional

from symnas.errors import StoreError
from symnas.store.base import TrialRecord

__all__ = ["MemoryStore"]


class MemoryStore:
    """Keeps studies in dictionaries. ``MemoryStore()`` can be shared by several studies (by name)."""

    def __init__(self) -> None:
        self._meta: dict[str, dict[str, Any]] = {}
        self._trials: dict[str, list[TrialRecord]] = {}
        self._state: dict[str, tuple[dict[str, Any], int]] = {}

    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str) -> None:
        meta = self._meta.get(study)
        if meta is None:
            self._meta[study] = {"space": space, "objectives": objectives, "algorithm": algorithm}
            self._trials[study] = []
        elif meta["objectives"] != objectives:
            raise StoreError(f"study {study!r} exists with objectives {meta['objectives']}, not {objectives}")

    def add_trial(self, study: str, record: TrialRecord) -> None:
        trials = self._trials[study]
        if record.number != len(trials):
            raise StoreError(f"study {study!r}: trial number {record.number} out of sequence ({len(trials)} stored)")
        trials.append(record)

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        self._trials[study][record.number] = record

    def report(self, study: str, number: int, step: int, value: float) -> None:
        """Nothing to do: the study appended the value to the record, which is the stored object itself."""

    def trials(self, study: str) -> list[TrialRecord]:
        return list(self._trials.get(study, []))

    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        self._state[study] = (state, event)

    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        snap = self._state.get(study)
        return (copy.deepcopy(snap[0]), snap[1]) if snap else None

    def studies(self) -> list[str]:
        return list(self._meta)

    def study_meta(self, study: str) -> dict[str, Any]:
        return self._meta[study]
