"""Make an existing model factory searchable without editing its source.

`make_cnn` below knows nothing of symnas. Rules turn every ReLU into a choice of ReLU/GELU/SiLU and every 3x3
convolution inside the body into a choice of kernel sizes (padding derived from the kernel).

    python examples/patch_existing_model.py
"""
from __future__ import annotations

import torch
import torch.nn as nn

import symnas as sn


def make_cnn(channels: int = 16, classes: int = 10) -> nn.Module:
    """An ordinary factory, as found in any code base."""
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(inplace=True),
        nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU()),
        nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes),
    )


def main() -> None:
    space = sn.patch(make_cnn, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU])),
        sn.Rule(nn.Conv2d, where="[23].*", kernel_size=sn.oneof([3, 5, 7]),
                padding=lambda args: args["kernel_size"] // 2),
    ])
    print(space.describe())
    print("candidates:", space.size)
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0), objectives="min")
    x = torch.randn(4, 1, 8, 8)
    for _ in range(5):
        trial = study.ask()
        model = trial.build(seed=0)
        params = sum(p.numel() for p in model.parameters())
        assert model(x).shape == (4, 10)
        study.tell(trial, params)  # e.g. smallest model; a real job would train and score it
        print(f"trial {trial.number}: {params} parameters  {trial.params}")
    print("smallest:", study.best_trial.params)


if __name__ == "__main__":
    main()
