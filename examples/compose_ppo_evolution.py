"""PPO on the architecture, regularized evolution on the training hyperparameters, as one algorithm.

Run: python examples/compose_ppo_evolution.py
"""
import math

import symnas as sn
from symnas.algorithms import PPO, RegularizedEvolution
from symnas.search.compose import Compose

space = sn.Space({
    "arch": {"depth": sn.oneof([1, 2, 3, 4], name="depth", ordered=True),
             "act": sn.oneof(["relu", "gelu", "tanh"], name="act")},
    "train": {"lr": sn.floatv(1e-4, 1e-1, scale="log", name="lr"), "epochs": sn.intv(1, 20, name="epochs")},
})


def evaluate(trial):  # a stand-in for training: best at depth 3, gelu, lr 3e-3, many epochs
    p = trial.params
    return (-(p["depth"] - 3) ** 2 + (p["act"] == "gelu") - (math.log10(p["lr"]) + 2.5) ** 2
            + 0.05 * p["epochs"])


algo = Compose({"arch.*": PPO(lr=0.2, batch_size=4, epochs=2, seed=0),
                "train.*": RegularizedEvolution(population_size=10, tournament_size=3, seed=1)})
study = sn.Study(space, algo)
study.optimize(evaluate, n_trials=120)
print("parts:", algo.assignment)
print("best:", round(study.best_value, 3), study.best_trial.params)
