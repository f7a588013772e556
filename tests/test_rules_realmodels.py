"""Optional: the real torchvision and timm factories, made searchable with rules only (skipped when absent).

torchvision wheels built for another torch release fail to import (``operator torchvision::nms does not exist``):
for these tests only, placeholder ``torchvision::nms`` / ``qnms`` schemas are defined first (detection ops are not
used here).
"""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn

import symnas as sn

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _torchvision():
    try:
        import torchvision
        return torchvision
    except ImportError:
        return None
    except RuntimeError as e:  # built for another torch: define the missing op schemas, then import again
        if "torchvision::nms" not in str(e):
            raise
    import sys

    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBS.append(lib)
    import torchvision
    return torchvision


_LIBS: list = []
torchvision = _torchvision()
X = torch.randn(2, 3, 32, 32)


def train_some(space: sn.Space, n: int) -> None:
    for seed in range(n):
        m = space.build(space.sample(seed=seed), seed=seed).train()
        opt = torch.optim.SGD(m.parameters(), lr=0.01)
        nn.functional.cross_entropy(m(X), torch.tensor([1, 2])).backward()
        opt.step()


@pytest.mark.skipif(torchvision is None, reason="torchvision is not installed")
def test_torchvision_resnet18_and_mobilenet_v3_small() -> None:
    from torchvision.models import mobilenet_v3_small, resnet18
    from torchvision.models.resnet import BasicBlock

    space = sn.patch(resnet18, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU]), name="act"),
        *[sn.Width(f"layer{i}.*", sn.oneof([0.25, 0.5]), name=f"stage{i}", divisor=8) for i in range(1, 5)],
        sn.Rule(BasicBlock, where="layer*.1", replace=sn.oneof([BasicBlock, nn.Identity])),
    ], num_classes=10)
    train_some(space, 3)
    space = sn.patch(mobilenet_v3_small, [
        sn.Rule(nn.Hardswish, replace=sn.oneof([nn.Hardswish, nn.ReLU]), name="act"),
        sn.Width("features.[4-8].*", sn.oneof([0.5, 1.0]), name="mid", divisor=8),
    ], num_classes=10, width_mult=sn.oneof([0.5, 0.75]))
    train_some(space, 3)


def test_timm_efficientnet_b0() -> None:
    timm = pytest.importorskip("timm") if torchvision is not None else pytest.skip("timm needs torchvision")
    space = sn.patch(timm.create_model, [
        sn.Rule(nn.SiLU, replace=sn.oneof([nn.SiLU, nn.ReLU]), name="act"),
        sn.Width("blocks.2.*", sn.oneof([0.5, 1.0]), name="stage2", divisor=8),
    ], "efficientnet_b0", num_classes=10)
    train_some(space, 3)
