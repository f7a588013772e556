"""Reading a finished (or running) study out of a store: top-k table, statuses, dedup statistics.

Nothing here executes code from the store: trials are JSON rows; descriptions are decoded from the stored space
through the allow-list (targets stay import-path strings). Stores are opened read-only (``mode=ro``): reading
never changes a byte of the file, and a file that is not a symnas store (or a newer one) is a clear error.

Example::

    view = load_study("runs.db")            # the only study, or name=...
    print(show_text(view, top=10))
"""
from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Optional

from symnas.errors import StoreError, SymnasError
from symnas.store.base import TrialRecord, TrialState

__all__ = ["StudyView", "load_study", "show_text", "show_dict"]


@dataclass
class StudyView:
    """A study read from a store: name, objectives, space dict, trial records, dedup cache entries."""

    store_path: str
    name: str
    objectives: dict[str, str]
    algorithm: str
    space_dict: dict
    records: list[TrialRecord]
    cache_entries: list[tuple[str, Any]]

    @property
    def space(self) -> Any:
        from symnas.space.space import Space

        return Space.from_dict(self.space_dict)

    def ranked(self) -> list[TrialRecord]:
        """Complete and cached trials, best first on the first objective (ties: earlier first)."""
        sign = 1.0 if list(self.objectives.values())[0] == "max" else -1.0
        done = [r for r in self.records if r.state.has_values and r.values]
        return sorted(done, key=lambda r: (-sign * r.values[0], r.number))  # type: ignore[index]

    def best(self) -> TrialRecord:
        ranked = self.ranked()
        if not ranked:
            raise StoreError(f"{self.store_path}: study {self.name!r} has no completed trial")
        return ranked[0]

    def description(self, record: TrialRecord) -> Any:
        """The record's description (stored JSON, else decoded from the space)."""
        if record.description:
            from symnas.symbolic.jsonio import from_json

            return from_json(record.description)
        return self.space.decode(record.genome)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[str(r.state)] = out.get(str(r.state), 0) + 1
        return out

    def dedup_stats(self) -> dict[str, Any]:
        c = self.counts()
        cached = c.get(TrialState.CACHED, 0)
        evaluated = sum(c.get(s, 0) for s in (TrialState.COMPLETE, TrialState.FAILED, TrialState.PRUNED))
        by_number = {r.number: r for r in self.records}
        sources = [by_number.get(r.system_attrs.get("served_from")) for r in self.records
                   if r.state == TrialState.CACHED]
        if sources and all(src is not None for src in sources):   # the source's evaluation time only
            saved = sum(src.duration or 0.0 for src in sources if src is not None)
        else:
            saved = sum(e.hits * e.mean_seconds() for _, e in self.cache_entries)
        return {"dedup_hits": cached, "evaluations": evaluated,
                "hit_rate": cached / (cached + evaluated) if cached + evaluated else 0.0,
                "cache_entries": len(self.cache_entries), "seconds_saved": saved}


def load_study(path: str, name: Optional[str] = None) -> StudyView:
    """Reads study ``name`` (default: the only one, or the last created) from the SQLite store at ``path``.

    The file is opened read-only and left byte-identical. Raises :class:`StoreError` if the file does not exist
    (it is never created here), is not a symnas store, was written by a newer symnas, or has no such study.
    """
    from symnas.store.sqlite import SQLiteStore

    if not os.path.isfile(path):
        raise StoreError(f"{path}: no such store file")
    try:
        view = _read(SQLiteStore(path, read_only=True), path, name)
        if view is None:  # a writer changed the file while it was read without locks: read again, with locks
            view = _read(SQLiteStore(path, read_only=True, immutable=False), path, name)
    except StoreError:
        raise
    except (sqlite3.Error, ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError) as exc:
        raise StoreError(f"{path}: damaged store ({type(exc).__name__}: {str(exc)[:200]})") from None
    assert view is not None
    return view


def _read(store: Any, path: str, name: Optional[str]) -> Optional[StudyView]:
    """The view, or ``None`` when a writer changed the file while an ``immutable`` handle read it."""
    from symnas.hash.cache import StoreCache

    try:
        names = store.studies()
        if not names:
            raise StoreError(f"{path}: the store holds no study")
        if name is None:
            name = names[-1]
        elif name not in names:
            raise StoreError(f"{path}: no study named {name!r} (have: {', '.join(names)})")
        meta = store.study_meta(name)
        view = StudyView(path, name, meta["objectives"], meta["algorithm"], meta["space"], store.trials(name),
                         list(StoreCache(store.cache(name)).items()))
        if store.changed_since_open():
            return None
        _check(view)
        return view
    except StoreError:
        if store.changed_since_open():
            return None
        raise
    finally:
        store.close()


