"""The torch boundary: each known PyGlove-on-torch trap is closed."""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn

import symnas as sn
from tests.spaces_for_tests import ConvBlock, Net, cnn_space


def _params(m: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in m.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def test_searchable_call_with_placeholder_is_a_spec_without_weights() -> None:
    s = ConvBlock(8, kernel=sn.oneof([3, 5]))
    assert isinstance(s, sn.Spec) and not isinstance(s, nn.Module)
    assert ConvBlock(8, kernel=3).conv1.kernel_size == (3, 3)  # concrete args: a normal module


def test_deepcopy_keeps_weights_and_averaged_model_works() -> None:
    space = cnn_space()
    model = space.build(space.sample(seed=1), seed=0)
    before = _params(model)
    clone = copy.deepcopy(model)
    assert _same(before, _params(clone))  # PyGlove's symbolic modules re-initialise here
    avg = torch.optim.swa_utils.AveragedModel(model)
    assert _same(before, _params(avg.module))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    avg.update_parameters(model)
    after_avg = _params(avg.module)
    assert not _same(before, after_avg)


def test_rebinding_a_description_never_touches_a_built_model() -> None:
    space = sn.Space(Net(stages=[[ConvBlock.spec(8, kernel=sn.oneof([3, 5]))]], c=8))
    desc = space.decode((0,))
    model = sn.build(desc, seed=0)
    before = _params(model)
    new = sn.rebind(desc, {"stages[0][0].kernel": 5})
    assert desc["stages"][0][0]["kernel"] == 3          # the original description is unchanged
    assert new["stages"][0][0]["kernel"] == 5
    assert _same(before, _params(model))                 # no __init__ re-run on the live model
    assert sn.build(new, seed=0).stages[0][0].conv1.kernel_size == (5, 5)
    assert space.encode(new) == (1,)


def test_built_module_inside_a_choice_is_rejected_by_path() -> None:
    shared = nn.Conv2d(8, 8, 3, padding=1)
    with pytest.raises(sn.SpaceError, match=r"stages\[0\]:1: a built nn.Module \(Conv2d\).*symnas.nn.Conv2d"):
        sn.Space(Net(stages=[sn.oneof([[ConvBlock.spec(8)], shared])], c=8))


def test_candidates_never_share_weights() -> None:
    space = sn.Space(Net(stages=[sn.oneof([[ConvBlock.spec(8)], [sn.nn.Conv2d(8, 8, 3, padding=1)]])], c=8))
    a, b = space.build((1,)), space.build((1,))
    assert a.stages[0][0].weight.data_ptr() != b.stages[0][0].weight.data_ptr()
    with torch.no_grad():
        a.stages[0][0].weight.add_(1.0)
    assert not torch.equal(a.stages[0][0].weight, b.stages[0][0].weight)


def test_sequential_over_a_subset_flattens_instead_of_failing() -> None:
    blocks = [sn.nn.Conv2d(3, 3, 1), sn.nn.ReLU(), sn.nn.Identity()]
    with pytest.raises(sn.SpaceError, match="cannot be unpacked"):
        sn.nn.Sequential(*sn.manyof(2, blocks))
    space = sn.Space(sn.nn.Sequential(sn.nn.Conv2d(3, 3, 1), sn.manyof(2, blocks, sorted=True)))
    for s in range(5):
        model = space.build(space.sample(seed=s))
        assert isinstance(model, nn.Sequential) and len(model) == 3
        assert model(torch.randn(1, 3, 4, 4)).shape == (1, 3, 4, 4)


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone() -> None:
    space = cnn_space()
    g = space.sample(seed=4)
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    a = space.build(g, seed=7)
    assert torch.equal(torch.rand(1), expected_next)
    b = space.build(g, seed=7)
    assert _same(_params(a), _params(b))
    c = space.build(g, seed=8)
    assert not _same(_params(a), _params(c))


def test_space_holds_no_weights() -> None:
    space = cnn_space()
    text = space.to_json()
    assert "Parameter" not in text and "tensor" not in text
    for _, leaf in sn.symbolic.tree.items(space.tree):
        assert not isinstance(leaf, (nn.Module, torch.Tensor))
