"""Stable-Baselines3 integration: Fixup feature extractors and policies."""

from fixup_rl.sb3.critic import FixupContinuousCritic
from fixup_rl.sb3.extractors import FixupCnnExtractor, FixupCombinedExtractor, FixupMlpExtractor
from fixup_rl.sb3.on_policy import (
    FixupActorCriticCnnPolicy,
    FixupActorCriticPolicy,
    FixupMultiInputActorCriticPolicy,
)
from fixup_rl.sb3.optim import keep_lr_scales
from fixup_rl.sb3.sac import (
    FixupSACActor,
    FixupSACCnnPolicy,
    FixupSACMultiInputPolicy,
    FixupSACPolicy,
)
from fixup_rl.sb3.td3 import (
    FixupTD3Actor,
    FixupTD3CnnPolicy,
    FixupTD3MultiInputPolicy,
    FixupTD3Policy,
)

__all__ = [
    "FixupActorCriticCnnPolicy",
    "FixupActorCriticPolicy",
    "FixupCnnExtractor",
    "FixupCombinedExtractor",
    "FixupContinuousCritic",
    "FixupMlpExtractor",
    "FixupMultiInputActorCriticPolicy",
    "FixupSACActor",
    "FixupSACCnnPolicy",
    "FixupSACMultiInputPolicy",
    "FixupSACPolicy",
    "FixupTD3Actor",
    "FixupTD3CnnPolicy",
    "FixupTD3MultiInputPolicy",
    "FixupTD3Policy",
    "keep_lr_scales",
]
