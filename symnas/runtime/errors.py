"""Why an evaluation did not return a value: raised into the futures the executors hand back."""
from __future__ import annotations

from symnas.errors import SymnasError

__all__ = ["RuntimeFailure", "EvaluationError", "TrialTimeout", "WorkerCrashed", "BackendUnavailable"]


class RuntimeFailure(Exception):
    """Base class of evaluation failures; ``text`` holds the reason and the traceback text, as stored."""

    def __init__(self, message: str, text: str = "") -> None:
        super().__init__(message)
        self.text = text or message


class EvaluationError(RuntimeFailure):
    """The evaluator raised an exception (in a worker); ``text`` has the worker's traceback. Never retried."""


class TrialTimeout(RuntimeFailure):
    """The evaluation ran past the per-trial timeout; its worker was stopped."""


class WorkerCrashed(RuntimeFailure):
    """The worker process died (killed, segfault, ``os._exit``) more times than the retries allow."""


class BackendUnavailable(SymnasError, RuntimeError):
    """An executor backend that is not installed (e.g. Ray without the ``symnas[ray]`` extra)."""
