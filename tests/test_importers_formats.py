"""Foreign formats: realistic files of each format, conditions, forbiddens, nesting, export->import round trips."""
from __future__ import annotations

import math
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symnas as sn
from symnas.dsl.importers import FormatError, dump, load, loads
from symnas.dsl.importers.expr import ExprError, evaluate, parse, to_text
from symnas.symbolic.placeholders import FloatRange, IntRange, OneOf

DATA = os.path.join(os.path.dirname(__file__), "data", "foreign")


def _load(name: str) -> sn.Space:
    return load(os.path.join(DATA, name))


def test_configspace_json_autosklearn_nesting_conditions_forbiddens() -> None:
    s = _load("autosklearn_like.json")
    clf = s.tree["classifier"]  # 'classifier:__choice__' restored into a nested choice
    assert isinstance(clf, OneOf) and clf.name == "classifier:__choice__"
    assert [c["_name"] for c in clf.candidates] == ["svc", "random_forest"]
    svc = clf.candidates[0]
    assert svc["C"].scale == "log" and svc["C"].hints == {"default": 1.0}
    assert clf.candidates[1]["n_estimators"].step == 10  # q kept as a step
    assert s.tree["seed"] == 1 and isinstance(s.tree["preprocessor"], OneOf) and s.tree["preprocessor"].ordered
    # every condition nests now: an OR over one parent, and an AND over a parent and its ancestor
    assert s.meta["conditions"] == []
    assert [c["_name"] for c in s.tree["preprocessor"].candidates if "pca_keep" in c] == ["pca", "kernel_pca"]
    kernels = svc["kernel"].candidates
    assert "classifier:svc:degree" in kernels[[c["_name"] for c in kernels].index("poly")]
    assert {"kind": "forbid", "expr": "classifier:svc:C < classifier:svc:gamma"} in s.meta["constraints"]
    desc = s.decode(s.sample(0))
    assert desc["classifier"]["_name"] in ("svc", "random_forest")


def test_classic_pcs() -> None:
    s = _load("svm_classic.pcs")
    kernel = s.tree["kernel"]
    assert [c["_name"] for c in kernel.candidates] == ["linear", "rbf", "poly", "sigmoid"]
    assert "gamma" not in kernel.candidates[0] and "degree" in kernel.candidates[2]
    assert kernel.candidates[2]["degree"] == IntRange(2, 5, "degree", hints={"default": 3})
    assert s.tree["C"].scale == "log"
    assert s.meta["conditions"] == [{"param": "coef0",
                                     "expr": "kernel in ['poly', 'sigmoid'] and shrinking in ['true']"}]
    assert s.meta["constraints"] == [{"kind": "forbid", "expr": "kernel == 'sigmoid' and shrinking == 'false'"}]


def test_new_pcs() -> None:
    s = _load("mlp_new.pcs")
    opt = s.tree["optimizer"]
    assert [sorted(c) for c in opt.candidates] == [["_name"], ["_name", "momentum"]]
    assert s.tree["lr"] == FloatRange(1e-5, 1e-1, "lr", scale="log", hints={"default": 1e-3})
    assert s.tree["width"].ordered and s.tree["width"].candidates == ('64', '128', '256')
    assert s.meta["conditions"] == [{"param": "dropout", "expr": "n_layers > 2 or width in ['256']"}]
    assert s.meta["constraints"][0]["expr"] == "optimizer == 'adam' and width == '256'"


def test_nni_nesting_and_bounds() -> None:
    s = _load("nni_search_space.json")
    assert s.tree["num_layers"] == IntRange(1, 4, "num_layers")  # randint upper bound is exclusive
    assert s.tree["model"].candidates[0]["channels"].high == 64
    assert s.tree["dropout"].step == 0.1
    assert [d.name for d in s.decisions][-3:] == ["model:cnn.kernel", "model:cnn.channels", "model:mlp.hidden"]


def test_wandb_log_exponents_and_namespaces() -> None:
    with pytest.warns(UserWarning, match="probabilities"):
        s = _load("wandb_sweep.yaml")
    assert s.tree["learning_rate"].low == 1e-5  # '1e-5' read by PyYAML as a string
    assert math.isclose(s.tree["weight_decay"].low, math.exp(-9.21))  # log_uniform: exponents
    assert s.tree["layers"] == IntRange(1, 4, "layers")  # inclusive
    assert s.tree["epochs"] == 10 and isinstance(s.tree["optimizer"]["beta1"], FloatRange)
    assert s.meta["sweep"]["method"] == "bayes" and len(s.meta["unsupported"]) == 1


