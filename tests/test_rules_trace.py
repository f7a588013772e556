"""Existing factories made searchable by rules, and define-by-run tracing."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn


def make_cnn(c: int = 8) -> nn.Module:
    """A factory written with no knowledge of symnas."""
    return nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1), nn.ReLU(inplace=True),
        nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


RULES = [
    sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU])),
    sn.Rule(nn.Conv2d, where="2.*", kernel_size=sn.oneof([3, 5, 7]), padding=lambda a: a["kernel_size"] // 2),
]
PATCHED = sn.patch(make_cnn, RULES)


def test_patch_finds_one_decision_per_match_by_path() -> None:
    assert [d.name for d in PATCHED.decisions] == ["[1]", "[2][0].kernel_size", "[2][1]"]
    assert PATCHED.size == 3 * 3 * 3


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_patched_candidates_build_with_the_chosen_values(seed: int) -> None:
    g = PATCHED.sample(seed=seed)
    p = PATCHED.params(g)
    model = PATCHED.build(g, seed=0)
    assert type(model[1]) is p["[1]"] and type(model[2][1]) is p["[2][1]"]
    k = p["[2][0].kernel_size"]
    assert model[2][0].kernel_size == (k, k) and model[2][0].padding == (k // 2, k // 2)
    assert model[0].kernel_size == (3, 3)  # outside the rule's path pattern
    assert model(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def test_patch_leaves_torch_classes_unchanged() -> None:
    PATCHED.build(PATCHED.sample(seed=1))
    assert "__init__" in nn.Conv2d.__dict__ and nn.Conv2d(3, 3, 1).kernel_size == (1, 1)
    assert make_cnn()[1].__class__ is nn.ReLU


def test_rule_matching_nothing_is_an_error_naming_the_rule() -> None:
    with pytest.raises(sn.SpaceError, match=r"Rule\(Conv1d, where='x\.\*'\) matched no module"):
        sn.patch(make_cnn, [sn.Rule(nn.Conv1d, where="x.*", kernel_size=sn.oneof([1, 3]))])


def test_tied_rule_is_one_decision() -> None:
    space = sn.patch(make_cnn, [sn.Rule(nn.ReLU, name="act", replace=sn.oneof([nn.ReLU, nn.GELU]))])
    assert [d.name for d in space.decisions] == ["act"]
    m = space.build((1,))
    assert type(m[1]) is nn.GELU and type(m[2][1]) is nn.GELU


def make_dynamic() -> nn.Module:
    depth = sn.intv(1, 3, name="depth")
    layers: list[nn.Module] = [nn.Linear(16, 16)]
    for i in range(depth):
        layers += [nn.Linear(16, 16), sn.oneof([nn.ReLU, nn.GELU], name=f"act{i}")()]
    width = sn.oneof([4, 8]) if sn.boolv(name="wide_head") else 4
    layers.append(nn.Linear(16, width))
    return nn.Sequential(*layers)


TRACED = sn.trace(make_dynamic)


def test_trace_discovers_conditional_decisions() -> None:
    t = TRACED.table
    assert [d.name for d in TRACED.decisions][:4] == ["depth", "act0", "act1", "act2"]
    assert not t["act0"].conditions
    assert t["act1"].conditions == [(t["depth"].index, frozenset({2, 3}))]
    assert t["act2"].conditions == [(t["depth"].index, frozenset({3}))]
    auto = [d for d in TRACED.decisions if d.name.startswith("make_dynamic:")]
    assert len(auto) == 1 and auto[0].conditions == [(t["wide_head"].index, frozenset({1}))]
    assert TRACED.size == (2 + 4 + 8) * (1 + 2)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_traced_candidates_build_as_described(seed: int) -> None:
    g = TRACED.sample(seed=seed)
    p = TRACED.params(g)
    model = TRACED.build(g)
    assert len(model) == 2 + 2 * p["depth"]
    acts = [type(m) for m in model if isinstance(m, (nn.ReLU, nn.GELU))]
    assert acts == [p[f"act{i}"] for i in range(p["depth"])]
    assert model(torch.randn(2, 16)).shape[1] == model[-1].out_features
