"""Evaluators that fail on purpose, and one that logs every evaluation (for the resume test).

The space of these tests is ``[sn.oneof(range(n))]``: ``trial.description[0]`` is the chosen int.
"""
from __future__ import annotations

import os
import time
from typing import Any


def square(trial: Any) -> float:
    """A well-behaved evaluator: the chosen int squared."""
    return float(trial.description[0]) ** 2


def device_of(trial: Any) -> float:
    """Returns 1.0 and keeps the worker's device as a user attribute."""
    trial.set_user_attr("device", trial.device)
    return 1.0


def faulty(trial: Any) -> float:
    """Fails by trial number: 0 mod 5 raises, 1 mod 5 returns NaN, 2 mod 5 sleeps past the timeout, 3 mod 5 kills
    its own worker process; others return a value. The number decides, so every outcome can be checked."""
    kind = trial.number % 5
    if kind == 0:
        raise ValueError(f"injected failure in trial {trial.number}")
    if kind == 1:
        return float("nan")
    if kind == 2:
        time.sleep(30)
    if kind == 3:
        os._exit(17)
    return float(trial.number)


def crash_once(trial: Any) -> float:
    """Kills its worker the first time it sees each trial number (a marker file in ``$SYMNAS_TEST_DIR``)."""
    marker = os.path.join(os.environ["SYMNAS_TEST_DIR"], f"crashed-{trial.number}")
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return float(trial.number)


def nb201_logged(trial: Any) -> float:
    """NAS-Bench-201 table lookup that appends ``number genome`` to ``$SYMNAS_EVAL_LOG`` after evaluating."""
    from symnas.evaluator.benchmark import NASBench201Evaluator

    global _EV
    try:
        ev = _EV
    except NameError:
        ev = _EV = NASBench201Evaluator()
    value = ev(trial)
    time.sleep(float(os.environ.get("SYMNAS_EVAL_SLEEP", "0.01")))
    with open(os.environ["SYMNAS_EVAL_LOG"], "a") as f:
        f.write(f"{trial.number} {','.join(map(str, trial.genome))}\n")
        f.flush()
    return value


# -- one fault each (the chosen int is ignored): every one must become a failed trial with its reason ------------
def raises(trial: Any) -> float:
    raise RuntimeError("boom from the evaluator")


def sys_exit(trial: Any) -> float:
    import sys

    sys.exit(3)


def keyboard_interrupt(trial: Any) -> float:
    raise KeyboardInterrupt


def os_exit(trial: Any) -> float:
    os._exit(5)


def segfault(trial: Any) -> float:
    import ctypes

    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return 0.0


def hang_python(trial: Any) -> float:
    while True:
        time.sleep(0.01)


def hang_c(trial: Any) -> float:
    return float(sum(range(10 ** 11)))  # one C loop: no signal handler runs until it returns


def value_of(kind: str) -> Any:
    import torch

    return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "huge_int": 10 ** 400,
            "string": "0.9", "bool": True, "tensor": torch.tensor([0.5, 0.6]), "none": None,
            "list": [1.0, 2.0], "dict_nan": {"acc": float("nan")}}[kind]


def bad_value(trial: Any) -> Any:
    """Returns the bad value named by ``$SYMNAS_BAD_VALUE``."""
    return value_of(os.environ["SYMNAS_BAD_VALUE"])


class FaultThenSquare:
    """Picklable evaluator: the fault function named ``fault`` for trial numbers 0 and 1, then :func:`square`."""

    def __init__(self, fault: str) -> None:
        self.fault = fault

    def __call__(self, trial: Any) -> float:
        return square(trial) if trial.number >= 2 else globals()[self.fault](trial)


def mark_then_hang(trial: Any) -> float:
    """Writes ``running-<pid>`` into ``$SYMNAS_TEST_DIR``, then hangs (for tests that kill the driver)."""
    open(os.path.join(os.environ["SYMNAS_TEST_DIR"], f"running-{os.getpid()}"), "w").close()
    return hang_python(trial)
