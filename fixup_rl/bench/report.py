"""The benchmark's files: JSON with everything, a markdown report, PNG plots."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import stable_baselines3
import torch

import fixup_rl
from fixup_rl.bench.network_speed import VARIANT_LABELS
from fixup_rl.bench.plots import plot_learning, plot_network_speed, plot_throughput

JSON_FILE = "bench.json"
REPORT_FILE = "bench.md"
SPEED_PLOT = "network_speed.png"
THROUGHPUT_PLOT = "throughput.png"
LEARNING_PLOT = "learning.png"

#: rl-baselines3-zoo's published figures for SB3's default MlpPolicy with its tuned
#: hyperparameters (benchmark.md: one trained agent each, deterministic evaluation over about
#: 150k steps): (algo, env_id, budget) -> (mean return, std over episodes).
ZOO_REFERENCE = {
    ("ppo", "Pendulum-v1", 100_000): (-172.2, 104.2),
    ("sac", "Pendulum-v1", 20_000): (-157.0, 88.7),
}


def environment(argv: list[str] | None = None) -> dict[str, Any]:
    """The machine, library versions and command of this run.

    :param argv: the ``fixup-rl`` arguments (``sys.argv[1:]`` when None)
    """
    argv = sys.argv[1:] if argv is None else argv
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": shlex.join(["fixup-rl", *argv]),
        "machine": {
            "platform": platform.platform(),
            "processor": _cpu_model(),
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        },
        "versions": {
            "python": platform.python_version(),
            "fixup_rl": fixup_rl.__version__,
            "torch": torch.__version__,
            "stable_baselines3": stable_baselines3.__version__,
            "gymnasium": gymnasium.__version__,
            "numpy": np.__version__,
        },
    }


def write_files(results: dict[str, Any], folder: Path) -> list[Path]:
    """Write the JSON file, the markdown report and the plots of ``results`` into ``folder``.

    :param results: the results of :func:`fixup_rl.bench.run_bench`
    :param folder: an existing folder
    :return: the files written
    """
    written = [folder / JSON_FILE, folder / REPORT_FILE]
    written[0].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    written[1].write_text(markdown(results), encoding="utf-8")
    caption = plot_caption(results.get("environment", {}))
    if "network_speed" in results:
        written.append(folder / SPEED_PLOT)
        plot_network_speed(results["network_speed"], written[-1], caption)
    if results.get("throughput"):
        written.append(folder / THROUGHPUT_PLOT)
        plot_throughput(results["throughput"], written[-1], caption)
    if results.get("learning"):
        written.append(folder / LEARNING_PLOT)
        plot_learning(results["learning"], written[-1], caption)
    return written


def plot_caption(env: dict[str, Any]) -> str:
    """One line saying how a run's figures were made: command, machine, versions, date.

    :param env: the ``environment`` of the results (:func:`environment`)
    :return: the line, empty when ``env`` is
    """
    if not env:
        return ""
    machine, versions = env["machine"], env["versions"]
    return (
        f"{env['command']} | {machine['processor']}, {machine['cpus']} CPUs, "
        f"{machine['torch_threads']} torch thread(s), CUDA: {machine['cuda'] or 'none'} | "
        f"fixup_rl {versions['fixup_rl']}, torch {versions['torch']}, "
        f"SB3 {versions['stable_baselines3']} | {env['date']}"
    )


def markdown(results: dict[str, Any]) -> str:
    """The report as markdown: how it was made, the targets, then one section per part."""
    env = results["environment"]
    machine, versions = env["machine"], env["versions"]
    lines = [
        "# fixup-rl bench",
        "",
        f"Command: `{env['command']}` ({env['date']}).",
        f"Machine: {machine['processor']}, {machine['cpus']} CPUs, torch threads "
        f"{machine['torch_threads']}, CUDA: {machine['cuda'] or 'none'}; {machine['platform']}.",
        "Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()) + ".",
        "",
    ]
    if results.get("targets"):
        lines += ["## Targets", "", "| target | where | value | met |", "|---|---|---|---|"]
        for check in results["targets"]:
            met = {True: "yes", False: "**no**", None: "n/a"}[check["met"]]
            value = check["value"]
            shown = f"{value:.1f}" if abs(value) >= 10 else f"{value:.3f}"  # no rounding past
            lines.append(f"| {check['target']} | {check['where']} | {shown} | {met} |")
        lines.append("")
    if "network_speed" in results:
        lines += _speed_section(results["network_speed"])
    if results.get("throughput"):
        lines += _throughput_section(results["throughput"])
    if results.get("learning"):
        lines += _learning_section(results["learning"])
    return "\n".join(lines) + "\n"


def _speed_section(speed: dict[str, Any]) -> list[str]:
    variants = list(speed["rows"][0]["seconds"]) if speed["rows"] else []
    lines = [
        "## Network speed",
        "",
        f"Median time per call ({speed['clock']}, {speed['device']}, {speed['threads']} "
        f"thread(s)) relative to the plain MLP with the same Linear layers; the MLP's own time "
        f"and GFLOP/s and the unfolded Fixup network's GFLOP/s in the last columns. A "
        f"{speed.get('matmul_gflops', 0):.1f} GFLOP/s large "
        f"matrix product was measured in the same run. Inference: eval mode under "
        f"`torch.no_grad()`; train: forward and backward in train mode.",
        "",
        "Columns: " + "; ".join(f"{name} = {VARIANT_LABELS[name]}" for name in variants) + ".",
        "",
        "| mode | depth | batch | " + " | ".join(variants) + " | MLP time | MLP GFLOP/s | "
        "Fixup GFLOP/s |",
        "|---|---|---|" + "---|" * len(variants) + "---|---|---|",
    ]
    for row in sorted(speed["rows"], key=lambda r: (r["mode"], r["depth"], r["batch"])):
        ratios = " | ".join(
            f"{row['ratio_to_mlp'][name]:.2f}" if name in row["ratio_to_mlp"] else "–"
            for name in variants
        )
        lines.append(
            f"| {row['mode']} | {row['depth']} | {row['batch']} | {ratios} | "
            f"{_duration(row['seconds']['mlp'])} | {row['gflops']['mlp']:.1f} | "
            f"{row['gflops']['fixup']:.1f} |"
        )
    return [*lines, "", f"![network speed]({SPEED_PLOT})", ""]


def _throughput_section(rows: list[dict[str, Any]]) -> list[str]:
    nets = list(rows[0]["cpu_steps_per_s"])
    lines = [
        "## Training throughput (SB3)",
        "",
        "Env steps per second of `learn()` after warm-up (env steps, rollouts and updates), "
        "from the process's CPU time (wall-clock figures in the JSON file). `mlp` is SB3's "
        "MlpPolicy with the same Linear layers; every policy trains with torch's default Adam.",
        "",
        "| algo | env | depth × width | " + " | ".join(nets) + " | Fixup / MLP |",
        "|---|---|---|" + "---|" * len(nets) + "---|",
    ]
    for row in rows:
        rates = " | ".join(f"{row['cpu_steps_per_s'][net]:.0f}" for net in nets)
        ratio = row["ratio_to_mlp"].get("fixup", float("nan"))
        lines.append(
            f"| {row['algo']} | {row['env_id']} | {row['depth']} × {row['width']} | {rates} | "
            f"{ratio:.2f} |"
        )
    return [*lines, "", f"![throughput]({THROUGHPUT_PLOT})", ""]


def _learning_section(summary: list[dict[str, Any]]) -> list[str]:
    lines = [
        "## Learning",
        "",
        "Deterministic evaluation return (10 episodes) at the end of the budget and the best "
        "evaluation during training, mean ± sample std over seeds (– for one seed). `sb3` is "
        "SB3's default MlpPolicy with the recipe's hyperparameters; `zoo` is the same policy "
        "with rl-baselines3-zoo's settings where the recipe departs from them (PPO on "
        "Pendulum-v1: no VecNormalize, gSDE; HalfCheetah-v5: a 256-256 ReLU network). The zoo "
        "column is the zoo's published figure for SB3's default with its own settings at that "
        "budget (one agent, std over episodes).",
        "",
        "| algo | env | budget | net | depth × width | seeds | final | best | zoo |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        zoo = ZOO_REFERENCE.get((row["algo"], row["env_id"], row["budget"]))
        shape = "default" if row["depth"] == 0 else f"{row['depth']} × {row['width']}"
        lines.append(
            f"| {row['algo']} | {row['env_id']} | {row['budget']} | {row['net']} | {shape} | "
            f"{len(row['seeds'])} | {_spread(row['final_mean'], row['final_std'])} | "
            f"{_spread(row['best_mean'], row['best_std'])} | "
            f"{f'{zoo[0]:.1f} ± {zoo[1]:.1f}' if zoo else '–'} |"
        )
    return [*lines, "", f"![learning]({LEARNING_PLOT})", ""]


def _spread(mean: float, std: float | None) -> str:
    return f"{mean:.1f} ± {std:.1f}" if std is not None else f"{mean:.1f} ± –"


def _duration(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
