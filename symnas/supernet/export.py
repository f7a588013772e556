"""Export of a candidate's weights out of a supernet: the state dict of the standalone child.

Modules that stand for a choice define ``export_state(prefix, out)`` and write the keys of the chosen candidate
(a slice, for value choices shared by slicing); every other module contributes its own parameters and persistent
buffers and recurses into its children, so the keys equal those of the standalone module built from the
description.

Example::

    sd = {}
    export_state(supernet.model, "", sd)     # with supernet.state.genome set to the candidate
    child.load_state_dict(sd)
"""
from __future__ import annotations

import torch
from torch import nn

__all__ = ["export_state"]


def export_state(module: nn.Module, prefix: str, out: dict[str, torch.Tensor]) -> None:
    """Writes the standalone state of ``module`` (under the current genome) into ``out`` with key ``prefix``."""
    hook = getattr(type(module), "export_state", None)
    if hook is not None:
        module.export_state(prefix, out)  # type: ignore[operator]
        return
    for name, p in module._parameters.items():
        if p is not None:
            out[prefix + name] = p.detach().clone()
    for name, b in module._buffers.items():
        if b is not None and name not in module._non_persistent_buffers_set:
            out[prefix + name] = b.detach().clone()
    for name, child in module._modules.items():
        if child is not None:
            export_state(child, prefix + name + ".", out)
