"""PCS (new format) and W&B writers: export -> import round trips, and what they refuse by name."""
from __future__ import annotations

import os
import warnings

import pytest

import symnas as sn
from symnas.dsl.importers import FormatError, dump, load, loads

DATA = os.path.join(os.path.dirname(__file__), "data", "foreign")


def _signature(space: sn.Space) -> list:
    return sorted((d.name, d.kind, d.labels, d.low, d.high, d.log) for d in space.decisions)


def test_pcs_new_round_trip_keeps_decisions_conditions_and_forbiddens() -> None:
    src = load(os.path.join(DATA, "mlp_new.pcs"))
    text = dump(src, "pcs-new")
    back = loads(text, "pcs-new")
    assert _signature(back) == _signature(src)
    assert back.size == src.size
    assert back.meta["constraints"] == src.meta["constraints"]
    assert "dropout | n_layers > 2 || width in {256}" in text
    assert dump(back, "pcs-new") == text


def test_pcs_new_refuses_quantised_ranges_by_name() -> None:
    with pytest.raises(FormatError, match="decision 'dropout'.*quantised"):
        dump(load(os.path.join(DATA, "nni_search_space.json")), "pcs-new")


def test_wandb_round_trip_of_a_flat_space() -> None:
    space = sn.Space({"lr": sn.floatv(1e-5, 1e-1, scale="log", name="lr"), "layers": sn.intv(1, 6, name="layers"),
                      "opt": sn.oneof(["adam", "sgd"], name="opt"), "drop": sn.floatv(0.0, 0.5, step=0.1, name="drop"),
                      "epochs": 10})
    back = loads(dump(space, "wandb"), "wandb")
    assert _signature(back) == _signature(space)
    assert back.decode(back.table.default_genome)["epochs"] == 10


def test_wandb_refuses_conditions_and_warns_about_defaults() -> None:
    with pytest.raises(FormatError, match="no conditional parameters"):
        dump(load(os.path.join(DATA, "mlp_new.pcs")), "wandb")
    space = sn.Space({"x": sn.oneof([1, 2], name="x", hints={"default": 2})})
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dump(space, "wandb")
    assert any("defaults are not part of a W&B sweep" in str(w.message) for w in seen)
