"""The ready spaces in symnas/spaces: parse, round-trip, build and run; NAS-Bench-201 ↔ official strings;
NAS-Bench-101 cells valid."""
from __future__ import annotations

import itertools
import random

import pytest
import torch

import symnas as sn
import symnas.dsl as dsl
from symnas.dsl.constraints import check, sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# smaller settings so 20 candidates build and run in a few seconds on CPU
SMALL = {
    "nasbench201": {"C": 4, "N": 1},
    "nasbench101": {"stem_channels": 8, "num_stacks": 1, "cells_per_stack": 1},
    "darts": {"C": 4, "layers": 3},
    "mobilenet": {"head_width": 32, "stem_width": 8},
    "resnet": {"stem_width": 8},
    "transformer": {"vocab_size": 50, "max_len": 8},
}



def test_builtin_names():
    assert set(dsl.builtin_spaces()) == set(SMALL) | {"hpo"}


@pytest.mark.parametrize("name", sorted(set(SMALL) | {"hpo"}))
def test_parses_and_round_trips(name):
    space = dsl.load(name)
    text = dsl.dumps(space)
    again = dsl.loads(text)
    assert again == space
    assert again.meta == space.meta
    assert dsl.dumps(again) == text
    assert len(space.decisions) > 0


@pytest.mark.parametrize("name", sorted(SMALL))
def test_twenty_candidates_build_and_run(name):
    space = dsl.load(name)
    rng = random.Random(0)
    for _ in range(20):
        g = sample(space, rng=rng)
        desc = sn.rebind(space.decode(g), SMALL[name])
        model = sn.build(desc, seed=0)
        x = torch.randint(0, 50, (2, 8)) if name == "transformer" else torch.randn(2, 3, 8, 8)
        with torch.no_grad():
            y = model(x)
        assert y.shape[0] == 2 and torch.isfinite(y).all()


def test_hpo_conditional_schedule():
    space = dsl.load("hpo")
    sched = space.table["schedule"]
    gamma = space.table["schedule:1.gamma"]
    assert gamma.conditions == [(sched.index, frozenset([1]))]
    seen = set()
    for i in range(30):
        p = space.decode(space.sample(i))
        seen.add(p["schedule"]["name"])
        assert ("gamma" in p["schedule"]) == (p["schedule"]["name"] == "step")
    assert seen == {"constant", "step", "cosine"}


def test_nasbench201_maps_one_to_one_to_official_strings():
    from symnas.evaluator.nasbench201 import EDGES, OPS, arch_str, parse_arch_str

    space = dsl.load("nasbench201")
    assert space.size == 15625
    assert [d.name for d in space.decisions] == [f"edge_{j}_{i}" for i, j in EDGES]
    strings = set()
    for ops in itertools.product(range(len(OPS)), repeat=6):
        g = tuple(ops)
        cell = space.decode(g)["cell"]
        s = arch_str(cell)
        strings.add(s)
        if sum(ops) % 97 == 0:  # the reverse direction on a spread of cells (all of them in the slow test)
            desc = sn.rebind(space.decode(space.table.default_genome), {"cell": list(parse_arch_str(s))})
            assert space.encode(desc) == g
    assert len(strings) == 15625


@pytest.mark.slow
def test_nasbench201_reverse_direction_all_cells():
    from symnas.evaluator.nasbench201 import OPS, arch_str, parse_arch_str

    space = dsl.load("nasbench201")
    base = space.decode(space.table.default_genome)
    for ops in itertools.product(range(len(OPS)), repeat=6):
        s = arch_str([OPS[i] for i in ops])
        assert space.encode(sn.rebind(base, {"cell": list(parse_arch_str(s))})) == tuple(ops)


def _valid_nb101(matrix) -> bool:
    n = len(matrix)
    if sum(map(sum, matrix)) > 9:
        return False
    fwd = {0}
    for i in range(n):
        if i in fwd:
            fwd |= {j for j in range(n) if matrix[i][j]}
    bwd = {n - 1}
    for i in reversed(range(n)):
        if any(matrix[i][j] and j in bwd for j in range(n)):
            bwd.add(i)
    if n - 1 not in fwd:
        return False
    for v in range(n):  # every vertex with an edge lies on an input -> output path
        if (any(matrix[v]) or any(matrix[u][v] for u in range(n))) and not (v in fwd and v in bwd):
            return False
    return True


def _nb101_valid_samples(n: int) -> None:
    space = dsl.load("nasbench101")
    rng = random.Random(1)
    for _ in range(n):
        g = sample(space, rng=rng)
        m = [[int(x) for x in row] for row in space.decode(g)["matrix"]]
        assert _valid_nb101(m), m


@pytest.mark.slow
def test_nasbench101_many_valid_samples():
    _nb101_valid_samples(500)


def test_nasbench101_yields_only_valid_cells():
    space = dsl.load("nasbench101")
    rng = random.Random(1)
    for _ in range(15):  # rejection sampling accepts ~0.5 % of raw samples: keep this count small
        g = sample(space, rng=rng)
        m = [[int(x) for x in row] for row in space.decode(g)["matrix"]]
        assert _valid_nb101(m), m
    # and the checker rejects invalid ones: an unconstrained sample that violates is caught
    bad = 0
    for i in range(200):
        g = space.table.sample(random.Random(i))  # unconstrained (space.sample respects the constraints)
        m = [[int(x) for x in row] for row in space.decode(g)["matrix"]]
        assert (check(space, g) == []) == _valid_nb101(m)
        bad += not _valid_nb101(m)
    assert bad > 0
    for i in range(5):
        assert _valid_nb101([[int(x) for x in row] for row in space.decode(space.sample(i))["matrix"]])


def test_darts_inputs_distinct_and_sorted():
    space = dsl.load("darts")
    for i in range(50):
        desc = sn.build(space.decode(space.sample(i))["normal"])  # derived values evaluated
        for k, node in enumerate(desc):
            (a, _), (b, _) = node
            assert 0 <= a < b <= k + 1
