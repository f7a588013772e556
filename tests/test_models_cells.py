"""NAS-Bench-101 and DARTS builders: pruning, channel rules, forward passes, building from a space."""
from __future__ import annotations

import random

import pytest
import torch

import symnas as sn
from symnas.models.darts import DARTS_OPS, DartsNetwork, parse_genotype
from symnas.models.nasbench101 import NB101_OPS, NB101Network, prune, vertex_channels

CHAIN = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


def _random_cell(rng: random.Random, n: int = 7) -> tuple[list[list[int]], list[str]]:
    m = [[1 if j > i and rng.random() < 0.35 else 0 for j in range(n)] for i in range(n)]
    return m, [rng.choice(NB101_OPS) for _ in range(n - 2)]


def _on_path(m: list[list[int]]) -> set[int]:
    """Vertices on an input->output path, by brute-force path enumeration (independent of prune())."""
    n = len(m)
    keep: set[int] = set()

    def walk(path: list[int]) -> None:
        v = path[-1]
        if v == n - 1:
            keep.update(path)
        for w in range(v + 1, n):
            if m[v][w]:
                walk(path + [w])

    walk([0])
    return keep


def test_prune_matches_path_enumeration() -> None:
    rng = random.Random(0)
    checked = 0
    for _ in range(300):
        m, ops = _random_cell(rng)
        keep = _on_path(m)
        if len(m) - 1 not in keep:
            with pytest.raises(sn.BuildError, match="not reachable"):
                prune(m, ops)
            continue
        pm, pops = prune(m, ops)
        order = sorted(keep)
        assert len(pm) == len(order)
        assert pops == [ops[v - 1] for v in order[1:-1]]
        assert pm == [[m[i][j] for j in order] for i in order]
        checked += 1
    assert checked > 50


def test_vertex_channels_official_rule() -> None:
    # two vertices feed the output: 33 channels split 17 + 16; vertex 1 feeds only vertex 2 -> takes its width
    m = [[0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]]
    assert vertex_channels(8, 33, m) == [8, 17, 17, 16, 33]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_nb101_random_cells_forward(seed: int) -> None:
    rng = random.Random(seed)
    while True:
        m, ops = _random_cell(rng)
        if len(m) - 1 in _on_path(m):
            break
    net = NB101Network(m, ops, stem_channels=8, num_stacks=2, cells_per_stack=1, num_classes=5)
    out = net(torch.randn(2, 3, 8, 8))
    assert out.shape == (2, 5) and torch.isfinite(out).all()


def test_nb101_channels_per_stack_and_input_to_output_only() -> None:
    net = NB101Network([[0, 1], [0, 0]], [], stem_channels=4, num_stacks=3, cells_per_stack=1)
    assert net.classifier.in_features == 16
    assert net(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def test_nb101_official_seven_label_form_and_errors() -> None:
    a = NB101Network(CHAIN, ["input", "conv3x3-bn-relu", "maxpool3x3", "output"], 4, 1, 1)
    assert a.ops == ["conv3x3-bn-relu", "maxpool3x3"]
    with pytest.raises(sn.BuildError, match=r"ops\[1\]"):
        NB101Network(CHAIN, ["conv3x3-bn-relu", "conv5x5"], 4, 1, 1)
    with pytest.raises(sn.BuildError, match=r"matrix\[1\]\[0\]"):
        NB101Network([[0, 1], [1, 0]], [], 4, 1, 1)
    with pytest.raises(sn.BuildError, match="stem_channels"):
        NB101Network(CHAIN, ["maxpool3x3"] * 2, 0, 1, 1)


def test_nb101_builds_from_a_space() -> None:
    space = sn.Space(sn.Spec(NB101Network, kwargs=dict(
        matrix=CHAIN, ops=[sn.oneof(list(NB101_OPS)), sn.oneof(list(NB101_OPS))], stem_channels=4, num_stacks=1,
        cells_per_stack=1)))
    assert space.size == 9
    net = space.build(space.sample(0), seed=0)
    assert net(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def _genotype(rng: random.Random) -> list:
    return [[[rng.randrange(k + 2), rng.choice(DARTS_OPS)] for _ in range(2)] for k in range(4)]


@pytest.mark.parametrize("seed,layers", [(0, 2), (1, 3), (2, 5)])
def test_darts_random_genotypes_forward(seed: int, layers: int) -> None:
    rng = random.Random(seed)
    net = DartsNetwork(_genotype(rng), _genotype(rng), C=4, layers=layers, num_classes=3)
    out = net(torch.randn(2, 3, 12, 12))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
    assert sum(c.reduction for c in net.cells) == 2


def test_darts_every_op_in_reduction_and_normal_cell() -> None:
    ops = list(DARTS_OPS)  # 8 ops, 8 pairs: each op once per cell, on inputs 0/1 (stride 2 in reduction cells)
    g = [[[0, ops[2 * k]], [1 if k < 2 else k + 1, ops[2 * k + 1]]] for k in range(4)]
    net = DartsNetwork(g, list(reversed(g[:2])) + g[2:], C=2, layers=3)
    assert {type(m).__name__ for c in net.cells for m in c.ops} >= {"Zero", "SepConv", "DilConv", "Identity",
                                                                      "FactorizedReduce", "MaxPool2d", "AvgPool2d"}
    assert net(torch.randn(1, 3, 8, 8)).shape == (1, 10)


def test_darts_genotype_forms_and_errors() -> None:
    nested = [[[0, "sep_conv_3x3"], [1, "skip_connect"]]] * 4
    flat = [["sep_conv_3x3", 0], ["skip_connect", 1]] * 4  # the DARTS code's (op, input) order
    assert parse_genotype(nested) == parse_genotype(flat)
    with pytest.raises(sn.BuildError, match="node 0 pair 1: input"):
        parse_genotype([[0, "sep_conv_3x3"], [2, "skip_connect"]] * 4)
    with pytest.raises(sn.BuildError, match="unknown op 'conv_7x7'"):
        parse_genotype([[0, "conv_7x7"]] * 8)
    with pytest.raises(sn.BuildError, match="argument reduce"):
        DartsNetwork(nested, nested[:3], C=4, layers=2)


def test_darts_builds_from_a_space() -> None:
    node = lambda k: [[sn.oneof(list(range(k + 2))), sn.oneof(list(DARTS_OPS))] for _ in range(2)]  # noqa: E731
    space = sn.Space(sn.Spec(DartsNetwork, kwargs=dict(normal=[node(k) for k in range(4)],
                                                       reduce=[node(k) for k in range(4)], C=2, layers=2)))
    for seed in range(2):
        net = space.build(space.sample(seed), seed=0)
        assert net(torch.randn(1, 3, 8, 8)).shape == (1, 10)
