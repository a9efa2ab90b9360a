"""The random-number generators of a training run, as JSON data, and their restoration.

A run draws from Python's ``random``, NumPy's global generator (SB3 samples replay batches
and shuffles PPO minibatches with it), torch's CPU and CUDA generators (action sampling,
initialization), the action space's generator (SAC's and TD3's random actions before
``learning_starts``) and each env's ``np_random`` (initial states, randomized physics).
"""

from __future__ import annotations

import base64
import random
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback

_BIT_GENERATORS = (
    np.random.PCG64,
    np.random.PCG64DXSM,
    np.random.MT19937,
    np.random.Philox,
    np.random.SFC64,
)


def rng_state(model: BaseAlgorithm) -> dict[str, Any]:
    """Return the state of every generator a run draws from, as plain JSON data.

    :param model: the SB3 model; its env's generators are read through ``get_attr``
    :return: ``python``, ``numpy``, ``torch``, ``cuda`` (one per device, empty without
        CUDA), ``action_space`` and ``envs`` (one per env copy, empty without an env)
    """
    version, internal, gauss = random.getstate()
    name, keys, position, has_gauss, cached = np.random.get_state()
    env = model.get_env()
    return {
        "python": [version, list(internal), gauss],
        "numpy": [name, keys.tolist(), position, has_gauss, cached],
        "torch": _encode(torch.get_rng_state()),
        "cuda": [_encode(s) for s in torch.cuda.get_rng_state_all()]
        if torch.cuda.is_available()
        else [],
        "action_space": model.action_space.np_random.bit_generator.state,
        "envs": [] if env is None else [g.bit_generator.state for g in env.get_attr("np_random")],
    }


def restore_rng_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    """Put every generator back in the state :func:`rng_state` returned.

    :param model: the SB3 model, with the same number of env copies as when saved
    :param state: what :func:`rng_state` returned
    :raises ValueError: when the number of env copies differs
    """
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), position, has_gauss, cached))
    torch.set_rng_state(_decode(state["torch"]))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([_decode(s) for s in state["cuda"]])
    model.action_space.np_random.bit_generator.state = state["action_space"]

    env = model.get_env()
    if env is None or not state["envs"]:
        return
    if len(state["envs"]) != env.num_envs:
        raise ValueError(
            f"the saved generator states are for {len(state['envs'])} envs, but the env has "
            f"{env.num_envs}; resume with the n_envs the run was started with"
        )
    for index, env_state in enumerate(state["envs"]):
        env.set_attr("np_random", _generator(env_state), indices=[index])


#: The generators :func:`rng_state` saves.
RNG_KEYS = frozenset({"python", "numpy", "torch", "cuda", "action_space", "envs"})


class RestoreRngCallback(BaseCallback):
    """Restore saved generator states when training starts (see :func:`restore_rng_state`).

    SB3 reseeds the global generators when it loads a model and resets the envs (with their
    first seeds) when ``learn()`` starts, so the saved states go back in only after that: the
    first episode after resuming starts from a reset, the ones after it continue the run's
    random streams.

    :param state: what :func:`rng_state` returned when the checkpoint was saved
    """

    def __init__(self, state: dict[str, Any]) -> None:
        missing = RNG_KEYS - set(state) if isinstance(state, dict) else RNG_KEYS
        if missing:
            shown = type(state).__name__ if not isinstance(state, dict) else f"keys {sorted(state)}"
            raise ValueError(
                f"state must be the dict rng_state() returns, with the keys "
                f"{', '.join(sorted(RNG_KEYS))}; got {shown}"
            )
        super().__init__()
        self.state = state

    def _on_training_start(self) -> None:
        restore_rng_state(self.model, self.state)

    def _on_step(self) -> bool:
        return True


def _encode(tensor: torch.Tensor) -> str:
    return base64.b64encode(tensor.cpu().numpy().tobytes()).decode("ascii")


def _decode(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)


def _generator(state: dict[str, Any]) -> np.random.Generator:
    # A name from a file picks one of NumPy's generator classes, never an arbitrary attribute.
    kinds = {kind.__name__: kind for kind in _BIT_GENERATORS}
    if state.get("bit_generator") not in kinds:
        raise ValueError(
            f"an env's saved generator is {state.get('bit_generator')!r}; expected one of "
            f"{', '.join(kinds)}"
        )
    bit_generator = kinds[state["bit_generator"]]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)
