"""The ask/tell loop: values, objectives, failures, misuse, resume."""
from __future__ import annotations

import math

import pytest

import symnas as sn
from tests.spaces_for_tests import categorical_space, hpo_space


def quad(trial: sn.Trial) -> float:
    p = trial.description
    return -(math.log10(p["lr"]) + 2) ** 2


def test_random_search_improves_and_reports() -> None:
    study = sn.Study(hpo_space(), sn.algorithms.RandomSearch(seed=0))
    study.optimize(quad, 60)
    assert study.summary()["evaluations"] == 60
    assert study.best_value == max(t.value for t in study.trials)
    assert study.best_value > -0.2
    assert isinstance(study.best_trial.params["lr"], float)


def test_named_objectives_and_directions() -> None:
    study = sn.Study(categorical_space(3), objectives={"acc": "max", "latency": "min"})
    t = study.ask()
    study.tell(t, {"acc": 0.9, "latency": 3.0})
    t2 = study.ask()
    study.tell(t2, (0.8, 1.0))
    assert len(study.pareto_front()) == 2
    t3 = study.tell(study.ask(), {"acc": 0.5})  # a value of the wrong shape is a failed trial, with the reason
    assert t3.state == "failed" and "expected objectives" in t3.record.error


def test_wrong_number_of_objectives_is_a_failed_trial() -> None:
    study = sn.Study(categorical_space(3))
    t = study.ask()
    study.tell(t, (1.0, 2.0))
    assert t.state == "failed" and "expected 1 objective" in t.record.error
    study.tell(study.ask(), 1.0)  # the study goes on


def test_telling_twice_is_an_error() -> None:
    study = sn.Study(categorical_space(3))
    t = study.ask()
    study.tell(t, 1.0)
    with pytest.raises(sn.TrialError, match="already told"):
        study.tell(t, 2.0)
    with pytest.raises(sn.TrialError, match="not a running trial"):
        study.tell(99, 2.0)


def test_nan_is_a_failure_never_ranked() -> None:
    study = sn.Study(categorical_space(3))
    t = study.ask()
    study.tell(t, float("nan"))
    assert t.state == "failed" and "NaN" in t.record.error
    t2 = study.ask()
    study.tell(t2, 0.1)
    assert study.best_trial.number == t2.number
    assert study.stats["failed"] == 1


def test_exceptions_become_failures_with_traceback() -> None:
    def boom(trial: sn.Trial) -> float:
        if trial.number % 2:
            raise RuntimeError("out of memory")
        return 1.0

    study = sn.Study(categorical_space(3)).optimize(boom, 6)
    failed = [r for r in study.records if r.state == "failed"]
    assert len(failed) == 3 and "RuntimeError: out of memory" in failed[0].error and "Traceback" in failed[0].error


def test_algorithm_sees_none_for_failures() -> None:
    seen = []

    class Spy(sn.algorithms.RandomSearch):
        def feedback(self, genome, values, *, cached=False):
            seen.append(values)

    study = sn.Study(categorical_space(3), Spy(seed=0), objectives="min")
    study.tell(study.ask(), 2.0)
    study.tell(study.ask(), failure="diverged")
    assert seen == [(-2.0,), None]


def test_resume_gives_the_same_next_proposals_as_an_uninterrupted_run() -> None:
    space = hpo_space()
    store = sn.MemoryStore()
    first = sn.Study(space, sn.algorithms.RandomSearch(seed=5), store=store)
    for _ in range(7):
        first.tell(first.ask(), 1.0)
    running = first.ask()  # in flight when the process "dies"

    resumed = sn.Study(space, sn.algorithms.RandomSearch(seed=5), store=store)
    assert [r.state for r in resumed.records][-1] == "interrupted"
    requeued = resumed.ask()
    assert requeued.genome == running.genome
    nxt = [resumed.ask().genome for _ in range(3)]

    ref = sn.Study(space, sn.algorithms.RandomSearch(seed=5))
    for _ in range(7):
        ref.tell(ref.ask(), 1.0)
    ref.ask()
    assert nxt == [ref.ask().genome for _ in range(3)]


def test_trial_description_is_lazy() -> None:
    study = sn.Study(hpo_space())
    t = study.ask()
    assert t._description is None
    assert isinstance(t.description, dict) and t._description is not None


def test_resume_after_requeue_and_resampled_proposals_matches_uninterrupted_run() -> None:
    from symnas.hash.dedup import Dedup

    space = sn.Space({"a": sn.oneof([0, 1, 2]), "b": sn.oneof([0, 1, 2])})  # 9 candidates: many repeats

    def key(trial: sn.Trial) -> str:
        return str(sum(trial.genome) % 4)  # a coarse key: plenty of hits

    store = sn.MemoryStore()
    first = sn.Study(space, sn.algorithms.RandomSearch(seed=2), store=store, dedup=Dedup(key=key, resample=True))
    for _ in range(3):
        first.tell(first.ask(), 1.0)
    first.ask()  # running when the process dies: re-queued on resume
    assert first.stats["resampled"] > 0 and any(r.user_attrs.get("discarded") for r in store.trials("study"))
    resumed = sn.Study(space, sn.algorithms.RandomSearch(seed=2), store=store, dedup=Dedup(key=key, resample=True))
    resumed.tell(resumed.ask(), 1.0)  # the re-queued candidate: the algorithm proposes nothing for it
    nxt = [resumed.algorithm.propose() for _ in range(5)]

    ref = sn.Study(space, sn.algorithms.RandomSearch(seed=2), dedup=Dedup(key=key, resample=True))
    for _ in range(3):
        ref.tell(ref.ask(), 1.0)
    ref.tell(ref.ask(), 1.0)
    assert nxt == [ref.algorithm.propose() for _ in range(5)]
