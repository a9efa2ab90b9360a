"""Turn the records of ``learning_targets.py`` into a markdown table and a plot of the curves.

    python benchmarks/report_learning.py

Reads ``benchmarks/results/learning/*.json``; writes ``benchmarks/results/learning.md`` and
``benchmarks/results/learning.png``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

RESULTS = Path(__file__).parent / "results"

# What each task must reach with a Fixup network, and within how many steps.
TARGETS = {
    ("ppo", "Pendulum-v1"): (-250.0, 100_000),
    ("sac", "Pendulum-v1"): (-200.0, 20_000),
    ("ppo", "InvertedPendulum-v5"): (1000.0, 100_000),
}


def label(record: dict) -> str:
    aware = ", depth-aware" if record["depth_aware"] else ""
    return f"{record['net']} {record['depth']} × {record['width']}{aware}"


def task(record: dict) -> str:
    return f"{record['algo'].upper()} {record['env_id']}"


def reached(record: dict) -> float:
    """The best evaluation within the target's budget."""
    _, budget = TARGETS.get((record["algo"], record["env_id"]), (None, record["budget"]))
    return max(p["mean_return"] for p in record["curve"] if p["timesteps"] <= budget)


def main() -> None:
    records = [json.loads(p.read_text()) for p in sorted((RESULTS / "learning").glob("*.json"))]
    by_task: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_task[task(record)].append(record)

    lines = [
        "# Learning results of the default Fixup recipes",
        "",
        "Produced by `benchmarks/learning_targets.py` (one record per run under `learning/`,",
        "with its command, machine and versions) and `benchmarks/report_learning.py`.",
        "Returns are the mean ± std of 10 deterministic evaluation episodes with the training",
        "VecNormalize statistics frozen. *Best* is the best evaluation within the target's",
        "budget, *final* the last evaluation of the run. Ablations (runs that explain a recipe",
        "choice) are in `learning_ablations/`.",
        "",
        "| task | network | seed | steps run | best | final | target | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, runs in sorted(by_task.items()):
        for r in sorted(runs, key=lambda r: (r["depth"], r["depth_aware"], r["seed"])):
            target = TARGETS.get((r["algo"], r["env_id"]))
            goal = f"≥ {target[0]:g} within {target[1]:,}" if target else "—"
            met = "—" if target is None else ("yes" if reached(r) >= target[0] else "**no**")
            lines.append(
                f"| {name} | {label(r)} | {r['seed']} | {r['curve'][-1]['timesteps']:,} "
                f"| {reached(r):.1f} "
                f"| {r['final_mean_return']:.1f} ± {r['final_std_return']:.1f} "
                f"| {goal} | {met} |"
            )
    (RESULTS / "learning.md").write_text("\n".join(lines) + "\n")

    figure, axes = plt.subplots(1, len(by_task), figsize=(5 * len(by_task), 3.6), squeeze=False)
    for axis, (name, runs) in zip(axes[0], sorted(by_task.items()), strict=True):
        for r in sorted(runs, key=lambda r: (r["depth"], r["depth_aware"], r["seed"])):
            steps = [point["timesteps"] for point in r["curve"]]
            returns = [point["mean_return"] for point in r["curve"]]
            axis.plot(steps, returns, marker="o", markersize=3, label=f"{label(r)}, s{r['seed']}")
        target = TARGETS.get((runs[0]["algo"], runs[0]["env_id"]))
        if target:
            axis.axhline(target[0], color="grey", linestyle="--", linewidth=1, label="target")
        axis.set_title(name)
        axis.set_xlabel("environment steps")
        axis.set_ylabel("evaluation return")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(RESULTS / "learning.png", dpi=110)


if __name__ == "__main__":
    main()
