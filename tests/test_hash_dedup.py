"""Dedup cache: keys, the first / average-k / forget-p policies, stats, the cache protocol."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from symnas.errors import SymnasError
from symnas.hash import Dedup, Entry, HashCache, MemoryCache
from symnas.hash.dedup import DedupError
from symnas.hash.nb201 import reference_key


def trial(genome=(0, 1), cell=None, build=None, number=None):
    desc = SimpleNamespace(kwargs={"cell": cell, "C": 16}) if cell is not None else None
    return SimpleNamespace(genome=genome, description=desc, build=build, params={}, number=number)


def test_first_policy_serves_the_first_result_and_counts():
    d = Dedup(key="genome")
    k = d.key(trial((1, 2)))
    assert d.lookup(k) is None
    d.record(k, (0.5,), seconds=4.0)
    assert d.lookup(k) == (0.5,)
    d.record(k, (0.7,), seconds=6.0)          # a concurrent duplicate: first value still served
    assert d.lookup(k) == (0.5,)
    s = d.stats
    assert (s["hits"], s["misses"], s["evaluations"]) == (2, 1, 2)
    assert s["seconds_saved"] == pytest.approx(4.0 + 4.0)   # each hit saves the source's evaluation time
    assert s["hit_rate"] == pytest.approx(2 / 3)


def test_average_policy_evaluates_until_k_then_serves_the_mean():
    d = Dedup(key="genome", policy="average", k=3)
    k = d.key(trial())
    for v in (1.0, 2.0, 6.0):
        assert d.lookup(k) is None
        d.record(k, (v, -v), seconds=1.0)
    assert d.lookup(k) == (3.0, -3.0)
    d.record(k, (100.0, 0.0), seconds=1.0)    # beyond k: ignored
    assert d.lookup(k) == (3.0, -3.0)
    assert d.stats["misses"] == 3 and d.stats["hits"] == 2


def test_failed_evaluations_are_not_cached():
    d = Dedup()
    d.record("g:1", None, seconds=3.0)
    assert d.lookup("g:1") is None
    assert d.stats["failures"] == 1 and d.stats["evaluations"] == 1


def test_forget_p_one_forgets_after_every_hit_and_zero_never():
    d = Dedup(forget_p=1.0)
    d.record("a", (1.0,), 1.0)
    assert d.lookup("a") == (1.0,)
    assert d.lookup("a") is None
    assert d.stats["forgotten"] == 1
    d0 = Dedup(forget_p=0.0)
    d0.record("a", (1.0,), 1.0)
    assert all(d0.lookup("a") == (1.0,) for _ in range(50))


def test_forget_p_half_is_seeded_and_roughly_half():
    def run(seed):
        d = Dedup(forget_p=0.5, seed=seed)
        for _ in range(400):
            if d.lookup("a") is None:
                d.record("a", (1.0,), 1.0)
        return d.stats

    a, b = run(3), run(3)
    assert a == b
    assert 0.35 < a["forgotten"] / a["hits"] < 0.65


class CopyingCache:
    """A store that hands out copies (as a database would): dedup must put entries back."""

    def __init__(self):
        self.rows = {}

    def get(self, key):
        row = self.rows.get(key)
        return None if row is None else Entry.from_dict(row)

    def put(self, key, entry):
        self.rows[key] = entry.to_dict()

    def delete(self, key):
        self.rows.pop(key, None)

    def items(self):
        return ((k, Entry.from_dict(v)) for k, v in self.rows.items())


def test_a_copying_cache_sees_every_update():
    cache = CopyingCache()
    assert isinstance(cache, HashCache)
    d = Dedup(policy="average", k=2, cache=cache)
    d.record("a", (1.0,), 2.0)
    d.record("a", (3.0,), 4.0)
    assert d.lookup("a") == (2.0,)
    (key, entry), = list(cache.items())
    assert (key, entry.count, entry.hits, entry.first, entry.seconds) == ("a", 2, 1, (1.0,), 6.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.floats(-10, 10)), max_size=40),
       st.sampled_from(["first", "average"]), st.integers(1, 4))
def test_policy_laws(events, policy, k):
    d = Dedup(key=lambda t: t, policy=policy, k=k)
    recorded: dict = {}
    for key, v in events:
        got = d.lookup(key)
        seen = recorded.get(key, [])
        if policy == "first":
            assert got == (None if not seen else (seen[0],))
        else:
            assert got == (None if len(seen) < k else (pytest.approx(sum(seen[:k]) / k),))
        if got is None:
            d.record(key, (v,), 1.0)
            recorded.setdefault(key, []).append(v)
    s = d.stats
    assert s["hits"] + s["misses"] == len(events)
    assert s["evaluations"] == s["misses"] == sum(len(v) for v in recorded.values())
    assert s["seconds_saved"] == pytest.approx(s["hits"] * 1.0)


def test_structural_key_merges_equivalent_nb201_cells():
    d = Dedup(key="structural")
    a = trial(genome=(1,), cell=["none", "none", "none", "nor_conv_3x3", "none", "none"])
    b = trial(genome=(2,), cell=["nor_conv_3x3", "none", "none", "none", "skip_connect", "none"])
    c = trial(genome=(3,), cell=["nor_conv_1x1", "none", "none", "none", "skip_connect", "none"])
    assert d.key(a) == d.key(b) != d.key(c)
    assert d.key(a).startswith("s:")


def test_functional_key_uses_the_build():
    d = Dedup(key="functional", probe_shape=(2, 3))
    a = trial(build=lambda seed=None: nn.Sequential(nn.Linear(3, 3), nn.Identity()))
    b = trial(build=lambda seed=None: nn.Linear(3, 3))
    c = trial(build=lambda seed=None: nn.Sequential(nn.Linear(3, 3), nn.ReLU()))
    assert d.key(a) == d.key(b) != d.key(c)


def test_functional_key_on_the_nb201_probe_network():
    from symnas.models.nasbench201 import nb201_probe_build

    d = Dedup(key="functional", build=nb201_probe_build, probe_shape=(2, 3, 8, 8))
    a = trial(cell=["avg_pool_3x3", "none", "none", "none", "avg_pool_3x3", "none"])       # pool(pool(x))
    b = trial(cell=["skip_connect", "none", "avg_pool_3x3", "none", "none", "avg_pool_3x3"])           # same
    c = trial(cell=["avg_pool_3x3", "none", "none", "avg_pool_3x3", "none", "none"])       # pool(x)
    assert reference_key(a.description.kwargs["cell"]) == reference_key(b.description.kwargs["cell"])
    assert d.key(a) == d.key(b) != d.key(c)


def test_bad_settings_and_failing_keys_raise_symnas_errors():
    with pytest.raises(DedupError, match="argument key"):
        Dedup(key="shape")
    with pytest.raises(DedupError, match="argument policy"):
        Dedup(policy="last")
    with pytest.raises(DedupError, match="argument k"):
        Dedup(k=0)
    with pytest.raises(DedupError, match="argument forget_p"):
        Dedup(forget_p=1.5)
    with pytest.raises(DedupError, match="argument cache"):
        Dedup(cache={})
    with pytest.raises(DedupError, match="trial 12"):
        Dedup(key=lambda t: 1 / 0).key(trial(number=12))
    with pytest.raises(SymnasError, match=r"description.kwargs\['cell'\]"):
        Dedup(key="structural").key(trial(cell=["bogus"] * 6))


def test_resample_flag_and_memory_cache():
    assert Dedup(resample=True).resample is True
    cache = MemoryCache()
    Dedup(cache=cache).record("x", (1.0,), 0.5)
    assert len(cache) == 1 and cache.get("x").mean_seconds() == 0.5


def test_restore_rebuilds_entries_without_touching_stats():
    R = SimpleNamespace
    recs = [R(hash_key="a", state="complete", values=(1.0,), duration=2.0),
            R(hash_key="a", state="complete", values=(3.0,), duration=2.0),
            R(hash_key="b", state="failed", values=None, duration=1.0),
            R(hash_key=None, state="complete", values=(5.0,), duration=1.0)]
    d = Dedup(policy="average", k=2)
    assert d.restore(recs) == 1
    assert d.stats["evaluations"] == 0
    assert d.lookup("a") == (2.0,) and d.lookup("b") is None
    assert d.restore(recs) == 0                     # idempotent: known keys are left alone


def test_with_the_sqlite_cache_of_the_store():
    sqlite = pytest.importorskip("symnas.store.sqlite")
    cache = sqlite.SQLiteStore(":memory:").cache("hash-test")
    d = Dedup(policy="average", k=2, cache=cache)
    d.record("a", (1.0,), 1.0)
    d.record("a", (2.0,), 1.0)
    assert d.lookup("a") == (1.5,)
    assert dict(cache.items())["a"]["hits"] == 1  # the store keeps the entry as a JSON dict


def test_study_serves_repeats_from_the_cache():
    symnas = pytest.importorskip("symnas")
    from symnas.algorithms import RandomSearch
    from symnas.evaluator.benchmark import NASBench201Evaluator, nasbench201_space

    evaluate = NASBench201Evaluator()
    dedup = Dedup(key="structural")
    study = symnas.Study(nasbench201_space(), RandomSearch(seed=0), dedup=dedup)
    for _ in range(150):
        t = study.ask()
        study.tell(t, evaluate(t))
    served = [t for t in study.trials if t.state == "cached"]
    assert len(served) == dedup.stats["hits"] > 0
    assert dedup.stats["evaluations"] == 150
    assert dedup.stats["misses"] == 150
    # a served result is the value recorded for an evaluated trial with the same key
    evaluated = {t.hash_key: t.values for t in study.trials if t.state == "complete"}
    assert all(t.values == evaluated[t.hash_key] for t in served)


# ----------------------------------------------------------------- study records, exhaustion, exact resume
def _small_study(dedup, store=None, n=3, seed=0):
    import symnas as sn
    from symnas.algorithms import RandomSearch

    return sn.Study(sn.Space([sn.oneof(list(range(n)))]), RandomSearch(seed=seed), dedup=dedup,
                    store=store if store is not None else sn.MemoryStore())


def test_an_exhausted_space_stops_after_bounded_tries_without_a_row_per_proposal():
    from symnas.search.study import SpaceExhausted

    study = _small_study(Dedup(key="genome"))
    before = 0
    with pytest.raises(SpaceExhausted, match="exhausted"):
        for _ in range(10):
            before = len(study.trials)
            t = study.ask()
            study.tell(t, 1.0)
    assert study.stats["exhausted"] is True
    assert study.stats["evaluations"] == 3
    assert len(study.trials) - before <= 100       # served rows are bounded; turned-away proposals write none
    assert study.stats["resampled"] >= 800         # the rest of the 1,000 tries were turned away unwritten


def test_a_served_trial_names_its_source_and_saves_only_its_evaluation_time():
    d = Dedup(key="genome")
    study = _small_study(d, n=1)
    t = study.ask()
    study.tell(t, 0.5)
    src = study.trials[0].record
    with pytest.raises(SymnasError, match="exhausted"):
        study.ask()                                  # the one candidate is known: served, then exhausted
    served = [t.record for t in study.trials if t.state == "cached"]
    assert served and all(r.system_attrs["served_from"] == src.number and r.hash_key == src.hash_key for r in served)
    assert d.stats["seconds_saved"] == pytest.approx(len(served) * src.duration)


@pytest.mark.parametrize("options", [dict(), dict(policy="average", k=2), dict(forget_p=0.3),
                                     dict(resample=True), dict(forget_p=0.5, policy="average", k=2)])
def test_resume_rebuilds_the_cache_exactly(options):
    import symnas as sn

    store = sn.MemoryStore()
    live = Dedup(key="genome", seed=7, **options)
    study = _small_study(live, store=store, n=6, seed=1)
    for i in range(25):
        try:
            t = study.ask()
        except SymnasError:
            break
        study.tell(t, float(t.genome[0]) + 0.01 * i)
    resumed = Dedup(key="genome", seed=7, **options)
    _small_study(resumed, store=store, n=6, seed=1)
    as_dicts = lambda d: {k: e.to_dict() for k, e in d.cache.items()}  # noqa: E731
    assert as_dicts(resumed) == as_dicts(live)


def test_symnas_show_marks_served_trials_with_their_source(tmp_path):
    from symnas.report import load_study, show_dict, show_text
    from symnas.store.sqlite import SQLiteStore

    path = str(tmp_path / "s.db")
    store = SQLiteStore(path)
    study = _small_study(Dedup(key="genome", cache=store.cache("study")), store=store, n=2)
    for _ in range(6):
        try:
            t = study.ask()
        except SymnasError:
            break
        study.tell(t, float(t.genome[0]))
    view = load_study(path)
    d = show_dict(view, top=50)
    served = [r for r in d["top"] if r["state"].startswith("served from #")]
    assert served and "served from #" in show_text(view, top=50)
    durations = {r.number: r.duration for r in view.records}
    sources = [r.system_attrs["served_from"] for r in view.records if r.state == "cached"]
    assert d["dedup"]["seconds_saved"] == pytest.approx(sum(durations[s] for s in sources))


def test_structural_key_on_a_space_without_cells_explains_or_falls_back():
    from symnas.hash.dedup import genome_key, structural_key

    t = trial(genome=(4, 2))
    t.description = {"lr": 0.1}
    with pytest.raises(DedupError, match="cannot read a cell.*cell_of=.*'functional' or 'genome'"):
        Dedup(key="structural").key(t)
    with pytest.warns(UserWarning, match="falling back|keying candidates by their genome_key"):
        assert structural_key(fallback=genome_key)(t) == genome_key(t)
