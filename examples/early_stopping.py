"""Early stopping with asynchronous successive halving (and median stopping) on simulated learning curves.

Run: python examples/early_stopping.py
"""
import symnas as sn
from symnas.algorithms import RegularizedEvolution
from symnas.search.pruners import MedianStopping, SuccessiveHalving

space = sn.Space({"width": sn.intv(8, 128, name="width"), "lr": sn.floatv(1e-4, 1e-1, scale="log", name="lr")})


def evaluate(trial):
    p = trial.params
    level = 1.0 - abs(p["width"] - 96) / 200 - abs(p["lr"] - 0.01) * 5
    for epoch in range(1, 28):
        acc = level * (1 - 0.8 ** epoch)        # the "validation accuracy" after this epoch
        trial.report(acc, epoch)
        if trial.should_prune():
            raise sn.TrialPruned()
    return acc


for pruner in (SuccessiveHalving(min_resource=1, reduction_factor=3, max_resource=27),
               MedianStopping(warmup_steps=3, min_trials=5)):
    study = sn.Study(space, RegularizedEvolution(10, 3, seed=0), pruner=pruner)
    study.optimize(evaluate, n_trials=60)
    epochs = sum(len(r.intermediate) for r in study.records)
    pruned = sum(r.state == "pruned" for r in study.records)
    print(f"{type(pruner).__name__}: best {study.best_value:.3f}, {pruned}/60 pruned, "
          f"{epochs} epochs instead of {60 * 27}")
