"""The storage contract: where trials, their results, the study's metadata and the algorithm's state live.

A store keeps, per study: its metadata (:meth:`Storage.study_meta`: space, objectives, algorithm name and
configuration, the space's fingerprint, the seed), trials as :class:`TrialRecord` rows, and the latest algorithm
snapshot with the event number it was taken at. Every ask and tell gets an event number so a study can resume
exactly: load the snapshot, then replay the events after it.

Every store subclasses :class:`Storage` and passes the storage contract suite (``tests/test_store_contract.py``).
Implementations: :class:`~symnas.store.memory.MemoryStore` (default) and the durable
:class:`~symnas.store.sqlite.SQLiteStore`.

Example::

    >>> from symnas.store.memory import MemoryStore
    >>> store = MemoryStore()
    >>> store.open_study("s", space={}, objectives={"value": "max"}, algorithm="RandomSearch")
    >>> store.add_trial("s", TrialRecord(number=0, genome=(1, 2)))
    >>> [r.state for r in store.trials("s")], store.supports("cache")
    (['running'], True)
"""
from __future__ import annotations

import abc
import enum
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Sequence

from symnas.errors import StoreError

__all__ = ["TrialState", "RUNNING", "COMPLETE", "FAILED", "PRUNED", "CACHED", "INTERRUPTED", "TrialRecord",
           "Storage", "RecordCache", "STATES", "FINISHED", "SYSTEM_ATTRS", "CAPABILITIES", "copy_json"]


class TrialState(str, enum.Enum):
    """The state of a trial. A ``str``: ``TrialState.COMPLETE == "complete"``, and JSON/SQLite hold the text.

    ``CACHED``: served from the dedup cache, not evaluated. ``INTERRUPTED``: was running when the study stopped;
    its genome is re-queued as a new trial.

    Example::

        >>> TrialState("complete") is TrialState.COMPLETE, f"{TrialState.FAILED}", TrialState.PRUNED.finished
        (True, 'failed', True)
    """

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"
    CACHED = "cached"
    INTERRUPTED = "interrupted"

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:  # printed records and lists read as before the enum: ['complete', 'failed']
        return repr(self.value)

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def finished(self) -> bool:
        """True for the states a trial ends in when told (complete, failed, pruned, cached)."""
        return self is not RUNNING and self is not INTERRUPTED

    @property
    def has_values(self) -> bool:
        """True for the states whose values rank (complete, cached)."""
        return self is COMPLETE or self is CACHED


# Module-level names of the members: reading ``TrialState.COMPLETE`` goes through the enum's class machinery
# (slow on hot paths); these are plain globals.
RUNNING, COMPLETE, FAILED = TrialState.RUNNING, TrialState.COMPLETE, TrialState.FAILED
PRUNED, CACHED, INTERRUPTED = TrialState.PRUNED, TrialState.CACHED, TrialState.INTERRUPTED
STATES = tuple(TrialState)
FINISHED = (COMPLETE, FAILED, PRUNED, CACHED)

#: Keys of :attr:`TrialRecord.system_attrs` the study writes: ``owner`` (``host:pid`` of the asking process),
#: ``from_queue`` (a re-queued candidate, not proposed by the algorithm), ``discarded`` (proposals the dedup cache
#: turned away before this one) and ``requeue`` (an interrupted trial whose candidate is still to be re-queued).
#: System attribute values are JSON scalars (str, number, bool, None).
SYSTEM_ATTRS = ("owner", "from_queue", "discarded", "requeue")

#: Capabilities a store may declare in :attr:`Storage.capabilities`.
CAPABILITIES = frozenset({"cache", "durable", "multi_process", "read_only"})


_SHARED = frozenset({str, int, float, bool, type(None), tuple})  # immutable: shared by a copy, not copied


