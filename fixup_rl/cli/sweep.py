"""``fixup-rl sweep``: run a sweep file's trials on Ray Tune and collect their results."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fixup_rl.cli.errors import positive_int, user_errors
from fixup_rl.cli.run_folder import check_name
from fixup_rl.sweep import SweepResult, load_sweep, require_tune, run_sweep
from fixup_rl.sweep.results import CSV, JSON

SOME_FAILED = 1


def add_sweep_parser(commands: Any) -> None:
    """Add the ``sweep`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "sweep",
        help="run a sweep of training runs on Ray Tune",
        description="Run every trial of a sweep file (a grid, random or Optuna search over "
        "recipe parameters) on Ray Tune, each into a run folder of its own, then write the "
        "results table and a plot of return against depth. Needs pip install "
        '"fixup-rl[sweep]". Exit status: 0 when every trial finished, 1 when some failed '
        "after their retries, 2 for bad input.",
    )
    parser.add_argument("sweep_file", type=Path, metavar="SWEEP.yaml", help="the sweep file")
    parser.add_argument("--out", default="sweeps", help="where sweep folders go (default: sweeps)")
    parser.add_argument(
        "--name", type=check_name, help="the sweep folder's name (default: the file's name)"
    )
    parser.add_argument(
        "--address",
        help="run on the Ray cluster at this address, such as 127.0.0.1:6379 (default: "
        "$RAY_ADDRESS; without it, Ray starts on this machine for the sweep)",
    )
    parser.add_argument(
        "--num-cpus",
        type=positive_int,
        help="CPUs of the Ray started on this machine (default: all); not with --address",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing sweep folder")
    parser.set_defaults(run=run_sweep_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run the sweep as ``args`` say; return the exit status."""
    # Ray Tune first: without it, nothing else matters.
    with user_errors():
        require_tune()
        spec = load_sweep(args.sweep_file)
    folder = Path(args.out) / (args.name or spec.name)
    searched = ", ".join(spec.searched) or "nothing"
    print(f"Sweep {spec.name}: {spec.search} search over {searched}, into {folder}")

    # The trials; setup errors (folder, cluster, resources) come before any of them starts.
    with user_errors():
        result = run_sweep(
            spec,
            args.out,
            name=args.name,
            address=args.address,
            num_cpus=args.num_cpus,
            force=args.force,
        )

    _print_summary(result)
    return SOME_FAILED if result.failed else 0


def _print_summary(result: SweepResult) -> None:
    done = len(result.rows) - result.failed
    lines = [f"Sweep done: {done} of {len(result.rows)} trials finished. Folder: {result.folder}"]
    for row in result.rows:
        if row["status"] == "done":
            outcome = f"final return {row['final_return']:.2f} ± {row['final_return_std']:.2f}"
        else:
            outcome = f"failed: {row['error']}"
        lines.append(f"  {row['trial']:<40} {outcome}")
    lines += [
        f"  results       {CSV}, {JSON}",
        f"  plot          {result.plot.name}" if result.plot else "  plot          none",
        "  runs          runs/ (one run folder per trial: fixup-rl eval RUN_DIR)",
        "  tune          tune/ (Ray Tune's experiment: progress and checkpoints)",
    ]
    print("\n".join(lines))
