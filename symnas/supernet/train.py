"""Training and evaluation loops shared by standalone children and supernets (the same code for both).

Example::

    model = space.build(genome, seed=0)
    train_steps(model, data.batches("train", 64), steps=300)
    acc = evaluate(model, data.x_val, data.y_val)
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["autocast", "evaluate", "recalibrate_bn", "resolve_device", "train_steps"]

Batches = Iterator[tuple[torch.Tensor, torch.Tensor]]


def resolve_device(device: Any = "auto") -> torch.device:
    """``'auto'``: CUDA when present, else CPU (the CPU fallback); anything else as ``torch.device``.

    Example::

        dev = resolve_device("auto")
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def autocast(device: torch.device, amp: bool) -> Any:
    """Mixed precision when ``amp``: float16 on CUDA, bfloat16 on CPU; a no-op context otherwise.

    Example::

        with autocast(torch.device("cpu"), amp=True):
            y = model(x)
    """
    if not amp:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def train_steps(model: nn.Module, batches: Batches, steps: int, *, lr: float = 0.05, momentum: float = 0.9,
                weight_decay: float = 3e-4, params: list | None = None, optimizer: Any = None,
                before_step: Callable[[int], None] | None = None, device: Any = "cpu", amp: bool = False,
                grad_clip: float = 5.0, cosine: bool = True) -> list[float]:
    """SGD (momentum, cosine schedule) for ``steps`` mini-batches; ``before_step(i)`` runs before each step
    (supernets sample their path there). Returns the loss of every step.

    Example::

        losses = train_steps(model, data.batches("train", 64), steps=300, lr=0.05)
    """
    dev = resolve_device(device)
    model.to(dev).train()
    params = params if params is not None else [p for p in model.parameters() if p.requires_grad]
    opt = optimizer or torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps)) if cosine and optimizer is None else None
    scaler = torch.amp.GradScaler("cuda") if amp and dev.type == "cuda" else None
    losses = []
    for i in range(steps):
        x, y = next(batches)
        x, y = x.to(dev), y.to(dev)
        if before_step is not None:
            before_step(i)
        opt.zero_grad(set_to_none=True)
        with autocast(dev, amp):
            loss = F.cross_entropy(model(x), y)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(params, grad_clip)
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            nn.utils.clip_grad_norm_(params, grad_clip)
            opt.step()
        if sched is not None:
            sched.step()
        losses.append(float(loss.detach()))
    return losses


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 512, device: Any = None,
             amp: bool = False) -> float:
    """Accuracy of ``model`` on ``(x, y)`` in eval mode (BatchNorm running statistics).

    Example::

        acc = evaluate(model, data.x_val, data.y_val)
    """
    dev = next(model.parameters()).device if device is None else resolve_device(device)
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size].to(dev), y[i:i + batch_size].to(dev)
        with autocast(dev, amp):
            correct += int((model(xb).argmax(-1) == yb).sum())
    model.train(was)
    return correct / max(1, len(x))


@torch.no_grad()
def recalibrate_bn(model: nn.Module, batches: Batches, n_batches: int = 4) -> None:
    """Recomputes BatchNorm running statistics on the current path (cumulative average over ``n_batches``),
    as single-path one-shot methods do before evaluating a child inside the supernet.

    Example::

        recalibrate_bn(supernet.set_genome(g), data.batches("train", 128), 4)
    """
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    was = model.training
    model.train()
    dev = next(model.parameters()).device
    for _ in range(n_batches):
        x, _y = next(batches)
        model(x.to(dev))
    for m, mom in zip(bns, saved):
        m.momentum = mom
    model.train(was)
