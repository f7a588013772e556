"""Every evaluator outcome on every backend becomes a recorded trial, and the search goes on.

Faults: an exception, ``sys.exit``, a ``KeyboardInterrupt`` raised by the evaluator, ``os._exit``, a segfault, a
hang in Python and a hang in C; values that are not finite real numbers. Backends: serial in-process (only the
faults a process can survive), serial with ``isolate=True``, the process pool, and Ray (marked ``ray``).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.evaluators for worker processes

import symnas as sn  # noqa: E402
from symnas.runtime import SerialExecutor, make_executor, ray_available, run  # noqa: E402
from tests.evaluators import faults  # noqa: E402

REASON = {
    "raises": "RuntimeError: boom from the evaluator",
    "sys_exit": "SystemExit",
    "keyboard_interrupt": "KeyboardInterrupt",
    "os_exit": "died",
    "segfault": "died",
    "hang_python": "timed out",
    "hang_c": "timed out",
}
HANGS = {"hang_python", "hang_c"}


def _timeout(fault: str) -> float:
    """Short for the hangs; long for the rest, so that a slow worker restart on a busy machine is not a timeout."""
    return 2.0 if fault in HANGS else 120.0


IN_PROCESS = ["raises", "sys_exit", "keyboard_interrupt", "hang_python"]  # a process survives these itself


def _study() -> sn.Study:
    return sn.Study(sn.Space([sn.oneof(list(range(100)))]), sn.algorithms.RandomSearch(seed=0), objectives="max")


def _check(study: sn.Study, fault: str, n: int) -> None:
    records = study.records
    assert len(records) == n
    for r in records[:n - 1]:
        assert r.state == "failed", (fault, r.state, r.error)
        assert REASON[fault] in (r.error or ""), (fault, r.error)
    assert records[-1].state == "complete" and records[-1].values is not None  # the search went on


@pytest.mark.parametrize("fault", IN_PROCESS)
def test_serial_in_process(fault):
    study = _study()
    run(study, faults.FaultThenSquare(fault), 3, timeout=1.0)
    _check(study, fault, 3)


def test_serial_in_process_c_hang_reports_how_long_it_ran():
    study = _study()

    def slow_c(trial):
        return float(sum(range(6 * 10 ** 7))) if trial.number == 0 else 1.0

    run(study, slow_c, 2, timeout=0.05)
    first = study.records[0]
    if first.state == "complete":  # the loop finished within the limit on a fast machine: nothing to check
        pytest.skip("the C loop ended before the timeout")
    assert "timed out" in first.error and ("ran" in first.error or "after" in first.error)
    assert study.records[1].state == "complete"


@pytest.mark.parametrize("fault", list(REASON))
def test_serial_isolated(fault):
    study = _study()
    run(study, faults.FaultThenSquare(fault), 3, timeout=_timeout(fault), isolate=True, max_retries=1)
    _check(study, fault, 3)


@pytest.mark.parametrize("fault", list(REASON))
def test_process_pool(fault):
    study = _study()
    run(study, faults.FaultThenSquare(fault), 3, backend="process", workers=2, timeout=_timeout(fault), max_retries=1,
        max_in_flight=1)
    _check(study, fault, 3)


@pytest.mark.ray
@pytest.mark.skipif(not ray_available(), reason="needs the symnas[ray] extra")
@pytest.mark.parametrize("fault", list(REASON))
def test_ray(fault):
    # Ray's deadline counts from submission: after a forced cancel the next task waits for a fresh worker (torch
    # imports), so the hangs get room for that start on a busy machine.
    ex = make_executor("ray", 1, timeout=_timeout(fault) + 20.0, max_retries=1)
    try:
        study = _study()
        run(study, faults.FaultThenSquare(fault), 3, executor=ex, max_in_flight=1)
        _check(study, fault, 3)
    finally:
        ex.shutdown()


BAD_VALUES = ["nan", "inf", "-inf", "huge_int", "string", "bool", "tensor", "none", "list", "dict_nan"]


@pytest.mark.parametrize("kind", BAD_VALUES)
def test_bad_values_are_failed_trials(kind):
    study = _study()

    def evaluate(trial):
        return faults.value_of(kind) if trial.number == 0 else 2.0

    run(study, evaluate, 2)
    first, second = study.records
    assert first.state == "failed" and first.error, (kind, first.state, first.values)
    assert second.state == "complete" and second.values == (2.0,)


def test_user_ctrl_c_still_stops_the_serial_search(tmp_path):
    """SIGINT from outside while the evaluator runs: the run stops (it is the user's), the trial is interrupted."""
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import symnas as sn
        from symnas.runtime import run
        study = sn.Study(sn.Space([sn.oneof(list(range(100)))]), objectives="max")
        def slow(trial):
            print("evaluating", flush=True)
            time.sleep(30)
            return 1.0
        try:
            run(study, slow, 3)
        except KeyboardInterrupt:
            print("stopped", [r.state for r in study.records], flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "evaluating"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert "stopped ['interrupted']" in out


def test_process_workers_stop_when_the_driver_is_killed(tmp_path):
    """A SIGKILLed driver leaves no worker running its evaluation to the end."""
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from symnas.runtime import ProcessExecutor
        from tests.evaluators import faults
        if __name__ == "__main__":
            ex = ProcessExecutor(max_workers=2)
            futs = [ex.submit(faults.mark_then_hang, None) for _ in range(2)]
            time.sleep(120)
    """))
    env = dict(os.environ, SYMNAS_TEST_DIR=str(tmp_path))
    proc = subprocess.Popen([sys.executable, str(script)], env=env)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("running-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    pids = [int(p.name.split("-")[1]) for p in tmp_path.glob("running-*")]
    assert len(pids) == 2 and all(_running(p) for p in pids), "the evaluations did not start"
    proc.kill()
    proc.wait()
    alive = _still_running(pids, within=10)
    assert not alive, f"workers {alive} outlived their driver"


def _still_running(pids: list[int], within: float) -> list[int]:
    """The processes of ``pids`` still running after waiting up to ``within`` seconds for them to end."""
    deadline = time.monotonic() + within
    alive = [p for p in pids if _running(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [p for p in alive if _running(p)]
    return alive


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_serial_executor_isolated_is_a_serial_executor():
    ex = SerialExecutor(isolate=True, timeout=5)
    try:
        assert ex.submit(sum, [1, 2]).result() == 3
    finally:
        ex.shutdown()


@pytest.mark.ray
@pytest.mark.skipif(not ray_available(), reason="needs the symnas[ray] extra")
def test_ray_runtime_stops_when_the_driver_is_killed(tmp_path):
    """The local Ray runtime a driver started (GCS, raylet, agents, workers: the whole process tree) is gone soon
    after a SIGKILL of the driver (without the reaper, Ray's agents outlive it by a minute)."""
    script = tmp_path / "driver.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from symnas.runtime import make_executor
        from tests.evaluators import faults
        ex = make_executor("ray", 1)
        import ray._private.worker as w
        roots = [i.process.pid for infos in w._global_node.all_processes.values() for i in infos]
        fut = ex.submit(faults.hang_python, None)
        time.sleep(2)
        kids = {{}}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    kids.setdefault(int(open(f"/proc/{{d}}/stat").read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        pids, todo = [], list(roots)
        while todo:
            p = todo.pop()
            pids.append(p)
            todo.extend(kids.get(p, []))
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(120)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    pids = [int(p) for p in line.split()]
    assert pids, "the driver printed no Ray process ids"
    proc.kill()
    proc.wait()
    alive = _still_running(pids, within=20)
    assert not alive, f"Ray processes {alive} outlived their driver"
