"""The experiment runtime: executors (serial, process pool, Ray) and the parallel run loop on ask/tell.

Example::

    from symnas.runtime import run
    from symnas.store.sqlite import SQLiteStore
    study = sn.Study(space, store=SQLiteStore("runs.db"), name="nb201")   # reopening resumes
    run(study, evaluate, n_trials=100, backend="process", workers=2, timeout=600)
"""
from symnas.runtime.errors import BackendUnavailable, EvaluationError, RuntimeFailure, TrialTimeout, WorkerCrashed
from symnas.runtime.executors import BACKENDS, ProcessExecutor, SerialExecutor, make_executor
from symnas.runtime.loop import requeue_interrupted, run
from symnas.runtime.ray_executor import RayExecutor, ray_available
from symnas.runtime.worker import WorkerTrial, current_device, detect_devices

__all__ = ["run", "requeue_interrupted", "make_executor", "BACKENDS", "SerialExecutor", "ProcessExecutor",
           "RayExecutor", "ray_available", "WorkerTrial", "current_device", "detect_devices", "RuntimeFailure",
           "EvaluationError", "TrialTimeout", "WorkerCrashed", "BackendUnavailable"]
