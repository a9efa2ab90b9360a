"""The classes an exported policy may name: policies, feature extractors and activations.

A policy file names classes by string, and :func:`fixup_rl.load_policy` imports only the
classes listed here; any other name is rejected before anything is imported or built.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass

from torch import nn

#: Activations by name: classes of ``torch.nn`` that take no required argument.
ACTIVATIONS: Mapping[str, type[nn.Module]] = {
    cls.__name__: cls
    for cls in (
        nn.ReLU,
        nn.Tanh,
        nn.ELU,
        nn.GELU,
        nn.SiLU,
        nn.LeakyReLU,
        nn.Sigmoid,
        nn.Softplus,
        nn.Mish,
        nn.Identity,
    )
}


@dataclass(frozen=True)
class Allowed:
    """A class an exported policy may name.

    :param name: the name written in the file
    :param target: ``"module:attribute"``, where the class is imported from
    :param family: what kind of class it is: ``"on_policy"``, ``"sac"``, ``"td3"`` or ``"tqc"``
        for policies (which arguments they take), the extractor's name for extractors
    """

    name: str
    target: str
    family: str

    def load(self) -> type:
        """Import the class.

        :raises ModuleNotFoundError: when its package (sb3-contrib for TQC) is not installed
        """
        module, _, attribute = self.target.partition(":")
        try:
            return getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError as error:
            package = module.partition(".")[0].replace("_", "-")
            raise ModuleNotFoundError(
                f"the policy class {self.name} comes from {package}, which is not installed; "
                f'run `pip install "{package}"`'
            ) from error


def _allowed(*entries: tuple[str, str, str]) -> dict[str, Allowed]:
    return {name: Allowed(name, target, family) for name, target, family in entries}


_SB3 = "stable_baselines3"

POLICIES: Mapping[str, Allowed] = _allowed(
    ("FixupActorCriticPolicy", "fixup_rl.sb3:FixupActorCriticPolicy", "on_policy"),
    ("FixupActorCriticCnnPolicy", "fixup_rl.sb3:FixupActorCriticCnnPolicy", "on_policy"),
    ("FixupSACPolicy", "fixup_rl.sb3:FixupSACPolicy", "sac"),
    ("FixupSACCnnPolicy", "fixup_rl.sb3:FixupSACCnnPolicy", "sac"),
    ("FixupTD3Policy", "fixup_rl.sb3:FixupTD3Policy", "td3"),
    ("FixupTD3CnnPolicy", "fixup_rl.sb3:FixupTD3CnnPolicy", "td3"),
    (f"{_SB3}.ActorCriticPolicy", f"{_SB3}.common.policies:ActorCriticPolicy", "on_policy"),
    (f"{_SB3}.ActorCriticCnnPolicy", f"{_SB3}.common.policies:ActorCriticCnnPolicy", "on_policy"),
    (f"{_SB3}.SACPolicy", f"{_SB3}.sac.policies:SACPolicy", "sac"),
    (f"{_SB3}.SACCnnPolicy", f"{_SB3}.sac.policies:CnnPolicy", "sac"),
    (f"{_SB3}.TD3Policy", f"{_SB3}.td3.policies:TD3Policy", "td3"),
    (f"{_SB3}.TD3CnnPolicy", f"{_SB3}.td3.policies:CnnPolicy", "td3"),
    ("sb3_contrib.TQCPolicy", "sb3_contrib.tqc.policies:TQCPolicy", "tqc"),
    ("sb3_contrib.TQCCnnPolicy", "sb3_contrib.tqc.policies:CnnPolicy", "tqc"),
)
"""The policy classes an exported policy may name. Each is rebuilt exactly as it was trained,
which is what makes the exported policy act exactly like the original."""

EXTRACTORS: Mapping[str, Allowed] = _allowed(
    (f"{_SB3}.FlattenExtractor", f"{_SB3}.common.torch_layers:FlattenExtractor", "flatten"),
    (f"{_SB3}.NatureCNN", f"{_SB3}.common.torch_layers:NatureCNN", "nature_cnn"),
    ("FixupMlpExtractor", "fixup_rl.sb3:FixupMlpExtractor", "fixup_mlp"),
    ("FixupCnnExtractor", "fixup_rl.sb3:FixupCnnExtractor", "fixup_cnn"),
)
"""The feature extractors an exported policy may name."""


def name_of(cls: type, allowed: Mapping[str, Allowed], what: str) -> str:
    """Return the name under which ``cls`` is listed in ``allowed``.

    :param cls: the class
    :param allowed: :data:`POLICIES` or :data:`EXTRACTORS`
    :param what: ``"policy class"`` or ``"features extractor"``, for the error message
    :raises ValueError: when ``cls`` is not listed (a subclass of a listed class is not)
    """
    for entry in allowed.values():
        try:
            if entry.load() is cls:
                return entry.name
        except ModuleNotFoundError:
            continue
    raise ValueError(
        f"cannot export a policy with the {what} {cls.__module__}.{cls.__qualname__}; "
        f"exportable: {', '.join(allowed)}"
    )


def activation_name(cls: object) -> str:
    """Return the name of the activation class ``cls`` in :data:`ACTIVATIONS`.

    :raises ValueError: for any other activation
    """
    for name, allowed in ACTIVATIONS.items():
        if cls is allowed:
            return name
    raise ValueError(
        f"cannot export a policy with the activation {cls!r}; exportable: {', '.join(ACTIVATIONS)}"
    )
