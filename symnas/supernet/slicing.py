"""Value choices shared by slicing the largest candidate (Once-for-All / BigNAS style).

Where slicing is natural, one weight tensor serves every value of a decision:

* ``sn.nn.Conv2d(..., kernel_size=sn.oneof([3, 5, 7]), padding='same')``: one largest (7×7) kernel; a k×k child
  uses its centre crop. In weighted mode the effective kernel is the softmax mixture of the zero-padded crops (one
  convolution, not one per candidate). Also ``out_channels`` / ``in_channels`` as a ``oneof`` of ints: the first
  ``c`` filters / input channels are used (fixed and sampled modes).
* ``sn.nn.Linear(in_features=..., out_features=sn.oneof([...]))``: the first rows / columns (fixed, sampled).

Width choices must be tied by name between a layer's ``out`` and the next layer's ``in`` so the slices agree.
Everything else (kernel sizes of your own ``@searchable`` blocks, activation classes, ...) is compiled as separate
candidates, one module per combination of values.

Example::

    conv = sn.nn.Conv2d(8, 8, kernel_size=sn.oneof([3, 5]), padding="same")   # compiled to SuperConv2d
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from symnas.supernet.choices import SupernetError, ValueChoice

__all__ = ["SuperConv2d", "SuperLinear", "conv2d_hook", "linear_hook"]

Dim = int | ValueChoice


def _max(v: Dim) -> int:
    return max(v.values) if isinstance(v, ValueChoice) else int(v)


def _cur(v: Dim) -> int:
    return int(v.value()) if isinstance(v, ValueChoice) else int(v)


def _no_weighted(v: Dim, what: str) -> None:
    if isinstance(v, ValueChoice) and v.mode() == "weighted":
        raise SupernetError(f"{v.path}: weighted mode is not supported for {what} (use fixed or sampled)")


class SuperConv2d(nn.Module):
    """A 2-d convolution whose kernel size and channel counts may be value choices, sharing the largest weight.

    Example::

        SuperConv2d(4, 8, 3)        # plain sizes behave as nn.Conv2d(4, 8, 3, padding='same')
    """

    def __init__(self, in_channels: Dim, out_channels: Dim, kernel_size: Dim, stride: int = 1,
                 padding: Any = 0, dilation: int = 1, groups: int = 1, bias: bool = True, **kw: Any) -> None:
        super().__init__()
        where = getattr(kernel_size, "path", "Conv2d")
        if padding != "same" or stride != 1 or dilation != 1 or groups != 1 or kw:
            raise SupernetError(f"{where}: a sliced Conv2d needs padding='same', stride=1, dilation=1, groups=1")
        for k in (kernel_size.values if isinstance(kernel_size, ValueChoice) else [kernel_size]):
            if not isinstance(k, int) or k % 2 == 0:
                raise SupernetError(f"{where}: sliced kernel sizes must be odd ints, got {k!r}")
        self.cin, self.cout, self.k = in_channels, out_channels, kernel_size
        K = _max(kernel_size)
        ref = nn.Conv2d(_max(in_channels), _max(out_channels), K, padding="same", bias=bias)
        self.weight = ref.weight
        self.bias = ref.bias

    def _kernel(self) -> torch.Tensor:
        K = self.weight.shape[-1]
        k = self.k
        if isinstance(k, ValueChoice) and k.mode() == "weighted":
            w = k.weights()
            assert w is not None  # weighted mode
            eff = None
            for i in k.state.active(k.slot):
                m = (K - k.values[i]) // 2
                mask = torch.zeros(K, K, device=self.weight.device, dtype=self.weight.dtype)
                mask[m:K - m, m:K - m] = 1
                term = w[i] * mask
                eff = term if eff is None else eff + term
            assert eff is not None  # at least one candidate is active
            return self.weight * eff
        m = (K - _cur(k)) // 2
        return self.weight[:, :, m:K - m, m:K - m]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _no_weighted(self.cin, "channel slicing")
        _no_weighted(self.cout, "channel slicing")
        cin, cout = _cur(self.cin), _cur(self.cout)
        w = self._kernel()[:cout, :cin]
        b = None if self.bias is None else self.bias[:cout]
        return F.conv2d(x, w, b, padding="same")

    def export_state(self, prefix: str, out: dict[str, torch.Tensor]) -> None:
        cin, cout = _cur(self.cin), _cur(self.cout)
        K = self.weight.shape[-1]
        m = (K - _cur(self.k)) // 2
        out[prefix + "weight"] = self.weight[:cout, :cin, m:K - m, m:K - m].detach().clone()
        if self.bias is not None:
            out[prefix + "bias"] = self.bias[:cout].detach().clone()


class SuperLinear(nn.Module):
    """A linear layer whose feature counts may be value choices (first rows/columns of the largest weight).

    Example::

        SuperLinear(16, 10)
    """

    def __init__(self, in_features: Dim, out_features: Dim, bias: bool = True, **kw: Any) -> None:
        super().__init__()
        if kw:
            raise SupernetError(f"Linear: unsupported arguments {sorted(kw)} for a sliced Linear")
        self.fin, self.fout = in_features, out_features
        ref = nn.Linear(_max(in_features), _max(out_features), bias=bias)
        self.weight, self.bias = ref.weight, ref.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _no_weighted(self.fin, "feature slicing")
        _no_weighted(self.fout, "feature slicing")
        fi, fo = _cur(self.fin), _cur(self.fout)
        return F.linear(x, self.weight[:fo, :fi], None if self.bias is None else self.bias[:fo])

    def export_state(self, prefix: str, out: dict[str, torch.Tensor]) -> None:
        fi, fo = _cur(self.fin), _cur(self.fout)
        out[prefix + "weight"] = self.weight[:fo, :fi].detach().clone()
        if self.bias is not None:
            out[prefix + "bias"] = self.bias[:fo].detach().clone()


def _has_choice(args: tuple, kwargs: dict) -> bool:
    return any(isinstance(v, ValueChoice) for v in list(args) + list(kwargs.values()))


def conv2d_hook(*args: Any, **kwargs: Any) -> nn.Module:
    """Supernet hook of ``torch.nn.Conv2d``: a plain conv without value choices, else :class:`SuperConv2d`."""
    if not _has_choice(args, kwargs):
        return nn.Conv2d(*args, **kwargs)
    return SuperConv2d(*args, **kwargs)


def linear_hook(*args: Any, **kwargs: Any) -> nn.Module:
    """Supernet hook of ``torch.nn.Linear``: plain without value choices, else :class:`SuperLinear`."""
    if not _has_choice(args, kwargs):
        return nn.Linear(*args, **kwargs)
    return SuperLinear(*args, **kwargs)
