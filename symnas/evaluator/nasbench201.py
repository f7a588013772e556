"""NAS-Bench-201 (CIFAR-10, validation) as a tabular evaluator: cell strings, cell codes and a lookup table.

The table ships inside the package (``data/nasbench201_cifar10.npz``, built by ``tools/make_nb201_data.py``;
sources and licences in ``data/NOTICE.md``). Importing this module does not import torch.

A cell has six edges (:data:`EDGES`, the order of the official cell string) and one of five ops
(:data:`OPS`) per edge. The integer **cell code** is ``sum(op_index[e] * 5**e for e in range(6))`` (edge 0 least
significant), a dense key in ``range(15625)`` used to index :meth:`NASBench201Table.column`.

Example::

    >>> table = NASBench201Table.load()
    >>> ops = parse_arch_str('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+'
    ...                      '|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|')
    >>> round(table.metrics(ops)['val_acc'], 3)
    91.607
    >>> acc = table.column('val_acc')      # numpy, indexed by cell code
    >>> float(acc[code(ops)]) == table.metrics(ops)['val_acc']
    True
"""
from __future__ import annotations

import csv
import gzip
import io
import os
from typing import Any, Iterable

import numpy as np

from symnas.space.nasbench201 import (EDGE_WEIGHTS, EDGES, NUM_CELLS, OP_INDEX, OPS, NASBench201Error, Ops, arch_str,  # noqa: F401
                                        code, ops_of, parse_arch_str)

DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "nasbench201_cifar10.npz")
_EMBEDDED: "NASBench201Table | None" = None

# ----------------------------------------------------------------------------------------------- files
def _open_text(path: str) -> io.TextIOBase:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", newline="")  # type: ignore[return-value]
    return open(path, newline="")


def read_csv_columns(path: str) -> dict[str, Any]:
    """Read a NAS-Bench-201 CSV/CSV.gz (columns ``idx, arch_str, val_acc_mean, val_acc_seeds, params_mb,
    train_time_s[, gpu_latency][, lat_<device>...]``) into float64 numpy columns.

    Returns ``idx`` (int64), ``ops`` (n×6 int64 op indices), ``val_acc_mean``, ``val_acc_seeds`` (n×k,
    NaN-padded), ``params_mb``, ``train_time_s``, ``gpu_latency`` (NaN when absent), ``lat`` (n×d) and
    ``lat_names`` (list of column names). Errors name ``file:line`` and the column.

    Example::

        >>> cols = read_csv_columns('nb201.csv.gz')  # doctest: +SKIP
        >>> cols['ops'].shape  # doctest: +SKIP
        (15625, 6)
    """
    name = os.path.basename(path)
    try:
        fh = _open_text(path)
    except OSError as exc:
        raise NASBench201Error(f"{path}: cannot open ({exc.strerror or exc})") from exc
    with fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise NASBench201Error(f"{name}:1: empty file") from None
        except (OSError, UnicodeDecodeError, EOFError) as exc:
            raise NASBench201Error(f"{name}:1: unreadable ({exc})") from exc
        required = ["idx", "arch_str", "val_acc_mean", "val_acc_seeds", "params_mb", "train_time_s"]
        missing = [c for c in required if c not in header]
        if missing:
            raise NASBench201Error(f"{name}:1: missing column(s) {', '.join(missing)}")
        col = {c: header.index(c) for c in header}
        lat_names = [c for c in header if c.startswith("lat_")]
        scalars = ["val_acc_mean", "params_mb", "train_time_s"] + (["gpu_latency"] if "gpu_latency" in col else [])
        idx: list[int] = []
        ops: list[tuple[int, ...]] = []
        vals: dict[str, list[float]] = {c: [] for c in scalars + lat_names}
        seeds: list[list[float]] = []
        try:
            for lineno, row in enumerate(reader, start=2):
                if not row:
                    continue
                if len(row) != len(header):
                    raise NASBench201Error(f"{name}:{lineno}: {len(row)} fields, header has {len(header)}")
                cur = "idx"
                try:
                    idx.append(int(row[col["idx"]]))
                    cur = "arch_str"
                    ops.append(tuple(OP_INDEX[o] for o in parse_arch_str(row[col["arch_str"]])))
                    for c in vals:
                        cur = c
                        vals[c].append(float(row[col[c]]))
                    cur = "val_acc_seeds"
                    seeds.append([float(v) for v in row[col["val_acc_seeds"]].split(";") if v.strip()])
                except (ValueError, NASBench201Error) as exc:
                    raise NASBench201Error(f"{name}:{lineno}: column {cur}: {exc}") from None
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise NASBench201Error(f"{name}: unreadable ({exc})") from exc
    if not idx:
        raise NASBench201Error(f"{name}: no data rows")
    n, k = len(idx), max(len(s) for s in seeds)
    seed_arr = np.full((n, max(k, 1)), np.nan)
    for r, s in enumerate(seeds):
        seed_arr[r, :len(s)] = s
    return {
        "idx": np.asarray(idx, dtype=np.int64),
        "ops": np.asarray(ops, dtype=np.int64).reshape(n, len(EDGES)),
        "val_acc_mean": np.asarray(vals["val_acc_mean"]),
        "val_acc_seeds": seed_arr,
        "params_mb": np.asarray(vals["params_mb"]),
        "train_time_s": np.asarray(vals["train_time_s"]),
        "gpu_latency": np.asarray(vals["gpu_latency"]) if "gpu_latency" in vals else np.full(n, np.nan),
        "lat": np.stack([np.asarray(vals[c]) for c in lat_names], axis=1) if lat_names else np.zeros((n, 0)),
        "lat_names": lat_names,
    }


