"""Atomic checkpoints: what they hold, which one counts, damage, and NaN weights."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from reliability_support import tiny_agent
from stable_baselines3 import SAC
from stable_baselines3.common.vec_env import VecNormalize

from fixup_rl.agents import make_env, resolve_config
from fixup_rl.reliability import (
    AtomicCheckpointCallback,
    NonFiniteError,
    atomic_write,
    latest_checkpoint,
    load_checkpoint,
    restore_rng_state,
    save_checkpoint,
)
from fixup_rl.reliability.atomic import sha256


def draws(model: SAC) -> list[float]:
    """One number from every generator a run draws from."""
    env_generator = model.get_env().get_attr("np_random")[0]
    return [
        random.random(),
        float(np.random.rand()),
        float(torch.rand(1)),
        float(model.action_space.sample()[0]),
        float(env_generator.random()),
    ]


def test_a_checkpoint_holds_everything_a_run_continues_from(tmp_path: Path) -> None:
    model = tiny_agent("sac", normalize=True)
    model.learn(100)

    checkpoint = save_checkpoint(model, tmp_path, extra={"note": "kept"})
    expected_draws = draws(model)

    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "model_100_steps.zip",
        "model_replay_buffer_100_steps.pkl",
        "model_state_100_steps.json",
        "model_vecnormalize_100_steps.pkl",
    ]
    state = json.loads((tmp_path / "model_state_100_steps.json").read_text())
    assert state["counters"] == {
        "num_timesteps": 100,
        "n_updates": model._n_updates,
        "episode_num": model._episode_num,
    }
    assert state["note"] == "kept"
    for entry in state["files"].values():
        assert sha256(tmp_path / entry["name"]) == entry["sha256"]

    # A fresh process would build the envs anew and load the checkpoint into them.
    config = resolve_config("sac", "Pendulum-v1", n_envs=1, normalize=True)
    venv = make_env(config).venv
    loaded = load_checkpoint(latest_checkpoint(tmp_path), SAC, venv, device="cpu")

    assert loaded.num_timesteps == 100 and loaded._n_updates == model._n_updates
    assert loaded.replay_buffer.pos == model.replay_buffer.pos == 100
    np.testing.assert_array_equal(loaded.replay_buffer.rewards, model.replay_buffer.rewards)
    for name in ("actor.optimizer", "critic.optimizer"):
        saved = loaded.get_parameters()[name]["state"]
        for index, moments in model.get_parameters()[name]["state"].items():
            torch.testing.assert_close(saved[index]["exp_avg_sq"], moments["exp_avg_sq"])
    stats = loaded.get_vec_normalize_env()
    assert isinstance(stats, VecNormalize)
    np.testing.assert_array_equal(stats.obs_rms.mean, model.get_vec_normalize_env().obs_rms.mean)
    restore_rng_state(loaded, checkpoint.state["rng"])
    assert draws(loaded) == expected_draws


def test_only_complete_checkpoints_count_and_partial_files_go(tmp_path: Path) -> None:
    model = tiny_agent("ppo")
    save_checkpoint(model, tmp_path)
    model.num_timesteps = 64
    model.save(tmp_path / "model_64_steps.zip")  # a crash before its state file
    (tmp_path / ".partial-123-model_128_steps.zip").write_bytes(b"half")

    assert latest_checkpoint(tmp_path).step == 0
    model.learn(64, callback=AtomicCheckpointCallback(1000, tmp_path))
    assert not list(tmp_path.glob(".partial-*"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip", "differs from the file saved"),
        ("delete", "is missing"),
    ],
)
def test_a_damaged_checkpoint_is_refused(tmp_path: Path, damage: str, message: str) -> None:
    save_checkpoint(tiny_agent("ppo"), tmp_path)
    model_file = tmp_path / "model_0_steps.zip"
    if damage == "flip":
        content = bytearray(model_file.read_bytes())
        content[len(content) // 2] ^= 0xFF
        model_file.write_bytes(bytes(content))
    else:
        model_file.unlink()

    with pytest.raises(ValueError, match=f"the checkpoint at step 0 is damaged: .*{message}"):
        latest_checkpoint(tmp_path)


def test_a_damaged_checkpoint_names_the_complete_one_before_it(tmp_path: Path) -> None:
    model = tiny_agent("ppo")
    model.learn(256, callback=AtomicCheckpointCallback(100, tmp_path))  # steps 128 and 256
    (tmp_path / "model_256_steps.zip").unlink()

    with pytest.raises(ValueError, match=r"at step 256 is damaged") as refused:
        latest_checkpoint(tmp_path)
    state = tmp_path / "model_state_256_steps.json"
    assert str(refused.value).endswith(f"delete {state} to resume from the checkpoint at step 128")

    state.unlink()  # as the message says
    checkpoint = latest_checkpoint(tmp_path)
    assert checkpoint is not None and checkpoint.step == 128


def test_off_policy_runs_are_told_the_earlier_checkpoints_cannot_be_resumed(
    tmp_path: Path,
) -> None:
    model = tiny_agent("sac")
    model.learn(150, callback=AtomicCheckpointCallback(64, tmp_path))  # only 150 has a buffer
    (tmp_path / "model_replay_buffer_150_steps.pkl").unlink()

    with pytest.raises(ValueError, match=r"at step 150 is damaged: .* is missing") as refused:
        latest_checkpoint(tmp_path)
    assert str(refused.value).endswith(
        "no earlier checkpoint is complete either (off-policy checkpoints keep only the latest "
        "replay buffer): start the run again"
    )


def test_non_finite_weights_are_never_saved(tmp_path: Path) -> None:
    model = tiny_agent("td3")
    with torch.no_grad():
        next(model.critic.parameters())[0, 0] = float("nan")

    with pytest.raises(NonFiniteError, match=r"policy\.critic\..* holds 1 non-finite value"):
        save_checkpoint(model, tmp_path)

    assert not list(tmp_path.iterdir())


def test_checkpoints_fall_on_rollout_starts_and_at_the_end(tmp_path: Path) -> None:
    # PPO starts rollouts every 64 steps: the multiples of 100 are passed at 128 and 256.
    model = tiny_agent("ppo")
    model.learn(256, callback=AtomicCheckpointCallback(100, tmp_path))

    assert sorted(path.name for path in tmp_path.glob("*state*")) == [
        "model_state_128_steps.json",
        "model_state_256_steps.json",
    ]


def test_only_the_latest_replay_buffer_is_kept(tmp_path: Path) -> None:
    model = tiny_agent("sac")
    model.learn(150, callback=AtomicCheckpointCallback(64, tmp_path))

    assert [path.name for path in sorted(tmp_path.glob("*.zip"))] == [
        "model_128_steps.zip",
        "model_150_steps.zip",
        "model_64_steps.zip",
    ]
    assert [path.name for path in tmp_path.glob("*replay_buffer*")] == [
        "model_replay_buffer_150_steps.pkl"
    ]


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "model.zip"
    path.write_bytes(b"old")

    def crash(temporary: Path) -> None:
        temporary.write_bytes(b"half of the n")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, crash)

    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.zip"]
