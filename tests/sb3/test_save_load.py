"""Models with Fixup policies survive model.save and Algo.load in a fresh Python process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, PPO, SAC, TD3

from fixup_rl import FixupActorCriticPolicy, FixupSACPolicy, FixupTD3Policy

CASES = {
    "ppo": (PPO, FixupActorCriticPolicy, dict(n_steps=32, batch_size=16)),
    "a2c": (A2C, FixupActorCriticPolicy, dict(n_steps=8)),
    "sac": (SAC, FixupSACPolicy, dict(learning_starts=16, batch_size=16, buffer_size=500)),
    "td3": (TD3, FixupTD3Policy, dict(learning_starts=16, batch_size=16, buffer_size=500)),
}
POLICY_KWARGS = dict(
    num_blocks=3, width=24, m=3, norm="rezero", scalar_lr_scale=0.25, depth_aware=True
)

LOAD_SCRIPT = """
import json, sys
import numpy as np
import fixup_rl  # noqa: F401  (the only import the user needs besides SB3)
from stable_baselines3 import A2C, PPO, SAC, TD3

algo, path, obs_path = sys.argv[1:]
model = {"ppo": PPO, "a2c": A2C, "sac": SAC, "td3": TD3}[algo].load(path, device="cpu")
actions, _ = model.predict(np.load(obs_path), deterministic=True)
policy = model.policy
print(json.dumps({
    "actions": actions.tolist(),
    "policy_class": type(policy).__name__,
    "config": {k: getattr(policy, k) for k in ("num_blocks", "width", "m", "norm",
                                               "scalar_lr_scale", "depth_aware")},
    "device": str(next(policy.parameters()).device),
}))
"""


@pytest.mark.parametrize("algo", CASES)
def test_model_loads_in_a_fresh_process_and_acts_the_same(algo: str, tmp_path: Path) -> None:
    algo_class, policy_class, kwargs = CASES[algo]
    model = algo_class(
        policy_class, "Pendulum-v1", policy_kwargs=dict(POLICY_KWARGS), seed=0, **kwargs
    )
    model.learn(64)
    observations = np.stack([model.observation_space.sample() for _ in range(5)])
    expected, _ = model.predict(observations, deterministic=True)
    model.save(tmp_path / "model")
    np.save(tmp_path / "obs.npy", observations)

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            LOAD_SCRIPT,
            algo,
            str(tmp_path / "model.zip"),
            str(tmp_path / "obs.npy"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])

    assert loaded["policy_class"] == policy_class.__name__
    assert loaded["config"] == POLICY_KWARGS
    assert loaded["device"] == "cpu"
    np.testing.assert_allclose(loaded["actions"], expected, atol=1e-6)


def test_loaded_model_keeps_training_with_its_groups(tmp_path: Path) -> None:
    model = SAC(FixupSACPolicy, "Pendulum-v1", policy_kwargs=dict(width=16), **CASES["sac"][2])
    model.learn(40)
    model.save(tmp_path / "model")

    loaded = SAC.load(tmp_path / "model", env=model.get_env())
    groups = {g["name"]: g["lr_scale"] for g in loaded.policy.actor.optimizer.param_groups}
    assert groups == {"weights": 1.0, "fixup_scalars": 0.1}
    loaded.learn(40, reset_num_timesteps=False)
    for param in loaded.policy.parameters():
        assert torch.isfinite(param).all()
