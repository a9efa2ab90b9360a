"""Fixup feature extractors for Stable-Baselines3: vectors, images and Dict observations."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_flattened_obs_dim, is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from fixup_rl._validation import check_activation, check_bool, check_int
from fixup_rl.nn.impala_cnn import ImpalaCNN
from fixup_rl.nn.layers import he_init_
from fixup_rl.nn.residual_mlp import ResidualMLP
from fixup_rl.sb3.spaces import check_dict_space, check_image_space, check_vector_space


class FixupMlpExtractor(BaseFeaturesExtractor):
    """A deep residual MLP over the flattened observation.

    Discrete, MultiDiscrete and MultiBinary observations arrive one-hot encoded by SB3's
    preprocessing; Box observations are flattened.

    :param observation_space: the observation space (Box, Discrete, MultiDiscrete, MultiBinary)
    :param features_dim: the width of the network and of its output
    :param num_blocks: the number of residual blocks
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        features_dim: int = 256,
        num_blocks: int = 2,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
    ) -> None:
        check_vector_space(observation_space, "FixupMlpExtractor")
        check_int("features_dim", features_dim, minimum=1)
        super().__init__(observation_space, features_dim)
        self.flatten = nn.Flatten()
        self.net = ResidualMLP(
            get_flattened_obs_dim(observation_space),
            features_dim,
            num_blocks,
            m,
            norm,
            activation_fn,
        )

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.net(self.flatten(observations))


class FixupCnnExtractor(BaseFeaturesExtractor):
    """An IMPALA-style residual CNN with Fixup blocks, then a Linear layer to ``features_dim``.

    Observations are channel-first (SB3 transposes channel-last images before they arrive)
    and already scaled to [0, 1] by the policy when ``normalize_images=True`` (SB3's
    default); the extractor does not scale them again.

    :param observation_space: an image space
    :param features_dim: the output width
    :param channels: output channels of each IMPALA stage
    :param blocks_per_stage: residual blocks per stage
    :param m: conv layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    :param normalized_image: whether the images are already float in [0, 1] (as in SB3)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        features_dim: int = 256,
        channels: Sequence[int] = (16, 32, 32),
        blocks_per_stage: int = 2,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
        normalized_image: bool = False,
    ) -> None:
        check_bool("normalized_image", normalized_image)
        check_image_space(observation_space, normalized_image, "FixupCnnExtractor")
        check_int("features_dim", features_dim, minimum=1)
        check_activation("activation_fn", activation_fn)
        super().__init__(observation_space, features_dim)
        self.cnn = ImpalaCNN(
            observation_space.shape, channels, blocks_per_stage, m, norm, activation_fn
        )
        self.linear = nn.Linear(self.cnn.out_dim, features_dim)
        he_init_(self.linear)
        self.activation = activation_fn()

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        return self.activation(self.linear(self.cnn(observations)))


class FixupCombinedExtractor(BaseFeaturesExtractor):
    """One Fixup sub-network per key of a Dict observation, outputs concatenated.

    Image keys go through a :class:`FixupCnnExtractor` with ``cnn_output_dim`` outputs, the
    other keys through a :class:`FixupMlpExtractor` of width ``mlp_features_dim``. The
    declared ``features_dim`` is the sum of the sub-networks' outputs.

    :param observation_space: a Dict observation space
    :param mlp_features_dim: the width (and output size) of each vector sub-network
    :param cnn_output_dim: the output size of each image sub-network
    :param num_blocks: residual blocks of each vector sub-network
    :param m: weight layers per residual branch
    :param norm: the residual scheme, one of ``fixup_rl.NORMS``
    :param activation_fn: the activation class
    :param normalized_image: whether the images are already float in [0, 1]
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        mlp_features_dim: int = 64,
        cnn_output_dim: int = 256,
        num_blocks: int = 2,
        m: int = 2,
        norm: str = "fixup",
        activation_fn: type[nn.Module] = nn.ReLU,
        normalized_image: bool = False,
    ) -> None:
        check_dict_space(observation_space, "FixupCombinedExtractor")
        check_int("mlp_features_dim", mlp_features_dim, minimum=1)
        check_int("cnn_output_dim", cnn_output_dim, minimum=1)
        check_bool("normalized_image", normalized_image)
        # The real size is known only once the sub-networks exist; set below.
        super().__init__(observation_space, features_dim=1)

        extractors: dict[str, nn.Module] = {}
        for key, subspace in observation_space.spaces.items():
            if is_image_space(subspace, normalized_image=normalized_image):
                extractors[key] = FixupCnnExtractor(
                    subspace,
                    cnn_output_dim,
                    m=m,
                    norm=norm,
                    activation_fn=activation_fn,
                    normalized_image=normalized_image,
                )
            else:
                extractors[key] = FixupMlpExtractor(
                    subspace, mlp_features_dim, num_blocks, m, norm, activation_fn
                )
        self.extractors = nn.ModuleDict(extractors)
        self._features_dim = sum(e.features_dim for e in self.extractors.values())

    def forward(self, observations: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([net(observations[key]) for key, net in self.extractors.items()], dim=1)
