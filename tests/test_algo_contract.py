"""The algorithm contract suite, generated from the registry: every registered algorithm (each class/preset once,
at the settings its ``@register(..., example=...)`` gives) on spaces of every decision kind.

A new algorithm needs no edit here: a module in ``algorithms/`` whose class carries ``@register("name")`` is found
by ``symnas.algorithms.registry()`` and runs through every check below. Checks: proposals are valid canonical
genomes of the table (categorical, int, float linear/log/stepped, conditional nested oneofs, subsets,
permutations), the same seed gives the same proposals, failed and cached feedback does not break it, the state is
strict JSON and restoring it (or, for ``snapshot_every = None``, replaying the history) gives the same next
proposals, a Study resumed from its store asks the same candidates, value shapes are checked, and a kind the class
declares in ``unsupported_kinds`` is refused with a SymnasError naming the decision.

Every space holds decisions under ``x`` and elsewhere (the example of ``compose`` splits the space on ``x*``).
"""
from __future__ import annotations

import json
import math
import random
from typing import Callable, Iterator

import pytest

import symnas as sn
from symnas import algorithms as A
from symnas.algorithms.base import _REGISTRY, Algorithm, Entry, Values, register
from symnas.errors import SymnasError
from symnas.genome.table import Genome


def _entries() -> list[Entry]:
    """Each registered (class, preset) once, under its first name in sorted order (aliases are the same)."""
    out: dict[tuple, Entry] = {}
    for name, e in sorted(A.registry().items()):
        out.setdefault((e.cls, tuple(sorted(e.preset.items()))), e)
    return sorted(out.values(), key=lambda e: e.name)


ENTRIES = _entries()
IDS = [e.name for e in ENTRIES]


def spaces() -> dict[str, sn.Space]:
    return {
        "categorical": sn.Space({"x": sn.oneof(list(range(5))), "y": sn.oneof(["a", "b", "c"]),
                                 "z": sn.oneof([1, 2, 4, 8], ordered=True), "b": sn.boolv()}),
        "int": sn.Space({"x": sn.intv(0, 20), "y": sn.intv(16, 1024, log=True), "z": sn.intv(0, 12, step=3)}),
        "float": sn.Space({"x": sn.floatv(0.0, 1.0), "y": sn.floatv(1e-5, 1e-1, scale="log"),
                           "z": sn.floatv(0.0, 1.0, step=0.25)}),
        "conditional": sn.Space({
            "x": sn.oneof(["id", {"k": sn.intv(1, 7), "inner": sn.oneof(["a", {"w": sn.floatv(0.1, 1.0)}])}]),
            "y": sn.oneof([{"d": sn.oneof([1, 2])}, {"lr": sn.floatv(1e-4, 1e-1, scale="log")}]),
        }),
        "subsets": sn.Space({"x": sn.manyof(2, list("abcd")), "y": sn.manyof(3, list("abc"), distinct=False),
                             "z": sn.manyof(2, list("abcde"), sorted=True), "p": sn.permutation(list("abc"))}),
        "mixed": mixed_space(),
    }


def mixed_space() -> sn.Space:
    return sn.Space({
        "x": {
            "op": sn.oneof(["id", {"k": sn.intv(1, 7, name="k"), "w": sn.floatv(0.1, 1.0, name="w")}], name="op"),
            "ss": sn.manyof(2, ["x", "y", "z", "t"], name="ss"),
            "p": sn.permutation(["a", "b", "c"], name="p"),
        },
        "y": {
            "lr": sn.floatv(1e-4, 1e-1, scale="log", name="lr"),
            "bs": sn.intv(16, 256, log=True, name="bs"),
            "ord": sn.oneof([1, 2, 4, 8], ordered=True, name="ord"),
        },
    })


SPACES = spaces()


def score(genome: Genome) -> float:
    """A deterministic, bumpy score of any genome (larger is better)."""
    return float(sum(math.sin(1.3 * i + float(v)) for i, v in enumerate(genome)))


def _supported(entry: Entry, space: sn.Space) -> bool:
    return not ({d.kind for d in space.table.decisions} & entry.cls.unsupported_kinds)


def _cases() -> Iterator[tuple[Entry, str]]:
    for e in ENTRIES:
        for s in SPACES:
            if _supported(e, SPACES[s]):
                yield e, s


CASES = list(_cases())


