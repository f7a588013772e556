"""Executors with one ``concurrent.futures``-shaped interface: ``submit(fn, *args) -> Future``, ``shutdown()``.

* :class:`SerialExecutor` — runs each call in the calling process at ``submit`` (the default; timeouts by
  ``SIGALRM`` when called from the main thread).
* :class:`ProcessExecutor` — a pool of worker processes of its own (not ``ProcessPoolExecutor``, whose pool breaks
  as a whole when one worker dies): a per-task timeout stops only that task's worker; a worker that dies is
  replaced and its task retried up to ``max_retries`` times; exceptions raised by the function are never retried.
* :class:`~symnas.runtime.ray_executor.RayExecutor` — Ray core tasks (the optional extra ``symnas[ray]``).

Failures reach the future as :class:`EvaluationError` (with the worker's traceback text), :class:`TrialTimeout` or
:class:`WorkerCrashed`. ``make_executor(backend, workers)`` picks one by name.

Example::

    with ProcessExecutor(max_workers=2, timeout=60) as ex:
        fut = ex.submit(pow, 2, 10)
        assert fut.result() == 1024
"""
from __future__ import annotations

import collections
import multiprocessing
import multiprocessing.connection as mpc
import os
import pickle
import signal
import threading
import time
import traceback
from concurrent.futures import Future
from typing import Any, Callable, Optional, Sequence

from symnas.errors import SymnasError
from symnas.runtime.errors import EvaluationError, TrialTimeout, WorkerCrashed
from symnas.runtime.worker import detect_devices, set_device

__all__ = ["SerialExecutor", "ProcessExecutor", "make_executor", "BACKENDS"]

BACKENDS = ("serial", "process", "ray")


class SerialExecutor:
    """Runs every call at ``submit`` in this process (or, with ``isolate=True``, in one child process) and returns
    a finished future.

    Every outcome of the call becomes the future's result or exception, so the run loop records it as a trial:
    an exception, ``SystemExit`` and a ``KeyboardInterrupt`` raised by the evaluator itself are failures
    (:class:`EvaluationError`); only the user's Ctrl-C (SIGINT while the call runs) propagates and stops the search.
    To tell them apart it installs a SIGINT handler at the first call (main thread) and restores the previous one at
    :meth:`shutdown`.

    Timeouts: in-process, ``SIGALRM`` (main thread only) stops Python code at the limit, but C code (a long numpy
    or torch call) is stopped only when it returns: the failure then says how long it ran. ``isolate=True`` runs
    each call in a child process that is killed at the limit (a hard limit, also against C code), and turns a
    crash (segfault, ``os._exit``) into a :class:`WorkerCrashed` failure after ``max_retries`` re-runs instead of
    ending the search.

    Example::

        >>> SerialExecutor().submit(sum, [1, 2]).result()
        3
    """

    #: Capability: the run loop may hand this executor trial objects (descriptions need no JSON round trip).
    accepts_objects = True

    def __init__(self, max_workers: int = 1, *, timeout: Optional[float] = None,
                 devices: Optional[Sequence[str]] = None, isolate: bool = False, max_retries: int = 1) -> None:
        self.max_workers, self.timeout, self.isolate = 1, timeout, isolate
        device = (list(devices) if devices else detect_devices())[0]
        set_device(device)
        self._child: Optional[ProcessExecutor] = None
        self._old_sigint: Any = None
        self._user_interrupt = False
        if isolate:
            self._child = ProcessExecutor(max_workers=1, timeout=timeout, max_retries=max_retries, devices=[device])

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        if self._child is not None:
            inner = self._child.submit(fn, *args, **kwargs)
            _wait_interruptibly(inner)
            return inner
        fut: Future = Future()
        fut.set_running_or_notify_cancel()
        main = threading.current_thread() is threading.main_thread()
        alarm = self.timeout is not None and main and hasattr(signal, "setitimer")
        if main and self._old_sigint is None:
            # Installed once (restored by shutdown): a SIGINT that arrives while an evaluation runs is the user's.
            self._old_sigint = signal.signal(signal.SIGINT, self._on_sigint)
        self._user_interrupt = False
        old_alarm = None
        if alarm:
            def on_alarm(signum: int, frame: Any) -> None:
                raise TrialTimeout(f"evaluation timed out after {self.timeout:g} s")
            old_alarm = signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, float(self.timeout))  # type: ignore[arg-type]
        start = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except TrialTimeout as exc:
            ran = time.monotonic() - start
            if self.timeout is not None and ran > self.timeout + 1.0:
                exc = TrialTimeout(f"evaluation timed out after {self.timeout:g} s (it ran {ran:.1f} s: the serial "
                                   "backend stops C code only when it returns; use isolate=True or the process "
                                   "backend for a hard limit)")
            exc.text = f"TrialTimeout: {exc}\n{traceback.format_exc()}"
            fut.set_exception(exc)
        except KeyboardInterrupt as exc:
            if self._user_interrupt:
                raise  # the user's Ctrl-C: the run loop marks the trial interrupted and stops
            fut.set_exception(_failure(exc))
        except BaseException as exc:  # noqa: BLE001 - SystemExit and every exception are the trial's failure
            fut.set_exception(_failure(exc))
        else:
            fut.set_result(result)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old_alarm)
        return fut

    def _on_sigint(self, signum: int, frame: Any) -> None:
        self._user_interrupt = True
        raise KeyboardInterrupt

    def _restore_sigint(self) -> None:
        if self._old_sigint is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._old_sigint)
            self._old_sigint = None

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._restore_sigint()
        if self._child is not None:
            self._child.shutdown(wait, cancel_futures=cancel_futures)

    def terminate(self) -> None:
        self._restore_sigint()
        if self._child is not None:
            self._child.terminate()

    def __enter__(self) -> "SerialExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()


