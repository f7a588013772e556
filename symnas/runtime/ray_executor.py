"""Ray core as an executor (the optional extra ``symnas[ray]``): one Ray task per evaluation.

``ray.init`` is called only if Ray is not initialised yet (pass ``address='auto'`` to join a cluster); a local
runtime started that way is stopped by a small detached watcher when the driver dies, even by SIGKILL. Crashed
workers are retried by Ray (``max_retries``); exceptions raised by the function are not (no ``retry_exceptions``).
A task past ``timeout`` is cancelled with ``ray.cancel(force=True)`` and its future gets :class:`TrialTimeout`.
GPUs: pass ``num_gpus`` per task (e.g. ``0.5``) and Ray assigns them; the worker's device is then ``cuda:0`` of
the GPUs Ray made visible.

Example::

    with RayExecutor(max_workers=2, init_kwargs={"num_cpus": 2, "include_dashboard": False}) as ex:
        print(ex.submit(pow, 2, 10).result())
"""
from __future__ import annotations

import re
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Optional

from symnas.runtime.errors import BackendUnavailable, EvaluationError, TrialTimeout, WorkerCrashed

__all__ = ["RayExecutor", "ray_available"]


def ray_available() -> bool:
    """True if ``import ray`` works."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


# Run by a detached interpreter (no symnas import): when the driver is gone, stop the Ray processes it started
# (GCS, raylet, agents) and their children, so that a SIGKILLed driver leaves nothing running.
_REAPER = r"""
import os, signal, sys, time
driver, roots = int(sys.argv[1]), [int(p) for p in sys.argv[2:]]
def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
def stat(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[1]), fields[19]  # parent pid, start time (tells a reused pid apart)
    except (OSError, IndexError, ValueError):
        return None
def tree(roots):
    kids, started = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit() and (st := stat(int(d))) is not None:
            kids.setdefault(st[0], []).append(int(d))
            started[int(d)] = st[1]
    out, todo = {}, [p for p in roots if p in started]
    while todo:
        p = todo.pop()
        if p not in out:
            out[p] = started.get(p)
            todo.extend(kids.get(p, []))
    return out
victims = tree(roots)
while alive(driver) and victims:
    time.sleep(0.5)
    # Remembered while they are still descendants (orphans are re-parented when the roots die); a process
    # that ended is forgotten, so a reused pid is never signalled.
    victims = {p: t for p, t in victims.items() if (st := stat(p)) is not None and st[1] == t} | tree(roots)
if not alive(driver):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p, t in victims.items():
            st = stat(p)
            if st is not None and st[1] == t:
                try:
                    os.kill(p, sig)
                except OSError:
                    pass
        time.sleep(2)
