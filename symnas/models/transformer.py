"""A small transformer encoder classifier over token ids (pre-norm layers, learned positions, CLS or mean pool).

The number of heads and the MLP ratio may be one value for all layers or a list with one entry per layer (a list
longer than ``num_layers`` is cut, so a space can make the depth a decision).

Example::

    >>> import torch
    >>> net = TransformerClassifier(vocab_size=50, max_len=16, num_layers=2, num_heads=[2, 4], hidden=16,
    ...                             mlp_ratio=2.0, num_classes=3)
    >>> net(torch.randint(0, 50, (4, 12))).shape
    torch.Size([4, 3])
"""
from __future__ import annotations

from typing import Any, Sequence, Union

import torch
from torch import nn

from symnas.errors import BuildError
from symnas.symbolic.spec import register

__all__ = ["TransformerClassifier"]


def _per_layer(value: Union[Any, Sequence[Any]], n: int, where: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if len(value) < n:
            raise BuildError(f"{where}: per-layer list has {len(value)} entries, num_layers is {n}")
        return list(value[:n])
    return [value] * n


class TransformerClassifier(nn.Module):
    """Token embedding + learned position embedding → ``num_layers`` pre-norm encoder layers (multi-head
    self-attention, GELU MLP of width ``mlp_ratio * hidden``) → LayerNorm → pooled (``'cls'`` token or
    ``'mean'``) → linear classifier. Input: a LongTensor ``(batch, seq_len)``, ``seq_len <= max_len``;
    token id ``pad_id`` (if not None) is masked out of attention and of the mean pool.

    Signature (all JSON-able)::

        TransformerClassifier(vocab_size: int = 1000, max_len: int = 128, num_layers: int = 2,
                              num_heads: int | list[int] = 2,     # must divide hidden
                              hidden: int = 64, mlp_ratio: float | list[float] = 2.0,
                              num_classes: int = 2, dropout: float = 0.0, pool: str = 'cls',
                              pad_id: int | None = None)

    Example::

        >>> TransformerClassifier(20, 8, 1, 2, 8, pool='mean', pad_id=0)(torch.tensor([[3, 4, 0, 0]])).shape
        torch.Size([1, 2])
    """

    def __init__(self, vocab_size: int = 1000, max_len: int = 128, num_layers: int = 2,
                 num_heads: Union[int, Sequence[int]] = 2, hidden: int = 64,
                 mlp_ratio: Union[float, Sequence[float]] = 2.0, num_classes: int = 2, dropout: float = 0.0,
                 pool: str = "cls", pad_id: Any = None) -> None:
        super().__init__()
        w = "TransformerClassifier"
        for name, v in (("vocab_size", vocab_size), ("max_len", max_len), ("num_layers", num_layers),
                        ("hidden", hidden), ("num_classes", num_classes)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise BuildError(f"{w}: argument {name} must be a positive int, got {v!r}")
        if pool not in ("cls", "mean"):
            raise BuildError(f"{w}: argument pool must be 'cls' or 'mean', got {pool!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise BuildError(f"{w}: argument dropout must be in [0, 1), got {dropout!r}")
        heads = _per_layer(num_heads, num_layers, f"{w}: argument num_heads")
        ratios = _per_layer(mlp_ratio, num_layers, f"{w}: argument mlp_ratio")
        layers = []
        for i, (h, r) in enumerate(zip(heads, ratios)):
            if isinstance(h, bool) or not isinstance(h, int) or h < 1 or hidden % h:
                raise BuildError(f"{w}: num_heads of layer {i} must be a positive divisor of hidden={hidden}, "
                                 f"got {h!r}")
            if isinstance(r, bool) or not isinstance(r, (int, float)) or r <= 0:
                raise BuildError(f"{w}: mlp_ratio of layer {i} must be > 0, got {r!r}")
            layers.append(nn.TransformerEncoderLayer(hidden, h, max(1, int(round(hidden * r))), dropout,
                                                     activation="gelu", batch_first=True, norm_first=True))
        self.pool, self.pad_id, self.max_len = pool, pad_id, max_len
        self.embed = nn.Embedding(vocab_size, hidden)
        self.pos = nn.Parameter(torch.zeros(1, max_len + (pool == "cls"), hidden))
        nn.init.normal_(self.pos, std=0.02)
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden)) if pool == "cls" else None
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(hidden)
        self.classifier = nn.Linear(hidden, num_classes)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() != 2 or tokens.shape[1] > self.max_len:
            raise BuildError(f"TransformerClassifier: input must be (batch, seq_len <= {self.max_len}) token ids, "
                             f"got shape {tuple(tokens.shape)}")
        x = self.embed(tokens)
        pad = tokens.eq(self.pad_id) if self.pad_id is not None else torch.zeros_like(tokens, dtype=torch.bool)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
            pad = torch.cat([torch.zeros_like(pad[:, :1]), pad], 1)
        x = x + self.pos[:, :x.shape[1]]
        mask = pad if bool(pad.any()) else None
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=mask)
        x = self.norm(x)
        if self.cls is not None:
            return self.classifier(x[:, 0])
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        return self.classifier((x * keep).sum(1) / keep.sum(1).clamp_min(1.0))


register(TransformerClassifier)
