"""NAS-Bench-201 supernet hook: the macro network with one mixed edge per cell edge.

``NB201Network(cell=[6 op names], ...)`` receives plain op names, so the supernet needs the builder's cooperation:
:func:`nb201_supernet` is registered for ``symnas.models.nasbench201.NB201Network`` and receives, for each edge, a
:class:`~symnas.supernet.choices.ValueChoice` over the op names. Each of the 3N cells gets its own
:class:`~symnas.supernet.choices.LayerChoice` per edge (all bound to the edge's decision, as in the NAS-Bench-201
DARTS/ENAS reference), built from the op classes of :mod:`symnas.models.nasbench201`, so the exported keys are those
of the standalone network (``cells.0.layers.3.op.1.weight``).

Example::

    space = nasbench201_space(C=8, N=1)
    net = Supernet(space).set_mode("weighted")
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from symnas.space.nasbench201 import EDGES
from symnas.models.nasbench201 import build_macro, macro_forward, make_op
from symnas.supernet.choices import SupernetError, ValueChoice

__all__ = ["NB201SuperCell", "NB201SuperNetwork", "nb201_supernet"]

Edge = str | ValueChoice


class NB201SuperCell(nn.Module):
    """A NAS-Bench-201 cell whose six edges are choices: node j = Σ_{i<j} edge_ij(node_i).

    Example::

        cell = NB201SuperCell(8, ["nor_conv_3x3"] * 6)     # fixed edges also work
    """

    def __init__(self, C: int, edges: Sequence[Edge]) -> None:
        super().__init__()
        if len(edges) != len(EDGES):
            raise SupernetError(f"NB201Network.cell: expected {len(EDGES)} edges, got {len(edges)}")
        layers = []
        for e in edges:
            if isinstance(e, ValueChoice):
                layers.append(e.layer_choice([make_op(op, C) for op in e.values]))
            else:
                layers.append(make_op(e, C))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for j in (1, 2, 3):
            total = None
            for e, (i, jj) in enumerate(EDGES):
                if jj == j:
                    y = self.layers[e](nodes[i])
                    total = y if total is None else total + y
            assert total is not None  # every node has incoming edges
            nodes.append(total)
        return nodes[-1]


class NB201SuperNetwork(nn.Module):
    """The NAS-Bench-201 macro network with super cells (same module names as ``NB201Network``).

    Example::

        net = NB201SuperNetwork(["skip_connect"] * 6, C=8, N=1)
    """

    def __init__(self, cell: Sequence[Edge], C: int = 16, N: int = 5, num_classes: int = 10) -> None:
        super().__init__()
        build_macro(self, C, N, num_classes, lambda c: NB201SuperCell(c, cell))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return macro_forward(self, x)


def nb201_supernet(cell: Any, C: int = 16, N: int = 5, num_classes: int = 10) -> nn.Module:
    """Supernet hook of ``NB201Network``: ``cell`` holds op names and/or ValueChoices.

    Example::

        register_supernet("symnas.models.nasbench201.NB201Network", nb201_supernet)   # done on import
    """
    if isinstance(cell, str):
        raise SupernetError("NB201Network.cell: pass a list of 6 ops (choices), not a cell string, to a supernet")
    return NB201SuperNetwork(list(cell), C=C, N=N, num_classes=num_classes)
