"""A custom search flow with ask/tell: an architecture search inside a loop over a hardware setting.

For each latency budget (a device setting), search NAS-Bench-201 cells for the best accuracy whose latency on that
device stays under the budget, with regularized evolution when available (else random search).

    python examples/custom_ask_tell.py
"""
from __future__ import annotations

import symnas as sn
from symnas.evaluator.benchmark import NASBench201Evaluator, nasbench201_space


def make_algorithm(seed: int) -> sn.algorithms.Algorithm:
    get = getattr(sn.algorithms, "get", None)
    try:
        return get("evolution", seed=seed) if get else sn.algorithms.RandomSearch(seed=seed)
    except sn.SymnasError:
        return sn.algorithms.RandomSearch(seed=seed)


def main() -> None:
    space = nasbench201_space()
    evaluate = NASBench201Evaluator(metrics=("val_acc", "lat_pixel3"))
    for budget in (8.0, 12.0, 20.0):                       # latency budgets (ms) on a Pixel 3
        study = sn.Study(space, make_algorithm(seed=0), objectives={"val_acc": "max"})
        for _ in range(100):
            trial = study.ask()
            m = evaluate(trial)
            if m["lat_pixel3"] > budget:
                study.tell(trial, failure=f"latency {m['lat_pixel3']:.1f} ms over budget {budget} ms")
            else:
                study.tell(trial, m["val_acc"])
        best = study.best_trial
        print(f"budget {budget:5.1f} ms: best val_acc {best.value:.2f}  cell {best.description['cell']}  "
              f"({study.stats['failed']} over budget)")


if __name__ == "__main__":
    main()
