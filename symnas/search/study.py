"""The ask/tell search loop.

Example::

    study = sn.Study(space, sn.algorithms.RegularizedEvolution(seed=0), objectives={"acc": "max"})
    for _ in range(100):
        trial = study.ask()
        study.tell(trial, evaluate(trial.build()))
    print(study.best_trial.description)

or ``study.optimize(evaluate, n_trials=100)`` where ``evaluate(trial)`` returns the value(s).
"""
from __future__ import annotations

import os
import random
import socket
import time
import traceback
from typing import Any, Callable, Optional, Sequence, Union

from symnas.errors import SymnasError, TrialError
from symnas.search.objectives import Objectives, ObjectiveSpec
from symnas.search.trial import Trial
from symnas.space.space import Space
from symnas.store.base import FINISHED, Storage, TrialRecord
from symnas.store.memory import MemoryStore

__all__ = ["Study", "SpaceExhausted"]

_MAX_CACHED_IN_A_ROW = 10_000
# Dedup exhaustion bounds (per ask): served proposals written as rows, then known proposals turned away unwritten.
_MAX_SERVED_ROWS_IN_A_ROW = 100
_MAX_KNOWN_PROPOSALS = 1_000


class SpaceExhausted(SymnasError, RuntimeError):
    """The algorithm keeps proposing candidates the dedup cache already knows: the space (or what the algorithm
    can reach of it) is exhausted."""


