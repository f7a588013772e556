"""The dedup cache protocol (``HashCache``) and its in-memory implementation.

A cache maps a hash key (``str``) to an :class:`Entry`. A store that declares the ``"cache"`` capability keeps
entries as JSON dicts (``store.cache(namespace)``, a :class:`symnas.store.base.RecordCache`); :class:`StoreCache`
(which :class:`~symnas.hash.dedup.Dedup` applies by itself, see :func:`as_hash_cache`) turns them into entries.

Methods: ``get(key) -> Entry | None``, ``put(key, entry)`` (insert or replace), ``delete(key)`` (no error when
absent; used by the forget-p policy), ``items() -> iterator of (key, Entry)``. Entries are values: the dedup
object always ``put``\\ s an entry back after changing it, so a store may return copies from ``get``.

Example::

    >>> cache = MemoryCache()
    >>> cache.put("abc", Entry.first_of((0.9,), seconds=12.0))
    >>> cache.get("abc").mean()
    (0.9,)
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator, Optional, Protocol, runtime_checkable

from symnas.errors import StoreError


@dataclasses.dataclass
class Entry:
    """What the cache knows about one hash: the first result, sums and count of results, hits, evaluation time.

    ``first``: the first recorded values (one float per objective); ``sums``: per-objective sums of the
    ``count`` recorded evaluations; ``hits``: times it was served; ``seconds``: total evaluation seconds of the
    ``count`` evaluations; ``source``: the trial number of the first evaluation (the trial a ``'first'`` hit is
    served from) and ``source_seconds`` its evaluation time (what such a hit saves).

    Example::

        >>> e = Entry.first_of((1.0, 2.0), seconds=3.0)
        >>> e.add((3.0, 4.0), seconds=5.0).mean(), e.count, e.mean_seconds()
        ((2.0, 3.0), 2, 4.0)
    """

    first: tuple[float, ...]
    sums: tuple[float, ...]
    count: int = 1
    hits: int = 0
    seconds: float = 0.0
    source: Optional[int] = None
    source_seconds: Optional[float] = None

    @classmethod
    def first_of(cls, values: tuple[float, ...], seconds: float = 0.0, source: Optional[int] = None) -> "Entry":
        """A new entry holding one evaluation (of trial ``source``)."""
        v = tuple(float(x) for x in values)
        return cls(first=v, sums=v, count=1, hits=0, seconds=float(seconds), source=source,
                   source_seconds=float(seconds))

    def add(self, values: tuple[float, ...], seconds: float = 0.0) -> "Entry":
        """Adds one evaluation (in place) and returns ``self``."""
        if len(values) != len(self.sums):
            raise StoreError(f"cache entry: {len(values)} objective value(s) given, entry holds {len(self.sums)}")
        self.sums = tuple(s + float(v) for s, v in zip(self.sums, values))
        self.count += 1
        self.seconds += float(seconds)
        return self

    def mean(self) -> tuple[float, ...]:
        """Per-objective mean of the recorded evaluations."""
        return tuple(s / self.count for s in self.sums)

    def mean_seconds(self) -> float:
        """Mean evaluation time (what one hit saves)."""
        return self.seconds / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (for persistent stores)."""
        return {"first": list(self.first), "sums": list(self.sums), "count": self.count, "hits": self.hits,
                "seconds": self.seconds, "source": self.source, "source_seconds": self.source_seconds}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Entry":
        """Inverse of :meth:`to_dict`."""
        try:
            src, src_s = d.get("source"), d.get("source_seconds")
            return cls(first=tuple(float(x) for x in d["first"]), sums=tuple(float(x) for x in d["sums"]),
                       count=int(d["count"]), hits=int(d.get("hits", 0)), seconds=float(d.get("seconds", 0.0)),
                       source=None if src is None else int(src),
                       source_seconds=None if src_s is None else float(src_s))
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"cache entry: malformed record {d!r}: {exc}") from None


@runtime_checkable
class HashCache(Protocol):
    """What the dedup object needs from a cache: get / put / delete / items (see the module docstring)."""

    def get(self, key: str) -> Optional[Entry]: ...

    def put(self, key: str, entry: Entry) -> None: ...

    def delete(self, key: str) -> None: ...

    def items(self) -> Iterator[tuple[str, Entry]]: ...


class MemoryCache:
    """An in-memory :class:`HashCache` (a dict).

    Example::

        >>> c = MemoryCache(); c.put("k", Entry.first_of((1.0,))); c.delete("k"); c.get("k") is None
        True
    """

    def __init__(self) -> None:
        self._d: dict[str, Entry] = {}

    def get(self, key: str) -> Optional[Entry]:
        return self._d.get(key)

    def put(self, key: str, entry: Entry) -> None:
        self._d[key] = entry

    def delete(self, key: str) -> None:
        self._d.pop(key, None)

    def items(self) -> Iterator[tuple[str, Entry]]:
        return iter(list(self._d.items()))

    def __len__(self) -> int:
        return len(self._d)


class StoreCache:
    """A :class:`HashCache` over a store's cache (the store contract's ``"cache"`` capability: key -> JSON dict).

    Example::

        >>> from symnas.store.memory import MemoryStore
        >>> c = StoreCache(MemoryStore().cache("nb201"))
        >>> c.put("k", Entry.first_of((0.9,), seconds=2.0)); c.get("k").mean(), len(c)
        ((0.9,), 1)
    """

    def __init__(self, records: Any) -> None:
        self.records = records

    def get(self, key: str) -> Optional[Entry]:
        d = self.records.get(key)
        return None if d is None else Entry.from_dict(d)

    def put(self, key: str, entry: Entry) -> None:
        d = entry.to_dict()
        if not all(math.isfinite(v) for v in d["first"] + d["sums"]):
            raise StoreError(f"cache entry {key!r}: non-finite values are not cached: {d['first']}")
        self.records.put(key, d)

    def delete(self, key: str) -> None:
        self.records.delete(key)

    def items(self) -> Iterator[tuple[str, Entry]]:
        return iter([(k, Entry.from_dict(d)) for k, d in self.records.items()])

    def __len__(self) -> int:
        return len(self.records)


def as_hash_cache(cache: Any) -> Any:
    """``cache`` as a :class:`HashCache`: a store's cache (``holds == 'json'``) is wrapped in :class:`StoreCache`."""
    return StoreCache(cache) if getattr(cache, "holds", None) == "json" else cache


__all__ = ["Entry", "HashCache", "MemoryCache", "StoreCache", "as_hash_cache"]
