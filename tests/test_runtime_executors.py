"""Executors and the run loop: fault injection (exception, NaN, timeout, a worker that kills itself), crash retries,
devices, Ctrl-C, and Ray (skipped without the ``symnas[ray]`` extra)."""
from __future__ import annotations

import os
import signal
import time
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.evaluators for worker processes

import symnas as sn  # noqa: E402
from symnas.runtime import (ProcessExecutor, SerialExecutor, TrialTimeout, make_executor, ray_available,  # noqa: E402
                            run)
from symnas.store.sqlite import SQLiteStore  # noqa: E402
from tests.evaluators import faults  # noqa: E402


def _study(store=None, seed=0):
    return sn.Study(sn.Space([sn.oneof(list(range(100)))]), sn.algorithms.RandomSearch(seed=seed),
                    objectives="max", store=store, name="f")


def _check_faults(study, n):
    records = study.records
    assert len(records) == n and study.stats["evaluations"] == n  # every trial accounted for
    for r in records:
        kind = r.number % 5
        if kind == 4:
            assert r.state == "complete" and r.values == (float(r.number),)
        else:
            assert r.state == "failed" and r.values is None
            expect = {0: "ValueError: injected failure", 1: "NaN", 2: "timed out", 3: "worker process died"}[kind]
            assert expect in r.error, (r.number, r.error)
    assert "Traceback" in records[0].error and "faults.py" in records[0].error
    assert study.best_trial.number == max(r.number for r in records if r.number % 5 == 4)


def test_process_pool_fault_injection(tmp_path):
    study = _study(SQLiteStore(tmp_path / "f.db"))
    summary = run(study, faults.faulty, 10, backend="process", workers=2, timeout=1.5, max_retries=1)
    assert summary["failed"] == 8
    _check_faults(study, 10)
    stored = SQLiteStore(tmp_path / "f.db").trials("f")
    assert [(r.state, r.error) for r in stored] == [(r.state, r.error) for r in study.records]


def test_serial_fault_injection_with_alarm_timeout():
    study = _study()

    def no_exit(trial):  # a worker cannot be killed in-process: the serial variant skips kind 3
        return 4.0 if trial.number % 5 == 3 else faults.faulty(trial)

    run(study, no_exit, 5, timeout=0.5)
    states = [r.state for r in study.records]
    assert states == ["failed", "failed", "failed", "complete", "complete"]
    assert "timed out" in study.records[2].error


def test_crashed_worker_is_retried_but_exceptions_are_not(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMNAS_TEST_DIR", str(tmp_path))
    with ProcessExecutor(max_workers=1, max_retries=1) as ex:
        study = _study()
        run(study, faults.crash_once, 3, executor=ex)
        assert [r.state for r in study.records] == ["complete"] * 3 and ex.crashes == 3
    with ProcessExecutor(max_workers=1, max_retries=0) as ex:
        study = _study()
        run(study, faults.crash_once, 1, executor=ex)
        assert study.records[0].state == "complete"  # marker of trial 0 exists: no crash now
    calls = tmp_path / "calls"

    def raise_once(trial):
        calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
        raise RuntimeError("user bug")

    study = _study()
    run(study, raise_once, 1, executor=SerialExecutor())
    assert calls.read_text() == "x" and study.records[0].state == "failed"


def test_devices_are_assigned_round_robin():
    with ProcessExecutor(max_workers=2, devices=["cuda:0", "cuda:1"]) as ex:
        study = _study()
        run(study, faults.device_of, 4, executor=ex)
    assert {r.user_attrs["device"] for r in study.records} <= {"cuda:0", "cuda:1"}
    assert all(r.state == "complete" for r in study.records)


def test_ctrl_c_marks_running_trials_interrupted_and_requeues(tmp_path):
    path = tmp_path / "i.db"
    study = _study(SQLiteStore(path))

    def interrupt_at_3(trial):  # the user's Ctrl-C arrives while trial 3 runs (a KeyboardInterrupt that the
        if trial.number == 3:     # evaluator raised itself would be that trial's failure instead)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        return float(trial.number)

    with pytest.raises(KeyboardInterrupt):
        run(study, interrupt_at_3, 10)
    stored = SQLiteStore(path).trials("f")
    assert [r.state for r in stored] == ["complete"] * 3 + ["interrupted"]
    again = _study(SQLiteStore(path))
    run(again, faults.square, 2)
    assert again.records[4].genome == stored[3].genome and again.records[4].state == "complete"
    assert again.stats["requeued"] == 1


def test_timeout_error_type_and_unknown_backend():
    with ProcessExecutor(max_workers=1, timeout=0.5) as ex:
        fut = ex.submit(__import__("time").sleep, 5)
        assert isinstance(fut.exception(timeout=30), TrialTimeout)
        assert ex.submit(pow, 2, 5).result(timeout=30) == 32  # the replaced worker serves the next task
    with pytest.raises(sn.SymnasError, match="unknown backend"):
        make_executor("gpu-cloud")


@pytest.mark.ray
@pytest.mark.skipif(not ray_available(), reason="Ray is not installed (the optional extra symnas[ray])")
def test_ray_executor_fault_injection():
    import ray

    from symnas.runtime import RayExecutor

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, object_store_memory=80 * 1024 * 1024)
    # A crashed task is retried on a fresh worker, which imports torch first: leave room for that in the timeout.
    with RayExecutor(max_workers=2, timeout=15.0, max_retries=1) as ex:
        study = _study()
        run(study, faults.faulty, 10, executor=ex)
    _check_faults(study, 10)
