"""Functional hash: invariances (branch order, parameter creation order, dead branches, identities), the two
traps of the issue, sensitivity to one op, stability across processes and thread counts."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

from symnas.hash.functional import FunctionalHashError, fingerprint, functional_hash, probe_input

SHAPE = (2, 3, 6, 6)
C = 3
OP_NAMES = ("conv1", "conv3", "pool", "id")


def make_op(name: str) -> nn.Module:
    if name == "conv1":
        return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 1, bias=False), nn.BatchNorm2d(C))
    if name == "conv3":
        return nn.Sequential(nn.ReLU(), nn.Conv2d(C, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
    if name == "pool":
        return nn.AvgPool2d(3, 1, 1, count_include_pad=False)
    return nn.Identity()


class SumOfChains(nn.Module):
    """stem -> sum over branches of a chain of ops -> head. ``creation`` is the order modules are created in;
    ``order`` the order the branch outputs are summed in."""

    def __init__(self, chains, creation=None, order=None, dead=()):
        super().__init__()
        torch.manual_seed(0)          # a plain seeded init: reordered graphs get different weights (trap 1)
        self.stem = nn.Conv2d(3, C, 3, padding=1)
        slots = [(b, i) for b, chain in enumerate(chains) for i in range(len(chain))]
        made = {}
        for b, i in [slots[k] for k in (creation or range(len(slots)))]:
            made[b, i] = make_op(chains[b][i])
        self.branches = nn.ModuleList(nn.Sequential(*[made[b, i] for i in range(len(c))])
                                      for b, c in enumerate(chains))
        self.dead = nn.ModuleList(make_op(d) for d in dead)     # never called
        self.order = list(order or range(len(chains)))
        self.head = nn.Linear(C, 4)

    def forward(self, x):
        x = self.stem(x)
        total = self.branches[self.order[0]](x)
        for b in self.order[1:]:
            total = total + self.branches[b](x)
        return self.head(total.mean((2, 3)))


chains_st = st.lists(st.lists(st.sampled_from(OP_NAMES), min_size=1, max_size=3), min_size=1, max_size=4)


@settings(max_examples=15, deadline=None)
@given(chains_st, st.randoms(use_true_random=False))
def test_branch_order_and_parameter_creation_order_do_not_change_the_hash(chains, rnd):
    n_slots = sum(len(c) for c in chains)
    creation = list(range(n_slots))
    rnd.shuffle(creation)
    order = list(range(len(chains)))
    rnd.shuffle(order)
    a = functional_hash(SumOfChains(chains), SHAPE)
    b = functional_hash(SumOfChains(chains, creation=creation, order=order, dead=["conv3", "conv1"]), SHAPE)
    assert a == b


@settings(max_examples=15, deadline=None)
@given(chains_st, st.data())
def test_changing_one_reachable_op_changes_the_hash(chains, data):
    b = data.draw(st.integers(0, len(chains) - 1))
    i = data.draw(st.integers(0, len(chains[b]) - 1))
    new = data.draw(st.sampled_from([o for o in OP_NAMES if o != chains[b][i]]))
    changed = [list(c) for c in chains]
    changed[b][i] = new
    assert functional_hash(SumOfChains(chains), SHAPE) != functional_hash(SumOfChains(changed), SHAPE)


def test_identity_ops_and_dead_branches_are_invisible():
    a = functional_hash(SumOfChains([["conv3"], ["pool"]]), SHAPE)
    assert functional_hash(SumOfChains([["id", "conv3", "id"], ["pool", "id"]], dead=["conv1"]), SHAPE) == a


def test_trap_shared_weights_do_not_collide_through_linearity():
    """conv(x) + conv(x) (two convs on one input) must differ from conv(x + x)."""
    class TwoConvs(nn.Module):
        def __init__(self, doubled_input: bool):
            super().__init__()
            self.doubled_input = doubled_input
            self.a, self.b = make_op("conv3"), make_op("conv3")

        def forward(self, x):
            return self.a(x + x) if self.doubled_input else self.a(x) + self.b(x)

    assert functional_hash(TwoConvs(False), SHAPE[:1] + (C,) + SHAPE[2:]) != \
        functional_hash(TwoConvs(True), SHAPE[:1] + (C,) + SHAPE[2:])


def test_pool_distributes_over_sums():
    pool = nn.AvgPool2d(3, 1, 1, count_include_pad=False)

    class F(nn.Module):
        def __init__(self, split):
            super().__init__()
            self.split, self.conv = split, make_op("conv3")

        def forward(self, x):
            y = self.conv(x)
            return self.conv2(pool(x) + pool(y)) if self.split else self.conv2(pool(x + y))

    a, b = F(True), F(False)
    a.conv2, b.conv2 = make_op("conv1"), make_op("conv1")
    shape = (2, C, 6, 6)
    assert functional_hash(a, shape) == functional_hash(b, shape)


def test_module_is_restored_after_hashing():
    net = SumOfChains([["conv3", "pool"], ["conv1"]])
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.train()
    functional_hash(net, SHAPE)
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) and before[k].dtype == after[k].dtype for k in before)
    assert net.training and net.stem.training


def test_parameters_read_without_a_call_are_detected():
    class Sneaky(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return x @ self.lin.weight.T      # uses the weight without calling the module

    with pytest.raises(FunctionalHashError, match="not finite"):
        functional_hash(Sneaky(), (2, 3))


def test_bad_arguments_raise_symnas_errors():
    with pytest.raises(FunctionalHashError, match="input_shape"):
        functional_hash(nn.Linear(3, 3), (0, 3))
    with pytest.raises(FunctionalHashError, match="give input_shape"):
        functional_hash(nn.Linear(3, 3))
    with pytest.raises(FunctionalHashError, match=r"failed on probe inputs \[\(2, 4\)\]"):
        functional_hash(nn.Linear(3, 3), (2, 4))


def test_fingerprint_tolerates_float_noise_but_not_scale():
    x = probe_input((3, 7))
    assert fingerprint(x) == fingerprint(x + 1e-14 * probe_input((3, 7), seed=1))
    assert fingerprint(x) != fingerprint(1.01 * x)
    assert fingerprint(torch.zeros(3)) == ((3,), "zero")


SCRIPT = textwrap.dedent("""
    import sys, torch
    torch.set_num_threads(int(sys.argv[1]))
    from symnas.models.nasbench201 import NB201Network
    from symnas.hash.functional import functional_hash
    cells = [['nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'],
             ['avg_pool_3x3', 'nor_conv_3x3', 'nor_conv_3x3', 'skip_connect', 'avg_pool_3x3', 'nor_conv_1x1']]
    print(' '.join(functional_hash(NB201Network(c, C=8, N=2), (4, 3, 16, 16)) for c in cells))
""")


def test_hash_is_identical_across_processes_and_thread_counts():
    r = subprocess.run([sys.executable, "-c", SCRIPT, "2"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    here = {}
    old = torch.get_num_threads()
    try:
        for t in (1, 2):
            torch.set_num_threads(t)
            ns: dict = {}
            exec(compile(SCRIPT.replace("int(sys.argv[1])", str(t)).replace("print(", "RESULT = ("),
                         "<script>", "exec"), ns)
            here[t] = ns["RESULT"]
    finally:
        torch.set_num_threads(old)
    assert r.stdout.strip() == here[1] == here[2]
    assert len(set(here[1].split())) == 2
