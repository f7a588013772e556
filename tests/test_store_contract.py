"""The storage contract suite: every store (every concrete ``Storage`` subclass in ``symnas.store``) passes it.

A new store adds one factory to ``FACTORIES``; ``test_every_store_is_in_the_suite`` fails until it does.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
from dataclasses import dataclass
from typing import Any, Callable

import pytest

import symnas as sn
import symnas.store
from symnas.errors import StoreError
from symnas.store.base import CAPABILITIES, STATES, Storage, TrialRecord, TrialState
from symnas.store.memory import MemoryStore
from symnas.store.sqlite import SQLiteStore


@dataclass
class Factory:
    make: Callable[[Any], Storage]  # tmp_path -> a new, empty store
    reopen: Callable[[Storage, Any], Storage]  # (store, tmp_path) -> a handle on the same data


FACTORIES = {
    "memory": Factory(lambda tmp: MemoryStore(), lambda s, tmp: s),
    "sqlite-file": Factory(lambda tmp: SQLiteStore(tmp / "c.db"), lambda s, tmp: SQLiteStore(tmp / "c.db")),
    "sqlite-memory": Factory(lambda tmp: SQLiteStore(":memory:"), lambda s, tmp: s),
}
COVERED = {MemoryStore, SQLiteStore}


@pytest.fixture(params=sorted(FACTORIES))
def kind(request) -> str:
    return request.param


@pytest.fixture
def store(kind, tmp_path) -> Storage:
    s = FACTORIES[kind].make(tmp_path)
    yield s
    s.close()


def _open(store: Storage, name: str = "s", objectives: Any = None) -> None:
    store.open_study(name, space={"format": "x", "tree": [1]}, objectives=objectives or {"acc": "max"},
                     algorithm="RandomSearch", meta={"fingerprint": "f" * 16, "seed": 3})


def _record(number: int = 0, **kw: Any) -> TrialRecord:
    return TrialRecord(number=number, genome=(number, 0.5, (1, 2)), asked_at=2 * number, started=1.0, **kw)


def test_every_store_is_in_the_suite():
    found = set()
    for mod in pkgutil.iter_modules(symnas.store.__path__):
        m = importlib.import_module(f"symnas.store.{mod.name}")
        found |= {c for _, c in inspect.getmembers(m, inspect.isclass)
                  if issubclass(c, Storage) and c is not Storage and not inspect.isabstract(c)}
    assert found and found <= COVERED, f"stores without a contract factory: {found - COVERED}"


def test_is_a_storage_with_declared_capabilities(store):
    assert isinstance(store, Storage)
    assert store.capabilities <= CAPABILITIES
    for cap in CAPABILITIES:
        assert store.supports(cap) == (cap in store.capabilities)
    with pytest.raises(StoreError, match="unknown store capability"):
        store.supports("teleport")


def test_study_metadata(store):
    assert list(store.studies()) == []
    _open(store, "b")
    _open(store, "a")
    assert list(store.studies()) == ["b", "a"]  # oldest first
    meta = store.study_meta("a")
    assert meta["space"] == {"format": "x", "tree": [1]} and meta["objectives"] == {"acc": "max"}
    assert meta["algorithm"] == "RandomSearch" and meta["fingerprint"] == "f" * 16 and meta["seed"] == 3
    assert isinstance(meta["created"], float)
    _open(store, "a")  # reopening with the same objectives: fine, metadata unchanged
    with pytest.raises(StoreError, match="objectives"):
        _open(store, "a", objectives={"acc": "min"})
    store.update_study_meta("a", {"algorithm": "TPE", "seed": 5, "extra": [1]})
    meta2 = store.study_meta("a")
    assert (meta2["algorithm"], meta2["seed"], meta2["extra"], meta2["fingerprint"]) == ("TPE", 5, [1], "f" * 16)
    assert store.study_meta("b")["algorithm"] == "RandomSearch"
    with pytest.raises(StoreError, match="no study"):
        store.study_meta("zzz")


def test_trials_round_trip_every_field_and_state(store):
    _open(store)
    for i, state in enumerate(STATES):
        r = _record(i, hash_key=f"k{i}")
        store.add_trial("s", r)
        r.state, r.values, r.error = state, ((0.25, float(i)) if state.has_values else None), f"e{i}"
        r.told_at, r.finished, r.duration = 2 * i + 1, 3.5, 2.5
        r.intermediate = [(1, 0.5), (2, 0.75)]
        r.user_attrs = {"note": "hi", "nested": {"l": [1, 2]}}
        r.system_attrs = {"owner": "h:1", "discarded": 2}
        r.description = '{"x": 1}'
        store.finish_trial("s", r)
    got = store.trials("s")
    assert [r.number for r in got] == list(range(len(STATES)))
    for r, state in zip(got, STATES):
        assert type(r.state) is TrialState and r.state is state
        assert r.genome == (r.number, 0.5, (1, 2)) and isinstance(r.genome, tuple)
        assert r.values == ((0.25, float(r.number)) if state.has_values else None)
        assert (r.error, r.hash_key, r.asked_at, r.told_at) == (f"e{r.number}", f"k{r.number}", 2 * r.number,
                                                                 2 * r.number + 1)
        assert (r.started, r.finished, r.duration, r.intermediate) == (1.0, 3.5, 2.5, [(1, 0.5), (2, 0.75)])
        assert r.user_attrs == {"note": "hi", "nested": {"l": [1, 2]}}
        assert r.system_attrs == {"owner": "h:1", "discarded": 2}
        assert r.description == '{"x": 1}'
    assert store.trials("other") == []


def test_numbering(store):
    _open(store)
    store.add_trial("s", _record(0))
    late = _record(0)  # another writer took number 0: stored as the next free one, renumbered in place
    store.add_trial("s", late)
    assert late.number == 1 and [r.number for r in store.trials("s")] == [0, 1]
    with pytest.raises(StoreError, match="out of sequence"):
        store.add_trial("s", _record(5))
    with pytest.raises(StoreError, match="no trial 7"):
        store.finish_trial("s", _record(7))
    with pytest.raises(StoreError, match="no trial 7"):
        store.report("s", 7, 1, 0.5)


def test_report_appends_intermediate_values(store):
    _open(store)
    r = _record(0)
    store.add_trial("s", r)
    store.report("s", 0, 1, 0.5)
    store.report("s", 0, 2, 0.75)
    assert store.trials("s")[0].intermediate == [(1, 0.5), (2, 0.75)]
    assert r.intermediate == []  # the caller's record is not the stored one


def test_ownership_of_records_and_state(store):
    _open(store)
    r = _record(0, user_attrs={"l": [1]})
    store.add_trial("s", r)
    r.user_attrs["l"].append(2)  # changing the given record after the call changes nothing stored
    r.system_attrs["owner"] = "x"
    r.intermediate.append((1, 1.0))
    r.state = TrialState.COMPLETE
    got = store.trials("s")[0]
    assert got.user_attrs == {"l": [1]} and got.system_attrs == {} and got.intermediate == []
    assert got.state is TrialState.RUNNING
    got.user_attrs["l"].append(3)  # changing a returned record changes nothing stored
    got.genome = (9,)
    again = store.trials("s")[0]
    assert again.user_attrs == {"l": [1]} and again.genome == (0, 0.5, (1, 2)) and again is not got
    state = {"rng": [1, [2, 3]]}
    store.save_algorithm_state("s", state, 4)
    state["rng"][1].append(4)
    loaded = store.load_algorithm_state("s")
    assert loaded == ({"rng": [1, [2, 3]]}, 4)
    loaded[0]["rng"].append(5)
    assert store.load_algorithm_state("s") == ({"rng": [1, [2, 3]]}, 4)
    meta = store.study_meta("s")
    meta["objectives"]["acc"] = "min"
    assert store.study_meta("s")["objectives"] == {"acc": "max"}


def test_algorithm_state(store):
    _open(store)
    assert store.load_algorithm_state("s") is None
    store.save_algorithm_state("s", {"a": 1}, -1)
    store.save_algorithm_state("s", {"a": 2, "b": [1.5, None, "x"]}, 7)
    assert store.load_algorithm_state("s") == ({"a": 2, "b": [1.5, None, "x"]}, 7)


def test_cache_capability(store):
    if not store.supports("cache"):
        with pytest.raises(StoreError, match="cache"):
            store.cache("x")
        return
    c, other = store.cache("x"), store.cache("y")
    assert c.holds == "json" and len(c) == 0 and c.get("k") is None
    entry = {"first": [0.5], "sums": [0.5], "count": 1, "hits": 0, "seconds": 2.0}
    c.put("k", entry)
    entry["hits"] = 9  # the caller's dict is not the stored one
    assert c.get("k") == {"first": [0.5], "sums": [0.5], "count": 1, "hits": 0, "seconds": 2.0}
    c.get("k")["hits"] = 7
    assert c.get("k")["hits"] == 0
    c.put("a", {"v": 1})
    assert [k for k, _ in c.items()] == ["a", "k"] and len(c) == 2
    assert other.get("k") is None and len(other) == 0
    assert store.cache("x").get("a") == {"v": 1}  # another handle on the same namespace
    c.delete("k")
    c.delete("k")  # absent: no error
    assert c.get("k") is None and len(c) == 1
    with pytest.raises(StoreError, match="dict"):
        c.put("bad", [1, 2])  # type: ignore[arg-type]


def test_dedup_uses_the_store_cache(store):
    if not store.supports("cache"):
        pytest.skip("no cache capability")
    from symnas.hash.dedup import Dedup

    study = sn.Study(sn.Space([sn.oneof([0, 1, 2])]), sn.algorithms.RandomSearch(seed=0), store=store, name="d",
                     dedup=Dedup(key="genome", cache=store.cache("d")))
    study.optimize(lambda t: float(t.genome[0]), n_trials=3)
    assert study.stats["cached"] > 0
    assert {k: e["first"] for k, e in store.cache("d").items()} == {f"g:{i}": [float(i)] for i in range(3)}


def test_threads_share_one_store(store):
    _open(store)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for _ in range(25):
                r = _record(0)
                store.add_trial("s", r)  # every thread proposes number 0: the store numbers them
                r.state, r.values, r.user_attrs = TrialState.COMPLETE, (float(k),), {"k": k}
                store.finish_trial("s", r)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = store.trials("s")
    assert [r.number for r in got] == list(range(100))
    assert all(r.state is TrialState.COMPLETE and r.values == (float(r.user_attrs["k"]),) for r in got)


def test_reopening_sees_everything(kind, store, tmp_path):
    _open(store)
    r = _record(0)
    store.add_trial("s", r)
    r.state, r.values = TrialState.COMPLETE, (1.0,)
    store.finish_trial("s", r)
    store.save_algorithm_state("s", {"a": 1}, 1)
    again = FACTORIES[kind].reopen(store, tmp_path)
    assert again.trials("s") == store.trials("s") and again.load_algorithm_state("s") == ({"a": 1}, 1)
    assert list(again.studies()) == ["s"]


def test_exact_resume_through_the_store(kind, store, tmp_path):
    def fn(t):
        return float(t.genome[0] + t.genome[1])

    space = sn.Space([sn.oneof(list(range(30))), sn.oneof(list(range(30)))])
    whole = sn.Study(space, sn.algorithms.RegularizedEvolution(population_size=4, tournament_size=2, seed=3))
    whole.optimize(fn, n_trials=20)
    first = sn.Study(space, sn.algorithms.RegularizedEvolution(population_size=4, tournament_size=2, seed=3),
                     store=store, name="r")
    first.optimize(fn, n_trials=12)
    first.ask()  # running when the "process" stops: re-queued on resume
    second = sn.Study(space, sn.algorithms.RegularizedEvolution(population_size=4, tournament_size=2, seed=3),
                      store=FACTORIES[kind].reopen(store, tmp_path), name="r")
    assert second.records[12].state is TrialState.INTERRUPTED and second.stats["requeued"] == 1
    second.optimize(fn, n_trials=8)
    done = [r.genome for r in second.records if r.state is TrialState.COMPLETE]
    assert done == [r.genome for r in whole.records]


def test_durable_stores_keep_data_across_handles(kind, store, tmp_path):
    if not store.supports("durable") or kind == "sqlite-memory":
        pytest.skip("not durable, or nothing to reopen")
    _open(store)
    store.add_trial("s", _record(0))
    store.close()
    assert [r.number for r in FACTORIES[kind].make(tmp_path).trials("s")] == [0]


def test_failures_are_store_errors(store):
    with pytest.raises(StoreError):
        store.finish_trial("nope", _record(3))
    with pytest.raises(StoreError, match="unknown state"):
        TrialRecord(number=0, genome=(), state="exploded")  # type: ignore[arg-type]


def test_attribute_types_survive_the_round_trip(store):
    _open(store)
    for i, sa in enumerate(({"requeue": True}, {"requeue": 1}, {"requeue": 1.0}, {"requeue": True})):
        r = _record(i, system_attrs=dict(sa), user_attrs={"flag": sa["requeue"]})
        store.add_trial("s", r)
    got = store.trials("s")
    assert [type(r.system_attrs["requeue"]) for r in got] == [bool, int, float, bool]
    assert [type(r.user_attrs["flag"]) for r in got] == [bool, int, float, bool]
