"""Example spaces shared by the core tests (importable so property tests can sample them)."""
from __future__ import annotations

import torch
import torch.nn as nn

import symnas as sn


@sn.searchable
class ConvBlock(nn.Module):
    def __init__(self, c: int, kernel: int = 3, act: type = nn.ReLU, expand: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c, c * expand, kernel, padding=kernel // 2)
        self.act = act()
        self.conv2 = nn.Conv2d(c * expand, c, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


@sn.searchable
class PoolBlock(nn.Module):
    def __init__(self, c: int, kind: str = "avg") -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(3, 1, 1) if kind == "avg" else nn.MaxPool2d(3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)


@sn.searchable
class Net(nn.Module):
    def __init__(self, stages: list, c: int = 8, classes: int = 10, dropout: float = 0.0) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, c, 3, padding=1)
        self.stages = nn.ModuleList([nn.Sequential(*blocks) for blocks in stages])
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for s in self.stages:
            x = s(x)
        return self.head(self.drop(x.mean((2, 3))))


def block(c: int = 8):
    """A choice among whole sub-modules, each with its own nested decisions."""
    return sn.oneof([
        ConvBlock(c, kernel=sn.oneof([3, 5]), act=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU]),
                  expand=sn.intv(1, 4)),
        PoolBlock(c, kind=sn.oneof(["avg", "max"])),
        sn.nn.Identity(),
    ])


def cnn_space() -> sn.Space:
    """Nested modules, variable-length lists of blocks, conditional sub-spaces, float and int ranges."""
    stages = [sn.oneof([[block()], [block(), block()], [block(), block(), block()]]) for _ in range(2)]
    return sn.Space(Net(stages=stages, c=8, dropout=sn.floatv(0.0, 0.5)), name="cnn")


def hpo_space() -> sn.Space:
    return sn.Space({
        "lr": sn.floatv(1e-4, 1e-1, scale="log"),
        "batch": sn.intv(16, 256, log=True),
        "optimizer": sn.oneof([{"name": "sgd", "momentum": sn.floatv(0.0, 0.99, step=0.01)},
                               {"name": "adam", "beta1": sn.floatv(0.8, 0.99)}]),
        "augment": sn.manyof(2, ["flip", "crop", "cutout", "mixup"], sorted=True),
        "order": sn.permutation(["a", "b", "c"]),
        "tied_a": sn.oneof([1, 2, 3], name="shared"),
        "tied_b": sn.oneof([1, 2, 3], name="shared"),
    }, name="hpo")


def categorical_space(n: int = 20) -> sn.Space:
    return sn.Space({f"d{i}": sn.oneof(list(range(5))) for i in range(n)}, name="cat20")
