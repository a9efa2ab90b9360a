"""VecCheckFinite: non-finite observations and rewards stop training, naming env and step."""

from __future__ import annotations

import numpy as np
import pytest
from reliability_support import FaultyEnv
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv, VecNormalize

from fixup_rl import FixupActorCriticPolicy
from fixup_rl.reliability import NonFiniteEnvError, VecCheckFinite, check_env_finite

HEALTHY = dict(what="reward", at=10**9)


def vec_env(*settings: dict) -> DummyVecEnv:
    return DummyVecEnv([lambda kwargs=kwargs: FaultyEnv(**kwargs) for kwargs in settings])


def step(env: VecEnv, times: int) -> None:
    for _ in range(times):
        env.step(np.zeros((env.num_envs, 1), dtype=np.float32))


def test_a_nan_reward_names_the_env_and_the_step() -> None:
    env = VecCheckFinite(vec_env(HEALTHY, dict(what="reward", at=5)))
    env.reset()
    step(env, 4)

    message = (
        r"env 1 of 2 returned a non-finite reward at step 5 of the vec env \(step 5 of the env's "
        r"episode\): \[0\]=nan; no network is trained on it"
    )
    with pytest.raises(NonFiniteEnvError, match=message):
        step(env, 1)


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("observation", r"env 0 of 1 returned a non-finite observation at step 3 .*: \[2\]=inf"),
        ("terminal", r"non-finite terminal observation at step 3 of the vec env .*: \[2\]=inf"),
        ("reset", r"env 0 of 1 returned a non-finite observation at reset: \[1\]=inf"),
    ],
)
def test_non_finite_observations_are_refused(what: str, message: str) -> None:
    env = VecCheckFinite(vec_env(dict(what=what, at=3, fault=np.inf)))

    with pytest.raises(NonFiniteEnvError, match=message):
        env.reset()
        step(env, 3)


def test_the_check_sits_under_vec_normalize_so_its_statistics_stay_finite() -> None:
    env = check_env_finite(VecNormalize(vec_env(dict(what="observation", at=3))))

    assert isinstance(env, VecNormalize) and isinstance(env.venv, VecCheckFinite)
    assert check_env_finite(env).venv is env.venv  # once only
    env.reset()
    with pytest.raises(NonFiniteEnvError):
        step(env, 3)
    assert np.isfinite(env.obs_rms.mean).all() and np.isfinite(env.obs_rms.var).all()


def test_training_stops_at_the_faulty_step() -> None:
    env = check_env_finite(vec_env(HEALTHY, dict(what="reward", at=40)))
    model = PPO(FixupActorCriticPolicy, env, n_steps=32, batch_size=32, seed=0, device="cpu")

    message = "env 1 of 2 returned a non-finite reward at step 40"
    with pytest.raises(NonFiniteEnvError, match=message):
        model.learn(256)

    assert model.num_timesteps == 2 * 39  # the faulty step never reached the rollout
