"""Objectives: names and directions, and the conversion of told values into algorithm rewards."""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence, Union

from symnas.errors import TrialError

__all__ = ["Objectives", "ObjectiveSpec"]

ObjectiveSpec = Union[None, str, Sequence[str], Mapping[str, str]]


class Objectives:
    """Named objectives with directions (``'max'`` or ``'min'``).

    Accepts ``None`` (one objective ``value``, maximised), ``'min'`` / ``'max'``, a list of names (all maximised),
    or a mapping ``{'acc': 'max', 'latency': 'min'}``.
    """

    def __init__(self, spec: ObjectiveSpec = None) -> None:
        if spec is None or spec in ("max", "maximize"):
            items = [("value", "max")]
        elif spec in ("min", "minimize"):
            items = [("value", "min")]
        elif isinstance(spec, Mapping):
            items = [(str(k), _direction(v, k)) for k, v in spec.items()]
        elif isinstance(spec, str):
            items = [(spec, "max")]
        else:
            items = [(str(k), "max") for k in spec]
        if not items:
            raise TrialError("at least one objective is needed")
        self.names = tuple(n for n, _ in items)
        self.directions = tuple(d for _, d in items)
        self._signs = tuple(1.0 if d == "max" else -1.0 for d in self.directions)

    def __len__(self) -> int:
        return len(self.names)

    def to_dict(self) -> dict[str, str]:
        return dict(zip(self.names, self.directions))

    def parse(self, value: Any, where: str) -> tuple[tuple[float, ...], Optional[str]]:
        """Told value → (values in objective order, failure reason or None). Raises on a malformed value."""
        n = len(self.names)
        if n == 1 and type(value) in (float, int):  # the hot path: one plain number
            if value != value:
                return (), f"objective {self.names[0]!r} is NaN"
            if value in (math.inf, -math.inf):
                return (), f"objective {self.names[0]!r} is infinite"
            return (float(value),), None
        if isinstance(value, Mapping):
            missing = [k for k in self.names if k not in value]
            extra = [k for k in value if k not in self.names]
            if missing or extra:
                raise TrialError(f"{where}: expected objectives {list(self.names)}, got {list(value)}"
                                 + (f" (missing {missing})" if missing else "") + (f" (unknown {extra})" if extra else ""))
            vals = [value[k] for k in self.names]
        elif isinstance(value, (list, tuple)):
            if len(value) != n:
                raise TrialError(f"{where}: expected {n} objective value(s) {list(self.names)}, got {len(value)}")
            vals = list(value)
        else:
            if n != 1:
                raise TrialError(f"{where}: expected {n} objective values {list(self.names)}, got one number")
            vals = [value]
        out = []
        for name, v in zip(self.names, vals):
            try:
                f = float(v)
            except (TypeError, ValueError):
                raise TrialError(f"{where}: objective {name!r} must be a number, got {v!r}") from None
            if math.isnan(f):
                return tuple(out), f"objective {name!r} is NaN"
            if math.isinf(f):
                return tuple(out), f"objective {name!r} is infinite"
            out.append(f)
        return tuple(out), None

    def oriented(self, values: tuple[float, ...]) -> tuple[float, ...]:
        """Values flipped so that larger is better (what algorithms receive)."""
        if len(values) == 1:
            return values if self._signs[0] > 0 else (-values[0],)
        return tuple([s * v for s, v in zip(self._signs, values)])

    def better(self, a: float, b: float) -> bool:
        """True if first-objective value ``a`` is better than ``b``."""
        return a > b if self._signs[0] > 0 else a < b


def _direction(d: str, name: Any) -> str:
    d = str(d).lower()
    if d in ("max", "maximize", "maximise"):
        return "max"
    if d in ("min", "minimize", "minimise"):
        return "min"
    raise TrialError(f"objective {name!r}: direction must be 'max' or 'min', got {d!r}")
