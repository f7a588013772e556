"""ENAS-style search on scikit-learn's digits with the same space a random multi-trial search uses.

Run: ``python examples/weight_sharing_enas.py`` (about a minute on CPU).
"""
import torch

import symnas as sn
from symnas.supernet import digits_data, enas_search, evaluate, train_steps
from symnas.supernet.spaces import digits_space

torch.set_num_threads(1)
space = digits_space(C=16)
data = digits_data(seed=0)

# the space is an ordinary one: random multi-trial search takes it as is
study = sn.Study(space, sn.algorithms.RandomSearch(seed=0))
print("random proposal:", space.params(study.ask().genome))

result = enas_search(space, data, steps=600, k=20, device="auto", seed=0)
print("controller:", result.info["controller"])
print("best genome:", result.genome, space.params(result.genome))
print("accuracy inside the supernet:", round(result.info["val_acc_in_supernet"], 3))

model = result.export(inherit=True)          # standalone nn.Module, weights from the supernet
train_steps(model, data.batches("train", 64), steps=200, lr=0.01)   # fine-tune
print("fine-tuned test accuracy:", round(evaluate(model, data.x_test, data.y_test), 3))
