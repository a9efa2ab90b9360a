"""The sweep's plot: final return against depth, one line per network, one panel per task.

Each point is the mean final return over the trials of that network and depth (the seeds,
and any parameter drawn at random), the band around it one standard deviation, the dots the
trials themselves. Networks differing in another grid-searched parameter (say ``width``) get
a line each. Drawn on a matplotlib ``Figure`` with the Agg canvas, without pyplot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def plot_returns(rows: list[dict[str, Any]], path: Path, line_keys: Sequence[str] = ()) -> bool:
    """Save the plot of final return against depth of the finished trials in ``rows``.

    :param rows: the rows of :func:`~fixup_rl.sweep.results.collect_rows`
    :param path: the PNG file
    :param line_keys: parameters besides ``net`` whose values get a line each (the other
        grid-searched ones); trials that differ in anything else are averaged
    :return: whether a plot was saved (not when no trial finished)
    """
    done = [row for row in rows if row["status"] == "done" and row["final_return"] is not None]
    if not done:
        return False

    panels: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in done:
        panels[row["algo"], row["env"]].append(row)
    labels = sorted({_label(row, line_keys) for row in done})  # one color per line, everywhere

    from matplotlib.figure import Figure  # imported here: matplotlib is only needed for plots

    figure = Figure(figsize=(5.5 * len(panels), 4.0), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, ((algo, env), mine) in zip(axes, sorted(panels.items()), strict=True):
        lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in mine:
            lines[_label(row, line_keys)].append(row)
        for label, points in sorted(lines.items()):
            _line(ax, points, label, f"C{labels.index(label) % 10}")
        _finish(ax, mine, f"{algo.upper()} on {env}")
    figure.savefig(path, dpi=120)
    return True


def _label(row: dict[str, Any], line_keys: Sequence[str]) -> str:
    return ", ".join([str(row["net"]), *(f"{key}={row[key]}" for key in line_keys)])


def _line(ax: Any, points: list[dict[str, Any]], label: str, color: str) -> None:
    by_depth: dict[int, list[float]] = defaultdict(list)
    for row in points:
        by_depth[row["depth"]].append(row["final_return"])
    depths = sorted(by_depth)
    mean = np.array([np.mean(by_depth[d]) for d in depths])
    std = np.array([np.std(by_depth[d]) for d in depths])

    ax.plot(depths, mean, "-o", color=color, label=label, markersize=4)
    ax.fill_between(depths, mean - std, mean + std, color=color, alpha=0.2, linewidth=0)
    for depth in depths:
        values = by_depth[depth]
        ax.plot([depth] * len(values), values, ".", color=color, alpha=0.5, markersize=3)


def _finish(ax: Any, rows: list[dict[str, Any]], title: str) -> None:
    depths = sorted({row["depth"] for row in rows})
    if len(depths) > 1 and depths[0] > 0 and depths[-1] / depths[0] >= 4:
        ax.set_xscale("log", base=2)
    ax.set_xticks(depths, labels=[str(depth) for depth in depths])
    ax.minorticks_off()
    ax.set_xlabel("depth (residual blocks)")
    ax.set_ylabel("final return (mean ± std over seeds)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
