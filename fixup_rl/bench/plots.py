"""PNG plots of a benchmark run (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fixup_rl.bench.network_speed import VARIANT_LABELS


def plot_network_speed(speed: dict[str, Any], path: Path, caption: str = "") -> None:
    """Time relative to the plain MLP against batch size: one panel per mode and depth.

    :param speed: the ``network_speed`` results
    :param path: the PNG file to write
    :param caption: a line under the plot: how the figures were made (command, machine)
    """
    from matplotlib.figure import Figure  # matplotlib is only needed for plots

    rows = speed["rows"]
    depths = sorted({row["depth"] for row in rows})
    modes = ["inference", "train"]
    figure = Figure(figsize=(4.2 * len(depths), 7.0), layout="constrained")
    axes = figure.subplots(len(modes), len(depths), squeeze=False, sharey="row")
    for i, mode in enumerate(modes):
        for j, depth in enumerate(depths):
            panel = sorted(
                (r for r in rows if r["mode"] == mode and r["depth"] == depth),
                key=lambda r: r["batch"],
            )
            axis = axes[i][j]
            for variant in panel[0]["ratio_to_mlp"] if panel else []:
                batches = [r["batch"] for r in panel]
                ratios = [r["ratio_to_mlp"][variant] for r in panel]
                style = "-" if variant.startswith("fixup") or variant == "mlp" else "--"
                axis.plot(batches, ratios, style, marker="o", label=VARIANT_LABELS[variant])
            axis.set_xscale("log")
            axis.set_title(f"{mode}, {depth} blocks, width {panel[0]['width'] if panel else ''}")
            axis.set_xlabel("batch size")
            axis.set_ylabel("time / plain MLP")
            axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.suptitle(f"Network speed on {speed['device']} ({speed['clock']}, lower is faster)")
    _save(figure, path, caption)


def plot_throughput(rows: list[dict[str, Any]], path: Path, caption: str = "") -> None:
    """SB3 env steps per second (CPU time) per algorithm and network.

    :param rows: the ``throughput`` results
    :param path: the PNG file to write
    :param caption: a line under the plot: how the figures were made (command, machine)
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.0 * len(rows), 3.6), layout="constrained")
    axes = figure.subplots(1, len(rows), squeeze=False)[0]
    for axis, row in zip(axes, rows, strict=True):
        nets = list(row["cpu_steps_per_s"])
        axis.bar(nets, [row["cpu_steps_per_s"][net] for net in nets])
        axis.set_title(f"{row['algo'].upper()} {row['env_id']}, depth {row['depth']}")
        axis.set_ylabel("env steps / s (CPU time)")
        axis.tick_params(axis="x", labelrotation=20, labelsize=8)
    _save(figure, path, caption)


def plot_learning(summary: list[dict[str, Any]], path: Path, caption: str = "") -> None:
    """Mean evaluation return (± std over seeds) against env steps, one panel per task.

    :param summary: the rows of :func:`fixup_rl.bench.learning.summarize`
    :param path: the PNG file to write
    :param caption: a line under the plot: how the figures were made (command, machine)
    """
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    tasks = sorted({(row["algo"], row["env_id"], row["budget"]) for row in summary})
    # One colour per network in every panel (20 of them before any repeats), baselines dashed.
    networks = list(dict.fromkeys((row["net"], row["depth"]) for row in summary))
    colours = colormaps["tab20"]
    figure = Figure(figsize=(5.0 * len(tasks), 4.0), layout="constrained")
    axes = figure.subplots(1, len(tasks), squeeze=False)[0]
    for axis, (algo, env_id, budget) in zip(axes, tasks, strict=True):
        for row in summary:
            if (row["algo"], row["env_id"], row["budget"]) != (algo, env_id, budget):
                continue
            steps = [p["timesteps"] for p in row["curve"]]
            mean = [p["mean"] for p in row["curve"]]
            std = [p["std"] for p in row["curve"]]
            label = {"sb3": "SB3 default", "zoo": "SB3 default, zoo settings"}.get(
                row["net"], f"{row['net']} d{row['depth']}"
            )
            colour = colours(networks.index((row["net"], row["depth"])) % colours.N)
            axis.plot(
                steps,
                mean,
                marker=".",
                color=colour,
                linestyle="--" if row["depth"] == 0 else "-",
                label=f"{label} ({len(row['seeds'])})",
            )
            low = [m - s for m, s in zip(mean, std, strict=True)]
            high = [m + s for m, s in zip(mean, std, strict=True)]
            axis.fill_between(steps, low, high, color=colour, alpha=0.15)
        axis.set_title(f"{algo.upper()} {env_id}")
        axis.set_xlabel("env steps")
        axis.set_ylabel("evaluation return (mean ± std over seeds)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7, title="net (seeds)", title_fontsize=7)
    _save(figure, path, caption)


def _save(figure: Any, path: Path, caption: str) -> None:
    # The caption under the panels, and in the PNG's own description field.
    if caption:
        figure.supxlabel(caption, fontsize=6, color="0.35")
    figure.savefig(path, dpi=110, metadata={"Description": caption} if caption else None)
