"""Dedup on NAS-Bench-201: random search or regularized evolution with and without the dedup cache at an equal
evaluation budget.

Each run is a :class:`symnas.Study` over the NAS-Bench-201 space with the chosen algorithm and the table evaluator
(``noise=True``: each evaluation draws one training seed's accuracy, as a real re-training would). A run stops
after ``--budget`` evaluations; with dedup, proposals whose hash is already known are served from the cache and do
not count. Reported per configuration, over ``--seeds`` seeds: proposals, share served from the cache,
evaluations saved (= proposals served), simulated training time saved (the table's ``train_time_s`` of the served
proposals), and the final accuracy: the table's mean validation accuracy of the study's best trial.

The functional key hashes the reduced probe network (C=4, N=1, probe (2, 3, 8, 8)) of each proposal; a cell's
hash is memoised across runs (it is a deterministic function of the cell) and its cost is reported separately.

Usage::

    python benchmarks/dedup.py                 # 50 seeds, 200 evaluations each
    python benchmarks/dedup.py --seeds 5 --budget 100
    python benchmarks/dedup.py --algorithm evolution
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, Callable, Optional, Sequence

import torch

import symnas
from symnas.algorithms import RandomSearch, RegularizedEvolution
from symnas.evaluator.benchmark import NASBench201Evaluator, cell_of, nasbench201_space
from symnas.evaluator.nasbench201 import NASBench201Table
from symnas.hash import Dedup
from symnas.hash.dedup import functional_key
from symnas.models.nasbench201 import nb201_probe_build

_FUNCTIONAL: dict[tuple, str] = {}
_HASH_SECONDS: list[float] = []
_key = functional_key(nb201_probe_build, probe_shape=(2, 3, 8, 8))


def memo_functional_key(trial: Any) -> str:
    """The functional key, memoised per cell (timed on first computation)."""
    cell = tuple(cell_of(trial))
    got = _FUNCTIONAL.get(cell)
    if got is None:
        t0 = time.perf_counter()
        got = _FUNCTIONAL[cell] = _key(trial)
        _HASH_SECONDS.append(time.perf_counter() - t0)
    return got


CONFIGS: dict[str, Optional[Callable[[int], Dedup]]] = {
    "no dedup": None,
    "genome, first": lambda s: Dedup(key="genome", seed=s),
    "structural, first": lambda s: Dedup(key="structural", seed=s),
    "functional, first": lambda s: Dedup(key=memo_functional_key, seed=s),
    "functional, average k=3": lambda s: Dedup(key=memo_functional_key, policy="average", k=3, seed=s),
    "functional, first, forget p=0.1": lambda s: Dedup(key=memo_functional_key, forget_p=0.1, seed=s),
    "functional, resample": lambda s: Dedup(key=memo_functional_key, resample=True, seed=s),
}


ALGORITHMS: dict[str, Callable[[int], Any]] = {
    "random": lambda s: RandomSearch(seed=s),
    # the settings of benchmarks/search_quality.py (tuned on seeds 1000+)
    "evolution": lambda s: RegularizedEvolution(population_size=30, tournament_size=10, seed=s),
}


def run(space: Any, table: NASBench201Table, seed: int, budget: int, make: Optional[Callable],
        algorithm: str = "random") -> dict:
    evaluator = NASBench201Evaluator(table, noise=True, seed=seed)
    dedup = make(seed) if make is not None else None
    study = symnas.Study(space, ALGORITHMS[algorithm](seed), dedup=dedup)
    while study.stats["evaluations"] < budget:
        trial = study.ask()
        study.tell(trial, evaluator(trial))
    trials = study.trials
    served = [t for t in trials if t.state == "cached"]
    best = study.best_trial
    return {
        "proposals": len(trials) + study.stats.get("resampled", 0),
        "evaluations": study.stats["evaluations"],
        "served": len(served),
        "resampled": study.stats.get("resampled", 0),
        "saved_s": sum(table.metrics(cell_of(t))["train_time_s"] for t in served),
        "final": table.metrics(cell_of(best))["val_acc"],
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--budget", type=int, default=200, help="evaluations per run")
    ap.add_argument("--configs", nargs="*", default=list(CONFIGS), help="subset of: " + "; ".join(CONFIGS))
    ap.add_argument("--algorithm", choices=list(ALGORITHMS), default="random")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    table = NASBench201Table.load()
    space = nasbench201_space()
    rows = []
    t_all = time.perf_counter()
    for name in args.configs:
        t0 = time.perf_counter()
        res = [run(space, table, s, args.budget, CONFIGS[name], args.algorithm) for s in range(args.seeds)]
        rows.append((name, res, time.perf_counter() - t0))
    print(f"# Dedup on NAS-Bench-201: {args.algorithm}, {args.seeds} seeds, {args.budget} evaluations per run "
          f"(table evaluator with seed noise)")
    print()
    print("| configuration | proposals | served from cache | share served | resampled (not served) | "
          "evaluations saved | "
          "training time saved (h, simulated) | final val acc (mean ± sd) | wall (s, all seeds) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, res, wall in rows:
        m = lambda k: statistics.mean(r[k] for r in res)  # noqa: E731
        finals = [r["final"] for r in res]
        share = statistics.mean(r["served"] / max(r["proposals"], 1) for r in res)
        saved_h = "n/a" if m("resampled") else f"{m('saved_s') / 3600:.2f}"
        print(f"| {name} | {m('proposals'):.1f} | {m('served'):.1f} | {100 * share:.1f} % | {m('resampled'):.1f} | "
              f"{m('served') + m('resampled'):.1f} | {saved_h} | {statistics.mean(finals):.3f} ± "
              f"{statistics.stdev(finals) if len(finals) > 1 else 0.0:.3f} | {wall:.1f} |")
    if _HASH_SECONDS:
        print()
        print(f"functional hash: {len(_HASH_SECONDS)} distinct cells hashed, "
              f"{1e3 * statistics.mean(_HASH_SECONDS):.1f} ms per cell (build + probe), "
              f"total {sum(_HASH_SECONDS):.1f} s")
    print(f"total wall: {time.perf_counter() - t_all:.1f} s")


if __name__ == "__main__":
    main()