class Study:
    """A search: a space, an algorithm, objectives, a store, and optionally dedup and early stopping.

    Args:
      space: the search space (a :class:`~symnas.space.space.Space` or a tree with placeholders).
      algorithm: the search algorithm (default: random search).
      objectives: ``None`` (maximise ``value``), ``'min'``, or ``{'acc': 'max', 'latency': 'min'}``.
      store: where trials live (default: in memory); reopening a store resumes the study.
      name: the study's name in the store.
      dedup: a :class:`symnas.hash.Dedup` (candidates already evaluated are served from its cache).
      pruner: an early-stopping policy with ``should_prune(study, trial) -> bool``.

    In a space with constraints (``space.meta['constraints']``), a proposal that violates them is replaced by a
    feasible random candidate (counted in ``stats['repaired']``); the algorithm is told the result of the candidate
    actually evaluated.
    """

    def __init__(self, space: Union[Space, Any], algorithm: Any = None, *, objectives: ObjectiveSpec = None,
                 store: Optional[Storage] = None, name: str = "study", dedup: Any = None, pruner: Any = None,
                 snapshot_every: Optional[int] = None) -> None:
        self.space = space if isinstance(space, Space) else Space(space)
        if algorithm is None:
            from symnas.algorithms.random import RandomSearch

            algorithm = RandomSearch()
        self.algorithm = algorithm
        self.objectives = Objectives(objectives)
        self.store: Storage = store if store is not None else MemoryStore()
        self.name = name
        self.dedup = dedup
        self.pruner = pruner
        self.snapshot_every = snapshot_every or getattr(algorithm, "snapshot_every", 1)
        self.algorithm.setup(self.space.table, len(self.objectives))
        self.store.open_study(name, space=self.space.to_dict(), objectives=self.objectives.to_dict(),
                              algorithm=type(algorithm).__name__)
        self._trials: list[TrialRecord] = []
        self._running: dict[int, Trial] = {}
        self._queue: list[tuple] = []
        self._event = 0
        self._told = 0
        self.stats = {"evaluations": 0, "cached": 0, "failed": 0, "requeued": 0, "resampled": 0, "repaired": 0}
        self._constrained = self.space.constrained
        self._resume()

    # -- resume -------------------------------------------------------------------------------------------
    def _resume(self) -> None:
        records = self.store.trials(self.name)
        if not records:
            if self.store.load_algorithm_state(self.name) is None:
                # The initial state: a resumed study replays everything after it, whatever seed it is given.
                self.store.save_algorithm_state(self.name, self.algorithm.state_dict(), -1)
            return
        snap = self.store.load_algorithm_state(self.name)
        since = -1
        if snap is not None:
            self.algorithm.load_state_dict(snap[0])
            since = snap[1]
        events: list[tuple[int, int, TrialRecord]] = []
        for r in records:
            if r.asked_at > since:
                events.append((r.asked_at, 0, r))
            if r.told_at is not None and r.told_at > since:
                events.append((r.told_at, 1, r))
        events.sort(key=lambda e: (e[0], e[1]))
        for _, kind, r in events:
            if kind == 0:  # advance the algorithm exactly as the original run did
                for _ in range(r.user_attrs.get("discarded", 0) + (0 if r.user_attrs.get("from_queue") else 1)):
                    self.algorithm.propose()
            else:
                self.algorithm.feedback(r.genome, self._oriented(r), cached=r.state == "cached")
        for r in records:
            if r.state == "running" and not _owner_alive(r.user_attrs.get("owner")):
                r.state, r.user_attrs["requeue"] = "interrupted", True
                r.error = "the study stopped while this trial was running; its candidate was re-queued"
            self._count(r)
        self._trials = records
        self.requeue_interrupted()
        self._event = max([r.asked_at for r in records] + [r.told_at or 0 for r in records]) + 1
        self._told = sum(1 for r in records if r.told_at is not None)
        if self.dedup is not None and hasattr(self.dedup, "restore"):
            self.dedup.restore(r for r in records if r.state in ("complete", "failed", "cached"))

    def _count(self, r: TrialRecord) -> None:
        if r.state == "cached":
            self.stats["cached"] += 1
        elif r.state in ("complete", "failed", "pruned"):
            self.stats["evaluations"] += 1
            if r.state == "failed":
                self.stats["failed"] += 1

    def _oriented(self, r: TrialRecord) -> Optional[tuple[float, ...]]:
        if r.state in ("complete", "cached") and r.values is not None:
            return self.objectives.oriented(r.values)
        return None

    # -- ask / tell ---------------------------------------------------------------------------------------
    def ask(self) -> Trial:
        """Proposes the next candidate to evaluate (candidates known to the dedup cache are served from it)."""
        table = self.space.table
        discarded = 0  # proposals turned away by the dedup cache in resample mode (replayed on resume)
        served = known = 0
        for _ in range(_MAX_CACHED_IN_A_ROW):
            if self._queue:
                genome = self._queue.pop(0)
                from_queue = True
            else:
                genome = table.canonical(self.algorithm.propose())
                from_queue = False
                if self._constrained and not self.space.feasible(genome):
                    # Repair: a feasible random candidate instead, drawn reproducibly from the event number.
                    genome = self.space.sample(rng=random.Random(f"{self.name}:{self._event}"))
                    self.stats["repaired"] += 1
            record = TrialRecord(number=len(self._trials), genome=genome, asked_at=self._event,
                                 started=time.time())
            record.user_attrs["owner"] = _owner()  # another writer resuming leaves a live owner's trials alone
            if from_queue:
                record.user_attrs["from_queue"] = True  # not proposed by the algorithm: nothing to replay
            if discarded:
                record.user_attrs["discarded"] = discarded
            trial = Trial(self, record)
            if self.dedup is not None:
                key = self.dedup.key(trial)
                trial.hash_key = record.hash_key = key
                if not from_queue:
                    turn_away = getattr(self.dedup, "resample", False) or served >= _MAX_SERVED_ROWS_IN_A_ROW
                    peek = getattr(self.dedup, "peek", None) if turn_away else None
                    cached = peek(key) if peek is not None else self.dedup.lookup(key)  # a peek is no hit
                    if cached is not None:
                        known += 1
                        if known >= _MAX_KNOWN_PROPOSALS:
                            self.stats["exhausted"] = True
                            raise SpaceExhausted(
                                f"study {self.name!r}: {known} proposals in a row were already known to the dedup "
                                f"cache ({served} served, {known - served} turned away): the space is exhausted")
                        if turn_away:
                            self.stats["resampled"] += 1
                            discarded += 1
                            continue
                        self._serve_cached(record, tuple(cached))
                        served += 1
                        discarded = 0
                        continue
            record.started = time.time()  # evaluation time excludes hashing
            self._event += 1
            self._trials.append(record)
            self.store.add_trial(self.name, record)
            self._running[record.number] = trial
            return trial
        raise SymnasError(f"{_MAX_CACHED_IN_A_ROW} proposals in a row were already evaluated: the algorithm "
                          "keeps proposing known candidates (is the space exhausted?)")

    def _serve_cached(self, record: TrialRecord, values: tuple[float, ...]) -> None:
        record.state, record.values = "cached", values
        source = getattr(self.dedup, "last_source", None)
        if source is not None:
            record.user_attrs["served_from"] = source  # the trial whose evaluation is served
        record.told_at = record.asked_at
        record.finished, record.duration = record.started, 0.0
        self._event += 1
        self._trials.append(record)
        self.store.add_trial(self.name, record)
        self.stats["cached"] += 1
        self._told += 1
        self.algorithm.feedback(record.genome, self.objectives.oriented(values), cached=True)
        self._maybe_snapshot()

    def tell(self, trial: Union[Trial, int], value: Any = None, *, failure: Union[None, str, BaseException] = None,
             pruned: bool = False) -> Trial:
        """Reports a trial's result: a number, a tuple or dict of named objectives, or a failure.

        A NaN or infinite value is recorded as a failure, never ranked.
        """
        number = trial if isinstance(trial, int) else trial.number
        t = self._running.pop(number, None)
        if t is None:
            if 0 <= number < len(self._trials) and self._trials[number].state in FINISHED + ("interrupted",):
                raise TrialError(f"trial {number} was already told ({self._trials[number].state})")
            raise TrialError(f"trial {number} is not a running trial of study {self.name!r}")
        r = t.record
        try:
            if failure is None and value is None and not pruned:
                raise TrialError(f"trial {number}: tell() needs a value or failure=...")
            if failure is not None:
                r.state, r.values = "failed", None
                r.error = _error_text(failure)
            else:
                vals, bad = (self.objectives.parse(value, f"trial {number}") if value is not None else ((), None))
                if bad:
                    r.state, r.values, r.error = "failed", None, bad
                elif pruned:
                    r.state, r.values = "pruned", (vals or None)
                else:
                    r.state, r.values = "complete", vals
        except TrialError:
            self._running[number] = t
            raise
        now = time.time()
        r.finished, r.duration = now, now - r.started
        r.told_at = self._event
        self._event += 1
        self.store.finish_trial(self.name, r)  # durable before the algorithm sees it
        self._count(r)
        self._told += 1
        if self.dedup is not None and t.hash_key is not None and r.state != "pruned":
            self.dedup.record(t.hash_key, r.values if r.state == "complete" else None, r.duration or 0.0,
                              source=r.number)
        self.algorithm.feedback(r.genome, self._oriented(r))
        self._maybe_snapshot()
        return t

    def requeue_interrupted(self) -> int:
        """Queues the candidates of interrupted trials to be asked again (first); returns how many."""
        n = 0
        for r in self._trials:
            if r.state == "interrupted" and r.user_attrs.get("requeue"):
                r.user_attrs["requeue"] = False
                self.store.finish_trial(self.name, r)
                self._queue.append(r.genome)
                self.stats["requeued"] += 1
                n += 1
        return n

    def interrupt(self, trial: Union[Trial, int], reason: str = "interrupted") -> None:
        """Marks a running trial interrupted (e.g. on Ctrl-C); its candidate is re-queued when the study resumes."""
        number = trial if isinstance(trial, int) else trial.number
        t = self._running.pop(number, None)
        if t is None:
            raise TrialError(f"trial {number} is not a running trial of study {self.name!r}")
        r = t.record
        r.state, r.error = "interrupted", reason
        r.finished = time.time()
        r.duration = r.finished - r.started
        r.user_attrs["requeue"] = True
        self.store.finish_trial(self.name, r)

    def _maybe_snapshot(self) -> None:
        if self.snapshot_every and self._told % self.snapshot_every == 0:
            self.store.save_algorithm_state(self.name, self.algorithm.state_dict(), self._event - 1)

    def _report(self, trial: Trial, value: float, step: int) -> None:
        trial.record.intermediate.append((step, value))
        self.store.report(self.name, trial.number, step, value)

    def _should_prune(self, trial: Trial) -> bool:
        return bool(self.pruner is not None and self.pruner.should_prune(self, trial))

    # -- loop ---------------------------------------------------------------------------------------------
    def optimize(self, fn: Callable[[Trial], Any], n_trials: int, *, catch: Sequence[type] = (Exception,),
                 callbacks: Sequence[Callable[["Study", Trial], None]] = ()) -> "Study":
        """Runs ``n_trials`` evaluations of ``fn(trial)`` (cached candidates do not count).

        Exceptions of the ``catch`` types are recorded as failed trials and the search goes on.
        """
        from symnas.search.pruning import TrialPruned

        for _ in range(n_trials):
            trial = self.ask()
            try:
                value = fn(trial)
            except TrialPruned:
                last = trial.record.intermediate[-1][1] if trial.record.intermediate else None
                self.tell(trial, last, pruned=True)
            except tuple(catch) as e:  # type: ignore[misc]
                self.tell(trial, failure=e)
            except BaseException as e:
                self.tell(trial, failure=e)
                raise
            else:
                self.tell(trial, value)
            for cb in callbacks:
                cb(self, trial)
        return self

    # -- results ------------------------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        return [self._running.get(r.number) or Trial(self, r) for r in self._trials]

    @property
    def records(self) -> list[TrialRecord]:
        return list(self._trials)

    def _complete(self) -> list[TrialRecord]:
        return [r for r in self._trials if r.state in ("complete", "cached") and r.values]

    @property
    def best_trial(self) -> Trial:
        """The best trial on the first objective (complete or cached)."""
        done = self._complete()
        if not done:
            raise TrialError(f"study {self.name!r} has no completed trial")
        sign = 1.0 if self.objectives.directions[0] == "max" else -1.0
        best = max(done, key=lambda r: (sign * r.values[0], -r.number))  # type: ignore[index]
        return Trial(self, best)

    @property
    def best_value(self) -> float:
        return self.best_trial.values[0]  # type: ignore[index]

    def pareto_front(self) -> list[Trial]:
        """Non-dominated trials over all objectives (each candidate once)."""
        done = self._complete()
        pts = [(self.objectives.oriented(r.values), r) for r in done]  # type: ignore[arg-type]
        front = []
        seen: set = set()
        for v, r in pts:
            if r.genome in seen:
                continue
            if not any(all(a >= b for a, b in zip(w, v)) and any(a > b for a, b in zip(w, v)) for w, _ in pts):
                front.append(Trial(self, r))
                seen.add(r.genome)
        return front

    def summary(self) -> dict[str, Any]:
        """Counts: trials, evaluations, dedup hits (cached), failed."""
        return {"trials": len(self._trials), **self.stats}


_HOST = socket.gethostname()


def _owner() -> str:
    return f"{_HOST}:{os.getpid()}"  # the pid at call time: forked workers are owners of their own


def _owner_alive(owner: Optional[str]) -> bool:
    """True if ``owner`` (``host:pid`` of the process that asked a trial) is another process still running here.

    A process that reopens a study re-queues the running trials of dead owners (a crash); trials of live writers
    on this host, and of writers on other hosts (which cannot be checked), stay running.
    """
    if not owner or owner == _owner():
        return False
    host, _, pid = owner.rpartition(":")
    if host != _HOST:
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def _error_text(failure: Union[str, BaseException]) -> str:
    if isinstance(failure, BaseException):
        tb = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
        return f"{type(failure).__name__}: {failure}\n{tb}"
    return str(failure)
