"""Search algorithms beyond the contract suite (tests/test_algo_contract.py runs every registered algorithm through
validity, reproducibility, failures, JSON state and resumption): specific settings, errors, search quality."""
from __future__ import annotations

import json
import math

import pytest

import symnas as sn
from symnas import algorithms as A
from symnas.errors import SymnasError
from symnas.hash import Dedup


def mixed_space() -> sn.Space:
    return sn.Space({
        "arch": {
            "op": sn.oneof(["id", {"k": sn.intv(1, 7, name="k"), "w": sn.floatv(0.1, 1.0, name="w")}], name="op"),
            "ss": sn.manyof(2, ["x", "y", "z", "t"], name="ss"),
            "p": sn.permutation(["a", "b", "c"], name="p"),
        },
        "train": {
            "lr": sn.floatv(1e-4, 1e-1, scale="log", name="lr"),
            "bs": sn.intv(16, 256, log=True, name="bs"),
            "ord": sn.oneof([1, 2, 4, 8], ordered=True, name="ord"),
        },
    })


def objective(genome: tuple) -> float:
    """A deterministic score of the genome (larger is better)."""
    op, k, w, s0, s1, p0, p1, p2, lr, bs, ord_ = genome
    v = ord_ + (2.0 - abs(k - 5) * 0.3 - abs(w - 0.7) if op == 1 else 0.0)
    v += (s0 == 2) + (s1 == 2) - abs(math.log10(lr) + 2.5) + (p0 == 2) - abs(math.log2(bs) - 6) * 0.1
    return float(v)


def fn(trial) -> float:
    return objective(trial.genome)


def test_evolution_with_crossover_is_valid_reproducible_and_resumes():
    """A setting the registry's example does not use; every registered algorithm runs through
    tests/test_algo_contract.py."""
    space = mixed_space()

    def make(seed):
        return A.RegularizedEvolution(8, 3, crossover=True, seed=seed)

    runs = []
    for _ in range(2):
        st = sn.Study(space, make(3))
        st.optimize(fn, n_trials=40)
        assert all(space.table.validate(r.genome) == tuple(r.genome) for r in st.records)
        runs.append([r.genome for r in st.records])
    assert runs[0] == runs[1] and len(set(runs[0])) > 10
    a = make(11).setup(space.table)
    for _ in range(17):
        g = a.propose()
        a.feedback(g, (objective(g),))
    b = make(999).setup(space.table)
    b.load_state_dict(json.loads(json.dumps(a.state_dict())))
    for _ in range(5):
        ga, gb = a.propose(), b.propose()
        assert ga == gb
        a.feedback(ga, (objective(ga),))
        b.feedback(gb, (objective(gb),))


def test_cached_feedback_is_accepted():
    space = mixed_space()
    for name in ("evolution", "reinforce", "tpe", "nsga2"):
        a = A.registry()[name].make_example(0).setup(space.table)
        g = a.propose()
        a.feedback(g, (1.0,))
        a.feedback(g, (1.0,), cached=True)
        a.feedback(a.propose(), None)
        assert space.table.validate(a.propose())


def test_evolution_beats_random_on_average():
    space = mixed_space()
    evo, rnd = [], []
    for s in range(6):
        evo.append(sn.Study(space, A.RegularizedEvolution(10, 3, seed=s)).optimize(fn, 120).best_value)
        rnd.append(sn.Study(space, A.RandomSearch(seed=s)).optimize(fn, 120).best_value)
    assert sum(evo) > sum(rnd)


def test_reinforce_concentrates_on_the_best_choice():
    space = sn.Space({"x": sn.oneof(list(range(5)), name="x")})
    a = A.Reinforce(lr=0.3, seed=0, avoid_seen=False).setup(space.table)
    for _ in range(150):
        g = a.propose()
        a.feedback(g, (float(g[0]),))
    assert a.probabilities()[0][4] > 0.6


def test_ppo_propose_batch_and_errors():
    space = mixed_space()
    a = A.PPO(batch_size=4, seed=0).setup(space.table)
    batch = a.propose_batch(4)
    assert len(batch) == 4 and all(space.table.validate(g) == g for g in batch)
    with pytest.raises(SymnasError, match="lr"):
        A.Reinforce(lr=0)
    with pytest.raises(SymnasError, match="clip"):
        A.PPO(clip=0)


def test_registry():
    assert {"random", "evolution", "ppo", "reinforce", "tpe", "optuna-tpe", "nsga2", "grid"} <= set(A.names())
    assert isinstance(A.get("evolution", seed=0), A.RegularizedEvolution)
    with pytest.raises(SymnasError, match="unknown algorithm"):
        A.get("annealing")
    with pytest.raises(SymnasError, match="bad arguments"):
        A.get("ppo", nonsense=1)


def test_single_objective_algorithms_refuse_two_objectives():
    with pytest.raises(SymnasError, match="at most 1"):
        sn.Study(mixed_space(), A.RegularizedEvolution(seed=0), objectives={"a": "max", "b": "min"})


def test_optuna_missing_gives_clear_error(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(A.OptunaMissing, match="optuna"):
        A.OptunaSearch("tpe").setup(mixed_space().table)


def test_evolution_greedy_settings_do_not_stall_when_neighbours_are_exhausted():
    """Tournament = population always mutates the best member; once all its one-step neighbours were proposed the
    child must still be new (more decisions change), so a resample-mode dedup study runs to its budget."""
    space = sn.Space([sn.oneof(list(range(3)), name=f"e{i}") for i in range(4)])  # 81 genomes, 8 neighbours each
    algo = A.RegularizedEvolution(population_size=4, tournament_size=4, max_retries=20, seed=0)
    study = sn.Study(space, algo, dedup=Dedup(key="genome", resample=True))

    def peak(trial):  # a single sharp peak: the best member stays best and its neighbours run out quickly
        return -sum(abs(v - 1) for v in trial.genome)

    study.optimize(peak, n_trials=60)
    genomes = [t.genome for t in study.trials]
    assert len(genomes) == 60 and len(set(genomes)) == 60
    assert study.best_value == 0


def test_evolution_novel_child_falls_back_to_samples_and_keeps_types():
    space = mixed_space()
    algo = A.RegularizedEvolution(population_size=2, tournament_size=2, max_retries=8, seed=1).setup(space.table)
    for _ in range(2):
        algo.feedback(algo.propose(), (1.0,))
    parent = algo.best()[0]
    algo.seen.update(algo._novel_child(parent, parent) for _ in range(30))  # fill the neighbourhood a bit
    child = algo._novel_child(parent, parent)
    assert space.table.validate(child)


def test_model_based_and_evolution_beat_random_on_nasbench201():
    """On the embedded NAS-Bench-201 table with a 60-evaluation budget, TPE (which re-draws from its model rather
    than falling back to random candidates when it repeats itself) and greedy aging evolution both beat random
    search on average over seeds."""
    from symnas.evaluator.benchmark import NASBench201Evaluator, nasbench201_space

    space, evaluator = nasbench201_space(), NASBench201Evaluator()

    def mean_best(make) -> float:
        return sum(sn.Study(space, make(s), dedup=Dedup(key="genome")).optimize(evaluator, 60).best_value
                   for s in range(8)) / 8

    rnd = mean_best(lambda s: A.RandomSearch(seed=s))
    assert mean_best(lambda s: A.TPE(seed=s)) > rnd
    assert mean_best(lambda s: A.RegularizedEvolution(10, 10, seed=s)) > rnd
