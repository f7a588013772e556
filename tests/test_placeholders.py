"""Bad input gets a clear error naming the decision."""
from __future__ import annotations

import pytest

import symnas as sn


@pytest.mark.parametrize("make, message", [
    (lambda: sn.oneof([], name="op"), r"oneof \(decision 'op'\): empty candidate list"),
    (lambda: sn.manyof(3, [1, 2], name="ops"), "cannot choose 3 distinct of 2"),
    (lambda: sn.intv(5, 1, name="depth"), r"intv \(decision 'depth'\): low > high \(5 > 1\)"),
    (lambda: sn.floatv(1.0, 0.1, name="lr"), "low > high"),
    (lambda: sn.floatv(0.0, 1.0, name="lr", scale="log"), r"log scale needs low > 0, got 0"),
    (lambda: sn.intv(-1, 8, name="w", log=True), "log scale needs low > 0"),
    (lambda: sn.floatv(0.0, 1.0, scale="cubic"), "scale must be 'linear' or 'log'"),
    (lambda: sn.permutation([]), "empty item list"),
    (lambda: sn.oneof("abc"), "candidates must be a list"),
])
def test_bad_placeholders(make, message) -> None:
    with pytest.raises(sn.SpaceError, match=message):
        make()


def test_tied_names_must_agree() -> None:
    with pytest.raises(sn.SpaceError, match="'k' is already used by a different decision"):
        sn.Space({"a": sn.oneof([1, 2], name="k"), "b": sn.oneof([1, 3], name="k")})


def test_duplicate_explicit_names_across_kinds() -> None:
    with pytest.raises(sn.SpaceError, match="already used"):
        sn.Space({"a": sn.oneof([1, 2], name="k"), "b": sn.intv(1, 3, name="k")})


def test_int_grid_and_log() -> None:
    space = sn.Space({"w": sn.intv(16, 100, step=16), "b": sn.intv(1, 1024, log=True)})
    assert space.table["w"].high == 96 and space.size == 6 * 1024
    for s in range(200):
        d = space.decode(space.sample(seed=s))
        assert d["w"] % 16 == 0 and 1 <= d["b"] <= 1024