def test_hydra_overrides_and_sweeper_yaml() -> None:
    s = _load("hydra_overrides.txt")
    assert s.tree["optimizer"].candidates == ("adam", "sgd", "rms prop")
    assert s.tree["model.depth"] == IntRange(2, 8, "model.depth", step=2)  # range stop exclusive
    assert s.tree["model.width"].candidates == (32, 64, 128)
    assert s.tree["batch"] == IntRange(16, 256, "batch", log=True)
    assert s.tree["lr"].scale == "log" and s.tree["seed"] == 0
    y = _load("hydra_optuna_sweeper.yaml")
    assert y.tree["x"] == IntRange(-5, 6, "x")  # the Optuna sweeper samples range stops inclusively


@pytest.mark.parametrize("name,fmt", [("nni_search_space.json", "nni"), ("hydra_optuna_sweeper.yaml", "hydra"),
                                      ("hydra_overrides.txt", "hydra"), ("svm_classic.pcs", "configspace-json"),
                                      ("nni_search_space.json", "configspace-json")])
def test_export_import_round_trip(name: str, fmt: str) -> None:
    s = _load(name)
    back = loads(dump(s, fmt), fmt)
    assert sorted(d.name for d in back.decisions) == sorted(d.name for d in s.decisions)
    assert back.meta["constraints"] == s.meta["constraints"]
    if fmt != "configspace-json":
        assert back == s
    again = loads(dump(back, fmt), fmt)
    assert again == back


def test_unsupported_constructs_are_named() -> None:
    with pytest.raises(FormatError, match="'h'.*normal"):
        loads('{"h": {"_type": "normal", "_value": [0, 1]}}', "nni")
    with pytest.raises(FormatError, match="'x'.*'beta'"):
        loads("parameters:\n  x:\n    distribution: beta\n", "wandb")
    with pytest.raises(FormatError, match=r":2:1.*~old"):
        loads("a=1,2\n~old\n", "hydra")
    with pytest.raises(FormatError, match="conditional parameters"):
        dump(_load("mlp_new.pcs"), "hydra")
    with pytest.raises(FormatError, match=r"<pcs>:1:1"):
        loads("x ?? 3\n", "pcs")
    with pytest.warns(UserWarning, match="log scale ignored"):
        s = loads('{"u": {"_type": "qloguniform", "_value": [1, 100, 5]}}', "nni")
    assert s.meta["unsupported"] and "u" in s.meta["unsupported"][0]


def test_expr_errors_and_inactive_names() -> None:
    with pytest.raises(ExprError, match="col 8: expected"):
        parse("a == (b")
    with pytest.raises(ExprError, match="unknown decision"):
        evaluate("zz == 1", {}, known={"a"})
    assert evaluate("a != 1", {}) is False  # inactive decisions make comparisons false
    assert evaluate("`odd name` in [1, 2] and not b", {"odd name": 2, "b": False})


_names = st.sampled_from(["a", "b", "x:y:z", "odd name", "c.d"])
_lits = st.one_of(st.integers(-5, 5), st.sampled_from(["p", "q'r", "true"]), st.booleans(), st.none(),
                  st.floats(-10, 10, allow_nan=False).map(lambda f: round(f, 3)))
_atoms = st.one_of(_names.map(lambda n: ("name", n)), _lits.map(lambda v: ("lit", v)))
_cmp = st.one_of(st.tuples(st.sampled_from(["==", "!=", "<", ">", "<=", ">="]), _atoms, _atoms),
                 st.tuples(st.just("in"), _atoms, st.lists(_atoms, min_size=1, max_size=3).map(tuple)))
_expr = st.recursive(_cmp, lambda e: st.one_of(st.tuples(st.sampled_from(["and", "or"]), e, e),
                                                st.tuples(st.just("not"), e)), max_leaves=6)


@settings(max_examples=150, deadline=None)
@given(_expr)
def test_expr_print_parse_round_trip(ast: tuple) -> None:
    assert parse(to_text(ast)) == ast