def _study_space(entry: Entry) -> sn.Space:
    """The mixed space, or the first space whose kinds the entry supports."""
    if _supported(entry, SPACES["mixed"]):
        return mixed_space()
    return next(SPACES[s] for s in SPACES if _supported(entry, SPACES[s]))
CASE_IDS = [f"{e.name}-{s}" for e, s in CASES]


def run(algo: Algorithm, table: sn.DecisionTable, n: int, fail: Callable[[int], bool] = lambda i: False,
        ) -> list[Genome]:
    """``n`` proposals, each told ``score`` (or a failure where ``fail(i)``); every proposal must be valid."""
    out = []
    for i in range(n):
        g = algo.propose()
        assert isinstance(g, tuple) and table.validate(g) == g, f"invalid or non-canonical proposal {g!r}"
        algo.feedback(g, None if fail(i) else (score(g),))
        out.append(g)
    return out


# -- the generated suite -------------------------------------------------------------------------------------------
def test_the_registry_holds_every_shipped_algorithm():
    assert {"random", "evolution", "ppo", "reinforce", "tpe", "optuna-tpe", "optuna-random", "optuna-nsga2", "nsga2",
            "grid", "compose", "scalarized"} <= set(IDS)
    for e in ENTRIES:
        assert issubclass(e.cls, Algorithm) and e.cls.name, e


@pytest.mark.parametrize("entry,space", CASES, ids=CASE_IDS)
def test_proposals_are_valid_and_reproducible(entry: Entry, space: str):
    table = SPACES[space].table
    a = entry.make_example(3).setup(table)
    first = run(a, table, 24)
    assert a.proposed == 24 and a.told == 24
    batch = a.propose_batch(3)
    assert len(batch) == 3 and all(table.validate(g) == g for g in batch) and a.proposed == 27
    assert len(set(first)) > 1
    again = run(entry.make_example(3).setup(table), table, 24)
    assert again == first


@pytest.mark.parametrize("entry,space", CASES, ids=CASE_IDS)
def test_failed_and_cached_feedback_keeps_it_working(entry: Entry, space: str):
    table = SPACES[space].table
    a = entry.make_example(1).setup(table)
    run(a, table, 6, fail=lambda i: True)          # nothing but failures at the start
    gs = run(a, table, 18, fail=lambda i: i % 3 == 0)
    a.feedback(gs[-1], (score(gs[-1]),), cached=True)  # a result served again from a dedup cache
    run(a, table, 4)


@pytest.mark.parametrize("entry,space", CASES, ids=CASE_IDS)
def test_state_is_json_and_resumes_to_the_same_proposals(entry: Entry, space: str):
    table = SPACES[space].table
    fail = lambda i: i % 5 == 2  # noqa: E731
    a = entry.make_example(11).setup(table)
    history = run(a, table, 17, fail)
    state = json.loads(json.dumps(a.state_dict(), allow_nan=False))
    if a.snapshot_every is None:
        # The state cannot be captured: resuming replays the asks and tells of the whole history.
        b = entry.make_example(11).setup(table)
        b.load_state_dict(state)
        for i, g in enumerate(history):
            assert b.propose() == g
            b.feedback(g, None if fail(i) else (score(g),))
    else:
        assert isinstance(a.snapshot_every, int) and a.snapshot_every >= 1
        b = entry.make_example(999).setup(table)     # another seed: everything must come from the state
        b.load_state_dict(state)
        assert (b.proposed, b.told) == (a.proposed, a.told)
    assert run(a, table, 6) == run(b, table, 6)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_study_proposals_are_valid_and_reproducible(entry: Entry):
    space = _study_space(entry)
    runs = []
    for _ in range(2):
        st = sn.Study(space, entry.make_example(3))
        st.optimize(lambda trial: score(trial.genome), n_trials=40)
        for r in st.records:
            assert space.table.validate(r.genome) == tuple(r.genome), r.genome
        runs.append([r.genome for r in st.records])
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 10


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_study_resumed_from_its_store_asks_the_same_candidates(entry: Entry):
    space = _study_space(entry)

    def fn(trial) -> float:
        return score(trial.genome)

    full = sn.Study(space, entry.make_example(7))
    full.optimize(fn, n_trials=23)
    expected = [full.ask().genome for _ in range(6)]
    store = sn.MemoryStore()
    sn.Study(space, entry.make_example(7), store=store, name="s").optimize(fn, n_trials=23)
    again = sn.Study(space, entry.make_example(7), store=store, name="s")
    assert [again.ask().genome for _ in range(6)] == expected


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_study_with_thirty_percent_failures_completes_sensibly(entry: Entry):
    space = _study_space(entry)
    rng = random.Random(5)

    def flaky(trial) -> float:
        if rng.random() < 0.3:
            raise RuntimeError("diverged")
        return score(trial.genome)

    st = sn.Study(space, entry.make_example(1))
    st.optimize(flaky, n_trials=60)
    s = st.summary()
    assert s["evaluations"] == 60 and 8 <= s["failed"] <= 30
    assert st.best_trial.state == "complete"
    assert all(space.table.validate(r.genome) == r.genome for r in st.records)
    assert st.best_value == max(score(r.genome) for r in st.records if r.state == "complete")


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_value_shapes_and_setup_are_checked(entry: Entry):
    table = _study_space(entry).table
    a = entry.make_example(0)
    with pytest.raises(SymnasError, match="setup"):
        a.propose()
    a.setup(table)
    g = a.propose()
    with pytest.raises(SymnasError, match="expected 1 value"):
        a.feedback(g, (1.0, 2.0))
    with pytest.raises(SymnasError, match="expected 1 value"):
        a.feedback(g, ())
    assert a.told == 0
    a.feedback(g, (1.0,))
    assert a.told == 1


