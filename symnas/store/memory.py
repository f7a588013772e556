"""In-memory store: the default for scripts and tests (nothing survives the process).

Example::

    >>> store = MemoryStore()
    >>> store.open_study("s", space={}, objectives={"value": "max"}, algorithm="RandomSearch")
    >>> store.studies(), store.study_meta("s")["algorithm"]
    (['s'], 'RandomSearch')
"""
from __future__ import annotations

import threading
import time
from typing import Any, Iterator, Optional

from symnas.errors import StoreError
from symnas.store.base import RecordCache, Storage, TrialRecord, copy_json

__all__ = ["MemoryStore", "MemoryRecordCache"]


class MemoryStore(Storage):
    """Keeps studies in dictionaries. ``MemoryStore()`` can be shared by several studies (by name) and threads of
    one process; records are copied in and out (see the ownership rule of :class:`~symnas.store.base.Storage`)."""

    capabilities = frozenset({"cache"})

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._meta: dict[str, dict[str, Any]] = {}
        self._trials: dict[str, list[TrialRecord]] = {}
        self._state: dict[str, tuple[dict[str, Any], int]] = {}
        self._caches: dict[str, dict[str, dict[str, Any]]] = {}

    def _study(self, study: str) -> list[TrialRecord]:
        trials = self._trials.get(study)
        if trials is None:
            raise StoreError(f"MemoryStore: no study named {study!r} (have: {list(self._meta)})")
        return trials

    # -- studies ------------------------------------------------------------------------------------------
    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str,
                   meta: Optional[dict[str, Any]] = None) -> None:
        with self._lock:
            known = self._meta.get(study)
            if known is None:
                self._meta[study] = copy_json({**(meta or {}), "space": space, "objectives": objectives,
                                                "algorithm": algorithm, "created": time.time()})
                self._trials[study] = []
            elif known["objectives"] != objectives:
                raise StoreError(f"MemoryStore: study {study!r} exists with objectives {known['objectives']}, "
                                 f"not {objectives}")

    def study_meta(self, study: str) -> dict[str, Any]:
        with self._lock:
            if study not in self._meta:
                raise StoreError(f"MemoryStore: no study named {study!r} (have: {list(self._meta)})")
            return copy_json(self._meta[study])

    def update_study_meta(self, study: str, changes: dict[str, Any]) -> None:
        with self._lock:
            if study not in self._meta:
                raise StoreError(f"MemoryStore: no study named {study!r} (have: {list(self._meta)})")
            self._meta[study].update(copy_json(changes))

    def studies(self) -> list[str]:
        with self._lock:
            return list(self._meta)

    # -- trials -------------------------------------------------------------------------------------------
    def add_trial(self, study: str, record: TrialRecord) -> None:
        copy = record.copy()  # outside the lock: the caller's record is its own
        with self._lock:
            trials = self._trials.get(study) or self._study(study)
            n = len(trials)
            if record.number != n:
                if record.number > n:
                    raise StoreError(f"MemoryStore: study {study!r}: trial number {record.number} out of sequence "
                                     f"({n} stored)")
                record.number = copy.number = n  # a number taken by another writer: the next free one
            trials.append(copy)

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        copy = record.copy()
        with self._lock:
            trials = self._trials.get(study) or self._study(study)
            if not 0 <= record.number < len(trials):
                raise StoreError(f"MemoryStore: study {study!r} has no trial {record.number}")
            trials[record.number] = copy

    def report(self, study: str, number: int, step: int, value: float) -> None:
        with self._lock:
            trials = self._study(study)
            if not 0 <= number < len(trials):
                raise StoreError(f"MemoryStore: study {study!r} has no trial {number}")
            trials[number].intermediate.append((int(step), float(value)))

    def trials(self, study: str) -> list[TrialRecord]:
        with self._lock:
            return [r.copy() for r in self._trials.get(study, [])]

    # -- algorithm state ----------------------------------------------------------------------------------
    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        with self._lock:
            self._state[study] = (copy_json(state), event)

    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        with self._lock:
            snap = self._state.get(study)
            return (copy_json(snap[0]), snap[1]) if snap else None

    # -- capabilities -------------------------------------------------------------------------------------
    def cache(self, namespace: str = "default") -> "MemoryRecordCache":
        """The dedup cache kept under ``namespace`` (dicts in memory)."""
        with self._lock:
            return MemoryRecordCache(self._caches.setdefault(namespace, {}), self._lock)


class MemoryRecordCache(RecordCache):
    """A :class:`~symnas.store.base.RecordCache` in a dict shared by every handle on the same namespace.

    Example::

        >>> c = MemoryStore().cache("x"); c.put("k", {"a": 1}); c.get("k"), len(c)
        ({'a': 1}, 1)
    """

    def __init__(self, table: dict[str, dict[str, Any]], lock: Any) -> None:
        self._table, self._lock = table, lock

    def get(self, key: str) -> Optional[dict[str, Any]]:
        with self._lock:
            entry = self._table.get(key)
            return None if entry is None else copy_json(entry)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        if not isinstance(entry, dict):
            raise StoreError(f"MemoryStore cache: entry for {key!r} must be a dict, got {type(entry).__name__}")
        with self._lock:
            self._table[key] = copy_json(entry)

    def delete(self, key: str) -> None:
        with self._lock:
            self._table.pop(key, None)

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        with self._lock:
            return iter([(k, copy_json(self._table[k])) for k in sorted(self._table)])

    def __len__(self) -> int:
        with self._lock:
            return len(self._table)

