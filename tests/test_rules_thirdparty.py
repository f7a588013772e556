"""Third-party-style factories made searchable with rules only: every sampled candidate builds, runs forward and
backward, and takes optimizer steps."""
from __future__ import annotations

import functools

import pytest
import torch
from torch.nn import functional as F

from tests.thirdparty_spaces import SPACES

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@functools.lru_cache(maxsize=None)
def space_of(name: str):
    return SPACES[name][0]()


def train_candidates(name: str, n: int) -> set:
    space = space_of(name)
    x, y = SPACES[name][1](0)
    seen = set()
    for seed in range(n):
        g = space.sample(seed=seed)
        seen.add(g)
        model = space.build(g, seed=seed)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        before = [p.detach().clone() for p in model.parameters()]
        for _ in range(2):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        assert torch.isfinite(loss), (name, space.params(g))
        moved = sum(not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters()))
        assert moved > len(before) // 2, (name, space.params(g))
    return seen


@pytest.mark.parametrize("name", sorted(SPACES))
def test_sampled_candidates_train(name: str) -> None:
    seen = train_candidates(name, 25)
    assert len(seen) >= 20  # distinct candidates, not one model many times


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SPACES))
def test_200_sampled_candidates_train(name: str) -> None:
    train_candidates(name, 200)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_spaces_search_activations_kernels_widths_and_depth(name: str) -> None:
    space = space_of(name)
    names = [d.name for d in space.decisions]
    assert "act" in names
    assert any(n.endswith("kernel_size") for n in names) or name == "bert"
    widths = {"resnet": "stage3", "mobilenetv3": "stage2", "efficientnet": "stage3", "bert": "hidden"}[name]
    assert widths in names
    depth = {"resnet": "layer1[1]", "mobilenetv3": "features[3]", "efficientnet": "depth_mult",
             "bert": "config.num_hidden_layers"}[name]
    assert depth in names
    assert space.size > 100


def test_widths_follow_in_the_built_models() -> None:
    space = space_of("resnet")
    d = space.table
    g = list(space.table.default_genome)
    g[d["stage3"].offset] = 2      # 1.5x
    g[d["stage2"].offset] = 0      # 0.5x
    m = space.build(tuple(g), seed=0)
    assert m.layer2[0].conv1.out_channels == 8 and m.layer2[0].downsample[0].out_channels == 8
    assert m.layer3[0].conv1.in_channels == 8 and m.layer3[0].downsample[0].in_channels == 8
    assert m.layer3[0].conv2.out_channels == 48 and m.layer3[0].bn2.num_features == 48
    assert m.layer3[1].conv1.in_channels == 48 and m.layer4[0].downsample[0].in_channels == 48
    assert m.fc.in_features == 32 and m.fc.out_features == 10   # stage4 at its default, 0.5x of 64
    assert m.conv1.out_channels == 4                              # the stem writes the layer1 residual stream


def test_factory_argument_and_config_placeholders() -> None:
    space = space_of("bert")
    t = space.table
    g = list(t.default_genome)
    g[t["config.num_hidden_layers"].offset] = 2
    g[t["config.num_attention_heads"].offset] = 0
    g[t["hidden"].offset] = 2
    m = space.build(tuple(g), seed=0)
    assert len(m.encoder.layer) == 3 and m.encoder.layer[0].attention.self.num_attention_heads == 2
    assert m.embeddings.word_embeddings.embedding_dim == 48 and m.pooler.dense.in_features == 48
    assert m.encoder.layer[2].output.LayerNorm.normalized_shape == (48,)
    assert m(torch.randint(0, 100, (2, 8))).shape == (2, 3)
