"""The parallel run loop on ask/tell: bounded trials in flight, failures recorded, Ctrl-C stops cleanly.

Example::

    from symnas.runtime import run
    study = sn.Study(space, algorithm, store=SQLiteStore("runs.db"))
    summary = run(study, evaluate, n_trials=200, backend="process", workers=4, timeout=600)

``evaluate(trial)`` receives a :class:`~symnas.runtime.worker.WorkerTrial` (with ``device`` and ``build``) and
returns a value, a tuple or a dict; on the process and Ray backends it must be an importable module-level function
(or a picklable callable object).
"""
from __future__ import annotations

import sys
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Callable, Optional, Sequence

from symnas.errors import SymnasError
from symnas.runtime.errors import RuntimeFailure
from symnas.runtime.executors import make_executor
from symnas.runtime.worker import WorkerTrial, evaluate_remote

__all__ = ["run", "requeue_interrupted", "INTERRUPTED_MESSAGE"]

INTERRUPTED_MESSAGE = "interrupted (Ctrl-C) while running; its candidate is re-queued when the study resumes"


def requeue_interrupted(study: Any) -> int:
    """Re-queues the candidates of trials a Ctrl-C interrupted (see :meth:`Study.requeue_interrupted`)."""
    return study.requeue_interrupted()


def _payload(trial: Any, ship_json: bool) -> WorkerTrial:
    desc = trial.description
    text: Optional[str] = None
    try:
        from symnas.symbolic.jsonio import to_json

        text = to_json(desc)
    except Exception:  # noqa: BLE001 - a description JSON cannot hold: ship the object itself
        text = None
    trial.record.description = text
    return WorkerTrial(trial.number, trial.genome, dict(trial.params), description_json=text if ship_json else None,
                       description=None if (ship_json and text is not None) else desc, hash_key=trial.hash_key)


def _tell(study: Any, trial: Any, fut: Future) -> None:
    exc = fut.exception() if not fut.cancelled() else RuntimeFailure("cancelled")
    if exc is None:
        out = fut.result()
        for step, value in out.get("reports", ()):
            trial.report(value, step)
        trial.record.user_attrs.update(out.get("user_attrs", {}))
        value = out.get("value")
        if value is None:
            study.tell(trial, failure="the evaluator returned None (expected a number, a tuple or a dict)")
            return
        try:
            study.tell(trial, value)
        except (SymnasError, TypeError, ValueError) as e:  # a value of the wrong shape: a failure of this trial
            if trial.number in study._running:
                study.tell(trial, failure=f"bad value {value!r:.200}: {e}")
            else:
                raise
    elif isinstance(exc, RuntimeFailure):
        study.tell(trial, failure=exc.text)
    else:
        study.tell(trial, failure=exc)


def _interrupt(study: Any, trial: Any) -> None:
    study.interrupt(trial, INTERRUPTED_MESSAGE)


def _progress_bar(progress: Optional[bool], total: int) -> Any:
    if progress is False or (progress is None and not sys.stdout.isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="trial", dynamic_ncols=True, leave=False)


def run(study: Any, evaluator: Callable[[Any], Any], n_trials: int, *, executor: Any = None,
        backend: str = "serial", workers: int = 1, timeout: Optional[float] = None, max_retries: int = 1,
        max_in_flight: Optional[int] = None, progress: Optional[bool] = None,
        callbacks: Sequence[Callable[[Any, Any], None]] = (), isolate: bool = False) -> dict[str, Any]:
    """Runs ``n_trials`` more evaluations of ``evaluator`` on ``study`` and returns ``study.summary()``.

    Args:
      executor: an executor (``submit``/``shutdown``); default ``make_executor(backend, workers, ...)``, shut
        down at the end.
      timeout: seconds per evaluation (the trial fails with a timeout reason).
      max_retries: re-runs of an evaluation whose worker died (user exceptions are never retried).
      max_in_flight: trials submitted and not yet told (default: the executor's workers).
      progress: a progress bar (tqdm) — ``None``: only when stdout is a terminal.
      callbacks: ``cb(study, trial)`` after each tell.
      isolate: serial backend only: each evaluation in a child process (hard timeouts, crashes become failed
        trials instead of ending the search).

    Every trial ends told (complete / failed) or, on Ctrl-C, ``interrupted`` (the KeyboardInterrupt is re-raised
    after the store is consistent). Cached trials served by the dedup cache do not count towards ``n_trials``.

    Example::

        >>> import symnas as sn
        >>> study = sn.Study(sn.Space([sn.oneof([1, 2, 3])]), objectives="max")
        >>> run(study, lambda t: float(t.description[0]), n_trials=5)["evaluations"]
        5
    """
    own = executor is None
    if own:
        executor = make_executor(backend, workers, timeout=timeout, max_retries=max_retries, isolate=isolate)
    ship_json = not type(executor).__name__.startswith("Serial")
    limit = max(1, max_in_flight or getattr(executor, "max_workers", workers) or 1)
    requeue_interrupted(study)
    bar = _progress_bar(progress, n_trials)
    in_flight: dict[Future, Any] = {}
    submitting: Any = None  # a trial asked and not yet in flight (a serial evaluation runs inside submit)
    submitted = 0
    try:
        while submitted < n_trials or in_flight:
            while submitted < n_trials and len(in_flight) < limit:
                submitting = study.ask()
                submitted += 1
                in_flight[executor.submit(evaluate_remote, evaluator, _payload(submitting, ship_json))] = submitting
                submitting = None
            done, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: in_flight[f].number):
                trial = in_flight.pop(fut)
                _tell(study, trial, fut)
                for cb in callbacks:
                    cb(study, trial)
                if bar is not None:
                    bar.update(1)
                    if study.records and any(r.state in ("complete", "cached") for r in study.records):
                        bar.set_postfix(best=f"{study.best_value:.4g}", refresh=False)
    except BaseException:
        for trial in list(in_flight.values()) + ([submitting] if submitting is not None else []):
            if trial.number in study._running:
                _interrupt(study, trial)
        in_flight.clear()
        if own:
            executor.terminate()
            own = False
        raise
    finally:
        if bar is not None:
            bar.close()
        if own:
            executor.shutdown()
    return study.summary()
