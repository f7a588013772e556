"""The durable store: one SQLite file (standard library, WAL, ``synchronous=NORMAL``).

It keeps studies, trials (genome, description JSON, hash key, values, status, timings, error text, user attributes,
intermediate values), algorithm snapshots and the dedup cache (:class:`SQLiteCache`, the ``HashCache`` protocol of
:mod:`symnas.hash.cache`). Everything is stored as JSON text: reading a store never imports or executes code.

Every write commits before it returns, so a told result is durable (against a crash of the process) before the
algorithm sees it. Several processes may write one file: :meth:`SQLiteStore.add_trial` assigns the trial number
inside an ``IMMEDIATE`` transaction; when another writer took the number the study proposed, the record is
renumbered in place (``record.number`` is updated) and the trial is stored under the next free number.

Example::

    store = SQLiteStore("runs.db")
    study = sn.Study(space, store=store, name="nb201")        # reopening the file resumes the study
    study.optimize(evaluate, n_trials=100)
    dedup = Dedup(key="structural", cache=store.cache("nb201"))
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
import threading
import time
from typing import Any, Iterator, Optional

from symnas.errors import StoreError
from symnas.store.base import TrialRecord

__all__ = ["SQLiteStore", "SQLiteCache"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY, space TEXT NOT NULL, objectives TEXT NOT NULL, algorithm TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL, number INTEGER NOT NULL, genome TEXT NOT NULL, state TEXT NOT NULL, "values" TEXT,
    error TEXT, hash_key TEXT, asked_at INTEGER NOT NULL, told_at INTEGER, started REAL, finished REAL,
    duration REAL, intermediate TEXT NOT NULL DEFAULT '[]', user_attrs TEXT NOT NULL DEFAULT '{}',
    description TEXT, PRIMARY KEY (study, number));
CREATE TABLE IF NOT EXISTS algorithm_state (
    study TEXT PRIMARY KEY, state TEXT NOT NULL, event INTEGER NOT NULL, saved REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hash_cache (
    namespace TEXT NOT NULL, key TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_VERSION = "1"
_COLUMNS = ("number, genome, state, \"values\", error, hash_key, asked_at, told_at, started, finished, duration, "
            "intermediate, user_attrs, description")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True, default=repr)


def _genome(text: str) -> tuple:
    def tup(x: Any) -> Any:
        return tuple(tup(v) for v in x) if isinstance(x, list) else x

    return tup(json.loads(text))


class SQLiteStore:
    """A :class:`~symnas.store.base.Storage` in one SQLite file (created if missing).

    Args:
      path: the database file (``":memory:"`` works, for tests).
      timeout: seconds a writer waits for another writer's lock before failing with :class:`StoreError`.

    Example::

        >>> store = SQLiteStore(":memory:")
        >>> store.open_study("s", space={}, objectives={"value": "max"}, algorithm="RandomSearch")
        >>> store.studies()
        ['s']
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 60.0) -> None:
        self.path = os.fspath(path)
        self._lock = threading.RLock()  # one connection, shared by the run loop's threads
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            with self._tx():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (_VERSION,))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"SQLiteStore({self.path!r}): cannot open the store: {exc}") from None

    # -- plumbing -----------------------------------------------------------------------------------------
    def _tx(self) -> "_Transaction":
        return _Transaction(self)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"SQLiteStore({self.path!r}): read failed: {exc}") from None

    def close(self) -> None:
        """Closes the connection (the file stays consistent whether or not this is called)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict:  # a store travels to worker processes as its path
        return {"path": self.path}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    # -- Storage protocol ---------------------------------------------------------------------------------
    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str) -> None:
        with self._tx() as db:
            row = db.execute("SELECT objectives FROM studies WHERE name=?", (study,)).fetchone()
            if row is None:
                db.execute("INSERT INTO studies VALUES (?,?,?,?,?)",
                           (study, _dumps(space), _dumps(objectives), algorithm, time.time()))
            elif json.loads(row[0]) != objectives:
                raise StoreError(f"SQLiteStore({self.path!r}): study {study!r} exists with objectives "
                                 f"{json.loads(row[0])}, not {objectives}")

    def add_trial(self, study: str, record: TrialRecord) -> None:
        with self._tx() as db:
            (nxt,) = db.execute("SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study=?", (study,)).fetchone()
            if record.number != nxt:
                if record.number < nxt:
                    record.number = nxt  # another writer took this number: take the next free one
                else:
                    raise StoreError(f"SQLiteStore({self.path!r}): study {study!r}: trial number {record.number} "
                                     f"out of sequence ({nxt} stored)")
            db.execute(f"INSERT INTO trials ({_COLUMNS}, study) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       self._row(record) + (study,))

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE trials SET genome=?, state=?, \"values\"=?, error=?, hash_key=?, asked_at=?, told_at=?, "
                "started=?, finished=?, duration=?, intermediate=?, user_attrs=?, "
                "description=COALESCE(?, description) WHERE study=? AND number=?",
                self._row(record)[1:] + (study, record.number))
            if cur.rowcount != 1:
                raise StoreError(f"SQLiteStore({self.path!r}): study {study!r} has no trial {record.number}")

    def report(self, study: str, number: int, step: int, value: float) -> None:
        with self._tx() as db:
            row = db.execute("SELECT intermediate FROM trials WHERE study=? AND number=?", (study, number)).fetchone()
            if row is None:
                raise StoreError(f"SQLiteStore({self.path!r}): study {study!r} has no trial {number}")
            inter = json.loads(row[0]) + [[int(step), float(value)]]
            db.execute("UPDATE trials SET intermediate=? WHERE study=? AND number=?", (_dumps(inter), study, number))

    def trials(self, study: str) -> list[TrialRecord]:
        rows = self._query(f"SELECT {_COLUMNS} FROM trials WHERE study=? ORDER BY number", (study,))
        return [self._record(r) for r in rows]

    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        try:
            text = json.dumps(state, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"SQLiteStore: the algorithm state of study {study!r} is not JSON-serialisable: "
                             f"{exc}") from None
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO algorithm_state VALUES (?,?,?,?)", (study, text, event, time.time()))

    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        rows = self._query("SELECT state, event FROM algorithm_state WHERE study=?", (study,))
        return (json.loads(rows[0][0]), int(rows[0][1])) if rows else None

    def studies(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM studies ORDER BY created, name")]

    def study_meta(self, study: str) -> dict[str, Any]:
        """``{'space': dict, 'objectives': dict, 'algorithm': str, 'created': float}`` of a study."""
        rows = self._query("SELECT space, objectives, algorithm, created FROM studies WHERE name=?", (study,))
        if not rows:
            raise StoreError(f"SQLiteStore({self.path!r}): no study named {study!r} (have: {self.studies()})")
        space, objectives, algorithm, created = rows[0]
        return {"space": json.loads(space), "objectives": json.loads(objectives), "algorithm": algorithm,
                "created": created}

    def cache(self, namespace: str = "default") -> "SQLiteCache":
        """The dedup cache kept in this file under ``namespace`` (a :class:`~symnas.hash.cache.HashCache`)."""
        return SQLiteCache(self, namespace)

    # -- rows ---------------------------------------------------------------------------------------------
    @staticmethod
    def _row(r: TrialRecord) -> tuple:
        values = None if r.values is None else _dumps([float(v) for v in r.values])
        return (r.number, _dumps(list(r.genome)), r.state, values, r.error, r.hash_key, r.asked_at, r.told_at,
                r.started, r.finished, r.duration, _dumps([list(x) for x in r.intermediate]), _dumps(r.user_attrs),
                r.description)

    @staticmethod
    def _record(row: tuple) -> TrialRecord:
        (number, genome, state, values, error, hash_key, asked_at, told_at, started, finished, duration, inter,
         attrs, desc) = row
        return TrialRecord(number=number, genome=_genome(genome), state=state,
                           values=None if values is None else tuple(json.loads(values)), error=error,
                           hash_key=hash_key, asked_at=asked_at, told_at=told_at, started=started or 0.0,
                           finished=finished, duration=duration,
                           intermediate=[(int(s), float(v)) for s, v in json.loads(inter)],
                           user_attrs=json.loads(attrs), description=desc)


class _Transaction:
    """``with store._tx() as db:`` runs the block in one IMMEDIATE transaction and commits on exit."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        try:
            self.store._db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            self.store._lock.release()
            raise StoreError(f"SQLiteStore({self.store.path!r}): cannot start a write: {exc}") from None
        return self.store._db

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self.store._db
        try:
            if exc_type is None:
                try:
                    db.execute("COMMIT")
                except sqlite3.DatabaseError as e:
                    db.execute("ROLLBACK")
                    raise StoreError(f"SQLiteStore({self.store.path!r}): commit failed: {e}") from None
            else:
                db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.DatabaseError):
                    raise StoreError(f"SQLiteStore({self.store.path!r}): write failed: {exc}") from None
        finally:
            self.store._lock.release()


