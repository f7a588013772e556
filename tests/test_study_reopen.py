"""Reopening a stored study: the space and algorithm must be the ones it was made with (or an explicit switch), a
new seed is reported, old (schema 1) stores are migrated, failed trials are logged, ``catch=`` as in Optuna."""
from __future__ import annotations

import logging
import shutil
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import symnas as sn
from symnas.errors import StoreError, TrialError
from symnas.search.studymeta import algorithm_config, space_fingerprint
from symnas.store.base import TrialState
from symnas.store.sqlite import SCHEMA_VERSION, SQLiteStore

DATA = Path(__file__).resolve().parent / "data"


def _space(n: int = 6) -> sn.Space:
    return sn.Space([sn.oneof(list(range(n)), name="a"), sn.oneof(list(range(6)), name="b")])


def _fn(t: sn.Trial) -> float:
    return float(t.genome[0] * 10 + t.genome[1])


def _evo(**kw):
    return sn.algorithms.RegularizedEvolution(**{"population_size": 4, "tournament_size": 2, "seed": 0, **kw})


def test_fingerprint_is_stable_and_sensitive():
    assert space_fingerprint(_space().to_dict()) == space_fingerprint(_space().to_dict())
    assert space_fingerprint(_space().to_dict()) != space_fingerprint(_space(7).to_dict())
    assert algorithm_config(_evo())["population_size"] == 4 and "seed" not in algorithm_config(_evo())


def test_an_edited_space_is_an_error_naming_the_decision(tmp_path):
    path = tmp_path / "s.db"
    sn.Study(_space(), _evo(), store=SQLiteStore(path), name="x").optimize(_fn, n_trials=3)
    before = path.read_bytes()
    changed = r"another space \(decisions changed: a at \[0\] \(choice of 6 .* -> choice of 7 .*\); fingerprint"
    with pytest.raises(StoreError, match=changed) as e:
        sn.Study(_space(7), _evo(), store=SQLiteStore(path), name="x")
    assert "study 'x'" in str(e.value) and str(path) in str(e.value)
    assert path.read_bytes() == before  # refused before anything was written
    renamed = sn.Space([sn.oneof(list(range(6)), name="a"), sn.oneof(list(range(6)), name="c")])
    with pytest.raises(StoreError, match=r"decisions added: c at \[1\]; decisions removed: b at \[1\]"):
        sn.Study(renamed, _evo(), store=SQLiteStore(path), name="x")


def test_another_algorithm_is_an_error_not_a_key_error(tmp_path):
    path = tmp_path / "s.db"
    sn.Study(_space(), _evo(), store=SQLiteStore(path), name="x").optimize(_fn, n_trials=5)
    with pytest.raises(StoreError, match=r"run with RegularizedEvolution\(.*\), not RandomSearch.*switch_algorithm"):
        sn.Study(_space(), sn.algorithms.RandomSearch(seed=0), store=SQLiteStore(path), name="x")
    with pytest.raises(StoreError, match="population_size=4 stored, 5 now"):
        sn.Study(_space(), _evo(population_size=5), store=SQLiteStore(path), name="x")


def test_switching_algorithm_explicitly_continues_and_resumes_exactly(tmp_path):
    def switched(path: Path) -> sn.Study:
        return sn.Study(_space(), sn.algorithms.RandomSearch(seed=1), store=SQLiteStore(path), name="x",
                        switch_algorithm=True)

    runs = []
    for name, parts in (("one.db", [8]), ("two.db", [4, 4])):
        path = tmp_path / name
        sn.Study(_space(), _evo(), store=SQLiteStore(path), name="x").optimize(_fn, n_trials=6)
        study = switched(path)
        assert any("continues under RandomSearch (was RegularizedEvolution)" in n for n in study.notes)
        study.optimize(_fn, n_trials=parts[0])
        for n in parts[1:]:  # reopened under the new algorithm: no switch needed, and it resumes exactly
            study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=1), store=SQLiteStore(path), name="x")
            assert study.notes == []
            study.optimize(_fn, n_trials=n)
        runs.append([r.genome for r in study.records])
        meta = SQLiteStore(path).study_meta("x")
        assert meta["algorithm"] == "RandomSearch" and meta["algorithm_history"][0]["algorithm"] == \
            "RegularizedEvolution"
        with pytest.raises(StoreError, match="run with RandomSearch"):
            sn.Study(_space(), _evo(), store=SQLiteStore(path), name="x")
    assert len(runs[0]) == 14 and runs[0] == runs[1]


