"""Descriptions as faithful records: only active decisions, conditions and ties survive JSON, encode names the key
that does not fit, rebind works on defaults, clear errors for what cannot travel, and the PyGlove round trip."""
from __future__ import annotations

import sys
from pathlib import Path

import pyglove as pg
import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symnas as sn  # noqa: E402
from symnas.space.pyglove import from_pyglove, to_pyglove  # noqa: E402
from tests import portable_models as pm  # noqa: E402

TRACED = pm.traced_space()
PATCHED = pm.patched_space()


# -- descriptions -----------------------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_traced_descriptions_hold_only_active_decisions_and_encode_back(seed: int) -> None:
    g = TRACED.sample(seed=seed)
    desc = TRACED.decode(g)
    choices = desc.kwargs["choices"]
    active = TRACED.table.active(g)
    assert set(choices) == {d.name for d in TRACED.decisions if active[d.index]}
    assert choices == TRACED.params(g)
    assert TRACED.encode(desc) == g
    assert TRACED.encode(sn.from_json(sn.to_json(desc))) == g
    assert TRACED.encode(dict(choices)) == g  # the plain {name: value} dict of a traced space


def test_traced_conditions_survive_json() -> None:
    back = sn.Space.from_json(TRACED.to_json())
    assert back.table.conditional and back == TRACED and back.size == TRACED.size
    assert [(d.name, d.conditions) for d in back.decisions] == [(d.name, d.conditions) for d in TRACED.decisions]
    assert back.describe() == TRACED.describe()


def test_tied_names_survive_json() -> None:
    space = pm.annotated_space()
    back = sn.Space.from_json(space.to_json())
    assert [d.name for d in back.decisions] == [d.name for d in space.decisions]
    assert "kernel" in [d.name for d in back.decisions] and len(back.table) == len(space.table)
    for s in range(5):
        g = space.sample(seed=s)
        assert back.decode(g) == space.decode(g)


def test_description_shows_classes_by_name() -> None:
    g = PATCHED.encode({"[1]": nn.GELU, "[2][0].kernel_size": 3, "[2][1]": nn.SiLU})
    text = repr(PATCHED.decode(g))
    assert "choices={'[1]': nn.GELU, '[2][0].kernel_size': 3, '[2][1]': nn.SiLU}" in text
    assert "<class" not in text and "<class" not in repr(sn.oneof([nn.ReLU, nn.GELU]))
    assert repr(pm.Block.spec(8, act=nn.GELU)) == "Block(c=8, act=nn.GELU)"


def test_nested_space_keeps_its_conditions() -> None:
    space = sn.Space({"model": TRACED, "lr": sn.floatv(1e-3, 1e-1, scale="log")})
    assert space.table["act2"].conditions and space.size == float("inf")
    g = space.sample(seed=4)
    built = space.build(g, seed=0)
    assert isinstance(built["model"], nn.Module) and isinstance(built["lr"], float)
    assert set(space.decode(g)["model"].kwargs["choices"]) == set(TRACED.params(g[:len(TRACED.table.default_genome)]))


# -- encode / rebind ------------------------------------------------------------------------------------------
def test_encode_names_the_first_key_that_does_not_fit() -> None:
    ok = {"depth": 2, "act0": nn.ReLU, "act1": nn.GELU, "wide_head": False}
    assert TRACED.encode(ok)
    cases = [
        ({**ok, "act1": nn.Tanh}, r"choices\.act1 \(decision 'act1'\): nn\.Tanh fits none of its options"),
        ({**ok, "depth": 3}, r"decision 'act2' is active for these values but missing"),
        ({**ok, "extra": 1}, r"choices\.extra: unknown key"),
        ({**ok, "depth": 7}, r"decision 'depth'\): 7 is not a int in \[1, 3\]"),
    ]
    for desc, pattern in cases:
        with pytest.raises(sn.SpaceError, match=pattern):
            TRACED.encode(desc)
    space = pm.annotated_space()
    desc = space.decode(space.sample(seed=0)).rebind({"blocks[0].c": 9})
    with pytest.raises(sn.SpaceError, match=r"blocks\[0\]\.c: expected 8, got 9"):
        space.encode(desc)


def test_rebind_works_on_arguments_left_at_their_default() -> None:
    spec = pm.Block.spec(8)
    assert spec.rebind({"kernel": 5}) == pm.Block.spec(8, kernel=5)
    net = pm.Net.spec(blocks=[spec])
    assert net.rebind({"blocks[0].act": nn.GELU, "c": 8}) == pm.Net.spec(blocks=[pm.Block.spec(8, act=nn.GELU)], c=8)
    with pytest.raises(sn.DecisionError, match=r"Block has no argument 'kernal' \(arguments: c, kernel, act\)"):
        spec.rebind({"kernal": 5})
    from_json = sn.from_json(spec.to_json())
    with pytest.raises(sn.DecisionError, match="leaves 'kernel' at its default"):
        from_json.rebind({"kernel": 5})


