"""The JSON reader: malformed descriptions are SymnasErrors that name the key path, never raw exceptions."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

import symnas as sn
from symnas.errors import SymnasError
from symnas.symbolic.jsonio import MAX_DEPTH


@pytest.mark.parametrize("text,match", [
    ('{"_int": 5}', r"json:\$\._int: expected \[low, high\]"),
    ('{"a": [{"_int": [1, "x"]}]}', r"json:\$\.a\[0\]\._int\[1\]: expected a number"),
    ('{"_spec": 5}', r"json:\$\._spec: expected an import path"),
    ('{"_spec": "m.f", "args": {"x": 1}}', r"json:\$\.args: expected a list"),
    ('{"_spec": "m.f", "kwargs": {"k": {"_oneof": []}}}', r"json:\$\.kwargs\.k: oneof: empty"),
    ('{"_manyof": [1, 2], "k": "2"}', r"json:\$\.k: expected an integer"),
    ('{"_manyof": [1, 2]}', r"needs 'k'"),
    ('{"_float": [2, 1]}', "low > high"),
    ('{"_float_value": "1e999"}', "'nan', 'inf' or '-inf'"),
    ('{"_ref": ["x"]}', r"json:\$\._ref: expected an import path"),
    ('{"_zz": 1}', "unknown tag '_zz'"),
    ('{"_int": [1, 2], "_float": [1, 2]}', "unexpected key '_float'"),
    ('{"_oneof": [1, 2], "ordered": "yes"}', r"\.ordered: expected true or false"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"a":' * (MAX_DEPTH + 5) + "1" + "}" * (MAX_DEPTH + 5), f"nested deeper than {MAX_DEPTH}"),
    ("1" * 5000, "json: "),
    ('{"a": 1', r"json:1:8"),
    (b"\xff\xfe{}", "not UTF-8"),
])
def test_malformed(text, match):
    with pytest.raises(SymnasError, match=match):
        sn.from_json(text)


def test_legitimate_round_trip_unchanged():
    import torch.nn as nn

    desc = sn.nn.Sequential(sn.nn.Linear(2, 3), sn.nn.ReLU())
    space = {"a": sn.oneof([1, (2, 3), {"_k": 1}], name="a"), "b": sn.intv(1, 9, step=2), "f": float("nan"),
             "r": nn.ReLU, "m": sn.manyof(2, ["x", "y", "z"]), "p": sn.floatv(1e-3, 1.0, scale="log")}
    for tree in (desc, space):
        back = sn.from_json(sn.to_json(tree))
        assert sn.to_json(back) == sn.to_json(tree)


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                     lambda c: st.lists(c, max_size=4) | st.dictionaries(
                         st.sampled_from(["_spec", "_int", "_float", "_oneof", "_manyof", "_perm", "_tuple", "_dict",
                                          "_ref", "_float_value", "k", "name", "args", "kwargs", "step", "log",
                                          "scale", "ordered", "distinct", "sorted", "hints", "x"]), c, max_size=4),
                     max_leaves=20)


@settings(max_examples=500, deadline=None)
@given(_JSON)
def test_any_json_value_reads_or_fails_cleanly(value):
    try:
        sn.from_json(json.dumps(value))
    except SymnasError:
        pass
