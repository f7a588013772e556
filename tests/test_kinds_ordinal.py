"""The ordinal kind, added as one placeholder class and one kind class: values with an order, sampled like a choice,
mutated to a neighbour, compared by position in conditions, in the genome, JSON, decode/encode and conversions."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn
from symnas.genome.kinds import OrdinalKind, kind_named
from symnas.symbolic.placeholders import OneOf, Ordinal


def test_placeholder_is_its_own_kind_and_validated() -> None:
    ph = sn.ordinal([16, 32, 64], name="width")
    assert isinstance(ph, Ordinal) and ph.kind == "ordinal" and ph.values == (16, 32, 64) and ph.ordered
    assert ph == Ordinal([16, 32, 64], "width") and hash(ph) == hash(Ordinal([16, 32, 64], "width"))
    assert ph != sn.oneof([16, 32, 64], "width", ordered=True)  # an ordered choice stays a choice
    assert repr(ph) == "Ordinal(values=[16, 32, 64], name='width')"
    with pytest.raises(sn.SpaceError, match=r"ordinal \(decision 'w'\): empty value list"):
        sn.ordinal([], name="w")
    with pytest.raises(sn.SpaceError, match="values must be a list"):
        sn.ordinal("abc")


def test_compiles_to_one_index_gene_and_keeps_the_fast_path() -> None:
    space = sn.Space({"depth": sn.ordinal([2, 4, 8]), "act": sn.oneof(["relu", "gelu"])})
    d = space.table["depth"]
    assert d.kind == "ordinal" and d.ops is kind_named("ordinal") and d.width == 1 and d.n == 3 and d.ordered
    assert d.labels == ("2", "4", "8") and d.default == (0,) and d.count() == 3 and space.size == 6
    # Sampled like a choice: one float draw per decision, the same draws as an all-choice table of equal sizes.
    twin = sn.Space({"depth": sn.oneof([2, 4, 8]), "act": sn.oneof(["relu", "gelu"])})
    for seed in range(20):
        assert space.table.sample(random.Random(seed)) == twin.table.sample(random.Random(seed))
    counts = Counter(space.table.sample(random.Random(s))[0] for s in range(3000))
    assert set(counts) == {0, 1, 2} and min(counts.values()) > 900


def test_decode_encode_and_params() -> None:
    space = sn.Space({"depth": sn.ordinal([2, 4, 8], name="depth"), "lr": sn.floatv(0.01, 0.1)})
    g = space.encode({"depth": 8, "lr": 0.05})
    assert g == (2, 0.05) and space.decode(g) == {"depth": 8, "lr": 0.05}
    assert space.params(g) == {"depth": 8, "lr": 0.05}
    with pytest.raises(sn.SpaceError, match="does not fit"):
        space.encode({"depth": 3, "lr": 0.05})
    with pytest.raises(sn.GenomeError, match=r"depth: ordinal position 3 not in \[0, 3\)"):
        space.table.validate((3, 0.05))
    assert space.table.validate([2.0, 0.05]) == (2, 0.05)  # JSON floats back to positions


def test_values_may_be_sub_spaces_with_conditional_decisions() -> None:
    space = sn.Space({"size": sn.ordinal(["small", {"mid": sn.intv(1, 3)}, {"big": sn.oneof(["a", "b"])}])})
    t = space.table
    assert [d.path for d in t] == ["size", "size:1.mid", "size:2.big"]
    assert t["size:1.mid"].conditions == [(0, frozenset([1]))]
    assert space.size == 1 + 3 + 2
    for seed in range(50):
        g = space.sample(seed=seed)
        assert space.encode(space.decode(g)) == g and t.canonical(g) == g


def test_mutation_moves_to_an_adjacent_value() -> None:
    d = sn.Space({"x": sn.ordinal(list(range(6)))}).table["x"]
    rng = random.Random(0)
    seen = Counter()
    for _ in range(2000):
        v = rng.randrange(6)
        (nv,) = d.mutate((v,), rng)
        assert abs(nv - v) == 1
        seen[(v, nv)] += 1
    assert seen[(0, 1)] and seen[(5, 4)] and seen[(3, 2)] and seen[(3, 4)]
    assert d.neighbours((0,)) == [(1,)] and d.neighbours((3,)) == [(2,), (4,)] and d.neighbours((5,)) == [(4,)]
    single = sn.Space({"x": sn.ordinal(["only"])}).table["x"]
    assert single.mutate((0,), rng) == (0,) and single.neighbours((0,)) == []


def test_conditions_compare_positions() -> None:
    d = sn.Space({"x": sn.ordinal(["xs", "s", "m", "l", "xl"])}).table["x"]
    k = d.ops
    assert k.condition(d, ">=", 2) == {2, 3, 4} and k.condition(d, "<", 2) == {0, 1}
    assert k.condition(d, "<=", 0) == {0} and k.condition(d, ">", 4) == frozenset()
    assert k.condition(d, "==", 3) == {3} and k.condition(d, "!=", 3) == {0, 1, 2, 4}


def test_json_round_trip_and_tag() -> None:
    tree = {"w": sn.ordinal([16, 32, (64, 64)], name="w", hints={"default": 32})}
    text = sn.to_json(tree)
    assert '"_ordinal"' in text and '"ordered"' not in text
    back = sn.from_json(text)
    assert back == tree and type(back["w"]) is Ordinal
    space = sn.Space(tree, "s")
    assert sn.Space.from_json(space.to_json()) == space


def test_conversions() -> None:
    from symnas.dsl.printer import format_value
    from symnas.dsl.values import literal

    ph = sn.ordinal([1, 2, 4], name="n")
    d = sn.Space({"n": ph}).table["n"]
    k = OrdinalKind()
    assert k.dsl_call(ph, format_value, literal) == ("ordinal", ["1", "2", "4"], [])

    class Trial:
        def suggest_int(self, name: str, low: int, high: int) -> int:
            assert (name, low, high) == ("n", 0, 2)
            return 1

    assert d.ops.suggest_optuna(d, Trial()) == (1,)
    optuna = pytest.importorskip("optuna")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    (v,) = d.ops.suggest_optuna(d, trial)
    assert 0 <= v <= 2 and isinstance(trial.distributions["n"], optuna.distributions.IntDistribution)


def test_pyglove_round_trip() -> None:
    pg = pytest.importorskip("pyglove")
    ph = sn.ordinal(["s", "m", "l"], name="size")
    hyper = sn.to_pyglove(ph)
    assert isinstance(hyper, pg.hyper.OneOf)
    back = sn.from_pyglove(hyper)
    assert type(back) is Ordinal and back == ph
    plain = pg.oneof(["s", "m", "l"], name="size")
    assert type(sn.from_pyglove(plain)) is OneOf


def test_random_search_runs_on_an_ordinal_space() -> None:
    space = sn.Space({"depth": sn.ordinal([1, 2, 4, 8]), "lr": sn.floatv(1e-3, 1e-1, scale="log")})
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
    for _ in range(20):
        t = study.ask()
        assert space.table.validate(t.genome) == t.genome
        study.tell(t, float(space.decode(t.genome)["depth"]))


_values = st.lists(st.one_of(st.integers(-50, 50), st.text(min_size=1, max_size=4)), min_size=1, max_size=8,
                   unique_by=lambda v: (type(v), v))


@settings(max_examples=60, deadline=None)
@given(values=_values, other=_values, seed=st.integers(0, 2**16))
def test_round_trips_hold_for_any_ordinal_space(values: list, other: list, seed: int) -> None:
    tree = {"a": sn.ordinal(values, name="a"), "b": sn.ordinal([{"v": sn.ordinal(other)}, "none"])}
    space = sn.Space(tree)
    assert sn.from_json(sn.to_json(tree)) == tree
    assert sn.Space.from_json(space.to_json()).table.width == space.table.width
    rng = random.Random(seed)
    g = space.table.sample(rng)
    assert space.table.validate(g) == g
    desc = space.decode(g)
    assert space.encode(desc) == g
    assert sn.from_json(sn.to_json(desc)) == desc
    d = space.table["a"]
    child = d.mutate(g[d.offset:d.offset + 1], rng)
    assert d.check(child) is None and (len(values) == 1 or abs(child[0] - g[d.offset]) == 1)


def test_a_supernet_mixes_the_values_of_an_ordinal_like_a_choice() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    from symnas.supernet import Supernet
    from tests.test_supernet_compile import Blk, Net

    width = sn.ordinal([Blk.spec(4, k=1), Blk.spec(4, k=3), Blk.spec(4, k=5)], name="kernel")
    space = sn.Space(Net([width, sn.oneof([sn.nn.Identity(), Blk.spec(4, act=nn.GELU)])], c=4))
    torch.manual_seed(0)
    net = Supernet(space, seed=0).eval().set_mode("fixed")
    x = torch.randn(2, 1, 8, 8)
    for seed in range(3):
        g = space.sample(seed=seed)
        net.set_genome(g)
        torch.testing.assert_close(net.extract(g).eval()(x), net(x), rtol=0, atol=1e-6)
    net.set_mode("weighted", decisions=["kernel"])
    assert net(x).shape == (2, 10) and any(p.requires_grad for p in net.arch_parameters())
    assert len(net.derive()) == space.table.width
