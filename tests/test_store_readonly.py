"""Commands that only read (``show``, ``export``, ``plot``) open stores read-only and leave them byte-identical, on
good, damaged and foreign files alike; broken files, newer schemas, a full disk and invalid rows are clear
one-line errors."""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import symnas as sn
from symnas.cli.main import main
from symnas.errors import StoreError
from symnas.report import load_study
from symnas.store.base import TrialRecord
from symnas.store.sqlite import SCHEMA_VERSION, SQLiteStore

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def _study_file(path: Path) -> Path:
    from symnas.hash.dedup import Dedup

    store = SQLiteStore(path)
    space = sn.Space({"a": sn.oneof([0, 1, 2, 3]), "b": sn.oneof([0, 1, 2])})
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0), objectives={"acc": "max", "lat": "min"},
                     store=store, name="s", dedup=Dedup(key="genome", cache=store.cache("s")))
    study.optimize(lambda t: {"acc": float(t.genome[0]), "lat": float(t.genome[1])}, n_trials=8)
    store.close()
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("ro")
    good = _study_file(d / "good.db")
    out: dict[str, Path] = {"good": good}
    (d / "empty.db").write_bytes(b"")
    out["empty"] = d / "empty.db"
    (d / "junk.db").write_bytes(bytes(range(256)) * 40)
    out["junk"] = d / "junk.db"
    damaged = d / "damaged.db"
    data = bytearray(good.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # a page of the store overwritten
    damaged.write_bytes(bytes(data))
    out["damaged"] = damaged
    foreign = sqlite3.connect(d / "foreign.db")
    foreign.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    foreign.execute("INSERT INTO contacts VALUES ('ada', '123')")
    foreign.commit()
    foreign.close()
    out["foreign"] = d / "foreign.db"
    newer = d / "newer.db"
    shutil.copy(good, newer)
    db = sqlite3.connect(newer)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    db.close()
    out["newer"] = newer
    readonly = d / "readonly.db"
    shutil.copy(good, readonly)
    os.chmod(readonly, stat.S_IRUSR | stat.S_IRGRP)
    out["readonly"] = readonly
    old = d / "v1.db"
    shutil.copy(DATA / "store_v1.db", old)
    out["v1"] = old
    return out


def _state(directory: Path) -> dict[str, str]:
    """Checksums of every file in the directory (side files such as -wal/-shm included)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir()) if p.is_file()}


EXPECTED = {  # what each reader says about each file (None: it succeeds)
    "good": None, "readonly": None, "v1": None,
    "empty": "not a symnas store (an empty file)",
    "junk": "not a database",
    "damaged": "malformed",
    "foreign": "not a symnas store (an SQLite database with tables contacts)",
    "newer": "written by a newer symnas (schema_version 99",
}


@pytest.mark.parametrize("command", ["show", "export", "plot"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_readers_leave_every_store_byte_identical(files, kind, command, tmp_path, capsys):
    path = files[kind]
    before = _state(path.parent)
    args = [command, str(path)] + (["-o", str(tmp_path / "p.png")] if command == "plot" else [])
    rc = main(args)
    err = capsys.readouterr().err
    assert _state(path.parent) == before, f"{command} changed {kind}"
    expected = EXPECTED[kind]
    if expected is None:
        assert rc == 0, err
    else:
        assert rc == 1 and expected in err and err.count("\n") == 1 and err.startswith(f"symnas {command}: error:")


def test_cli_failure_is_one_line_in_a_real_process(files, tmp_path):
    for kind in ("junk", "newer"):
        p = subprocess.run([sys.executable, "-m", "symnas.cli.main", "show", str(files[kind])], cwd=ROOT,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True, timeout=300)
        assert p.returncode == 1 and p.stderr.count("\n") == 1 and "Traceback" not in p.stderr, p.stderr
    assert main(["export", str(files["good"]), "-o", str(tmp_path / "no" / "such" / "dir.txt")]) == 1


def test_writable_opening_refuses_foreign_and_newer_files_without_writing(files, tmp_path):
    for kind, message in (("foreign", "not a symnas store"), ("newer", "newer symnas"), ("junk", "not a database")):
        path = tmp_path / f"{kind}.db"
        shutil.copy(files[kind], path)
        before = _state(tmp_path)
        with pytest.raises(StoreError, match=message):
            SQLiteStore(path)
        assert _state(tmp_path) == before
    db = sqlite3.connect(tmp_path / "foreign.db")
    assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["contacts"]  # no new tables


def test_a_read_only_handle_never_writes(files):
    store = SQLiteStore(files["good"], read_only=True)
    assert store.supports("read_only") and store.trials("s") and store.study_meta("s")["algorithm"]
    for write in (lambda: store.add_trial("s", TrialRecord(number=99, genome=(0, 0))),
                  lambda: store.save_algorithm_state("s", {}, 1), lambda: store.cache("s").put("k", {}),
                  lambda: store.update_study_meta("s", {"x": 1})):
        with pytest.raises(StoreError, match="read-only"):
            write()
    with pytest.raises(StoreError, match="no such store file"):
        SQLiteStore(files["good"].parent / "missing.db", read_only=True)
    assert not (files["good"].parent / "missing.db").exists()


def test_reading_while_a_writer_has_the_store_open(tmp_path):
    path = _study_file(tmp_path / "live.db")
    store = SQLiteStore(path)  # a search still running: its connection holds the WAL
    space = sn.Space({"a": sn.oneof([0, 1, 2, 3]), "b": sn.oneof([0, 1, 2])})
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0), objectives={"acc": "max", "lat": "min"},
                     store=store, name="s")
    study.optimize(lambda t: (1.0, 2.0), n_trials=2)
    assert len(load_study(str(path)).records) == len(study.records)
    store.close()


def test_a_full_disk_is_a_clear_error_and_loses_nothing(tmp_path):
    path = tmp_path / "full.db"
    store = SQLiteStore(path)
    store.open_study("s", space={}, objectives={"v": "max"}, algorithm="R")
    store.add_trial("s", TrialRecord(number=0, genome=(1,)))
    (pages,) = store._db.execute("PRAGMA page_count").fetchone()  # the file may not grow: as on a full disk
    store._db.execute(f"PRAGMA max_page_count={pages}")
    big = TrialRecord(number=1, genome=(2,), user_attrs={"blob": "x" * 200_000})
    with pytest.raises(StoreError, match=r"full\.db: write failed, nothing written: database or disk is full") as e:
        store.add_trial("s", big)
    assert "cannot rollback" not in str(e.value)
    assert [r.number for r in store.trials("s")] == [0]
    store.add_trial("s", TrialRecord(number=1, genome=(3,)))  # a small write still fits: the store is usable
    assert [r.genome for r in SQLiteStore(path).trials("s")] == [(1,), (3,)]


@pytest.mark.parametrize("column, text, message", [
    ('"values"', "{not json", "study 's' trial 1 values: invalid JSON"),
    ("user_attrs", "[1, 2", "study 's' trial 1 user_attrs: invalid JSON"),
    ("state", "exploded", "study 's' trial 1: invalid row"),
    ("genome", "7", "study 's' trial 1: invalid row"),
])
def test_an_invalid_row_is_a_clear_error(tmp_path, capsys, column, text, message):
    path = _study_file(tmp_path / "bad.db")
    db = sqlite3.connect(path)
    db.execute(f"UPDATE trials SET {column}=? WHERE number=1", (text,))
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=message.replace("(", r"\(")):
        SQLiteStore(path).trials("s")
    assert main(["show", str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_schema_version_is_recorded(tmp_path):
    store = SQLiteStore(tmp_path / "n.db")
    (v,) = store._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    assert int(v) == SCHEMA_VERSION == store.version


def test_a_store_left_by_a_killed_writer_is_read_with_its_wal_and_left_as_it_is(tmp_path):
    path = tmp_path / "k.db"
    code = ("import os, symnas as sn\nfrom symnas.store.sqlite import SQLiteStore\n"
            f"st = SQLiteStore({str(path)!r})\n"
            "s = sn.Study(sn.Space([sn.oneof([1, 2, 3])]), store=st, name='x')\n"
            "s.optimize(lambda t: 1.0, n_trials=7)\nos._exit(0)  # no close, no checkpoint: the trials are in the WAL\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True,
                   timeout=300)
    wal = Path(str(path) + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    before = _state(tmp_path)
    assert len(load_study(str(path)).records) == 7
    after = _state(tmp_path)
    # the database and its WAL are untouched (SQLite's shared-memory index, k.db-shm, is not data)
    assert {k: v for k, v in after.items() if not k.endswith("-shm")} == \
        {k: v for k, v in before.items() if not k.endswith("-shm")}


def test_an_immutable_reader_notices_a_writer_that_started_meanwhile(tmp_path):
    path = _study_file(tmp_path / "i.db")
    reader = SQLiteStore(path, read_only=True)
    assert reader.immutable and not reader.changed_since_open()
    writer = SQLiteStore(path)  # a search starts while the report reads
    writer.save_algorithm_state("s", {"x": 1}, 99)
    assert reader.changed_since_open()  # load_study then reads again without immutable=1
    assert not SQLiteStore(path, read_only=True).immutable  # the writer's WAL is there: locks are used
    writer.close()
    reader.close()
