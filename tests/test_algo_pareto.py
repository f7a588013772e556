"""symnas.algorithms.pareto, the one Pareto helper: laws of dominance, fronts and crowding; its users agree."""
from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

import symnas as sn
from symnas.algorithms.pareto import crowding, dominates, nondominated_sort, pareto_indices
from symnas.report import pareto_indices as report_pareto_indices

points = st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), max_size=25)


def test_examples():
    assert dominates((2, 1), (1, 1)) and not dominates((1, 1), (1, 1)) and not dominates((2, 0), (0, 2))
    assert pareto_indices([(1, 1), (2, 0), (0, 0)]) == [0, 1]
    assert nondominated_sort([(1, 2), (2, 1), (0, 0)]) == [[0, 1], [2]]
    assert nondominated_sort([]) == [] and pareto_indices([]) == []
    assert crowding([(0, 3), (1, 2), (2, 1), (3, 0)], [0, 1, 2, 3]) == {0: math.inf, 1: 4 / 3, 2: 4 / 3, 3: math.inf}
    assert report_pareto_indices is pareto_indices


@given(points)
def test_fronts_partition_the_points_and_front_zero_is_the_pareto_set(pts):
    fronts = nondominated_sort(pts)
    assert sorted(i for f in fronts for i in f) == list(range(len(pts)))
    assert (fronts[0] if fronts else []) == pareto_indices(pts)
    for k, front in enumerate(fronts):
        assert front == sorted(front)
        for i in front:
            assert not any(dominates(pts[j], pts[i]) for f in fronts[k:] for j in f)
            if k:
                assert any(dominates(pts[j], pts[i]) for j in fronts[k - 1])


@given(points)
def test_pareto_indices_are_exactly_the_undominated(pts):
    front = set(pareto_indices(pts))
    for i, p in enumerate(pts):
        assert (i in front) == (not any(dominates(q, p) for q in pts))


def test_study_pareto_front_uses_oriented_values_and_lists_each_candidate_once():
    space = sn.Space({"x": sn.oneof(list(range(6)))})
    study = sn.Study(space, sn.algorithms.GridSearch(), objectives={"acc": "max", "lat": "min"})
    values = {0: (0.9, 5.0), 1: (0.8, 2.0), 2: (0.7, 3.0), 3: (0.95, 9.0), 4: (0.8, 2.0), 5: (0.5, 1.0)}
    for _ in range(6):
        t = study.ask()
        study.tell(t, values[t.genome[0]])
    got = sorted(t.genome[0] for t in study.pareto_front())
    oriented = [(a, -b) for a, b in values.values()]
    assert got == pareto_indices(oriented) == [0, 1, 3, 4, 5]
