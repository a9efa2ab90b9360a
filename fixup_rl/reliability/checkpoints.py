"""Complete, atomic checkpoints of an SB3 training run, and finding the one to resume from.

One checkpoint at step ``S`` is a set of files in one folder::

    model_S_steps.zip                 the model with its optimizers' states (SB3's zip)
    model_vecnormalize_S_steps.pkl    the VecNormalize statistics (normalized envs only)
    model_replay_buffer_S_steps.pkl   the replay buffer (off-policy algorithms only)
    model_state_S_steps.json          step counters, generator states, each file's size and
                                      SHA-256, and what the trainer adds; written last

Every file is written atomically (:func:`~fixup_rl.reliability.atomic.atomic_write`) and the
state file last, so a checkpoint exists exactly when its state file does: a crash while one
is written leaves the previous checkpoint as the latest. Only the latest replay buffer is
kept (a million transitions of a MuJoCo task take gigabytes); older checkpoints keep their
model and statistics.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from fixup_rl._validation import check_int
from fixup_rl.reliability.atomic import (
    atomic_write,
    atomic_write_text,
    remove_partial_files,
    sha256,
)
from fixup_rl.reliability.finite_weights import check_finite_weights
from fixup_rl.reliability.rng import rng_state

STATE_FORMAT = 1
_KINDS = {
    "model": "{prefix}_{step}_steps.zip",
    "vecnormalize": "{prefix}_vecnormalize_{step}_steps.pkl",
    "replay_buffer": "{prefix}_replay_buffer_{step}_steps.pkl",
    "state": "{prefix}_state_{step}_steps.json",
}


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint: its step, its state file and what that file holds.

    :param step: the model's ``num_timesteps`` when it was saved
    :param folder: the folder holding its files
    :param state: the content of its state file
    """

    step: int
    folder: Path
    state: dict[str, Any]

    def path(self, kind: str) -> Path | None:
        """The file of ``kind`` (``model``, ``vecnormalize``, ``replay_buffer``), if saved."""
        entry = self.state["files"].get(kind)
        return None if entry is None else self.folder / entry["name"]


def save_checkpoint(
    model: BaseAlgorithm,
    folder: str | Path,
    prefix: str = "model",
    extra: dict[str, Any] | None = None,
) -> Checkpoint:
    """Save a complete checkpoint of ``model`` at its current step into ``folder``.

    :param model: the SB3 model; its ``VecNormalize`` statistics and replay buffer are saved
        with it
    :param folder: the checkpoint folder (created if missing)
    :param prefix: the first part of every file name
    :param extra: more JSON data for the state file (the trainer's options, say)
    :return: the checkpoint written
    :raises NonFiniteError: when a weight is NaN or infinite; nothing is written then
    """
    check_finite_weights(model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    step = model.num_timesteps
    files: dict[str, dict[str, Any]] = {}

    def put(kind: str, write: Callable[[Path], None]) -> None:
        path = folder / _KINDS[kind].format(prefix=prefix, step=step)
        atomic_write(path, write)
        files[kind] = {"name": path.name, "bytes": path.stat().st_size, "sha256": sha256(path)}

    put("model", lambda path: model.save(path))
    stats = model.get_vec_normalize_env()
    if stats is not None:
        put("vecnormalize", lambda path: stats.save(str(path)))
    if getattr(model, "replay_buffer", None) is not None:
        put("replay_buffer", lambda path: model.save_replay_buffer(path))

    state = {
        "format": STATE_FORMAT,
        "step": step,
        "algo": type(model).__name__,
        "counters": {
            "num_timesteps": model.num_timesteps,
            "n_updates": int(getattr(model, "_n_updates", 0)),
            "episode_num": int(getattr(model, "_episode_num", 0)),
        },
        "files": files,
        "rng": rng_state(model),
        **(extra or {}),
    }
    state_path = folder / _KINDS["state"].format(prefix=prefix, step=step)
    atomic_write_text(state_path, json.dumps(state) + "\n")
    _prune_replay_buffers(folder, prefix, keep=files.get("replay_buffer"))
    return Checkpoint(step, folder, state)


def latest_checkpoint(folder: str | Path, prefix: str = "model") -> Checkpoint | None:
    """Return the latest complete checkpoint in ``folder``, after checking its files.

    :param folder: the checkpoint folder
    :param prefix: the first part of every file name
    :return: the checkpoint, or ``None`` when the folder holds none
    :raises ValueError: when the latest state file cannot be read, or a file it lists is
        missing or differs from what was saved
    """
    folder = Path(folder)
    steps = _state_files(folder, prefix)
    if not steps:
        return None
    step = max(steps)
    path = steps[step]
    state = _read_state(path)
    damage = _damage(folder, state)
    if damage:
        raise ValueError(f"the checkpoint at step {step} is damaged: {damage}; {_fallback(steps)}")
    return Checkpoint(step, folder, state)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"the checkpoint state {path} cannot be read ({error})") from error
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        raise ValueError(
            f"{path} is not a checkpoint state of format {STATE_FORMAT} (written by "
            "fixup_rl.reliability.save_checkpoint)"
        )
    return state


