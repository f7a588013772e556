"""Functional hash of a built torch module: hash what it computes, not how it is written.

Design (details and failure modes in ``docs/hashing.md``):

* **Probe**: fixed inputs (float64 normal, from a fixed numpy PCG64 seed and the shape), float64 on CPU, eval
  mode, no grad.
* **Weights from the input, not from creation order**: every module that owns parameters is re-initialised on its
  first call, from a seed derived from *the fingerprint of the input it receives*, its class name and its
  parameter names/shapes. Two isomorphic graphs therefore get equal weights at corresponding ops whatever order
  their parameters were created in (trap 1), while ops that read different inputs get different weights, so
  ``conv(x) + conv(x)`` (``2 conv_W(x)``) and ``conv(2x)`` (``conv_W'(2x)``) stay apart (trap 2). Normalisation
  layers (BatchNorm/GroupNorm/LayerNorm/InstanceNorm) are reset to PyTorch's defaults instead (identity affine,
  zero mean / unit variance running stats) so that ops map zero to zero as in training's starting point.
* **Float noise**: a tensor is summarised by few well-conditioned numbers: ``log2`` of its L2 norm and a few
  projections of the unit-normalised tensor on fixed pseudo-random unit directions (values in [-1, 1]), each
  rounded to ``bits`` fractional bits. Summation order (branch order, thread count) moves these by ~1e-15 while the
  rounding step is ~1e-6, so a flip needs a value within 1e-15 of a rounding boundary.
* Every parameter is set to NaN before the probe: a parameter read without its module being called (so never
  seeded) makes the output NaN and raises :class:`FunctionalHashError` instead of giving a silently
  order-dependent hash. The module's parameters, buffers, dtype and mode are restored afterwards.

Example::

    >>> import torch.nn as nn
    >>> a = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
    >>> b = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())   # other random weights, same function
    >>> functional_hash(a, (2, 3, 8, 8)) == functional_hash(b, (2, 3, 8, 8))
    True
"""
from __future__ import annotations

import contextlib
import hashlib
import math
from typing import Any, Iterator, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from symnas.errors import SymnasError

_NORM_TYPES: tuple[type, ...] = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)
_DIRECTIONS: dict[tuple[int, int], torch.Tensor] = {}
Shape = Sequence[int]


class FunctionalHashError(SymnasError, RuntimeError):
    """The functional hash could not be computed (bad probe shape, the module failed or produced NaN)."""


def probe_input(shape: Shape, seed: int = 0) -> torch.Tensor:
    """The fixed float64 probe input of ``shape`` (standard normal, numpy PCG64 seeded by ``seed`` and shape).

    Example::

        >>> bool((probe_input((2, 3)) == probe_input((2, 3))).all())
        True
    """
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise FunctionalHashError(f"input_shape: expected a sequence of ints, got {shape!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise FunctionalHashError(f"input_shape: expected positive dimensions, got {shape!r}")
    rng = np.random.Generator(np.random.PCG64([seed, *dims]))
    return torch.from_numpy(rng.standard_normal(dims))


def _directions(n: int, k: int) -> torch.Tensor:
    key = (n, k)
    got = _DIRECTIONS.get(key)
    if got is None:
        rng = np.random.Generator(np.random.PCG64([0x5EED, n, k]))
        d = rng.standard_normal((k, n))
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        got = _DIRECTIONS[key] = torch.from_numpy(d)
    return got


def fingerprint(t: torch.Tensor, bits: int = 20, projections: int = 8) -> tuple:
    """A float-noise-tolerant summary of a tensor: shape, rounded log2-norm, rounded unit projections.

    Example::

        >>> x = probe_input((4, 5))
        >>> fingerprint(x) == fingerprint(x * (1 + 1e-13))
        True
        >>> fingerprint(x) == fingerprint(2 * x)
        False
    """
    x = t.detach().to(torch.float64).reshape(-1)
    shape = tuple(t.shape)
    if x.numel() == 0:
        return (shape, "empty")
    norm = float(torch.linalg.vector_norm(x))
    if not math.isfinite(norm):
        raise FunctionalHashError(f"tensor of shape {shape} is not finite (NaN/inf)")
    if norm == 0.0:
        return (shape, "zero")
    scale = float(2 ** bits)
    proj = (_directions(x.numel(), min(projections, x.numel())) @ (x / norm)).tolist()
    return (shape, round(math.log2(norm) * scale), tuple(round(p * scale) for p in proj))


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for k in sorted(obj, key=repr):
            yield from _tensors(obj[k])
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)


