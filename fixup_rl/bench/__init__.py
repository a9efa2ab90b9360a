"""``fixup-rl bench``: what a Fixup network costs and what it buys, measured side by side.

- :mod:`~fixup_rl.bench.network_speed`: forward and forward+backward time of each residual
  scheme, folded Fixup and a plain MLP with the same Linear layers;
- :mod:`~fixup_rl.bench.throughput`: SB3 env steps per second with each network;
- :mod:`~fixup_rl.bench.learning`: returns at fixed budgets over seeds;
- :mod:`~fixup_rl.bench.report`: ``bench.json``, ``bench.md`` and PNG plots, each with the
  machine, the library versions and the command.
"""

from fixup_rl.bench.cli import add_bench_arguments, run_bench_command
from fixup_rl.bench.learning import LearningRun, run_learning, summarize
from fixup_rl.bench.network_speed import SpeedConfig, measure_network_speed
from fixup_rl.bench.targets import check_targets
from fixup_rl.bench.throughput import ThroughputConfig, measure_throughput

__all__ = [
    "LearningRun",
    "SpeedConfig",
    "ThroughputConfig",
    "add_bench_arguments",
    "check_targets",
    "measure_network_speed",
    "measure_throughput",
    "run_bench_command",
    "run_learning",
    "summarize",
]