class SQLiteCache:
    """The dedup cache (``HashCache``: get / put / delete / items) in a store's ``hash_cache`` table.

    Example::

        >>> from symnas.hash.cache import Entry
        >>> c = SQLiteStore(":memory:").cache("nb201")
        >>> c.put("k", Entry.first_of((0.9,), seconds=2.0)); c.get("k").mean()
        (0.9,)
    """

    def __init__(self, store: SQLiteStore, namespace: str = "default") -> None:
        self.store, self.namespace = store, namespace

    def get(self, key: str) -> Optional[Any]:
        from symnas.hash.cache import Entry

        rows = self.store._query("SELECT entry FROM hash_cache WHERE namespace=? AND key=?", (self.namespace, key))
        return Entry.from_dict(json.loads(rows[0][0])) if rows else None

    def put(self, key: str, entry: Any) -> None:
        d = entry.to_dict()
        if any(not math.isfinite(v) for v in d["first"]):
            raise StoreError(f"SQLiteCache.put({key!r}): non-finite values are not cached: {d['first']}")
        with self.store._tx() as db:
            db.execute("INSERT OR REPLACE INTO hash_cache VALUES (?,?,?)", (self.namespace, key, _dumps(d)))

    def delete(self, key: str) -> None:
        with self.store._tx() as db:
            db.execute("DELETE FROM hash_cache WHERE namespace=? AND key=?", (self.namespace, key))

    def items(self) -> Iterator[tuple[str, Any]]:
        from symnas.hash.cache import Entry

        rows = self.store._query("SELECT key, entry FROM hash_cache WHERE namespace=? ORDER BY key",
                                 (self.namespace,))
        return iter([(k, Entry.from_dict(json.loads(e))) for k, e in rows])

    def __len__(self) -> int:
        return int(self.store._query("SELECT COUNT(*) FROM hash_cache WHERE namespace=?", (self.namespace,))[0][0])
