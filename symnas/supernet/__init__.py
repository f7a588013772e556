"""Weight sharing from the same space: supernet compilation, ENAS-style path sampling, DARTS-style relaxation.

Example::

    from symnas.supernet import Supernet, darts_search, enas_search, digits_data
    data = digits_data(seed=0)
    result = darts_search(space, data, steps=200)        # the space of a multi-trial study, unchanged
    model = result.export(inherit=True)                  # standalone nn.Module with the supernet's weights
"""
from torch import nn as _nn

from symnas.supernet.choices import (
           MODES,
           ArchState,
           LayerChoice,
           SupernetError,
           ValueChoice,
)
from symnas.supernet.compile import (
           MAX_COMBOS,
           SpecChoice,
           Supernet,
           register_supernet,
           supernet_hook,
)
from symnas.supernet.data import Data, digits_data
from symnas.supernet.export import export_state
from symnas.supernet.nb201 import NB201SuperCell, NB201SuperNetwork, nb201_supernet
from symnas.supernet.search import SearchResult, darts_search, enas_search
from symnas.supernet.slicing import SuperConv2d, SuperLinear, conv2d_hook, linear_hook
from symnas.supernet.train import evaluate, recalibrate_bn, resolve_device, train_steps

register_supernet(_nn.Conv2d, conv2d_hook)
register_supernet(_nn.Linear, linear_hook)
register_supernet("symnas.models.nasbench201.NB201Network", nb201_supernet)

__all__ = [
           "MAX_COMBOS",
           "MODES",
           "ArchState",
           "Data",
           "LayerChoice",
           "NB201SuperCell",
           "NB201SuperNetwork",
           "SearchResult",
           "SpecChoice",
           "SuperConv2d",
           "SuperLinear",
           "Supernet",
           "SupernetError",
           "ValueChoice",
           "conv2d_hook",
           "darts_search",
           "digits_data",
           "enas_search",
           "evaluate",
           "export_state",
           "linear_hook",
           "nb201_supernet",
           "recalibrate_bn",
           "register_supernet",
           "resolve_device",
           "supernet_hook",
           "train_steps",
]
