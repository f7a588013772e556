"""Dedup keys cover everything training depends on: hidden module settings, constructor arguments, non-module
values, trainable-parameter structure (count and sharing); the invariances of the functional hash still hold."""
from __future__ import annotations

import random
from types import SimpleNamespace as T

import pytest
import torch
import torch.nn as nn

import symnas as sn
from symnas.algorithms import RandomSearch
from symnas.hash import Dedup, candidate_key, declare_hidden, functional_hash
from symnas.hash.functional import FunctionalHashError

SHAPE = (2, 4)


def key(build, description=None, **kw):
    return candidate_key(T(description=description, build=lambda seed=None: build()), probe=SHAPE, **kw)


def mlp(dropout=0.0, momentum=0.1, eps=1e-5, act=nn.ReLU):
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=momentum, eps=eps), act(), nn.Dropout(dropout),
                         nn.Linear(6, 2))


@pytest.mark.parametrize("change", [dict(dropout=0.1), dict(momentum=0.01), dict(eps=1e-3)])
def test_each_hidden_torch_setting_changes_the_key(change):
    assert key(mlp) != key(lambda: mlp(**change))
    assert key(lambda: mlp(**change)) == key(lambda: mlp(**change))


def test_dropout_rates_stay_where_they_act():
    class TwoBranches(nn.Module):
        def __init__(self, p, q):
            super().__init__()
            self.a = nn.Sequential(nn.Linear(4, 4), nn.Dropout(p))
            self.b = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Dropout(q))

        def forward(self, x):
            return self.a(x) + self.b(x)

    h = lambda p, q: functional_hash(TwoBranches(p, q), SHAPE)  # noqa: E731
    assert h(0.1, 0.2) != h(0.2, 0.1)                  # same multiset of rates, other places
    assert h(0.1, 0.2) == h(0.1, 0.2)