def _damage(folder: Path, state: dict[str, Any]) -> str | None:
    # The first file the state lists that is gone or not what was saved, said in words.
    for entry in state["files"].values():
        file = folder / entry["name"]
        if not file.is_file():
            return f"{file} is missing"
        if file.stat().st_size != entry["bytes"] or sha256(file) != entry["sha256"]:
            return f"{file} differs from the file saved (size or SHA-256)"
    return None


def _fallback(steps: dict[int, Path]) -> str:
    # What a user can do about a damaged latest checkpoint: fall back to the one before it
    # where that one is complete. Off-policy checkpoints keep only the latest replay buffer,
    # so the earlier ones of SAC, TD3 and TQC can no longer be resumed from.
    latest, *earlier = sorted(steps, reverse=True)
    for step in earlier:
        try:
            damage = _damage(steps[step].parent, _read_state(steps[step]))
        except ValueError:
            continue
        if damage is None:
            return f"delete {steps[latest]} to resume from the checkpoint at step {step}"
    if not earlier:
        return "there is no earlier checkpoint to resume from: start the run again"
    return (
        "no earlier checkpoint is complete either (off-policy checkpoints keep only the latest "
        "replay buffer): start the run again"
    )


def load_checkpoint(
    checkpoint: Checkpoint, algo_class: type[BaseAlgorithm], venv: VecEnv, device: str = "auto"
) -> BaseAlgorithm:
    """Load the model of a checkpoint onto ``venv``, with its statistics and replay buffer.

    :param checkpoint: a checkpoint from :func:`latest_checkpoint`
    :param algo_class: the model's SB3 class
    :param venv: the env to train on, without ``VecNormalize``: the checkpoint's statistics
        are put around it
    :param device: the torch device
    :return: the model, its step counters and optimizers as saved; train it further with
        ``learn(..., reset_num_timesteps=False)``
    """
    stats = checkpoint.path("vecnormalize")
    env = VecNormalize.load(str(stats), venv) if stats is not None else venv
    model_path = checkpoint.path("model")
    assert model_path is not None, "every checkpoint holds a model"
    model = algo_class.load(model_path, env=env, device=device)
    buffer = checkpoint.path("replay_buffer")
    if buffer is not None:
        model.load_replay_buffer(buffer)
    return model


class AtomicCheckpointCallback(BaseCallback):
    """Save a complete checkpoint (see :func:`save_checkpoint`) every ``save_freq`` steps.

    A checkpoint is saved when a rollout starts (the model has just been trained on
    everything collected, and nothing is half done) after the step count has passed a
    multiple of ``save_freq``, and once more when training ends. PPO and A2C start rollouts
    every ``n_steps * n_envs`` steps, so their checkpoints fall on the first rollout boundary
    at or after each multiple; off-policy algorithms start one every ``train_freq``.

    :param save_freq: env steps between checkpoints (an integer >= 1)
    :param save_path: the checkpoint folder
    :param name_prefix: the first part of every file name
    :param extra_state: more JSON data for every state file
    :param verbose: 1 to print a line for each checkpoint
    """

    def __init__(
        self,
        save_freq: int,
        save_path: str | Path,
        name_prefix: str = "model",
        extra_state: dict[str, Any] | None = None,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.save_freq = check_int("save_freq", save_freq, minimum=1)
        self.save_path = Path(save_path)
        self.name_prefix = name_prefix
        self.extra_state = extra_state or {}
        self.last_step = 0
        self.saved: list[Checkpoint] = []

    def _init_callback(self) -> None:
        self.save_path.mkdir(parents=True, exist_ok=True)
        remove_partial_files(self.save_path)
        self.last_step = self.model.num_timesteps

    def _on_step(self) -> bool:
        return True

    def _on_rollout_start(self) -> None:
        if self.model.num_timesteps // self.save_freq > self.last_step // self.save_freq:
            self._save()

    def _on_training_end(self) -> None:
        if self.model.num_timesteps > self.last_step:
            self._save()

    def _save(self) -> None:
        checkpoint = save_checkpoint(self.model, self.save_path, self.name_prefix, self.extra_state)
        self.saved.append(checkpoint)
        self.last_step = checkpoint.step
        if self.verbose >= 1:
            print(f"Saved the checkpoint of step {checkpoint.step} to {self.save_path}")


def _state_files(folder: Path, prefix: str) -> dict[int, Path]:
    pattern = re.compile(rf"{re.escape(prefix)}_state_(\d+)_steps\.json")
    found = {}
    for path in folder.glob(f"{prefix}_state_*_steps.json") if folder.is_dir() else []:
        match = pattern.fullmatch(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _prune_replay_buffers(folder: Path, prefix: str, keep: dict[str, Any] | None) -> None:
    for path in folder.glob(f"{prefix}_replay_buffer_*_steps.pkl"):
        if keep is None or path.name != keep["name"]:
            path.unlink(missing_ok=True)
