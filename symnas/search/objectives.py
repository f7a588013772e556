"""Objectives: names and directions, and the conversion of told values into algorithm rewards."""
from __future__ import annotations

import math
import numbers
from typing import Any, Mapping, Optional, Sequence, Union

from symnas.errors import TrialError

__all__ = ["Objectives", "ObjectiveSpec", "check_value"]

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
        """Told value → (values in objective order, failure reason or None); see :func:`check_value`."""
        if len(self.names) == 1 and type(value) is float:  # the hot path: one plain float
            if value - value == 0.0:  # finite
                return (value,), None
        return check_value(value, self.names)

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


def _number(name: str, v: Any) -> tuple[Optional[float], Optional[str]]:
    if isinstance(v, bool) or isinstance(v, (str, bytes, complex, numbers.Complex)) and not isinstance(
            v, numbers.Real):
        return None, f"objective {name!r} must be a real number, got {type(v).__name__} {v!r:.80}"
    try:
        f = float(v)
    except OverflowError:
        return None, f"objective {name!r} is too large for a float ({type(v).__name__} of {_digits(v)} digits)"
    except Exception as e:  # noqa: BLE001 - whatever the object, the trial fails with the reason
        return None, f"objective {name!r} must be a real number, got {type(v).__name__} {_short(v)} ({e})"
    if math.isnan(f):
        return None, f"objective {name!r} is NaN"
    if math.isinf(f):
        return None, f"objective {name!r} is infinite"
    return f, None


def _digits(v: Any) -> str:
    try:
        return str(int(math.log10(abs(v))) + 1) if isinstance(v, int) else "many"
    except (ValueError, OverflowError):
        return "many"


def _short(v: Any) -> str:
    try:
        text = repr(v)
    except Exception:  # noqa: BLE001
        text = f"<{type(v).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def check_value(value: Any, names: Sequence[str]) -> tuple[tuple[float, ...], Optional[str]]:
    """An evaluator's value → ``(floats in objective order, None)``, or ``((), reason)`` when it is not one finite
    real number per objective (a number, a tuple/list of the right length, or a dict with exactly these names).
    Never raises: whatever the value, a bad one is a failed trial with its reason.

    Example::

        >>> check_value({"acc": 0.5, "lat": 2}, ["acc", "lat"])
        ((0.5, 2.0), None)
        >>> check_value(10 ** 400, ["acc"])
        ((), "objective 'acc' is too large for a float (int of 401 digits)")
    """
    n = len(names)
    if isinstance(value, Mapping):
        try:
            keys = list(value)
        except Exception as e:  # noqa: BLE001
            return (), f"cannot read the objectives of {type(value).__name__}: {e}"
        missing = [k for k in names if k not in value]
        extra = [k for k in keys if k not in names]
        if missing or extra:
            return (), (f"expected objectives {list(names)}, got {_short(keys)}"
                        + (f" (missing {missing})" if missing else "")
                        + (f" (unknown {_short(extra)})" if extra else ""))
        vals = [value[k] for k in names]
    elif isinstance(value, (list, tuple)):
        if len(value) != n:
            return (), f"expected {n} objective value(s) {list(names)}, got {len(value)}"
        vals = list(value)
    else:
        if n != 1:
            return (), f"expected {n} objective values {list(names)}, got one value"
        vals = [value]
    out = []
    for name, v in zip(names, vals):
        f, bad = _number(name, v)
        if bad is not None:
            return (), bad
        out.append(f)
    return tuple(out), None  # type: ignore[arg-type]
