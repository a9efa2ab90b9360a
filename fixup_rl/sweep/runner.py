"""Running a sweep on Ray Tune: on this machine, or on an existing Ray cluster.

The sweep folder::

    <out>/<name>/
        sweep.yaml               the sweep as run, defaults filled in
        runs/<trial>/            one fixup-rl run folder per trial (see fixup_rl.cli.run_folder)
        tune/                    Ray Tune's experiment: per-trial progress, checkpoints, state
        results.csv              one row per trial (see fixup_rl.sweep.results)
        results.json             the same rows as JSON
        returns_vs_depth.png     the final return against depth, a line per network
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fixup_rl._validation import check_int
from fixup_rl.sweep.plot import plot_returns
from fixup_rl.sweep.results import METRIC, collect_rows, write_rows
from fixup_rl.sweep.spec import SweepSpec, check_sweep

SPEC = "sweep.yaml"
#: Seconds to wait for a Ray cluster's address to answer before giving up on it.
CONNECT_TIMEOUT = 5.0
PLOT = "returns_vs_depth.png"
INSTALL_HINT = 'Ray Tune is not installed; run `pip install "fixup-rl[sweep]"`'


@dataclass(frozen=True)
class SweepResult:
    """What a sweep left behind.

    :param folder: the sweep folder
    :param rows: one row per trial, as in ``results.csv``
    :param plot: the plot, or ``None`` when no trial finished
    """

    folder: Path
    rows: list[dict[str, Any]]
    plot: Path | None

    @property
    def failed(self) -> int:
        """How many trials failed for good (after their retries)."""
        return sum(row["status"] != "done" for row in self.rows)


def require_tune() -> Any:
    """Return the ``ray.tune`` module, once the sweep extra is known to be installed.

    :raises ModuleNotFoundError: saying how to install it, when Ray Tune or matplotlib (the
        sweep's plot) cannot be imported
    """
    try:
        tune = importlib.import_module("ray.tune")
    except ImportError as error:
        raise ModuleNotFoundError(INSTALL_HINT) from error
    try:
        importlib.import_module("matplotlib")
    except ImportError as error:
        raise ModuleNotFoundError(
            "matplotlib, which draws the sweep's plot, is not installed; run `pip install "
            '"fixup-rl[sweep]"`'
        ) from error
    return tune


def run_sweep(
    spec: SweepSpec,
    out: str | Path = "sweeps",
    *,
    name: str | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    force: bool = False,
    verbose: int = 1,
) -> SweepResult:
    """Run every trial of ``spec`` on Ray Tune and collect the results into the sweep folder.

    Where Ray runs: in the Ray session this process already started (``ray.init``), if any;
    else on the cluster at ``address`` (or the ``RAY_ADDRESS`` environment variable), whose
    nodes must all have fixup-rl installed and see ``out`` at the same path; else on a Ray
    started here for the sweep (all CPUs, or ``num_cpus``) and stopped after it.

    :param spec: the sweep, from :func:`~fixup_rl.sweep.load_sweep`
    :param out: the folder that sweep folders go into
    :param name: the sweep folder's name; ``spec.name`` when ``None``
    :param address: the address of a running Ray cluster, such as ``"127.0.0.1:6379"``
    :param num_cpus: the CPUs of the Ray started here (not with ``address``)
    :param force: replace an existing sweep folder
    :param verbose: Tune's console output: 0 (none), 1 (status) or 2 (every result)
    :return: the sweep folder and one row per trial; failed trials are rows too
    :raises ModuleNotFoundError: when Ray Tune (or Optuna, for ``search: optuna``) is missing
    :raises ValueError: when the sweep folder exists, the cluster cannot be reached or has
        fewer CPUs or GPUs than one trial asks for; all before any trial starts
    """
    # What can be refused is refused before Ray starts.
    tune = require_tune()
    if not isinstance(spec, SweepSpec):
        raise ValueError(f"spec must be a SweepSpec (from load_sweep), got {type(spec).__name__}")
    # A spec built by hand is checked as a sweep file is, and so is the folder name given.
    data = spec.to_data() if name is None else {**spec.to_data(), "name": name}
    spec = check_sweep(data, spec.source)
    if num_cpus is not None:
        check_int("num_cpus", num_cpus, minimum=1)
    searcher = _searcher(spec)
    address = address or os.environ.get("RAY_ADDRESS") or None
    if address is not None and num_cpus is not None:
        raise ValueError(
            f"num_cpus sizes a Ray started here; the cluster at {address} has its own CPUs"
        )
    folder = (Path(out) / spec.name).resolve()
    _claim(folder, force)
    _make_folder(folder, out)

    # The trials: on this process's Ray, on a cluster, or on a Ray started here for them.
    import ray

    started = _connect(ray, address, num_cpus)
    try:
        _check_resources(ray, spec)
        (folder / SPEC).write_text(yaml.safe_dump(spec.to_data(), sort_keys=False), "utf-8")
        grid = _tuner(tune, spec, folder, searcher, verbose).fit()
    finally:
        if started:
            ray.shutdown()

    # The table, and the plot: a line per network and per value of the other grids.
    rows = collect_rows(grid, spec, folder / "runs")
    write_rows(rows, folder)
    lines = [key for key in spec.searched if spec.params[key].kind == "grid"]
    lines = [key for key in lines if key not in ("algo", "env", "net", "depth", "seed")]
    plot = folder / PLOT if plot_returns(rows, folder / PLOT, lines) else None
    return SweepResult(folder, rows, plot)


def _tuner(tune: Any, spec: SweepSpec, folder: Path, searcher: Any, verbose: int) -> Any:
    from fixup_rl.sweep.trial import TrialSettings, run_trial  # imports Ray

    settings = TrialSettings(
        runs_dir=str(folder / "runs"),
        eval_every=spec.eval_every,
        eval_episodes=spec.eval_episodes,
        threads=max(int(spec.cpu), 1),
        device="cpu" if spec.gpu == 0 else None,  # a trial without a GPU share uses none
    )
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, settings=settings), {"cpu": spec.cpu, "gpu": spec.gpu}
    )
    return tune.Tuner(
        trainable,
        param_space={key: space.to_tune(tune) for key, space in spec.params.items()},
        tune_config=tune.TuneConfig(
            metric=METRIC,
            mode="max",
            search_alg=searcher,
            num_samples=spec.samples,
            max_concurrent_trials=spec.max_concurrent,
            trial_name_creator=TrialName(tuple(spec.searched)),
            trial_dirname_creator=TrialName(tuple(spec.searched)),
        ),
        run_config=tune.RunConfig(
            name="tune",
            storage_path=str(folder),
            failure_config=tune.FailureConfig(max_failures=spec.max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=2),
            verbose=verbose,
        ),
    )


@dataclass(frozen=True)
class TrialName:
    """Names a trial, and its run folder, by its index and the values it was given.

    ``"003_depth=4,seed=1"``: the index Tune gave the trial, padded so that folders sort, and
    the value of each searched parameter (floats to 4 significant digits), made path-safe and
    at most 100 characters long.

    :param keys: the searched parameters
    """

    keys: tuple[str, ...]

    def __call__(self, trial: Any) -> str:
        """Return the name of ``trial`` (a Tune ``Trial``)."""
        index = (trial.experiment_tag or "").partition("_")[0]
        index = f"{int(index):03d}" if index.isdigit() else trial.trial_id
        values = ",".join(f"{key}={_short(trial.config.get(key))}" for key in self.keys)
        name = f"{index}_{values}" if values else index
        return re.sub(r"[^A-Za-z0-9._=,+-]+", "_", name)[:100]


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _searcher(spec: SweepSpec) -> Any:
    if spec.search != "optuna":
        from ray.tune.search.basic_variant import BasicVariantGenerator

        return BasicVariantGenerator(random_state=spec.search_seed)
    try:
        importlib.import_module("optuna")
    except ImportError as error:
        raise ModuleNotFoundError(
            f"{spec.source}: search: optuna needs Optuna, which is not installed; "
            "run `pip install optuna`, or set search: random"
        ) from error
    from ray.tune.search.optuna import OptunaSearch

    return OptunaSearch(seed=spec.search_seed)


def _claim(folder: Path, force: bool) -> None:
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return
    if not force:
        raise ValueError(
            f"the sweep folder {folder} already exists; pass --force (force=True) to replace it, "
            "or choose another --name or --out"
        )
    if not (folder / SPEC).is_file():
        raise ValueError(
            f"refusing to replace {folder}: it holds no {SPEC}, so it is not a sweep folder"
        )
    shutil.rmtree(folder)


def _make_folder(folder: Path, out: str | Path) -> None:
    # Before Ray starts: a folder that cannot be made or written to is the user's to fix.
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"cannot write the sweep folder {folder} (--out {out}): "
            f"{error.strerror or error}; choose a writable --out"
        ) from error


def _connect(ray: Any, address: str | None, num_cpus: int | None) -> bool:
    # Returns whether this call started or joined Ray, and so must shut it down.
    if ray.is_initialized():
        return False
    if address is None:
        # "local": a new Ray of this process, even when a cluster runs on this machine.
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False)
        return True

    _check_reachable(address)
    try:
        ray.init(address=address)
    except (ConnectionError, RuntimeError) as error:
        reason = " ".join(str(error).split())[:300]
        raise ValueError(
            f"cannot connect to the Ray cluster at {address}: {reason}; start one with "
            "`ray start --head`, or leave out --address to run on this machine"
        ) from error
    return True


def _check_reachable(address: str) -> None:
    # Ray retries an address that nothing answers on for minutes; a HOST:PORT address gets a
    # quick look first. Other forms ("auto", "ray://...") are left to Ray.
    host, colon, port = address.rpartition(":")
    if not colon or not host or not port.isdigit() or "/" in host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise ValueError(
            f"cannot connect to the Ray cluster at {address}: nothing answers there "
            f"({error.strerror or error}); start one with `ray start --head`, or leave out "
            "--address to run on this machine"
        ) from error


def _check_resources(ray: Any, spec: SweepSpec) -> None:
    # Tune would wait forever for a trial that no node can hold.
    available = ray.cluster_resources()
    for resource, wanted in (("CPU", spec.cpu), ("GPU", spec.gpu)):
        have = available.get(resource, 0)
        if wanted > have:
            raise ValueError(
                f"{spec.source}: resources: a trial asks for {wanted:g} {resource}s but the Ray "
                f"cluster has {have:g}; lower resources.{resource.lower()} or add nodes"
            )
