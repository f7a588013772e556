"""Weight sharing on patched spaces: module choices and sliced widths of an unedited factory in one supernet."""
from __future__ import annotations

import functools

import pytest
import torch
from torch import nn

import symnas as sn
from symnas.supernet import Supernet, SupernetError, darts_search, digits_data, enas_search
from tests.thirdparty_models.resnet import resnet_tiny
from tests.thirdparty_spaces import mobilenet_space, resnet_space

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@functools.lru_cache(maxsize=None)
def space() -> sn.Space:
    return resnet_space()


def test_children_inside_the_supernet_compute_what_their_export_computes() -> None:
    s = space()
    net = Supernet(s, seed=0).eval()
    x = torch.randn(3, 3, 8, 8)
    for seed in range(6):
        g = s.sample(seed=seed)
        net.set_genome(g)
        child = net.extract(g).eval()
        assert type(child) is type(s.build(g)) and [p.shape for p in child.parameters()] == \
            [p.shape for p in s.build(g).parameters()]
        with torch.no_grad():
            assert torch.allclose(net(x), child(x), atol=1e-5)


def test_widths_share_the_largest_weights() -> None:
    net = Supernet(space(), seed=0)
    names = [n for n, _ in net.model.named_parameters()]
    assert sum(n.endswith("conv2.inner.weight") for n in names) == 8  # one weight per conv: widths are slices
    conv = net.model.layer3[0].conv2
    assert conv.inner.out_channels == 48  # stage3 at 1.5x of 32


def test_sampled_paths_train_and_enas_exports_a_standalone_model() -> None:
    s = space()
    net = Supernet(s, mode="sampled", seed=0).train()
    opt = torch.optim.SGD(net.weight_parameters(), lr=0.05)
    x, y = torch.randn(4, 3, 8, 8), torch.randint(0, 10, (4,))
    for _ in range(4):
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    res = enas_search(s, digits_data(seed=0, channels=3), steps=12, k=3, batch_size=32, device="cpu", seed=0)
    model = res.export(inherit=True)
    assert isinstance(model, nn.Module) and model(x).shape == (4, 10)
    assert res.genome == s.table.canonical(res.genome)


def test_darts_runs_on_module_choices_and_refuses_weighted_widths() -> None:
    choices = sn.patch(resnet_tiny, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU]), name="act"),
        sn.Rule(nn.Conv2d, where="layer*.0.conv1", kernel_size=sn.oneof([3, 5]), padding=lambda a: a["kernel_size"] // 2),
    ], layers=(1, 1, 1, 1))
    res = darts_search(choices, digits_data(seed=0, channels=3), steps=6, batch_size=32, device="cpu", guard="none")
    assert res.export()(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    net = Supernet(space(), seed=0).set_mode("weighted")
    with pytest.raises(SupernetError, match="stage1: widths are shared by slicing.*weighted"):
        net(torch.randn(2, 3, 8, 8))


def test_structural_decisions_are_refused_with_the_reason() -> None:
    with pytest.raises(SupernetError, match="decision 'width_mult' changes the model's structure"):
        Supernet(mobilenet_space())


class ConvBlock(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv, self.bn = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.bn(self.conv(x))


def make_traced() -> nn.Module:
    layers: list[nn.Module] = [nn.Conv2d(3, 8, 3, padding=1)]
    for i in range(2):
        layers += [sn.oneof([ConvBlock, nn.Identity], name=f"block{i}")(8), sn.oneof([nn.ReLU, nn.GELU], name="act")()]
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))


def test_traced_module_choices_compile_and_match_their_exports() -> None:
    space = sn.trace(make_traced)
    net = Supernet(space, seed=0).eval()
    x = torch.randn(2, 3, 8, 8)
    for seed in range(4):
        g = space.sample(seed=seed)
        net.set_genome(g)
        with torch.no_grad():
            assert torch.allclose(net(x), net.extract(g).eval()(x), atol=1e-5)
    res = enas_search(space, digits_data(seed=0, channels=3), steps=8, k=2, batch_size=32, device="cpu")
    assert res.export()(x).shape == (2, 10)


def test_traced_value_decisions_are_refused_with_the_reason() -> None:
    def make() -> nn.Module:
        return nn.Sequential(nn.Linear(4, sn.oneof([4, 8], name="w")))

    with pytest.raises(SupernetError, match="w: a traced decision over values .* cannot share weights"):
        Supernet(sn.trace(make))


def _same_padding(a: dict) -> int:
    return a["kernel_size"] // 2


def _slicing_spaces() -> dict:
    from tests.thirdparty_models.bert import BertConfig, bert_tiny
    from tests.thirdparty_models.efficientnet import efficientnet_tiny
    from tests.thirdparty_models.mobilenetv3 import InvertedResidual, mobilenet_v3_tiny

    return {
        "mobilenetv3": (lambda: sn.patch(mobilenet_v3_tiny, [
            sn.Rule(nn.Hardswish, replace=sn.oneof([nn.Hardswish, nn.ReLU, nn.GELU]), name="act"),
            sn.Rule(nn.Conv2d, where="features.*.block.1.0", kernel_size=sn.oneof([3, 5]), padding=_same_padding),
            sn.Width("features.[23].*", sn.oneof([0.5, 1.0, 1.5]), name="stage2", divisor=8),
            sn.Rule(InvertedResidual, where="features.[35]", replace=sn.oneof([InvertedResidual, nn.Identity]))]),
            torch.randn(3, 3, 16, 16)),
        "efficientnet": (lambda: sn.patch(efficientnet_tiny, [
            sn.Rule(nn.Conv2d, where="features.*.*.block.1.0", kernel_size=sn.oneof([3, 5]), padding=_same_padding),
            sn.Width("features.[124].*.block.0.0", sn.oneof([0.5, 1.0]), name="expand"),
            sn.Width("features.3.*", sn.oneof([0.5, 1.0, 1.5]), name="stage3", divisor=8)]),
            torch.randn(3, 3, 16, 16)),
        "bert": (lambda: sn.patch(bert_tiny, [
            sn.Width("encoder.layer.*.intermediate.dense", sn.oneof([0.5, 1.0, 2.0]), name="ffn"),
            sn.Width("embeddings.word_embeddings", sn.oneof([0.5, 1.0, 1.5]), name="hidden", divisor=4)],
            BertConfig()), torch.randint(0, 100, (3, 8))),
    }


@pytest.mark.parametrize("name", ["mobilenetv3", "efficientnet", "bert"])
def test_sliced_depthwise_se_and_layernorm_children_match_their_exports(name: str) -> None:
    make, x = _slicing_spaces()[name]
    s = make()
    net = Supernet(s, seed=0).eval()
    for seed in range(3):
        g = s.sample(seed=seed)
        net.set_genome(g)
        child = net.extract(g).eval()
        with torch.no_grad():
            assert torch.allclose(net(x), child(x), atol=1e-5), s.params(g)
    net.set_mode("sampled").train()
    net(x).float().sum().backward()
