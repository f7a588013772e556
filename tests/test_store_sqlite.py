"""The SQLite store: the Storage protocol, resume through it, the dedup cache, concurrent writers, no pickles."""
from __future__ import annotations

import json
import multiprocessing
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.evaluators for worker processes

import symnas as sn  # noqa: E402
from symnas.errors import StoreError  # noqa: E402
from symnas.hash.cache import Entry, HashCache, StoreCache  # noqa: E402
from symnas.hash.dedup import Dedup  # noqa: E402
from symnas.store.base import Storage, TrialRecord  # noqa: E402
from symnas.store.sqlite import SQLiteStore  # noqa: E402


def _space() -> sn.Space:
    return sn.Space([sn.oneof(list(range(50))), sn.oneof(list(range(50))), sn.floatv(0.0, 1.0)])


def test_protocol_round_trip(tmp_path):
    store = SQLiteStore(tmp_path / "s.db")
    assert isinstance(store, Storage)
    store.open_study("a", space={"x": 1}, objectives={"acc": "max", "lat": "min"}, algorithm="R")
    rec = TrialRecord(number=0, genome=(3, 1, 0.125), asked_at=0, started=1.5, hash_key="g:3")
    store.add_trial("a", rec)
    store.report("a", 0, 1, 0.5)
    store.report("a", 0, 2, 0.75)
    rec.state, rec.values, rec.told_at, rec.finished, rec.duration = "complete", (0.9, 12.0), 1, 2.5, 1.0
    rec.user_attrs = {"note": "hi", "n": [1, 2]}
    rec.description = '{"x": 1}'
    rec.intermediate = [(1, 0.5), (2, 0.75)]
    store.finish_trial("a", rec)
    again = SQLiteStore(tmp_path / "s.db").trials("a")
    assert again == [rec]
    assert again[0].genome == (3, 1, 0.125) and isinstance(again[0].genome, tuple)
    with pytest.raises(StoreError, match="objectives"):
        store.open_study("a", space={}, objectives={"acc": "max"}, algorithm="R")
    with pytest.raises(StoreError, match="no trial 7"):
        store.finish_trial("a", TrialRecord(number=7, genome=(0,)))
    store.save_algorithm_state("a", {"rng": [1, 2]}, 5)
    assert store.load_algorithm_state("a") == ({"rng": [1, 2]}, 5)
    assert store.load_algorithm_state("b") is None and store.studies() == ["a"]


def test_pragmas_and_rows_are_json_only(tmp_path):
    path = tmp_path / "s.db"
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=1), store=SQLiteStore(path), name="j")
    study.optimize(lambda t: float(t.genome[0]), n_trials=5)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for genome, values, attrs, inter in db.execute('SELECT genome, "values", user_attrs, intermediate FROM trials'):
        json.loads(genome), json.loads(values), json.loads(attrs), json.loads(inter)
    (state,) = db.execute("SELECT state FROM algorithm_state WHERE study='j'").fetchone()
    json.loads(state)
    blobs = db.execute("SELECT COUNT(*) FROM trials WHERE typeof(genome) = 'blob'").fetchone()[0]
    assert blobs == 0


def test_resume_continues_the_same_sequence(tmp_path):
    def fn(t):
        return float(t.genome[0] + t.genome[1])

    whole = sn.Study(_space(), sn.algorithms.RandomSearch(seed=3))
    whole.optimize(fn, n_trials=20)
    path = tmp_path / "r.db"
    first = sn.Study(_space(), sn.algorithms.RandomSearch(seed=3), store=SQLiteStore(path), name="r")
    first.optimize(fn, n_trials=12)
    second = sn.Study(_space(), sn.algorithms.RandomSearch(seed=99), store=SQLiteStore(path), name="r")
    assert len(second.records) == 12
    second.optimize(fn, n_trials=8)
    assert [r.genome for r in second.records] == [r.genome for r in whole.records]
    assert second.best_value == whole.best_value


def test_running_trial_is_requeued_after_a_crash(tmp_path):
    path = tmp_path / "c.db"
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0), store=SQLiteStore(path), name="c")
    study.optimize(lambda t: 1.0, n_trials=3)
    lost = study.ask()  # the process "dies" here
    back = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0), store=SQLiteStore(path), name="c")
    assert back.records[3].state == "interrupted" and back.stats["requeued"] == 1
    assert back.ask().genome == lost.genome


def test_cache_protocol_and_dedup(tmp_path):
    store = SQLiteStore(tmp_path / "d.db")
    cache = StoreCache(store.cache("x"))  # the store keeps JSON dicts; hash turns them into entries
    assert isinstance(cache, HashCache)
    cache.put("k", Entry.first_of((0.5, 2.0), seconds=3.0))
    assert cache.get("k") == Entry.first_of((0.5, 2.0), seconds=3.0)
    assert store.cache("other").get("k") is None
    assert store.cache("x").get("k") == Entry.first_of((0.5, 2.0), seconds=3.0).to_dict()
    cache.delete("k")
    cache.delete("k")
    assert cache.get("k") is None and list(cache.items()) == []
    study = sn.Study(sn.Space([sn.oneof([0, 1, 2])]), sn.algorithms.RandomSearch(seed=0), store=store, name="x",
                     dedup=Dedup(key="genome", cache=cache))
    study.optimize(lambda t: float(t.genome[0]), n_trials=3)
    assert study.stats["cached"] > 0 and len(cache) == 3
    reopened = StoreCache(SQLiteStore(tmp_path / "d.db").cache("x"))
    assert {k: e.first for k, e in reopened.items()} == {f"g:{i}": (float(i),) for i in range(3)}


def test_concurrent_writers_lose_no_update(tmp_path):
    from tests.evaluators.store_writers import write_trials

    path = str(tmp_path / "w.db")
    SQLiteStore(path)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctx.Pool(3) as pool:
        numbers = pool.starmap(write_trials, [(path, seed, 40) for seed in (1, 2, 3)])
    flat = sorted(n for ns in numbers for n in ns)
    assert flat == list(range(120))
    records = SQLiteStore(path).trials("shared")
    assert [r.number for r in records] == list(range(120))
    assert all(r.state == "complete" for r in records)
    by_writer = {s: sum(1 for r in records if int(r.values[0]) // 1000 == s) for s in (1, 2, 3)}
    assert by_writer == {1: 40, 2: 40, 3: 40}
