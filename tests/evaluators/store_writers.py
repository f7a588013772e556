"""A process body for the concurrent-writers test: one Study per process on a shared SQLite store."""
from __future__ import annotations


def write_trials(path: str, seed: int, n: int) -> list[int]:
    """Runs ``n`` random-search trials of study ``shared`` on the store at ``path``; returns the trial numbers."""
    import symnas as sn
    from symnas.store.sqlite import SQLiteStore

    study = sn.Study(sn.Space([sn.oneof(list(range(50))), sn.oneof(list(range(50)))]),
                     sn.algorithms.RandomSearch(seed=seed), store=SQLiteStore(path), name="shared")
    numbers = []
    for _ in range(n):
        t = study.ask()
        study.tell(t, float(seed * 1000 + t.genome[0]))
        numbers.append(t.number)
    return numbers
