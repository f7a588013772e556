"""Evaluator values: anything but one finite real number per objective is a failed trial with its reason, and the
search goes on (Study.optimize, runtime.run and direct tell)."""
from __future__ import annotations

import fractions
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import symnas as sn
from symnas.runtime import run
from symnas.search.objectives import check_value


class _Weird:
    def __float__(self) -> float:
        raise RuntimeError("no float for you")

    def __repr__(self) -> str:
        return "W" * 10_000


BAD = [10 ** 400, -10 ** 5000, float("nan"), float("inf"), -math.inf, "0.5", b"1", 1j, True, None, (1.0, 2.0),
       {"value": 1.0, "other": 2.0}, {}, object(), _Weird(), np.array([1.0, 2.0]), torch.tensor([1.0, 2.0]),
       np.float64("nan"), torch.tensor(float("inf")), [[1.0]], {"value": "x"}, fractions.Fraction(10 ** 400, 1)]
GOOD = [(0.5, 0.5), (3, 3.0), (np.float32(0.25), 0.25), (torch.tensor(0.75), 0.75), (np.int64(7), 7.0),
        (fractions.Fraction(1, 4), 0.25), ([2.0], 2.0), ((1,), 1.0), ({"value": -1.5}, -1.5), (10 ** 300, 1e300)]


@pytest.mark.parametrize("value", BAD, ids=lambda v: type(v).__name__)
def test_bad_values_are_reasons(value):
    vals, reason = check_value(value, ["value"])
    assert vals == () and isinstance(reason, str) and 0 < len(reason) < 400


@pytest.mark.parametrize("value,expected", GOOD)
def test_good_values(value, expected):
    assert check_value(value, ["value"]) == ((expected,), None)


def test_two_objectives():
    assert check_value({"acc": 1, "lat": 2.5}, ["acc", "lat"]) == ((1.0, 2.5), None)
    assert check_value([1, 2], ("acc", "lat")) == ((1.0, 2.0), None)
    for bad in [1.0, [1.0], {"acc": 1.0}, {"acc": 1.0, "lat": 10 ** 400}, (1.0, float("nan")), (1.0, "2")]:
        vals, reason = check_value(bad, ["acc", "lat"])
        assert vals == () and reason


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.complex_numbers(),
                    lambda c: st.lists(c, max_size=3) | st.tuples(c, c) | st.dictionaries(st.text(max_size=3), c,
                                                                                            max_size=3)))
def test_never_raises(value):
    vals, reason = check_value(value, ["a", "b"])
    assert (reason is None) == bool(vals)
    if reason is None:
        assert len(vals) == 2 and all(math.isfinite(v) for v in vals)


def _space() -> sn.Space:
    return sn.Space([sn.oneof(list(range(len(BAD))))])


def test_optimize_goes_on_and_records_reasons():
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0))
    values = iter(BAD + [1.0])
    study.optimize(lambda t: next(values), n_trials=len(BAD) + 1)
    states = [t.state for t in study.trials]
    assert states == ["failed"] * len(BAD) + ["complete"]
    assert "too large for a float" in study.trials[0].record.error
    assert study.best_value == 1.0


def test_runtime_run_goes_on():
    study = sn.Study(_space(), sn.algorithms.RandomSearch(seed=0))
    values = iter([10 ** 400, "x", 1j, 2.0])
    summary = run(study, lambda t: next(values), n_trials=4)
    assert [t.state for t in study.trials] == ["failed", "failed", "failed", "complete"]
    assert summary["evaluations"] == 4
