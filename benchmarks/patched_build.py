"""Cost of making unedited factories searchable: space compile time and per-candidate build time of patched
spaces (rules, widths, factory placeholders) against plain construction of the same model.

The four factories of ``tests/thirdparty_models`` (ResNet-, MobileNetV3-, EfficientNet- and BERT-style, written
without symnas) with the rules of ``tests/thirdparty_spaces.py``. Per factory:

* compile: ``sn.patch(...)`` wall time, the first time in the process (cold: includes torch's one-time imports
  for ``meta``-device initialisers and ``torch.fx``) and again (warm);
* plain: the factory called directly with the same arguments (median of ``--repeat`` calls);
* same model: ``space.build`` of the candidate that reproduces the plain model (widths 1x, original classes and
  kernel sizes) — the goal is at most 1.5x plain;
* candidates: ``space.build`` of random candidates (median), next to plain construction of the same
  architecture where it can be written as factory arguments (not in general, so only the ratio to plain).

    nice python benchmarks/patched_build.py            # --repeat 30
    nice python benchmarks/patched_build.py --quick
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import torch  # noqa: E402

from tests.thirdparty_models.bert import BertConfig, bert_tiny  # noqa: E402
from tests.thirdparty_models.efficientnet import efficientnet_tiny  # noqa: E402
from tests.thirdparty_models.mobilenetv3 import mobilenet_v3_tiny  # noqa: E402
from tests.thirdparty_models.resnet import resnet_tiny  # noqa: E402
from tests.thirdparty_spaces import bert_space, efficientnet_space, mobilenet_space, resnet_space  # noqa: E402

FACTORIES = {
    "resnet": (resnet_space, lambda: resnet_tiny(num_classes=10), {}),
    "mobilenetv3": (mobilenet_space, lambda: mobilenet_v3_tiny(width_mult=1.0), {"width_mult": 1.0}),
    "efficientnet": (efficientnet_space, lambda: efficientnet_tiny(depth_mult=1.0), {"depth_mult": 1.0}),
    "bert": (bert_space, lambda: bert_tiny(BertConfig(num_hidden_layers=2, num_attention_heads=4)),
             {"config.num_hidden_layers": 2, "config.num_attention_heads": 4}),
}


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def identity_genome(space, fixed: dict, ref: torch.nn.Module) -> tuple:
    """The genome whose candidate is the factory's own model ``ref``: widths 1x, original classes and
    arguments."""
    desc = space.decode(space.table.default_genome)
    choices = dict(getattr(desc, "kwargs", {}).get("choices", desc))   # built_by(builder=..., choices={...})
    plan = space.builder.plan({**choices, **fixed})
    g = list(space.table.default_genome)
    for d in space.table.decisions:
        values = [space.choice_value(d.index, i) for i in range(d.n)]
        if d.name in fixed:
            want = fixed[d.name]
        elif d.name not in plan.slots and d.name not in plan.width_slots:
            continue                                  # inactive in this structure
        elif d.name in plan.width_slots:
            want = 1.0
        elif plan.slots.get(d.name) and not plan.slots[d.name][0][3]:
            want = plan.slots[d.name][0][0]          # the matched class itself
        else:
            _, _, dotted, arg, _ = plan.slots[d.name][0]
            want = getattr(ref.get_submodule(dotted), arg)
            want = want[0] if isinstance(want, tuple) else want
        g[d.offset] = values.index(want)
    return space.table.canonical(g)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    repeat = 5 if args.quick else args.repeat
    torch.set_num_threads(1)
    rows = []
    for name, (make_space, plain, fixed) in FACTORIES.items():
        t = time.perf_counter()
        space = make_space()
        cold = time.perf_counter() - t
        t = time.perf_counter()
        space = make_space()
        warm = time.perf_counter() - t
        ref = plain()
        g0 = identity_genome(space, fixed, ref)
        same = space.build(g0, seed=0)
        assert [p.shape for p in same.parameters()] == [p.shape for p in ref.parameters()], name
        assert [type(m) for m in same.modules()] == [type(m) for m in ref.modules()], name
        t_plain = median_time(plain, repeat)
        t_same = median_time(lambda: space.build(g0), repeat)
        genomes = [space.sample(seed=i) for i in range(repeat)]
        it = iter(genomes)
        space.build(genomes[0])  # the plans of new structures are cached on first use
        t_cand = median_time(lambda: space.build(next(it)), repeat - 1)
        rows.append((name, len(space.table), space.size, cold, warm, t_plain, t_same, t_cand))
    print(f"torch {torch.__version__}, 1 thread, median of {repeat}")
    print("| factory | decisions | candidates | compile cold / warm (s) | plain (ms) | same model (ms) | ratio | "
          "random candidates (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, n, size, cold, warm, tp, ts, tc in rows:
        print(f"| {name} | {n} | {size:,} | {cold:.2f} / {warm:.2f} | {tp * 1e3:.1f} | {ts * 1e3:.1f} | "
              f"{ts / tp:.2f}x | {tc * 1e3:.1f} |")


if __name__ == "__main__":
    main()
