"""Tests of the plain-torch NAS-Bench-201 network."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from symnas.errors import SymnasError
from symnas.evaluator.nasbench201 import EDGES, NASBench201Table, arch_str, ops_of, parse_arch_str
from symnas.models.nasbench201 import (AvgPool3x3, NB201Cell, NB201Network, ReLUConvBN, ResNetBasicBlock, Zero,
                                       make_op)

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
CELLS = [
    ("none",) * 6,
    ("skip_connect",) * 6,
    ("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "none", "nor_conv_1x1", "skip_connect"),
    parse_arch_str(BEST),
]


@pytest.mark.parametrize("cell", CELLS)
def test_forward_shapes_small(cell):
    torch.manual_seed(0)
    net = NB201Network(cell, C=8, N=1)
    assert len(net.cells) == 5 and isinstance(net.cells[1], ResNetBasicBlock)
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    out.sum().backward()
    assert net.classifier.weight.grad is not None


def test_forward_c4_other_classes_and_input_size():
    net = NB201Network(BEST, C=4, N=1, num_classes=7)
    assert net(torch.randn(3, 3, 16, 16)).shape == (3, 7)
    assert net.cells[-1].out_dim == 16 and net.classifier.in_features == 16


def test_cell_inputs_equivalent():
    a, b, c = NB201Network(BEST, C=4, N=1), NB201Network(parse_arch_str(BEST), C=4, N=1), \
        NB201Network([3, 3, 3, 1, 3, 2], C=4, N=1)
    assert a.ops == b.ops == c.ops and a.arch_str == BEST
    assert list(a.state_dict()) == list(b.state_dict()) == list(c.state_dict())


# Params (millions) read from the source CSV for three cells; the official count includes the classifier.
@pytest.mark.parametrize("arch, params_mb", [
    (BEST, 1.073466),
    ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|", 0.129306),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|", 0.802426),
])
def test_param_count_matches_table(arch, params_mb):
    net = NB201Network(arch)  # C=16, N=5
    n = sum(p.numel() for p in net.parameters())
    assert abs(n / 1e6 - params_mb) / params_mb < 0.01
    assert n == round(params_mb * 1e6)  # in fact exact
    assert NASBench201Table.load().metrics(arch)["params_mb"] == pytest.approx(params_mb, rel=1e-6)


def test_state_dict_keys_follow_official_names():
    keys = set(NB201Network(BEST, C=4, N=1).state_dict())
    for k in ("stem.0.weight", "stem.1.running_mean", "cells.0.layers.0.op.1.weight", "cells.0.layers.5.op.2.bias",
              "cells.1.conv_a.op.1.weight", "cells.1.conv_b.op.2.weight", "cells.1.downsample.1.weight",
              "lastact.0.weight", "classifier.weight", "classifier.bias"):
        assert k in keys, k


def _reference_cell_forward(cell: NB201Cell, x: torch.Tensor) -> torch.Tensor:
    """The official InferCell rule, literally: node j = sum over i<j of layers[e](node_i), zeros included."""
    nodes = [x]
    for j in (1, 2, 3):
        nodes.append(sum(cell.layers[e](nodes[i]) for e, (i, jj) in enumerate(EDGES) if jj == j))
    return nodes[3]


@pytest.mark.parametrize("c", [0, 1, 777, 3906, 8343, 12500, 15624])
def test_cell_matches_reference_rule(c):
    torch.manual_seed(c)
    cell = NB201Cell(4, ops_of(c)).eval()
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(cell(x), _reference_cell_forward(cell, x))


def test_op_semantics():
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(NB201Cell(4, ["none"] * 6)(x), torch.zeros_like(x))
    assert torch.equal(NB201Cell(4, ["skip_connect"] * 6)(x), 4 * x)  # n1=x, n2=2x, n3=x+x+2x
    only_03 = ["none"] * 3 + ["avg_pool_3x3"] + ["none"] * 2
    assert torch.allclose(NB201Cell(4, only_03)(torch.ones(1, 4, 5, 5)), torch.ones(1, 4, 5, 5))  # no pad count
    assert torch.equal(Zero()(x), torch.zeros_like(x))
    pool = AvgPool3x3().op
    assert (pool.kernel_size, pool.stride, pool.padding, pool.count_include_pad) == (3, 1, 1, False)
    conv = make_op("nor_conv_3x3", 4).op
    assert isinstance(conv[0], nn.ReLU) and conv[1].bias is None and conv[1].kernel_size == (3, 3)
    assert isinstance(conv[2], nn.BatchNorm2d)
    assert make_op("nor_conv_1x1", 4).op[1].kernel_size == (1, 1)


def test_reduction_block():
    blk = ResNetBasicBlock(8, 16, 2)
    assert blk(torch.randn(2, 8, 16, 16)).shape == (2, 16, 8, 8)
    assert isinstance(blk.downsample[0], nn.AvgPool2d) and blk.downsample[1].bias is None
    assert blk.conv_a.op[1].stride == (2, 2)
    assert isinstance(ResNetBasicBlock(8, 16, 1).downsample, ReLUConvBN)
    assert ResNetBasicBlock(8, 8, 1).downsample is None


@pytest.mark.parametrize("kwargs, needle", [
    (dict(cell=["none"] * 5 + ["conv"]), "NB201Network: cell: edge 5"),
    (dict(cell="|none~0|+|none~0|"), "NB201Network: cell: cell string"),
    (dict(cell=BEST, C=0), "argument C"),
    (dict(cell=BEST, N=1.5), "argument N"),
    (dict(cell=BEST, num_classes=0), "argument num_classes"),
])
def test_bad_arguments(kwargs, needle):
    with pytest.raises(SymnasError, match=needle):
        NB201Network(**kwargs)
    with pytest.raises(SymnasError, match="stride"):
        ResNetBasicBlock(4, 4, 3)


def test_repr_names_the_cell():
    assert arch_str(parse_arch_str(BEST)) in repr(NB201Network(BEST, C=4, N=1))


def test_docstring_examples():
    import doctest

    import symnas.models.nasbench201 as m
    assert doctest.testmod(m, extraglobs={"torch": torch}).failed == 0
