"""A timm/torchvision-style EfficientNet: MBConv blocks (SiLU, SE, stochastic depth), width and depth multipliers."""
from __future__ import annotations

import copy
import math
from functools import partial

import torch
from torch import Tensor, nn


def _make_divisible(v: float, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


class StochasticDepth(nn.Module):
    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty([x.shape[0], 1, 1, 1], dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)


class SqueezeExcite(nn.Module):
    def __init__(self, chs: int, rd_chs: int, act_layer: type = nn.SiLU) -> None:
        super().__init__()
        self.conv_reduce = nn.Conv2d(chs, rd_chs, 1, bias=True)
        self.act1 = act_layer(inplace=True)
        self.conv_expand = nn.Conv2d(rd_chs, chs, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: Tensor) -> Tensor:
        x_se = x.mean((2, 3), keepdim=True)
        x_se = self.conv_expand(self.act1(self.conv_reduce(x_se)))
        return x * self.gate(x_se)


class ConvBnAct(nn.Sequential):
    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__(nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout),
                         nn.SiLU(inplace=True) if act else nn.Identity())


class MBConv(nn.Module):
    def __init__(self, cfg: "MBConvConfig", sd_prob: float) -> None:
        super().__init__()
        self.use_res = cfg.stride == 1 and cfg.input_channels == cfg.out_channels
        mid = _make_divisible(cfg.input_channels * cfg.expand_ratio)
        layers: list[nn.Module] = []
        if mid != cfg.input_channels:
            layers.append(ConvBnAct(cfg.input_channels, mid, 1))
        layers.append(ConvBnAct(mid, mid, cfg.kernel, cfg.stride, groups=mid))
        layers.append(SqueezeExcite(mid, max(1, cfg.input_channels // 4)))
        layers.append(ConvBnAct(mid, cfg.out_channels, 1, act=False))
        self.block = nn.Sequential(*layers)
        self.stochastic_depth = StochasticDepth(sd_prob)

    def forward(self, x: Tensor) -> Tensor:
        out = self.block(x)
        if self.use_res:
            out = self.stochastic_depth(out) + x
        return out


class MBConvConfig:
    def __init__(self, expand_ratio: float, kernel: int, stride: int, input_channels: int, out_channels: int,
                 num_layers: int, width_mult: float = 1.0, depth_mult: float = 1.0) -> None:
        self.expand_ratio, self.kernel, self.stride = expand_ratio, kernel, stride
        self.input_channels = _make_divisible(input_channels * width_mult)
        self.out_channels = _make_divisible(out_channels * width_mult)
        self.num_layers = int(math.ceil(num_layers * depth_mult))


class EfficientNet(nn.Module):
    def __init__(self, settings: list[MBConvConfig], num_classes: int = 10, stochastic_depth_prob: float = 0.2,
                 last_channel: int = 64) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBnAct(3, settings[0].input_channels, 3, stride=2)]
        total = sum(c.num_layers for c in settings)
        stage_block_id = 0
        for cnf in settings:
            stage: list[nn.Module] = []
            for _ in range(cnf.num_layers):
                block_cnf = copy.copy(cnf)
                if stage:
                    block_cnf.input_channels = block_cnf.out_channels
                    block_cnf.stride = 1
                sd_prob = stochastic_depth_prob * float(stage_block_id) / total
                stage.append(MBConv(block_cnf, sd_prob))
                stage_block_id += 1
            layers.append(nn.Sequential(*stage))
        layers.append(ConvBnAct(settings[-1].out_channels, last_channel, 1))
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(p=0.2, inplace=True), nn.Linear(last_channel, num_classes))

    def forward(self, x: Tensor) -> Tensor:
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def efficientnet_tiny(num_classes: int = 10, width_mult: float = 0.5, depth_mult: float = 1.0) -> EfficientNet:
    """An EfficientNet-B0-like layout (four stages), at a small width."""
    bneck = partial(MBConvConfig, width_mult=width_mult, depth_mult=depth_mult)
    settings = [bneck(1, 3, 1, 32, 16, 1), bneck(6, 3, 2, 16, 24, 2), bneck(6, 5, 2, 24, 40, 2),
                bneck(6, 3, 2, 40, 80, 1)]
    return EfficientNet(settings, num_classes=num_classes, last_channel=_make_divisible(128 * width_mult))
