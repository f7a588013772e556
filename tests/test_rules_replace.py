"""replace= builds the replacement from its own defaults plus what keep= maps; derived arguments read other
decisions; placeholder factory arguments; patch composes with define-by-run placeholders inside the factory."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch
import torch.nn as nn

import symnas as sn


def make_mlp(width: int = 8, act: type = nn.Hardswish) -> nn.Module:
    return nn.Sequential(nn.Linear(4, width), act(inplace=True), nn.Dropout(0.1, inplace=True),
                         nn.Linear(width, 2))


def test_replacement_gets_its_own_defaults_not_the_replaced_arguments() -> None:
    space = sn.patch(make_mlp, [sn.Rule(nn.Hardswish, replace=sn.oneof([nn.Hardswish, nn.ReLU, nn.Sigmoid]))])
    for i, cls in enumerate([nn.Hardswish, nn.ReLU, nn.Sigmoid]):
        m = space.build((i,), seed=0)
        assert type(m[1]) is cls and getattr(m[1], "inplace", False) is (i == 0)
        m.train()
        m(torch.randn(3, 4)).sum().backward()  # ReLU/Sigmoid need their output: nothing may overwrite it


def test_original_class_keeps_the_original_module() -> None:
    space = sn.patch(make_mlp, [sn.Rule(nn.Hardswish, replace=sn.oneof([nn.Hardswish, nn.ReLU]))])
    assert space.build((0,))[1].inplace is True


def test_keep_maps_arguments_by_name_and_by_function() -> None:
    rule = sn.Rule(nn.Linear, where="0", replace=sn.oneof([nn.Linear, nn.Bilinear, nn.LazyLinear]),
                   keep={"in_features": "in_features", "out_features": "out_features",
                         "in1_features": "in_features", "in2_features": lambda a: a["in_features"]})
    space = sn.patch(make_mlp, [rule])
    bil = space.build((1,))[0]
    assert (bil.in1_features, bil.in2_features, bil.out_features) == (4, 4, 8)
    lazy = space.build((2,))[0]
    assert isinstance(lazy, nn.LazyLinear) and lazy.out_features == 8
    listed = sn.patch(make_mlp, [sn.Rule(nn.Hardswish, replace=sn.oneof([nn.ReLU, nn.GELU]), keep=["inplace"])])
    assert listed.build((0,))[1].inplace is False  # in-place flags are turned off in models with replacements
    assert isinstance(listed.build((1,))[1], nn.GELU)  # GELU takes no inplace: not passed


def test_replacement_that_cannot_be_built_names_the_module_and_keep() -> None:
    space = sn.patch(make_mlp, [sn.Rule(nn.Linear, where="3", replace=sn.oneof([nn.Linear, nn.Bilinear]))])
    with pytest.raises(sn.SpaceError, match=r"\[3\]: constructing the replacement Bilinear\(\) failed.*keep="):
        space.build((1,))


def test_keep_is_validated() -> None:
    with pytest.raises(sn.SpaceError, match="keep= must"):
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.GELU]), keep=3)


def make_two_convs() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))


def test_derived_arguments_read_other_decisions_by_name_or_torch_path() -> None:
    space = sn.patch(make_two_convs, [
        sn.Rule(nn.Conv2d, where="0", kernel_size=sn.oneof([3, 5, 7]), padding=lambda a: a["kernel_size"] // 2),
        sn.Rule(nn.Conv2d, where="2", kernel_size=lambda a, d: d["0.kernel_size"],
                padding=lambda a, d: d["[0].kernel_size"] // 2),
    ])
    assert [d.name for d in space.decisions] == ["[0].kernel_size"]
    for i, k in enumerate([3, 5, 7]):
        m = space.build((i,))
        assert m[0].kernel_size == m[2].kernel_size == (k, k) and m[2].padding == (k // 2, k // 2)
        assert m(torch.randn(1, 3, 8, 8)).shape == (1, 4, 8, 8)


def test_reading_an_unknown_decision_names_it() -> None:
    space = sn.patch(make_two_convs, [
        sn.Rule(nn.Conv2d, where="0", kernel_size=sn.oneof([3, 5]), padding=lambda a, d: d["nope"])])
    with pytest.raises(sn.DecisionError, match="no decision 'nope'"):
        space.build((0,))


def make_scaled(width_mult: float = 1.0, classes: int = 10) -> nn.Module:
    c = int(16 * width_mult)
    return nn.Sequential(nn.Conv2d(3, c, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(c, classes))


def test_factory_arguments_may_be_placeholders() -> None:
    space = sn.patch(make_scaled, [sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU]))],
                     width_mult=sn.oneof([0.5, 1.0, 2.0]), classes=5)
    assert [d.name for d in space.decisions] == ["width_mult", "[1]"]
    m = space.build((2, 1))
    assert m[0].out_channels == 32 and m[4].in_features == 32 and m[4].out_features == 5
    assert type(m[1]) is nn.GELU


@dataclass
class Config:
    width: int = 8
    depth: int = 1


def make_from_config(config: Config) -> nn.Module:
    layers = [nn.Linear(4, config.width)]
    for _ in range(config.depth):
        layers += [nn.ReLU(), nn.Linear(config.width, config.width)]
    return nn.Sequential(*layers, nn.Linear(config.width, 2))


def test_placeholders_inside_a_config_object_and_conditional_rule_decisions() -> None:
    space = sn.patch(make_from_config, [sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.Tanh]))],
                     Config(width=sn.oneof([4, 8]), depth=sn.oneof([1, 2, 3])))
    t = space.table
    assert [d.name for d in space.decisions][:2] == ["config.width", "config.depth"]
    assert not t["[1]"].conditions
    assert t["[3]"].conditions == [(t["config.depth"].index, frozenset({1, 2}))]
    assert t["[5]"].conditions == [(t["config.depth"].index, frozenset({2}))]
    assert space.size == 2 * (2 + 4 + 8)
    for seed in range(10):
        g = space.sample(seed=seed)
        p = space.params(g)
        m = space.build(g)
        assert len(m) == 2 + 2 * p["config.depth"] and m[0].out_features == p["config.width"]
        assert m(torch.randn(3, 4)).shape == (3, 2)


def make_dynamic_factory() -> nn.Module:
    """A define-by-run factory: it calls placeholders itself."""
    depth = sn.intv(1, 3, name="depth")
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers += [nn.Linear(8, 8), nn.ReLU()]
    return nn.Sequential(nn.Linear(4, 8), *layers, nn.Linear(8, 2))


def test_patch_composes_with_define_by_run_factories() -> None:
    space = sn.patch(make_dynamic_factory, [sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.SiLU]))])
    names = [d.name for d in space.decisions]
    assert names[0] == "depth" and {"[2]", "[4]", "[6]"} <= set(names)
    assert space.table["[6]"].conditions == [(space.table["depth"].index, frozenset({3}))]
    for seed in range(8):
        g = space.sample(seed=seed)
        p = space.params(g)
        m = space.build(g)
        assert len(m) == 2 + 2 * p["depth"]
        assert [type(m[2 + 2 * i]) for i in range(p["depth"])] == [p[f"[{2 + 2 * i}]"] for i in range(p["depth"])]


def test_decisions_inside_a_replaceable_block_are_conditional() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.conv(x)

    def make() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 4, 1), Block(), Block())

    space = sn.patch(make, [sn.Rule(Block, replace=sn.oneof([Block, nn.Identity])),
                            sn.Rule(nn.Conv2d, where="*.conv", kernel_size=sn.oneof([3, 5]),
                                    padding=lambda a: a["kernel_size"] // 2)])
    t = space.table
    assert t["[1].conv.kernel_size"].conditions == [(t["[1]"].index, frozenset({0}))]
    assert space.size == 3 * 3
