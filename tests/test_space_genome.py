"""Compiled genome: decode/encode round trips, sampling, sizes, JSON, conditionals (property-tested)."""
from __future__ import annotations

import json
import math
import random

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn
from symnas.errors import GenomeError
from tests.spaces_for_tests import categorical_space, cnn_space, hpo_space

CNN = cnn_space()
HPO = hpo_space()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_every_sampled_genome_decodes_builds_and_runs(seed: int) -> None:
    g = CNN.sample(seed=seed)
    desc = CNN.decode(g)
    model = sn.build(desc, seed=0)
    out = model(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 10)
    assert torch.isfinite(out).all()


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), which=st.sampled_from(["cnn", "hpo"]))
def test_encode_decode_round_trip(seed: int, which: str) -> None:
    space = CNN if which == "cnn" else HPO
    g = space.sample(seed=seed)
    assert space.table.canonical(g) == g
    assert space.encode(space.decode(g)) == g


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), which=st.sampled_from(["cnn", "hpo"]))
def test_descriptions_round_trip_through_json(seed: int, which: str) -> None:
    space = CNN if which == "cnn" else HPO
    desc = space.decode(space.sample(seed=seed))
    back = sn.from_json(sn.to_json(desc))
    assert back == desc
    assert space.encode(back) == space.encode(desc)


def test_spaces_round_trip_through_json() -> None:
    for space in (CNN, HPO, categorical_space()):
        back = sn.Space.from_json(space.to_json())
        assert back == space
        assert back.table.width == space.table.width
        assert [d.path for d in back.decisions] == [d.path for d in space.decisions]
        g = space.sample(seed=3)
        assert sn.to_json(back.decode(g)) == sn.to_json(space.decode(g))


def test_json_load_does_not_import(tmp_path) -> None:
    text = json.dumps({"_spec": "evil_module_that_does_not_exist.Boom", "kwargs": {"x": 1}})
    desc = sn.from_json(text)  # reading is fine: nothing imported
    assert desc.path == "evil_module_that_does_not_exist.Boom"
    with pytest.raises(sn.BuildError, match="not registered"):
        sn.build(desc)


def test_paths_are_readable_and_conditional() -> None:
    names = [d.name for d in CNN.decisions]
    assert names[0] == "stages[0]"
    assert "stages[0]:1[1]:0.kernel" in names  # kernel of ConvBlock (candidate 0) in block 1 of option 1
    d = CNN.table["stages[0]:1[1]:0.kernel"]
    parent = CNN.table.decisions[d.conditions[0][0]]
    assert parent.name == "stages[0]:1[1]" and d.conditions[0][1] == {0}
    assert CNN.table["dropout"].kind == "float"


def test_exact_sizes() -> None:
    assert categorical_space(20).size == 5**20
    # block: ConvBlock 2*3*4 + PoolBlock 2 + Identity 1 = 27; stage: 27 + 27^2 + 27^3; net: stage^2 * inf (dropout)
    no_float = sn.Space(sn.Space(CNN.tree).tree.rebind({"dropout": 0.1}))
    stage = 27 + 27**2 + 27**3
    assert no_float.size == stage**2
    assert math.isinf(CNN.size)
    # subsets and permutations: C(4,2) sorted subsets * 3! orders; tied decision counted once
    hpo_no_float = sn.Space({"augment": sn.manyof(2, ["a", "b", "c", "d"], sorted=True),
                             "order": sn.permutation([1, 2, 3]),
                             "x": sn.oneof([1, 2, 3], name="t"), "y": sn.oneof([1, 2, 3], name="t")})
    assert hpo_no_float.size == 6 * 6 * 3


def test_tied_decisions_share_one_gene() -> None:
    table = HPO.table
    assert table["shared"].width == 1
    for s in range(20):
        desc = HPO.decode(HPO.sample(seed=s))
        assert desc["tied_a"] == desc["tied_b"]


def test_sampling_respects_conditionals_and_is_uniform_per_decision() -> None:
    rng = random.Random(0)
    counts = [0, 0]
    for _ in range(4000):
        g = HPO.table.sample(rng)
        opt = HPO.table["optimizer"]
        counts[g[opt.offset]] += 1
        active = HPO.table.active(g)
        mom = HPO.table["optimizer:0.momentum"]
        assert active[mom.index] == (g[opt.offset] == 0)
        if not active[mom.index]:
            assert g[mom.offset] == mom.default[0]
    assert abs(counts[0] - counts[1]) < 300


def test_subset_and_perm_constraints_hold() -> None:
    for s in range(200):
        d = HPO.decode(HPO.sample(seed=s))
        aug = d["augment"]
        order = ["flip", "crop", "cutout", "mixup"]
        assert len(set(aug)) == 2 and [order.index(a) for a in aug] == sorted(order.index(a) for a in aug)
        assert sorted(d["order"]) == ["a", "b", "c"]
        assert 16 <= d["batch"] <= 256 and 1e-4 <= d["lr"] <= 1e-1


def test_validate_names_the_decision() -> None:
    g = list(HPO.sample(seed=0))
    opt = HPO.table["optimizer"]
    g[opt.offset] = 7
    with pytest.raises(GenomeError, match="optimizer"):
        HPO.table.validate(g)
    with pytest.raises(GenomeError, match="genes"):
        HPO.table.validate(g[:-1])


def test_encode_rejects_a_description_outside_the_space() -> None:
    desc = HPO.decode(HPO.sample(seed=0))
    bad = {**desc, "lr": 5.0}
    with pytest.raises(sn.SpaceError, match="does not fit"):
        HPO.encode(bad)


def test_unknown_decision_name_is_reported_with_a_hint() -> None:
    with pytest.raises(sn.DecisionError, match="unknown decision 'dropuot'"):
        CNN.table["dropuot"]
