"""The Fixup feature extractors inside SB3: spaces, sizes, image scaling, init under SB3."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.preprocessing import preprocess_obs

from fixup_rl import FixupCnnExtractor, FixupCombinedExtractor, FixupMlpExtractor, fixup_scale
from fixup_rl.nn import FixupBlock

VECTOR_SPACES = {
    "box": spaces.Box(-1.0, 1.0, (3, 2), dtype=np.float32),
    "discrete": spaces.Discrete(5),
    "multidiscrete": spaces.MultiDiscrete([3, 4]),
    "multibinary": spaces.MultiBinary(6),
}


@pytest.mark.parametrize("space", VECTOR_SPACES.values(), ids=VECTOR_SPACES.keys())
def test_mlp_extractor_takes_sb3_preprocessed_observations(space: spaces.Space) -> None:
    extractor = FixupMlpExtractor(space, features_dim=24, num_blocks=3)
    observations = np.stack([space.sample() for _ in range(7)])
    features = extractor(preprocess_obs(torch.as_tensor(observations), space))

    assert features.shape == (7, extractor.features_dim) == (7, 24)
    assert torch.isfinite(features).all()


def test_cnn_extractor_declares_its_output_width() -> None:
    space = spaces.Box(0, 255, (3, 20, 28), dtype=np.uint8)
    extractor = FixupCnnExtractor(space, features_dim=40, channels=(8, 16), blocks_per_stage=1)
    images = preprocess_obs(torch.as_tensor(np.stack([space.sample() for _ in range(5)])), space)

    assert extractor(images).shape == (5, extractor.features_dim) == (5, 40)


def test_combined_extractor_declares_the_sum_of_its_parts() -> None:
    space = spaces.Dict(
        {
            "state": spaces.Box(-1, 1, (3,), dtype=np.float32),
            "mode": spaces.Discrete(4),
            "camera": spaces.Box(0, 255, (3, 16, 16), dtype=np.uint8),
        }
    )
    extractor = FixupCombinedExtractor(space, mlp_features_dim=12, cnn_output_dim=20)
    sample = {key: np.stack([sub.sample() for _ in range(3)]) for key, sub in space.items()}
    observations = preprocess_obs({k: torch.as_tensor(v) for k, v in sample.items()}, space)

    assert isinstance(extractor.extractors, torch.nn.ModuleDict)
    assert extractor.features_dim == 12 + 12 + 20
    assert extractor(observations).shape == (3, extractor.features_dim)


def test_cnn_extractor_sees_images_scaled_once(image_env) -> None:
    model = PPO(
        "CnnPolicy",
        image_env,
        n_steps=16,
        batch_size=16,
        policy_kwargs=dict(
            features_extractor_class=FixupCnnExtractor,
            features_extractor_kwargs=dict(features_dim=16, channels=(8,)),
        ),
    )
    seen: list[float] = []
    model.policy.features_extractor.register_forward_pre_hook(
        lambda module, args: seen.append(args[0].max().item())
    )
    model.learn(16)

    # The env draws pixels of 255; SB3 divides by 255 once and the extractor not again.
    assert seen and max(seen) == pytest.approx(1.0)


def test_extractor_keeps_fixup_init_inside_sb3_policy_with_ortho_init() -> None:
    space = spaces.Box(-1, 1, (6,), dtype=np.float32)
    policy = ActorCriticPolicy(
        space,
        spaces.Box(-1, 1, (2,), dtype=np.float32),
        lambda _: 3e-4,
        ortho_init=True,
        features_extractor_class=FixupMlpExtractor,
        features_extractor_kwargs=dict(features_dim=256, num_blocks=16),
    )
    blocks = [b for b in policy.features_extractor.modules() if isinstance(b, FixupBlock)]

    assert len(blocks) == 16
    for block in blocks:
        assert torch.count_nonzero(block.layers[-1].weight) == 0
        expected_std = np.sqrt(2 / 256) * fixup_scale(16, 2)
        assert block.layers[0].weight.std().item() == pytest.approx(expected_std, rel=0.05)


@pytest.mark.parametrize(
    "space",
    [
        spaces.Sequence(spaces.Box(-1, 1, (2,))),
        spaces.Graph(node_space=spaces.Box(-1, 1, (3,)), edge_space=None),
        spaces.Text(max_length=8),
    ],
    ids=["sequence", "graph", "text"],
)
def test_unsupported_spaces_are_named(space: spaces.Space) -> None:
    with pytest.raises(ValueError, match=f"{type(space).__name__}.*supported: Box"):
        FixupMlpExtractor(space)


def test_dict_space_points_to_the_combined_extractor() -> None:
    with pytest.raises(ValueError, match="FixupCombinedExtractor"):
        FixupMlpExtractor(spaces.Dict({"a": spaces.Discrete(2)}))


def test_cnn_extractor_rejects_vectors() -> None:
    with pytest.raises(ValueError, match="image observations"):
        FixupCnnExtractor(spaces.Box(-1, 1, (5,), dtype=np.float32))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [(dict(features_dim=0), "features_dim"), (dict(norm="group"), "norm"), (dict(m=1), "m")],
    ids=["features_dim", "norm", "m"],
)
def test_bad_extractor_arguments_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        FixupMlpExtractor(spaces.Box(-1, 1, (3,), dtype=np.float32), **kwargs)
