"""The dedup cache in front of evaluations: a candidate whose hash is known is served from the cache.

The study calls, per proposal: ``k = dedup.key(trial)``; ``values = dedup.lookup(k)``; if ``values`` is ``None``
it evaluates and calls ``dedup.record(k, values, seconds)``; otherwise it serves ``values`` to the algorithm
(``cached=True``), or, with ``resample=True``, asks the algorithm for another proposal instead.

Keys: ``'genome'`` (the canonical genome), ``'structural'`` (:func:`~symnas.hash.structural_hash` of
``cell_of(trial.description)``; NAS-Bench-201's ``cell_of`` by default, the genome where no cell can be read),
``'functional'`` (:func:`~symnas.hash.key.candidate_key`: functional hash of each module part plus every setting
training depends on), or any ``callable(trial) -> str``.

Policies (Unified Functional Hashing): ``'first'`` serves the first result; ``'average'`` evaluates a hash until
it has ``k`` results, then serves their mean. With ``forget_p > 0`` an entry is forgotten with that probability
after each hit (the next proposal with that hash is evaluated afresh).

Example::

    >>> from types import SimpleNamespace as T
    >>> d = Dedup(key="genome")
    >>> t = T(genome=(0, 1, 2), description=None, params={})
    >>> k = d.key(t); d.lookup(k) is None
    True
    >>> d.record(k, (0.9,), seconds=10.0); d.lookup(k)
    (0.9,)
    >>> d.stats["hits"], d.stats["misses"], d.stats["seconds_saved"]
    (1, 1, 10.0)
"""
from __future__ import annotations

import hashlib
import warnings
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from symnas.errors import SymnasError
from symnas.hash.cache import Entry, HashCache, MemoryCache, as_hash_cache

KeyFn = Callable[[Any], str]
Values = Optional[tuple[float, ...]]


class DedupError(SymnasError, ValueError):
    """Bad dedup settings (unknown key or policy, k < 1, forget_p outside [0, 1]) or a key that failed."""


def _where(trial: Any) -> str:
    number = getattr(trial, "number", None)
    return f"trial {number}" if number is not None else "trial"


def genome_key(trial: Any) -> str:
    """The ``'genome'`` key: the canonical genome's values.

    Example::

        >>> from types import SimpleNamespace as T
        >>> genome_key(T(genome=(1, 0.5)))
        'g:1,0.5'
    """
    return "g:" + ",".join(repr(v) for v in trial.genome)


def structural_key(cell_of: Optional[Callable[[Any], tuple]] = None, fallback: Optional[KeyFn] = None,
                   **options: Any) -> KeyFn:
    """A ``'structural'`` key function: ``structural_hash(*cell_of(trial.description), **options)``.

    ``cell_of(description) -> (adjacency, labels)``; default :func:`~symnas.hash.nb201.nb201_cell_of`. Where
    ``cell_of`` cannot read a candidate's cell, ``fallback`` (e.g. :func:`genome_key`) keys it instead and a
    warning says why, once; without ``fallback`` a :class:`DedupError` explains it.

    Example::

        >>> from types import SimpleNamespace as T
        >>> key = structural_key()
        >>> key(T(description=["skip_connect"] + ["none"] * 5)) == key(T(description=["none"] * 6))
        True
    """
    from symnas.hash.structural import structural_hash

    if cell_of is None:
        from symnas.hash.nb201 import nb201_cell_of as cell_of
    warned: list[str] = []

    def key(trial: Any) -> str:
        try:
            adjacency, labels = cell_of(trial.description)  # type: ignore[misc]
        except SymnasError as exc:
            if fallback is None:
                raise DedupError(f"Dedup key 'structural' on {_where(trial)}: cannot read a cell ({exc}); give "
                                 "cell_of=description -> (adjacency, labels) for this space, or use "
                                 "key='functional' or 'genome'") from None
            if not warned:
                warned.append(str(exc))
                warnings.warn(f"Dedup key 'structural': cannot read a cell ({exc}); keying candidates by their "
                              f"{getattr(fallback, '__name__', 'fallback')} instead", stacklevel=2)
            return fallback(trial)
        return "s:" + structural_hash(adjacency, labels, where=f"{_where(trial)} cell", **options)

    return key


