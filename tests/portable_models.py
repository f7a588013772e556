"""The five ways into a space used by the portability matrix (tests/test_portable_matrix.py).

Everything here is importable by name, and the module registers its factories on import: a fresh process that
allows it (``sn.allow_import("tests.portable_models.")``) or that unpickles one of its functions can build every
candidate. ``signature(obj)`` is what both sides of a boundary compare: class tree, parameter shapes and outputs on
a fixed input.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn as nn

import symnas as sn
import symnas.dsl as dsl

KINDS = ("annotated", "dsl", "patched", "traced", "mixed")


# -- annotated modules -------------------------------------------------------------------------------------------
@sn.searchable
class Block(nn.Module):
    def __init__(self, c: int, kernel: int = 3, act: type = nn.ReLU) -> None:
        super().__init__()
        self.conv, self.act = nn.Conv2d(c, c, kernel, padding=kernel // 2), act()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


@sn.searchable
class Net(nn.Module):
    def __init__(self, blocks: list, c: int = 8) -> None:
        super().__init__()
        self.stem, self.body, self.head = nn.Conv2d(3, c, 3, padding=1), nn.Sequential(*blocks), nn.Linear(c, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(self.stem(x)).mean((2, 3)))


def annotated_space() -> sn.Space:
    block = Block(8, kernel=sn.oneof([1, 3, 5], name="kernel"), act=sn.oneof([nn.ReLU, nn.GELU]))
    return sn.Space(Net(blocks=sn.oneof([[block], [block, block]], name="depth")), name="annotated")


# -- a DSL file --------------------------------------------------------------------------------------------------
DSL_TEXT = """
space "portable"
width = choice(4, 8)
build torch.nn.Sequential(
    torch.nn.Conv2d(in_channels=3, out_channels=width, kernel_size=choice(1, 3), padding=0),
    choice(torch.nn.ReLU(), torch.nn.Tanh()),
    torch.nn.AdaptiveAvgPool2d(output_size=1),
    torch.nn.Flatten(),
    torch.nn.Linear(in_features=width, out_features=10),
)
"""


def dsl_space() -> sn.Space:
    return dsl.loads(DSL_TEXT, filename="portable.sns")


# -- an existing factory, patched ---------------------------------------------------------------------------------
def make_cnn(c: int = 8) -> nn.Module:
    """A factory written with no knowledge of symnas."""
    return nn.Sequential(
        nn.Conv2d(3, c, 3, padding=1), nn.ReLU(inplace=True),
        nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.ReLU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


def same_padding(args: dict) -> int:
    """A derived argument, importable by name (a lambda would build only in the process that wrote it)."""
    return args["kernel_size"] // 2


def patched_space() -> sn.Space:
    return sn.patch(make_cnn, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU, nn.SiLU])),
        sn.Rule(nn.Conv2d, where="2.*", kernel_size=sn.oneof([1, 3, 5]), padding=same_padding),
    ], c=6)


# -- define-by-run code, traced -----------------------------------------------------------------------------------
def make_dynamic(c: int = 6) -> nn.Module:
    depth = sn.intv(1, 3, name="depth")
    layers: list[nn.Module] = [nn.Conv2d(3, c, 3, padding=1)]
    for i in range(depth):
        layers += [nn.Conv2d(c, c, 3, padding=1), sn.oneof([nn.ReLU, nn.GELU], name=f"act{i}")()]
    width = sn.oneof([4, 8], name="head") if sn.boolv(name="wide_head") else 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, width)]
    return nn.Sequential(*layers)


def traced_space() -> sn.Space:
    return sn.trace(make_dynamic, c=6)


# -- a mix: a patched model and hyperparameters in one dict ------------------------------------------------------
def mixed_space() -> sn.Space:
    return sn.Space({"net": patched_space(), "lr": sn.floatv(1e-4, 1e-1, scale="log", name="lr"),
                     "optimizer": sn.oneof(["sgd", "adam"], name="optimizer")}, name="mixed")


SPACES = {"annotated": annotated_space, "dsl": dsl_space, "patched": patched_space, "traced": traced_space,
          "mixed": mixed_space}

for _fn in (make_cnn, same_padding, make_dynamic):
    sn.register(_fn)


# -- what both sides compare ---------------------------------------------------------------------------------------
def signature(obj: Any) -> Any:
    """A JSON-ready record of a built candidate: for a module its class tree, parameter shapes and outputs on a
    fixed input; dicts entry by entry; other values as themselves."""
    if isinstance(obj, dict):
        return {k: signature(v) for k, v in obj.items()}
    if isinstance(obj, nn.Module):
        x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(123))
        obj.eval()
        with torch.no_grad():
            out = obj(x)
        return {"classes": [[n, f"{type(m).__module__}.{type(m).__qualname__}"] for n, m in obj.named_modules()],
                "shapes": [[n, list(p.shape)] for n, p in obj.named_parameters()],
                "out": [float(v) for v in out.flatten()]}
    if isinstance(obj, float):
        return obj
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    raise TypeError(f"a candidate built to {type(obj).__name__} ({obj!r:.80}), not a model or a dict of values")


def evaluate_signature(trial: Any) -> float:
    """A worker's evaluator: builds the candidate and records its signature with the trial."""
    torch.set_num_threads(1)
    trial.set_user_attr("signature", signature(trial.build(seed=0)))
    return 0.0
