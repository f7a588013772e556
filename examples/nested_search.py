"""A search nested inside another search's loop: the outer study picks an architecture, an inner study tunes
its learning rate, and the outer study is told the inner study's best value.

Run: python examples/nested_search.py
"""
import math

import symnas as sn
from symnas.algorithms import TPE, RegularizedEvolution

arch_space = sn.Space({"depth": sn.intv(1, 8, name="depth"), "act": sn.oneof(["relu", "gelu"], name="act")})
lr_space = sn.Space({"lr": sn.floatv(1e-4, 1.0, scale="log", name="lr")})


def train(arch: dict, lr: float) -> float:  # a stand-in for training; the best lr depends on the depth
    best_lr = 10 ** (-1 - arch["depth"] / 3)
    return 1.0 - 0.02 * abs(arch["depth"] - 5) + 0.01 * (arch["act"] == "gelu") - 0.05 * abs(math.log10(lr / best_lr))


def evaluate_architecture(trial) -> float:
    arch = trial.params
    inner = sn.Study(lr_space, TPE(n_startup=5, seed=trial.number), name=f"lr-for-{trial.number}")
    inner.optimize(lambda t: train(arch, t.params["lr"]), n_trials=15)
    trial.set_user_attr("lr", inner.best_trial.params["lr"])
    return inner.best_value


outer = sn.Study(arch_space, RegularizedEvolution(population_size=6, tournament_size=2, seed=0))
outer.optimize(evaluate_architecture, n_trials=25)
best = outer.best_trial
print("best architecture:", best.params, "lr:", best.record.user_attrs["lr"], "value:", round(best.value, 4))