def _failure(exc: BaseException) -> BaseException:
    """An evaluator's exception as the future's exception (``SystemExit``/``KeyboardInterrupt`` become failures)."""
    if isinstance(exc, Exception):
        return exc
    detail = f" (exit code {exc.code!r})" if isinstance(exc, SystemExit) else " raised by the evaluator"
    msg = f"{type(exc).__name__}{detail}"
    return EvaluationError(msg, f"{msg}\n{traceback.format_exc()}")


def _wait_interruptibly(fut: Future) -> None:
    """Waits for ``fut`` in short steps, so that a Ctrl-C reaches the caller at once."""
    while not fut.done():
        try:
            fut.exception(timeout=0.2)
        except Exception:  # noqa: BLE001 - timeouts of this short wait, or the future's own outcome
            pass


_ORPHAN_POLL_S = 0.5


def _exit_when_orphaned(driver_pid: int) -> None:
    """Ends this worker (exit code 70) soon after the driver process is gone, even in the middle of a task."""
    def watch() -> None:
        while True:
            time.sleep(_ORPHAN_POLL_S)
            try:
                os.kill(driver_pid, 0)
            except ProcessLookupError:
                os._exit(70)
            except PermissionError:  # the pid was reused by another user's process: the driver is gone
                os._exit(70)

    threading.Thread(target=watch, name="symnas-orphan-watch", daemon=True).start()