# -- what cannot travel fails clearly ----------------------------------------------------------------------------
@sn.register
def make_tiny() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 4), nn.ReLU())


def make_unregistered() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 4), nn.ReLU())


def test_a_lambda_in_a_rule_builds_here_and_fails_clearly_from_json() -> None:
    space = sn.patch(make_tiny, [sn.Rule(nn.Linear, out_features=sn.oneof([4, 8]), bias=lambda a: True)])
    assert isinstance(space.build((1,)), nn.Module)  # in the process that wrote it
    back = sn.Space.from_json(space.to_json())
    with pytest.raises(sn.BuildError, match=r"is a lambda or a local function: it has no importable name.*"
                                            r"symnas\.register\(fn, 'pkg\.name'\)"):
        back.build((1,))


def test_an_unregistered_factory_names_the_allow_list() -> None:
    space = sn.patch(make_unregistered, [sn.Rule(nn.ReLU, replace=sn.oneof([nn.ReLU, nn.GELU]))])
    assert isinstance(space.build((1,)), nn.Module)
    with pytest.raises(sn.BuildError, match=r"builder\[0\]: builder '(tests\.)?test_portable_descriptions\."
                                            r"make_unregistered' is not allowed \(not registered.*allow_import"):
        sn.Space.from_json(space.to_json()).build((1,))


def test_a_built_candidate_is_never_a_dict_of_choices() -> None:
    for space in (PATCHED, TRACED):
        back = sn.Space.from_json(space.to_json())
        for s in range(3):
            model = back.build(back.sample(seed=s), seed=0)
            assert isinstance(model, nn.Module)
            assert model(torch.randn(1, 3, 8, 8)).shape[0] == 1


# -- PyGlove ---------------------------------------------------------------------------------------------------
def test_pyglove_round_trip_is_lossless_where_pyglove_can_express_the_space() -> None:
    hpo = sn.Space({"a": sn.intv(2, 8, step=2), "b": sn.floatv(0.0, 1.0, step=0.25), "c": sn.oneof([1, 2, 3],
                    ordered=True), "p": sn.permutation(["x", "y", "z"]), "t": (1, sn.boolv()),
                    "m": sn.manyof(2, ["u", "v", "w"], sorted=True), "s": pm.Block.spec(8, kernel=sn.oneof([1, 3]))})
    for space in (hpo, PATCHED, pm.mixed_space()):
        back = sn.Space(from_pyglove(to_pyglove(space)))
        assert back == space and back.to_dict()["tree"] == space.to_dict()["tree"]
        assert len(list(pg.iter(to_pyglove(space), 3, pg.geno.Random(seed=1)))) == 3
    for s in range(3):
        g = PATCHED.sample(seed=s)
        assert pm.signature(sn.Space(from_pyglove(to_pyglove(PATCHED))).build(g, seed=0)) == \
            pm.signature(PATCHED.build(g, seed=0))


def test_pyglove_says_what_it_cannot_express() -> None:
    with pytest.raises(sn.SpaceError, match=r"decision name 'kernel' is used twice \(tied decisions\)"):
        to_pyglove(pm.annotated_space())
    with pytest.raises(sn.SpaceError, match="conditions inferred by tracing"):
        to_pyglove(TRACED)


def test_symnas_show_prints_classes_by_name(tmp_path, capsys) -> None:
    from symnas.cli.main import main
    from symnas.store.sqlite import SQLiteStore

    path = str(tmp_path / "s.db")
    study = sn.Study(PATCHED, store=SQLiteStore(path), name="p")
    trial = study.ask()
    study.tell(trial, 1.0)
    assert main(["show", path]) == 0
    text = capsys.readouterr().out
    assert "[1]=nn." in text and "<class" not in text
    assert main(["show", path, "--json"]) == 0
    import json

    params = json.loads(capsys.readouterr().out)["top"][0]["params"]
    assert params["[1]"].startswith("nn.") and isinstance(params["[2][0].kernel_size"], int)


def test_a_patched_space_written_without_its_recipe_says_so() -> None:
    d = PATCHED.to_dict()
    d["tree"] = {"[1]": d["tree"]["kwargs"]["choices"]["[1]"]}  # the form older versions wrote: choices only
    old = sn.Space.from_dict(d)
    with pytest.raises(sn.BuildError, match=r"written without the recipe of its factory .*make_cnn"):
        old.build(old.sample(seed=0))
