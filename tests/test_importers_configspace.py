"""ConfigSpace files sampled as ConfigSpace defines them: ConfigSpace itself is the oracle (skipped without it).

Generated spaces use every condition kind (==, !=, <, >, in, AND, OR; ordinal parents by order) and every
forbidden kind (equals, in, and, relations); each is written by ConfigSpace, imported, sampled 1,000 times and
every sample is checked by ConfigSpace. Sizes of finite variants match a brute-force count by ConfigSpace.
"""
from __future__ import annotations

import itertools
import math
import os
import random
import warnings

import pytest

CS = pytest.importorskip("ConfigSpace")
from ConfigSpace import (AndConjunction, CategoricalHyperparameter, Configuration, ConfigurationSpace,  # noqa: E402
                         EqualsCondition, ForbiddenAndConjunction, ForbiddenEqualsClause, ForbiddenInClause,
                         GreaterThanCondition, InCondition, LessThanCondition, NotEqualsCondition,
                         OrConjunction, OrdinalHyperparameter, UniformFloatHyperparameter,
                         UniformIntegerHyperparameter)
from ConfigSpace.forbidden import (ForbiddenEqualsRelation, ForbiddenGreaterThanRelation,  # noqa: E402
                                   ForbiddenLessThanRelation)

from symnas.dsl import constraints  # noqa: E402
from symnas.dsl.importers import FormatError, dump, load, loads  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data", "foreign")


def _json(cs: ConfigurationSpace) -> str:
    from ConfigSpace.read_and_write import json as csj

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return csj.write(cs)


def _valid(cs: ConfigurationSpace, params: dict) -> None:
    conf = Configuration(cs, values=params)
    cs.check_configuration(conf)


def _space(seed: int, finite: bool = False, forbid: bool = True) -> ConfigurationSpace:
    """A random space: categorical (text, int, bool values), ordinal and numeric parameters; conditions of every
    kind over categorical/ordinal parents, including an AND with an ancestor and an OR over one parent."""
    r = random.Random(seed)
    cs = ConfigurationSpace(seed=seed)
    a = CategoricalHyperparameter("a", ["x", "y", "z"], default_value="z")  # defaults satisfy the forbiddens
    o = OrdinalHyperparameter("o", ["low", "mid", "high", "top"], default_value="mid")
    n = CategoricalHyperparameter("n", [1, 2, 3])
    b = CategoricalHyperparameter("b", [True, False])
    c1 = UniformIntegerHyperparameter("c1", 1, 3) if finite else UniformFloatHyperparameter("c1", 0.0, 1.0)
    c2 = UniformIntegerHyperparameter("c2", 1, 4, log=r.random() < 0.5, default_value=1)
    c3 = CategoricalHyperparameter("c3", ["p", "q"])
    c4 = OrdinalHyperparameter("c4", [10, 20, 30])
    c5 = UniformIntegerHyperparameter("c5", 0, 3, default_value=3 if seed % 3 == 0 else 0)
    cs.add([a, o, n, b, c1, c2, c3, c4, c5])
    kinds = [
        lambda: EqualsCondition(c1, a, "x"),
        lambda: NotEqualsCondition(c1, a, "y"),
        lambda: InCondition(c1, a, ["x", "z"]),
        lambda: GreaterThanCondition(c1, o, "mid"),
        lambda: LessThanCondition(c1, o, "high"),
        lambda: OrConjunction(EqualsCondition(c1, o, "low"), EqualsCondition(c1, o, "top")),
    ]
    cs.add(kinds[seed % len(kinds)]())
    cs.add(AndConjunction(EqualsCondition(c2, c3, "p"), EqualsCondition(c2, a, "z")))  # c3 is a child of a
    cs.add(EqualsCondition(c3, a, "z"))
    cs.add(InCondition(c4, n, [1, 3]))
    cs.add(EqualsCondition(c5, b, True))
    if forbid:
        cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(a, "x"), ForbiddenEqualsClause(o, "low")))
        cs.add(ForbiddenInClause(n, [2]) if seed % 2 else ForbiddenEqualsClause(b, False))
        cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(c3, "q"), ForbiddenEqualsClause(c4, 30)))
        rel = [ForbiddenLessThanRelation, ForbiddenGreaterThanRelation, ForbiddenEqualsRelation][seed % 3]
        cs.add(rel(c5, c2))
    return cs


@pytest.mark.parametrize("seed", range(6))
def test_samples_are_valid_configurations(seed):
    cs = _space(seed)
    space = loads(_json(cs), "configspace-json")
    assert space.meta["conditions"] == [] and space.meta["unsupported"] == []
    rng = random.Random(seed)
    for _ in range(1000):
        g = constraints.sample(space, rng=rng)
        _valid(cs, space.params(g))


def _brute_force(cs: ConfigurationSpace) -> int:
    hps = list(cs.values())
    domains = []
    for h in hps:
        if hasattr(h, "choices"):
            domains.append(list(h.choices) + [None])
        elif hasattr(h, "sequence"):
            domains.append(list(h.sequence) + [None])
        else:
            domains.append(list(range(h.lower, h.upper + 1)) + [None])
    assert math.prod(len(d) for d in domains) <= 6000
    n = 0
    for combo in itertools.product(*domains):
        vals = {h.name: v for h, v in zip(hps, combo) if v is not None}
        try:
            _valid(cs, vals)
        except Exception:  # noqa: BLE001 - ConfigSpace's verdict
            continue
        n += 1
    return n


