"""Which observation spaces the Fixup extractors and policies accept."""

from __future__ import annotations

from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space

#: Observation spaces a vector extractor accepts, through SB3's own preprocessing.
VECTOR_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)

_SUPPORTED = (
    "Box (vectors or images), Discrete, MultiDiscrete, MultiBinary, "
    "and Dict of these (with FixupCombinedExtractor or the MultiInput policies)"
)


def check_vector_space(observation_space: spaces.Space, owner: str) -> None:
    """Raise a ValueError unless ``observation_space`` can be flattened into one vector.

    :param observation_space: the space to check
    :param owner: the class that needs it, named in the message
    """
    if isinstance(observation_space, spaces.Dict):
        raise ValueError(
            f"{owner} takes vector observations, got a Dict observation space "
            f"{observation_space}; use FixupCombinedExtractor or a MultiInput policy"
        )
    if not isinstance(observation_space, VECTOR_SPACES):
        raise ValueError(
            f"{owner} does not support the observation space {observation_space} "
            f"({type(observation_space).__name__}); supported: {_SUPPORTED}"
        )


def check_image_space(observation_space: spaces.Space, normalized_image: bool, owner: str) -> None:
    """Raise a ValueError unless ``observation_space`` is a channel-first image space.

    :param observation_space: the space to check
    :param normalized_image: whether images are already scaled to [0, 1] (then any float Box
        of rank 3 is accepted)
    :param owner: the class that needs it, named in the message
    """
    if not is_image_space(
        observation_space, check_channels=False, normalized_image=normalized_image
    ):
        raise ValueError(
            f"{owner} takes image observations (a uint8 Box of shape (C, H, W) or (H, W, C), "
            f"or a float Box of rank 3 with normalized_image=True), got {observation_space}"
        )


def check_dict_space(observation_space: spaces.Space, owner: str) -> None:
    """Raise a ValueError unless ``observation_space`` is a Dict of supported subspaces.

    :param observation_space: the space to check
    :param owner: the class that needs it, named in the message
    """
    if not isinstance(observation_space, spaces.Dict):
        raise ValueError(
            f"{owner} takes Dict observations, got {observation_space}; "
            "use FixupMlpExtractor or FixupCnnExtractor for a single observation"
        )
    for key, subspace in observation_space.spaces.items():
        if not isinstance(subspace, VECTOR_SPACES):
            raise ValueError(
                f"{owner} does not support the observation space {subspace} under the key "
                f"{key!r} ({type(subspace).__name__}); supported: {_SUPPORTED}"
            )


def check_observation_space(observation_space: spaces.Space, owner: str) -> None:
    """Raise a ValueError unless the Fixup policies can handle ``observation_space``.

    :param observation_space: the space to check
    :param owner: the class that needs it, named in the message
    """
    if isinstance(observation_space, spaces.Dict):
        check_dict_space(observation_space, owner)
    else:
        check_vector_space(observation_space, owner)


#: Action spaces SB3's on-policy algorithms act in.
ACTION_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def check_action_space(action_space: spaces.Space, owner: str, continuous: bool) -> None:
    """Raise a ValueError unless the policy ``owner`` can act in ``action_space``.

    :param action_space: the space to check
    :param owner: the class that needs it, named in the message
    :param continuous: whether the policy needs a Box (SAC, TD3) or takes any of
        :data:`ACTION_SPACES` (PPO, A2C)
    """
    accepted = (spaces.Box,) if continuous else ACTION_SPACES
    if not isinstance(action_space, accepted):
        names = ", ".join(space.__name__ for space in accepted)
        raise ValueError(
            f"{owner} does not support the action space {action_space!r} "
            f"({type(action_space).__name__}); action_space must be one of: {names}"
        )