def test_a_new_seed_on_resume_is_reported(tmp_path, caplog):
    path = tmp_path / "s.db"
    sn.Study(_space(), _evo(seed=4), store=SQLiteStore(path), name="x").optimize(_fn, n_trials=3)
    with caplog.at_level(logging.WARNING, logger="symnas.study"):
        s = sn.Study(_space(), _evo(seed=9), store=SQLiteStore(path), name="x")
    assert len(s.notes) == 1 and "created with seed 4: the new seed 9 is not used" in s.notes[0]
    assert "seed 9 is not used" in caplog.text
    assert sn.Study(_space(), _evo(seed=4), store=SQLiteStore(path), name="x").notes == []


def test_cli_reports_a_changed_seed_and_refuses_another_algorithm(tmp_path):
    db = tmp_path / "c.db"
    root = Path(__file__).resolve().parents[1]

    def search(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "symnas.cli.main", "search", "nasbench201", "--benchmark",
                               "nasbench201", "--trials", "4", "--store", str(db), "--progress", "off", *extra],
                              cwd=root, capture_output=True, text=True, timeout=300)

    assert search("--seed", "1").returncode == 0
    p = search("--seed", "2", "--trials", "5")
    assert p.returncode == 0 and "the new seed 2 is not used" in p.stderr
    p = search("--algorithm", "evolution", "--trials", "6")
    assert p.returncode == 1 and len(p.stderr.strip().splitlines()) == 1 and "--switch-algorithm" in p.stderr
    p = search("--algorithm", "evolution", "--trials", "6", "--switch-algorithm")
    assert p.returncode == 0 and "continues under RegularizedEvolution" in p.stderr


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_schema_1_store_of_the_previous_release_is_migrated(tmp_path):
    path = tmp_path / "old.db"
    shutil.copy(DATA / "store_v1.db", path)
    db = sqlite3.connect(path)  # the running trial's owner: a dead process on this host
    db.execute("UPDATE trials SET user_attrs=json_set(user_attrs, '$.owner', ?)", (f"{socket.gethostname()}:"
                                                                                  f"{_dead_pid()}",))
    db.commit()
    db.close()
    ro = SQLiteStore(path, read_only=True)  # read as it is, without migrating
    assert ro.version == 1 and ro.trials("old")[0].user_attrs == {"note": "n0"}
    assert "owner" in ro.trials("old")[0].system_attrs
    ro.close()
    space = sn.Space([sn.oneof(list(range(6)), name="a"), sn.oneof(list(range(6)), name="b")])
    store = SQLiteStore(path)
    assert store.version == SCHEMA_VERSION
    db = sqlite3.connect(path)
    assert db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    assert db.execute("SELECT COUNT(*) FROM trials WHERE user_attrs LIKE '%owner%'").fetchone() == (0,)
    db.close()
    from symnas.hash.dedup import Dedup

    study = sn.Study(space, sn.algorithms.RandomSearch(seed=3), store=store, name="old",
                     dedup=Dedup(key="genome", cache=store.cache("old")))
    assert len(study.records) == 11 and study.stats["evaluations"] == 8 and study.stats["cached"] == 2
    assert study.records[10].state is TrialState.INTERRUPTED and study.stats["requeued"] == 1
    assert study.records[0].user_attrs == {"note": "n0"}
    assert study.ask().genome == study.records[10].genome  # the interrupted candidate first


def test_optimize_logs_each_failure_and_catch_works_like_optuna(caplog):
    def boom(t):
        if t.number % 2:
            raise ValueError(f"bad {t.number}")
        return float("nan") if t.number == 2 else 1.0

    study = sn.Study(_space())
    with caplog.at_level(logging.WARNING, logger="symnas.study"):
        study.optimize(boom, n_trials=4, catch=ValueError)
    lines = [r.getMessage() for r in caplog.records if r.name == "symnas.study"]
    assert lines == ["trial 1 failed: ValueError: bad 1", f"trial 2 failed: {study.records[2].error.splitlines()[0]}",
                     "trial 3 failed: ValueError: bad 3"]
    with pytest.raises(ValueError, match="bad 5"):  # not caught: recorded, then re-raised
        study.optimize(boom, n_trials=2, catch=(KeyError,))
    assert study.records[5].state is TrialState.FAILED
    with pytest.raises(TrialError, match="exception classes"):
        study.optimize(boom, n_trials=1, catch=("ValueError",))  # type: ignore[arg-type]
