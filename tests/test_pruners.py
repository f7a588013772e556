"""Early-stopping policies: median stopping and asynchronous successive halving."""
from __future__ import annotations

import pytest

import symnas as sn
from symnas import algorithms as A
from symnas.errors import SymnasError
from symnas.search.pruners import MedianStopping, SuccessiveHalving


def space() -> sn.Space:
    return sn.Space({"q": sn.intv(0, 99, name="q")})


def curve_eval(steps: int):
    """A learning curve whose level is the candidate's quality q/100; records how far each trial got."""
    reached = {}

    def evaluate(trial):
        q = trial.genome[0] / 100.0
        for step in range(1, steps + 1):
            trial.report(q * (1 - 0.5 ** step), step)
            reached[trial.number] = step
            if trial.should_prune():
                raise sn.TrialPruned()
        return q

    return evaluate, reached


def test_median_stopping_prunes_below_median_and_keeps_the_best():
    ev, reached = curve_eval(8)
    st = sn.Study(space(), A.RandomSearch(seed=0), pruner=MedianStopping(warmup_steps=2, min_trials=3))
    st.optimize(ev, 40)
    states = [r.state for r in st.records]
    assert states.count("pruned") >= 10
    best = max(r.genome[0] for r in st.records)
    assert st.best_trial.genome[0] == best  # the best candidate is never pruned
    for r in st.records:
        if r.state == "pruned":
            assert reached[r.number] >= 2  # never before the warm-up


def test_median_stopping_respects_minimisation():
    st = sn.Study(space(), A.RandomSearch(seed=1), objectives="min", pruner=MedianStopping(min_trials=3))

    def ev(trial):
        q = trial.genome[0]
        trial.report(q, 1)
        if trial.should_prune():
            raise sn.TrialPruned()
        return q

    st.optimize(ev, 40)
    pruned = [r.genome[0] for r in st.records if r.state == "pruned"]
    kept = [r.genome[0] for r in st.records if r.state == "complete"]
    assert pruned and min(kept) < min(pruned)


def test_successive_halving_rungs_and_promotion_rate():
    assert SuccessiveHalving(min_resource=1, reduction_factor=3).rung_steps(30) == [1, 3, 9, 27]
    sh = SuccessiveHalving(min_resource=1, reduction_factor=3, max_resource=27)
    assert sh.rung_steps(30) == [1, 3, 9]
    ev, reached = curve_eval(27)
    st = sn.Study(space(), A.RandomSearch(seed=2), pruner=sh)
    st.optimize(ev, 60)
    full = [n for n, s in reached.items() if s == 27]
    assert 1 <= len(full) <= 20  # roughly 1/9 .. 1/3 survive to the end
    assert st.best_trial.genome[0] >= sorted(r.genome[0] for r in st.records)[-5]
    stops = {s for n, s in reached.items() if st.records[n].state == "pruned"}
    assert stops <= {1, 3, 9}  # decisions only at rungs


def test_pruned_trials_reach_the_algorithm_as_failures_and_search_goes_on():
    ev, _ = curve_eval(9)
    st = sn.Study(space(), A.RegularizedEvolution(6, 2, seed=0), pruner=SuccessiveHalving(1, 3))
    st.optimize(ev, 50)
    assert st.summary()["evaluations"] == 50 and st.best_value > 0.8


def test_bad_arguments():
    with pytest.raises(SymnasError, match="reduction_factor"):
        SuccessiveHalving(reduction_factor=1)
    with pytest.raises(SymnasError, match="min_trials"):
        MedianStopping(min_trials=0)
