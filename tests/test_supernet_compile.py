"""Supernet compilation, export and modes (weight sharing, issue 6)."""
from __future__ import annotations

import pytest
import torch
from torch import nn

import symnas as sn
from symnas.evaluator.benchmark import nasbench201_space
from symnas.supernet import (
    LayerChoice,
    SpecChoice,
    SuperConv2d,
    Supernet,
    SupernetError,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@sn.searchable
class Blk(nn.Module):
    def __init__(self, c: int, k: int = 3, act=nn.ReLU) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, k, padding=k // 2)
        self.bn = nn.BatchNorm2d(c)
        self.act = act()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


@sn.searchable
class Net(nn.Module):
    def __init__(self, blocks, c: int = 6) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, c, 3, padding=1)
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c, 10)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


def generic_space(c: int = 6) -> sn.Space:
    layer = sn.oneof([Blk.spec(c, k=3), Blk.spec(c, k=5, act=sn.oneof([nn.ReLU, nn.GELU])), sn.nn.Identity(),
                      sn.nn.Conv2d(c, c, kernel_size=sn.oneof([1, 3, 5]), padding="same")])
    return sn.Space(Net([layer, layer], c=c))


def _train_a_bit(net: Supernet, steps: int = 3) -> None:
    """Moves the weights and BN statistics away from their initial values."""
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.1)
    net.train()
    for i in range(steps):
        net.set_genome(net.space.sample(seed=100 + i))
        opt.zero_grad()
        net(torch.randn(8, *_shape(net))).square().mean().backward()
        opt.step()


def _shape(net: Supernet) -> tuple:
    return (3, 8, 8) if "nasbench201" in net.space.name else (1, 8, 8)


def test_compile_places_choice_modules():
    net = Supernet(generic_space(), seed=0)
    kinds = {type(m) for m in net.modules()}
    assert LayerChoice in kinds and SpecChoice in kinds and SuperConv2d in kinds
    # every candidate module exists once: 2 layers x 4 candidates
    assert sum(isinstance(m, LayerChoice) for m in net.modules()) == 2


@pytest.mark.parametrize("make", [generic_space, lambda: nasbench201_space(C=4, N=1)])
def test_export_matches_supernet_in_fixed_mode(make):
    space = make()
    net = Supernet(space, seed=0)
    _train_a_bit(net)
    net.eval().set_mode("fixed")
    x = torch.randn(5, *_shape(net))
    for seed in range(3):
        g = space.sample(seed=seed)
        net.set_genome(g)
        child = net.extract(g).eval()
        assert type(child).__name__ == space.decode(g).name
        torch.testing.assert_close(child(x), net(x), rtol=0, atol=1e-6)


def test_extracted_weights_equal_supernet_slices():
    space = generic_space()
    net = Supernet(space, seed=0)
    _train_a_bit(net)
    d0, k0 = space.table["blocks[0]"], space.table["blocks[0]:3.kernel_size"]
    g = list(space.table.default_genome)
    g[d0.offset], g[k0.offset] = 3, 1  # sliced conv with kernel 3 (of 1, 3, 5)
    d1 = space.table["blocks[1]"]
    g[d1.offset] = 0  # Blk(k=3) in layer 1
    child = net.extract(g)
    big = net.model.blocks[0].candidates[3].weight
    assert big.shape[-1] == 5
    torch.testing.assert_close(child.blocks[0].weight, big[:, :, 1:4, 1:4], rtol=0, atol=0)
    src = net.model.blocks[1].candidates[0]
    torch.testing.assert_close(child.blocks[1].conv.weight, src.conv.weight, rtol=0, atol=0)
    torch.testing.assert_close(child.blocks[1].bn.running_var, src.bn.running_var, rtol=0, atol=0)
    assert child.blocks[1].conv.weight.data_ptr() != src.conv.weight.data_ptr()  # copied, not shared
    fresh = net.extract(g, inherit=False, seed=0)
    assert not torch.equal(fresh.blocks[1].conv.weight, src.conv.weight)


def test_weighted_mode_with_one_candidate_left_equals_fixed():
    space = nasbench201_space(C=4, N=1)
    net = Supernet(space, seed=0).eval()
    g = space.sample(seed=3)
    x = torch.randn(4, 3, 8, 8)
    fixed = net.set_mode("fixed").set_genome(g)(x)
    net.set_mode("weighted")
    for s in net.state.slot_decision:
        net.state.masks[s] = {j for j in range(5) if j != g[s]}
    torch.testing.assert_close(net(x), fixed, rtol=1e-5, atol=1e-6)


def test_weighted_mode_mixes_and_has_arch_gradients():
    net = Supernet(generic_space(), seed=0).set_mode("weighted", gumbel=True, tau=0.5)
    net(torch.randn(4, 1, 8, 8)).sum().backward()
    grads = [p.grad for p in net.arch_parameters()]
    assert all(g is not None and g.abs().sum() > 0 for g in grads)


def test_sampled_mode_draws_a_new_path_per_training_forward():
    net = Supernet(generic_space(), mode="sampled", seed=1).train()
    seen = set()
    for _ in range(10):
        net(torch.randn(2, 1, 8, 8))
        seen.add(net.genome)
    assert len(seen) > 1
    net.eval()
    g = net.genome
    net(torch.randn(2, 1, 8, 8))
    assert net.genome == g


def test_derive_argmax_and_exclude():
    space = nasbench201_space(C=4, N=1)
    net = Supernet(space)
    with torch.no_grad():
        for p in net.arch_parameters():
            p.copy_(torch.tensor([5.0, 4.0, 0.0, 0.0, 0.0]))
    assert net.derive() == (0,) * 6
    assert net.derive(exclude=("none",)) == (1,) * 6


def test_unsupported_decisions_name_the_place():
    space = sn.Space(Net([Blk.spec(4, k=sn.intv(1, 7, step=2))], c=4))
    with pytest.raises(SupernetError, match=r"blocks\[0\]\.k"):
        Supernet(space)
    many = sn.Space(Net([Blk.spec(4, k=sn.oneof(list(range(1, 19, 2))), act=sn.oneof(
        [nn.ReLU, nn.GELU, nn.Tanh, nn.SiLU, nn.ELU, nn.Sigmoid, nn.Softsign, nn.Mish]))], c=4))
    with pytest.raises(SupernetError, match="register a supernet hook|Register a supernet hook"):
        Supernet(many)
    with pytest.raises(SupernetError, match="unknown supernet mode"):
        Supernet(generic_space()).set_mode("mixed")
