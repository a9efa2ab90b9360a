"""Properties of the Fixup extractors and policies over random spaces, sizes and batches.

For any observation space (Box of any rank and dtype, Discrete, MultiDiscrete, MultiBinary) and
action space hypothesis draws: features and values have the right shape and are finite, actions
lie in the action space, and each observation is computed independently of its batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stable_baselines3.common.preprocessing import preprocess_obs

from fixup_rl import (
    NORMS,
    FixupActorCriticPolicy,
    FixupMlpExtractor,
    FixupSACPolicy,
    FixupTD3Policy,
)

TOLERANCE = 1e-5  # as in tests/nn/test_nn_properties.py
PER_SAMPLE_NORMS = [norm for norm in NORMS if norm != "batchnorm"]
PROPERTIES = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

BOX_DTYPES = [np.float32, np.float64, np.int64, np.uint8]


@st.composite
def boxes(draw: st.DrawFn, max_rank: int = 3, dtypes: list[type] = BOX_DTYPES) -> spaces.Box:
    """Box spaces of rank 1 to ``max_rank``, with finite bounds of any scale."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=max_rank)))
    dtype = draw(st.sampled_from(dtypes))
    if np.issubdtype(dtype, np.integer):
        low, high = (0, 255) if dtype is np.uint8 else (-50, 50)
    else:
        high = draw(st.sampled_from([1.0, 10.0, 1000.0]))
        low = -high
    return spaces.Box(low, high, shape, dtype)


OBSERVATION_SPACES = st.one_of(
    boxes(),
    st.integers(1, 6).map(spaces.Discrete),
    st.lists(st.integers(2, 4), min_size=1, max_size=3).map(spaces.MultiDiscrete),
    st.integers(1, 5).map(spaces.MultiBinary),
)
ACTION_SPACES = st.one_of(
    boxes(max_rank=2, dtypes=[np.float32, np.float64]),
    st.integers(2, 5).map(spaces.Discrete),
    st.lists(st.integers(2, 4), min_size=1, max_size=3).map(spaces.MultiDiscrete),
    st.integers(1, 4).map(spaces.MultiBinary),
)


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _observations(space: spaces.Space, batch: int, seed: int) -> np.ndarray:
    space.seed(seed)
    return np.stack([space.sample() for _ in range(batch)])


def _lr(_: float) -> float:
    return 1e-3


def _same_alone_and_in_batch(compute: Callable[[torch.Tensor], torch.Tensor], obs: Any) -> float:
    # conftest.max_batch_dependence for a function of the observations.
    with torch.no_grad():
        full = compute(obs)
        difference = max(
            (compute(obs[i : i + 1])[0] - full[i]).abs().max().item() for i in range(len(obs))
        )
    return difference / max(1.0, full.abs().max().item())


@PROPERTIES
@given(
    space=OBSERVATION_SPACES,
    features_dim=st.integers(1, 16),
    num_blocks=st.integers(1, 3),
    norm=st.sampled_from(NORMS),
    batch=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_mlp_extractor(
    perturb: Callable[..., None],
    space: spaces.Space,
    features_dim: int,
    num_blocks: int,
    norm: str,
    batch: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    extractor = FixupMlpExtractor(space, features_dim, num_blocks, norm=norm)
    perturb(extractor)
    extractor.eval()
    obs = preprocess_obs(torch.as_tensor(_observations(space, batch, seed)), space)

    with torch.no_grad():
        features = extractor(obs)

    assert features.shape == (batch, features_dim)
    assert torch.isfinite(features).all()
    assert _same_alone_and_in_batch(extractor, obs) <= TOLERANCE


@PROPERTIES
@given(
    observation_space=OBSERVATION_SPACES,
    action_space=ACTION_SPACES,
    width=st.integers(1, 16),
    num_blocks=st.integers(1, 3),
    norm=st.sampled_from(PER_SAMPLE_NORMS),
    batch=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_actor_critic_policy(
    perturb: Callable[..., None],
    observation_space: spaces.Space,
    action_space: spaces.Space,
    width: int,
    num_blocks: int,
    norm: str,
    batch: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    policy = FixupActorCriticPolicy(
        observation_space, action_space, _lr, num_blocks=num_blocks, width=width, norm=norm
    )
    perturb(policy)
    observations = _observations(observation_space, batch, seed)

    actions, _ = policy.predict(observations, deterministic=True)
    tensor, _ = policy.obs_to_tensor(observations)
    values = policy.predict_values(tensor)

    assert len(actions) == batch
    assert all(action_space.contains(action) for action in actions)
    # predict() clips Box actions into the space; the distribution behind them is finite too.
    assert torch.isfinite(_action_parameters(policy)(tensor)).all()
    assert values.shape == (batch, 1) and torch.isfinite(values).all()
    assert _same_alone_and_in_batch(policy.predict_values, tensor) <= TOLERANCE
    assert _same_alone_and_in_batch(_action_parameters(policy), tensor) <= TOLERANCE


def _action_parameters(policy: FixupActorCriticPolicy) -> Callable[[torch.Tensor], torch.Tensor]:
    # The mean of a Gaussian policy, the logits of a categorical one, as one tensor per sample.
    def parameters(obs: torch.Tensor) -> torch.Tensor:
        distribution = policy.get_distribution(obs).distribution
        if isinstance(distribution, list):  # MultiDiscrete: one categorical per dimension
            return torch.cat([part.logits for part in distribution], dim=1)
        if isinstance(distribution, torch.distributions.Normal):
            return distribution.mean
        return distribution.logits  # Categorical, Bernoulli

    return parameters


@PROPERTIES
@given(
    policy_class=st.sampled_from([FixupSACPolicy, FixupTD3Policy]),
    observation_space=boxes(dtypes=[np.float32, np.float64]),
    action_space=boxes(max_rank=2, dtypes=[np.float32, np.float64]),
    width=st.integers(1, 16),
    num_blocks=st.integers(1, 3),
    norm=st.sampled_from(PER_SAMPLE_NORMS),
    batch=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_off_policy_policies(
    perturb: Callable[..., None],
    policy_class: type,
    observation_space: spaces.Box,
    action_space: spaces.Box,
    width: int,
    num_blocks: int,
    norm: str,
    batch: int,
    seed: int,
) -> None:
    torch.manual_seed(seed)
    policy = policy_class(
        observation_space, action_space, _lr, num_blocks=num_blocks, width=width, norm=norm
    )
    perturb(policy)
    policy.set_training_mode(False)
    observations = _observations(observation_space, batch, seed)

    actions, _ = policy.predict(observations, deterministic=True)
    tensor, _ = policy.obs_to_tensor(observations)
    # The critics read flat actions, as SB3's replay buffer stores them.
    scaled = torch.as_tensor(policy.scale_action(actions), dtype=torch.float32).reshape(batch, -1)
    with torch.no_grad():
        q_values = policy.critic(tensor, scaled)

    assert actions.shape == (batch, *action_space.shape)
    assert all(action_space.contains(action) for action in actions)
    assert len(q_values) == policy.critic.n_critics
    assert all(q.shape == (batch, 1) and torch.isfinite(q).all() for q in q_values)
    # The actions are squashed (tanh), so the float32 rounding of the pre-squash values, which
    # grows with the observations' magnitude (up to 1000 here), is not divided by the output's.
    squashed = TOLERANCE * max(1.0, tensor.abs().max().item())
    assert _same_alone_and_in_batch(lambda obs: policy._predict(obs, True), tensor) <= squashed
