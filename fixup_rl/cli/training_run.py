"""What ``fixup-rl train`` has set up before learning: a new run, or one to resume."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv

from fixup_rl.reliability import Checkpoint


@dataclass(frozen=True)
class TrainOptions:
    """The options of ``fixup-rl train`` that are not part of the configuration.

    They are saved in every checkpoint, so ``--resume`` carries them on.

    :param eval_freq: env steps between evaluations; 0: none
    :param eval_episodes: episodes per evaluation
    :param checkpoint_freq: env steps between checkpoints; 0: none
    :param max_consecutive_skips: skipped non-finite updates in a row that stop training
    """

    eval_freq: int
    eval_episodes: int
    checkpoint_freq: int
    max_consecutive_skips: int

    def to_json(self) -> dict[str, int]:
        """The options as JSON data."""
        return asdict(self)


@dataclass
class TrainingRun:
    """A run ready to learn.

    :param config: the resolved configuration
    :param run_dir: the run folder
    :param model: the model, new or loaded from a checkpoint
    :param eval_env: the evaluation env (frozen statistics, no reward scaling)
    :param eval_seed: the seed of each evaluation's first episode
    :param options: the train options
    :param lock: the run folder's lock, held while training
    :param resumed_from: the checkpoint the model was loaded from, or ``None`` for a new run
    :param history: the evaluations made before the checkpoint, carried on
    :param best_mean_reward: the mean return of the current ``best_model.zip`` (``-inf``: none)
    """

    config: dict[str, Any]
    run_dir: Path
    model: BaseAlgorithm
    eval_env: VecEnv
    eval_seed: int
    options: TrainOptions
    lock: IO[bytes]
    resumed_from: Checkpoint | None = None
    history: dict[str, np.ndarray] | None = None
    best_mean_reward: float = -np.inf
