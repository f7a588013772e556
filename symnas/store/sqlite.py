"""The durable store: one SQLite file (standard library, WAL, ``synchronous=NORMAL``).

It keeps studies (with their metadata), trials (genome, description JSON, hash key, values, status, timings, error
text, user and system attributes, intermediate values), algorithm snapshots and the dedup cache (capability
``"cache"``: :class:`SQLiteRecordCache`). Everything is stored as JSON text: reading a store never imports or
executes code.

Every write commits before it returns, so a told result is durable (against a crash of the process) before the
algorithm sees it. Several processes may write one file: :meth:`SQLiteStore.add_trial` assigns the trial number
inside an ``IMMEDIATE`` transaction; when another writer took the number the study proposed, the record is
renumbered in place (``record.number`` is updated) and the trial is stored under the next free number.

``SQLiteStore(path, read_only=True)`` opens with a ``mode=ro`` URI: nothing is created, migrated or switched (no
schema, no journal mode), so the file stays byte-identical; the reports (``symnas show|export|plot``) open stores
this way. When no other connection has the file open (no ``-wal``/``-shm`` beside it) the URI adds
``immutable=1``, so that not even SQLite's side files are created; :meth:`SQLiteStore.changed_since_open` then
tells whether a writer changed the file meanwhile (the reader opens it again without ``immutable``). A file that
is not a symnas store, or one written by a newer symnas, is refused in either mode before anything is written.
Stores of schema version 1 are migrated (in one transaction) when opened for writing and read as they are when
opened read-only.

Example::

    store = SQLiteStore("runs.db")
    study = sn.Study(space, store=store, name="nb201")        # reopening the file resumes the study
    study.optimize(evaluate, n_trials=100)
    dedup = Dedup(key="structural", cache=store.cache("nb201"))
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import urllib.parse
from typing import Any, Iterator, Optional

from symnas.errors import StoreError
from symnas.store.base import SYSTEM_ATTRS, RecordCache, Storage, TrialRecord, TrialState

__all__ = ["SQLiteStore", "SQLiteRecordCache", "SCHEMA_VERSION"]

#: The schema this version writes. 1: the first release; 2: ``trials.system_attrs``, ``studies.meta``.
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS studies (
    name TEXT PRIMARY KEY, space TEXT NOT NULL, objectives TEXT NOT NULL, algorithm TEXT NOT NULL,
    created REAL NOT NULL, meta TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS trials (
    study TEXT NOT NULL, number INTEGER NOT NULL, genome TEXT NOT NULL, state TEXT NOT NULL, "values" TEXT,
    error TEXT, hash_key TEXT, asked_at INTEGER NOT NULL, told_at INTEGER, started REAL, finished REAL,
    duration REAL, intermediate TEXT NOT NULL DEFAULT '[]', user_attrs TEXT NOT NULL DEFAULT '{}',
    description TEXT, system_attrs TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (study, number));
CREATE TABLE IF NOT EXISTS algorithm_state (
    study TEXT PRIMARY KEY, state TEXT NOT NULL, event INTEGER NOT NULL, saved REAL NOT NULL);
CREATE TABLE IF NOT EXISTS hash_cache (
    namespace TEXT NOT NULL, key TEXT NOT NULL, entry TEXT NOT NULL, PRIMARY KEY (namespace, key));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_TABLES = ("studies", "trials", "algorithm_state", "hash_cache", "meta")
_COLUMNS = ("number, genome, state, \"values\", error, hash_key, asked_at, told_at, started, finished, duration, "
            "intermediate, user_attrs, description, system_attrs")
_COLUMNS_V1 = _COLUMNS.replace("system_attrs", "'{}'")  # read-only view of a version-1 store


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=True, default=repr)


def _tuples(x: Any) -> Any:
    return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def _split_legacy(user_attrs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Version 1 kept the system bookkeeping in ``user_attrs``: ``(user, system)``."""
    system = {k: user_attrs[k] for k in SYSTEM_ATTRS if k in user_attrs}
    return ({k: v for k, v in user_attrs.items() if k not in system}, system) if system else (user_attrs, {})


