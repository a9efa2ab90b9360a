"""Run every diagnostic over depths and residual schemes, one network per job."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.base_class import BaseAlgorithm

from fixup_rl._validation import check_int
from fixup_rl.diagnostics.batch_coupling import DEFAULT_BATCH_SIZES, batch_coupling
from fixup_rl.diagnostics.measures import seeded_generator
from fixup_rl.diagnostics.networks import (
    IMAGE_SHAPE,
    MLP_INPUT_DIM,
    build_cnn,
    build_mlp,
)
from fixup_rl.diagnostics.signal_propagation import signal_propagation
from fixup_rl.diagnostics.update_size import (
    FIXUP_VARIANTS,
    LEARNING_RATES,
    NO_SCALING_MAX_DEPTH,
    OPTIMIZERS,
    STEPS,
    variant_output_change,
)
from fixup_rl.nn import NORMS
from fixup_rl.sb3 import FixupActorCriticPolicy

DEFAULT_DEPTHS = (4, 16, 64, 256, 1024)
DEFAULT_CNN_BLOCKS_PER_STAGE = (1, 2, 4, 8)

#: Images per batch in the ImpalaCNN measurements (8 x 32 x 8 x 8 output entries).
CNN_BATCH_SIZE = 8

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DiagnoseConfig:
    """What :func:`run_diagnostics` measures.

    :param depths: residual blocks of the ResidualMLPs (each >= 1)
    :param width: width of the ResidualMLPs (>= 1)
    :param norms: the residual schemes, a subset of ``fixup_rl.NORMS``
    :param batch_size: samples per batch of the ResidualMLP measurements (>= 2, so that
        BatchNorm has batch statistics)
    :param seed: the seed of every network, batch and perturbation
    :param cnn_blocks_per_stage: ``blocks_per_stage`` values of the ImpalaCNN measurements
        (empty: no ImpalaCNN)
    :param coupling_batch_sizes: the batch sizes of the batch-coupling measurements
    :param learning_rates: η of each optimizer in the learning-step measurements
    :param steps: optimizer steps in the learning-step measurements
    """

    depths: tuple[int, ...] = DEFAULT_DEPTHS
    width: int = 256
    norms: tuple[str, ...] = NORMS
    batch_size: int = 8
    seed: int = 0
    cnn_blocks_per_stage: tuple[int, ...] = DEFAULT_CNN_BLOCKS_PER_STAGE
    coupling_batch_sizes: tuple[int, ...] = DEFAULT_BATCH_SIZES
    learning_rates: dict[str, float] = field(default_factory=lambda: dict(LEARNING_RATES))
    steps: int = STEPS

    def __post_init__(self) -> None:
        _check_ints("depths", self.depths, minimum=1)
        check_int("width", self.width, minimum=1)
        check_int("batch_size", self.batch_size, minimum=2)
        check_int("seed", self.seed, minimum=0)
        check_int("steps", self.steps, minimum=1)
        _check_ints("cnn_blocks_per_stage", self.cnn_blocks_per_stage, minimum=1, empty=True)
        _check_ints("coupling_batch_sizes", self.coupling_batch_sizes, minimum=1)
        unknown = [norm for norm in self.norms if norm not in NORMS]
        if unknown or not self.norms:
            raise ValueError(
                f"norms must name residual schemes among {', '.join(NORMS)}; "
                f"got {', '.join(map(repr, self.norms)) or 'none'}"
            )


def run_diagnostics(
    config: DiagnoseConfig | None = None,
    model: BaseAlgorithm | None = None,
    progress: Progress | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Measure signal propagation, learning-step size and batch coupling; return the report.

    The work is split into jobs, one network each: the signal propagation of a ResidualMLP of
    one depth and scheme, one learning-step run (one variant, one optimizer) or one ImpalaCNN.
    With ``workers=1`` they run one after the other in this process; with more, in that many
    worker processes (started with ``spawn``, each with this process's number of torch
    threads), the longest jobs first. Every job builds its network and its batch from the
    seed, so the report is the same whatever the number of workers. Each worker holds one
    network at a time, so the memory needed is, per worker, that of its deepest network in
    training (weights, gradients and, for Adam, its two moment buffers) plus one batch.

    :param config: what to measure (default: ``DiagnoseConfig()``)
    :param model: an SB3 model whose batch coupling to measure; by default, an untrained
        ``PPO(FixupActorCriticPolicy, "Pendulum-v1")`` of each residual scheme of ``config``
    :param progress: called with a short line before (one worker) or after (several) each
        measurement
    :param workers: processes measuring networks side by side (>= 1)
    :return: the report: ``config``, ``signal_propagation`` (``mlp`` and ``cnn`` rows),
        ``update_size`` rows, ``batch_coupling`` results and ``seconds`` per section
        (``networks``: the ResidualMLPs and ImpalaCNNs, measured together when ``workers``
        is above 1)
    """
    config = config or DiagnoseConfig()
    check_int("workers", workers, minimum=1)
    progress = progress or (lambda line: None)
    seconds: dict[str, float] = {}
    jobs = _jobs(config)

    start = time.perf_counter()
    if workers == 1:
        results = [_run_job(config, job, progress) for job in jobs]
        seconds["networks"] = time.perf_counter() - start
        start = time.perf_counter()
        coupling = _coupling(config, model, progress)
    else:
        with _pool(workers) as pool:
            futures = {pool.submit(_run_job, config, job): job for job in _longest_first(jobs)}
            # The batch-coupling measurement runs here while the workers measure networks.
            coupling = _coupling(config, model, progress)
            seconds["batch_coupling"] = time.perf_counter() - start
            done: dict[Job, dict[str, Any]] = {}
            for future in as_completed(futures):
                job = futures[future]
                done[job] = future.result()
                progress(f"measured {_describe(job)} ({len(done)} of {len(jobs)} jobs)")
        results = [done[job] for job in jobs]
        seconds["networks"] = time.perf_counter() - start
    seconds.setdefault("batch_coupling", time.perf_counter() - start)

    return {
        "config": asdict(config),
        "signal_propagation": {
            "mlp": [row for job, row in zip(jobs, results, strict=True) if job.kind == "signal"],
            "cnn": [row for job, row in zip(jobs, results, strict=True) if job.kind == "cnn"],
        },
        "update_size": [row for job, row in zip(jobs, results, strict=True) if job.kind == "step"],
        "batch_coupling": coupling,
        "seconds": seconds,
    }


