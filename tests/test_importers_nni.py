"""NNI search spaces: every documented ``_type`` either imports with NNI's value set or is refused by name."""
from __future__ import annotations

import json

import pytest

from symnas.dsl.importers import FormatError, dump, loads
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf


def _nni_quniform(low, high, q, x):
    """NNI: clip(round(x / q) * q, low, high)."""
    return min(max(round(x / q) * q, low), high)


@pytest.mark.parametrize("low,high,q", [(0.1, 1.0, 0.25), (0, 1, 0.25), (2, 17, 5), (-3, 3, 2)])
def test_quniform_value_set_is_nnis(low, high, q):
    s = loads(json.dumps({"a": {"_type": "quniform", "_value": [low, high, q]}}), "nni")
    node = s.tree["a"]
    got = ({round(low + i * node.step, 9) for i in range(int(round((high - low) / node.step)) + 1)}
           if isinstance(node, FloatRange) else {round(c, 9) for c in node.candidates})
    want = {round(_nni_quniform(low, high, q, low + (high - low) * i / 10_000), 9) for i in range(10_001)}
    assert got == want


def test_every_documented_type():
    spec = {"c": {"_type": "choice", "_value": [1, "x", {"_name": "cnn", "k": {"_type": "randint", "_value": [1, 4]}},
                                                {"_name": "mlp", "w": {"_type": "choice", "_value": [
                                                    {"_name": "deep", "d": {"_type": "uniform", "_value": [0, 1]}},
                                                    {"_name": "wide"}]}}]},
            "r": {"_type": "randint", "_value": [2, 5]},
            "u": {"_type": "uniform", "_value": [0.0, 1.0]},
            "lu": {"_type": "loguniform", "_value": [1e-4, 1e-1]}}
    s = loads(json.dumps(spec), "nni")
    assert s.tree["r"] == IntRange(2, 4, "r") and s.tree["lu"].scale == "log"
    assert isinstance(s.tree["c"], OneOf) and s.tree["c"].candidates[2]["k"] == IntRange(1, 3, "c:cnn.k")
    names = {s.params(s.sample(i)).get("c") for i in range(60)}
    assert names == {1, "x", "cnn", "mlp"}
    with pytest.raises(FormatError, match="'c'"):       # plain and named options mixed: refused by name
        dump(s, "nni")
    nested = {k: v for k, v in spec.items() if k != "c"}
    nested["m"] = {"_type": "choice", "_value": spec["c"]["_value"][2:]}
    s2 = loads(json.dumps(nested), "nni")
    assert loads(dump(s2, "nni"), "nni") == s2
    for t in ("normal", "qnormal", "lognormal", "qlognormal"):
        with pytest.raises(FormatError, match=f"'{t}'"):
            loads(json.dumps({"h": {"_type": t, "_value": [0, 1] + ([1] if t.startswith("q") else [])}}), "nni")
    for bad in ({"h": {"_type": "randint", "_value": "1,2"}}, {"h": {"_type": "uniform", "_value": [0, "1"]}},
                {"h": {"_type": "quniform", "_value": [0, 1, 0]}}, {"h": {"_type": "choice", "_value": []}},
                {"h": 5}, [1, 2]):
        with pytest.raises(FormatError):
            loads(json.dumps(bad), "nni")