class SQLiteStore(Storage):
    """A :class:`~symnas.store.base.Storage` in one SQLite file (created if missing, unless ``read_only``).

    Args:
      path: the database file (``":memory:"`` works, for tests).
      timeout: seconds a writer waits for another writer's lock before failing with :class:`StoreError`.
      read_only: open with a ``mode=ro`` URI and never write (every write raises :class:`StoreError`).
      immutable: with ``read_only``, add ``immutable=1`` to the URI (``None``: when no ``-wal``/``-shm`` file
        exists, i.e. no other connection has the store open).

    One handle may be shared by the threads of a process (one connection behind a lock); several processes may
    open the same file (capability ``"multi_process"``).

    Example::

        >>> store = SQLiteStore(":memory:")
        >>> store.open_study("s", space={}, objectives={"value": "max"}, algorithm="RandomSearch")
        >>> store.studies()
        ['s']
    """

    def __init__(self, path: str | os.PathLike, *, timeout: float = 60.0, read_only: bool = False,
                 immutable: Optional[bool] = None) -> None:
        self.path = os.fspath(path)
        self.immutable = bool(read_only and (immutable if immutable is not None else not any(
            os.path.exists(self.path + tail) for tail in ("-wal", "-shm", "-journal"))))
        self._stat: Optional[tuple] = None
        self._last_system: tuple[dict, str] = ({}, "{}")
        self.timeout, self.read_only = timeout, read_only
        self.capabilities = frozenset({"cache", "durable", "multi_process"} | ({"read_only"} if read_only else set()))
        self._lock = threading.RLock()  # one connection, shared by the run loop's threads
        self._db: Optional[sqlite3.Connection] = None
        try:
            self._db = self._connect()
            self.version = self._check()
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                if self.version is None:
                    self._create()
                elif self.version < SCHEMA_VERSION:
                    self._migrate(self.version)
                self.version = SCHEMA_VERSION
        except sqlite3.DatabaseError as exc:
            self._abandon()
            raise StoreError(f"{self.path}: cannot open the store: {_reason(exc)}") from None
        except StoreError:
            self._abandon()
            raise
        self._columns = _COLUMNS if self.version == SCHEMA_VERSION else _COLUMNS_V1

    # -- opening ------------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        if not self.read_only:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        else:
            if self.path == ":memory:" or not os.path.isfile(self.path):
                raise StoreError(f"{self.path}: no such store file")
            uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=ro"
            if self.immutable:
                uri += "&immutable=1"
                self._stat = self._file_stat()
            db = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout={int(self.timeout * 1000)}")
        return db

    def _file_stat(self) -> tuple:
        st = os.stat(self.path)
        return st.st_size, st.st_mtime_ns, st.st_ino

    def changed_since_open(self) -> bool:
        """True if the store was opened ``immutable`` and a writer has changed the file (or started) since: what
        was read may be inconsistent; open it again with ``immutable=False``."""
        if self._stat is None:
            return False
        try:
            started = any(os.path.exists(self.path + tail) for tail in ("-wal", "-journal"))
            return started or self._file_stat() != self._stat
        except OSError:
            return True

    def _check(self) -> Optional[int]:
        """The file's schema version, ``None`` for an empty database; refuses foreign and newer files."""
        assert self._db is not None
        if self.read_only and os.path.getsize(self.path) == 0:
            raise StoreError(f"{self.path}: not a symnas store (an empty file)")
        tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            if self.read_only:
                raise StoreError(f"{self.path}: not a symnas store (an SQLite database without tables)")
            return None
        row = None
        if "meta" in tables:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        missing = [t for t in _TABLES if t not in tables]
        if row is None or missing:
            raise StoreError(f"{self.path}: not a symnas store (an SQLite database with tables "
                             f"{', '.join(sorted(tables))}); give a new file name")
        try:
            version = int(row[0])
        except (TypeError, ValueError):
            raise StoreError(f"{self.path}: not a symnas store (schema_version {row[0]!r})") from None
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by a newer symnas (schema_version {version}; this version reads "
                             f"1 to {SCHEMA_VERSION}); upgrade symnas to open it")
        if version < 1:
            raise StoreError(f"{self.path}: not a symnas store (schema_version {version})")
        return version

    def _create(self) -> None:
        with self._tx() as db:
            for stmt in _SCHEMA.split(";"):
                if stmt.strip():
                    db.execute(stmt)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _migrate(self, version: int) -> None:
        """Version 1 → 2 in one transaction: new columns; system bookkeeping moved out of ``user_attrs``."""
        with self._tx() as db:
            (now,) = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            if int(now) >= SCHEMA_VERSION:  # another process migrated it meanwhile
                return
            db.execute("ALTER TABLE studies ADD COLUMN meta TEXT NOT NULL DEFAULT '{}'")
            db.execute("ALTER TABLE trials ADD COLUMN system_attrs TEXT NOT NULL DEFAULT '{}'")
            rows = db.execute("SELECT study, number, user_attrs FROM trials").fetchall()
            for study, number, attrs in rows:
                user, system = _split_legacy(_load(attrs, self.path, f"study {study!r} trial {number} user_attrs"))
                if system:
                    db.execute("UPDATE trials SET user_attrs=?, system_attrs=? WHERE study=? AND number=?",
                               (_dumps(user), _dumps(system), study, number))
            db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))

    def _abandon(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:  # pragma: no cover - closing a broken connection
                pass
            self._db = None

    # -- plumbing -----------------------------------------------------------------------------------------
    def _tx(self) -> "_Transaction":
        if self.read_only:
            raise StoreError(f"{self.path}: the store is open read-only")
        return _Transaction(self)

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._db is None:
                raise StoreError(f"{self.path}: the store is closed")
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{self.path}: read failed: {_reason(exc)}") from None

    def close(self) -> None:
        """Closes the connection (the file stays consistent whether or not this is called)."""
        with self._lock:
            self._abandon()

    def __enter__(self) -> "SQLiteStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict:  # a store travels to worker processes as its path
        return {"path": self.path, "timeout": self.timeout, "read_only": self.read_only}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], timeout=state.get("timeout", 60.0),  # type: ignore[misc]
                      read_only=state.get("read_only", False))

    # -- studies ------------------------------------------------------------------------------------------
    def open_study(self, study: str, *, space: dict, objectives: dict[str, str], algorithm: str,
                   meta: Optional[dict[str, Any]] = None) -> None:
        if self.read_only:
            if study not in self.studies():
                raise StoreError(f"{self.path}: no study named {study!r} (the store is open read-only)")
            return
        with self._tx() as db:
            row = db.execute("SELECT objectives FROM studies WHERE name=?", (study,)).fetchone()
            if row is None:
                db.execute("INSERT INTO studies VALUES (?,?,?,?,?,?)", (study, _dumps(space), _dumps(objectives),
                                                                       algorithm, time.time(), _dumps(meta or {})))
            else:
                stored = _load(row[0], self.path, f"study {study!r} objectives")
                if stored != objectives:
                    raise StoreError(f"{self.path}: study {study!r} exists with objectives {stored}, not {objectives}")

    def study_meta(self, study: str) -> dict[str, Any]:
        """``{'space': dict, 'objectives': dict, 'algorithm': str, 'created': float, **meta}`` of a study."""
        meta_col = "meta" if self.version == SCHEMA_VERSION else "'{}'"
        rows = self._query(f"SELECT space, objectives, algorithm, created, {meta_col} FROM studies WHERE name=?",
                           (study,))
        if not rows:
            raise StoreError(f"{self.path}: no study named {study!r} (have: {self.studies()})")
        space, objectives, algorithm, created, meta = rows[0]
        where = f"study {study!r}"
        return {**_load(meta, self.path, f"{where} meta"), "space": _load(space, self.path, f"{where} space"),
                "objectives": _load(objectives, self.path, f"{where} objectives"), "algorithm": algorithm,
                "created": created}

    def update_study_meta(self, study: str, changes: dict[str, Any]) -> None:
        with self._tx() as db:
            row = db.execute("SELECT meta FROM studies WHERE name=?", (study,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no study named {study!r}")
            meta = {**_load(row[0], self.path, f"study {study!r} meta"), **changes}
            algorithm = meta.pop("algorithm", None)
            for k in ("space", "objectives", "created"):
                meta.pop(k, None)
            db.execute("UPDATE studies SET meta=? WHERE name=?", (_dumps(meta), study))
            if algorithm is not None:
                db.execute("UPDATE studies SET algorithm=? WHERE name=?", (str(algorithm), study))

    def studies(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM studies ORDER BY created, name")]

    # -- trials -------------------------------------------------------------------------------------------
    def add_trial(self, study: str, record: TrialRecord) -> None:
        with self._tx() as db:
            (nxt,) = db.execute("SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study=?", (study,)).fetchone()
            if record.number != nxt:
                if record.number < nxt:
                    record.number = nxt  # another writer took this number: take the next free one
                else:
                    raise StoreError(f"{self.path}: study {study!r}: trial number {record.number} out of sequence "
                                     f"({nxt} stored)")
            db.execute(f"INSERT INTO trials ({_COLUMNS}, study) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       self._row(record) + (study,))

    def finish_trial(self, study: str, record: TrialRecord) -> None:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE trials SET genome=?, state=?, \"values\"=?, error=?, hash_key=?, asked_at=?, told_at=?, "
                "started=?, finished=?, duration=?, intermediate=?, user_attrs=?, "
                "description=COALESCE(?, description), system_attrs=? WHERE study=? AND number=?",
                self._row(record)[1:] + (study, record.number))
            if cur.rowcount != 1:
                raise StoreError(f"{self.path}: study {study!r} has no trial {record.number}")

    def report(self, study: str, number: int, step: int, value: float) -> None:
        with self._tx() as db:
            row = db.execute("SELECT intermediate FROM trials WHERE study=? AND number=?", (study, number)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: study {study!r} has no trial {number}")
            inter = _load(row[0], self.path, f"study {study!r} trial {number} intermediate")
            inter.append([int(step), float(value)])
            db.execute("UPDATE trials SET intermediate=? WHERE study=? AND number=?", (_dumps(inter), study, number))

    def trials(self, study: str) -> list[TrialRecord]:
        rows = self._query(f"SELECT {self._columns} FROM trials WHERE study=? ORDER BY number", (study,))
        legacy = self.version != SCHEMA_VERSION
        return [self._record(r, study, legacy) for r in rows]

    # -- algorithm state ----------------------------------------------------------------------------------
    def save_algorithm_state(self, study: str, state: dict[str, Any], event: int) -> None:
        try:
            text = json.dumps(state, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise StoreError(f"{self.path}: the algorithm state of study {study!r} is not JSON-serialisable: "
                             f"{exc}") from None
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO algorithm_state VALUES (?,?,?,?)", (study, text, event, time.time()))

    def load_algorithm_state(self, study: str) -> Optional[tuple[dict[str, Any], int]]:
        rows = self._query("SELECT state, event FROM algorithm_state WHERE study=?", (study,))
        if not rows:
            return None
        return _load(rows[0][0], self.path, f"study {study!r} algorithm state"), int(rows[0][1])

    # -- capabilities -------------------------------------------------------------------------------------
    def cache(self, namespace: str = "default") -> "SQLiteRecordCache":
        """The dedup cache kept in this file under ``namespace`` (the ``hash_cache`` table)."""
        return SQLiteRecordCache(self, namespace)

    # -- rows ---------------------------------------------------------------------------------------------
    def _row(self, r: TrialRecord) -> tuple:
        values = None if r.values is None else _dumps([float(v) for v in r.values])
        sa, last = r.system_attrs, self._last_system[0]
        # most trials carry the same bookkeeping (the owner): JSON it once (equal values of equal types only)
        if sa != last or any(type(v) is not type(last[k]) for k, v in sa.items()):
            self._last_system = (dict(sa), _dumps(sa))
        # r.state binds as its text (a str subclass)
        return (r.number, _dumps(list(r.genome)), r.state, values, r.error, r.hash_key, r.asked_at, r.told_at,
                r.started, r.finished, r.duration, _dumps([list(x) for x in r.intermediate]) if r.intermediate
                else "[]", _dumps(r.user_attrs) if r.user_attrs else "{}", r.description, self._last_system[1])

    def _record(self, row: tuple, study: str, legacy: bool) -> TrialRecord:
        (number, genome, state, values, error, hash_key, asked_at, told_at, started, finished, duration, inter,
         attrs, desc, system) = row
        where = f"study {study!r} trial {number}"
        try:
            user_attrs, system_attrs = _load(attrs, self.path, f"{where} user_attrs"), _load(system, self.path,
                                                                                               f"{where} system_attrs")
            if legacy:
                user_attrs, system_attrs = _split_legacy(user_attrs)
            g = _tuples(_load(genome, self.path, f"{where} genome"))
            if not isinstance(g, tuple):
                raise TypeError(f"genome {genome!r} is not a list")
            return TrialRecord(number=number, genome=g,
                               state=TrialState(state),
                               values=None if values is None else tuple(_load(values, self.path, f"{where} values")),
                               error=error, hash_key=hash_key, asked_at=asked_at, told_at=told_at,
                               started=started or 0.0, finished=finished, duration=duration,
                               intermediate=[(int(s), float(v)) for s, v in _load(inter, self.path,
                                                                                  f"{where} intermediate")],
                               user_attrs=user_attrs, description=desc, system_attrs=system_attrs)
        except (TypeError, ValueError, AttributeError) as exc:  # a wrong type or state name in a row
            raise StoreError(f"{self.path}: {where}: invalid row ({type(exc).__name__}: {exc})") from None


def _load(text: Any, path: str, what: str) -> Any:
    """``json.loads`` of a stored column; invalid JSON is a :class:`StoreError` naming the row."""
    try:
        return json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"{path}: {what}: invalid JSON ({exc})") from None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    if "full" in text:  # SQLITE_FULL
        return f"{text} (the disk is full, or the database reached its size limit)"
    return text


class _Transaction:
    """``with store._tx() as db:`` runs the block in one IMMEDIATE transaction and commits on exit."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def __enter__(self) -> sqlite3.Connection:
        self.store._lock.acquire()
        db = self.store._db
        if db is None:
            self.store._lock.release()
            raise StoreError(f"{self.store.path}: the store is closed")
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            self.store._lock.release()
            raise StoreError(f"{self.store.path}: cannot start a write: {_reason(exc)}") from None
        return db

    def _rollback(self, db: sqlite3.Connection) -> None:
        if db.in_transaction:  # SQLite may have rolled back already (a full disk, an I/O error)
            try:
                db.execute("ROLLBACK")
            except sqlite3.DatabaseError:  # pragma: no cover - the transaction is gone either way
                pass

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        db = self.store._db
        assert db is not None
        try:
            if exc_type is None:
                try:
                    db.execute("COMMIT")
                except sqlite3.DatabaseError as e:
                    self._rollback(db)
                    raise StoreError(f"{self.store.path}: commit failed, nothing written: {_reason(e)}") from None
            else:
                self._rollback(db)
                if isinstance(exc, sqlite3.DatabaseError):
                    raise StoreError(f"{self.store.path}: write failed, nothing written: {_reason(exc)}") from None
        finally:
            self.store._lock.release()


class SQLiteRecordCache(RecordCache):
    """The dedup cache (capability ``"cache"``) in a store's ``hash_cache`` table: key → JSON dict.

    Example::

        >>> c = SQLiteStore(":memory:").cache("nb201")
        >>> c.put("k", {"first": [0.9]}); c.get("k"), len(c)
        ({'first': [0.9]}, 1)
    """

    def __init__(self, store: SQLiteStore, namespace: str = "default") -> None:
        self.store, self.namespace = store, namespace

    def get(self, key: str) -> Optional[dict[str, Any]]:
        rows = self.store._query("SELECT entry FROM hash_cache WHERE namespace=? AND key=?", (self.namespace, key))
        return _load(rows[0][0], self.store.path, f"cache {self.namespace!r} entry {key!r}") if rows else None

    def put(self, key: str, entry: dict[str, Any]) -> None:
        if not isinstance(entry, dict):
            raise StoreError(f"{self.store.path}: cache entry for {key!r} must be a dict, got {type(entry).__name__}")
        with self.store._tx() as db:
            db.execute("INSERT OR REPLACE INTO hash_cache VALUES (?,?,?)", (self.namespace, key, _dumps(entry)))

    def delete(self, key: str) -> None:
        with self.store._tx() as db:
            db.execute("DELETE FROM hash_cache WHERE namespace=? AND key=?", (self.namespace, key))

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        rows = self.store._query("SELECT key, entry FROM hash_cache WHERE namespace=? ORDER BY key",
                                 (self.namespace,))
        return iter([(k, _load(e, self.store.path, f"cache {self.namespace!r} entry {k!r}")) for k, e in rows])

    def __len__(self) -> int:
        return int(self.store._query("SELECT COUNT(*) FROM hash_cache WHERE namespace=?", (self.namespace,))[0][0])
