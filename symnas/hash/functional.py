"""Functional hash of a built torch module: hash what it computes and what it trains, not how it is written.

Design (details and failure modes in ``docs/hashing.md``):

* **Probe**: fixed inputs (float64 normal, or integer tokens for embedding models, from a fixed numpy PCG64 seed
  and the shape), on CPU, eval mode. :func:`infer_probe` reads the input spec from the module's first layer.
* **Weights from the input, not from creation order**: every module that owns parameters is re-initialised on its
  first call, from a seed derived from *the fingerprint of the input it receives*, its class name and its
  parameter names/shapes (normalisation layers included: their affine parameters get random values, so an op on a
  zero input shows its trainable bias). Isomorphic graphs get equal weights at corresponding ops whatever order
  their parameters were created in, while ``conv(x) + conv(x)`` and ``conv(2x)`` stay apart. Parameters of
  submodules that are read without being called (``nn.MultiheadAttention.out_proj``) are seeded from the calling
  ancestor's seed and their relative name.
* **Trainable parameters**: after the forward pass the gradient of a fixed projection of the output is taken with
  respect to every trainable parameter; each module's gradient fingerprint (with its class and shapes) enters the
  hash as a sorted multiset. Two convs on one input (``f1(x) + f2(x)``) and one conv used twice (``2·f(x)``) compute
  the same output on the probe but have different gradient multisets ``{g, g}`` vs ``{2g}``; an ensemble of K equal
  members gives K entries ``g/K``; parameters of dead branches get no gradient and stay out.
* **Hidden settings** (:mod:`symnas.hash.settings`): a module whose dropout rate, norm momentum/eps, ... differs
  from the reference value gets its output perturbed by a small deterministic amount derived from those values, so
  the setting is part of the hashed function where it acts.
* **Float noise**: a tensor is summarised by ``log2`` of its L2 norm and projections of the unit-normalised tensor
  on fixed pseudo-random unit directions, each rounded to ``bits`` fractional bits.
* Every parameter is NaN before the probe: a parameter read before any module seeded it makes the output NaN and
  raises :class:`FunctionalHashError`. The module's parameters, buffers, dtype and mode are restored afterwards.

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
from typing import Any, Iterator, Mapping, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn

from symnas.errors import SymnasError
from symnas.hash.settings import hidden_settings, settings_seed

_DIRECTIONS: dict[tuple[int, int], torch.Tensor] = {}
_PERTURB: dict[tuple[int, tuple], torch.Tensor] = {}
Shape = Sequence[int]
ProbeSpec = Union[Shape, Mapping[str, Any]]


class FunctionalHashError(SymnasError, RuntimeError):
    """The functional hash could not be computed (bad probe shape, the module failed or produced NaN)."""


def probe_input(shape: Shape, seed: int = 0, dtype: str = "float", high: int = 2) -> torch.Tensor:
    """The fixed probe input of ``shape``: float64 standard normal, or (``dtype='long'``) integers in
    ``[0, high)``; numpy PCG64 seeded by ``seed`` and the shape.

    Example::

        >>> bool((probe_input((2, 3)) == probe_input((2, 3))).all())
        True
        >>> probe_input((1, 4), dtype="long", high=10).dtype
        torch.int64
    """
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise FunctionalHashError(f"input_shape: expected a sequence of ints, got {shape!r}") from None
    if not dims or any(d <= 0 for d in dims):
        raise FunctionalHashError(f"input_shape: expected positive dimensions, got {shape!r}")
    rng = np.random.Generator(np.random.PCG64([seed, *dims]))
    if dtype == "long":
        if isinstance(high, bool) or not isinstance(high, int) or high < 1:
            raise FunctionalHashError(f"probe: 'high' must be a positive int for token inputs, got {high!r}")
        return torch.from_numpy(rng.integers(0, high, dims, dtype=np.int64))
    if dtype != "float":
        raise FunctionalHashError(f"probe: dtype must be 'float' or 'long', got {dtype!r}")
    return torch.from_numpy(rng.standard_normal(dims))


def infer_probe(module: nn.Module, batch: int = 2, size: int = 16, seq_len: int = 8) -> dict[str, Any]:
    """A probe spec read from the module's first layer (in registration order): ``nn.Embedding`` gives token inputs
    ``(batch, seq_len)`` below ``num_embeddings``; ``ConvNd`` gives ``(batch, in_channels, size, ...)``;
    ``nn.Linear`` gives ``(batch, in_features)``.

    Example::

        >>> infer_probe(nn.Sequential(nn.Embedding(50, 4), nn.Linear(4, 2)))
        {'shape': (2, 8), 'dtype': 'long', 'high': 50}
    """
    for m in module.modules():
        if isinstance(m, (nn.Embedding, nn.EmbeddingBag)):
            return {"shape": (batch, seq_len), "dtype": "long", "high": int(m.num_embeddings)}
        if isinstance(m, nn.modules.conv._ConvNd):
            dims = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}.get(type(m), len(m.kernel_size))
            return {"shape": (batch, int(m.in_channels)) + (size,) * dims, "dtype": "float"}
        if isinstance(m, nn.Linear):
            return {"shape": (batch, int(m.in_features)), "dtype": "float"}
    raise FunctionalHashError(f"functional_hash: cannot infer the probe input of {type(module).__name__} (its first "
                              "layer is not an Embedding, ConvNd or Linear); give the probe shape, e.g. "
                              "probe=(2, 3, 32, 32) or {'shape': (2, 16), 'dtype': 'long', 'high': 1000}")


def _generator(seed: int) -> torch.Generator:
    g = torch.Generator()
    g.manual_seed(seed & 0x7FFF_FFFF_FFFF_FFFF)
    return g


def _directions(n: int, k: int) -> torch.Tensor:
    key = (n, k)
    got = _DIRECTIONS.get(key)
    if got is None:
        d = torch.randn((k, n), dtype=torch.float64, generator=_generator(0x5EED * 1_000_003 + n * 131 + k))
        got = d / torch.linalg.vector_norm(d, dim=1, keepdim=True)
        if k * n <= 1 << 20:                       # keep small ones; large ones are cheaper to redraw than to hold
            if len(_DIRECTIONS) > 512:
                _DIRECTIONS.clear()
            _DIRECTIONS[key] = got
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
    x = t.detach()
    if x.dtype != torch.float64:
        x = x.to(torch.float64)
    x = x.reshape(-1)
    shape = tuple(t.shape)
    n = x.numel()
    if n == 0:
        return (shape, "empty")
    norm = float(torch.linalg.vector_norm(x))
    if not math.isfinite(norm):
        raise FunctionalHashError(f"tensor of shape {shape} is not finite (NaN/inf)")
    if norm == 0.0:
        return (shape, "zero")
    scale = float(2 ** bits)
    proj = torch.mv(_directions(n, min(projections, n)), x).tolist()
    inv = scale / norm
    return (shape, round(math.log2(norm) * scale), tuple(round(p * inv) for p in proj))


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


_SEEDED: dict[tuple, list[torch.Tensor]] = {}


def _init_from_seed(module: nn.Module, seed: int) -> None:
    own = _own_params(module)
    key = (seed, tuple(tuple(p.shape) for _, p in own))
    values = _SEEDED.get(key)
    if values is None:
        g = _generator(seed)
        values = []
        for _, p in own:
            fan_in = p[0].numel() if p.dim() >= 2 else max(p.numel(), 1)
            std = math.sqrt(2.0 / fan_in) if p.dim() >= 2 else 0.5
            values.append(torch.randn(tuple(p.shape), dtype=torch.float64, generator=g) * std)
        if sum(v.numel() for v in values) <= 1 << 16:   # small weights recur (a stem seen by every candidate)
            if len(_SEEDED) > 4096:
                _SEEDED.clear()
            _SEEDED[key] = values
    for (_, p), v in zip(own, values):
        p.data = v                                      # never written in place: sharing the cached tensor is safe


def _perturbation(seed: int, shape: tuple) -> torch.Tensor:
    key = (seed, shape)
    got = _PERTURB.get(key)
    if got is None:
        if len(_PERTURB) > 256:
            _PERTURB.clear()
        rng = np.random.Generator(np.random.PCG64([seed, *shape]))
        v = rng.standard_normal(shape)
        v *= (0.0625 + 0.0625 * (seed % 1024) / 1024) / max(float(np.linalg.norm(v)), 1e-300)
        got = _PERTURB[key] = torch.from_numpy(v)
    return got


def perturb(out: Any, settings: tuple) -> Any:
    """``out + δ·‖out‖·v``: a deterministic perturbation of a module's output by its hidden ``settings`` (a fixed
    pseudo-random direction ``v`` and size ``δ`` in [1/16, 1/8) drawn from them); zero stays zero."""
    seed = settings_seed(settings)

    def one(t: torch.Tensor) -> torch.Tensor:
        if not t.is_floating_point() or t.numel() == 0:
            return t
        return t + torch.linalg.vector_norm(t) * _perturbation(seed, tuple(t.shape)).to(t.dtype)

    if isinstance(out, torch.Tensor):
        return one(out)
    if isinstance(out, tuple) and out and isinstance(out[0], torch.Tensor):
        return (one(out[0]),) + out[1:]
    return out


_NAN = torch.tensor(float("nan"), dtype=torch.float64)


def _prepare(modules: list[nn.Module]) -> None:
    """float64, eval mode, NaN parameters (a broadcast view: no allocation)."""
    for m in modules:
        m.training = False
        for k, p in _own_params(m):
            p.data = _NAN.expand(p.shape)
        for k, b in list(m._buffers.items()):
            if b is not None and b.is_floating_point() and b.dtype != torch.float64:
                m._buffers[k] = b.to(torch.float64)


@contextlib.contextmanager
def _restored(module: nn.Module) -> Iterator[None]:
    params = {k: (v.detach().clone(), v.requires_grad) for k, v in module.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in module.named_buffers()}
    modes = {m: m.training for m in module.modules()}
    try:
        yield
    finally:
        with torch.no_grad():
            for name, p in module.named_parameters():
                if name in params:
                    p.data, p.grad = params[name][0], None
                    p.requires_grad_(params[name][1])
            for name, b in list(module.named_buffers()):
                if name in buffers:
                    owner_name, _, leaf = name.rpartition(".")
                    owner = module.get_submodule(owner_name) if owner_name else module
                    owner._buffers[leaf] = buffers[name]
        for m, mode in modes.items():
            m.training = mode


def probe_args(probe: Optional[ProbeSpec] = None, inputs: Any = None, module: Optional[nn.Module] = None,
               seed: int = 0) -> tuple:
    """The probe arguments: explicit ``inputs``, a shape, a spec dict (``shape``, ``dtype``, ``high``) or,
    with neither, :func:`infer_probe` of ``module``."""
    if inputs is not None:
        args = (inputs,) if isinstance(inputs, torch.Tensor) else tuple(inputs)
        return tuple(a.detach().to(torch.float64) if a.is_floating_point() else a for a in args)
    if probe is None:
        if module is None:
            raise FunctionalHashError("functional_hash: give input_shape (e.g. (2, 3, 8, 8)) or inputs")
        probe = infer_probe(module)
    if isinstance(probe, Mapping):
        unknown = set(probe) - {"shape", "dtype", "high"}
        if unknown or "shape" not in probe:
            raise FunctionalHashError(f"probe: expected keys shape, dtype, high; got {sorted(probe)}")
        return (probe_input(probe["shape"], seed, str(probe.get("dtype", "float")), probe.get("high", 2)),)
    return (probe_input(probe, seed),)


def functional_hash(module: nn.Module, input_shape: Optional[ProbeSpec] = None, *,
                    inputs: Union[torch.Tensor, Sequence[torch.Tensor], None] = None,
                    bits: int = 20, projections: int = 16, seed: int = 0, restore: bool = True,
                    parameters: bool = True) -> str:
    """The functional hash (32 hex digits) of ``module`` on fixed probe inputs; see the module docstring.

    ``input_shape``: a shape (float probe), a spec ``{'shape': ..., 'dtype': 'long', 'high': vocab}``, or
    ``'auto'`` (:func:`infer_probe`); or give explicit ``inputs``. ``bits`` is the rounding precision,
    ``projections`` the number of output projections hashed. With ``restore`` (default) the module is left as it
    was found; ``restore=False`` skips that copy for a module built only to be hashed. ``parameters=False`` leaves
    the trainable-parameter multiset out (function only).

    Example::

        >>> import torch.nn as nn
        >>> f = lambda: nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 2))
        >>> functional_hash(f(), (4, 3)) == functional_hash(nn.Sequential(nn.Linear(3, 2)), (4, 3))
        False
    """
    if not isinstance(module, nn.Module):
        raise FunctionalHashError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if inputs is None and input_shape is None:
        raise FunctionalHashError("functional_hash: give input_shape (e.g. (2, 3, 8, 8)) or inputs")
    args = probe_args(None if input_shape == "auto" else input_shape, inputs, module, seed)
    modules = list(module.modules())
    seeded: set[int] = set()
    provisional: set[int] = set()
    owners = [m for m in modules if m._parameters and any(p is not None for p in m._parameters.values())]

    def pre_hook(m: nn.Module, hook_args: Any, hook_kwargs: Any) -> None:
        if id(m) in seeded:
            return
        seeded.add(id(m))
        s = _seed_of(m, (hook_args, hook_kwargs), bits)
        _init_from_seed(m, s)
        for name, sub in m.named_modules():
            if sub is not m and id(sub) not in seeded and id(sub) not in provisional and _own_params(sub):
                provisional.add(id(sub))       # read without a call (e.g. attention's out_proj): seeded here
                _init_from_seed(sub, int.from_bytes(hashlib.sha256(f"{s}:{name}".encode()).digest()[:8], "little"))

    def post_hook(m: nn.Module, hook_args: Any, out: Any) -> Any:
        settings = hidden_settings(m)
        return perturb(out, settings) if settings else None

    with (_restored(module) if restore else contextlib.nullcontext()):
        with torch.no_grad():
            _prepare(modules)
        trainable = [p for m in owners for _, p in _own_params(m) if p.requires_grad] if parameters else []
        handles = [m.register_forward_pre_hook(pre_hook, with_kwargs=True) for m in owners]
        handles += [m.register_forward_hook(post_hook) for m in modules if hidden_settings(m)]
        try:
            with torch.set_grad_enabled(bool(trainable)):
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
                    f"functional_hash: {type(module).__name__} output is not finite: a parameter was read before "
                    "any module that owns it was called (functional access to another module's weights?) or the "
                    "probe overflowed")
        summary: tuple = tuple(fingerprint(t, bits, projections) for t in outs)
        if trainable:
            summary += (_parameter_multiset(owners, outs, trainable, bits),)
    return hashlib.blake2b(repr(summary).encode(), digest_size=16).hexdigest()


def _parameter_multiset(owners: list[nn.Module], outs: list[torch.Tensor], trainable: list[torch.Tensor],
                        bits: int) -> tuple:
    """Sorted multiset of (class, shapes, gradient fingerprint) over modules whose parameters get a gradient."""
    loss: Any = 0.0
    for t in outs:
        if t.is_floating_point() and t.requires_grad and t.numel():
            d = _directions(t.numel(), 1)[0].reshape(t.shape).to(t.dtype)
            loss = loss + (t * d).sum()
    if not isinstance(loss, torch.Tensor):
        return ()
    grads = torch.autograd.grad(loss, trainable, allow_unused=True)
    by_param = {id(p): g for p, g in zip(trainable, grads)}
    entries = []
    seen: set[int] = set()
    for m in owners:
        own = [(k, p) for k, p in _own_params(m) if id(p) not in seen and id(p) in by_param]
        seen.update(id(p) for _, p in own)
        gs = [by_param[id(p)] for _, p in own]
        if not gs or all(g is None for g in gs):
            continue
        flat = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1) for (_, p), g in zip(own, gs)])
        fp = fingerprint(flat, bits - 4, 4)
        if fp[1] == "zero":
            continue
        entries.append((type(m).__name__, tuple((k, tuple(p.shape)) for k, p in own), fp))
    return tuple(sorted(entries, key=repr))


__all__ = ["functional_hash", "fingerprint", "probe_input", "probe_args", "infer_probe", "perturb",
           "FunctionalHashError"]