def test_a_declared_hidden_attribute_of_a_user_module_changes_the_key():
    class DropPath(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.drop_prob = p

        def forward(self, x):
            return x

    declare_hidden(DropPath, drop_prob=0.0)
    a = key(lambda: nn.Sequential(nn.Linear(4, 4), DropPath(0.0)))
    assert a == key(lambda: nn.Sequential(nn.Linear(4, 4)))          # the inert value is invisible
    assert a != key(lambda: nn.Sequential(nn.Linear(4, 4), DropPath(0.2)))


@sn.searchable
class InitNet(nn.Module):
    """A user module whose init scheme and zero-init residual flag only change the initial weights."""

    symnas_inert = ("width",)

    def __init__(self, width: int = 4, init: str = "kaiming", zero_init_residual: bool = False) -> None:
        super().__init__()
        self.lin = nn.Linear(4, width)
        self.res = nn.Linear(width, width)
        self.out = nn.Linear(width, 2)
        getattr(nn.init, "kaiming_normal_" if init == "kaiming" else "xavier_uniform_")(self.lin.weight)
        if zero_init_residual:
            nn.init.zeros_(self.res.weight)

    def forward(self, x):
        h = self.lin(x)
        return self.out(h + self.res(h))


def _space_key(space, genome, **kw):
    return candidate_key(T(description=space.decode(genome), build=lambda seed=None: space.build(genome, seed=seed)),
                         probe=SHAPE, **kw)


def test_constructor_arguments_not_declared_inert_are_in_the_key():
    space = sn.Space(InitNet(width=sn.oneof([4, 8]), init=sn.oneof(["kaiming", "xavier"]),
                             zero_init_residual=sn.oneof([False, True])))
    keys = {g: _space_key(space, g) for g in [(w, i, z) for w in (0, 1) for i in (0, 1) for z in (0, 1)]}
    assert len(set(keys.values())) == 8
    # declared inert (the user says the probe sees it), init merges
    inert = {g: _space_key(space, g, inert=["InitNet.init", "InitNet.zero_init_residual"]) for g in keys}
    assert len(set(inert.values())) == 2                                   # only the width is left


def test_non_module_values_enter_verbatim():
    base = {"lr": 0.1, "batch_size": 64, "augment": True, "epochs": 10}
    k0 = key(lambda: {"net": mlp(), **base})
    for name, other in (("lr", 0.01), ("batch_size", 32), ("augment", False), ("epochs", 20)):
        assert key(lambda: {"net": mlp(), **{**base, name: other}}) != k0, name
    assert key(lambda: {"net": mlp(), **base}) == k0


class Parallel(nn.Module):
    def __init__(self, shared: bool, k: int = 2, mean: bool = False):
        super().__init__()
        f = nn.Linear(4, 4)
        self.branches = nn.ModuleList([f] * k if shared else [nn.Linear(4, 4) for _ in range(k)])
        self.mean = mean

    def forward(self, x):
        out = sum(b(x) for b in self.branches)
        return out / len(self.branches) if self.mean else out


def test_independent_parallel_branches_differ_from_one_shared_branch():
    assert functional_hash(Parallel(shared=False), SHAPE) != functional_hash(Parallel(shared=True), SHAPE)
    # the function alone (without the parameter multiset) cannot tell them apart
    assert functional_hash(Parallel(shared=False), SHAPE, parameters=False) == \
        functional_hash(Parallel(shared=True), SHAPE, parameters=False)


def test_ensembles_of_k_identical_members_differ_by_k():
    hashes = {functional_hash(Parallel(shared=False, k=k, mean=True), SHAPE) for k in (1, 2, 3, 4)}
    assert len(hashes) == 4


def test_invariances_still_collide_under_the_candidate_key():
    class Residual(nn.Module):
        def __init__(self, f):
            super().__init__()
            self.f = f

        def forward(self, x):
            return self.f(x) + x

    class Written(nn.Module):
        def __init__(self):
            super().__init__()
            self.dead = nn.Linear(4, 4)                       # created first, never called
            self.g = nn.Sequential(nn.Identity(), nn.Sequential(nn.Linear(4, 4), nn.ReLU()))

        def forward(self, x):
            return x + self.g(x)

    a = key(lambda: {"net": Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU())), "lr": 0.1})
    assert key(lambda: {"net": Written(), "lr": 0.1}) == a


def test_attention_reading_other_modules_weights_hashes():
    class Attn(nn.Module):
        def __init__(self, heads):
            super().__init__()
            self.mha = nn.MultiheadAttention(8, heads, batch_first=True)

        def forward(self, x):
            return self.mha(x, x, x)[0]

    a, b = functional_hash(Attn(2), (2, 5, 8)), functional_hash(Attn(4), (2, 5, 8))
    assert a != b and a == functional_hash(Attn(2), (2, 5, 8))
    emb = nn.Sequential(nn.Embedding(30, 8), nn.Linear(8, 2))
    assert len(functional_hash(emb, "auto")) == 32
    assert functional_hash(emb, {"shape": (2, 8), "dtype": "long", "high": 30}) == functional_hash(emb, "auto")
    with pytest.raises(FunctionalHashError, match="cannot infer the probe"):
        functional_hash(nn.ReLU(), "auto")


def test_transformer_space_hashes_with_token_probes():
    import symnas.dsl

    space = symnas.dsl.load("transformer")
    rnd = random.Random(0)
    keys = set()
    for _ in range(3):
        g = space.sample(rng=rnd)
        desc = space.decode(g)
        small = desc.rebind(vocab_size=50, max_len=16)          # the builders' size arguments reduced for speed
        keys.add(candidate_key(T(description=small, build=lambda seed=None, d=small: sn.build(d, seed=seed))))
    assert len(keys) == 3


