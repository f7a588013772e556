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

import logging
import os
import random
import socket
import time
import traceback
from typing import Any, Callable, Optional, Sequence, Union

from symnas.algorithms.pareto import pareto_indices
from symnas.errors import SymnasError, TrialError
from symnas.search import studymeta
from symnas.search.objectives import Objectives, ObjectiveSpec
from symnas.search.trial import Trial
from symnas.space.space import Space
from symnas.store.base import CACHED, COMPLETE, FAILED, INTERRUPTED, PRUNED, RUNNING, Storage, TrialRecord
from symnas.store.memory import MemoryStore

__all__ = ["Study", "SpaceExhausted"]

logger = logging.getLogger("symnas.study")

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
      switch_algorithm: reopening a study run with another algorithm (or configuration) is an error; ``True``
        continues under ``algorithm`` instead: it learns the finished trials' results, and the study records it.

    Reopening a study checks that the space (by fingerprint) and the algorithm are the ones it was created with
    (:mod:`symnas.search.studymeta`); a new seed is reported in :attr:`notes` (and logged), not used.

    In a space with constraints (``space.meta['constraints']``), a proposal that violates them is replaced by a
    feasible random candidate (counted in ``stats['repaired']``); the algorithm is told the result of the candidate
    actually evaluated.
    """

    def __init__(self, space: Union[Space, Any], algorithm: Any = None, *, objectives: ObjectiveSpec = None,
                 store: Optional[Storage] = None, name: str = "study", dedup: Any = None, pruner: Any = None,
                 snapshot_every: Optional[int] = None, switch_algorithm: bool = False) -> None:
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
        #: Lines worth telling the user about this study's opening (e.g. a seed that is not used on resume).
        self.notes: list[str] = []
        space_dict = self.space.to_dict()
        meta = studymeta.study_meta_for(space_dict, algorithm)
        self.store.open_study(name, space=space_dict, objectives=self.objectives.to_dict(),
                              algorithm=type(algorithm).__name__, meta=meta)
        switched = self._check_meta(space_dict, meta, switch_algorithm)
        self._trials: list[TrialRecord] = []
        self._running: dict[int, Trial] = {}
        self._queue: list[tuple] = []
        self._event = 0
        self._told = 0
        self.stats = {"evaluations": 0, "cached": 0, "failed": 0, "requeued": 0, "resampled": 0, "repaired": 0}
        self._constrained = self.space.constrained
        self._resume(switched)

    def _check_meta(self, space_dict: dict, meta: dict[str, Any], switch: bool) -> bool:
        """Compares a reopened study with what it was created with; True when the algorithm is switched."""
        stored = self.store.study_meta(self.name)
        where = f"study {self.name!r}" + (f" in {self.store.path}" if isinstance(getattr(self.store, "path", None),
                                                                           str) else "")
        studymeta.check_space(where, stored, space_dict, meta["fingerprint"])
        name = type(self.algorithm).__name__
        try:
            studymeta.check_algorithm(where, stored, name, meta["algorithm_config"])
        except SymnasError:
            if not switch:
                raise
            history = list(stored.get("algorithm_history", [])) + [
                {k: stored.get(k) for k in ("algorithm", "algorithm_config", "seed")}]
            self.store.update_study_meta(self.name, {"algorithm": name, "algorithm_config": meta["algorithm_config"],
                                                     "seed": meta["seed"], "algorithm_history": history})
            self._note(f"{where} continues under {name} (was {stored.get('algorithm')})")
            return True
        note = studymeta.seed_note(where, stored, meta["seed"])
        if note:
            self._note(note)
        return False

    def _note(self, line: str) -> None:
        self.notes.append(line)
        logger.warning(line)

    # -- resume -------------------------------------------------------------------------------------------
    def _resume(self, switched: bool = False) -> None:
        records = self.store.trials(self.name)
        snap = None if switched else self.store.load_algorithm_state(self.name)
        if not records:
            if snap is None:
                # The initial state: a resumed study replays everything after it, whatever seed it is given.
                self.store.save_algorithm_state(self.name, self.algorithm.state_dict(), -1)
            else:
                self.algorithm.load_state_dict(snap[0])
            return
        since = -1
        if snap is not None:
            self.algorithm.load_state_dict(snap[0])
            since = snap[1]
        events: list[tuple[int, int, TrialRecord]] = []
        for r in records:
            if r.asked_at > since and not switched:
                events.append((r.asked_at, 0, r))
            if r.told_at is not None and r.told_at > since:
                events.append((r.told_at, 1, r))
        events.sort(key=lambda e: (e[0], e[1]))
        for _, kind, r in events:
            if kind == 0:  # advance the algorithm exactly as the original run did
                sa = r.system_attrs
                for _ in range(sa.get("discarded", 0) + (0 if sa.get("from_queue") else 1)):
                    self.algorithm.propose()
            else:  # (a switched algorithm learns the results only: it proposed none of them)
                self.algorithm.feedback(r.genome, self._oriented(r), cached=r.state is CACHED)
        for r in records:
            if r.state is RUNNING and not _owner_alive(r.system_attrs.get("owner")):
                r.state, r.system_attrs["requeue"] = INTERRUPTED, True
                r.error = "the study stopped while this trial was running; its candidate was re-queued"
            self._count(r)
        self._trials = records
        self.requeue_interrupted()
        self._event = max([r.asked_at for r in records] + [r.told_at or 0 for r in records]) + 1
        self._told = sum(1 for r in records if r.told_at is not None)
        if switched:  # the new algorithm's state after learning the history: later resumes start here
            self.store.save_algorithm_state(self.name, self.algorithm.state_dict(), self._event - 1)
        if self.dedup is not None and hasattr(self.dedup, "restore"):
            self.dedup.restore(r for r in records if r.state in (COMPLETE, FAILED, CACHED))

    def _count(self, r: TrialRecord) -> None:
        if r.state is CACHED:
            self.stats["cached"] += 1
        elif r.state in (COMPLETE, FAILED, PRUNED):
            self.stats["evaluations"] += 1
            if r.state is FAILED:
                self.stats["failed"] += 1

    def _oriented(self, r: TrialRecord) -> Optional[tuple[float, ...]]:
        if (r.state is COMPLETE or r.state is CACHED) and r.values is not None:
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
            sa = record.system_attrs
            sa["owner"] = _owner()  # another writer resuming leaves a live owner's trials alone
            if from_queue:
                sa["from_queue"] = True  # not proposed by the algorithm: nothing to replay
            if discarded:
                sa["discarded"] = discarded
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
        record.state, record.values = CACHED, values
        source = getattr(self.dedup, "last_source", None)
        if source is not None:
            record.system_attrs["served_from"] = source  # the trial whose evaluation is served
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

        A value that is not one finite real number per objective (NaN, infinite, too large for a float, not a
        number, wrong arity or names) is recorded as a failure with its reason, never ranked
        (:func:`symnas.search.objectives.check_value`).
        """
        number = trial if isinstance(trial, int) else trial.number
        t = self._running.pop(number, None)
        if t is None:
            if 0 <= number < len(self._trials) and self._trials[number].state is not RUNNING:
                raise TrialError(f"trial {number} was already told ({self._trials[number].state})")
            raise TrialError(f"trial {number} is not a running trial of study {self.name!r}")
        r = t.record
        try:
            if failure is None and value is None and not pruned:
                raise TrialError(f"trial {number}: tell() needs a value or failure=...")
            if failure is not None:
                r.state, r.values = FAILED, None
                r.error = _error_text(failure)
            else:
                vals, bad = (self.objectives.parse(value, f"trial {number}") if value is not None else ((), None))
                if bad:
                    r.state, r.values, r.error = FAILED, None, bad
                elif pruned:
                    r.state, r.values = PRUNED, (vals or None)
                else:
                    r.state, r.values = COMPLETE, vals
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
        if self.dedup is not None and t.hash_key is not None and r.state is not PRUNED:
            self.dedup.record(t.hash_key, r.values if r.state is COMPLETE else None, r.duration or 0.0,
                              source=r.number)
        self.algorithm.feedback(r.genome, self._oriented(r))
        self._maybe_snapshot()
        return t

    def requeue_interrupted(self) -> int:
        """Queues the candidates of interrupted trials to be asked again (first); returns how many."""
        n = 0
        for r in self._trials:
            if r.state is INTERRUPTED and r.system_attrs.get("requeue"):
                r.system_attrs["requeue"] = False
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
        r.state, r.error = INTERRUPTED, reason
        r.finished = time.time()
        r.duration = r.finished - r.started
        r.system_attrs["requeue"] = True
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
    def optimize(self, fn: Callable[[Trial], Any], n_trials: int, *,
                 catch: Union[type[BaseException], Sequence[type[BaseException]]] = (Exception,),
                 callbacks: Sequence[Callable[["Study", Trial], None]] = ()) -> "Study":
        """Runs ``n_trials`` evaluations of ``fn(trial)`` (cached candidates do not count).

        Exceptions of the ``catch`` types (one class or a sequence, as in Optuna) are recorded as failed trials and
        the search goes on; any other exception is recorded as a failed trial and re-raised. Each failed trial is
        logged (logger ``symnas.study``, one line with the reason).

        Example::

            >>> import symnas as sn
            >>> study = sn.Study(sn.Space([sn.oneof([1, 2])]))
            >>> study.optimize(lambda t: 1 / 0, n_trials=1, catch=ZeroDivisionError).records[0].state
            'failed'
        """
        from symnas.search.pruners import TrialPruned

        caught = _catch_types(catch)
        for _ in range(n_trials):
            trial = self.ask()
            try:
                value = fn(trial)
            except TrialPruned:
                last = trial.record.intermediate[-1][1] if trial.record.intermediate else None
                self.tell(trial, last, pruned=True)
            except caught as e:
                self.tell(trial, failure=e)
            except BaseException as e:
                self.tell(trial, failure=e)
                _log_failure(trial)
                raise
            else:
                if value is None:
                    self.tell(trial, failure="the evaluator returned None (expected a number, a tuple or a dict)")
                else:
                    self.tell(trial, value)
            if trial.record.state is FAILED:
                _log_failure(trial)
            for cb in callbacks:
                cb(self, trial)
        return self

    def is_running(self, trial: Union[Trial, int]) -> bool:
        """True while ``trial`` (or trial number) was asked and is not yet told or interrupted."""
        return (trial if isinstance(trial, int) else trial.number) in self._running

    # -- results ------------------------------------------------------------------------------------------
    @property
    def trials(self) -> list[Trial]:
        return [self._running.get(r.number) or Trial(self, r) for r in self._trials]

    @property
    def records(self) -> list[TrialRecord]:
        return list(self._trials)

    def _complete(self) -> list[TrialRecord]:
        return [r for r in self._trials if (r.state is COMPLETE or r.state is CACHED) and r.values]

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
        pts = [self.objectives.oriented(r.values) for r in done]  # type: ignore[arg-type]
        front = []
        seen: set = set()
        for i in pareto_indices(pts):
            if done[i].genome not in seen:
                front.append(Trial(self, done[i]))
                seen.add(done[i].genome)
        return front

    def summary(self) -> dict[str, Any]:
        """Counts: trials, evaluations, dedup hits (cached), failed."""
        return {"trials": len(self._trials), **self.stats}


_HOST = socket.gethostname()


_OWNER = [f"{_HOST}:{os.getpid()}"]


def _reset_owner() -> None:
    _OWNER[0] = f"{_HOST}:{os.getpid()}"


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_owner)


def _owner() -> str:
    """``host:pid`` of this process (forked workers are owners of their own: reset after a fork)."""
    return _OWNER[0] if hasattr(os, "register_at_fork") else f"{_HOST}:{os.getpid()}"


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


def _catch_types(catch: Any) -> tuple[type[BaseException], ...]:
    types = (catch,) if isinstance(catch, type) else tuple(catch)
    bad = [c for c in types if not (isinstance(c, type) and issubclass(c, BaseException))]
    if bad:
        raise TrialError(f"optimize: catch must be exception classes, got {bad!r}")
    return types


def _log_failure(trial: Trial) -> None:
    reason = (trial.record.error or "").strip().splitlines()
    logger.warning("trial %d failed: %s", trial.number, reason[0] if reason else "(no reason given)")


def _error_text(failure: Union[str, BaseException]) -> str:
    if isinstance(failure, BaseException):
        tb = "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
        return f"{type(failure).__name__}: {failure}\n{tb}"
    return str(failure)
