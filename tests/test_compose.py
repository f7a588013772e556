"""Compose: different algorithms on different parts of one space (its contract checks run in test_algo_contract)."""
from __future__ import annotations

import pytest

import symnas as sn
from symnas import algorithms as A
from symnas.errors import SymnasError
from symnas.algorithms.compose import Compose, Scalarized, sub_table


def space() -> sn.Space:
    return sn.Space({
        "arch": {"op": sn.oneof(["a", {"k": sn.intv(1, 5, name="k")}], name="op"),
                 "ss": sn.manyof(2, ["x", "y", "z"], name="ss")},
        "train": {"lr": sn.floatv(1e-3, 1e-1, scale="log", name="lr", hints="hparam"),
                  "wd": sn.floatv(0.0, 0.1, name="wd", hints="hparam")},
        "misc": sn.boolv("flag"),
    })


def score(trial) -> float:
    g = trial.genome
    return float(g[0] * g[1] + g[2] + g[3] - abs(g[4] - 0.01) * 10 - g[5])


def test_parts_are_assigned_by_glob_and_hint_and_rest_goes_to_default():
    algo = Compose({"arch.*": A.PPO(seed=0, batch_size=4), "hint:hparam": A.RegularizedEvolution(6, 2, seed=1)})
    sn.Study(space(), algo)
    a = algo.assignment
    assert a["arch.*"] == ["arch.op", "arch.op:1.k", "arch.ss"]
    assert a["hint:hparam"] == ["train.lr", "train.wd"]
    assert a["<default>"] == ["misc"]


def test_compose_runs_validly_reproducibly_and_resumes():
    def make():
        return Compose({"arch.*": A.Reinforce(lr=0.2, seed=0), "train.*": A.RegularizedEvolution(6, 2, seed=1)},
                       seed=2)

    runs = []
    for _ in range(2):
        st = sn.Study(space(), make())
        st.optimize(score, 30)
        assert all(st.space.table.validate(r.genome) == r.genome for r in st.records)
        runs.append([r.genome for r in st.records])
    assert runs[0] == runs[1]

    full = sn.Study(space(), make())
    full.optimize(score, 17)
    expected = [full.ask().genome for _ in range(4)]
    store = sn.MemoryStore()
    sn.Study(space(), make(), store=store).optimize(score, 17)
    again = sn.Study(space(), make(), store=store)
    assert [again.ask().genome for _ in range(4)] == expected


def test_sub_table_keeps_inner_conditions_and_drops_outer_ones():
    t = space().table
    sub = sub_table(t, [0, 1])
    assert sub[1].conditions == [(0, frozenset({1}))] and sub[1].offset == 1
    alone = sub_table(t, [1])
    assert alone[0].conditions == [] and alone[0].index == 0


def test_selector_matching_nothing_is_an_error():
    with pytest.raises(SymnasError, match="matches no decision"):
        sn.Study(space(), Compose({"model.*": A.RandomSearch(0)}))
    with pytest.raises(SymnasError, match="not an Algorithm"):
        Compose({"arch.*": "ppo"})


def test_each_part_learns_from_the_shared_value():
    algo = Compose({"arch.*": A.RegularizedEvolution(8, 3, seed=0), "train.*": A.RegularizedEvolution(8, 3, seed=1)})
    st = sn.Study(space(), algo)
    st.optimize(score, 150)
    rnd = sn.Study(space(), A.RandomSearch(seed=0)).optimize(score, 150)
    assert st.best_value >= rnd.best_value - 0.5


def test_scalarized_feeds_the_weighted_sum_and_keeps_the_pareto_front():
    inner = A.RegularizedEvolution(4, 2, seed=0)
    algo = Scalarized(inner, weights=[1.0, 2.0])
    sn.Study(space(), algo, objectives={"a": "max", "b": "min"})
    g1, g2, g3 = algo.propose(), algo.propose(), algo.propose()
    algo.feedback(g1, (1.0, -3.0))
    algo.feedback(g2, (0.5, -1.0))
    algo.feedback(g3, (0.2, -4.0))  # dominated by g1
    assert [v for _, v in inner.population] == [1.0 - 6.0, 0.5 - 2.0, 0.2 - 8.0]
    assert sorted(v for _, v in algo.pareto_front()) == [(0.5, -1.0), (1.0, -3.0)]
    with pytest.raises(SymnasError, match="2 weight"):
        sn.Study(space(), Scalarized(A.RandomSearch(0), weights=[1.0, 2.0]))
    with pytest.raises(SymnasError, match="must be an Algorithm"):
        Scalarized("evolution", weights=[1.0])  # type: ignore[arg-type]
