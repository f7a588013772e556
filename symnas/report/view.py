"""Reading a finished (or running) study out of a store: top-k table, statuses, dedup statistics.

Nothing here executes code from the store: trials are JSON rows; descriptions are decoded from the stored space
through the allow-list (targets stay import-path strings).

Example::

    view = load_study("runs.db")            # the only study, or name=...
    print(show_text(view, top=10))
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

from symnas.errors import StoreError
from symnas.store.base import TrialRecord

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
        done = [r for r in self.records if r.state in ("complete", "cached") and r.values]
        return sorted(done, key=lambda r: (-sign * r.values[0], r.number))  # type: ignore[index]

    def best(self) -> TrialRecord:
        ranked = self.ranked()
        if not ranked:
            raise StoreError(f"{self.store_path}: study {self.name!r} has no completed trial")
        return ranked[0]

    def description(self, record: TrialRecord) -> Any:
        """The record's description (stored JSON, else decoded from the space)."""
        if record.description:
            from symnas.candidate.jsonio import from_json

            return from_json(record.description)
        return self.space.decode(record.genome)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.state] = out.get(r.state, 0) + 1
        return out

    def dedup_stats(self) -> dict[str, Any]:
        c = self.counts()
        cached, evaluated = c.get("cached", 0), sum(c.get(s, 0) for s in ("complete", "failed", "pruned"))
        by_number = {r.number: r for r in self.records}
        sources = [by_number.get(r.user_attrs.get("served_from")) for r in self.records if r.state == "cached"]
        if sources and all(src is not None for src in sources):   # the source's evaluation time only
            saved = sum(src.duration or 0.0 for src in sources if src is not None)
        else:
            saved = sum(e.hits * e.mean_seconds() for _, e in self.cache_entries)
        return {"dedup_hits": cached, "evaluations": evaluated,
                "hit_rate": cached / (cached + evaluated) if cached + evaluated else 0.0,
                "cache_entries": len(self.cache_entries), "seconds_saved": saved}


def load_study(path: str, name: Optional[str] = None) -> StudyView:
    """Reads study ``name`` (default: the only one, or the last created) from the SQLite store at ``path``.

    Raises :class:`StoreError` if the file does not exist (it is never created here) or has no such study.
    """
    from symnas.store.sqlite import SQLiteStore

    if not os.path.isfile(path):
        raise StoreError(f"{path}: no such store file")
    store = SQLiteStore(path)
    try:
        names = store.studies()
        if not names:
            raise StoreError(f"{path}: the store holds no study")
        if name is None:
            name = names[-1]
        elif name not in names:
            raise StoreError(f"{path}: no study named {name!r} (have: {', '.join(names)})")
        meta = store.study_meta(name)
        return StudyView(path, name, meta["objectives"], meta["algorithm"], meta["space"], store.trials(name),
                         list(store.cache(name).items()))
    finally:
        store.close()


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def show_dict(view: StudyView, top: int = 10) -> dict[str, Any]:
    """The data of :func:`show_text` as a JSON-friendly dict."""
    space = view.space
    rows = []
    for r in view.ranked()[:top]:
        state = r.state
        if state == "cached" and r.user_attrs.get("served_from") is not None:
            state = f"served from #{r.user_attrs['served_from']}"
        rows.append({"number": r.number, "state": state, "values": dict(zip(view.objectives, r.values or ())),
                     "params": space.params(r.genome), "duration": r.duration})
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
