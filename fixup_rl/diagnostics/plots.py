"""The report as PNG plots: one line per residual scheme or variant, depth on a log axis.

Plots are drawn on matplotlib ``Figure`` objects with the Agg canvas, without pyplot, so
nothing changes matplotlib's global state (its backend above all) in the caller's process.
Points where a network overflowed (inf or nan) are drawn as crosses on the top edge.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fixup_rl.diagnostics.table import SIGNAL_MEASURES
from fixup_rl.diagnostics.update_size import VARIANTS

# Fixup (and the depth-aware groups) in green, drawn last so that the schemes that coincide
# with it at init (ReZero, SkipInit) do not hide it.
_NORM_COLORS = {
    "none": "C1",
    "batchnorm": "C0",
    "layernorm": "C4",
    "rezero": "C5",
    "skipinit": "C7",
    "fixup": "C2",
}
_VARIANT_COLORS = {
    "none": "C1",
    "no_scaling": "C4",
    "official": "C3",
    "weights_only": "C0",
    "depth_aware": "C2",
}
_NETWORKS = {"mlp": "ResidualMLP", "cnn": "ImpalaCNN"}
_OVERFLOW_NOTE = "× on the top edge: inf or nan (float32 overflow)"


def plot_signal_propagation(report: dict[str, Any], path: Path) -> None:
    """Save the signal-propagation measures: a row per network, a column per measure."""
    networks = [name for name, rows in report["signal_propagation"].items() if rows]
    figure = _figure(width=4.2 * len(SIGNAL_MEASURES), height=3.4 * len(networks) + 0.8)
    axes = figure.subplots(len(networks), len(SIGNAL_MEASURES), squeeze=False)
    for row_axes, network in zip(axes, networks, strict=True):
        rows = report["signal_propagation"][network]
        for ax, measure in zip(row_axes, SIGNAL_MEASURES, strict=True):
            _signal_panel(ax, rows, measure, _NETWORKS[network])
    _legend(figure, axes.flat)
    figure.savefig(path, dpi=110)


def plot_update_size(report: dict[str, Any], path: Path) -> None:
    """Save output change / η against depth, one panel per optimizer."""
    rows = report["update_size"]
    optimizers = list(dict.fromkeys(row["optimizer"] for row in rows))
    figure = _figure(width=5.2 * len(optimizers), height=4.8)
    axes = figure.subplots(1, len(optimizers), squeeze=False)
    for ax, optimizer in zip(axes.flat, optimizers, strict=True):
        _update_panel(ax, rows, optimizer, report["config"])
    _legend(figure, axes.flat)
    figure.savefig(path, dpi=110)


def plot_summary(report: dict[str, Any], path: Path) -> None:
    """Save the README figure: the ResidualMLP at init, and the learning-step sizes."""
    figure = _figure(width=17.0, height=4.6)
    at_init, learning = figure.subfigures(1, 2)
    at_init.suptitle(f"ResidualMLP at init, width {report['config']['width']}", fontsize=11)
    learning.suptitle("Size of a learning step, same networks", fontsize=11)
    axes = at_init.subplots(1, 2)
    for ax, measure in zip(axes, ("output_std", "input_grad_norm"), strict=True):
        _signal_panel(ax, report["signal_propagation"]["mlp"], measure, "ResidualMLP")
    _legend(at_init, axes)
    axes = learning.subplots(1, 2)
    for ax, optimizer in zip(axes, ("sgd", "adam"), strict=True):
        _update_panel(ax, report["update_size"], optimizer, report["config"])
    _legend(learning, axes)
    figure.savefig(path, dpi=110)


def _signal_panel(ax: Any, rows: list[dict[str, Any]], measure: str, prefix: str) -> None:
    for norm, color in _NORM_COLORS.items():
        points = [(row["depth"], row[measure]) for row in rows if row["norm"] == norm]
        _line(ax, points, norm, color, emphasis=norm == "fixup")
    _finish(ax, rows, f"{prefix}: {SIGNAL_MEASURES[measure]}", zero=measure == "max_branch_norm")


def _update_panel(ax: Any, rows: list[dict[str, Any]], optimizer: str, config: dict) -> None:
    mine = [row for row in rows if row["optimizer"] == optimizer]
    for variant, color in _VARIANT_COLORS.items():
        points = [(r["depth"], r["output_change_per_lr"]) for r in mine if r["variant"] == variant]
        dashed = variant == "weights_only"  # under Adam it lies on the official recipe's line
        _line(ax, points, VARIANTS[variant], color, variant == "depth_aware", dashed)
    name = {"sgd": "SGD", "adam": "Adam"}[optimizer]
    lr = config["learning_rates"][optimizer]
    _finish(ax, mine, f"{name} (η={lr:g}): output change / η after {config['steps']} steps")


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure  # imported here: matplotlib is only needed for plots

    return Figure(figsize=(width, height), layout="constrained")


def _line(
    ax: Any,
    points: list[tuple[int, float]],
    label: str,
    color: str,
    emphasis: bool = False,
    dashed: bool = False,
) -> None:
    finite = [(depth, value) for depth, value in points if math.isfinite(value)]
    overflow = [depth for depth, value in points if not math.isfinite(value)]
    style = {"color": color, "linewidth": 2.2 if emphasis else 1.4, "zorder": 3 if emphasis else 2}
    if finite:
        line = "--" if dashed else "-"
        ax.plot(*zip(*finite, strict=True), line, marker="o", markersize=3.5, label=label, **style)
    if overflow:
        # On the top edge, in axes coordinates: an overflow has no value to plot.
        ax.plot(
            overflow,
            [1.0] * len(overflow),
            "x",
            markersize=8,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label=None if finite else label,
            **style,
        )


def _finish(ax: Any, rows: list[dict[str, Any]], title: str, zero: bool = False) -> None:
    depths = sorted({row["depth"] for row in rows})
    ax.set_xscale("log", base=2)
    if depths:
        ax.set_xticks(depths, labels=[str(depth) for depth in depths])
        ax.minorticks_off()
    if zero:  # Fixup's branches are exactly 0 at init: a symlog axis shows them
        ax.set_yscale("symlog", linthresh=1e-2)
        ax.set_ylim(bottom=0)
    elif any(line.get_ydata().size for line in ax.get_lines()):
        ax.set_yscale("log")
    ax.set_xlabel("residual blocks")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="major", alpha=0.3)


def _legend(figure: Any, axes: Any) -> None:
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    figure.legend(
        handles.values(),
        handles.keys(),
        loc="outside lower center",
        ncol=3,
        fontsize=8,
        title=_OVERFLOW_NOTE,
        title_fontsize=8,
    )