@dataclass(frozen=True)
class Job:
    """One network to measure, built from the seed in the process that runs the job.

    :param kind: ``"signal"`` (a ResidualMLP at init), ``"step"`` (a learning-step run of a
        ResidualMLP) or ``"cnn"`` (an ImpalaCNN at init)
    :param depth: residual blocks of the ResidualMLP, or blocks per stage of the ImpalaCNN
    :param norm: the residual scheme of the network
    :param variant: of a learning-step run, one of ``FIXUP_VARIANTS`` or ``"none"``
    :param optimizer: of a learning-step run, one of ``OPTIMIZERS``
    """

    kind: str
    depth: int
    norm: str
    variant: str = ""
    optimizer: str = ""


def _jobs(config: DiagnoseConfig) -> list[Job]:
    # The report's order: depth by depth, every scheme at each depth (its learning-step runs
    # right after it, optimizer by optimizer); then the ImpalaCNNs.
    jobs = []
    for depth in config.depths:
        for norm in config.norms:
            jobs.append(Job("signal", depth, norm))
            variants = {"fixup": FIXUP_VARIANTS, "none": ("none",)}.get(norm, ())
            for optimizer in OPTIMIZERS:
                for variant in variants:
                    if variant != "no_scaling" or depth <= NO_SCALING_MAX_DEPTH:
                        jobs.append(Job("step", depth, norm, variant, optimizer))
    jobs += [
        Job("cnn", blocks, norm) for blocks in config.cnn_blocks_per_stage for norm in config.norms
    ]
    return jobs


