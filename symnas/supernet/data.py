"""Small real data for weight-sharing runs on CPU: scikit-learn's digits (8x8 images, shipped with the package).

Example::

    data = digits_data(seed=0, channels=3)     # train / val / test tensors, images (N, 3, 8, 8) in [0, 1]
    xb, yb = next(data.batches("train", 64))
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Union, cast

import torch

from symnas.supernet.choices import SupernetError

__all__ = ["Data", "digits_data"]


@dataclass
class Data:
    """Train / validation / test splits as tensors (features first dimension is the sample)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int = 10

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name not in ("train", "val", "test"):
            raise SupernetError(f"Data.split: unknown split {name!r} (train, val, test)")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def batches(self, name: str, batch_size: int, seed: int = 0, device: Union[torch.device, str, int, None] = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Endless shuffled mini-batches of one split (a new permutation every epoch)."""
        x, y = self.split(name)
        if device is not None:
            x, y = x.to(device), y.to(device)
        g = torch.Generator().manual_seed(seed)
        n = len(x)
        while True:
            perm = torch.randperm(n, generator=g).to(x.device)
            for i in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
                idx = perm[i:i + batch_size]
                yield x[idx], y[idx]


def digits_data(seed: int = 0, channels: int = 1, size: int = 8, flat: bool = False,
                fractions: tuple[float, float] = (0.6, 0.2)) -> Data:
    """scikit-learn's digits (1,797 images of 8x8, 10 classes), split train/val/test by ``fractions``.

    ``channels`` repeats the grey channel (3 for NAS-Bench-201's stem); ``size`` resizes (bilinear); ``flat``
    returns 64-feature vectors instead of images.

    Example::

        data = digits_data(seed=0, channels=3)    # for NAS-Bench-201's 3-channel stem
    """
    from sklearn.datasets import load_digits
    from sklearn.utils import Bunch

    d = cast(Bunch, load_digits())  # a Bunch unless return_X_y=True
    x = torch.tensor(d.data, dtype=torch.float32) / 16.0
    y = torch.tensor(d.target, dtype=torch.long)
    if not flat:
        x = x.view(-1, 1, 8, 8)
        if size != 8:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        x = x.repeat(1, channels, 1, 1)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x), generator=g)
    a = int(fractions[0] * len(x))
    b = a + int(fractions[1] * len(x))
    tr, va, te = perm[:a], perm[a:b], perm[b:]
    return Data(x[tr], y[tr], x[va], y[va], x[te], y[te], 10)
