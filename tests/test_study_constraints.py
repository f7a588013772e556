"""Spaces with constraints: every candidate a study proposes satisfies them (NAS-Bench-101: valid cells only)."""
from __future__ import annotations

import symnas as sn
import symnas.dsl as dsl


def _valid_nb101(matrix: list[list[int]]) -> bool:
    n = len(matrix)
    if sum(map(sum, matrix)) > 9:
        return False
    fwd = {0}
    for j in range(n):
        if any(matrix[i][j] and i in fwd for i in range(j)):
            fwd.add(j)
    back = {n - 1}
    for i in range(n - 1, -1, -1):
        if any(matrix[i][j] and j in back for j in range(i + 1, n)):
            back.add(i)
    if n - 1 not in fwd:
        return False
    touched = {v for i in range(n) for j in range(n) if matrix[i][j] for v in (i, j)}
    return all(v in fwd and v in back for v in touched)


def test_nasbench101_study_only_proposes_valid_cells() -> None:
    space = dsl.load("nasbench101")
    for algo in (sn.algorithms.RandomSearch(seed=0), sn.algorithms.get("evolution", seed=1)):
        study = sn.Study(space, algo)
        for i in range(25):
            trial = study.ask()
            assert _valid_nb101(trial.description["matrix"]), trial.description["matrix"]
            study.tell(trial, float(i % 7))
        assert study.stats["repaired"] > 0  # unconstrained proposals are mostly invalid: they were repaired
    for s in range(10):
        assert _valid_nb101(space.decode(space.sample(seed=s))["matrix"])


def test_constraint_repair_is_reproducible() -> None:
    space = sn.Space({"a": sn.intv(0, 9), "b": sn.intv(0, 9)},
                     meta={"constraints": [{"kind": "require", "expr": "a + b <= 3"}]})
    runs = []
    for _ in range(2):
        study = sn.Study(space, sn.algorithms.RandomSearch(seed=4))
        gs = []
        for _ in range(20):
            t = study.ask()
            gs.append(t.genome)
            assert sum(t.genome) <= 3
            study.tell(t, 1.0)
        runs.append(gs)
    assert runs[0] == runs[1]