def _plain(v: Any) -> Any:
    """A JSON-friendly parameter value: numbers, strings and booleans as they are, classes by name (``nn.GELU``)."""
    from symnas.symbolic.spec import fmt_value

    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return fmt_value(v)


def _check(view: StudyView) -> None:
    """The shapes the report reads, checked once when a store is opened (a damaged store is a StoreError)."""
    where = f"{view.store_path}: study {view.name!r}"
    obj = view.objectives
    if not isinstance(obj, dict) or not obj or any(not isinstance(k, str) or v not in ("max", "min")
                                                   for k, v in obj.items()):
        raise StoreError(f"{where}: damaged objectives {str(obj)[:80]!r}")
    if not isinstance(view.space_dict, dict) or "tree" not in view.space_dict or not isinstance(view.algorithm, str):
        raise StoreError(f"{where}: damaged space or algorithm entry")
    try:
        table = view.space.table
    except SymnasError as exc:
        raise StoreError(f"{where}: damaged space: {exc}") from None
    for r in view.records:
        if not isinstance(r.state, str) or not isinstance(r.number, int) or not isinstance(r.genome, tuple) or (
                r.values is not None and (len(r.values) != len(obj) or any(
                    isinstance(v, bool) or not isinstance(v, (int, float)) for v in r.values))) or (
                r.description is not None and not isinstance(r.description, str)) or (
                r.duration is not None and not isinstance(r.duration, (int, float))):
            raise StoreError(f"{where}: damaged trial row {r.number!r}")
        try:
            table.validate(r.genome)
        except (SymnasError, TypeError, ValueError) as exc:
            raise StoreError(f"{where}: trial {r.number}: damaged genome ({exc})") from None


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def show_dict(view: StudyView, top: int = 10) -> dict[str, Any]:
    """The data of :func:`show_text` as a JSON-friendly dict."""
    space = view.space
    rows = []
    for r in view.ranked()[:top]:
        state = str(r.state)
        if r.state == TrialState.CACHED and r.system_attrs.get("served_from") is not None:
            state = f"served from #{r.system_attrs['served_from']}"
        rows.append({"number": r.number, "state": state, "values": dict(zip(view.objectives, r.values or ())),
                     "params": {k: _plain(v) for k, v in space.params(r.genome).items()}, "duration": r.duration})
    return {"study": view.name, "algorithm": view.algorithm, "objectives": view.objectives,
            "trials": len(view.records), "states": view.counts(), "dedup": view.dedup_stats(), "top": rows}


def show_text(view: StudyView, top: int = 10) -> str:
    """A plain-text report: header, status counts, dedup statistics, top-k table (one row per trial).

    Example::

        print(show_text(load_study("runs.db"), top=5))
    """
    d = show_dict(view, top)
    lines = [f"study {d['study']!r}  algorithm {d['algorithm']}  objectives "
             + ", ".join(f"{k} ({v})" for k, v in d["objectives"].items()),
             f"trials {d['trials']}: " + ", ".join(f"{k} {v}" for k, v in sorted(d["states"].items())),
             "dedup: {dedup_hits} hits of {t} proposals (hit rate {hit_rate:.1%}), {cache_entries} cache entries, "
             "{seconds_saved:.1f} s saved".format(t=d["dedup"]["dedup_hits"] + d["dedup"]["evaluations"],
                                                  **d["dedup"]), ""]
    names = list(d["objectives"])
    header = ["#", "trial", "state"] + names + ["params"]
    table = [[str(i + 1), str(r["number"]), r["state"]] + [_fmt(r["values"].get(n)) for n in names]
             + [", ".join(f"{k}={v}" for k, v in r["params"].items())] for i, r in enumerate(d["top"])]
    widths = [max(len(header[j]), *(len(row[j]) for row in table)) if table else len(header[j])
              for j in range(len(header))]
    lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]
    if not table:
        lines.append("(no completed trial)")
    return "\n".join(lines)
