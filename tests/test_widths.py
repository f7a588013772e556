"""Width rules on unedited models: the consumers of a changed tensor follow, and what cannot follow is an error
that names the reason."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn
from symnas.space.widths import analyse, make_divisible


def run_all(space: sn.Space, x: torch.Tensor) -> None:
    """Every candidate of a small space builds, runs forward and backward."""
    import itertools

    t = space.table
    choices = [range(d.n) for d in t.decisions]
    for g in itertools.product(*choices):
        g = t.canonical(list(g))
        m = space.build(tuple(g))
        m(x).sum().backward()


class Grouped(nn.Module):
    """Depthwise, grouped and pointwise convs, a flatten into a classifier (no pooling)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 16, 3, padding=1, groups=8)       # depth multiplier 2
        self.gn = nn.GroupNorm(4, 16)
        self.grouped = nn.Conv2d(16, 12, 1, groups=2)
        self.head = nn.Linear(12 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.gn(self.dw(torch.relu(self.bn(self.stem(x)))))
        return self.head(torch.flatten(self.grouped(x), 1))


def test_depthwise_grouped_groupnorm_and_flatten_follow() -> None:
    space = sn.patch(Grouped, [sn.Width("stem", sn.oneof([0.5, 1.0, 1.5])),
                               sn.Width("grouped", channels=sn.oneof([6, 10, 12]))],
                     example_inputs=(2, 3, 4, 4))
    assert [d.name for d in space.decisions] == ["stem.width", "grouped.width"]
    m = space.build((2, 1))
    assert (m.stem.out_channels, m.bn.num_features) == (12, 12)
    assert (m.dw.in_channels, m.dw.out_channels, m.dw.groups) == (12, 24, 12)
    assert m.gn.num_channels == 24 and m.grouped.in_channels == 24 and m.grouped.groups == 2
    assert m.grouped.out_channels == 10 and m.head.in_features == 10 * 16
    run_all(space, torch.randn(2, 3, 4, 4))


def test_widths_are_rounded_to_the_group_divisors() -> None:
    # GroupNorm(4) and the grouped conv (2 groups) need multiples of 4 on the dw output: 8 * 0.7 = 5.6 -> 4 * 2
    space = sn.patch(Grouped, [sn.Width("stem", sn.oneof([0.7]), divisor=2)], example_inputs=(2, 3, 4, 4))
    m = space.build((0,))
    assert m.stem.out_channels == 6 and m.dw.out_channels == 12 and m.gn.num_channels % 4 == 0
    assert make_divisible(5.6, 4) == 8 and make_divisible(30, 8) == 32 and make_divisible(1, 8) == 8


class Dense(nn.Module):
    """Concatenation (DenseNet-style) and a squeeze-excitation product."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(8, 4, 3, padding=1)
        self.se = nn.Conv2d(12, 12, 1)
        self.out = nn.Conv2d(12, 6, 1)
        self.fc = nn.Linear(6, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.a(x)
        y = torch.cat([a, self.b(a)], dim=1)
        y = y * torch.sigmoid(self.se(y.mean((2, 3), keepdim=True)))
        return self.fc(self.out(y).mean((2, 3)))


def test_concatenation_sums_widths_and_products_tie_them() -> None:
    space = sn.patch(Dense, [sn.Width("a", sn.oneof([0.5, 2.0])), sn.Width("b", channels=sn.oneof([4, 8]))])
    m = space.build((1, 1))
    assert m.b.in_channels == 16 and m.se.in_channels == 24 and m.se.out_channels == 24
    assert m.out.in_channels == 24 and m.fc.in_features == 6
    run_all(space, torch.randn(2, 3, 5, 5))


def test_tied_name_across_stages_is_one_decision() -> None:
    def make() -> nn.Module:
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2))

    space = sn.patch(make, [sn.Width("[02]", sn.oneof([1.0, 2.0]), name="hidden")])
    assert [d.name for d in space.decisions] == ["hidden"]
    m = space.build((1,))
    assert [m[0].out_features, m[2].in_features, m[2].out_features, m[4].in_features] == [16, 16, 16, 16]


def test_model_output_width_is_fixed() -> None:
    def make() -> nn.Module:
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))

    with pytest.raises(sn.SpaceError, match=r"Width\('2'\): the width of \[2\] cannot change: it is part of the "
                                            r"model's output"):
        sn.patch(make, [sn.Width("2", sn.oneof([1.0, 2.0]))])


class PosEmbed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.pos = nn.Parameter(torch.zeros(1, 3, 8))
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.q = nn.Linear(4, 8)
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x) + self.pos
        q = self.q(x).view(x.shape[0], 3, 2, 4).flatten(2)
        return self.head(self.attn(q, q, q)[0] + y)


def test_fixed_size_parameters_head_splits_and_unknown_modules_are_named() -> None:
    with pytest.raises(sn.SpaceError, match=r"width of proj cannot change: it is combined with a tensor of fixed "
                                            r"size by add"):
        sn.patch(PosEmbed, [sn.Width("proj", sn.oneof([1.0, 2.0]))], example_inputs=(2, 3, 4))
    with pytest.raises(sn.SpaceError, match=r"width of q cannot change: view \(view\) splits or mixes it"):
        sn.patch(PosEmbed, [sn.Width("q", sn.oneof([1.0, 2.0]))], example_inputs=(2, 3, 4))


def test_rules_that_tie_one_tensor_to_two_decisions_are_an_error() -> None:
    class Res(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b, self.fc = nn.Linear(4, 8), nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.a(x) + self.b(x))

    with pytest.raises(sn.SpaceError, match=r"b writes the same tensor width as decision 'a.width'"):
        sn.patch(Res, [sn.Width("a", sn.oneof([1.0, 2.0])), sn.Width("b", sn.oneof([1.0, 2.0]))])
    space = sn.patch(Res, [sn.Width("[ab]", sn.oneof([1.0, 2.0]))])  # one rule: the residual partners tie
    assert [d.name for d in space.decisions] == ["a.width"]
    m = space.build((1,))
    assert m.a.out_features == m.b.out_features == m.fc.in_features == 16


def test_untraceable_forward_is_a_clear_error() -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(4, 8), nn.Linear(8, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.a(x)
            if y.sum() > 0:
                y = y * 2
            return self.b(y)

    with pytest.raises(sn.SpaceError, match=r"width rules need a model that torch.fx can trace.*control flow"):
        sn.patch(Branchy, [sn.Width("a", sn.oneof([1.0, 2.0]))])


def test_width_rule_validation_and_no_match() -> None:
    with pytest.raises(sn.SpaceError, match="exactly one of mult= or channels="):
        sn.Width("a")
    with pytest.raises(sn.SpaceError, match="not a positive number"):
        sn.Width("a", sn.oneof([0, 1]))
    with pytest.raises(sn.SpaceError, match=r"Width\('zz\*'\) matched no module that produces a width"):
        sn.patch(Grouped, [sn.Width("zz*", sn.oneof([1.0]))], example_inputs=torch.zeros(2, 3, 4, 4))
    with pytest.raises(sn.SpaceError, match=r"example input \(2, 3, 32, 32\) failed \(RuntimeError: .*pass "
                                            r"example_inputs="):
        sn.patch(Grouped, [sn.Width("stem", sn.oneof([1.0]))])


def test_analyse_reports_groups_on_meta() -> None:
    with torch.device("meta"):
        m = Grouped()
    plan = analyse(m, (torch.zeros(2, 3, 4, 4, device="meta"),))
    groups = plan.producer_group
    assert set(groups) == {"stem", "grouped", "head"}
    assert plan.base(groups["stem"]) == 8 and plan.divisor(groups["stem"]) == 2   # dw x2 then 4 groups of GN
    assert plan.fixed(groups["head"]) == "it is part of the model's output"
    assert plan.args_for({groups["stem"]: 4})["dw"] == {"in_channels": 4, "groups": 4, "out_channels": 8}


def test_a_rule_on_out_channels_is_a_width_its_consumers_follow() -> None:
    from tests.thirdparty_models.resnet import resnet_tiny

    space = sn.patch(resnet_tiny, [
        sn.Rule(nn.Conv2d, where="layer1.0.conv1", out_channels=sn.oneof([4, 8, 12])),
        sn.Rule(nn.Conv2d, where="layer3.*.conv2", out_channels=sn.oneof([16, 48]), name="stage3"),
        sn.Rule(nn.Conv2d, where="layer3.0.downsample.0", out_channels=sn.oneof([16, 48]), name="stage3"),
    ], layers=(1, 1, 1, 1))
    assert [d.name for d in space.decisions] == ["layer1[0].conv1.out_channels", "stage3.out_channels"]
    m = space.build((2, 1))
    assert m.layer1[0].conv1.out_channels == m.layer1[0].bn1.num_features == m.layer1[0].conv2.in_channels == 12
    assert m.layer3[0].conv2.out_channels == m.layer3[0].downsample[0].out_channels == 48
    assert m.layer4[0].conv1.in_channels == m.layer4[0].downsample[0].in_channels == 48
    run_all(space, torch.randn(2, 3, 8, 8))
    with pytest.raises(sn.SpaceError, match=r"layer3\[0\].conv2 writes the same tensor width as decision "
                                            r"'layer3\[0\].downsample\[0\].out_channels'.*one name="):
        sn.patch(resnet_tiny, [sn.Rule(nn.Conv2d, where="layer3.*.conv2", out_channels=sn.oneof([16, 48]),
                                       name="stage3"),
                               sn.Rule(nn.Conv2d, where="layer3.0.downsample.0", out_channels=sn.oneof([16, 48]))],
                 layers=(1, 1, 1, 1))


@settings(max_examples=12, deadline=None)
@given(a=st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0]), b=st.integers(1, 24), div=st.sampled_from([1, 2, 4]))
def test_any_widths_build_and_run_and_1x_is_the_factory_model(a: float, b: int, div: int) -> None:
    space = sn.patch(Dense, [sn.Width("a", sn.oneof([a, 1.0]), divisor=div), sn.Width("b", channels=sn.oneof([b]))],
                     example_inputs=(2, 3, 5, 5))
    m = space.build((0, 0))
    assert m(torch.randn(1, 3, 5, 5)).shape == (1, 3)
    assert m.a.out_channels % div == 0 or a == 1.0
    assert m.se.in_channels == m.a.out_channels + b
    same = sn.patch(Dense, [sn.Width("a", sn.oneof([1.0]))], example_inputs=(2, 3, 5, 5)).build((0,))
    assert [p.shape for p in same.parameters()] == [p.shape for p in Dense().parameters()]


def test_a_width_rule_matching_nothing_is_named_even_beside_other_rules() -> None:
    with pytest.raises(sn.SpaceError, match=r"Width\('nothing\.\*'\) matched no module that produces a width"):
        sn.patch(Grouped, [sn.Rule(nn.BatchNorm2d, eps=sn.oneof([1e-5, 1e-3])), sn.Width("nothing.*", sn.oneof([1.0]))],
                 example_inputs=(2, 3, 4, 4))


def test_width_rules_and_config_placeholders_survive_json() -> None:
    from tests.thirdparty_models.bert import BertConfig, bert_tiny
    from tests.thirdparty_models.resnet import BasicBlock, resnet_tiny

    sn.allow_import("tests.thirdparty_models.")
    space = sn.patch(resnet_tiny, [
        sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU]), name="act"),
        sn.Width("layer3.*", sn.oneof([0.5, 1.0, 1.5]), name="stage3", divisor=4),
        sn.Rule(BasicBlock, where="layer*.1", replace=sn.oneof([BasicBlock, nn.Identity]))], layers=(2, 1, 2, 1))
    bert = sn.patch(bert_tiny, [sn.Width("encoder.layer.*.intermediate.dense", sn.oneof([0.5, 2.0]), name="ffn")],
                    config=BertConfig(num_hidden_layers=sn.oneof([1, 2])))
    for s, x in ((space, torch.randn(2, 3, 16, 16)), (bert, torch.randint(0, 100, (2, 8)))):
        back = sn.Space.from_json(s.to_json())
        assert [d.name for d in back.decisions] == [d.name for d in s.decisions]
        for seed in range(3):
            g = s.sample(seed=seed)
            a, b = s.build(g, seed=0).eval(), back.build(g, seed=0).eval()
            assert [p.shape for p in a.parameters()] == [p.shape for p in b.parameters()]
            with torch.no_grad():
                assert torch.equal(a(x), b(x))
