"""Per-trial overhead of the runtime: symnas with the durable SQLite store vs in memory vs Optuna with SQLite, and
the process pool (and Ray, when installed) against in-process evaluation. Prints a markdown table.

Usage: python benchmarks/runtime_overhead.py [--trials 1000] [--pool-trials 200]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import symnas as sn  # noqa: E402
from symnas.runtime import ProcessExecutor, SerialExecutor, ray_available, run  # noqa: E402
from symnas.store.sqlite import SQLiteStore  # noqa: E402


def _space() -> sn.Space:
    return sn.Space([sn.oneof(list(range(10)), name=f"d{i}") for i in range(20)])


def objective(trial) -> float:  # module level: picklable for the pool
    return float(sum(trial.genome))


def symnas_loop(store, n: int) -> float:
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0), store=store, name="bench")
    t = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, float(sum(trial.genome)))
    return (time.perf_counter() - t) / n * 1e3


def optuna_sqlite(path: str, n: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=f"sqlite:///{path}", sampler=optuna.samplers.RandomSampler(seed=0),
                                direction="maximize")
    t = time.perf_counter()
    study.optimize(lambda tr: float(sum(tr.suggest_categorical(f"d{i}", list(range(10))) for i in range(20))),
                   n_trials=n)
    return (time.perf_counter() - t) / n * 1e3


def run_loop(executor, n: int) -> float:
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0), name="bench")
    run(study, objective, 5, executor=executor)  # warm the workers
    t = time.perf_counter()
    run(study, objective, n, executor=executor)
    return (time.perf_counter() - t) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--pool-trials", type=int, default=200)
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        mem = symnas_loop(sn.MemoryStore(), a.trials)
        sql = symnas_loop(SQLiteStore(os.path.join(d, "s.db")), a.trials)
        rows += [("symnas ask/tell, MemoryStore", mem), ("symnas ask/tell, SQLiteStore (WAL)", sql)]
        rows.append(("  SQLite store cost (difference)", sql - mem))
        try:
            rows.append(("Optuna RandomSampler, SQLite", optuna_sqlite(os.path.join(d, "o.db"), a.trials // 5)))
        except ImportError:
            rows.append(("Optuna (not installed)", float("nan")))
    serial = run_loop(SerialExecutor(), a.pool_trials)
    rows.append(("run loop, serial (in-process)", serial))
    with ProcessExecutor(max_workers=2) as ex:
        rows.append(("run loop, process pool (2 workers)", run_loop(ex, a.pool_trials)))
    if ray_available():
        from symnas.runtime import RayExecutor

        with RayExecutor(max_workers=2, init_kwargs={"num_cpus": 2}) as ex:
            rows.append(("run loop, Ray (2 CPUs)", run_loop(ex, a.pool_trials)))
    else:
        rows.append(("run loop, Ray (not installed: skipped)", float("nan")))
    print(f"random search, 20 decisions x 10 options, trivial objective; {a.trials} trials "
          f"({a.trials // 5} for Optuna), {a.pool_trials} through the executors\n")
    print("| configuration | ms/trial | ratio to symnas SQLite | ratio to serial run loop |")
    print("|---|---:|---:|---:|")
    for name, ms in rows:
        print(f"| {name} | {ms:.3f} | {ms / sql:.2f} | {ms / serial:.2f} |")


if __name__ == "__main__":
    main()