def _longest_first(jobs: list[Job]) -> list[Job]:
    # Roughly proportional to the layers a job runs through: a learning-step run makes a few
    # forward and backward passes and optimizer steps, a signal measurement one of each.
    weight = {"step": 2.0, "signal": 1.0, "cnn": 0.5}
    return sorted(jobs, key=lambda job: job.depth * weight[job.kind], reverse=True)


@contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    # spawn: a fresh interpreter per worker, never a fork of a process whose torch threads
    # or open files the child would inherit half-way.
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=torch.set_num_threads,
        initargs=(torch.get_num_threads(),),
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _describe(job: Job) -> str:
    if job.kind == "cnn":
        return f"ImpalaCNN, {job.depth} blocks per stage, norm={job.norm}"
    if job.kind == "step":
        return f"learning step, {job.depth} blocks, {job.optimizer}, {job.variant}"
    return f"ResidualMLP, {job.depth} blocks, norm={job.norm}"


def _run_job(config: DiagnoseConfig, job: Job, progress: Progress | None = None) -> dict[str, Any]:
    """Measure one network of the report; a top-level function, so workers can run it."""
    if progress is not None:
        progress(_describe(job))
    if job.kind == "cnn":
        return _cnn_signal(config, job.depth, job.norm)

    generator = seeded_generator(config.seed)
    inputs = torch.randn(config.batch_size, MLP_INPUT_DIM, generator=generator)
    targets = torch.randn(config.batch_size, config.width, generator=generator)
    net = build_mlp(job.norm, job.depth, config.width, config.seed)
    if job.kind == "signal":
        return {
            "norm": job.norm,
            "depth": job.depth,
            **signal_propagation(net, inputs, seed=config.seed),
        }

    # A network whose output already overflows at init gives inf or nan at the first step.
    lr = config.learning_rates[job.optimizer]
    change = variant_output_change(
        net, job.variant, job.optimizer, lr, inputs, targets, config.steps
    )
    return {
        "optimizer": job.optimizer,
        "variant": job.variant,
        "depth": job.depth,
        "lr": lr,
        "output_change": change,
        "output_change_per_lr": change / lr,
    }


def _cnn_signal(config: DiagnoseConfig, blocks_per_stage: int, norm: str) -> dict[str, Any]:
    images = torch.randn(CNN_BATCH_SIZE, *IMAGE_SHAPE, generator=seeded_generator(config.seed))
    net = build_cnn(norm, blocks_per_stage, config.seed)
    signal = signal_propagation(net, images, seed=config.seed)
    return {"norm": norm, "depth": net.num_blocks, "blocks_per_stage": blocks_per_stage, **signal}


def _coupling(
    config: DiagnoseConfig, model: BaseAlgorithm | None, progress: Progress
) -> list[dict[str, Any]]:
    sizes = config.coupling_batch_sizes
    if model is not None:
        progress(f"batch coupling of {type(model).__name__}")
        result = batch_coupling(model, batch_sizes=sizes, seed=config.seed)
        return [{"name": type(model).__name__, **result}]

    results = []
    for norm in config.norms:
        progress(f"batch coupling, PPO with norm={norm}")
        ppo = PPO(
            FixupActorCriticPolicy,
            "Pendulum-v1",
            policy_kwargs=dict(norm=norm),
            seed=config.seed,
            device="cpu",
        )
        result = batch_coupling(ppo, batch_sizes=sizes, seed=config.seed)
        results.append({"name": f"PPO, norm={norm}", **result})
    return results


def _check_ints(name: str, values: tuple[int, ...], minimum: int, empty: bool = False) -> None:
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int) or v < minimum]
    if bad or (not values and not empty):
        got = ", ".join(map(repr, bad)) if bad else "nothing"
        raise ValueError(f"{name} must be integers >= {minimum}, got {got}")
