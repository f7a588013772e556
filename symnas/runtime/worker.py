"""What an evaluator receives on a worker: a :class:`WorkerTrial`, and the device it should use.

Evaluators are plain functions ``evaluate(trial) -> value`` (a number, a tuple, or a dict of named objectives).
On every backend ``trial`` is a :class:`WorkerTrial`: ``number``, ``genome``, ``params``, ``description`` (rebuilt
from JSON on the worker through the allow-list, never from a pickle), ``device`` and ``build(seed)``.

Example::

    def evaluate(trial):
        model = trial.build(seed=0)              # on trial.device
        return train_and_validate(model, device=trial.device)
"""
from __future__ import annotations

import os
from typing import Any, Callable, Optional

__all__ = ["WorkerTrial", "current_device", "detect_devices", "evaluate_remote"]

_DEVICE: Optional[str] = None


def current_device() -> str:
    """The device assigned to this worker (``SYMNAS_DEVICE``; ``'cpu'`` when none was assigned)."""
    return _DEVICE or os.environ.get("SYMNAS_DEVICE") or "cpu"


def set_device(device: Optional[str]) -> None:
    """Sets this process's device (called by the executors when a worker starts)."""
    global _DEVICE
    _DEVICE = device
    if device:
        os.environ["SYMNAS_DEVICE"] = device


def detect_devices() -> list[str]:
    """``['cuda:0', ...]`` when CUDA GPUs are present, else ``['cpu']``.

    torch is imported only if it already is, or if the machine shows NVIDIA GPUs (keeps a CPU-only CLI fast).

    Example::

        >>> detect_devices()[0] in ("cpu", "cuda:0")
        True
    """
    import sys

    if "torch" not in sys.modules and not os.path.isdir("/proc/driver/nvidia/gpus"):
        return ["cpu"]
    try:
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
    except Exception:  # a broken CUDA install must not stop a CPU search
        n = 0
    return [f"cuda:{i}" for i in range(n)] or ["cpu"]


class WorkerTrial:
    """A trial as seen by an evaluator on any backend (plain data; picklable).

    Example::

        >>> t = WorkerTrial(number=3, genome=(1, 2), params={"k": 3}, description_json=None)
        >>> t.number, t.params["k"], t.device
        (3, 3, 'cpu')
    """

    def __init__(self, number: int, genome: tuple, params: dict[str, Any], description_json: Optional[str] = None,
                 description: Any = None, hash_key: Optional[str] = None, device: Optional[str] = None) -> None:
        self.number, self.genome, self.params, self.hash_key = number, tuple(genome), params, hash_key
        self._json, self._description = description_json, description
        self.device = device or current_device()
        self.reports: list[tuple[int, float]] = []
        self.user_attrs: dict[str, Any] = {}

    @property
    def description(self) -> Any:
        """The candidate's description (Spec tree), decoded from JSON on first use."""
        if self._description is None and self._json is not None:
            from symnas.symbolic.jsonio import from_json

            self._description = from_json(self._json)
        return self._description

    def build(self, seed: Optional[int] = None, device: Any = None) -> Any:
        """Builds the candidate as a torch module on ``device`` (default: this worker's device)."""
        from symnas.candidate.build import build

        return build(self.description, seed=seed, device=device if device is not None else self.device)

    def report(self, value: float, step: int) -> None:
        """Records an intermediate value; it is stored with the trial when the evaluation returns."""
        self.reports.append((int(step), float(value)))

    def should_prune(self) -> bool:
        """Early stopping is not decided on workers: always ``False`` here (use ``Study.optimize`` for pruning)."""
        return False

    def set_user_attr(self, key: str, value: Any) -> None:
        self.user_attrs[key] = value

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        if state["_json"] is not None:
            state["_description"] = None  # ship JSON text, rebuild on the worker
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.device = current_device()

    def __repr__(self) -> str:
        return f"WorkerTrial(number={self.number}, device={self.device!r})"


def evaluate_remote(fn: Callable[[WorkerTrial], Any], trial: WorkerTrial) -> dict[str, Any]:
    """Runs ``fn(trial)`` and returns ``{'value', 'reports', 'user_attrs'}`` (what the run loop records)."""
    value = fn(trial)
    return {"value": value, "reports": trial.reports, "user_attrs": trial.user_attrs}