def functional_key(build: Optional[Callable[[Any], Any]] = None, probe_shape: Any = None, *,
                   inert: Sequence[str] = (), **options: Any) -> KeyFn:
    """A ``'functional'`` key function: :func:`~symnas.hash.key.candidate_key` of the trial (the functional hash
    of each module-valued part, its non-inert constructor arguments and hidden settings, other values verbatim).

    ``build(trial)`` replaces ``trial.build(seed=0)`` (for NAS-Bench-201 pass
    ``symnas.models.nasbench201.nb201_probe_build`` and ``probe_shape=(2, 3, 8, 8)``; a build declares the
    arguments it reflects in its ``inert`` attribute); ``probe_shape`` is a shape, a spec dict or per-part probes
    (default: inferred from each module's first layer); ``inert`` names constructor arguments the probe sees.

    Example::

        >>> import torch.nn as nn
        >>> from types import SimpleNamespace as T
        >>> key = functional_key(probe_shape=(2, 3))
        >>> t = T(build=lambda seed=None: nn.Linear(3, 2))
        >>> key(t) == key(T(build=lambda seed=None: nn.Linear(3, 2)))
        True
    """
    from symnas.hash.key import candidate_key

    inert = tuple(inert) + tuple(getattr(build, "inert", ()))

    def key(trial: Any) -> str:
        return "f:" + candidate_key(trial, build=build, probe=probe_shape, inert=inert, **options)

    return key