def _worker_main(conn: Any, device: str, env: dict[str, str], driver_pid: int = 0) -> None:
    """A worker's loop: receive ``(task id, pickled call)``, send ``(task id, ok, result | error)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if driver_pid:
        _exit_when_orphaned(driver_pid)
    os.environ.clear()
    os.environ.update(env)  # the parent's environment now, not the fork server's from when it started
    set_device(device)
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the parent is gone
        if msg is None:
            return
        tid, payload = msg
        try:
            fn, args, kwargs = pickle.loads(payload)
            out = (tid, True, pickle.dumps(fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, the worker goes on
            out = (tid, False, (type(exc).__name__, str(exc), traceback.format_exc()))
        try:
            conn.send(out)
        except Exception as exc:  # noqa: BLE001
            conn.send((tid, False, (type(exc).__name__, f"result could not be sent: {exc}", traceback.format_exc())))


class _Task:
    __slots__ = ("id", "payload", "future", "tries", "deadline")
    deadline: Optional[float]

    def __init__(self, tid: int, payload: bytes, future: Future) -> None:
        self.id, self.payload, self.future, self.tries, self.deadline = tid, payload, future, 0, None


class _Worker:
    def __init__(self, ctx: Any, device: str) -> None:
        self.conn, child = ctx.Pipe(duplex=True)
        self.device = device
        self.proc = ctx.Process(target=_worker_main, args=(child, device, dict(os.environ), os.getpid()),
                                daemon=True)
        self.proc.start()
        child.close()
        self.task: Optional[_Task] = None

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()


class ProcessExecutor:
    """A pool of ``max_workers`` processes with per-task timeout, crash retries and device assignment.

    Args:
      max_workers: worker processes (each runs one task at a time).
      timeout: seconds per task; past it the worker is killed and replaced, the future gets :class:`TrialTimeout`.
      max_retries: times a task is re-run when its worker dies (not when the function raises).
      devices: devices dealt round-robin to workers (default: every CUDA GPU, else ``'cpu'``).
      mp_context: ``'forkserver'`` (default where available: workers fork from a clean server that imported
        symnas once, so a replaced worker starts fast), ``'spawn'`` or ``'fork'``.

    Example::

        >>> with ProcessExecutor(max_workers=1) as ex:
        ...     ex.submit(abs, -3).result()
        3
    """

    def __init__(self, max_workers: int = 2, *, timeout: Optional[float] = None, max_retries: int = 1,
                 devices: Optional[Sequence[str]] = None, mp_context: Optional[str] = None) -> None:
        if max_workers < 1:
            raise SymnasError(f"ProcessExecutor: max_workers must be >= 1, got {max_workers}")
        self.max_workers, self.timeout, self.max_retries = max_workers, timeout, max_retries
        self.devices = list(devices) if devices else detect_devices()
        if mp_context is None:
            mp_context = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self._ctx = multiprocessing.get_context(mp_context)
        if mp_context == "forkserver":
            self._ctx.set_forkserver_preload(["symnas", "symnas.runtime.worker"])
        self._workers = [_Worker(self._ctx, self.devices[i % len(self.devices)]) for i in range(max_workers)]
        self._pending: collections.deque[_Task] = collections.deque()
        self._lock = threading.Lock()
        self._ids = 0
        self._closing = False
        self.crashes = 0
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._manage, name="symnas-process-executor", daemon=True)
        self._thread.start()

    # -- public -------------------------------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        fut: Future = Future()
        try:
            payload = pickle.dumps((fn, args, kwargs))
        except Exception as exc:  # noqa: BLE001
            fut.set_exception(EvaluationError(f"the evaluation could not be sent to a worker: {exc} (evaluation "
                                              "functions must be importable module-level functions)"))
            return fut
        with self._lock:
            if self._closing:
                raise RuntimeError("ProcessExecutor.submit: the executor is shut down")
            self._ids += 1
            self._pending.append(_Task(self._ids, payload, fut))
        self._wake()
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closing = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft().future.cancel()
        self._wake()
        if wait:
            self._thread.join()

    def terminate(self) -> None:
        """Stops at once: pending tasks are cancelled, running ones killed (their futures cancelled)."""
        with self._lock:
            self._closing = True
            while self._pending:
                self._pending.popleft().future.cancel()
            for w in self._workers:
                if w.task is not None:
                    if not w.task.future.cancel():
                        w.task.future.set_exception(WorkerCrashed("terminated"))
                    w.task = None
                w.kill()
        self._wake()
        self._thread.join(10)

    def __enter__(self) -> "ProcessExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()

    # -- manager thread -----------------------------------------------------------------------------------
    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def _manage(self) -> None:
        try:
            while self._step():
                pass
        finally:
            for w in self._workers:
                try:
                    w.conn.send(None)
                except (OSError, ValueError):
                    pass
                w.proc.join(2)
                w.kill()
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _step(self) -> bool:
        with self._lock:
            busy = [w for w in self._workers if w.task is not None]
            if self._closing and not self._pending and not busy:
                return False
            for w in self._workers:
                if w.task is None and self._pending:
                    task = self._pending.popleft()
                    if task.tries == 0 and not task.future.set_running_or_notify_cancel():
                        continue
                    self._send(w, task)
            busy = [w for w in self._workers if w.task is not None]
            deadlines = [w.task.deadline for w in busy if w.task.deadline is not None]  # type: ignore[union-attr]
        wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        objs: list[Any] = [self._wake_r] + [w.conn for w in busy] + [w.proc.sentinel for w in busy]
        ready = set(mpc.wait(objs, timeout=wait_s))
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        with self._lock:
            for w in list(self._workers):
                task = w.task
                if task is None:
                    continue
                if w.conn in ready:
                    try:
                        tid, ok, data = w.conn.recv()
                    except (EOFError, OSError):
                        self._crashed(w)
                        continue
                    w.task = None
                    if ok:
                        try:
                            task.future.set_result(pickle.loads(data))
                        except Exception as exc:  # noqa: BLE001
                            task.future.set_exception(EvaluationError(f"result could not be read: {exc}"))
                    else:
                        name, msg, tb = data
                        task.future.set_exception(EvaluationError(f"{name}: {msg}", f"{name}: {msg}\n{tb}"))
                elif w.proc.sentinel in ready:
                    self._crashed(w)
                elif task.deadline is not None and time.monotonic() >= task.deadline:
                    w.task = None
                    self._replace(w)
                    task.future.set_exception(TrialTimeout(
                        f"evaluation timed out after {self.timeout:g} s; its worker was stopped"))
        return True

    def _send(self, w: _Worker, task: _Task) -> None:
        task.deadline = time.monotonic() + self.timeout if self.timeout else None
        w.task = task
        try:
            w.conn.send((task.id, task.payload))
        except (OSError, ValueError):
            self._crashed(w)

    def _crashed(self, w: _Worker) -> None:
        task, w.task = w.task, None
        w.proc.join(1)
        code = w.proc.exitcode
        self.crashes += 1
        self._replace(w)
        if task is None:
            return
        task.tries += 1
        if task.tries <= self.max_retries:
            self._pending.appendleft(task)  # a crashed worker is retried; user exceptions never are
        else:
            task.future.set_exception(WorkerCrashed(
                f"the worker process died (exit code {code}) {task.tries} time(s); retries exhausted"))

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self._workers[self._workers.index(w)] = _Worker(self._ctx, w.device)


def make_executor(backend: str = "serial", workers: int = 1, *, timeout: Optional[float] = None,
                  max_retries: int = 1, devices: Optional[Sequence[str]] = None, isolate: bool = False) -> Any:
    """An executor by backend name: ``'serial'``, ``'process'`` or ``'ray'``.

    ``isolate=True`` (serial only) runs each evaluation in a child process: hard timeouts, crashes recorded.

    Example::

        >>> type(make_executor("serial")).__name__
        'SerialExecutor'
    """
    if timeout is not None and not (isinstance(timeout, (int, float)) and 0 < timeout < float("inf")):
        raise SymnasError(f"make_executor: timeout must be a positive number of seconds, got {timeout!r}")
    if backend == "serial":
        return SerialExecutor(timeout=timeout, devices=devices, isolate=isolate, max_retries=max_retries)
    if backend == "process":
        return ProcessExecutor(max_workers=workers, timeout=timeout, max_retries=max_retries, devices=devices)
    if backend == "ray":
        from symnas.runtime.ray_executor import RayExecutor

        return RayExecutor(max_workers=workers, timeout=timeout, max_retries=max_retries)
    raise SymnasError(f"make_executor: unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