def copy_json(value: Any) -> Any:
    """A copy of JSON-like data (dicts and lists copied all the way down; scalars and tuples shared)."""
    if isinstance(value, dict):
        return {k: (v if type(v) in _SHARED else copy_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _SHARED else copy_json(v) for v in value]
    return value


@dataclass
class TrialRecord:
    """One trial as stored: plain data, JSON-friendly.

    ``user_attrs`` belong to the user and the evaluator (``trial.set_user_attr``); ``system_attrs`` to symnas's
    bookkeeping (:data:`SYSTEM_ATTRS`) — neither ever overwrites the other.
    """

    number: int
    genome: tuple
    state: TrialState = TrialState.RUNNING
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
    system_attrs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if type(self.state) is not TrialState:
            try:
                self.state = TrialState(self.state)
            except ValueError:
                raise StoreError(f"trial {self.number}: unknown state {self.state!r} (known: "
                                 f"{', '.join(s.value for s in TrialState)})") from None

    def copy(self) -> "TrialRecord":
        """An independent copy (attribute dicts and the intermediate list are copied, not shared).

        Example::

            >>> r = TrialRecord(number=0, genome=(1,), user_attrs={"a": [1]})
            >>> c = r.copy(); c.user_attrs["a"].append(2); r.user_attrs
            {'a': [1]}
        """
        new = object.__new__(TrialRecord)  # the hot path of MemoryStore: no __init__, fields copied directly
        d = self.__dict__.copy()
        d["intermediate"] = list(self.intermediate) if self.intermediate else []
        ua = self.user_attrs
        d["user_attrs"] = {k: (v if type(v) in _SHARED else copy_json(v)) for k, v in ua.items()} if ua else {}
        d["system_attrs"] = dict(self.system_attrs)  # its values are scalars (see SYSTEM_ATTRS)
        new.__dict__ = d
        if type(self.state) is not TrialState:  # a state assigned as text: normalised as __init__ would
            new.__post_init__()
        return new


class RecordCache(abc.ABC):
    """The dedup cache a store keeps (capability ``"cache"``): ``str`` key → JSON-serialisable ``dict``.

    The store knows nothing of what an entry means; :class:`symnas.hash.cache.StoreCache` turns the dicts into
    dedup entries. ``get`` returns a copy (the caller owns it); ``put`` inserts or replaces; ``delete`` of an absent
    key is no error; ``items`` iterates ``(key, dict)`` pairs ordered by key.
    """

    #: What the values are: JSON dicts (lets a consumer recognise a store's cache).
    holds = "json"

    @abc.abstractmethod
    def get(self, key: str) -> Optional[dict[str, Any]]: ...

    @abc.abstractmethod
    def put(self, key: str, entry: dict[str, Any]) -> None: ...

    @abc.abstractmethod
    def delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def items(self) -> Iterator[tuple[str, dict[str, Any]]]: ...

    @abc.abstractmethod
    def __len__(self) -> int: ...


class Storage(abc.ABC):
    """What a study needs from a store. Methods take the study name first.

    The contract (checked for every store by ``tests/test_store_contract.py``):

    - **Ownership.** A store never keeps a record it is given and never hands out one it keeps: after
      :meth:`add_trial` / :meth:`finish_trial` the caller may go on changing its record, and the records
      :meth:`trials` returns belong to the caller (changing them changes nothing stored). The same holds for
      algorithm snapshots, study metadata and cache entries.
    - **Numbering.** Trial numbers are ``0, 1, 2, ...`` per study. :meth:`add_trial` of a number another writer
      already took stores the trial under the next free number and updates ``record.number``; a number beyond the
      next free one is a :class:`~symnas.errors.StoreError`.
    - **Threads.** Every method may be called from several threads of one process.
    - **Processes.** Only stores declaring ``"multi_process"`` may be written by several processes at once.
    - **Durability.** On a store declaring ``"durable"``, a write is durable (against a crash of the process)
      when the method returns.
    - **Capabilities** (:attr:`capabilities`, ask with :meth:`supports`): ``"cache"`` (:meth:`cache`),
      ``"durable"``, ``"multi_process"``, ``"read_only"`` (this handle only reads: every write raises
      :class:`~symnas.errors.StoreError`). Study metadata (:meth:`study_meta`) is part of every store.
    - **Errors.** Every failure is a :class:`~symnas.errors.StoreError` naming the store and the study.
    """

    #: What this store offers beyond the required methods (a subset of :data:`CAPABILITIES`).
    capabilities: frozenset[str] = frozenset()

    def supports(self, capability: str) -> bool:
        """True if the store declares ``capability``.

        Example::

            >>> from symnas.store.memory import MemoryStore
            >>> MemoryStore().supports("cache"), MemoryStore().supports("durable")
            (True, False)
        """
        if capability not in CAPABILITIES:
            raise StoreError(f"unknown store capability {capability!r} (known: {', '.join(sorted(CAPABILITIES))})")
        return capability in self.capabilities

    # -- studies ------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str,
                   meta: Optional[dict[str, Any]] = None) -> None:
        """Creates the study or checks that an existing one has the same objectives.

        ``meta`` (JSON data: the space's fingerprint, the algorithm's configuration, the seed) is kept with a new
        study; an existing study's metadata is left as it is (see :meth:`update_study_meta`).
        """

    @abc.abstractmethod
    def study_meta(self, study: str) -> dict[str, Any]:
        """``{'space', 'objectives', 'algorithm', 'created', **meta}`` of a study (a copy)."""

    @abc.abstractmethod
    def update_study_meta(self, study: str, changes: dict[str, Any]) -> None:
        """Merges ``changes`` into the study's metadata (``'algorithm'`` replaces the algorithm's name)."""

    @abc.abstractmethod
    def studies(self) -> Sequence[str]:
        """Names of the studies in this store, oldest first."""

    # -- trials -------------------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_trial(self, study: str, record: TrialRecord) -> None:
        """Adds a new trial (running, or already finished when served from the cache)."""

    @abc.abstractmethod
    def finish_trial(self, study: str, record: TrialRecord) -> None:
        """Writes a trial's outcome (state, values, error, timings, attributes); durable on return."""

    @abc.abstractmethod
    def report(self, study: str, number: int, step: int, value: float) -> None:
        """Appends an intermediate value to a stored trial."""

    @abc.abstractmethod
    def trials(self, study: str) -> list[TrialRecord]:
        """All trials of the study, by number (new records, owned by the caller)."""

    # -- algorithm state ----------------------------------------------------------------------------------
    @abc.abstractmethod
    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        """Keeps the algorithm snapshot taken after event ``event`` (JSON data; replaces the previous one)."""

    @abc.abstractmethod
    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        """The latest snapshot (a copy) and its event number, or ``None``."""

    # -- capabilities -------------------------------------------------------------------------------------
    def cache(self, namespace: str = "default") -> RecordCache:
        """The dedup cache kept under ``namespace`` (capability ``"cache"``)."""
        raise StoreError(f"{type(self).__name__} keeps no dedup cache (it does not declare the 'cache' capability)")

    def close(self) -> None:
        """Releases what the store holds open (nothing by default)."""
