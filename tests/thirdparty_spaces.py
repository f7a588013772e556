"""Search spaces over the third-party-style factories of ``tests/thirdparty_models``, made with rules only."""
from __future__ import annotations

import torch
from torch import nn

import symnas as sn
from tests.thirdparty_models.bert import BertConfig, bert_tiny
from tests.thirdparty_models.efficientnet import efficientnet_tiny
from tests.thirdparty_models.mobilenetv3 import InvertedResidual, mobilenet_v3_tiny
from tests.thirdparty_models.resnet import BasicBlock, resnet_tiny

IMAGE = (2, 3, 32, 32)


def same_padding(a: dict) -> int:
    return a["kernel_size"] // 2


def resnet_space() -> sn.Space:
    """Activations, 3x3 kernels of the first conv of each block, stage widths tied across blocks (residual
    partners and downsample branches follow), depth by skipping the second block of a stage."""
    return sn.patch(resnet_tiny, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU]), name="act"),
        sn.Rule(nn.Conv2d, where="layer*.conv1", kernel_size=sn.oneof([3, 5]), padding=same_padding),
        *[sn.Width(f"layer{i}.*", sn.oneof([0.5, 1.0, 1.5]), name=f"stage{i}", divisor=4) for i in range(1, 5)],
        sn.Rule(BasicBlock, where="layer*.1", replace=sn.oneof([BasicBlock, nn.Identity])),
    ], num_classes=10)


def mobilenet_space() -> sn.Space:
    """In-place Hardswish swapped for other activations, depthwise kernel sizes, stage widths, the width
    multiplier of the factory, and depth by skipping blocks with a residual."""
    return sn.patch(mobilenet_v3_tiny, [
        sn.Rule(nn.Hardswish, replace=sn.oneof([nn.Hardswish, nn.ReLU, nn.GELU, nn.SiLU]), name="act"),
        sn.Rule(nn.Conv2d, where="features.*.block.1.0", kernel_size=sn.oneof([3, 5, 7]), padding=same_padding),
        sn.Width("features.[23].*", sn.oneof([0.5, 1.0, 1.5]), name="stage2", divisor=8),
        sn.Width("features.[45].*", sn.oneof([0.5, 1.0, 1.5]), name="stage3", divisor=8),
        sn.Rule(InvertedResidual, where="features.[35]", replace=sn.oneof([InvertedResidual, nn.Identity])),
    ], width_mult=sn.oneof([0.75, 1.0]))


def efficientnet_space() -> sn.Space:
    """Activations, depthwise kernel sizes, the expansion width of every MBConv (tied), one stage's width, and
    depth through the factory's own depth multiplier (conditional decisions per structure)."""
    return sn.patch(efficientnet_tiny, [
        sn.Rule(nn.SiLU, replace=sn.oneof([nn.SiLU, nn.ReLU, nn.Hardswish]), name="act"),
        sn.Rule(nn.Conv2d, where="features.*.*.block.1.0", kernel_size=sn.oneof([3, 5]), padding=same_padding),
        sn.Width("features.[124].*.block.0.0", sn.oneof([0.5, 1.0]), name="expand"),
        sn.Width("features.3.*", sn.oneof([0.5, 1.0, 1.5]), name="stage3", divisor=8),
    ], depth_mult=sn.oneof([0.5, 1.0, 1.5]))


def bert_space() -> sn.Space:
    """Activations, the hidden size (every embedding, residual stream and LayerNorm follows), the feed-forward
    width tied across layers, and depth and attention heads from placeholders in the config object."""
    return sn.patch(bert_tiny, [
        sn.Rule(nn.GELU, replace=sn.oneof([nn.GELU, nn.ReLU, nn.SiLU]), name="act"),
        sn.Width("encoder.layer.*.intermediate.dense", sn.oneof([0.5, 1.0, 2.0]), name="ffn"),
        sn.Width("embeddings.word_embeddings", sn.oneof([0.5, 1.0, 1.5]), name="hidden", divisor=4),
    ], config=BertConfig(num_hidden_layers=sn.oneof([1, 2, 3]), num_attention_heads=sn.oneof([2, 4])))


def image_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*IMAGE, generator=g), torch.randint(0, 10, (IMAGE[0],), generator=g)


def token_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 100, (2, 8), generator=g), torch.randint(0, 3, (2,), generator=g)


SPACES = {
    "resnet": (resnet_space, image_batch),
    "mobilenetv3": (mobilenet_space, image_batch),
    "efficientnet": (efficientnet_space, image_batch),
    "bert": (bert_space, token_batch),
}
