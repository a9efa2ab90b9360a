"""fixup_rl: deep residual policy and value networks without normalization, for SB3.

Zhang, Dauphin & Ma, "Fixup Initialization: Residual Learning Without Normalization",
ICLR 2019, https://arxiv.org/abs/1901.09321
"""

from fixup_rl.callbacks import FixupMetricsCallback
from fixup_rl.export import load_policy
from fixup_rl.folding import fold
from fixup_rl.nn import NORMS, FixupBlock, ImpalaCNN, ResidualMLP
from fixup_rl.param_groups import fixup_param_groups
from fixup_rl.sb3 import (
    FixupActorCriticCnnPolicy,
    FixupActorCriticPolicy,
    FixupCnnExtractor,
    FixupCombinedExtractor,
    FixupMlpExtractor,
    FixupMultiInputActorCriticPolicy,
    FixupSACCnnPolicy,
    FixupSACMultiInputPolicy,
    FixupSACPolicy,
    FixupTD3CnnPolicy,
    FixupTD3MultiInputPolicy,
    FixupTD3Policy,
)
from fixup_rl.scale import fixup_scale

__version__ = "0.1.0"

__all__ = [
    "NORMS",
    "FixupActorCriticCnnPolicy",
    "FixupActorCriticPolicy",
    "FixupBlock",
    "FixupCnnExtractor",
    "FixupCombinedExtractor",
    "FixupMetricsCallback",
    "FixupMlpExtractor",
    "FixupMultiInputActorCriticPolicy",
    "FixupSACCnnPolicy",
    "FixupSACMultiInputPolicy",
    "FixupSACPolicy",
    "FixupTD3CnnPolicy",
    "FixupTD3MultiInputPolicy",
    "FixupTD3Policy",
    "ImpalaCNN",
    "ResidualMLP",
    "__version__",
    "fixup_param_groups",
    "fixup_scale",
    "fold",
    "load_policy",
]
