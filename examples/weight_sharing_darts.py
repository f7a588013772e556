"""DARTS-style search on the NAS-Bench-201 space (reduced channels) on digits, with the collapse guard.

Run: ``python examples/weight_sharing_darts.py`` (a few minutes on CPU).
"""
import torch

from symnas.evaluator.benchmark import nasbench201_space
from symnas.evaluator.nasbench201 import NASBench201Table
from symnas.supernet import darts_search, digits_data

torch.set_num_threads(1)
space = nasbench201_space(C=8, N=1)          # the same builder as multi-trial NAS-Bench-201 search
data = digits_data(seed=0, channels=3)
result = darts_search(space, data, steps=300, a_lr=3e-3, guard="pt", device="auto", seed=0)

table = NASBench201Table.load()
for name, g in (("argmax", result.info["argmax_genome"]), ("guarded", result.genome)):
    cell = space.decode(g).kwargs["cell"]
    print(f"{name:8s} {cell}  NAS-Bench-201 val acc {table.metrics(cell)['val_acc']:.2f}")
model = result.export(inherit=True)          # NB201Network with the supernet's weights
print(type(model).__name__, sum(p.numel() for p in model.parameters()), "parameters")