class Dedup:
    """Dedup cache keyed by a hash, with the UFH policies; see the module docstring.

    Args:
        key: ``'genome'``, ``'structural'``, ``'functional'`` or ``callable(trial) -> str``.
        policy: ``'first'`` or ``'average'`` (average up to ``k`` evaluations).
        k: evaluations averaged per hash under ``'average'``.
        forget_p: probability of forgetting an entry after a hit.
        resample: on a hit, ask the algorithm for another proposal instead of serving the result.
        cache: a :class:`~symnas.hash.cache.HashCache` (default: a new :class:`MemoryCache`).
        seed: seed of the forget draws (each draw is a function of seed, key and hit count).
        cell_of: for ``key='structural'``: ``description -> (adjacency, labels)`` (default NAS-Bench-201).
        build, probe_shape, inert: for ``key='functional'`` (see :func:`functional_key`).

    Example::

        >>> d = Dedup(key=lambda t: t, policy="average", k=2)
        >>> d.lookup("x") is None; d.record("x", (1.0,), 1.0); d.lookup("x") is None; d.record("x", (3.0,), 1.0)
        True
        True
        >>> d.lookup("x")
        (2.0,)
    """

    def __init__(self, key: Union[str, KeyFn] = "genome", policy: str = "first", k: int = 3,
                 forget_p: float = 0.0, resample: bool = False, cache: Optional[HashCache] = None,
                 seed: int = 0, *, cell_of: Optional[Callable[[Any], tuple]] = None,
                 build: Optional[Callable[[Any], Any]] = None,
                 probe_shape: Any = None, inert: Sequence[str] = ()) -> None:
        if key == "genome":
            self._key: KeyFn = genome_key
        elif key == "structural":
            self._key = structural_key(cell_of)
        elif key == "functional":
            self._key = functional_key(build, probe_shape, inert=inert)
        elif callable(key):
            self._key = key
        else:
            raise DedupError(f"Dedup: argument key must be 'genome', 'structural', 'functional' or a callable, "
                             f"got {key!r}")
        if policy not in ("first", "average"):
            raise DedupError(f"Dedup: argument policy must be 'first' or 'average', got {policy!r}")
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise DedupError(f"Dedup: argument k must be an int >= 1, got {k!r}")
        if not isinstance(forget_p, (int, float)) or not 0.0 <= float(forget_p) <= 1.0:
            raise DedupError(f"Dedup: argument forget_p must be in [0, 1], got {forget_p!r}")
        cache = as_hash_cache(cache)  # a store's cache (JSON dicts) -> entries
        if cache is not None and not isinstance(cache, HashCache):
            raise DedupError(f"Dedup: argument cache must implement get/put/delete/items, got "
                             f"{type(cache).__name__}")
        self.key_name = key if isinstance(key, str) else getattr(key, "__name__", "callable")
        self.policy, self.k, self.forget_p, self.resample = policy, k, float(forget_p), bool(resample)
        self.cache: HashCache = cache if cache is not None else MemoryCache()
        self.seed = seed
        self._memo: Optional[dict[tuple, str]] = {} if isinstance(key, str) else None  # genome -> key
        self.last_source: Optional[int] = None
        self._generation: dict[str, int] = {}                 # times each key was forgotten (forget draws)
        self._stats = {"hits": 0, "misses": 0, "evaluations": 0, "failures": 0, "forgotten": 0,
                       "seconds_saved": 0.0}

    def key(self, trial: Any) -> str:
        """The hash key of a trial (anything with ``genome`` / ``description`` / ``build`` / ``params``).

        The named keys of a study's trials are functions of the genome and are memoised by it (a proposal seen
        before is not hashed again); a callable key is called every time.
        """
        # a study's trials: the genome decides the candidate (duck-typed trials may not promise that)
        genome = (getattr(trial, "genome", None)
                  if self._memo is not None and getattr(trial, "study", None) is not None else None)
        memo_key = tuple(genome) if genome is not None else None
        if memo_key is not None:
            got = self._memo.get(memo_key)  # type: ignore[union-attr]
            if got is not None:
                return got
        try:
            got = self._key(trial)
        except SymnasError:
            raise
        except Exception as exc:
            raise DedupError(f"Dedup key {self.key_name!r} failed on {_where(trial)}: "
                             f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(got, str):
            raise DedupError(f"Dedup key {self.key_name!r} on {_where(trial)}: expected a str, got "
                             f"{type(got).__name__}")
        if memo_key is not None:
            self._memo[memo_key] = got  # type: ignore[index]
        return got

    def _forgets(self, key: str, entry: Entry) -> bool:
        """The forget draw after a hit: a function of (seed, key, the entry's source trial, how often the key was
        forgotten before, the entry's hit count), so a resumed study that replays its trials draws the same."""
        if self.forget_p <= 0.0:
            return False
        gen = self._generation.get(key, 0)
        digest = hashlib.blake2b(f"{self.seed}:{key}:{entry.source}:{gen}:{entry.hits}".encode(),
                                 digest_size=8).digest()
        return int.from_bytes(digest, "little") / 2.0 ** 64 < self.forget_p

    def lookup(self, key: str) -> Values:
        """Cached values for ``key`` under the policy, or ``None``: evaluate it (a miss). After a hit,
        ``last_source`` is the trial number the values come from (the first evaluation)."""
        entry = self.cache.get(key)
        if entry is None or (self.policy == "average" and entry.count < self.k):
            self._stats["misses"] += 1
            return None
        values = entry.first if self.policy == "first" else entry.mean()
        self._stats["hits"] += 1
        self._stats["seconds_saved"] += (entry.source_seconds if self.policy == "first" and
                                         entry.source_seconds is not None else entry.mean_seconds())
        self.last_source = entry.source
        self._hit(key, entry)
        return values

    def peek(self, key: str) -> Values:
        """What :meth:`lookup` would serve for ``key``, without counting a hit or drawing a forget (the study
        uses it for proposals it turns away: resample mode, exhaustion).

        Example::

            >>> d = Dedup(key=lambda t: t); d.record("x", (1.0,), 2.0); d.peek("x"), d.stats["hits"]
            ((1.0,), 0)
        """
        entry = self.cache.get(key)
        if entry is None or (self.policy == "average" and entry.count < self.k):
            return None
        return entry.first if self.policy == "first" else entry.mean()

    def _hit(self, key: str, entry: Entry) -> None:
        entry.hits += 1
        if self._forgets(key, entry):
            self._generation[key] = self._generation.get(key, 0) + 1
            self.cache.delete(key)
            self._stats["forgotten"] += 1
        else:
            self.cache.put(key, entry)

    def record(self, key: str, values: Values, seconds: float, source: Optional[int] = None) -> None:
        """Records one evaluation of ``key`` by trial ``source`` (``values`` ``None``: failed, not cached).
        ``seconds`` is the evaluation time only (the study starts the clock after hashing)."""
        self._stats["evaluations"] += 1
        if values is None:
            self._stats["failures"] += 1
            return
        self._record(key, tuple(float(v) for v in values), seconds, source)

    def _record(self, key: str, values: tuple[float, ...], seconds: float, source: Optional[int]) -> None:
        entry = self.cache.get(key)
        if entry is None:
            self.cache.put(key, Entry.first_of(values, seconds, source))
        elif self.policy == "average" and entry.count >= self.k:
            return                                       # already full (a concurrent duplicate): keep the k
        else:
            try:
                self.cache.put(key, entry.add(values, seconds))
            except SymnasError as exc:
                raise DedupError(f"Dedup.record({key!r}): {exc}") from None

    def restore(self, records: Iterable[Any]) -> int:
        """Rebuilds cache entries when a study resumes by replaying its finished trials in event order:
        evaluations (``state='complete'``, at ``told_at``) are recorded, served trials (``state='cached'``, at
        ``asked_at``) replay their hit, with the same forget draws. Keys already in the cache (a persistent one)
        are left alone. Stats are not changed. Returns the number of entries rebuilt.

        Example::

            >>> from types import SimpleNamespace as R
            >>> d = Dedup(); d.restore([R(hash_key="a", state="complete", values=(0.5,), duration=3.0, number=0)])
            1
            >>> d.lookup("a"), d.last_source
            ((0.5,), 0)
        """
        events: list[tuple[int, int, Any]] = []
        for r in records:
            key = getattr(r, "hash_key", None)
            if key is None:
                continue
            if getattr(r, "state", None) == "complete" and r.values is not None:
                events.append((getattr(r, "told_at", None) or 0, 1, r))
            elif getattr(r, "state", None) == "cached":
                events.append((getattr(r, "asked_at", 0), 0, r))
        events.sort(key=lambda e: (e[0], e[1]))
        present = {e[2].hash_key for e in events if self.cache.get(e[2].hash_key) is not None}
        rebuilt: set[str] = set()
        for _, kind, r in events:
            key = r.hash_key
            if key in present:
                continue
            if kind == 1:
                self._record(key, tuple(float(v) for v in r.values), r.duration or 0.0, getattr(r, "number", None))
                rebuilt.add(key)
            else:
                entry = self.cache.get(key)
                if entry is not None:
                    self._hit(key, entry)
        return sum(1 for k in rebuilt if self.cache.get(k) is not None)

    @property
    def stats(self) -> dict[str, Any]:
        """``hits``, ``misses``, ``evaluations``, ``failures``, ``forgotten``, ``seconds_saved``, ``hit_rate``."""
        s: dict[str, Any] = dict(self._stats)
        looked = s["hits"] + s["misses"]
        s["hit_rate"] = s["hits"] / looked if looked else 0.0
        return s


__all__ = ["Dedup", "DedupError", "genome_key", "structural_key", "functional_key"]