UNSUPPORTED = [(e, s) for e in ENTRIES for s in SPACES if not _supported(e, SPACES[s])]


@pytest.mark.parametrize("entry,space", UNSUPPORTED, ids=[f"{e.name}-{s}" for e, s in UNSUPPORTED])
def test_declared_unsupported_kinds_are_refused_clearly(entry: Entry, space: str):
    table = SPACES[space].table
    bad = next(d for d in table.decisions if d.kind in entry.cls.unsupported_kinds)
    with pytest.raises(SymnasError, match=f"{bad.path!r}.*{bad.kind!r}"):
        entry.make_example(0).setup(table)


# -- a future algorithm: one class with the decorator --------------------------------------------------------------
@pytest.fixture
def coin_registered() -> Iterator[Entry]:
    """Registers a new algorithm the way a module in algorithms/ would, and removes it afterwards."""

    @register("test-coin", example={"bias": 0.5})
    class Coin(Algorithm):
        """Random search that keeps the best genome and proposes it again with probability ``bias``."""

        unsupported_kinds = frozenset({"perm"})

        def __init__(self, bias: float = 0.5, seed=None) -> None:
            super().__init__(seed)
            self.bias, self.best = bias, None

        def _propose(self) -> Genome:
            if self.best is not None and self.rng.random() < self.bias:
                return tuple(self.best[0])
            return self.table.sample(self.rng)

        def _feedback(self, genome: Genome, values: Values, cached: bool) -> None:
            if values is not None and (self.best is None or values[0] > self.best[1]):
                self.best = (list(genome), values[0])

        def _state(self):
            return {"best": self.best}

        def _load_state(self, state):
            self.best = state["best"]

    try:
        yield A.registry()["test-coin"]
    finally:
        del _REGISTRY["test-coin"]


def test_a_new_registered_class_is_picked_up_and_held_to_the_contract(coin_registered: Entry):
    entry = coin_registered
    assert "test-coin" in A.names() and isinstance(A.get("test-coin", seed=0), entry.cls)
    assert entry.cls.name == "test-coin"
    for space in SPACES:
        if _supported(entry, SPACES[space]):
            test_proposals_are_valid_and_reproducible(entry, space)
            test_failed_and_cached_feedback_keeps_it_working(entry, space)
            test_state_is_json_and_resumes_to_the_same_proposals(entry, space)
        else:
            test_declared_unsupported_kinds_are_refused_clearly(entry, space)
    test_value_shapes_and_setup_are_checked(entry)
    test_study_proposals_are_valid_and_reproducible(entry)
    test_study_resumed_from_its_store_asks_the_same_candidates(entry)
    test_study_with_thirty_percent_failures_completes_sensibly(entry)
    assert not _supported(entry, SPACES["subsets"])  # the permutation there is refused


def test_registering_a_taken_name_or_a_non_algorithm_is_an_error():
    with pytest.raises(SymnasError, match="already registered"):
        @register("random")
        class Other(A.RandomSearch):
            pass
    with pytest.raises(SymnasError, match="not an Algorithm"):
        register("thing")(dict)  # type: ignore[type-var]
    assert A.get("random").__class__ is A.RandomSearch