def _own_params(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    return [(k, p) for k, p in module._parameters.items() if p is not None]


def _seed_of(module: nn.Module, args: Any, bits: int) -> int:
    sig: list = [type(module).__name__]
    sig += [(name, tuple(p.shape)) for name, p in _own_params(module)]
    sig += [fingerprint(t, bits) for t in _tensors(args)]
    return int.from_bytes(hashlib.sha256(repr(sig).encode()).digest()[:8], "little")


def _init_from_seed(module: nn.Module, seed: int) -> None:
    rng = np.random.Generator(np.random.PCG64(seed))
    for _, p in _own_params(module):
        fan_in = p[0].numel() if p.dim() >= 2 else max(p.numel(), 1)
        std = math.sqrt(2.0 / fan_in) if p.dim() >= 2 else 0.1
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)) * std))


def _prepare(modules: list[nn.Module]) -> list[nn.Module]:
    """float64, eval mode, NaN parameters; returns the modules that own parameters."""
    owners = []
    for m in modules:
        m.training = False
        own = _own_params(m)
        for k, p in own:
            p.data = torch.full(p.shape, float("nan"), dtype=torch.float64)
        for k, b in list(m._buffers.items()):
            if b is not None and b.is_floating_point() and b.dtype != torch.float64:
                m._buffers[k] = b.to(torch.float64)
        if own:
            owners.append(m)
    return owners


@contextlib.contextmanager
def _restored(module: nn.Module) -> Iterator[None]:
    params = {k: v.detach().clone() for k, v in module.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in module.named_buffers()}
    modes = {m: m.training for m in module.modules()}
    try:
        yield
    finally:
        with torch.no_grad():
            for name, p in module.named_parameters():
                if name in params:
                    p.data = params[name]
            for name, b in list(module.named_buffers()):
                if name in buffers:
                    owner_name, _, leaf = name.rpartition(".")
                    owner = module.get_submodule(owner_name) if owner_name else module
                    owner._buffers[leaf] = buffers[name]
        for m, mode in modes.items():
            m.training = mode


def functional_hash(module: nn.Module, input_shape: Optional[Shape] = None, *,
                    inputs: Union[torch.Tensor, Sequence[torch.Tensor], None] = None,
                    bits: int = 20, projections: int = 16, seed: int = 0, restore: bool = True) -> str:
    """The functional hash (32 hex digits) of ``module`` on fixed probe inputs; see the module docstring.

    Give ``input_shape`` (one probe tensor, e.g. ``(2, 3, 8, 8)``) or explicit ``inputs``. ``bits`` is the
    rounding precision (fractional bits of log2-norm and unit projections), ``projections`` the number of output
    projections hashed. With ``restore`` (default) the module is left as it was found (weights, dtype, mode);
    ``restore=False`` skips that copy for a module built only to be hashed (its weights are then the probe's).

    Example::

        >>> import torch.nn as nn
        >>> f = lambda: nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> functional_hash(f(), (4, 3)) == functional_hash(nn.Sequential(nn.Linear(3, 2)), (4, 3))
        False
    """
    if not isinstance(module, nn.Module):
        raise FunctionalHashError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if inputs is None:
        if input_shape is None:
            raise FunctionalHashError("functional_hash: give input_shape (e.g. (2, 3, 8, 8)) or inputs")
        args: tuple = (probe_input(input_shape, seed),)
    else:
        args = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
        args = tuple(a.detach().to(torch.float64) if a.is_floating_point() else a for a in args)
    seen: set[int] = set()

    def pre_hook(m: nn.Module, hook_args: Any, hook_kwargs: Any) -> None:
        if id(m) not in seen:
            seen.add(id(m))
            if isinstance(m, _NORM_TYPES):
                m.reset_parameters()  # type: ignore[operator]
            else:
                _init_from_seed(m, _seed_of(m, (hook_args, hook_kwargs), bits))

    with (_restored(module) if restore else contextlib.nullcontext()), torch.no_grad():
        owners = _prepare(list(module.modules()))
        handles = [m.register_forward_pre_hook(pre_hook, with_kwargs=True) for m in owners]
        try:
            out = module(*args)
        except FunctionalHashError:
            raise
        except Exception as exc:  # a user module failing on the probe is a user error
            shapes = [tuple(a.shape) for a in args if isinstance(a, torch.Tensor)]
            raise FunctionalHashError(f"functional_hash: {type(module).__name__} failed on probe inputs "
                                      f"{shapes}: {type(exc).__name__}: {exc}") from exc
        finally:
            for h in handles:
                h.remove()
        outs = list(_tensors(out))
        if not outs:
            raise FunctionalHashError(f"functional_hash: {type(module).__name__} returned no tensor")
        for t in outs:
            if not bool(torch.isfinite(t).all()):
                raise FunctionalHashError(
                    f"functional_hash: {type(module).__name__} output is not finite: a parameter was read without "
                    "its module being called (functional access to another module's weights?) or the probe "
                    "overflowed")
        summary = tuple(fingerprint(t, bits, projections) for t in outs)
    return hashlib.blake2b(repr(summary).encode(), digest_size=16).hexdigest()


__all__ = ["functional_hash", "fingerprint", "probe_input", "FunctionalHashError"]