@sn.searchable
class MLP(nn.Module):
    symnas_inert = ("width", "act")

    def __init__(self, width: int = 8, act: str = "relu", dropout: float = 0.0) -> None:
        super().__init__()
        acts = {"relu": nn.ReLU(), "relu_twice": nn.Sequential(nn.ReLU(), nn.ReLU()), "tanh": nn.Tanh()}
        self.body = nn.Sequential(nn.Linear(4, width), acts[act], nn.Dropout(dropout), nn.Linear(width, 2))

    def forward(self, x):
        return self.body(x)


def test_mixed_space_search_serves_only_true_duplicates():
    """relu and relu(relu) are one function with the same parameters; every other difference must not merge."""
    space = {"net": MLP(width=sn.oneof([4, 8]), act=sn.oneof(["relu", "relu_twice", "tanh"]),
                        dropout=sn.oneof([0.0, 0.2])),
             "lr": sn.oneof([0.1, 0.01]), "batch_size": sn.oneof([32, 64]),
             "schedule": sn.oneof(["cosine", "step"])}
    dedup = Dedup(key="functional", probe_shape={"net": SHAPE})
    study = sn.Study(space, RandomSearch(seed=0), dedup=dedup)
    truth = {}
    for _ in range(40):
        trial = study.ask()
        study.tell(trial, float(len(study.trials)))
    genomes_of: dict = {}
    for t in study.trials:
        genomes_of.setdefault(t.hash_key, set()).add(tuple(t.genome))
    by_key: dict = {}
    for t in study.trials:
        d = study.space.decode(t.genome)
        net = d["net"].kwargs
        fact = (net["width"], "relu" if net["act"] in ("relu", "relu_twice") else net["act"], net["dropout"],
                d["lr"], d["batch_size"], d["schedule"])
        by_key.setdefault(t.hash_key, set()).add(fact)
        truth[t.genome] = fact
    assert all(len(v) == 1 for v in by_key.values())           # 0 hits between candidates whose settings differ
    facts = {}
    for g, f in truth.items():
        facts.setdefault(f, set()).add(g)
    assert len(by_key) == len(facts)                            # true duplicates share a key
    assert any(len(g) > 1 for g in genomes_of.values()), "expected hits between relu and relu(relu) candidates"
    assert study.stats["cached"] > 0


# --------------------------------------------------------------------------------------- the CLI's --dedup
SPACES_FAST = ["nasbench201", "transformer", "hpo"]
SPACES_SLOW = ["resnet", "mobilenet", "darts", "nasbench101"]


def _cli(tmp_path, space, dedup):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "ev.py").write_text("def zero(trial):\n    return 0.0\n")
    p = subprocess.run([sys.executable, "-m", "symnas.cli.main", "search", space, "--evaluator", "ev:zero",
                        "--trials", "2", "--dedup", dedup, "--json"], cwd=tmp_path, capture_output=True, text=True,
                       env=dict(os.environ, PYTHONPATH=str(root)), timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout), p.stderr


@pytest.mark.parametrize("space", SPACES_FAST)
def test_every_space_hashes_with_the_cli_functional_dedup(tmp_path, space):
    out, err = _cli(tmp_path, space, "functional")
    assert out["evaluations"] == 2 and out["failed"] == 0, err


@pytest.mark.slow
@pytest.mark.parametrize("space", SPACES_SLOW)
def test_every_space_hashes_with_the_cli_functional_dedup_large_models(tmp_path, space):
    out, err = _cli(tmp_path, space, "functional")
    assert out["evaluations"] == 2 and out["failed"] == 0, err


def test_cli_bare_dedup_picks_the_functional_key_and_structural_explains(tmp_path):
    from symnas.cli.search import UsageError, _dedup
    import symnas.dsl

    space = symnas.dsl.load("hpo")
    assert _dedup("auto", None, "s", space).key_name == "functional"
    with pytest.raises(UsageError, match="no cell the structural key can read"):
        _dedup("structural", None, "s", space)
    assert _dedup("auto", None, "s", symnas.dsl.load("nasbench201")).key_name == "functional"
