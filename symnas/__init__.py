"""symnas: neural architecture search for PyTorch on a symbolic core.

Mark the choices in ordinary PyTorch code, get a search space that any algorithm can explore, and let functional
hashing skip candidates that compute the same function.

Example::

    import symnas as sn
    import torch.nn as nn

    @sn.searchable
    class Net(nn.Module):
        def __init__(self, width: int = 32, act=nn.ReLU):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(64, width), act(), nn.Linear(width, 10))
        def forward(self, x):
            return self.body(x)

    space = sn.Space(Net(width=sn.oneof([16, 32, 64]), act=sn.oneof([nn.ReLU, nn.GELU])))
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
    trial = study.ask()
    model = trial.build(seed=0)
    study.tell(trial, 0.9)
"""
import os as _os

# In a source checkout (tests run from the repository without installing), the top-level folders algorithms/,
# grammar/ and spaces/ are the subpackages symnas.algorithms, symnas.grammar and symnas.spaces, as in the wheel.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_root, "pyproject.toml")) and _os.path.isdir(_os.path.join(_root, "algorithms")):
    __path__.append(_root)  # type: ignore[name-defined]  # noqa: F821

from symnas import algorithms  # noqa: E402
from symnas.candidate.build import build
from symnas.symbolic.jsonio import from_json, to_json
from symnas.symbolic.tree import rebind
from symnas.errors import (BuildError, DecisionError, GenomeError, SpaceError, StoreError, SymnasError,
                           TrialError)
from symnas.genome.table import Decision, DecisionTable, Genome
from symnas.search.pruners import TrialPruned
from symnas.search.study import Study
from symnas.search.trial import Trial
from symnas.symbolic import nn
from symnas.symbolic.placeholders import boolv, floatv, intv, manyof, oneof, ordinal, permutation
from symnas.space.pyglove import from_pyglove, to_pyglove
from symnas.space.rules import Rule, patch
from symnas.space.space import Space
from symnas.space.space import set_constraint_checker as _set_constraint_checker
from symnas.space.trace import trace
from symnas.space.widths import Width
from symnas.symbolic.spec import Spec, allow_import, register, searchable, spec
from symnas.store.base import TrialState
from symnas.store.memory import MemoryStore

__version__ = "0.1.0"


def _check_constraints(space: Space, genome: Genome) -> list[str]:
    from symnas.dsl.constraints import check  # the DSL (lark) is imported on the first constrained space only

    return check(space, genome)


_set_constraint_checker(_check_constraints)

__all__ = [
    "algorithms", "build", "from_json", "to_json", "rebind", "BuildError", "DecisionError", "GenomeError",
    "SpaceError", "StoreError", "SymnasError", "TrialError", "Decision", "DecisionTable", "Genome", "TrialPruned",
    "Study", "Trial", "nn", "boolv", "floatv", "intv", "manyof", "oneof", "ordinal", "permutation", "Space", "Spec",
    "allow_import", "register", "searchable", "spec", "MemoryStore", "TrialState", "Rule", "patch", "trace",
    "from_pyglove", "to_pyglove", "Width",
]