"""


def _start_reaper(ray_module: Any) -> None:
    """Starts the detached reaper for the Ray processes this driver started (Linux ``/proc``; else nothing)."""
    import os
    import subprocess
    import sys

    if not os.path.isdir("/proc"):
        return
    try:
        node = ray_module._private.worker._global_node
        pids = [info.process.pid for infos in node.all_processes.values() for info in infos]
    except Exception:  # noqa: BLE001 - Ray's internals moved: no reaper, Ray's own clean-up still applies
        return
    if pids:
        subprocess.Popen([sys.executable, "-c", _REAPER, str(os.getpid()), *map(str, pids)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True, close_fds=True)


def _warm_worker() -> int:
    """Imports what evaluations need, so the first timed task does not pay for it."""
    import os

    import torch  # noqa: F401

    import symnas.candidate.build  # noqa: F401

    return os.getpid()


def _call_on_ray_worker(fn: Callable[..., Any], args: tuple, kwargs: dict, num_gpus: float) -> Any:
    from symnas.runtime.worker import set_device

    set_device("cuda:0" if num_gpus else "cpu")
    try:
        return fn(*args, **kwargs)
    except (SystemExit, KeyboardInterrupt) as exc:  # Ray would take these as the worker's own exit
        detail = f" (exit code {exc.code!r})" if isinstance(exc, SystemExit) else " raised by the evaluator"
        raise RuntimeError(f"{type(exc).__name__}{detail}") from None


class RayExecutor:
    """Submits calls as Ray tasks; futures are standard ``concurrent.futures.Future`` objects.

    Args:
      max_workers: informational (Ray schedules by resources); the run loop bounds trials in flight by it.
      timeout: seconds per task, then ``ray.cancel(force=True)``.
      max_retries: Ray's retries of tasks whose worker died.
      num_cpus, num_gpus: resources per task.
      init_kwargs: passed to ``ray.init`` when Ray is not initialised yet.
    """

    def __init__(self, max_workers: int = 2, *, timeout: Optional[float] = None, max_retries: int = 1,
                 num_cpus: float = 1, num_gpus: float = 0, init_kwargs: Optional[dict[str, Any]] = None) -> None:
        try:
            import ray
            import ray.exceptions  # noqa: F401  (loaded by ray itself; named so that type checkers see it)
        except ImportError:
            raise BackendUnavailable("RayExecutor: Ray is not installed; install the extra: pip install "
                                     "'symnas[ray]'") from None
        self._ray = ray
        if not ray.is_initialized():
            defaults: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            ray.init(**(defaults | dict(init_kwargs or {})))
            if not (init_kwargs or {}).get("address"):
                _start_reaper(ray)  # a local runtime of our own: it must not outlive this driver
        self.max_workers, self.timeout, self.max_retries = max_workers, timeout, max_retries
        self._remote = ray.remote(_call_on_ray_worker).options(max_retries=max_retries, num_cpus=num_cpus,
                                                               num_gpus=num_gpus, retry_exceptions=False)
        self._num_gpus = num_gpus
        # Workers import torch on first use (seconds): warm them before any timed task starts.
        warm = ray.remote(_warm_worker).options(num_cpus=num_cpus, num_gpus=num_gpus)
        ray.get([warm.remote() for _ in range(max(1, max_workers))], timeout=600)
        self._lock = threading.Lock()
        self._refs: dict[Any, tuple[Future, Optional[float]]] = {}
        self._closing = False
        self._thread = threading.Thread(target=self._watch, name="symnas-ray-executor", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        out: Future = Future()
        out.set_running_or_notify_cancel()
        ref = self._remote.remote(fn, args, kwargs, self._num_gpus)
        deadline = time.monotonic() + self.timeout if self.timeout else None
        with self._lock:
            self._refs[ref] = (out, deadline)
        return out

    def _watch(self) -> None:
        ray = self._ray
        while True:
            with self._lock:
                if self._closing and not self._refs:
                    return
                refs = list(self._refs)
            if not refs:
                time.sleep(0.01)
                continue
            ready, _ = ray.wait(refs, num_returns=1, timeout=0.05)
            now = time.monotonic()
            for ref in refs:
                with self._lock:
                    fut, deadline = self._refs.get(ref, (None, None))
                if fut is None:
                    continue
                if ref in ready:
                    self._settle(ref, fut)
                elif deadline is not None and now >= deadline:
                    ray.cancel(ref, force=True)
                    with self._lock:
                        self._refs.pop(ref, None)
                    fut.set_exception(TrialTimeout(f"evaluation timed out after {self.timeout:g} s; its Ray task "
                                                   "was cancelled"))

    def _settle(self, ref: Any, fut: Future) -> None:
        ray = self._ray
        with self._lock:
            self._refs.pop(ref, None)
        try:
            fut.set_result(ray.get(ref, timeout=60))
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            name = type(cause).__name__ if cause is not None else "RayTaskError"
            remote = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # Ray colours its text
            text = f"Traceback (from the Ray worker):\n{remote}"
            fut.set_exception(EvaluationError(f"{name}: {cause if cause is not None else exc}", text))
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError) as exc:
            fut.set_exception(WorkerCrashed(f"the Ray worker process died; retries exhausted: {exc}"))
        except Exception as exc:  # noqa: BLE001
            fut.set_exception(WorkerCrashed(f"{type(exc).__name__}: {exc}"))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closing = True
            if cancel_futures:
                for ref in list(self._refs):
                    self._ray.cancel(ref, force=True)
                    self._refs.pop(ref)[0].set_exception(WorkerCrashed("cancelled: the executor shut down"))
        if wait:
            self._thread.join()

    def terminate(self) -> None:
        self.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