def _read_npz(path: str) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise NASBench201Error(f"{path}: cannot read table ({exc})") from exc
    if "op_names" in d and tuple(str(o) for o in d["op_names"]) != OPS:
        raise NASBench201Error(f"{path}: op order {list(d['op_names'])} differs from {list(OPS)}")
    d["lat_names"] = [str(x) for x in d["lat_names"]]
    return d


# ----------------------------------------------------------------------------------------------- table
class NASBench201Table:
    """Tabular NAS-Bench-201 evaluator: metrics of a cell by lookup (µs), columns by cell code for fast loops.

    Metrics (:meth:`metrics` keys, :meth:`column` names): ``val_acc`` (%), ``params_mb`` (millions of
    parameters), ``train_time_s``, ``gpu_latency`` (NATS-Bench's own figure) and ``lat_<device>`` for each
    of :attr:`devices`.

    Example::

        >>> t = NASBench201Table.load()
        >>> len(t), t.best()[1] > 91.6
        (15625, True)
        >>> m = t.metrics(['nor_conv_3x3'] * 6, rng=np.random.default_rng(0))  # one seed's value
    """

    def __init__(self, cols: dict[str, Any], source: str = "<arrays>") -> None:
        ops = np.asarray(cols["ops"], dtype=np.int64)
        n = len(ops)
        if ops.shape != (n, len(EDGES)) or n == 0 or ops.min() < 0 or ops.max() >= len(OPS):
            raise NASBench201Error(f"{source}: ops must be an n×6 array of op indices 0..4")
        codes = ops @ np.asarray(EDGE_WEIGHTS, dtype=np.int64)
        row_of_code = np.full(NUM_CELLS, -1, dtype=np.int64)
        row_of_code[codes] = np.arange(n)
        if (row_of_code >= 0).sum() != n:
            dup = int(codes[np.argmax(np.bincount(codes, minlength=NUM_CELLS)[codes] > 1)])
            raise NASBench201Error(f"{source}: cell {arch_str(ops_of(dup))} appears more than once")
        self.source = source
        self._codes = codes
        self._row_of_code = row_of_code
        self._row_of_code_list: list[int] = row_of_code.tolist()
        self._idx = np.asarray(cols["idx"], dtype=np.int64)
        self.devices: list[str] = [c[len("lat_"):] for c in cols["lat_names"]]
        lat = np.asarray(cols["lat"], dtype=np.float64).reshape(n, len(self.devices))
        self._keys: tuple[str, ...] = ("val_acc", "params_mb", "train_time_s", "gpu_latency") + tuple(
            "lat_" + d for d in self.devices)
        self._matrix = np.column_stack([np.asarray(cols[c], dtype=np.float64) for c in
                                        ("val_acc_mean", "params_mb", "train_time_s", "gpu_latency")] + [lat])
        self._matrix.setflags(write=False)
        self._rows: list[list[float]] = self._matrix.tolist()
        seeds = np.asarray(cols["val_acc_seeds"], dtype=np.float64).reshape(n, -1)
        nseeds = np.isfinite(seeds).sum(axis=1)
        if (nseeds == 0).any():
            raise NASBench201Error(f"{source}: row {int(np.argmin(nseeds))} has no per-seed accuracy")
        self._seeds: list[list[float]] = [s[np.isfinite(s)].tolist() for s in seeds]
        self._col_index = {k: i for i, k in enumerate(self._keys)}
        self._columns: dict[str, np.ndarray] = {}

    # -- construction
    @classmethod
    def load(cls, path: str | None = None) -> "NASBench201Table":
        """Load the embedded CIFAR-10 table (``path=None``, cached) or a CSV / CSV.gz / ``.npz`` file.

        Example::

            >>> NASBench201Table.load() is NASBench201Table.load()
            True
        """
        global _EMBEDDED
        if path is None:
            if _EMBEDDED is None:
                _EMBEDDED = cls(_read_npz(DATA_FILE), source="embedded nasbench201_cifar10.npz")
            return _EMBEDDED
        path = os.fspath(path)
        if path.endswith(".npz"):
            return cls(_read_npz(path), source=path)
        return cls(read_csv_columns(path), source=path)

    # -- cells
    code = staticmethod(code)
    ops_of = staticmethod(ops_of)

    def lookup(self, ops: Ops) -> int:
        """Row of ``ops`` (6 names or indices, or a cell string); the official index is ``column('idx')``.

        Example::

            >>> NASBench201Table.load().lookup(parse_arch_str(
            ...     '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'))
            0
        """
        row = self._row_of_code_list[code(ops)]
        if row < 0:
            raise NASBench201Error(f"{self.source}: cell {arch_str(ops_of(code(ops)))} is not in this table")
        return row

    def metrics(self, ops: Ops, *, rng: np.random.Generator | None = None) -> dict[str, float]:
        """Metrics of a cell; with ``rng``, ``val_acc`` is one recorded seed's value drawn uniformly (noise mode).

        Example::

            >>> sorted(NASBench201Table.load().metrics([1] * 6))[:3]
            ['gpu_latency', 'lat_1080ti_1', 'lat_1080ti_256']
        """
        row = self.lookup(ops)
        out = dict(zip(self._keys, self._rows[row]))
        if rng is not None:
            seeds = self._seeds[row]
            out["val_acc"] = seeds[int(rng.integers(len(seeds)))]
        return out

    def seeds(self, ops: Ops) -> list[float]:
        """The recorded per-seed validation accuracies of a cell (2 or 3 values in the embedded table)."""
        return list(self._seeds[self.lookup(ops)])

    # -- vectorised access
    @property
    def metric_names(self) -> tuple[str, ...]:
        """Names accepted by :meth:`column` and :meth:`best` (besides ``'idx'`` for :meth:`column`)."""
        return self._keys

    def column(self, name: str) -> np.ndarray:
        """Read-only float64 array of length 15,625 indexed by cell code (NaN for cells not in the table);
        ``'idx'`` gives the official index (int64, -1 when absent).

        Example::

            >>> t = NASBench201Table.load()
            >>> acc = t.column('val_acc'); codes = np.arange(10)
            >>> acc[codes].shape
            (10,)
        """
        arr = self._columns.get(name)
        if arr is not None:
            return arr
        present = self._row_of_code >= 0
        if name == "idx":
            arr = np.full(NUM_CELLS, -1, dtype=np.int64)
            arr[present] = self._idx[self._row_of_code[present]]
        else:
            j = self._col_index.get(name)
            if j is None:
                raise NASBench201Error(f"column {name!r}: unknown (expected 'idx' or one of {', '.join(self._keys)})")
            arr = np.full(NUM_CELLS, np.nan)
            arr[present] = self._matrix[self._row_of_code[present], j]
        arr.setflags(write=False)
        self._columns[name] = arr
        return arr

    def codes(self) -> np.ndarray:
        """Cell codes of the table's rows, in row order."""
        return self._codes.copy()

    def best(self, metric: str = "val_acc", *, maximize: bool | None = None) -> tuple[tuple[str, ...], float]:
        """The best cell and its value: highest ``val_acc`` by default, lowest for other metrics
        (cost-like: params, time, latency) unless ``maximize`` says otherwise.

        Example::

            >>> ops, acc = NASBench201Table.load().best()
            >>> round(acc, 3)
            91.607
        """
        j = self._col_index.get(metric)
        if j is None:
            raise NASBench201Error(f"best(metric={metric!r}): unknown metric (expected one of {', '.join(self._keys)})")
        if maximize is None:
            maximize = metric == "val_acc"
        col = self._matrix[:, j]
        if np.isnan(col).all():
            raise NASBench201Error(f"best(metric={metric!r}): no values in {self.source}")
        row = int(np.nanargmax(col) if maximize else np.nanargmin(col))
        return ops_of(int(self._codes[row])), float(col[row])

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self) -> Iterable[tuple[str, ...]]:
        return (ops_of(int(c)) for c in self._codes)

    def __repr__(self) -> str:
        return f"NASBench201Table({len(self)} cells, {len(self.devices)} devices, source={self.source!r})"

