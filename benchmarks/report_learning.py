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
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).parent / "results"

# What each task must reach with a Fixup network (the targets of the main job).
TARGETS = {"ppo-pendulum": -250.0, "sac-pendulum": -200.0, "ppo-invertedpendulum": 1000.0}


def label(record: dict) -> str:
    aware = ", depth-aware" if record["depth_aware"] else ""
    return f"{record['depth']} blocks × {record['width']}{aware}"


def main() -> None:
    records = [json.loads(p.read_text()) for p in sorted((RESULTS / "learning").glob("*.json"))]
    by_task: dict[str, list[dict]] = defaultdict(list)
    for record in records:
        by_task[record["task"]].append(record)

    lines = [
        "# Learning results of the default Fixup recipes",
        "",
        "Produced by `benchmarks/learning_targets.py` (one record per run under `learning/`,",
        "with its command, machine and versions) and `benchmarks/report_learning.py`.",
        "Returns are the mean ± std of 10 deterministic evaluation episodes with the training",
        "VecNormalize statistics frozen. *Best* is the best evaluation during the run, *final*",
        "the last one.",
        "",
        "| task | env | network | seed | budget | best | final | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for task, runs in sorted(by_task.items()):
        for r in sorted(runs, key=lambda r: (r["depth"], r["depth_aware"], r["seed"])):
            target = TARGETS.get(task)
            met = "yes" if target is not None and r["best_mean_return"] >= target else "no"
            lines.append(
                f"| {task} | {r['env_id']} | {label(r)} | {r['seed']} | {r['budget']:,} "
                f"| {r['best_mean_return']:.1f} "
                f"| {r['final_mean_return']:.1f} ± {r['final_std_return']:.1f} "
                f"| {target if target is not None else '—'} | {met} |"
            )
    (RESULTS / "learning.md").write_text("\n".join(lines) + "\n")

    figure, axes = plt.subplots(1, len(by_task), figsize=(5 * len(by_task), 3.6), squeeze=False)
    for axis, (task, runs) in zip(axes[0], sorted(by_task.items()), strict=True):
        for r in sorted(runs, key=lambda r: (r["depth"], r["depth_aware"], r["seed"])):
            steps = [point["timesteps"] for point in r["curve"]]
            returns = [point["mean_return"] for point in r["curve"]]
            axis.plot(steps, returns, marker="o", markersize=3, label=f"{label(r)}, s{r['seed']}")
        if task in TARGETS:
            axis.axhline(TARGETS[task], color="grey", linestyle="--", linewidth=1, label="target")
        axis.set_title(f"{task} ({runs[0]['env_id']})")
        axis.set_xlabel("environment steps")
        axis.set_ylabel("evaluation return")
        axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(RESULTS / "learning.png", dpi=110)


if __name__ == "__main__":
    main()
