"""Registration of our randomized ids with Gymnasium, run when ``fixup_rl.envs`` is imported."""

from __future__ import annotations

import gymnasium as gym

from fixup_rl.envs.catalogue import RANDOMIZED


def register_envs() -> None:
    """Register every id of :data:`~fixup_rl.envs.RANDOMIZED` under the ``fixup_rl/`` namespace.

    Each id gets the time limit of the task it randomizes. Nothing is imported or compiled
    here, so this works without MuJoCo installed. Calling it again is a no-op, without
    Gymnasium's warning about overriding an id.

    :raises ValueError: when one of our ids is already registered with another entry point
    """
    for env_id, info in RANDOMIZED.items():
        assert info.base_id is not None and info.entry_point is not None, env_id

        registered = gym.registry.get(env_id)
        if registered is not None:
            if registered.entry_point != info.entry_point:
                raise ValueError(
                    f"{env_id} is already registered with entry point "
                    f"{registered.entry_point!r}, expected {info.entry_point!r}; remove the "
                    "other registration or register it under a different namespace"
                )
            continue

        gym.register(
            id=env_id,
            entry_point=info.entry_point,
            max_episode_steps=gym.spec(info.base_id).max_episode_steps,
        )
