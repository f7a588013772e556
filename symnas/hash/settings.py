"""Module settings that an eval-mode forward pass at initialisation cannot see, and how they reach the hash.

The functional hash (:mod:`symnas.hash.functional`) probes a module in eval mode with re-seeded weights, so some
settings never show in its output although training depends on them: dropout rates, normalisation momentum and
eps, whether running statistics are tracked, embedding padding rows, attention dropout. This module classifies
them explicitly: :data:`HIDDEN` maps a torch module class to ``{attribute: reference value}``. A module whose
hidden attribute differs from the reference value gets its output *perturbed* during the probe by a small,
deterministic amount derived from the attribute values (see :func:`perturb`), so the setting becomes part of the
function at the place where it acts: two candidates that differ only in a dropout rate hash apart, while a setting
inside a dead branch stays invisible and equal settings in swapped branches still collide. The reference value is
the setting's inert value where one exists (dropout ``p = 0``), otherwise PyTorch's default.

Users declare more with :func:`declare_hidden` (or a class attribute ``symnas_hidden = {"attr": reference}``) for
their own module classes, e.g. a drop-path module.

Example::

    >>> import torch.nn as nn
    >>> hidden_settings(nn.Dropout(0.1)), hidden_settings(nn.Dropout(0.0)), hidden_settings(nn.Conv2d(1, 1, 1))
    ((('p', 0.1),), (), ())
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

_HIDDEN_BY_NAME: dict[str, dict[str, Any]] = {}
_BN = {"momentum": 0.1, "eps": 1e-5, "track_running_stats": True}
_EMB = {"padding_idx": None, "max_norm": None, "scale_grad_by_freq": False, "sparse": False}
for _n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
    _HIDDEN_BY_NAME[f"torch.nn.modules.dropout.{_n}"] = {"p": 0.0}
for _n in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LazyBatchNorm1d", "LazyBatchNorm2d",
           "LazyBatchNorm3d"):
    _HIDDEN_BY_NAME[f"torch.nn.modules.batchnorm.{_n}"] = dict(_BN)
for _n in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"):
    _HIDDEN_BY_NAME[f"torch.nn.modules.instancenorm.{_n}"] = {"momentum": 0.1, "eps": 1e-5,
                                                                "track_running_stats": False}
_HIDDEN_BY_NAME["torch.nn.modules.normalization.GroupNorm"] = {"eps": 1e-5}
_HIDDEN_BY_NAME["torch.nn.modules.normalization.LayerNorm"] = {"eps": 1e-5}
_HIDDEN_BY_NAME["torch.nn.modules.normalization.RMSNorm"] = {"eps": None}
_HIDDEN_BY_NAME["torch.nn.modules.activation.MultiheadAttention"] = {"dropout": 0.0}
_HIDDEN_BY_NAME["torch.nn.modules.sparse.Embedding"] = dict(_EMB)
_HIDDEN_BY_NAME["torch.nn.modules.sparse.EmbeddingBag"] = {"max_norm": None, "scale_grad_by_freq": False,
                                                           "sparse": False, "padding_idx": None}
for _n in ("RNN", "LSTM", "GRU"):
    _HIDDEN_BY_NAME[f"torch.nn.modules.rnn.{_n}"] = {"dropout": 0.0}

HIDDEN: Mapping[str, Mapping[str, Any]] = _HIDDEN_BY_NAME
_CACHE: dict[type, tuple[tuple[str, Any], ...]] = {}


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def declare_hidden(cls: type, **reference: Any) -> type:
    """Declares attributes of ``cls`` that training depends on but the probe cannot see, with their inert values.

    Example::

        >>> import torch.nn as nn
        >>> class DropPath(nn.Module):
        ...     def __init__(self, p): super().__init__(); self.drop_prob = p
        ...     def forward(self, x): return x
        >>> _ = declare_hidden(DropPath, drop_prob=0.0)
        >>> hidden_settings(DropPath(0.2))
        (('drop_prob', 0.2),)
    """
    _HIDDEN_BY_NAME[_path(cls)] = dict(reference)
    _CACHE.clear()
    return cls


def _reference_of(cls: type) -> tuple[tuple[str, Any], ...]:
    got = _CACHE.get(cls)
    if got is None:
        ref: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            ref.update(_HIDDEN_BY_NAME.get(_path(klass), {}))
            own = klass.__dict__.get("symnas_hidden")
            if isinstance(own, Mapping):
                ref.update(own)
        got = _CACHE[cls] = tuple(sorted(ref.items()))
    return got


def hidden_settings(module: Any) -> tuple[tuple[str, Any], ...]:
    """The hidden settings of ``module`` that differ from their reference values, as sorted ``(name, value)``."""
    out = []
    for name, ref in _reference_of(type(module)):
        value = getattr(module, name, ref)
        if isinstance(value, float) and isinstance(ref, (int, float)) and not isinstance(ref, bool):
            same = value == ref
        else:
            same = value == ref and type(value) is type(ref)
        if not same:
            out.append((name, value))
    return tuple(out)


def settings_seed(settings: tuple[tuple[str, Any], ...]) -> int:
    """A 64-bit seed from the repr of hidden settings (stable across processes)."""
    return int.from_bytes(hashlib.sha256(repr(settings).encode()).digest()[:8], "little")


__all__ = ["HIDDEN", "declare_hidden", "hidden_settings", "settings_seed"]
