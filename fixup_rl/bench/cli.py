"""``fixup-rl bench``: speed and learning of Fixup networks against the alternatives."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import torch

from fixup_rl.bench.grid import (
    DEFAULT_NETS,
    DEFAULT_TASKS,
    learning_runs,
    parse_net,
    parse_task,
)
from fixup_rl.bench.learning import LearningRun, resolve_run, run_learning, summarize
from fixup_rl.bench.network_speed import SpeedConfig, measure_network_speed
from fixup_rl.bench.report import environment, write_files
from fixup_rl.bench.targets import check_targets
from fixup_rl.bench.throughput import ThroughputConfig, measure_throughput

PARTS = ("speed", "throughput", "learning")

T = TypeVar("T")

# --quick: every part, tiny, so that the command and its files can be checked in minutes.
QUICK_SPEED = SpeedConfig(batch_sizes=(1, 16), depths=(2,), width=64, rounds=3, matmul_size=256)
QUICK_THROUGHPUT = ThroughputConfig(
    algos=("ppo", "sac"),
    steps={"ppo": 256, "sac": 64},
    repeats=1,
    overrides={"ppo": {"n_steps": 64}, "sac": {"learning_starts": 64, "batch_size": 32}},
)
QUICK_TASKS = (("ppo", "Pendulum-v1", 8192, 4096),)
QUICK_NETS = (("sb3", 0), ("fixup", 2))


def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``fixup-rl bench`` to ``parser`` and set its ``run`` default.

    :param parser: the (sub)command parser
    """
    parser.description = (
        "Measure, in one run, the speed of Fixup networks (forward, forward+backward, folded) "
        "against a plain MLP and the other residual schemes, SB3 training throughput, and "
        "learning results over seeds; write bench.json, bench.md and PNG plots into --out. "
        "The full run takes hours on a CPU; --quick checks everything in a few minutes."
    )
    parser.add_argument("--quick", action="store_true", help="tiny versions of every part")
    parser.add_argument(
        "--parts",
        type=_parts,
        default=None,
        metavar="PART,...",
        help=f"which parts to run, of {', '.join(PARTS)} (default: all; learning with "
        "--report-only)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench-results"), help="output folder")
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where every part runs: the networks timed, the agents trained (default: cpu)",
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        help="torch CPU threads (default: 1, which also times with the thread's CPU clock)",
    )
    parser.add_argument(
        "--seeds",
        type=_positive_int,
        default=None,
        help="learning seeds 0..SEEDS-1 (default: 3; 1 with --quick)",
    )
    parser.add_argument(
        "--task",
        action="append",
        type=parse_task,
        metavar="ALGO:ENV_ID:BUDGET[:EVAL_EVERY]",
        help="a learning task (repeatable; default: "
        + ", ".join(f"{a}:{e}:{b}" for a, e, b, _ in DEFAULT_TASKS)
        + ")",
    )
    parser.add_argument(
        "--net",
        action="append",
        type=parse_net,
        metavar="sb3|zoo|NET:DEPTH",
        help="a learning network (repeatable; sb3 and zoo are SB3's default MlpPolicy with the "
        "recipe's and with rl-baselines3-zoo's settings; default: "
        + ", ".join(n if d == 0 else f"{n}:{d}" for n, d in DEFAULT_NETS)
        + ")",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="learning: summarize the records already in --out, train nothing new",
    )
    parser.set_defaults(run=run_bench_command)


def run_bench_command(args: argparse.Namespace) -> int:
    """Run ``fixup-rl bench`` as ``args`` say; return the exit status.

    Every option is checked before anything runs; the files are rewritten after each part,
    so a part that fails keeps the results of those before it.
    """
    if args.device == "cuda" and not torch.cuda.is_available():
        raise _usage_error("--device cuda: no CUDA device is available here; use --device cpu")
    parts = _chosen_parts(args.parts, args.report_only)
    runs = _learning_runs(args) if "learning" in parts else []
    _check_writable(args.out)
    torch.set_num_threads(args.threads)

    results: dict[str, Any] = {
        "environment": environment(getattr(args, "argv", None)),
        "quick": args.quick,
    }
    if "speed" in parts:
        speed = QUICK_SPEED if args.quick else SpeedConfig()
        speed = SpeedConfig(**{**speed.__dict__, "device": args.device})
        print("network speed (ratios: time / plain MLP)")
        results["network_speed"] = measure_network_speed(speed, print)
        _write(results, args.out)
    if "throughput" in parts:
        print("training throughput")
        config = QUICK_THROUGHPUT if args.quick else ThroughputConfig()
        config = ThroughputConfig(**{**config.__dict__, "device": args.device})
        results["throughput"] = measure_throughput(config, print)
        _write(results, args.out)
    if "learning" in parts:
        folder = args.out / "learning"
        if args.report_only:
            runs = [run for run in runs if (folder / f"{run.name}.json").exists()]
        print(f"learning: {len(runs)} runs (records already in {folder} are kept)")
        records = [
            run_learning(run, folder, print, args.device, results["environment"]) for run in runs
        ]
        results["learning"] = summarize(records)

    for path in _write(results, args.out):
        print(f"wrote {path}")
    return 0


def _write(results: dict[str, Any], folder: Path) -> list[Path]:
    results["targets"] = check_targets(results)
    return write_files(results, folder)


def _chosen_parts(parts: tuple[str, ...] | None, report_only: bool) -> tuple[str, ...]:
    if not report_only:
        return parts or PARTS
    if parts not in (None, ("learning",)):
        raise _usage_error(
            f"--report-only summarizes the learning records: use it alone or with --parts "
            f"learning, got --parts {','.join(parts)}"
        )
    return ("learning",)


def _learning_runs(args: argparse.Namespace) -> list[LearningRun]:
    # The grid of --task, --net and --seeds, each task and net once, every (task, net) pair
    # checked against its recipe before anything runs.
    tasks = _once(args.task or (QUICK_TASKS if args.quick else DEFAULT_TASKS))
    nets = _once(args.net or (QUICK_NETS if args.quick else DEFAULT_NETS))
    seeds = range(args.seeds or (1 if args.quick else 3))

    evaluated: dict[tuple[str, str, int], int] = {}
    for algo, env_id, budget, eval_every in tasks:
        earlier = evaluated.setdefault((algo, env_id, budget), eval_every)
        if earlier != eval_every:
            raise _usage_error(
                f"--task {algo}:{env_id}:{budget} is given with two evaluation intervals "
                f"({earlier} and {eval_every}); their records would share one name"
            )
    runs = learning_runs(tasks, nets, seeds)
    for run in (run for run in runs if run.seed == 0):  # one run per (task, net)
        try:
            resolve_run(run, args.device)
        except ValueError as error:
            net = run.net if run.depth == 0 else f"{run.net}:{run.depth}"
            raise _usage_error(
                f"--task {run.algo}:{run.env_id}:{run.budget} with --net {net}: {error}"
            ) from error
    return runs


def _once(items: Sequence[T]) -> list[T]:
    return list(dict.fromkeys(items))


def _parts(text: str) -> tuple[str, ...]:
    parts = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [part for part in parts if part not in PARTS]
    if not parts or unknown:
        raise argparse.ArgumentTypeError(
            f"must be a comma-separated list of {', '.join(PARTS)}, got {text!r}"
        )
    return parts


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise _usage_error(f"cannot write to --out {folder}: {error.strerror or error}") from error


def _usage_error(message: str) -> Exception:
    from fixup_rl.cli.errors import UsageError  # the CLI's one-line error, exit status 2

    return UsageError(message)
