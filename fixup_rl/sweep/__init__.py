"""Experiment sweeps on Ray Tune: a grid or a random or Optuna search over recipe parameters.

Each trial is one training run of :mod:`fixup_rl.agents` with a run folder of its own (the
layout of ``fixup-rl train``), reporting its evaluation return to Tune as it trains; a trial
that fails is retried from its last checkpoint. The results go into one table (CSV and JSON)
and a plot of return against depth for each network::

    from fixup_rl.sweep import load_sweep, run_sweep

    spec = load_sweep("benchmarks/sweeps/depth_scaling.yaml")  # checked before any trial
    result = run_sweep(spec, "sweeps")  # Ray on this machine; address=... for a cluster
    print(result.folder, result.failed)

Reading and checking sweep files needs only fixup_rl; running them needs Ray Tune
(``pip install "fixup-rl[sweep]"``), imported when :func:`run_sweep` is called.
"""

from fixup_rl.sweep.runner import SweepResult, require_tune, run_sweep
from fixup_rl.sweep.space import Space
from fixup_rl.sweep.spec import SweepSpec, check_sweep, load_sweep

__all__ = [
    "Space",
    "SweepResult",
    "SweepSpec",
    "check_sweep",
    "load_sweep",
    "require_tune",
    "run_sweep",
]