def _small_space(seed: int) -> ConfigurationSpace:
    """A finite space with each condition kind, a child shared by two parent values and an AND with an ancestor."""
    cs = ConfigurationSpace(seed=seed)
    a = CategoricalHyperparameter("a", ["x", "y", "z"])
    o = OrdinalHyperparameter("o", ["low", "mid", "high"])
    n = CategoricalHyperparameter("n", [1, 2, 3])
    c1 = UniformIntegerHyperparameter("c1", 1, 2)
    c2 = CategoricalHyperparameter("c2", [True, False])
    c3 = CategoricalHyperparameter("c3", ["p", "q"])
    c4 = OrdinalHyperparameter("c4", [10, 20])
    cs.add([a, o, n, c1, c2, c3, c4])
    kinds = [lambda: EqualsCondition(c1, a, "x"), lambda: NotEqualsCondition(c1, a, "y"),
             lambda: InCondition(c1, a, ["x", "z"]), lambda: GreaterThanCondition(c1, o, "low"),
             lambda: LessThanCondition(c1, o, "high"),
             lambda: OrConjunction(EqualsCondition(c1, o, "low"), EqualsCondition(c1, o, "high"))]
    cs.add(kinds[seed % len(kinds)]())
    cs.add(EqualsCondition(c3, a, "z"))
    cs.add(AndConjunction(EqualsCondition(c2, c3, "p"), EqualsCondition(c2, a, "z")))
    cs.add(InCondition(c4, n, [1, 3]))                      # one child under two parent values
    return cs


@pytest.mark.parametrize("seed", range(6))
def test_sizes_match_brute_force(seed):
    cs = _small_space(seed)
    space = loads(_json(cs), "configspace-json")
    assert space.size == _brute_force(cs)


@pytest.mark.parametrize("seed", range(3))
def test_json_round_trip_by_configspace(seed):
    from ConfigSpace.read_and_write import json as csj

    cs = _space(0, forbid=seed != 1)
    space = loads(_json(cs), "configspace-json")
    text = dump(space, "configspace-json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = csj.read(text)
    assert sorted(back.keys()) == sorted(cs.keys())
    for name in cs:
        assert back[name] == cs[name] or type(back[name]) is type(cs[name]) and back[name].name == name
    assert {str(c) for c in back.conditions} == {str(c) for c in cs.conditions} or len(back.conditions) == len(
        cs.conditions)
    again = loads(text, "configspace-json")
    assert again.size == space.size and again.meta["constraints"] == space.meta["constraints"]


def test_numeric_parent_conditions_are_named_not_silent():
    cs = ConfigurationSpace()
    x = UniformFloatHyperparameter("x", 0.0, 1.0)
    y = UniformIntegerHyperparameter("y", 1, 5)
    cs.add([x, y])
    cs.add(GreaterThanCondition(y, x, 0.5))
    with pytest.warns(UserWarning, match="not applied when sampling"):
        space = loads(_json(cs), "configspace-json")
    assert space.meta["unsupported"]


def _read_by_configspace(path: str, fmt: str):
    from ConfigSpace.read_and_write import pcs, pcs_new

    with open(path) as f, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (pcs if fmt == "pcs" else pcs_new).read(f.read().splitlines())


@pytest.mark.parametrize("name", sorted(f for f in os.listdir(os.path.join(DATA, "configspace")) if f.endswith(".pcs")))
def test_configspace_test_spaces(name):
    """ConfigSpace's own test spaces: each one ConfigSpace reads imports, samples valid configurations (by
    ConfigSpace) and round-trips through symnas's ConfigSpace JSON writer."""
    from ConfigSpace.read_and_write import json as csj

    path = os.path.join(DATA, "configspace", name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = load(path)
    fmt = space.meta["format"]
    try:
        cs = _read_by_configspace(path, fmt)
    except Exception:  # noqa: BLE001 - a file ConfigSpace itself refuses (e.g. a name declared twice)
        pytest.skip(f"ConfigSpace does not read {name}")
    assert sorted(d.name for d in space.decisions) == sorted(cs.keys())
    assert space.meta["conditions"] == []
    rng = random.Random(0)
    for _ in range(300):
        _valid(cs, space.params(constraints.sample(space, rng=rng)))
    if name == "vampire-condition-or.pcs":  # a child under two different parents (an OR): refused by name
        with pytest.raises(FormatError, match="age_weight_ratio:log_ratio"):
            dump(space, "configspace-json")
        return
    text = dump(space, "configspace-json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = csj.read(text)
    assert sorted(back.keys()) == sorted(cs.keys())
    assert len(back.conditions) == len(cs.conditions) and len(back.forbidden_clauses) == len(cs.forbidden_clauses)
    again = loads(text, "configspace-json")
    assert again.size == space.size


def test_hpo_space_converts_to_configspace():
    """spaces/hpo.sns (named choices with sub-spaces, stepped ranges) is written as ConfigSpace JSON that
    ConfigSpace reads with the same parameters, conditions and value sets; symnas reads it back."""
    from ConfigSpace.read_and_write import json as csj

    import symnas.dsl as dsl

    space = dsl.load("hpo")
    text = dump(space, "configspace-json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cs = csj.read(text)
    assert len(list(cs.keys())) == len(space.decisions) and len(cs.conditions) == 8
    assert list(cs["epochs"].sequence) == [50, 100, 150, 200]
    back = loads(text, "configspace-json")
    assert len(back.decisions) == len(space.decisions)
    rng = random.Random(0)
    for _ in range(200):
        _valid(cs, back.params(constraints.sample(back, rng=rng)))
