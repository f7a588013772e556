"""Build the compact NAS-Bench-201 table shipped inside symnas (run by maintainers, not at run time).

Usage::

    python tools/make_nb201_data.py SOURCE.csv.gz [--out symnas/evaluator/data/nasbench201_cifar10.npz]

SOURCE is the NAS-Bench-201 CIFAR-10 validation table with hardware latency (columns ``idx, arch_str,
val_acc_mean, val_acc_seeds, params_mb, train_time_s, gpu_latency, lat_<device>...``). The output is a compressed
``.npz`` with float32 columns (rounding error checked) and the cell ops as indices into
:data:`symnas.evaluator.nasbench201.OPS`. Arrays:

``idx`` (uint16), ``ops`` (uint8, n×6, edge order of the cell string), ``val_acc_mean`` (float32),
``val_acc_seeds`` (float32, n×3, NaN-padded), ``params_mb``, ``train_time_s``, ``gpu_latency`` (float32),
``lat`` (float32, n×27), ``lat_names`` (str), ``op_names`` (str).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from symnas.evaluator.nasbench201 import OPS, read_csv_columns

DEFAULT_OUT = os.path.join(os.path.dirname(__file__), "..", "symnas", "evaluator", "data",
                           "nasbench201_cifar10.npz")
MAX_ACC_ERROR = 1e-4


def _f32(name: str, values: np.ndarray, max_abs_error: float | None = None) -> np.ndarray:
    """Cast to float32; check the rounding error (absolute, or relative 1e-6 when no bound is given)."""
    out = values.astype(np.float32)
    err = np.abs(out.astype(np.float64) - values)
    finite = np.isfinite(values)
    if max_abs_error is not None:
        worst = float(np.nanmax(err[finite])) if finite.any() else 0.0
        if worst >= max_abs_error:
            raise SystemExit(f"{name}: float32 rounding error {worst:.3g} >= {max_abs_error}")
    else:
        rel = err[finite] / np.maximum(np.abs(values[finite]), 1e-30)
        worst = float(rel.max()) if rel.size else 0.0
        if worst > 1e-6:
            raise SystemExit(f"{name}: float32 relative rounding error {worst:.3g} > 1e-6")
    print(f"  {name:<16} float32, worst {'abs' if max_abs_error else 'rel'} rounding error {worst:.3g}")
    return out


def build(source: str) -> dict[str, np.ndarray]:
    """Read ``source`` and return the arrays written to the ``.npz`` file."""
    cols = read_csv_columns(source)
    n = len(cols["idx"])
    lat_names = np.array(cols["lat_names"])
    return {
        "idx": cols["idx"].astype(np.uint16),
        "ops": cols["ops"].astype(np.uint8),
        "val_acc_mean": _f32("val_acc_mean", cols["val_acc_mean"], MAX_ACC_ERROR),
        "val_acc_seeds": _f32("val_acc_seeds", cols["val_acc_seeds"], MAX_ACC_ERROR),
        "params_mb": _f32("params_mb", cols["params_mb"]),
        "train_time_s": _f32("train_time_s", cols["train_time_s"]),
        "gpu_latency": _f32("gpu_latency", cols["gpu_latency"]),
        "lat": _f32("lat", cols["lat"]).reshape(n, len(lat_names)),
        "lat_names": lat_names,
        "op_names": np.array(OPS),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="NAS-Bench-201 CSV or CSV.gz")
    parser.add_argument("--out", default=DEFAULT_OUT, help="output .npz path")
    args = parser.parse_args(argv)
    print(f"reading {os.path.basename(args.source)}")
    arrays = build(args.source)
    np.savez_compressed(args.out, **arrays)
    size = os.path.getsize(args.out)
    print(f"wrote {os.path.relpath(args.out)}: {len(arrays['idx'])} rows, "
          f"{len(arrays['lat_names'])} latency columns, {size / 1e6:.3f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
