"""MobileNetV3-style, ResNet-style and transformer builders: shapes, per-stage settings, errors, spaces."""
from __future__ import annotations

import pytest
import torch

import symnas as sn
from symnas.models.mobilenet import MBConv, MobileNetV3Net, SqueezeExcite
from symnas.models.resnet import BasicBlock, Bottleneck, ResNet
from symnas.models.transformer import TransformerClassifier


@pytest.mark.parametrize("kw", [
    dict(depths=[1, 2], widths=[8, 16], kernels=[3, 5], expansions=[1, 4], se=[False, True]),
    dict(depths=[2, 1, 1], widths=[8, 16, 24], kernels=[[3, 7, 5], 5, 7], expansions=[[3, 6], 4, 2.5],
         se=[[True, False], False, True], strides=[1, 2, 1]),
])
def test_mobilenet_forward(kw: dict) -> None:
    net = MobileNetV3Net(**kw, stem_width=8, head_width=32, num_classes=4)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 4)
    assert len(net.blocks) == sum(kw["depths"])


def test_mobilenet_per_block_settings_reach_the_blocks() -> None:
    net = MobileNetV3Net([3], [8], [[3, 5, 7, 9]], [[1, 2, 3, 9]], [[False, True, False, True]], stem_width=8,
                         head_width=8)
    kernels = [next(m for m in b.block if isinstance(m, torch.nn.Conv2d) and m.groups > 1).kernel_size[0]
               for b in net.blocks]
    assert kernels == [3, 5, 7]  # the 4th entry is cut: the stage has 3 blocks
    assert [any(isinstance(m, SqueezeExcite) for m in b.block) for b in net.blocks] == [False, True, False]
    assert [b.residual for b in net.blocks] == [True, True, True]


def test_mobilenet_errors_name_the_argument() -> None:
    with pytest.raises(sn.BuildError, match=r"kernels\[0\]\[0\] must be odd"):
        MobileNetV3Net([1], [8], [4], [1], [False])
    with pytest.raises(sn.BuildError, match=r"kernels\[0\]: per-block list"):
        MobileNetV3Net([3], [8], [[3, 5]], [1], [False])
    with pytest.raises(sn.BuildError, match="argument se"):
        MobileNetV3Net([1, 1], [8, 8], [3, 3], [1, 1], [False])


def test_mbconv_shapes() -> None:
    assert MBConv(8, 16, 3, 2, 4, True)(torch.randn(1, 8, 8, 8)).shape == (1, 16, 4, 4)


@pytest.mark.parametrize("block", ["basic", "bottleneck"])
def test_resnet_forward_and_depth(block: str) -> None:
    net = ResNet([2, 1, 1], [8, 16, 32], block=block, stem_width=8, num_classes=7)
    assert net(torch.randn(2, 3, 16, 16)).shape == (2, 7)
    kind = BasicBlock if block == "basic" else Bottleneck
    assert [type(b) for b in net.blocks] == [kind] * 4
    out = net.blocks(net.stem(torch.randn(1, 3, 16, 16)))
    assert out.shape == (1, 32, 4, 4)  # two stride-2 stages


def test_resnet_errors() -> None:
    with pytest.raises(sn.BuildError, match="argument block"):
        ResNet([1], [8], block="wide")
    with pytest.raises(sn.BuildError, match=r"depths\[1\]"):
        ResNet([1, 0], [8, 8])


@pytest.mark.parametrize("pool", ["cls", "mean"])
def test_transformer_forward(pool: str) -> None:
    net = TransformerClassifier(vocab_size=30, max_len=10, num_layers=3, num_heads=[1, 2, 4], hidden=8,
                                mlp_ratio=[1.0, 2.0, 4.0], num_classes=3, pool=pool, pad_id=0)
    tok = torch.randint(1, 30, (4, 10))
    tok[:, 7:] = 0
    out = net(tok)
    assert out.shape == (4, 3) and torch.isfinite(out).all()
    assert [layer.self_attn.num_heads for layer in net.layers] == [1, 2, 4]
    assert [layer.linear1.out_features for layer in net.layers] == [8, 16, 32]


def test_transformer_padding_is_ignored() -> None:
    torch.manual_seed(0)
    net = TransformerClassifier(vocab_size=30, max_len=10, num_layers=1, num_heads=2, hidden=8, pool="mean",
                                pad_id=0).eval()
    tok = torch.tensor([[5, 6, 7, 0, 0]])
    assert torch.allclose(net(tok), net(tok[:, :3]), atol=1e-5)


def test_transformer_errors() -> None:
    with pytest.raises(sn.BuildError, match="num_heads of layer 0"):
        TransformerClassifier(num_heads=3, hidden=8)
    with pytest.raises(sn.BuildError, match="seq_len <= 4"):
        TransformerClassifier(max_len=4, hidden=8)(torch.zeros(1, 5, dtype=torch.long))


def test_macro_nets_build_from_spaces() -> None:
    spaces = [
        sn.Spec(MobileNetV3Net, kwargs=dict(depths=[sn.intv(1, 2), sn.intv(1, 3)], widths=[8, 16],
                                            kernels=[sn.oneof([3, 5, 7]), [sn.oneof([3, 5, 7])] * 3],
                                            expansions=[sn.oneof([1, 3, 6])] * 2, se=[sn.boolv(), sn.boolv()],
                                            stem_width=8, head_width=16)),
        sn.Spec(ResNet, kwargs=dict(depths=[sn.intv(1, 2)] * 2, widths=[sn.oneof([8, 16])] * 2,
                                    block=sn.oneof(["basic", "bottleneck"]), stem_width=8)),
        sn.Spec(TransformerClassifier, kwargs=dict(vocab_size=20, max_len=8, num_layers=sn.intv(1, 2),
                                                   num_heads=sn.oneof([1, 2, 4]), hidden=sn.oneof([8, 16]),
                                                   mlp_ratio=sn.oneof([1.0, 2.0]))),
    ]
    inputs = [torch.randn(1, 3, 16, 16), torch.randn(1, 3, 16, 16), torch.randint(0, 20, (1, 8))]
    for tree, x in zip(spaces, inputs):
        space = sn.Space(tree)
        for seed in range(3):
            assert space.build(space.sample(seed), seed=0)(x).shape[0] == 1
