"""Plots of a study: the search curve (each trial's value and the best so far) and, for two or more objectives,
the Pareto front of the first two. PNG via matplotlib (Agg; imported only here).

Example::

    plot_study(load_study("runs.db"), "search.png")
"""
from __future__ import annotations

from typing import Any

from symnas.errors import SymnasError
from symnas.algorithms.pareto import pareto_indices

__all__ = ["plot_study", "pareto_indices"]


def plot_study(view: Any, path: str, dpi: int = 110) -> str:
    """Writes the PNG to ``path`` and returns it. ``view`` is a :class:`~symnas.report.view.StudyView`."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SymnasError("plot: matplotlib is not installed (pip install 'symnas[plot]')") from None
    names, dirs = list(view.objectives), list(view.objectives.values())
    done = [r for r in view.records if r.state in ("complete", "cached") and r.values]
    if not done:
        raise SymnasError(f"plot: study {view.name!r} has no completed trial")
    multi = len(names) >= 2
    fig, axes = plt.subplots(1, 2 if multi else 1, figsize=(11 if multi else 6.5, 4.2), squeeze=False)
    ax = axes[0][0]
    xs = [r.number for r in done]
    ys = [r.values[0] for r in done]
    best, cur = [], None
    for y in ys:
        cur = y if cur is None else (max(cur, y) if dirs[0] == "max" else min(cur, y))
        best.append(cur)
    cached = [r.state == "cached" for r in done]
    ax.scatter([x for x, c in zip(xs, cached) if not c], [y for y, c in zip(ys, cached) if not c], s=10,
               alpha=0.5, label="evaluated")
    if any(cached):
        ax.scatter([x for x, c in zip(xs, cached) if c], [y for y, c in zip(ys, cached) if c], s=10, alpha=0.5,
                   marker="x", label="dedup hit")
    ax.step(xs, best, where="post", color="C3", label=f"best so far ({dirs[0]})")
    failed = sum(r.state == "failed" for r in view.records)
    ax.set(xlabel="trial", ylabel=names[0], title=f"{view.name}: search curve ({len(view.records)} trials, "
           f"{failed} failed)")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    if multi:
        ax2 = axes[0][1]
        sign = [1.0 if d == "max" else -1.0 for d in dirs[:2]]
        pts = [(r.values[0], r.values[1]) for r in done]
        front = pareto_indices([(s0 * a, s1 * b) for (a, b), s0, s1 in ((p, sign[0], sign[1]) for p in pts)])
        ax2.scatter([p[0] for p in pts], [p[1] for p in pts], s=10, alpha=0.35, label="trials")
        fp = sorted(pts[i] for i in front)
        ax2.plot([p[0] for p in fp], [p[1] for p in fp], "o-", color="C3", ms=4, label="Pareto front")
        ax2.set(xlabel=f"{names[0]} ({dirs[0]})", ylabel=f"{names[1]} ({dirs[1]})", title="Pareto front")
        ax2.legend(loc="best", fontsize=8)
        ax2.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
