"""Round trip: any space (from Python placeholders or a file) prints to DSL text that loads back equal."""
from __future__ import annotations

import keyword

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import symnas as sn
import symnas.dsl as dsl
from symnas.symbolic.jsonio import Ref
from symnas.symbolic.spec import Spec

IDENT = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in dsl.parser.KEYWORDS)
SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8),
    st.sampled_from([float("inf"), float("-inf")]),
)
HINTS = st.one_of(st.none(), st.just("bool"), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
TARGETS = st.sampled_from(["torch.nn.Linear", "torch.nn.Conv2d", "symnas.models.resnet.ResNet"])
NAMED = object()


def _ph_scalar():
    ints = st.tuples(st.integers(-50, 50), st.integers(0, 40), st.integers(1, 5)).map(
        lambda t: sn.intv(t[0], t[0] + t[1], step=t[2]))
    log_ints = st.tuples(st.integers(1, 50), st.integers(0, 40)).map(lambda t: sn.intv(t[0], t[0] + t[1], log=True))
    floats = st.tuples(st.floats(-1e3, 1e3), st.floats(0, 1e3), st.sampled_from([None, 0.5, 2.0])).map(
        lambda t: sn.floatv(t[0], t[0] + t[1], step=t[2]))
    log_floats = st.tuples(st.floats(1e-6, 1.0), st.floats(1.0, 1e3)).map(
        lambda t: sn.floatv(t[0], t[0] * t[1], scale="log"))
    subsets = st.lists(SCALAR, min_size=1, max_size=4).flatmap(
        lambda c: st.tuples(st.integers(1, len(c)), st.booleans()).map(
            lambda t: sn.manyof(t[0], c, sorted=t[1])))
    perms = st.lists(SCALAR, min_size=1, max_size=4).map(sn.permutation)
    return st.one_of(ints, log_ints, floats, log_floats, subsets, perms, st.builds(lambda: sn.boolv()))


def _with(ph, name, hints, ordered=False):
    """A copy of ``ph`` with a name / hints (placeholders are rebuilt through JSON to stay valid)."""
    from symnas.symbolic.jsonio import decode, encode

    j = encode(ph)
    if name is not None:
        j["name"] = name
    if hints is not None:
        j["hints"] = hints
    if ordered and "_oneof" in j:
        j["ordered"] = True
    return decode(j)


def trees(max_leaves=12):
    def extend(children):
        lists = st.lists(children, max_size=3)
        tuples = st.lists(children, max_size=3).map(tuple)
        dicts = st.dictionaries(st.text(max_size=5), children, max_size=3)
        specs = st.tuples(TARGETS, st.lists(children, max_size=2),
                          st.dictionaries(IDENT, children, max_size=2)).map(
            lambda t: Spec(t[0], tuple(t[1]), t[2]))
        choices = st.tuples(st.lists(children, min_size=1, max_size=3), st.booleans(), HINTS).map(
            lambda t: _with(sn.oneof(t[0]), None, t[2], ordered=t[1]))
        return st.one_of(lists, tuples, dicts, specs, choices)

    leaves = st.one_of(SCALAR, _ph_scalar(), st.just(Ref("torch.nn.ReLU")))
    return st.recursive(leaves, extend, max_leaves=max_leaves)


def _name_all(tree, names, counter):
    """Gives some placeholders unique names (identifiers or free-form strings)."""
    from symnas.symbolic.placeholders import ManyOf, OneOf, Placeholder

    if isinstance(tree, Placeholder):
        if isinstance(tree, (OneOf, ManyOf)):
            tree.candidates = tuple(_name_all(c, names, counter) for c in tree.candidates)
        if names and tree.name is None:
            tree.name = names.pop() + f"_{counter[0]}" if counter[0] % 2 else f"dec:{counter[0]}.x"
            counter[0] += 1
        return tree
    if isinstance(tree, Spec):
        return Spec(tree.target, tuple(_name_all(a, names, counter) for a in tree.args),
                    {k: _name_all(v, names, counter) for k, v in tree.kwargs.items()})
    if isinstance(tree, list):
        return [_name_all(v, names, counter) for v in tree]
    if isinstance(tree, tuple):
        return tuple(_name_all(v, names, counter) for v in tree)
    if isinstance(tree, dict):
        return {k: _name_all(v, names, counter) for k, v in tree.items()}
    return tree


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees(), names=st.lists(IDENT, max_size=6), tie=st.booleans(), label=st.text(max_size=6))
def test_python_spaces_round_trip(tree, names, tie, label):
    tree = _name_all(tree, names, [0])
    if tie:  # a tied decision: the same named placeholder used twice
        shared = sn.intv(1, 4, name="shared")
        tree = [tree, shared, {"again": shared}]
    space = sn.Space(tree, label or "space")
    text = dsl.dumps(space)
    again = dsl.loads(text)
    assert again == space, text
    assert again.name == space.name
    assert again.table.width == space.table.width
    assert dsl.dumps(again) == text


@settings(max_examples=60, deadline=None)
@given(entries=st.dictionaries(IDENT, st.one_of(SCALAR, _ph_scalar()), min_size=1, max_size=5))
def test_hpo_style_dict_spaces_round_trip(entries):
    tree = {}
    for k, v in entries.items():  # entries named by their key print as plain bindings
        tree[k] = _with(v, k, None) if isinstance(v, sn.symbolic.placeholders.Placeholder) else v
    space = sn.Space(tree, "hpo")
    text = dsl.dumps(space)
    assert "build" not in text or any(k in ("build",) for k in tree)
    assert dsl.loads(text) == space


def test_defaults_labels_and_hints_round_trip():
    text = '''
space "t"
a = choice(3, 5, 7, default=5)
b = ordinal(1, 2, 4)
c = bool(default=True)
d = int(1, 9, step=2, default=3)
e = float(0.001, 1.0, log=True, default=0.01)
f = subset(2, "x", "y", "z", sorted=True, default=["x", "y"])
g = permutation(1, 2, 3)
h = choice(small={"w": int(1, 3)}, big={"w": int(4, 9)}, default="big")
i = choice(1, 2, hints={"anything": [1, 2]})
'''
    space = dsl.loads(text)
    assert space.table["a"].hints == {"default": 5}
    assert space.table["c"].hints == {"type": "bool", "default": True}
    assert space.table["h"].hints == {"default": "big", "labels": ["small", "big"]}
    assert space.table["i"].hints == {"anything": [1, 2]}
    assert space.table["b"].ordered
    again = dsl.loads(dsl.dumps(space))
    assert again == space
    assert [d.hints for d in again.decisions] == [d.hints for d in space.decisions]


def test_python_and_dsl_front_ends_give_equal_spaces():
    import torch.nn as nn

    py = sn.Space(sn.nn.Sequential(
        sn.nn.Conv2d(3, 16, kernel_size=sn.oneof([3, 5], name="k")),
        sn.oneof([nn.ReLU, nn.GELU], name="act"),
    ), "net")
    text = dsl.dumps(py)
    assert "k = choice(3, 5)" in text
    assert dsl.loads(text) == py
