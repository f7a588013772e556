"""One space drives random multi-trial search, ENAS-style and DARTS-style weight sharing (issue 6)."""
from __future__ import annotations

import pytest
import torch

import symnas as sn
from symnas.evaluator.benchmark import nasbench201_space
from symnas.supernet import Data, Supernet, darts_search, enas_search

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_data(n: int = 96) -> Data:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 3, 8, 8, generator=g)
    y = (x[:, 0].mean((1, 2)) > 0).long() + 2 * (x[:, 1].mean((1, 2)) > 0).long()
    a, b = n // 2, 3 * n // 4
    return Data(x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], 4)


def test_same_space_random_enas_darts():
    space = nasbench201_space(C=4, N=1, num_classes=4)
    decisions_before = [(d.path, d.n) for d in space.table.decisions]
    study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
    study.optimize(lambda trial: float(len(set(trial.description.kwargs["cell"]))), n_trials=3)
    data = tiny_data()
    enas = enas_search(space, data, steps=8, batch_size=16, ctrl_every=2, warmup=0.25, k=2, bn_batches=1,
                       device="cpu", seed=0)
    darts = darts_search(space, data, steps=2, batch_size=16, device="cpu", seed=0)
    assert [(d.path, d.n) for d in space.table.decisions] == decisions_before
    for res in (enas, darts):
        assert res.supernet.space is space
        assert space.table.validate(res.genome) == res.genome
        assert space.encode(res.description) == res.genome
        model = res.export()
        assert model(data.x_val[:2]).shape == (2, 4)
    assert enas.info["controller"] in ("Reinforce", "RandomSearch")
    assert len(enas.info["rewards"]) == 3  # steps 2, 4, 6 after a 2-step warm-up
    assert darts.info["guard"] == "pt" and len(darts.info["alphas"]) == 6


def test_darts_updates_arch_parameters_first_order():
    space = nasbench201_space(C=4, N=1, num_classes=4)
    res = darts_search(space, tiny_data(), steps=3, batch_size=16, a_lr=0.1, guard="none", device="cpu")
    assert any(p.abs().sum() > 0 for p in res.supernet.arch_parameters())
    assert res.genome == res.info["argmax_genome"] == res.supernet.derive()


def test_perturbation_guard_selects_by_accuracy_drop_not_logits(monkeypatch):
    """With logits forced towards skip_connect everywhere (a collapsed run), plain argmax derives the all-skip
    cell; the guard keeps, per edge, the op whose masking hurts validation accuracy most (here: nor_conv_3x3,
    as reported by a stub accuracy that reads the masks), and discretises edges one after another."""
    from symnas.supernet import search

    space = nasbench201_space(C=4, N=1, num_classes=4)
    net = Supernet(space, seed=0).set_mode("weighted")
    with torch.no_grad():
        for p in net.arch_parameters():
            p.copy_(torch.tensor([0.0, 3.0, 0.0, 0.0, 0.0]))
    assert net.derive() == (1,) * 6
    calls = []

    def stub(net_, x, y):
        masks = net_.state.masks
        calls.append({s: frozenset(m) for s, m in masks.items()})
        return sum(0.1 if 3 in m else 0.2 for m in masks.values())

    monkeypatch.setattr(search, "_batch_stat_accuracy", stub)
    g = search.perturbation_select(net, tiny_data(), n_val=24)
    assert g == (3,) * 6
    assert len(calls) == 6 * 5
    # when edge 1 is scored, edge 0 is already discretised to nor_conv_3x3 (all other ops masked)
    assert calls[5][0] == frozenset({0, 1, 2, 4})
    assert net.state.masks == {}  # restored
