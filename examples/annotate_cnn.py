"""Annotate your own CNN and run random search with real training on scikit-learn's digits (8x8 images).

Runs in well under a minute on 2 CPU cores:  python examples/annotate_cnn.py --trials 8
"""
from __future__ import annotations

import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

import symnas as sn


@sn.searchable
class Block(nn.Module):
    def __init__(self, c_in: int, c_out: int, kernel: int = 3, act: type = nn.ReLU) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=kernel // 2)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


@sn.searchable
class DigitsNet(nn.Module):
    def __init__(self, blocks: list, width: int = 16, classes: int = 10) -> None:
        super().__init__()
        self.body = nn.Sequential(*blocks)
        self.head = nn.Linear(width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x).mean((2, 3)))


def make_space(width: int = 16) -> sn.Space:
    def block(c_in: int) -> object:
        return Block(c_in, width, kernel=sn.oneof([1, 3, 5]), act=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU]))

    # A variable-length list of blocks: one, two or three, each with its own decisions.
    blocks = sn.oneof([[block(1)], [block(1), block(width)], [block(1), block(width), block(width)]], name="depth")
    return sn.Space(DigitsNet(blocks=blocks, width=width), name="digits-cnn")


def load_digits_tensors() -> tuple[torch.Tensor, ...]:
    from sklearn.datasets import load_digits  # ships with scikit-learn: nothing is downloaded

    x, y = load_digits(return_X_y=True)
    x = torch.tensor(x, dtype=torch.float32).view(-1, 1, 8, 8) / 16.0
    y = torch.tensor(y)
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(x), generator=g)
    split = int(0.8 * len(x))
    return x[idx[:split]], y[idx[:split]], x[idx[split:]], y[idx[split:]]


def train_and_score(model: nn.Module, data: tuple, epochs: int = 3, seed: int = 0) -> float:
    xtr, ytr, xva, yva = data
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(epochs):
        model.train()
        for i in range(0, len(xtr), 64):
            opt.zero_grad()
            F.cross_entropy(model(xtr[i:i + 64]), ytr[i:i + 64]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return (model(xva).argmax(1) == yva).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = load_digits_tensors()
    space = make_space()
    print(f"space: {len(space.decisions)} decisions, {space.size} candidates")
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0), objectives={"val_acc": "max"})
    study.optimize(lambda t: train_and_score(t.build(seed=0), data, args.epochs), n_trials=args.trials)
    for t in study.trials:
        print(f"trial {t.number}: val_acc={t.value:.3f}  {t.params}")
    print("best:", round(study.best_value, 4), study.best_trial.description)


if __name__ == "__main__":
    main()
