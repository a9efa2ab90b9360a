"""A Fixup policy saved alone (``policy.save``) loads back with its class's ``load``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from gymnasium import spaces

from fixup_rl import FixupActorCriticPolicy, FixupSACPolicy, FixupTD3Policy

OBSERVATIONS = spaces.Box(-1.0, 1.0, (3,), np.float32)
ACTIONS = spaces.Box(-2.0, 2.0, (2,), np.float32)


@pytest.mark.parametrize("policy_class", [FixupActorCriticPolicy, FixupSACPolicy, FixupTD3Policy])
def test_policy_save_and_load(tmp_path: Path, policy_class: type) -> None:
    # SB3 rebuilds the policy from _get_constructor_parameters(); net_arch must not be among
    # them, as the Fixup policies refuse it.
    policy = policy_class(
        OBSERVATIONS, ACTIONS, lambda _: 1e-3, num_blocks=2, width=8, norm="rezero"
    )
    with torch.no_grad():
        for param in policy.parameters():
            param.add_(0.1 * torch.randn_like(param))
    observations = np.stack([OBSERVATIONS.sample() for _ in range(8)])

    policy.save(str(tmp_path / "policy.pt"))
    loaded = policy_class.load(str(tmp_path / "policy.pt"), device="cpu")

    assert loaded.norm == "rezero" and loaded.width == 8
    np.testing.assert_array_equal(
        loaded.predict(observations, deterministic=True)[0],
        policy.predict(observations, deterministic=True)[0],
    )
